package docsapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"portier/db"
	"portier/docs"
)

// Secret is a secret value opened for the viewer.
type Secret struct {
	Item  *db.DocItem
	Field docs.Field
	// Value is the secret; for a stored TOTP seed the current one-time code instead, never the seed.
	Value     string
	TOTP      bool
	Remaining int // for a code: the seconds it stays valid
}

// secretOf resolves a secret field of a live item of the viewer's organisation and area.
func (s *Service) secretOf(ctx context.Context, v *Viewer, area *docs.Area, id int64, field string) (docs.Field, *db.DocItem, error) {
	f, ok := area.Field(field)
	if !ok || !f.IsSecret() {
		return f, nil, ErrNotFound
	}
	it, err := s.item(ctx, v, area, id)
	return f, it, err
}

// open reads one secret of a live item in the viewer's scope. A value that no longer opens is an internal
// error with a clear log line (item and field, never a value), never garbage on the screen.
func (s *Service) open(ctx context.Context, v *Viewer, area *docs.Area, id int64, field string) (string, error) {
	val, err := s.db.DocSecret(ctx, s.sealer, v.Scope(), area.Name, id, field)
	if errors.Is(err, db.ErrSealBroken) {
		s.log.Error("sealed secret does not open", "item", id, "field", field)
	}
	return val, err
}

// Reveal opens a secret of an item for the viewer, after recording it: one audit entry per person, item
// and field per AuditWindow (the field counts: a stored password's one-time code shown after its password
// is a second secret and gets its own entry). Without its entry nothing is revealed.
//
// The copy button's fetch is a Reveal too: whether the clipboard took the value only the browser knows,
// but the secret has surely left the server for this person. The script confirms a successful copy with
// Copied.
func (s *Service) Reveal(ctx context.Context, v *Viewer, area *docs.Area, id int64, field string) (*Secret, error) {
	f, it, err := s.secretOf(ctx, v, area, id, field)
	if err != nil {
		return nil, err
	}
	val, err := s.open(ctx, v, area, id, f.Name)
	if err != nil {
		return nil, err
	}
	sec, err := s.shown(it, f, val)
	if err != nil {
		return nil, err
	}
	if err := s.auditOnce(ctx, v.secretEntry("docs.reveal", area, it, f.Name), it.ID); err != nil {
		return nil, err
	}
	return sec, nil
}

// shown is what a reveal shows of the value val of field f: the value itself, but for a TOTP seed (also
// an earlier version's) only its current code — the seed never leaves the server.
func (s *Service) shown(it *db.DocItem, f docs.Field, val string) (*Secret, error) {
	sec := &Secret{Item: it, Field: f, Value: val}
	if f.Kind == docs.TOTPSeed {
		var err error
		if sec.Value, sec.Remaining, err = s.currentCode(val); err != nil {
			return nil, err
		}
		sec.TOTP = true
	}
	return sec, nil
}

// currentCode is the one-time code of a stored TOTP seed now, and the seconds it stays valid.
func (s *Service) currentCode(seed string) (string, int, error) {
	now := s.now()
	code, err := totp.GenerateCodeCustom(seed, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", 0, err
	}
	return code, 30 - int(now.Unix()%30), nil
}

// Copied records that the browser reports a successful copy of a secret the viewer fetched through Reveal
// (one entry per person, item and field per window). Without a reveal of that field by this person in the
// last two windows (the fetch's own entry may be up to one window old) it is ErrConflict and logs nothing:
// a confirmation without a fetch is refused, and a false one would only add an entry against its sender.
func (s *Service) Copied(ctx context.Context, v *Viewer, area *docs.Area, id int64, field string) error {
	f, it, err := s.secretOf(ctx, v, area, id, field)
	if err != nil {
		return err
	}
	// Any reveal of the field counts as the fetch, also one from while the item was staff-only.
	fetched, err := s.db.RecentEntry(ctx, v.ID, it.ID, "docs.reveal", f.Name, true, 2*AuditWindow)
	if err != nil {
		return err
	}
	if !fetched {
		return ErrConflict
	}
	err = s.auditOnce(ctx, v.secretEntry("docs.copy", area, it, f.Name), it.ID)
	return err
}

// QR is a join code (Wi-Fi) or a WireGuard configuration as a QR code.
type QR struct {
	Item   *db.DocItem
	PNG    []byte
	Field  string // the secret it carries
	AltKey string // translation key of its text alternative
}

// qrSize is the QR code's width and height in pixels.
const qrSize = 256

// QR makes the QR code of a wireless network or a WireGuard tunnel. It carries the secret, so it is audited
// like a reveal.
func (s *Service) QR(ctx context.Context, v *Viewer, area *docs.Area, id int64) (*QR, error) {
	it, err := s.item(ctx, v, area, id)
	if err != nil {
		return nil, err
	}
	if ok, _ := HasQR(area, it); !ok {
		return nil, ErrNotFound
	}
	var content string
	qr := &QR{Item: it}
	if area.Name == docs.Wireless.Name {
		key := ""
		if it.Secrets["key"] {
			if key, err = s.open(ctx, v, area, it.ID, "key"); err != nil {
				return nil, err
			}
		}
		content = wifiQRContent(it.Name, it.Fields["security"], key, it.Fields["hidden"] == "1")
		qr.AltKey, qr.Field = "docs.qr.wifi_alt", "key"
	} else {
		if content, err = s.open(ctx, v, area, it.ID, "config"); err != nil {
			return nil, err
		}
		qr.AltKey, qr.Field = "docs.qr.wireguard_alt", "config"
	}
	if qr.PNG, err = qrcode.Encode(content, qrcode.Medium, qrSize); err != nil {
		// Too much for a QR code (a long configuration): the input's fault, not the server's.
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := s.auditOnce(ctx, v.secretEntry("docs.reveal", area, it, qr.Field), it.ID); err != nil {
		return nil, err
	}
	return qr, nil
}

// HasQR reports whether an item has a QR code to show (a network with its key or an open one, a WireGuard
// tunnel with its configuration), and the translation key of its link. Areas compare by name: one extended
// with custom fields is a copy.
func HasQR(area *docs.Area, it *db.DocItem) (bool, string) {
	switch {
	case area.Name == docs.Wireless.Name && (it.Secrets["key"] || it.Fields["security"] == "open"):
		return true, "docs.qr.wifi"
	case area.Name == docs.VPN.Name && it.Fields["kind"] == "wireguard" && it.Secrets["config"]:
		return true, "docs.qr.wireguard"
	}
	return false, ""
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

// RevealVersion opens a secret as it was in an earlier version (MSP staff only; for a TOTP seed its
// current code, never the seed); every such reveal is audited.
func (s *Service) RevealVersion(ctx context.Context, v *Viewer, area *docs.Area, id, versionID int64, field string) (*Secret, error) {
	if !v.CanSeeHistory() {
		return nil, ErrForbidden
	}
	f, it, err := s.secretOf(ctx, v, area, id, field)
	if err != nil {
		return nil, err
	}
	val, err := s.db.DocVersionSecret(ctx, s.sealer, v.Scope(), id, versionID, f.Name)
	if errors.Is(err, db.ErrSealBroken) {
		s.log.Error("sealed secret of a version does not open", "item", id, "version", versionID, "field", f.Name)
	}
	if err != nil {
		return nil, err
	}
	sec, err := s.shown(it, f, val)
	if err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, nil, v.secretEntry("docs.reveal_old", area, it, f.Name)); err != nil {
		return nil, err
	}
	return sec, nil
}
