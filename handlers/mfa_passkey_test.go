package handlers

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"portier/db"
)

// A software authenticator: enough of CTAP2 to register (attestation "none") and assert with ES256, so the
// handlers' passkey rules can be tested without a browser. The journeys use Chromium's virtual
// authenticator.
type softAuthenticator struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	credID []byte
	handle []byte // the user handle the relying party gave at registration
	count  uint32
	uv     bool
	rpID   string
	origin string
}

func newSoftAuthenticator(t *testing.T, e *testEnv) *softAuthenticator {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	base := e.srv.cfg.BaseURL
	return &softAuthenticator{t: t, key: k, credID: id, uv: true, rpID: base.Hostname(), origin: base.Scheme + "://" + base.Host}
}

var b64u = base64.RawURLEncoding

func (a *softAuthenticator) authData(withCred bool) []byte {
	h := sha256.Sum256([]byte(a.rpID))
	flags := byte(0x01) // user present
	if a.uv {
		flags |= 0x04
	}
	if withCred {
		flags |= 0x40
	}
	b := append([]byte{}, h[:]...)
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, a.count)
	if withCred {
		pub, err := a.key.PublicKey.ECDH()
		if err != nil {
			a.t.Fatal(err)
		}
		raw := pub.Bytes() // 0x04 | X | Y
		cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
			PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
			Curve:         1, XCoord: raw[1:33], YCoord: raw[33:],
		})
		if err != nil {
			a.t.Fatal(err)
		}
		b = append(b, make([]byte, 16)...) // AAGUID
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.credID)))
		b = append(b, a.credID...)
		b = append(b, cose...)
	}
	return b
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	return b
}

type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		AuthenticatorSelection struct {
			ResidentKey      string `json:"residentKey"`
			UserVerification string `json:"userVerification"`
			Attachment       string `json:"authenticatorAttachment"`
		} `json:"authenticatorSelection"`
		Attestation      string `json:"attestation"`
		UserVerification string `json:"userVerification"`
		Allow            []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t *testing.T, body string) ceremonyOptions {
	t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal([]byte(body), &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("ceremony options %v: %.300s", err, body)
	}
	return o
}

// create answers registration options.
func (a *softAuthenticator) create(o ceremonyOptions) []byte {
	h, err := b64u.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	a.handle = h
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(true)})
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(a.credID), "rawId": b64u.EncodeToString(a.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64u.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	return b
}

// get answers assertion options; the counter goes up first, as in real authenticators.
func (a *softAuthenticator) get(o ceremonyOptions) []byte {
	a.count++
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	ad := a.authData(false)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(a.credID), "rawId": b64u.EncodeToString(a.credID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"authenticatorData": b64u.EncodeToString(ad),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString(a.handle),
		},
	})
	return b
}

func (e *testEnv) postJSON(path string, body []byte) (*http.Response, passkeyJSON) {
	e.t.Helper()
	resp, b := e.do(http.MethodPost, path, bytes.NewReader(body), map[string]string{"Content-Type": "application/json", "Accept-Language": "en"})
	var out passkeyJSON
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		e.t.Fatalf("%s: %d %.300s", path, resp.StatusCode, b)
	}
	return resp, out
}

// withLocalhost makes the base URL http://localhost:PORT: browsers and the WebAuthn library refuse IP
// addresses as relying party.
func withLocalhost(c *testConfig) {
	u := *c.BaseURL
	u.Host = strings.Replace(u.Host, "127.0.0.1", "localhost", 1)
	c.BaseURL = &u
}

// registerPasskey runs a registration through the handlers and returns where the server sends the person.
func (e *testEnv) registerPasskey(a *softAuthenticator, name string) string {
	e.t.Helper()
	resp, body := e.post("/mfa/setup/passkey/begin", url.Values{"name": {name}}, nil)
	mustStatus(e.t, "registration options", resp, body, 200)
	o := parseOptions(e.t, body)
	sel := o.PublicKey.AuthenticatorSelection
	if sel.ResidentKey != "required" || sel.UserVerification != "preferred" || sel.Attachment != "" || (o.PublicKey.Attestation != "" && o.PublicKey.Attestation != "none") {
		e.t.Fatalf("registration options: %+v attestation %q", sel, o.PublicKey.Attestation)
	}
	if h, _ := b64u.DecodeString(o.PublicKey.User.ID); len(h) != 32 || strings.Contains(body, `"id":"`+b64u.EncodeToString([]byte("anna"))) {
		e.t.Fatalf("user handle of %d bytes", len(h))
	}
	resp, out := e.postJSON("/mfa/setup/passkey/finish", a.create(o))
	if resp.StatusCode != 200 || out.Redirect == "" {
		e.t.Fatalf("registration: %d %+v", resp.StatusCode, out)
	}
	return out.Redirect
}

