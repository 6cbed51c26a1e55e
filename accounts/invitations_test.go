package accounts_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/access"
	"portier/accounts"
	"portier/auth"
	"portier/db"
	"portier/i18n"
	"portier/mailtext"
	"portier/views"
)

type env struct {
	d     *db.DB
	acc   *accounts.Accounts
	woken int
	mu    sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	sealer, err := db.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("https://portal.example")
	mails := mailtext.New(b, base, func() views.MSP { return views.MSP{Name: "Muster IT"} })
	e := &env{d: d}
	e.acc = accounts.New(d, sealer, auth.NewHasher(1), mails, accounts.Config{Wake: func() { e.mu.Lock(); e.woken++; e.mu.Unlock() }})
	return e
}

func (e *env) outbox(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.d.R.QueryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The command line's operator invites to an organisation: one mail with the link, one audit entry; a
// second invitation of the same role re-sends (the first link dies), nothing piles up.
func TestInviteThenResend(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.d.CreateOrg(ctx, "Kunde GmbH", "kunde")
	if err != nil {
		t.Fatal(err)
	}
	req := accounts.InviteRequest{Email: "anna@kunde.example", Lang: "en", OrgID: o.ID, Role: "viewer", By: access.Operator()}
	first, err := e.acc.Invite(ctx, req)
	if err != nil || first.Result != accounts.Invited || !strings.HasPrefix(first.Link, "https://portal.example/invite/") {
		t.Fatalf("invite: %+v %v", first, err)
	}
	second, err := e.acc.Invite(ctx, req)
	if err != nil || second.Result != accounts.Resent || second.Link == first.Link {
		t.Fatalf("again: %+v %v", second, err)
	}
	h, _ := auth.HashToken(strings.TrimPrefix(first.Link, "https://portal.example/invite/"))
	if inv, err := e.d.InvitationByToken(ctx, h); err != nil || inv.Status != db.InviteRevoked {
		t.Fatalf("first link after the re-send: %+v %v", inv, err)
	}
	if n := e.outbox(t); n != 2 || e.woken != 2 {
		t.Fatalf("outbox %d, woken %d; want 2 and 2", n, e.woken)
	}
	entries, err := e.d.AuditList(ctx, db.AuditFilter{OrgID: o.ID})
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit: %d %v", len(entries), err)
	}
}

// Roles of active staff do not change through an invitation, from the web or the command line.
func TestInviteKeepsActiveStaffRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.d.Tx(ctx, func(tx *sql.Tx) error {
		id, _, err := db.EnsureUser(ctx, tx, time.Now(), "tech@muster-it.example", "Tom", "de")
		if err != nil {
			return err
		}
		if err := db.SetStaffRole(ctx, tx, id, "technician"); err != nil {
			return err
		}
		return db.SetPassword(ctx, tx, time.Now(), id, "$argon2id$placeholder")
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.acc.Invite(ctx, accounts.InviteRequest{Email: "tech@muster-it.example", Lang: "de", Role: "admin", By: access.Operator()})
	if !errors.Is(err, accounts.ErrRoleDiffers) {
		t.Fatalf("got %v, want ErrRoleDiffers", err)
	}
	sent, err := e.acc.Invite(ctx, accounts.InviteRequest{Email: "tech@muster-it.example", Lang: "de", Role: "technician", By: access.Operator()})
	if err != nil || sent.Result != accounts.AlreadyMember || e.outbox(t) != 0 {
		t.Fatalf("same role: %+v %v", sent, err)
	}
}

// A customer may not create organisations; a bad name or slug names the field; a taken slug is a kind of
// its own.
func TestCreateOrg(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	customer := access.Person{ID: 7, Orgs: map[int64]string{1: access.Manager}}
	if _, err := e.acc.CreateOrg(ctx, customer, "Kunde GmbH", "", db.AuditEntry{}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("customer: %v", err)
	}
	var bad accounts.Invalid
	if _, err := e.acc.CreateOrg(ctx, access.Operator(), "a\u202eb", "", db.AuditEntry{}); !errors.As(err, &bad) ||
		bad["name"] != "staff.error.org_name_invalid" || bad["slug"] != "" {
		t.Fatalf("bidi override in the name: %v", err)
	}
	if _, err := e.acc.CreateOrg(ctx, access.Operator(), "Kunde GmbH", "-x-", db.AuditEntry{}); !errors.As(err, &bad) ||
		bad["slug"] != "staff.error.slug_invalid" {
		t.Fatalf("bad slug: %v", err)
	}
	o, err := e.acc.CreateOrg(ctx, access.Operator(), " Müller & Söhne ", "", db.AuditEntry{})
	if err != nil || o.Slug != "mueller-soehne" || o.Name != "Müller & Söhne" {
		t.Fatalf("create: %+v %v", o, err)
	}
	if _, err := e.acc.CreateOrg(ctx, access.Operator(), "Other", "Mueller-Soehne", db.AuditEntry{}); !errors.Is(err, accounts.ErrSlugTaken) {
		t.Fatalf("taken: %v", err)
	}
}
