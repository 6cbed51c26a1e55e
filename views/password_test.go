package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// The password forms: the live rule list before and after typing, the set-password page with refused rules
// and required terms (invitation) or optional terms (reset), the invitation of someone with a password,
// and the forgot-password pages.
func TestPasswordPagesInBothLanguages(t *testing.T) {
	rules := []PasswordRule{{Key: "password.rule.length", Args: []any{"min", 12}, Met: true}, {Key: "password.rule.digit"}}
	checkPages(t, []pageCase{
		{
			name:   "rules before typing",
			render: func(Shell) templ.Component { return PasswordRules(PasswordRulesView{Rules: rules, Empty: true}) },
			want:   wants{"password-rules": tr("password.rule.length", "min", 12)},
			absent: []string{"password-strength"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-met="true"]`).Length() != 0 || d.Find(`li.rule-open`).Length() != 2 {
					t.Errorf("%s: a rule ticked before anything was typed", lang)
				}
			},
		},
		{
			name: "rules while typing",
			render: func(Shell) templ.Component {
				return PasswordRules(PasswordRulesView{Rules: rules, Strength: 1, StrengthKey: "password.strength.1"})
			},
			want: wants{"password-strength": tr("password.strength.1"), "password-rules": tr("password.rule.digit")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`li[data-rule="password.rule.length"]`).AttrOr("data-met", "") != "true" || d.Find(`li[data-rule="password.rule.digit"]`).AttrOr("data-met", "") != "false" {
					t.Errorf("%s: rules not ticked off", lang)
				}
				if d.Find(`[data-testid="password-strength"]`).AttrOr("data-strength", "") != "1" {
					t.Errorf("%s: strength", lang)
				}
			},
		},
		{
			name: "invitation refused: rules unmet, terms not accepted",
			render: func(s Shell) templ.Component {
				return SetPassword(s, SetPasswordView{Action: "/invite/tok", TitleKey: "setpw.title", LeadKey: "setpw.invite.lead",
					LeadArgs: []any{"inviter", "Toni", "role", "Betrachter", "org", "Alpha GmbH"}, Email: "kim@alpha.example", ShowName: true, Name: "Kim",
					Orgs: []string{"Alpha GmbH"}, Rules: PasswordRulesView{Rules: rules, Strength: 1, StrengthKey: "password.strength.1"},
					Unmet: rules[1:], RepeatErrorKey: "password.rule.match", Terms: &TermsBox{Version: 2, Text: "Regeln", Required: true, ErrorKey: "setpw.terms.required"},
					SubmitKey: "setpw.submit.invite", TestID: "setpw-invite"})
			},
			want: wants{"setpw-invite": tr("setpw.title"), "setpw-lead": tr("setpw.invite.lead", "inviter", "Toni", "role", "Betrachter", "org", "Alpha GmbH"),
				"password-unmet": tr("password.rule.digit"), "setpw-email": lit("kim@alpha.example"), "password-rules-box": tr("password.rule.length", "min", 12),
				"password2-error": tr("password.rule.match"), "setpw-terms-text": lit("Regeln"), "terms-error": tr("setpw.terms.required"), "setpw-submit": tr("setpw.submit.invite")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				f := d.Find(`[data-testid="setpw-form"]`)
				if f.Find(`input[name=password]`).AttrOr("value", "") != "" || f.Find(`input[name=password2]`).AttrOr("value", "") != "" {
					t.Errorf("%s: a refused password comes back in the page", lang)
				}
				if f.Find(`input[name=email][autocomplete=username]`).AttrOr("value", "") != "kim@alpha.example" || f.Find(`input[name=org]`).AttrOr("value", "") != "Alpha GmbH" {
					t.Errorf("%s: username for password managers or organisations for the live check", lang)
				}
				if f.Find(`#password`).AttrOr("hx-post", "") != "/password/check" || f.Find(`#password`).AttrOr("autocomplete", "") != "new-password" {
					t.Errorf("%s: live check", lang)
				}
				if c := d.Find(`[data-testid="setpw-terms"]`); c.AttrOr("aria-invalid", "") != "true" {
					t.Errorf("%s: terms box not marked", lang)
				} else if _, req := c.Attr("required"); !req {
					t.Errorf("%s: invitation terms not required", lang)
				}
			},
		},
		{
			name: "reset with optional terms",
			render: func(s Shell) templ.Component {
				return SetPassword(s, SetPasswordView{Action: "/reset/tok", TitleKey: "setpw.reset.title", LeadKey: "setpw.reset.lead", LeadArgs: []any{"email", "kim@alpha.example"},
					Email: "kim@alpha.example", Name: "Kim", Rules: PasswordRulesView{Rules: rules, Empty: true}, Terms: &TermsBox{Version: 3, Text: "Neu"},
					SubmitKey: "setpw.submit.reset", TestID: "setpw-reset"})
			},
			want:   wants{"setpw-reset": tr("setpw.reset.title"), "setpw-form": tr("setpw.terms.optional"), "setpw-terms": exists},
			absent: []string{"password-unmet", "terms-error", "name-error", "password-strength"},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if _, req := d.Find(`[data-testid="setpw-terms"]`).Attr("required"); req || d.Find(`#name`).Length() != 0 || d.Find(`input[type=hidden][name=name]`).AttrOr("value", "") != "Kim" {
					t.Errorf("%s: reset terms required or name asked again", lang)
				}
			},
		},
		{
			name: "invitation for someone with a password",
			render: func(s Shell) templ.Component {
				return InviteExisting(s, InviteExistingView{Action: "/invite/tok", TextArgs: []any{"org", "Alpha GmbH", "role", "Betrachter", "inviter", "Toni", "email", "kim@alpha.example"}})
			},
			want: wants{"invite-existing": tr("invite.existing.text", "org", "Alpha GmbH", "role", "Betrachter", "inviter", "Toni", "email", "kim@alpha.example"), "invite-existing-accept": tr("invite.existing.accept")},
		},
		{
			name: "forgot password, bad address",
			render: func(s Shell) templ.Component {
				return Forgot(s, ForgotView{Email: "x", ErrorKey: "forgot.email.invalid"})
			},
			want: wants{"forgot": tr("forgot.lead"), "email-error": tr("forgot.email.invalid"), "forgot-submit": tr("forgot.submit"), "forgot-back": tr("forgot.back")},
		},
		{
			name: "forgot password, sent",
			render: func(s Shell) templ.Component {
				return ForgotSent(s, ForgotSentView{Email: "kim@alpha.example", Minutes: 1})
			},
			want: wants{"forgot-sent": trN("forgot.sent.expiry", 1), "forgot-sent-login": tr("forgot.back"), "forgot-again": tr("forgot.sent.again")},
			more: func(t *testing.T, lang string, d *goquery.Document) {
				if d.Find(`[data-testid="forgot-sent"] a[href="mailto:hilfe@muster-it.example"]`).Length() != 1 {
					t.Errorf("%s: no support contact for a mail that does not come", lang)
				}
			},
		},
	})
}
