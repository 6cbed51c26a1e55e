package handlers

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
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
	"portier/views"
)

// profileRoutes registers the person's own profile: settings, picture, password, e-mail and sessions.
// Everything needs a finished first login.
func (s *Server) profileRoutes() {
	e := s.e
	e.GET("/profile", s.profilePage, s.complete)
	e.POST("/profile", s.profileUpdate, s.complete)
	e.POST("/profile/avatar", s.avatarUpload, s.complete)
	e.POST("/profile/avatar/remove", s.avatarRemove, s.complete)
	e.GET("/avatar/:id", s.avatarImage, s.complete)
	e.POST("/profile/password", s.passwordChange, s.complete)
	e.POST("/profile/email", s.emailChange, s.complete)
	e.POST("/profile/email/cancel", s.emailChangeCancel, s.complete)
	e.POST("/profile/sessions/end", s.sessionEnd, s.complete)
	e.POST("/profile/sessions/end-others", s.sessionsEndOthers, s.complete)
}

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
	v.Password.Rules, _ = s.passwordRules(auth.Result{}, "", "")
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return v, err
	}
	current := db.SessionHash(s.sm.Token(ctx))
	for _, se := range sessions {
		v.Sessions = append(v.Sessions, views.ProfileSession{
			ID:       sessionID(se.Hash),
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

// passwordRules turns a policy check of the new password (and its repetition) into the rule list of the
// form and the rules that are not met. Before anything was typed (pw and repeat empty) the list shows the
// rules without ticks; the policy's own rules are listed even for an empty Result.
func (s *Server) passwordRules(res auth.Result, pw, repeat string) (views.PasswordRulesView, []views.PasswordRule) {
	v := views.PasswordRulesView{Empty: pw == "" && repeat == "", Strength: res.Strength, StrengthKey: res.StrengthKey()}
	if len(res.Rules) == 0 {
		for _, r := range s.cfg.PasswordPolicy.Rules() {
			res.Rules = append(res.Rules, auth.RuleResult{Rule: r})
		}
	}
	var unmet []views.PasswordRule
	add := func(r auth.Rule, met bool) {
		pr := views.PasswordRule{Key: r.Key, Met: met}
		keys := make([]string, 0, len(r.Args))
		for k := range r.Args {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			pr.Args = append(pr.Args, k, r.Args[k])
		}
		v.Rules = append(v.Rules, pr)
		if !met {
			unmet = append(unmet, pr)
		}
	}
	for _, r := range res.Rules {
		add(r.Rule, r.Met)
	}
	add(auth.Rule{Key: auth.MatchKey}, pw != "" && subtle.ConstantTimeCompare([]byte(pw), []byte(repeat)) == 1)
	return v, unmet
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
	year := int((365 * 24 * time.Hour).Seconds())
	c.SetCookie(&http.Cookie{Name: s.cookieLang, Value: lang, Path: "/", MaxAge: year,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	themeCookie := &http.Cookie{Name: s.cookieTheme, Value: theme, Path: "/", MaxAge: year,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if theme == "" {
		themeCookie.MaxAge = -1
	}
	c.SetCookie(themeCookie)
	return s.profileDone(c, "profile.settings.saved")
}

// avatarUpload takes a PNG, JPEG or GIF of at most 2 MB and stores it re-encoded as a 128×128 PNG (package
// avatar): only pixels survive, no metadata and no bytes of the upload itself. A picture that would take
// too much memory is refused from its header; when too many are being decoded the answer is 503.
func (s *Server) avatarUpload(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	r := c.Request()
	fail := func(status int, key string, args ...any) error {
		v, err := s.profileView(c, u)
		if err != nil {
			return err
		}
		v.Avatar.ErrorKey, v.Avatar.ErrorArgs = key, args
		return s.renderProfile(c, status, v)
	}
	// Keep the whole upload in memory (the body limit bounds it): a person's photo has no business in a
	// temporary file.
	if err := r.ParseMultipartForm(maxUploadBody + 1<<20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	defer r.MultipartForm.RemoveAll()
	file, fh, err := r.FormFile("avatar")
	if err != nil {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	defer file.Close()
	if fh.Size > avatar.MaxBytes {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.too_large", "mb", avatar.MaxBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(file, avatar.MaxBytes+1))
	if err != nil {
		return err
	}
	if len(data) > avatar.MaxBytes {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.too_large", "mb", avatar.MaxBytes>>20)
	}
	if len(data) == 0 {
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.missing")
	}
	pic, err := s.avatars.Process(ctx, data)
	switch {
	case errors.Is(err, avatar.ErrFormat):
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.format")
	case errors.Is(err, avatar.ErrTooBig):
		return fail(http.StatusUnprocessableEntity, "profile.avatar.error.dimensions")
	case errors.Is(err, avatar.ErrBusy):
		c.Response().Header().Set("Retry-After", "5")
		return fail(http.StatusServiceUnavailable, "profile.avatar.error.busy")
	case err != nil:
		return err
	}
	if err := s.db.SetAvatar(ctx, u.ID, pic); err != nil {
		return err
	}
	s.audit(c, 0, "avatar.set", "")
	return s.profileDone(c, "profile.avatar.saved")
}

func (s *Server) avatarRemove(c *echo.Context) error {
	u := currentUser(c)
	if err := s.db.SetAvatar(c.Request().Context(), u.ID, nil); err != nil {
		return err
	}
	s.audit(c, 0, "avatar.remove", "")
	return s.profileDone(c, "profile.avatar.removed")
}

// avatarImage serves a person's picture to themselves, to MSP staff and to people who share an
// organisation with them. Everyone else gets 404, the same as for a person without a picture.
func (s *Server) avatarImage(c *echo.Context) error {
	ctx := c.Request().Context()
	viewer := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	if id != viewer.ID && !viewer.IsStaff() {
		shared, err := s.db.SharesOrg(ctx, viewer.ID, id)
		if err != nil {
			return err
		}
		if !shared {
			return echo.ErrNotFound
		}
	}
	pic, err := s.db.Avatar(ctx, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "image/png", pic)
}

// initials are shown when a person has no picture: the first letters of the first and last word of the
// name, or the first letter of the address.
func initials(u *db.User) string {
	words := strings.Fields(u.Name)
	first := func(s string) string {
		for _, r := range s {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return strings.ToUpper(string(r))
			}
		}
		return ""
	}
	switch len(words) {
	case 0:
		return first(u.Email)
	case 1:
		return first(words[0])
	}
	return first(words[0]) + first(words[len(words)-1])
}

// reauth checks the current password of a signed-in person before a sensitive change. A wrong password
// counts as a failed sign-in (the account lock and the per-address throttle apply), and during a lock even
// the right one is refused. It returns the translation key of the problem, "" when the password is right.
func (s *Server) reauth(c *echo.Context, u *db.User, password, what string) (string, error) {
	ctx := c.Request().Context()
	if password == "" {
		return "profile.error.current_required", nil
	}
	// Counted before the check, like a sign-in: parallel guesses cannot outrun the lock.
	res, err := s.db.ReserveAttempt(ctx, db.Attempt{Kind: db.AttemptPassword, UserID: u.ID, IP: c.RealIP()})
	if err != nil {
		return "", err
	}
	switch res.Refused {
	case db.RefusedIP:
		return "", &tooMany{retryAfter: res.RetryAfter}
	case db.RefusedLocked:
		s.audit(c, 0, "login.locked", what)
		return "profile.error.locked", nil
	}
	ok := false
	if u.PasswordHash == "" {
		err = s.cfg.Hasher.DummyVerify(ctx, password)
	} else {
		ok, _, err = s.cfg.Hasher.Verify(ctx, u.PasswordHash, password)
	}
	if err != nil && !errors.Is(err, auth.ErrTooLong) {
		return "", err
	}
	if !ok {
		s.audit(c, 0, "reauth.fail", what)
		return "profile.error.current_password", nil
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return "", err
	}
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	return "", nil
}

// personal is what a person's new password must not be built from.
func (s *Server) personal(ctx context.Context, u *db.User) (auth.Personal, error) {
	p := auth.Personal{Email: []string{u.Email}, Name: []string{u.Name}, Org: []string{s.msp.Load().Name}}
	if u.PendingEmail != "" {
		p.Email = append(p.Email, u.PendingEmail)
	}
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return p, err
	}
	for _, m := range ms {
		p.Org = append(p.Org, m.Org.Name)
	}
	return p, nil
}

// passwordChange sets a new password after checking the current one. Every other session of the person
// ends and every reset link dies; this session stays signed in under a new token. A notification mail
// (without any secret) goes to the person's address.
func (s *Server) passwordChange(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	current, next, repeat := c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("new_password2")
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	personal, err := s.personal(ctx, u)
	if err != nil {
		return err
	}
	v.Password.Rules, v.Password.Unmet = s.passwordRules(s.cfg.PasswordPolicy.Check(next, personal), next, repeat)
	if subtle.ConstantTimeCompare([]byte(next), []byte(repeat)) != 1 {
		v.Password.RepeatErrorKey = auth.MatchKey
	}
	if v.Password.CurrentErrorKey, err = s.reauth(c, u, current, "password"); err != nil {
		return err
	}
	if v.Password.CurrentErrorKey != "" || len(v.Password.Unmet) > 0 || v.Password.RepeatErrorKey != "" {
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	phc, err := s.cfg.Hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	m, l := s.newEmail(u.Lang, u.Name, "mail.password_changed.subject", "msp", s.msp.Load().Name)
	m.Paragraphs = []string{l.T("mail.password_changed.body", "email", u.Email, "date", l.DateTime(s.now()))}
	m.After = []string{l.T("mail.password_changed.not_you", "url", s.link("/forgot"))}
	var epoch int64
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetPassword(ctx, tx, s.now(), u.ID, phc); err != nil {
			return err
		}
		if epoch, err = db.SessionEpoch(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, u.Email, m); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "password.change", ""))
	})
	if err != nil {
		return err
	}
	s.wakeMailer()
	// SetPassword ended every session, this one included: carry on here under a fresh token.
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.sm.Put(ctx, keyPwAt, s.now().Unix())
	if err := s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, epoch, c.RealIP(), c.Request().UserAgent()); err != nil {
		return err
	}
	return s.profileDone(c, "profile.password.changed")
}

// emailChange asks to switch the sign-in address. The new address gets a confirmation link and the old one
// a notice; until the link is used, the old address stays valid. An address another account uses gets the
// same answer and no mail, so the form cannot tell who has an account.
func (s *Server) emailChange(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	raw := strings.TrimSpace(c.FormValue("email"))
	addr := db.NormalizeEmail(raw)
	v, err := s.profileView(c, u)
	if err != nil {
		return err
	}
	v.Email.NewValue = raw
	switch {
	case !ValidEmail(raw):
		v.Email.EmailErrorKey = "profile.error.email_invalid"
	case addr == db.NormalizeEmail(u.Email):
		v.Email.EmailErrorKey = "profile.error.email_same"
	}
	if v.Email.PasswordErrorKey, err = s.reauth(c, u, c.FormValue("current_password"), "email"); err != nil {
		return err
	}
	if v.Email.EmailErrorKey != "" || v.Email.PasswordErrorKey != "" {
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	taken, err := s.db.EmailTaken(ctx, addr, u.ID)
	if err != nil {
		return err
	}
	// An address of someone else's account leaves the same traces as a free one — the waiting address on
	// the profile, the notice to the current address, the answer's time (waitFloor) — so this form does
	// not tell which addresses have an account. Only a free address gets a confirmation link; a taken one
	// can never be confirmed (confirmEmail refuses it) and resending never mails its owner (confirmResend).
	start := time.Now()
	if err := s.db.SetPendingEmail(ctx, u.ID, addr); err != nil {
		return err
	}
	if taken {
		s.audit(c, 0, "email.change_taken", addr)
	} else {
		s.audit(c, 0, "email.change_request", addr)
		if err := s.sendConfirmation(ctx, c, u, addr); err != nil {
			return err
		}
	}
	if err := s.notifyEmailChange(ctx, c, u, addr); err != nil {
		return err
	}
	waitFloor(ctx, start)
	return s.profileDone(c, "profile.email.sent")
}

// notifyEmailChange tells the current address that a change was requested (no link: nothing to click in
// a mail that might not be expected), within the mail throttle.
func (s *Server) notifyEmailChange(ctx context.Context, c *echo.Context, u *db.User, addr string) error {
	ok, err := s.db.MailAllowed(ctx, u.ID, "email_notice")
	if err != nil || !ok {
		return err
	}
	m, l := s.newEmail(u.Lang, u.Name, "mail.email_change.subject", "msp", s.msp.Load().Name)
	m.Paragraphs = []string{l.T("mail.email_change.body", "old", u.Email, "new", addr)}
	m.After = []string{l.T("mail.email_change.not_you", "url", s.link("/forgot"))}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error { return s.enqueue(ctx, tx, u.Email, m) })
	if err == nil {
		s.wakeMailer()
	}
	return err
}

func (s *Server) emailChangeCancel(c *echo.Context) error {
	u := currentUser(c)
	if err := s.db.CancelPendingEmail(c.Request().Context(), u.ID); err != nil {
		return err
	}
	s.audit(c, 0, "email.change_cancel", u.PendingEmail)
	return s.profileDone(c, "profile.email.cancelled")
}

// sessionID names a session on the page by the first 8 bytes of its stored hash (db.SessionHash), in hex:
// the same value as before tokens were stored hashed. It is only ever matched against the person's own
// sessions.
func sessionID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

// sessionEnd signs out one other session of the person.
func (s *Server) sessionEnd(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id := c.FormValue("id")
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	current := db.SessionHash(s.sm.Token(ctx))
	for _, se := range sessions {
		if !bytes.Equal(se.Hash, current) && len(id) == 16 && subtle.ConstantTimeCompare([]byte(sessionID(se.Hash)), []byte(id)) == 1 {
			if err := s.db.EndUserSession(ctx, u.ID, se.Hash); err != nil {
				return err
			}
			s.audit(c, 0, "session.end", se.IP)
			return s.profileDone(c, "profile.sessions.ended")
		}
	}
	return echo.ErrNotFound
}

// sessionsEndOthers signs out every session of the person except this one.
func (s *Server) sessionsEndOthers(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if err := s.db.EndOtherSessions(ctx, u.ID, s.sm.Token(ctx)); err != nil {
		return err
	}
	s.audit(c, 0, "session.end_others", "")
	return s.profileDone(c, "profile.sessions.ended_others")
}

// deviceName describes a session's browser and system from its user agent, as "Firefox on Windows".
// A small parser on purpose: the list only has to help a person recognise their own devices.
func deviceName(l *i18n.Localizer, ua string) string {
	browser, system := parseUserAgent(ua)
	if browser == "" && system == "" {
		return l.T("profile.sessions.unknown_device")
	}
	if browser == "" {
		browser = l.T("profile.sessions.unknown_browser")
	}
	if system == "" {
		system = l.T("profile.sessions.unknown_os")
	}
	return l.T("profile.sessions.device", "browser", browser, "os", system)
}

// parseUserAgent names the browser and operating system of a user agent ("" when unknown). Order
// matters: Edge and Opera also say Chrome, Chrome also says Safari, iPads also say Mac OS X.
func parseUserAgent(ua string) (browser, system string) {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(ua, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Edg/", "EdgA/", "EdgiOS/"):
		browser = "Edge"
	case has("OPR/", "Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("Vivaldi/"):
		browser = "Vivaldi"
	case has("Firefox/", "FxiOS/"):
		browser = "Firefox"
	case has("Chromium/"):
		browser = "Chromium"
	case has("Chrome/", "CriOS/"):
		browser = "Chrome"
	case has("Safari/") && has("Version/"):
		browser = "Safari"
	}
	switch {
	case has("Windows"):
		system = "Windows"
	case has("iPhone", "iPad", "iPod"):
		system = "iOS"
	case has("Android"):
		system = "Android"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Macintosh", "Mac OS X"):
		system = "macOS"
	case has("Linux", "X11"):
		system = "Linux"
	}
	return browser, system
}
