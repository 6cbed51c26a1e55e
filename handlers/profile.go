package handlers

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the time-zone list must validate on hosts without /usr/share/zoneinfo
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/auth"
	"portier/avatar"
	"portier/db"
	"portier/i18n"
	"portier/signin"
	"portier/views"
)

// timeZones is the list offered in the profile: the zones of Europe first (Portier's customers are mostly
// there), then the world's major zones. Europe/Berlin is the default of new accounts.
var timeZones = []string{
	"Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Amsterdam", "Europe/Brussels",
	"Europe/Luxembourg", "Europe/Paris", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid",
	"Europe/Rome", "Europe/Copenhagen", "Europe/Oslo", "Europe/Stockholm", "Europe/Helsinki", "Europe/Tallinn",
	"Europe/Riga", "Europe/Vilnius", "Europe/Warsaw", "Europe/Prague", "Europe/Bratislava", "Europe/Budapest",
	"Europe/Ljubljana", "Europe/Zagreb", "Europe/Belgrade", "Europe/Bucharest", "Europe/Sofia", "Europe/Athens",
	"Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow", "Atlantic/Reykjavik", "Atlantic/Canary",
	"UTC",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
	"America/Mexico_City", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"Africa/Casablanca", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
	"Asia/Jerusalem", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok", "Asia/Singapore",
	"Asia/Hong_Kong", "Asia/Shanghai", "Asia/Seoul", "Asia/Tokyo",
	"Australia/Perth", "Australia/Sydney", "Pacific/Auckland",
}

// validZone accepts a zone of the list (or the one already stored, should an older list have had it)
// that the time package can load.
func validZone(tz, current string) bool {
	if !slices.Contains(timeZones, tz) && (tz == "" || tz != current) {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// profileView builds the page from what is stored; handlers then add the state of the form that failed.
func (s *Server) profileView(c *echo.Context, u *db.User) (views.ProfileView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	v := views.ProfileView{
		Settings: views.ProfileSettings{Name: u.Name, Lang: u.Lang, TimeZone: u.TimeZone, Theme: u.Theme},
		Avatar:   views.ProfileAvatar{Initials: initials(u), MaxMB: avatar.MaxBytes >> 20},
		Password: views.ProfilePassword{Email: u.Email},
		Email:    views.ProfileEmail{Current: u.Email, Pending: u.PendingEmail},
	}
	v.Settings.Zones = timeZones
	if !slices.Contains(timeZones, u.TimeZone) && validZone(u.TimeZone, u.TimeZone) {
		v.Settings.Zones = append([]string{u.TimeZone}, timeZones...)
	}
	if u.HasAvatar {
		v.Avatar.URL = "/avatar/" + strconv.FormatInt(u.ID, 10)
	}
	v.Password.Rules, _ = s.passwordRules("", "", auth.Personal{})
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return v, err
	}
	current := db.SessionHash(s.sm.Token(ctx))
	for _, se := range sessions {
		v.Sessions = append(v.Sessions, views.ProfileSession{
			ID:       signin.SessionID(se.Hash),
			Device:   deviceName(l, se.UserAgent),
			IP:       se.IP,
			LastSeen: l.DateTime(se.LastSeen),
			Current:  bytes.Equal(se.Hash, current),
		})
	}
	// This device first.
	slices.SortStableFunc(v.Sessions, func(a, b views.ProfileSession) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		}
		return 1
	})
	return v, nil
}

func (s *Server) renderProfile(c *echo.Context, status int, v views.ProfileView) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.ProfilePage(s.shell(c, l.T("profile.title")), v), nil)
}

// profileDone ends a successful change: a message for the next page, and back to the profile.
func (s *Server) profileDone(c *echo.Context, flashKey string) error {
	s.sm.Put(c.Request().Context(), keyFlash, flashKey)
	return s.redirect(c, "/profile")
}

func (s *Server) profilePage(c *echo.Context) error {
	u := currentUser(c)
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	v.FlashKey = s.sm.PopString(c.Request().Context(), keyFlash)
	return s.renderProfile(c, http.StatusOK, v)
}

// profileUpdate stores name, language, time zone and theme. The language and theme take effect at once:
// the next page is rendered with them, and the cookies follow so the sign-in page keeps them too.
func (s *Server) profileUpdate(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	name := strings.TrimSpace(c.FormValue("name"))
	lang, tz, theme := c.FormValue("lang"), c.FormValue("tz"), c.FormValue("theme")
	if theme == "system" {
		theme = ""
	}
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	f := &v.Settings
	f.Name, f.Lang, f.TimeZone, f.Theme = name, lang, tz, theme
	if utf8.RuneCountInString(name) > 100 {
		f.NameErrorKey = "profile.error.name_long"
	} else if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		f.NameErrorKey = "profile.error.name_invalid"
	}
	if !i18n.Supported(lang) {
		f.LangErrorKey = "profile.error.lang"
	}
	if !validZone(tz, u.TimeZone) {
		f.TimeZoneErrorKey = "profile.error.tz"
	}
	if theme != "" && theme != "light" && theme != "dark" {
		f.ThemeErrorKey = "profile.error.theme"
	}
	if f.NameErrorKey != "" || f.LangErrorKey != "" || f.TimeZoneErrorKey != "" || f.ThemeErrorKey != "" {
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	if err := s.db.UpdateProfile(ctx, u.ID, name, lang, tz, theme); err != nil {
		return err
	}
	s.audit(c, 0, "profile.update", "")
	s.setPrefCookie(c, s.cookieLang, lang)
	s.setPrefCookie(c, s.cookieTheme, theme)
	return s.profileDone(c, "profile.settings.saved")
}
