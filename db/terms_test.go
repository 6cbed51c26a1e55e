package db

import (
	"context"
	"database/sql"
	"testing"
)

// Versions of the terms: parallel publications get distinct numbers, the newest is the current one at
// once (the cache follows), and a person's accepted version never goes back.
func TestTermsVersionsAndAcceptance(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	seeded, err := d.CurrentTerms(ctx)
	if err != nil || seeded.Version != 1 {
		t.Fatalf("the installation's first terms: %+v %v", seeded, err)
	}
	v1, err := d.PublishTerms(ctx, "Regeln 1", "Rules 1", 0)
	if err != nil || v1 != 2 {
		t.Fatalf("next version %d %v", v1, err)
	}
	if cur, _ := d.CurrentTerms(ctx); cur.Version != v1 || cur.Text("de") != "Regeln 1" || cur.Text("en") != "Rules 1" {
		t.Fatalf("current %+v", cur)
	}
	seen := make(chan int, 6)
	race(t, 6, func(int) (bool, error) {
		v, err := d.PublishTerms(ctx, "Regeln", "Rules", 0)
		seen <- v
		return err == nil, err
	})
	close(seen)
	got := map[int]bool{}
	for v := range seen {
		got[v] = true
	}
	for v := v1 + 1; v <= v1+6; v++ {
		if !got[v] {
			t.Fatalf("parallel publications got versions %v, want %d…%d", got, v1+1, v1+6)
		}
	}
	v8, _ := d.PublishTerms(ctx, "Neu", "New", 0)
	if cur, _ := d.CurrentTerms(ctx); cur.Version != v8 || cur.TextDE != "Neu" {
		t.Fatalf("the cache still shows version %d", cur.Version)
	}
	u := newUser(t, d, "kim@alpha.example")
	accept := func(v int) {
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return AcceptTerms(ctx, tx, d.Now(), u, v, "192.0.2.1") }); err != nil {
			t.Fatal(err)
		}
	}
	accept(v8)
	accept(v8)
	accept(v1)
	if usr, _ := d.UserByID(ctx, u); usr.TermsVersion != v8 {
		t.Fatalf("accepted version %d, want %d", usr.TermsVersion, v8)
	}
	var n int
	d.R.QueryRow(`SELECT count(*) FROM terms_acceptances WHERE user_id = ?`, u).Scan(&n)
	if n != 2 {
		t.Fatalf("%d acceptances recorded, want one per version", n)
	}
}
