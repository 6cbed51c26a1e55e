package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The profile page: settings with their problems, the picture or the initials, the password and e-mail
// forms with a pending address, and the sessions — the current one cannot be ended from its own row.
func TestProfilePageInBothLanguages(t *testing.T) {
	rules := PasswordRulesView{Rules: []PasswordRule{{Key: "password.rule.length", Args: []any{"min", 12}}}, Empty: true}
	checkPages(t, []pageCase{
		{
			name: "every section with a problem, picture, pending address, two sessions",
			render: func(s Shell) templ.Component {
				return ProfilePage(s, ProfileView{FlashKey: "profile.settings.saved",
					Settings: ProfileSettings{Name: "Kim", Lang: "en", TimeZone: "America/New_York", Theme: "dark", Zones: []string{"Europe/Berlin", "America/New_York"},
						NameErrorKey: "profile.error.name_long", LangErrorKey: "profile.error.lang", TimeZoneErrorKey: "profile.error.tz", ThemeErrorKey: "profile.error.theme"},
					Avatar: ProfileAvatar{URL: "/avatar/7-abc.png", MaxMB: 5, ErrorKey: "profile.avatar.error.too_large", ErrorArgs: []any{"mb", 5}},
					Password: ProfilePassword{Email: "kim@alpha.example", Rules: rules, CurrentErrorKey: "profile.error.current_password", RepeatErrorKey: "password.rule.match",
						Unmet: rules.Rules},
					Email: ProfileEmail{Current: "kim@alpha.example", Pending: "neu@alpha.example", NewValue: "neu@alpha.example", EmailErrorKey: "profile.error.email_same",
						PasswordErrorKey: "profile.error.current_required"},
					Sessions: []ProfileSession{{ID: "h1", Device: "Firefox on Linux", IP: "192.0.2.1", LastSeen: "now", Current: true},
						{ID: "h2", Device: "Safari on iPhone", IP: "192.0.2.2", LastSeen: "1.2.2026"}}})
			},
			want: wants{"profile": tr("profile.title"), "alert-success": tr("profile.settings.saved"), "profile-security-link": tr("profile.security_link"),
				"profile-name-error": tr("profile.error.name_long"), "profile-lang-error": tr("profile.error.lang"), "profile-tz-error": tr("profile.error.tz"),
				"profile-theme-error": tr("profile.error.theme"), "profile-settings-submit": tr("profile.settings.save"),
				"avatar-image": exists, "avatar-error": tr("profile.avatar.error.too_large", "mb", 5), "avatar-remove": tr("profile.avatar.remove"),
				"pw-current-error": tr("profile.error.current_password"), "pw-repeat-error": tr("password.rule.match"), "password-unmet": tr("password.rule.length", "min", 12),
				"profile-password-rules": tr("setpw.rules.title"), "email-current": tr("profile.email.current", "email", "kim@alpha.example"),
				"email-pending": tr("profile.email.pending", "email", "neu@alpha.example"), "email-resend": exists, "email-cancel": tr("profile.email.cancel"),
				"email-new-error": tr("profile.error.email_same"), "email-password-error": tr("profile.error.current_required"),
				"session-current": tr("profile.sessions.this"), "session-end": tr("profile.sessions.end"), "sessions-end-others": tr("profile.sessions.end_others")},
			absent: []string{"avatar-initials", "sessions-only-this"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find("#profile-lang option[selected]").AttrOr("value", "") != "en" || d.Find("#profile-tz option[selected]").Text() != "America/New York" ||
					d.Find("#profile-theme option[selected]").AttrOr("value", "") != "dark" {
					t.Errorf("%s: stored settings not selected", lang)
				}
				rows := d.Find(`[data-testid="session-row"]`)
				if rows.Length() != 2 || rows.Eq(0).Find(`[data-testid="session-end"]`).Length() != 0 || rows.Eq(1).Find(`input[name=id]`).AttrOr("value", "") != "h2" {
					t.Errorf("%s: session rows", lang)
				}
				if _, cur := rows.Eq(0).Attr("data-current"); !cur {
					t.Errorf("%s: current session not marked", lang)
				}
				for _, id := range []string{"#pw-current", "#pw-new", "#pw-repeat", "#email-password"} {
					if d.Find(id).AttrOr("value", "") != "" {
						t.Errorf("%s: %s carries a value", lang, id)
					}
				}
			},
		},
		{
			name: "no picture, one session",
			render: func(s Shell) templ.Component {
				return ProfilePage(s, ProfileView{Settings: ProfileSettings{Name: "Kim", Lang: "de", Zones: []string{"Europe/Berlin"}, TimeZone: "Europe/Berlin"},
					Avatar: ProfileAvatar{Initials: "KA", MaxMB: 5}, Password: ProfilePassword{Rules: rules}, Email: ProfileEmail{Current: "kim@alpha.example"},
					Sessions: []ProfileSession{{ID: "h1", Device: "Firefox", IP: "192.0.2.1", Current: true}}})
			},
			want:   wants{"avatar-initials": lit("KA"), "sessions-only-this": tr("profile.sessions.only_this"), "avatar-upload": tr("profile.avatar.upload")},
			absent: []string{"avatar-image", "avatar-remove", "avatar-error", "email-pending", "password-unmet", "profile-name-error", "session-end", "sessions-end-others", "alert-success"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, bad := d.Find("#profile-lang").Attr("aria-invalid"); bad || d.Find("#profile-tz").AttrOr("aria-describedby", "") != "profile-tz-hint" {
					t.Errorf("%s: valid fields marked", lang)
				}
			},
		},
	})
}
