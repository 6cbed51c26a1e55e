package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	qrcode "github.com/skip2/go-qrcode"

	"portier/db"
	"portier/i18n"
	"portier/views"
)

// Authenticator apps (RFC 6238 TOTP) with the parameters every common app expects: SHA-1, 6 digits,
// 30-second steps, a 160-bit secret. One step of clock skew either way is accepted.
const (
	totpPeriod     = 30
	totpSecretSize = 20
	totpSkew       = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode computes the 6-digit code of a secret for a time step.
func totpCode(secret []byte, step int64) string {
	code, err := hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), hotp.ValidateOpts{
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "" // only for an invalid base32 secret, which b32 never makes
	}
	return code
}

// matchTOTP returns the time step (within the skew, and after last) whose code is code. Codes are compared
// in constant time.
func matchTOTP(secret []byte, code string, now time.Time, last int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := totpStep(now)
	for st := cur - totpSkew; st <= cur+totpSkew; st++ {
		if st <= last {
			continue // used already, or older than a used one: a replay
		}
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, st)), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}

// checkTOTP checks a code against each of the person's authenticator apps and spends its time step.
func (s *Server) checkTOTP(c *echo.Context, u *db.User, code string) (bool, error) {
	ctx := c.Request().Context()
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for i := range methods {
		m := &methods[i]
		if m.Kind != db.MFATOTP {
			continue
		}
		secret, err := m.TOTPSecret(s.cfg.Sealer)
		if err != nil {
			return false, err
		}
		st, ok := matchTOTP(secret, code, s.now(), m.LastStep)
		if !ok {
			continue
		}
		// The conditional UPDATE decides: a parallel request with the same code loses.
		return s.db.ConsumeTOTPStep(ctx, m.ID, st)
	}
	return false, nil
}

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
	q.Set("period", strconv.Itoa(totpPeriod))
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
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
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
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.redirect(c, dest)
	}
	if len(s.sm.GetBytes(ctx, keyTOTPPending)) == 0 {
		return s.redirect(c, "/mfa/setup/totp")
	}
	secret, err := s.pendingTOTP(c, u, false)
	if err != nil {
		return err
	}
	l := i18n.From(ctx)
	name := cleanName(c.FormValue("name"), l.T("mfa.totp.default_name"))
	st, ok := matchTOTP(secret, normalizeCode(c.FormValue("code")), s.now(), 0)
	if !ok {
		return s.renderTOTPSetup(c, http.StatusUnprocessableEntity, u, secret,
			views.TOTPSetupView{First: len(methods) == 0, Name: c.FormValue("name"), CodeErrorKey: "mfa.totp.wrong"})
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SessionsStillValid(ctx, tx, u.ID, u.SessionEpoch); err != nil {
			return err
		}
		if _, err := db.AddTOTP(ctx, tx, s.cfg.Sealer, s.now(), u.ID, name, secret, st); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "mfa.enrol.totp", name))
	})
	if err != nil {
		return err
	}
	s.sm.Remove(ctx, keyTOTPPending)
	dest, err = s.enrolled(c, u, len(methods) == 0, db.MFATOTP)
	if err != nil {
		return err
	}
	return s.redirect(c, dest)
}