// Passkeys: registered as the first factor (recovery codes follow), used as the second factor after the
// password, and for a password-less sign-in; a sign-count regression is refused and explained.
func TestPasskeyRegisterSecondFactorPasswordlessAndClone(t *testing.T) {
	e := newTestEnv(t, withLocalhost)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	a := newSoftAuthenticator(t, e)

	// The sign-in page offers "sign in with a passkey", its script carries the CSP nonce.
	resp, body := e.get("/login", en2(nil))
	d := doc(t, body)
	if d.Find(`[data-testid=passkey-form-login]`).Length() != 1 || !strings.Contains(d.Find(`noscript`).Text(), "Passkeys need JavaScript") {
		t.Fatalf("no passkey sign-in on the login page")
	}
	src, _ := d.Find(`script[src*="passkey"]`).Attr("src")
	nonce, _ := d.Find(`script[src*="passkey"]`).Attr("nonce")
	if src == "" || nonce == "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "'nonce-"+nonce+"'") {
		t.Fatalf("passkey script %q nonce %q", src, nonce)
	}
	if js, _ := e.get(src, nil); js.StatusCode != 200 {
		t.Fatalf("passkey.js: %d", js.StatusCode)
	}

	e.loginPassword(u.Email, testPassword)
	_, body = e.get("/mfa/setup", en2(nil))
	if doc(t, body).Find(`form[data-passkey=register][hidden]`).Length() != 1 || !strings.Contains(body, "Passkeys need JavaScript") {
		t.Fatalf("choice page passkey form / noscript text")
	}
	if dest := e.registerPasskey(a, "Laptop"); dest != "/mfa/recovery" {
		t.Fatalf("after registering: %q", dest)
	}
	var name, transports string
	var be int
	e.db.R.QueryRow(`SELECT name, transports, backup_eligible FROM mfa_methods WHERE user_id = ? AND kind = 'passkey'`, u.ID).Scan(&name, &transports, &be)
	if name != "Laptop" || transports != "internal" {
		t.Fatalf("stored passkey: %q %q", name, transports)
	}
	e.post("/mfa/recovery/done", nil, nil)
	e.post("/logout", nil, nil)

	// As the second factor after the password.
	e.loginPassword(u.Email, testPassword)
	_, body = e.get("/mfa", en2(nil))
	if m, _ := doc(t, body).Find(`[data-testid=mfa-verify]`).Attr("data-method"); m != "passkey" {
		t.Fatalf("method asked: %q", m)
	}
	resp, body = e.post("/mfa/passkey/begin", nil, nil)
	mustStatus(t, "assertion options", resp, body, 200)
	opts := parseOptions(t, body)
	if len(opts.PublicKey.Allow) != 1 {
		t.Fatalf("allowed credentials: %d", len(opts.PublicKey.Allow))
	}
	answer := a.get(opts)
	resp, out := e.postJSON("/mfa/passkey/finish", answer)
	if out.Redirect != "/o/muster" {
		t.Fatalf("passkey as second factor: %d %+v", resp.StatusCode, out)
	}
	// The ceremony data was used up: the same answer again is refused.
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	if _, out = e.postJSON("/mfa/passkey/finish", answer); out.Error == "" {
		t.Fatalf("replayed assertion accepted: %+v", out)
	}

	// A clone: the counter goes backwards. Refused, and the person is told.
	_, body = e.post("/mfa/passkey/begin", nil, nil)
	a.count = 0
	resp, out = e.postJSON("/mfa/passkey/finish", a.get(parseOptions(t, body)))
	if resp.StatusCode != 400 || !strings.Contains(out.Error, "counter went backwards") {
		t.Fatalf("sign-count regression: %d %+v", resp.StatusCode, out)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'mfa.passkey.cloned'`); n != 1 {
		t.Errorf("clone not audited")
	}
	a.count = 10
	_, body = e.post("/mfa/passkey/begin", nil, nil)
	if _, out = e.postJSON("/mfa/passkey/finish", a.get(parseOptions(t, body))); out.Redirect != "/o/muster" {
		t.Fatalf("counter moving on again: %+v", out)
	}

	// Password-less: no password at all; counts as both factors.
	e.post("/logout", nil, nil)
	e.newClient()
	resp, body = e.post("/login/passkey/begin", nil, nil)
	mustStatus(t, "discoverable options", resp, body, 200)
	opts = parseOptions(t, body)
	if len(opts.PublicKey.Allow) != 0 || opts.PublicKey.UserVerification != "required" {
		t.Fatalf("discoverable options: %+v", opts.PublicKey)
	}
	resp, out = e.postJSON("/login/passkey/finish", a.get(opts))
	if out.Redirect != "/o/muster" {
		t.Fatalf("password-less sign-in: %d %+v", resp.StatusCode, out)
	}
	resp, _ = e.get("/orgs", nil)
	mustStatus(t, "signed in without a password", resp, "", 200)
	var target string
	e.db.R.QueryRow(`SELECT target FROM audit WHERE action = 'login.ok' AND actor_id = ? ORDER BY id DESC`, u.ID).Scan(&target)
	if target != "passkey" {
		t.Errorf("login.ok target %q", target)
	}
	// No password was entered: changing factors asks for it.
	resp, _ = e.get("/mfa/setup/totp", nil)
	if !strings.HasPrefix(location(resp), "/security/confirm") {
		t.Fatalf("adding a factor after a passkey sign-in: %q", location(resp))
	}

	// Without user verification a passkey is not both factors.
	e.newClient()
	_, body = e.post("/login/passkey/begin", nil, nil)
	a.uv = false
	resp, out = e.postJSON("/login/passkey/finish", a.get(parseOptions(t, body)))
	if resp.StatusCode != 400 || out.Error == "" {
		t.Fatalf("password-less without user verification: %d %+v", resp.StatusCode, out)
	}
	resp, _ = e.get("/orgs", nil)
	if !strings.HasPrefix(location(resp), "/login") {
		t.Fatalf("signed in without user verification")
	}
}

// Registration refuses a second person's session data and an unknown credential signs nobody in.
func TestPasskeyCeremonyBoundToPerson(t *testing.T) {
	e := newTestEnv(t, withLocalhost)
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", nil)
	a := newSoftAuthenticator(t, e)
	e.loginPassword(u.Email, testPassword)
	resp, body := e.post("/mfa/setup/passkey/begin", url.Values{"name": {"Key"}}, nil)
	mustStatus(t, "options", resp, body, 200)
	o := parseOptions(t, body)
	// A forged user handle in the answer does not matter: the server uses its own.
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	if _, out := e.postJSON("/mfa/setup/passkey/finish", a.create(o)); out.Error == "" {
		t.Fatalf("finished a ceremony of another session: %+v", out)
	}
	// An authenticator nobody registered.
	e.newClient()
	_, body = e.post("/login/passkey/begin", nil, nil)
	stranger := newSoftAuthenticator(t, e)
	stranger.handle = make([]byte, 32)
	if resp, out := e.postJSON("/login/passkey/finish", stranger.get(parseOptions(t, body))); resp.StatusCode != 400 || out.Error == "" {
		t.Fatalf("unknown passkey: %d %+v", resp.StatusCode, out)
	}
	if n := countRows(t, e, `SELECT count(*) FROM ip_failures`); n == 0 {
		t.Errorf("failed passkey sign-in not counted for the address throttle")
	}
}

// On an IP-address base URL browsers refuse passkeys: the sign-in page does not offer them, and a person
// whose only factor is a passkey is told why it cannot work here (and offered the recovery codes).
func TestPasskeysUnavailableOnIPAddress(t *testing.T) {
	e := newTestEnv(t)
	if e.srv.passkeys != nil {
		t.Fatal("relying party built for an IP address")
	}
	_, body := e.get("/login", en2(nil))
	if strings.Contains(body, "passkey-form-login") || strings.Contains(body, "passkey.js") {
		t.Fatalf("passkey sign-in offered on an IP address")
	}
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", nil)
	ctx := t.Context()
	err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := db.AddPasskey(ctx, tx, e.clock.Now(), u.ID, db.Passkey{Name: "Key", CredentialID: []byte("cred"), PublicKey: []byte("pk")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.db.W.Exec(`INSERT INTO recovery_codes(user_id, code_hash, created_at) VALUES (?, x'00', 0)`, u.ID)
	e.loginPassword(u.Email, testPassword)
	resp, body := e.get("/mfa", en2(nil))
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=passkey-unavailable]`).Length() != 1 || d.Find(`[data-testid=use-recovery]`).Length() != 1 {
		t.Fatalf("passkey-only person on an IP address: %d", resp.StatusCode)
	}
	resp, _ = e.post("/mfa/passkey/begin", nil, nil)
	mustStatus(t, "passkey ceremony on an IP address", resp, "", 404)
}
