package db

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
)

func TestDocsLifecycleScopeAndSecrets(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	by := DocActor{Name: "Tech"}
	marker := "MARKER-wlan-Schluessel-8472"
	id, err := d.DocCreate(ctx, s, DocChange{OrgID: a.ID, Area: "wireless", Name: "Büro-WLAN",
		Fields: map[string]string{"security": "wpa2", "notes": "Im Flur"}, Secrets: map[string]string{"key": marker}}, by, nil)
	if err != nil {
		t.Fatal(err)
	}
	staff, cust := DocScope{OrgID: a.ID, StaffView: true}, DocScope{OrgID: a.ID}
	other := DocScope{OrgID: b.ID, StaffView: true}
	it, err := d.DocGet(ctx, cust, "wireless", id)
	if err != nil || it.Name != "Büro-WLAN" || !it.Secrets["key"] || it.Fields["security"] != "wpa2" {
		t.Fatalf("get: %+v %v", it, err)
	}
	if _, err := d.DocGet(ctx, other, "wireless", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other org sees item: %v", err)
	}
	if _, err := d.DocGet(ctx, cust, "vpn", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wrong area: %v", err)
	}
	if v, err := d.DocSecret(ctx, s, cust, "wireless", id, "key"); err != nil || v != marker {
		t.Fatalf("secret: %q %v", v, err)
	}
	if _, err := d.DocSecret(ctx, s, other, "wireless", id, "key"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other org reveals: %v", err)
	}
	// Update with the right version works; a stale version conflicts.
	ch := DocChange{OrgID: a.ID, Area: "wireless", Name: "Büro-WLAN", Fields: map[string]string{"security": "wpa3"},
		StaffOnly: true, Secrets: map[string]string{"key": "neu-" + marker}, Version: 1}
	if err := d.DocUpdate(ctx, s, id, ch, by, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocUpdate(ctx, s, id, ch, by, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	ch.OrgID = b.ID
	ch.Version = 2
	if err := d.DocUpdate(ctx, s, id, ch, by, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update through another org: %v", err)
	}
	// Staff-only now: gone for customers, in lists, counts and search too.
	if _, err := d.DocGet(ctx, cust, "wireless", id); !errors.Is(err, ErrNotFound) {
		t.Fatal("staff-only item visible to customer")
	}
	if n, _ := d.DocCounts(ctx, cust); n["wireless"] != 0 {
		t.Fatal("staff-only item counted for customer")
	}
	if items, _ := d.DocSearch(ctx, cust, false, "buro", 10); len(items) != 0 {
		t.Fatal("staff-only item found by customer search")
	}
	if items, _ := d.DocSearch(ctx, staff, false, "buro", 10); len(items) != 1 {
		t.Fatal("staff search misses item (diacritics?)")
	}
	if items, _ := d.DocSearch(ctx, other, false, "buro", 10); len(items) != 0 {
		t.Fatal("search crosses organisations")
	}
	if items, _ := d.DocSearch(ctx, other, true, "flur", 10); len(items) != 0 {
		t.Fatal("old notes still indexed")
	}
	// History keeps the earlier secret, sealed to its version.
	hist, err := d.DocHistory(ctx, staff, id)
	if err != nil || len(hist) != 2 || hist[1].Version != 1 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if v, err := d.DocVersionSecret(ctx, s, staff, id, hist[1].ID, "key"); err != nil || v != marker {
		t.Fatalf("old secret: %q %v", v, err)
	}
	// Delete and restore.
	if err := d.DocSetDeleted(ctx, s, a.ID, id, true, by, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DocGet(ctx, staff, "wireless", id); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted item still there")
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, id, false, by, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DocGet(ctx, staff, "wireless", id); err != nil {
		t.Fatal("restore failed")
	}
	// The marker is nowhere in the database files in the clear.
	d.W.Exec("PRAGMA wal_checkpoint(PASSIVE)")
	for _, p := range []string{d.Path, d.Path + "-wal"} {
		raw, _ := os.ReadFile(p)
		if bytes.Contains(raw, []byte(marker)) {
			t.Fatalf("%s contains the secret in the clear", p)
		}
	}
	// A flipped byte gives ErrSealBroken.
	d.W.Exec(`UPDATE doc_secrets SET sealed = CAST(substr(sealed, 1, 20) || X'00' || substr(sealed, 22) AS BLOB) WHERE item_id = ?`, id)
	if _, err := d.DocSecret(ctx, s, staff, "wireless", id, "key"); !errors.Is(err, ErrSealBroken) {
		t.Fatalf("tampered secret: %v", err)
	}
}

func TestDocListFiltersSortsPages(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	o, _ := d.CreateOrg(ctx, "Alpha", "alpha")
	for i, k := range []string{"server", "laptop", "server", "printer"} {
		if _, err := d.DocCreate(ctx, s, DocChange{OrgID: o.ID, Area: "configurations", Name: string(rune('D'-i)) + "-gerät",
			Fields: map[string]string{"kind": k}}, DocActor{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	sc := DocScope{OrgID: o.ID}
	items, total, err := d.DocList(ctx, DocQuery{DocScope: sc, Area: "configurations", Filters: map[string]string{"kind": "server"}})
	if err != nil || total != 2 || len(items) != 2 {
		t.Fatalf("filter: %d %v", total, err)
	}
	items, total, _ = d.DocList(ctx, DocQuery{DocScope: sc, Area: "configurations", Limit: 3, Offset: 3})
	if total != 4 || len(items) != 1 || items[0].Name != "D-gerät" {
		t.Fatalf("page 2: %d %d %v", total, len(items), items)
	}
	items, _, _ = d.DocList(ctx, DocQuery{DocScope: sc, Area: "configurations", Sort: "kind", Desc: true})
	if items[0].Fields["kind"] != "server" || items[3].Fields["kind"] != "laptop" {
		t.Fatalf("sort by kind desc: %v %v", items[0].Fields, items[3].Fields)
	}
	for _, q := range []string{`"`, `*`, `NEAR(`, `a OR`, `)(`, "\x00", `'`} {
		if _, _, err := d.DocList(ctx, DocQuery{DocScope: sc, Area: "configurations", Search: q}); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
}
