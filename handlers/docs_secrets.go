package handlers

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"portier/db"
	"portier/docs"
	"portier/views"
)

type dbTx = *sql.Tx

// revealSeconds is how long a revealed secret stays on the screen.
const revealSeconds = 30

// secretField checks that the route names a secret field of the area.
func secretField(r *docReq, name string) (docs.Field, error) {
	f, ok := r.area.Field(name)
	if !ok || !f.IsSecret() {
		return f, echo.ErrNotFound
	}
	return f, nil
}

// openSecret reads a secret for a reveal; a value that no longer opens is an internal error with a clear
// log line, never garbage on the screen.
func (s *Server) openSecret(c *echo.Context, r *docReq, id int64, field string) (*db.DocItem, string, error) {
	ctx := c.Request().Context()
	it, err := s.db.DocGet(ctx, r.scope, r.area.Name, id)
	if err != nil {
		return nil, "", err
	}
	v, err := s.db.DocSecret(ctx, s.cfg.Sealer, r.scope, r.area.Name, id, field)
	if errors.Is(err, db.ErrSealBroken) {
		s.log.Error("sealed secret does not open", "item", id, "field", field)
		return nil, "", errSealBroken
	}
	return it, v, err
}

// errSealBroken is shown as a 500 page: "something went wrong", with the detail only in the log.
var errSealBroken = echo.ErrInternalServerError.Wrap(db.ErrSealBroken)

// noStore keeps a response with a secret out of every cache and out of htmx's history.
func noStore(c *echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("HX-Push-Url", "false")
}

// docsReveal shows a secret for 30 seconds (or a stored password's current one-time code), audited.
func (s *Server) docsReveal(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	f, err := secretField(r, c.Param("field"))
	if err != nil {
		return err
	}
	it, value, err := s.openSecret(c, r, id, f.Name)
	if err != nil {
		return err
	}
	v := views.SecretView{Field: f.Name, Value: value, HideAfter: revealSeconds, BackHref: r.base + "/" + strconv.FormatInt(id, 10), Pre: f.Kind == docs.SecretText}
	if f.Kind == docs.TOTPSeed {
		code, remaining, err := s.currentCode(value)
		if err != nil {
			return err
		}
		v.Value, v.TOTP = code[:3]+" "+code[3:], true
		v.Remaining, v.HideAfter = remaining, remaining
	}
	if err := s.auditSecretUse(c, r, it, "docs.reveal", f.Name); err != nil {
		return err
	}
	noStore(c)
	return s.render(c, http.StatusOK, views.SecretPage(s.shell(c, it.Name), v), views.SecretFragment(v))
}

// currentCode is the one-time code of a stored TOTP seed now, and the seconds it stays valid. The seed
// itself is never shown, copied or printed: only this code.
func (s *Server) currentCode(seed string) (string, int, error) {
	now := s.now()
	code, err := totp.GenerateCodeCustom(seed, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", 0, err
	}
	return code, 30 - int(now.Unix()%30), nil
}

// docsCopy returns the plain secret (for a TOTP seed: the current code) for the copy button's script.
//
// Whether the clipboard took it only the browser knows, so this fetch is audited as what it surely is, a
// reveal: the secret has left the server for this person. The script confirms a successful copy with
// docsCopied, which records the copy. Someone who fetches and never confirms (a failed copy, or a
// hand-made request) is in the log as having seen the secret; a confirmation without a fetch is refused,
// and a false one would only add an entry against the sender.
func (s *Server) docsCopy(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	f, err := secretField(r, c.Param("field"))
	if err != nil {
		return err
	}
	it, value, err := s.openSecret(c, r, id, f.Name)
	if err != nil {
		return err
	}
	if f.Kind == docs.TOTPSeed {
		if value, _, err = s.currentCode(value); err != nil {
			return err
		}
	}
	if err := s.auditSecretUse(c, r, it, "docs.reveal", f.Name); err != nil {
		return err
	}
	noStore(c)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(value))
}

