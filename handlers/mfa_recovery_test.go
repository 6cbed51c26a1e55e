package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/signin"
)

// A recovery code signs in once in place of the second factor, and never again.
func TestRecoveryCodeWorksOnce(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(u.Email, testPassword)
	_, codes := e.enrolTOTPFlow(t)
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	for _, c := range codes {
		if signin.NormalizeRecovery(c) == "" {
			t.Fatalf("code %q does not read back", c)
		}
	}
	e.post("/mfa/recovery/done", nil, nil)
	e.post("/logout", nil, nil)

	e.loginPassword(u.Email, testPassword)
	resp, body := e.get("/mfa?use=recovery", en2(nil))
	if m, _ := doc(t, body).Find(`[data-testid=mfa-verify]`).Attr("data-method"); resp.StatusCode != 200 || m != "recovery" {
		t.Fatalf("recovery form: %d %q", resp.StatusCode, m)
	}
	// Typed in capitals with spaces instead of the dash: still the code.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {typed}}, nil)
	mustRedirect(t, "recovery code", resp, "/o/muster")
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'recovery.used' AND actor_id = ?`, u.ID); n != 1 {
		t.Errorf("recovery.used audited %d times", n)
	}
	e.post("/logout", nil, nil)

	e.loginPassword(u.Email, testPassword)
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[3]}}, nil)
	mustStatus(t, "same recovery code again", resp, "", 422)
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[4]}}, nil)
	mustRedirect(t, "another recovery code", resp, "/o/muster")
	if n := countRows(t, e, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, u.ID); n != 8 {
		t.Fatalf("%d codes left, want 8", n)
	}
}

// Regenerating kills the old set (and needs a recent password); the security page warns at three left.
func TestRecoveryRegenerateAndLowWarning(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	u := e.createUserNoMFA("anna@muster.example", "Anna", "", map[int64]string{o.ID: "viewer"})
	e.loginPassword(u.Email, testPassword)
	_, codes := e.enrolTOTPFlow(t)
	e.post("/mfa/recovery/done", nil, nil)
	for _, c := range codes[:6] {
		e.post("/logout", nil, nil)
		e.loginPassword(u.Email, testPassword)
		resp, _ := e.post("/mfa", url.Values{"use": {"recovery"}, "code": {c}}, nil)
		mustRedirect(t, "recovery sign-in", resp, "/o/muster")
	}
	_, body := e.get("/security", en2(nil))
	d := doc(t, body)
	if d.Find(`[data-testid=recovery-low]`).Length() != 0 || !strings.Contains(d.Find(`[data-testid=recovery-left]`).Text(), "4") {
		t.Fatalf("4 left: %q", d.Find(`[data-testid=security-recovery]`).Text())
	}
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[6]}}, nil)
	_, body = e.get("/security", en2(nil))
	if low := doc(t, body).Find(`[data-testid=recovery-low]`).Text(); !strings.Contains(low, "Only 3") {
		t.Fatalf("no warning at 3 left: %q", low)
	}

	// Regenerating after more than 10 minutes asks for the password first.
	e.clock.Advance(11 * time.Minute)
	resp, _ := e.post("/security/recovery", nil, nil)
	if !strings.HasPrefix(location(resp), "/security/confirm") {
		t.Fatalf("regenerate without a recent password: %q", location(resp))
	}
	resp, _ = e.post("/security/confirm", url.Values{"password": {testPassword}, "next": {"/security#recovery"}}, nil)
	mustRedirect(t, "confirm", resp, "/security#recovery")
	resp, _ = e.post("/security/recovery", nil, nil)
	mustRedirect(t, "regenerate", resp, "/mfa/recovery")
	_, body = e.get("/mfa/recovery", en2(nil))
	d = doc(t, body)
	if d.Find(`[data-testid=recovery-code]`).Length() != 10 || d.Find(`[data-testid=setup-done]`).Length() != 0 {
		t.Fatalf("new codes page")
	}
	fresh := d.Find(`[data-testid=recovery-code]`).First().Text()
	resp, _ = e.post("/mfa/recovery/done", nil, nil)
	mustRedirect(t, "acknowledged", resp, "/security")
	e.post("/logout", nil, nil)
	e.loginPassword(u.Email, testPassword)
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {codes[9]}}, nil)
	mustStatus(t, "old set after regenerating", resp, "", 422)
	resp, _ = e.post("/mfa", url.Values{"use": {"recovery"}, "code": {fresh}}, nil)
	mustRedirect(t, "new set", resp, "/o/muster")
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'recovery.regenerate' AND actor_id = ?`, u.ID); n != 1 {
		t.Errorf("recovery.regenerate audited %d times", n)
	}
}
