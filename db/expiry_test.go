package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"
)

// What expires next gathers the date fields of items, the expiries table and passwords reaching their
// maximum age, for one organisation or all, without staff-only entries for customers and without deleted
// items or unreadable dates.
func TestExpiryOverviewScope(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Europe/Berlin")
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "FW-01", Fields: map[string]string{"warranty_end": "2027-01-31"}})
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Kaputt", Fields: map[string]string{"warranty_end": "31.01.2027"}})
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Ohne"})
	gone := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "Weg", Fields: map[string]string{"warranty_end": "2027-02-01"}})
	d.DocSetDeleted(ctx, s, a.ID, gone, true, DocActor{}, nil)
	mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "configurations", Name: "Beta-FW", Fields: map[string]string{"warranty_end": "2027-03-01"}})
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "NAS", Secrets: map[string]string{"password": "x"}})
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "Ohne Passwort"})
	for _, e := range []Expiry{
		{OrgID: a.ID, Kind: "licence", Name: "M365", ExpiresOn: "2026-12-01"},
		{OrgID: a.ID, Kind: "contract", Name: "Wartung", ExpiresOn: "2026-12-02", StaffOnly: true},
		{OrgID: b.ID, Kind: "domain", Name: "beta.example", ExpiresOn: "2026-12-03"},
	} {
		if _, err := d.ExpiryCreate(ctx, e, nil); err != nil {
			t.Fatal(err)
		}
	}
	dates := []ExpiryDate{{Area: "configurations", Field: "warranty_end"}}
	names := func(sc ExpiryScope, maxAge time.Duration) []string {
		t.Helper()
		l, err := d.ExpiryOverview(ctx, sc, dates, maxAge, loc)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range l {
			out = append(out, e.Source+":"+e.Name)
			if e.Source == "warranty_end" && e.Name == "FW-01" && (e.Date.Format("2006-01-02") != "2027-01-31" || e.Date.Location() != loc) {
				t.Errorf("FW-01 ends %v", e.Date)
			}
		}
		sort.Strings(out)
		return out
	}
	if got := fmt.Sprint(names(ExpiryScope{OrgID: a.ID}, 0)); got != "[licence:M365 warranty_end:FW-01]" {
		t.Fatalf("customer of alpha: %s", got)
	}
	if got := fmt.Sprint(names(ExpiryScope{OrgID: a.ID, StaffView: true}, 90*24*time.Hour)); got != "[contract:Wartung licence:M365 password:NAS warranty_end:FW-01]" {
		t.Fatalf("staff in alpha: %s", got)
	}
	if got := names(ExpiryScope{StaffView: true}, 0); len(got) != 5 {
		t.Fatalf("staff over all: %v", got)
	}
	l, _ := d.ExpiryOverview(ctx, ExpiryScope{OrgID: a.ID}, nil, 90*24*time.Hour, loc)
	for _, e := range l {
		if e.Source == "password" && (e.Date.Sub(e.Changed) != 90*24*time.Hour || time.Since(e.Changed) > time.Minute) {
			t.Fatalf("password age: changed %v, due %v", e.Changed, e.Date)
		}
	}
}

// An entry is deleted only within its organisation, and a failing hook keeps it.
func TestExpiryDeleteScoped(t *testing.T) {
	d, _, a, b := docsFixture(t)
	ctx := context.Background()
	id, _ := d.ExpiryCreate(ctx, Expiry{OrgID: a.ID, Kind: "certificate", Name: "*.alpha.example", ExpiresOn: "2027-01-01"}, nil)
	if err := d.ExpiryDelete(ctx, b.ID, id, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted from another organisation: %v", err)
	}
	failed := errors.New("audit failed")
	if err := d.ExpiryDelete(ctx, a.ID, id, func(*sql.Tx, Expiry) error { return failed }); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	var got Expiry
	if err := d.ExpiryDelete(ctx, a.ID, id, func(_ *sql.Tx, e Expiry) error { got = e; return nil }); err != nil || got.Name != "*.alpha.example" {
		t.Fatalf("delete %v %+v", err, got)
	}
}

// The weekly digest goes out once however many schedulers claim it at the same moment; a failed send
// releases the claim, and a digest without recipients is never due.
func TestExpiryDigestClaimedOnce(t *testing.T) {
	d, _, a, b := docsFixture(t)
	ctx := context.Background()
	d.SetExpiryDigest(ctx, ExpiryDigest{OrgID: a.ID, Recipients: []string{"it@alpha.example", "chef@alpha.example"}, Lang: "en"}, nil)
	d.SetExpiryDigest(ctx, ExpiryDigest{OrgID: b.ID}, nil)
	week := time.Now().Add(-7 * 24 * time.Hour)
	due, err := d.DueExpiryDigests(ctx, week)
	if err != nil || len(due) != 1 || due[0].OrgID != a.ID || len(due[0].Recipients) != 2 || due[0].Lang != "en" {
		t.Fatalf("due %+v %v", due, err)
	}
	failed := errors.New("smtp down")
	if sent, err := d.ClaimExpiryDigest(ctx, due[0], func(*sql.Tx) error { return failed }); sent && !errors.Is(err, failed) {
		t.Fatalf("failed send: %v %v", sent, err)
	}
	if again, _ := d.DueExpiryDigests(ctx, week); len(again) != 1 {
		t.Fatal("a failed send kept the claim")
	}
	var sends atomic.Int32
	won := race(t, 6, func(int) (bool, error) {
		return d.ClaimExpiryDigest(ctx, due[0], func(*sql.Tx) error { sends.Add(1); return nil })
	})
	if won != 1 || sends.Load() != 1 {
		t.Fatalf("digest claimed %d times, sent %d times", won, sends.Load())
	}
	if again, _ := d.DueExpiryDigests(ctx, week); len(again) != 0 {
		t.Fatal("a sent digest is due again within the week")
	}
	dg, _ := d.ExpiryDigestOf(ctx, a.ID)
	if time.Since(dg.LastSent) > time.Minute {
		t.Fatalf("last sent %v", dg.LastSent)
	}
}