// docsCopied records that the browser reports a successful copy of a secret it fetched through docsCopy
// (one entry per person, item and field per window). Without a reveal of that field by this person in
// the last two windows (the fetch's own entry may be up to one window old) it answers 409 and logs
// nothing.
func (s *Server) docsCopied(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	f, err := secretField(r, c.Param("field"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	it, err := s.db.DocGet(ctx, r.scope, r.area.Name, id)
	if err != nil {
		return err
	}
	fetched, err := s.db.RecentReveal(ctx, r.u.ID, it.ID, "docs.reveal", f.Name, 2*auditWindow)
	if err != nil {
		return err
	}
	if !fetched {
		return db.ErrConflict
	}
	if err := s.auditSecretUse(c, r, it, "docs.copy", f.Name); err != nil {
		return err
	}
	noStore(c)
	return c.NoContent(http.StatusNoContent)
}

// wifiEscape escapes a value for the WIFI: QR format (backslash before \ ; , : and ").
func wifiEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`, `:`, `\:`, `"`, `\"`).Replace(s)
}

// wifiQRContent is the text a phone camera understands to join a network.
func wifiQRContent(ssid, security, key string, hidden bool) string {
	t := "WPA"
	switch security {
	case "open":
		t = "nopass"
	case "wpa3":
		t = "SAE"
	}
	var b strings.Builder
	b.WriteString("WIFI:T:" + t + ";S:" + wifiEscape(ssid) + ";")
	if t != "nopass" {
		b.WriteString("P:" + wifiEscape(key) + ";")
	}
	if hidden {
		b.WriteString("H:true;")
	}
	b.WriteString(";")
	return b.String()
}

// docsQR shows the Wi-Fi join code or a WireGuard configuration as a QR code. It carries the secret, so it
// is fetched on request, no-store, and audited like a reveal.
func (s *Server) docsQR(c *echo.Context) error {
	r, it, err := s.docItem(c, false)
	if err != nil {
		return err
	}
	id := it.ID
	var content, alt, field string
	switch {
	case r.area.Name == docs.Wireless.Name:
		key := ""
		if it.Secrets["key"] {
			if _, key, err = s.openSecret(c, r, id, "key"); err != nil {
				return err
			}
		} else if it.Fields["security"] != "open" {
			return echo.ErrNotFound
		}
		content, alt, field = wifiQRContent(it.Name, it.Fields["security"], key, it.Fields["hidden"] == "1"), "docs.qr.wifi_alt", "key"
	case r.area.Name == docs.VPN.Name && it.Fields["kind"] == "wireguard" && it.Secrets["config"]:
		if _, content, err = s.openSecret(c, r, id, "config"); err != nil {
			return err
		}
		alt, field = "docs.qr.wireguard_alt", "config"
	default:
		return echo.ErrNotFound
	}
	png, err := qrcode.Encode(content, qrcode.Medium, 256)
	if err != nil {
		return echo.ErrBadRequest.Wrap(err)
	}
	if err := s.auditSecretUse(c, r, it, "docs.reveal", field); err != nil {
		return err
	}
	v := views.SecretView{Field: field, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), QRAltKey: alt,
		HideAfter: 120, BackHref: r.base + "/" + strconv.FormatInt(id, 10)}
	noStore(c)
	return s.render(c, http.StatusOK, views.SecretPage(s.shell(c, it.Name), v), views.SecretFragment(v))
}

// docsRevealVersion shows a secret as it was in an earlier version (staff only), audited.
func (s *Server) docsRevealVersion(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.u.IsStaff() {
		return echo.ErrNotFound
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	vid, err := strconv.ParseInt(c.Param("vid"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	f, err := secretField(r, c.Param("field"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	it, err := s.db.DocGet(ctx, r.scope, r.area.Name, id)
	if err != nil {
		return err
	}
	value, err := s.db.DocVersionSecret(ctx, s.cfg.Sealer, r.scope, id, vid, f.Name)
	if errors.Is(err, db.ErrSealBroken) {
		return errSealBroken
	}
	if err != nil {
		return err
	}
	if err := s.db.Audit(ctx, nil, s.secretAuditEntry(c, r, it, "docs.reveal_old", f.Name)); err != nil {
		return err
	}
	v := views.SecretView{Field: f.Name, Value: value, HideAfter: revealSeconds, BackHref: r.base + "/" + strconv.FormatInt(id, 10) + "/history", Pre: f.Kind == docs.SecretText}
	if f.Kind == docs.TOTPSeed {
		// An earlier seed is a seed too: never shown, only its current code (as docsReveal does).
		code, remaining, err := s.currentCode(value)
		if err != nil {
			return err
		}
		v.Value, v.TOTP = code[:3]+" "+code[3:], true
		v.Remaining, v.HideAfter = remaining, remaining
	}
	noStore(c)
	return s.render(c, http.StatusOK, views.SecretPage(s.shell(c, it.Name), v), views.SecretFragment(v))
}
