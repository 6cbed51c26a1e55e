package docsapp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/i18n"
	"portier/testkit"
)

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture is the service on a temp SQLite file with two organisations.
type fixture struct {
	svc    *Service
	db     *db.DB
	sealer *db.Sealer
	clock  *clock
	a, b   *db.Org
	en     *i18n.Localizer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	// In the people's zone, so dates derived from it are the calendar days the service counts from
	// (testkit.Now); PORTIER_TEST_NOW starts it at another instant.
	ck := &clock{t: testkit.Now()}
	d.Now = ck.Now
	sealer, err := db.NewSealer(bytes.Repeat([]byte{42}, db.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: New(d, sealer, ck.Now, bundle, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil), db: d, sealer: sealer, clock: ck,
		en: bundle.For("en", "")}
	if f.a, err = d.CreateOrg(ctx, "Alpha GmbH", "alpha"); err != nil {
		t.Fatal(err)
	}
	if f.b, err = d.CreateOrg(ctx, "Beta AG", "beta"); err != nil {
		t.Fatal(err)
	}
	return f
}

// add stores an item directly.
func (f *fixture) add(t *testing.T, org int64, area, name string, fields, secrets map[string]string, staffOnly bool) int64 {
	t.Helper()
	id, err := f.db.DocCreate(context.Background(), f.sealer, db.DocChange{OrgID: org, Area: area, Name: name, Fields: fields,
		Secrets: secrets, StaffOnly: staffOnly}, db.DocActor{Name: "Setup"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// customer is a viewer of org; staff an MSP technician looking at org.
func (f *fixture) customer(org *db.Org, role string) *Viewer {
	return &Viewer{ID: 0, Name: "Vera Viewer", Org: org, Role: role, L: f.en}
}

func (f *fixture) staff(org *db.Org) *Viewer {
	return &Viewer{ID: 0, Name: "Toni Technik", Staff: true, Org: org, L: f.en}
}
