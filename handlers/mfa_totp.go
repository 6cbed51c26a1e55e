package handlers

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"
	qrcode "github.com/skip2/go-qrcode"

	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/views"
)

// totpSecretSize is 160 bits, what RFC 4226 recommends and every common app expects (auth/totp.go has the
// rest of the parameters).
const totpSecretSize = 20

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// pendingTOTP returns the secret being enrolled in this session, making one when there is none (or
// fresh=true). It lives in the session sealed, so not even the session table holds it in the clear.
func (s *Server) pendingTOTP(c *echo.Context, u *db.User, fresh bool) ([]byte, error) {
	ctx := c.Request().Context()
	if sealed := s.sm.GetBytes(ctx, keyTOTPPending); len(sealed) > 0 && !fresh {
		if secret, err := s.cfg.Sealer.Open("session", keyTOTPPending, u.ID, sealed); err == nil {
			return secret, nil
		}
	}
	secret := make([]byte, totpSecretSize)
	_, _ = rand.Read(secret)
	sealed, err := s.cfg.Sealer.Seal("session", keyTOTPPending, u.ID, secret)
	if err != nil {
		return nil, err
	}
	s.sm.Put(ctx, keyTOTPPending, sealed)
	return secret, nil
}

// totpURI is the otpauth:// URI the QR code carries (the Key URI Format of Google Authenticator, which
// Microsoft Authenticator and Bitwarden read too).
func totpURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", strconv.Itoa(auth.TOTPPeriod))
	// Some apps show a "+" literally: encode spaces as %20.
	return "otpauth://totp/" + label + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// groupKey writes a base32 secret in groups of four for typing.
func groupKey(secret []byte) string {
	k := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k[i:min(i+4, len(k))])
	}
	return b.String()
}

func (s *Server) totpSetupPage(c *echo.Context) error {
	u := currentUser(c)
	methods := enrolMethods(c)
	secret, err := s.pendingTOTP(c, u, false)
	if err != nil {
		return err
	}
	return s.renderTOTPSetup(c, http.StatusOK, u, secret, views.TOTPSetupView{First: len(methods) == 0})
}

func (s *Server) renderTOTPSetup(c *echo.Context, status int, u *db.User, secret []byte, v views.TOTPSetupView) error {
	issuer := s.msp.Load().Name
	uri := totpURI(issuer, u.Email, secret)
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return err
	}
	v.QR = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	// A phone cannot scan its own screen: the same URI as a link opens the authenticator app on it. The
	// link never reaches a server (otpauth: is handled by the app), like the key typed out beside it.
	v.AppLink = uri
	v.Key = groupKey(secret)
	v.Issuer, v.Account = issuer, u.Email
	v.Assets = s.mfaAssets(false)
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.TOTPSetup(s.shell(c, l.T("mfa.totp.title")), v), nil)
}

// totpSetup enables the app once it produced a valid code; the secret is then sealed into the database
// and never shown again.
func (s *Server) totpSetup(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	methods := enrolMethods(c)
	if len(s.sm.GetBytes(ctx, keyTOTPPending)) == 0 {
		return s.redirect(c, "/mfa/setup/totp")
	}
	secret, err := s.pendingTOTP(c, u, false)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	name := cleanName(c.FormValue("name"), l.T("mfa.totp.default_name"))
	st, ok := auth.MatchTOTP(secret, normalizeCode(c.FormValue("code")), s.now(), 0)
	if !ok {
		return s.renderTOTPSetup(c, http.StatusUnprocessableEntity, u, secret,
			views.TOTPSetupView{First: len(methods) == 0, Name: c.FormValue("name"), CodeErrorKey: "mfa.totp.wrong"})
	}
	if err := s.signin.EnrolTOTP(ctx, u, name, secret, st, s.auditEntry(c, 0, "", "")); err != nil {
		return err
	}
	s.sm.Remove(ctx, keyTOTPPending)
	dest, err := s.enrolled(c, u, len(methods) == 0, db.MFATOTP)
	if err != nil {
		return err
	}
	return s.redirect(c, dest)
}
