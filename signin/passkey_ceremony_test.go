package signin_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/signin"
)

func (e *env) passkeys(t *testing.T, base string, now func() time.Time) (*signin.Passkeys, error) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return signin.NewPasskeys(e.d, e.si, signin.PasskeyConfig{BaseURL: u, DisplayName: "Muster IT", Now: now})
}

// Browsers refuse passkeys for an IP address; so does the relying party, and nothing is offered.
func TestPasskeysNeedADomainName(t *testing.T) {
	e := newEnv(t)
	if _, err := e.passkeys(t, "http://127.0.0.1:8080", nil); !errors.Is(err, signin.ErrNoPasskeys) {
		t.Fatalf("IP address: %v", err)
	}
	if _, err := e.passkeys(t, "https://portal.example", nil); err != nil {
		t.Fatal(err)
	}
}

// A started ceremony finishes only as what it was started for, by whom, within CeremonyTTL; an answer
// to it is not counted as a failed sign-in when nothing could be checked.
func TestPasskeyCeremonyIsBoundToItsKindPersonAndTime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	p, err := e.passkeys(t, "https://portal.example", clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.BeginSecondFactor(ctx, e.u); !errors.Is(err, signin.ErrNoPasskey) {
		t.Fatalf("second factor without a passkey: %v", err)
	}
	_, reg, err := p.BeginRegistration(ctx, e.u, "Laptop")
	if err != nil || reg == "" {
		t.Fatalf("begin: %q %v", reg, err)
	}
	if _, _, err := p.FinishLogin(ctx, reg, strings.NewReader("{}"), db.AuditEntry{IP: "192.0.2.1"}); !errors.Is(err, signin.ErrCeremony) {
		t.Fatalf("a registration finished as a sign-in: %v", err)
	}
	other := *e.u
	other.ID++
	if err := p.FinishRegistration(ctx, &other, reg, strings.NewReader("{}"), db.AuditEntry{}); !errors.Is(err, signin.ErrCeremony) {
		t.Fatalf("someone else's registration: %v", err)
	}
	_, login, err := p.BeginLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(signin.CeremonyTTL + time.Second)
	if _, _, err := p.FinishLogin(ctx, login, strings.NewReader("{}"), db.AuditEntry{IP: "192.0.2.1"}); !errors.Is(err, signin.ErrCeremony) {
		t.Fatalf("an expired ceremony: %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM ip_failures`); n != 0 {
		t.Fatalf("%d failures counted for ceremonies that checked nothing", n)
	}
}
