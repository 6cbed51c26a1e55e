package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"image/draw"
	_ "image/gif" // avatar uploads: GIF (first frame)
	_ "image/jpeg"
	"image/png"
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

// Avatar limits: the upload (2 MB, under the 3 MB body limit of multipart requests), the picture's size
// in pixels (a small file can declare a huge picture; decoding it would take gigabytes), and the result.
const (
	maxAvatarBytes  = 2 << 20
	maxAvatarPixels = 40_000_000
	maxAvatarSide   = 16384
	avatarSize      = 128
)

// profileView builds the page from what is stored; handlers then add the state of the form that failed.
func (s *Server) profileView(c *echo.Context, u *db.User) (views.ProfileView, error) {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	v := views.ProfileView{
		Settings: views.ProfileSettings{Name: u.Name, Lang: u.Lang, TimeZone: u.TimeZone, Theme: u.Theme},
		Avatar:   views.ProfileAvatar{Initials: initials(u), MaxMB: maxAvatarBytes >> 20},
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
	current := s.sm.Token(ctx)
	for _, se := range sessions {
		v.Sessions = append(v.Sessions, views.ProfileSession{
			ID:       sessionID(se.Token),
			Device:   deviceName(l, se.UserAgent),
			IP:       se.IP,
			LastSeen: l.DateTime(se.LastSeen),
			Current:  se.Token == current,
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

// avatarUpload takes a PNG, JPEG or GIF of at most 2 MB and stores it re-encoded as a 128×128 PNG: only
// pixels survive, no metadata (EXIF, GPS position, camera, comments) and no bytes of the upload itself.
func (s *Server) avatarUpload(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	r := c.Request()
	fail := func(key string, args ...any) error {
		v, err := s.profileView(c, u)
		if err != nil {
			return err
		}
		v.Avatar.ErrorKey, v.Avatar.ErrorArgs = key, args
		return s.renderProfile(c, http.StatusUnprocessableEntity, v)
	}
	// Keep the whole upload in memory (the body limit bounds it): a person's photo has no business in a
	// temporary file.
	if err := r.ParseMultipartForm(maxUploadBody + 1<<20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return fail("profile.avatar.error.missing")
	}
	defer r.MultipartForm.RemoveAll()
	file, fh, err := r.FormFile("avatar")
	if err != nil {
		return fail("profile.avatar.error.missing")
	}
	defer file.Close()
	if fh.Size > maxAvatarBytes {
		return fail("profile.avatar.error.too_large", "mb", maxAvatarBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxAvatarBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxAvatarBytes {
		return fail("profile.avatar.error.too_large", "mb", maxAvatarBytes>>20)
	}
	if len(data) == 0 {
		return fail("profile.avatar.error.missing")
	}
	pic, errKey := makeAvatar(data)
	if errKey != "" {
		return fail(errKey)
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

// allowedImageFormats are the decoders an upload may use, whatever else some package registered.
var allowedImageFormats = map[string]bool{"png": true, "jpeg": true, "gif": true}

// makeAvatar decodes an uploaded picture and returns it as a square PNG of avatarSize pixels, or the
// translation key of the reason it cannot be used.
func makeAvatar(data []byte) ([]byte, string) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !allowedImageFormats[format] {
		return nil, "profile.avatar.error.format"
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide ||
		cfg.Width*cfg.Height > maxAvatarPixels {
		return nil, "profile.avatar.error.dimensions"
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil || !allowedImageFormats[format] {
		return nil, "profile.avatar.error.format"
	}
	thumb := thumbnail(img, avatarSize)
	if format == "jpeg" {
		// Phones store pictures as the sensor saw them and note the way up in EXIF; apply it, since the
		// EXIF block itself is not kept.
		thumb = orient(thumb, jpegOrientation(data))
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, thumb); err != nil {
		return nil, "profile.avatar.error.format"
	}
	return out.Bytes(), ""
}

// tap is one source pixel's share of a destination pixel.
type tap struct {
	i int
	w float64
}

// boxTaps maps n source pixels onto m destination pixels: destination pixel d covers the source interval
// [d·n/m, (d+1)·n/m), and each source pixel it touches contributes the length of the overlap. Weights
// are normalised to sum to 1.
func boxTaps(n, m int) [][]tap {
	out := make([][]tap, m)
	scale := float64(n) / float64(m)
	for d := range m {
		lo, hi := float64(d)*scale, float64(d+1)*scale
		var sum float64
		for i := int(lo); i < n && float64(i) < hi; i++ {
			w := min(hi, float64(i+1)) - max(lo, float64(i))
			if w <= 0 {
				continue
			}
			out[d] = append(out[d], tap{i, w})
			sum += w
		}
		for k := range out[d] {
			out[d][k].w /= sum
		}
	}
	return out
}

// thumbnail cuts the largest centred square out of src and resamples it to size×size with a box filter:
// every destination pixel is the area-weighted average of the source pixels under it (a true average when
// shrinking, a soft enlargement for small pictures). It works on premultiplied RGBA, so transparent
// pixels do not darken their neighbours, and converts one source row at a time to keep memory small.
func thumbnail(src image.Image, size int) *image.RGBA {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	taps := boxTaps(side, size)
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	row := image.NewRGBA(image.Rect(0, 0, side, 1))
	loaded := -1
	acc := make([]float64, 4*size)
	for dy := range size {
		clear(acc)
		for _, ty := range taps[dy] {
			if ty.i != loaded {
				draw.Draw(row, row.Bounds(), src, image.Pt(x0, y0+ty.i), draw.Src)
				loaded = ty.i
			}
			for dx := range size {
				var r, g, bl, a float64
				for _, tx := range taps[dx] {
					p := row.Pix[4*tx.i : 4*tx.i+4 : 4*tx.i+4]
					r += tx.w * float64(p[0])
					g += tx.w * float64(p[1])
					bl += tx.w * float64(p[2])
					a += tx.w * float64(p[3])
				}
				acc[4*dx] += ty.w * r
				acc[4*dx+1] += ty.w * g
				acc[4*dx+2] += ty.w * bl
				acc[4*dx+3] += ty.w * a
			}
		}
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*size]
		for k, v := range acc {
			out[k] = uint8(min(255, max(0, v+0.5)))
		}
	}
	return dst
}

// jpegOrientation reads the EXIF orientation (1–8) of a JPEG; 1 (as stored) when there is none or the
// EXIF block cannot be read. Every offset is checked: the bytes come from the upload.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more metadata
			return 1
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var u16 func([]byte) uint16
	var u32 func([]byte) uint32
	switch string(t[:2]) {
	case "II":
		u16, u32 = binary.LittleEndian.Uint16, binary.LittleEndian.Uint32
	case "MM":
		u16, u32 = binary.BigEndian.Uint16, binary.BigEndian.Uint32
	default:
		return 1
	}
	if u16(t[2:]) != 42 {
		return 1
	}
	ifd := u32(t[4:])
	if uint64(ifd)+2 > uint64(len(t)) {
		return 1
	}
	count := int(u16(t[ifd:]))
	for k := range count {
		e := int(ifd) + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if u16(t[e:]) == 0x0112 && u16(t[e+2:]) == 3 { // Orientation, SHORT
			if o := int(u16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orient turns a square picture the way EXIF orientation o says it should be shown. The avatar's square is
// cut from the centre, which every one of these turns and flips maps onto itself, so turning the small
// result is the same as turning the upload first.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	n := src.Bounds().Dx()
	dst := image.NewRGBA(src.Bounds())
	for y := range n {
		for x := range n {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = n-1-x, y
			case 3: // upside down
				sx, sy = n-1-x, n-1-y
			case 4: // mirrored upside down
				sx, sy = x, n-1-y
			case 5: // mirrored along the main diagonal
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, n-1-x
			case 7: // mirrored along the other diagonal
				sx, sy = n-1-y, n-1-x
			case 8: // needs a quarter turn anticlockwise
				sx, sy = n-1-y, x
			}
			dst.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return dst
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
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetPassword(ctx, tx, s.now(), u.ID, phc); err != nil {
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
	if err := s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, c.RealIP(), c.Request().UserAgent()); err != nil {
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
	if taken {
		s.audit(c, 0, "email.change_taken", addr)
		return s.profileDone(c, "profile.email.sent")
	}
	if err := s.db.SetPendingEmail(ctx, u.ID, addr); err != nil {
		return err
	}
	s.audit(c, 0, "email.change_request", addr)
	if err := s.sendConfirmation(ctx, c, u, addr); err != nil {
		return err
	}
	if err := s.notifyEmailChange(ctx, c, u, addr); err != nil {
		return err
	}
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

// sessionID names a session on the page without revealing its token: the first 8 bytes of the token's
// SHA-256, in hex. It is only ever matched against the person's own sessions.
func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:8])
}

// sessionEnd signs out one other session of the person.
func (s *Server) sessionEnd(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id := c.FormValue("id")
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	current := s.sm.Token(ctx)
	for _, se := range sessions {
		if se.Token != current && len(id) == 16 && subtle.ConstantTimeCompare([]byte(sessionID(se.Token)), []byte(id)) == 1 {
			if err := s.db.EndUserSession(ctx, u.ID, se.Token); err != nil {
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
