package handlers

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/docs"
	"portier/docsapp"
	"portier/views"
)

// revealSeconds is how long a revealed secret stays on the screen; a QR code (scanned across the room)
// stays longer.
const (
	revealSeconds   = 30
	qrRevealSeconds = 120
)

// docsReveal shows a secret for 30 seconds (or a stored password's current one-time code while it is
// valid), audited.
func (s *Server) docsReveal(c *echo.Context) error {
	r, sec, err := s.reveal(c)
	if err != nil {
		return err
	}
	return s.showSecret(c, sec.Item.Name, secretView(sec, r.itemHref(sec.Item.ID)))
}

// reveal opens the secret the route names for the viewer: docsapp.Reveal, audited.
func (s *Server) reveal(c *echo.Context) (*docReq, *docsapp.Secret, error) {
	r, err := s.docRequest(c)
	if err != nil {
		return nil, nil, err
	}
	sec, err := s.docs.Reveal(c.Request().Context(), r.v, r.area, itemID(c), c.Param("field"))
	return r, sec, err
}

// secretView shows a revealed secret for revealSeconds, or a one-time code (in two halves) while it is
// valid; back is where the page without JavaScript links back to.
func secretView(sec *docsapp.Secret, back string) views.SecretView {
	v := views.SecretView{Field: sec.Field.Name, Value: sec.Value, HideAfter: revealSeconds, BackHref: back, Pre: sec.Field.Kind == docs.SecretText}
	if sec.TOTP {
		v.Value, v.TOTP = sec.Value[:3]+" "+sec.Value[3:], true
		v.Remaining, v.HideAfter = sec.Remaining, sec.Remaining
	}
	return v
}

// docsCopy returns the plain secret (for a TOTP seed: the current code) for the copy button's script;
// audited as a reveal (see docsapp.Service.Reveal).
func (s *Server) docsCopy(c *echo.Context) error {
	_, sec, err := s.reveal(c)
	if err != nil {
		return err
	}
	noStore(c)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(sec.Value))
}

// docsCopied records the browser's report of a successful copy (409 without the fetch before it).
func (s *Server) docsCopied(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if err := s.docs.Copied(c.Request().Context(), r.v, r.area, itemID(c), c.Param("field")); err != nil {
		return err
	}
	noStore(c)
	return c.NoContent(http.StatusNoContent)
}

// docsQR shows the Wi-Fi join code or a WireGuard configuration as a QR code: fetched on request,
// no-store, audited like a reveal.
func (s *Server) docsQR(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	qr, err := s.docs.QR(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	v := views.SecretView{Field: qr.Field, QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(qr.PNG), QRAltKey: qr.AltKey,
		HideAfter: qrRevealSeconds, BackHref: r.itemHref(qr.Item.ID)}
	return s.showSecret(c, qr.Item.Name, v)
}

// showSecret sends a revealed secret or QR code: the fragment that "show" swaps in, or the page without
// JavaScript, never cached.
func (s *Server) showSecret(c *echo.Context, itemName string, v views.SecretView) error {
	noStore(c)
	return s.render(c, http.StatusOK, views.SecretPage(s.shell(c, itemName), v), views.SecretFragment(v))
}

// docsRevealVersion shows a secret as it was in an earlier version (staff only), audited.
func (s *Server) docsRevealVersion(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	vid, err := strconv.ParseInt(c.Param("vid"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	sec, err := s.docs.RevealVersion(c.Request().Context(), r.v, r.area, itemID(c), vid, c.Param("field"))
	if err != nil {
		return err
	}
	v := secretView(sec, r.itemHref(sec.Item.ID)+"/history")
	return s.showSecret(c, sec.Item.Name, v)
}
