package db

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"testing"
	"time"
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
	// A changed byte gives ErrSealBroken. (Changed, not set: setting it to 0 changed nothing when it was 0
	// already, once in 256 runs.)
	d.W.Exec(`UPDATE doc_secrets SET sealed = CAST(substr(sealed, 1, 20) || CASE WHEN substr(sealed, 21, 1) = X'00' THEN X'01' ELSE X'00' END
		|| substr(sealed, 22) AS BLOB) WHERE item_id = ?`, id)
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

// Searches stay inside the organisation (the index's org column), never show staff-only items to
// customers, and put items whose name matches before those matching elsewhere.
func TestDocSearchScopeAndOrder(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	s, _ := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	mk := func(org int64, name, notes string, staffOnly bool) int64 {
		id, err := d.DocCreate(ctx, s, DocChange{OrgID: org, Area: "configurations", Name: name,
			Fields: map[string]string{"kind": "server", "notes": notes}, StaffOnly: staffOnly}, DocActor{Name: "T"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	inNotes := mk(a.ID, "Aaa Switch", "steht neben dem Drucker", false)
	inName := mk(a.ID, "Zentraler Drucker", "", false)
	hidden := mk(a.ID, "Drucker-Admin", "", true)
	mk(b.ID, "Drucker Beta", "", false)
	ids := func(items []*DocItem) []int64 {
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	got, err := d.DocSearch(ctx, DocScope{OrgID: a.ID}, false, "druck", 50)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []int64{inName, inNotes}) {
		t.Fatalf("customer search: %v, want name match %d first, then %d", ids(got), inName, inNotes)
	}
	got, _ = d.DocSearch(ctx, DocScope{OrgID: a.ID, StaffView: true}, false, "Drücker", 50)
	if !slices.Equal(ids(got), []int64{hidden, inName, inNotes}) {
		t.Fatalf("staff search: %v", ids(got))
	}
	if got[0].OrgSlug != "alpha" || got[0].Area != "configurations" || got[0].Name != "Drucker-Admin" || !got[0].StaffOnly {
		t.Fatalf("result carries %+v", got[0])
	}
	got, _ = d.DocSearch(ctx, DocScope{StaffView: true}, true, "drucker", 50)
	if len(got) != 4 {
		t.Fatalf("search across organisations: %d results", len(got))
	}
	// The org token is not searchable as a word.
	if got, _ := d.DocSearch(ctx, DocScope{OrgID: a.ID, StaffView: true}, false, "o1", 50); len(got) != 0 {
		t.Fatalf("the organisation column matched a typed word: %v", ids(got))
	}
	// A restored item is found again, in its organisation only.
	if err := d.DocSetDeleted(ctx, s, a.ID, inName, true, DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, inName, false, DocActor{Name: "T"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.DocSearch(ctx, DocScope{OrgID: b.ID}, false, "zentral", 50); len(got) != 0 {
		t.Fatal("restored item found in another organisation")
	}
	if got, _ := d.DocSearch(ctx, DocScope{OrgID: a.ID}, false, "zentral", 50); len(got) != 1 {
		t.Fatal("restored item not found")
	}
}

func TestDecodeFieldsAgreesWithEncodingJSON(t *testing.T) {
	for _, m := range []map[string]string{
		{}, {"a": ""}, {"kind": "server", "ip": "10.0.0.1, 10.0.0.2", "notes": "Zeile 1\nZeile 2 \"zitiert\" <b>&"},
		{"name": "Müller – Büro 2.14", "x:y": "{\"nested\":1}", "tab": "a\tb", "slash": `a\b/c`},
	} {
		b, _ := json.Marshal(m)
		got, err := decodeFields(string(b))
		if err != nil || !maps.Equal(got, m) {
			t.Errorf("%s: %v %v", b, got, err)
		}
	}
	for _, bad := range []string{"", "{", `{"a"}`, `{"a":1}`, `{"a":"b",}`, `["a"]`} {
		if _, err := decodeFields(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Whitespace (not what json.Marshal writes) still reads right through the slow path.
	if got, err := decodeFields(`{ "a" : "b" }`); err != nil || got["a"] != "b" {
		t.Errorf("spaced object: %v %v", got, err)
	}
}

// RecentEntry finds an entry of exactly this item (not 55 for 5), of this person and action, within the
// window only.
func TestRecentEntryMatchesTheItemOnly(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	now := d.Now()
	for _, e := range []AuditEntry{
		{ActorID: 1, Action: "docs.reveal", Target: "55:passwords:NAS (Password)"},
		{ActorID: 1, Action: "docs.view", Target: "5:passwords:NAS"},
		{ActorID: 2, Action: "docs.reveal", Target: "5:passwords:NAS (Password)"},
		{ActorID: 1, Action: "docs.reveal", Target: "50:passwords:X"},
	} {
		if err := d.Audit(ctx, nil, e); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := d.RecentEntry(ctx, 1, 5, "docs.reveal", "", false, 5*time.Minute); err != nil || ok {
		t.Fatalf("item 5 found through another item, action or person: %v %v", ok, err)
	}
	for _, c := range []struct {
		actor, item int64
		action      string
	}{{1, 55, "docs.reveal"}, {1, 5, "docs.view"}, {2, 5, "docs.reveal"}, {1, 50, "docs.reveal"}} {
		if ok, err := d.RecentEntry(ctx, c.actor, c.item, c.action, "", false, 5*time.Minute); err != nil || !ok {
			t.Fatalf("%+v not found: %v", c, err)
		}
	}
	d.Now = func() time.Time { return now.Add(6 * time.Minute) }
	if ok, _ := d.RecentEntry(ctx, 1, 55, "docs.reveal", "", false, 5*time.Minute); ok {
		t.Fatal("an entry older than the window counted")
	}
}

// A reveal of one field does not hide a later reveal of another field of the same item.
func TestRecentEntryIsPerField(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if err := d.Audit(ctx, nil, AuditEntry{ActorID: 1, Action: "docs.reveal", Target: "7:passwords:M365 (Password)", Field: "password"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.RecentEntry(ctx, 1, 7, "docs.reveal", "password", false, 5*time.Minute); err != nil || !ok {
		t.Fatalf("same field not found: %v %v", ok, err)
	}
	if ok, err := d.RecentEntry(ctx, 1, 7, "docs.reveal", "totp", false, 5*time.Minute); err != nil || ok {
		t.Fatalf("another field counted as already revealed: %v %v", ok, err)
	}
}

// An entry hidden from the customer's access log (written while the item was staff-only) covers only
// requests about a staff-only item: once the item is visible, the next look or reveal is written, both by
// the read (RecentEntry) and by the insert (AuditOnce). A visible entry covers both.
func TestAStaffOnlyEntryCoversOnlyStaffOnlyRequests(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	hidden := AuditEntry{ActorID: 1, Action: "docs.view", Target: "7:passwords:M365", StaffOnly: true}
	if wrote, err := d.AuditOnce(ctx, hidden, 7, 5*time.Minute); err != nil || !wrote {
		t.Fatalf("first look: %v %v", wrote, err)
	}
	if ok, err := d.RecentEntry(ctx, 1, 7, "docs.view", "", true, 5*time.Minute); err != nil || !ok {
		t.Fatalf("a staff-only look not covered by the staff-only entry: %v %v", ok, err)
	}
	if ok, err := d.RecentEntry(ctx, 1, 7, "docs.view", "", false, 5*time.Minute); err != nil || ok {
		t.Fatalf("a look the customer sees covered by a hidden entry: %v %v", ok, err)
	}
	visible := hidden
	visible.StaffOnly = false
	if wrote, err := d.AuditOnce(ctx, visible, 7, 5*time.Minute); err != nil || !wrote {
		t.Fatalf("look after the item became visible not written: %v %v", wrote, err)
	}
	for _, e := range []AuditEntry{visible, hidden} {
		if wrote, err := d.AuditOnce(ctx, e, 7, 5*time.Minute); err != nil || wrote {
			t.Fatalf("staff-only %v: written again though a visible entry covers it: %v %v", e.StaffOnly, wrote, err)
		}
	}
}

// docsFixture is two organisations and a sealer for the documentation tests below.
func docsFixture(t *testing.T) (*DB, *Sealer, *Org, *Org) {
	t.Helper()
	d := openTemp(t)
	ctx := context.Background()
	s, err := NewSealer(bytes.Repeat([]byte{3}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.CreateOrg(ctx, "Beta AG", "beta")
	if err != nil {
		t.Fatal(err)
	}
	return d, s, a, b
}

func mustCreate(t *testing.T, d *DB, s *Sealer, ch DocChange) int64 {
	t.Helper()
	id, err := d.DocCreate(context.Background(), s, ch, DocActor{Name: "Tech"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// DocNames answers only for live items of the scope and area: another organisation's contact, a staff-only
// one for a customer, a deleted one and an item of another area are simply missing.
func TestDocNamesKeepsToTheScope(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	anna := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"})
	hidden := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Hidden", StaffOnly: true})
	gone := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Gone"})
	config := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "configurations", Name: "FW-01"})
	foreign := mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "contacts", Name: "Bernd"})
	if err := d.DocSetDeleted(ctx, s, a.ID, gone, true, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	ids := []int64{anna, hidden, gone, config, foreign, 999999}
	got, err := d.DocNames(ctx, DocScope{OrgID: a.ID}, "contacts", ids)
	if err != nil || len(got) != 1 || got[anna] != "Anna" {
		t.Fatalf("customer: %v %v", got, err)
	}
	got, err = d.DocNames(ctx, DocScope{OrgID: a.ID, StaffView: true}, "contacts", ids)
	if err != nil || len(got) != 2 || got[hidden] != "Hidden" {
		t.Fatalf("staff: %v %v", got, err)
	}
	if got, err := d.DocNames(ctx, DocScope{OrgID: a.ID}, "contacts", nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v %v", got, err)
	}
}

// DocAll is every live item of one organisation's area, staff-only ones included, by name without regard
// to case, then id: the list's default order.
func TestDocAllIsTheWholeAreaInListOrder(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	second := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "beta"})
	first := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "Alpha", StaffOnly: true})
	third := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "BETA"})
	gone := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "aaa"})
	mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"})
	mustCreate(t, d, s, DocChange{OrgID: b.ID, Area: "passwords", Name: "Other"})
	if err := d.DocSetDeleted(ctx, s, a.ID, gone, true, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	items, err := d.DocAll(ctx, a.ID, "passwords")
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, it := range items {
		got = append(got, it.ID)
	}
	if !slices.Equal(got, []int64{first, second, third}) {
		t.Fatalf("order %v, want %v", got, []int64{first, second, third})
	}
}

// A deleted item is found only as deleted, only in its organisation; deleting twice or restoring a live
// item is not found; each step is a version of its own.
func TestDocDeleteAndRestoreAreVersionsAndScoped(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	id := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna", Fields: map[string]string{"email": "anna@alpha.example"}})
	if _, err := d.DocGetDeleted(ctx, DocScope{OrgID: a.ID}, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("live item found as deleted: %v", err)
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, id, false, DocActor{}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore of a live item: %v", err)
	}
	if err := d.DocSetDeleted(ctx, s, b.ID, id, true, DocActor{}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete through another organisation: %v", err)
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, id, true, DocActor{Name: "Tech"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, id, true, DocActor{}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	it, err := d.DocGetDeleted(ctx, DocScope{OrgID: a.ID}, id)
	if err != nil || it.DeletedAt.IsZero() || it.Name != "Anna" {
		t.Fatalf("deleted item: %+v %v", it, err)
	}
	if _, err := d.DocGetDeleted(ctx, DocScope{OrgID: b.ID, StaffView: true}, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted item of another organisation: %v", err)
	}
	if items, _ := d.DocSearch(ctx, DocScope{OrgID: a.ID}, false, "anna", 10); len(items) != 0 {
		t.Fatal("a deleted item is still found by search")
	}
	if err := d.DocSetDeleted(ctx, s, a.ID, id, false, DocActor{Name: "Tech"}, nil); err != nil {
		t.Fatal(err)
	}
	if items, _ := d.DocSearch(ctx, DocScope{OrgID: a.ID}, false, "anna", 10); len(items) != 1 {
		t.Fatal("a restored item is not found by search")
	}
	hist, err := d.DocHistory(ctx, DocScope{OrgID: a.ID, StaffView: true}, id)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	for i, want := range []string{"restore", "delete", "create"} {
		if hist[i].Change != want || hist[i].Version != 3-i || hist[i].By != "Tech" {
			t.Fatalf("version %d: %+v, want %s", i, hist[i], want)
		}
	}
}

// History lists which secrets changed in each version and which held a value; another organisation sees
// none of it, neither the versions nor their secrets.
func TestDocHistorySecretsPerVersionAndScope(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	id := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "passwords", Name: "NAS", Secrets: map[string]string{"password": "eins"}})
	if err := d.DocUpdate(ctx, s, id, DocChange{OrgID: a.ID, Area: "passwords", Name: "NAS", Secrets: map[string]string{"totp": "JBSWY3DPEHPK3PXP"},
		Clear: []string{"password"}, Version: 1}, DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	staff := DocScope{OrgID: a.ID, StaffView: true}
	hist, err := d.DocHistory(ctx, staff, id)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %v", err)
	}
	if !slices.Equal(hist[0].Secrets, []string{"password", "totp"}) || !hist[0].HasSecret["totp"] || hist[0].HasSecret["password"] {
		t.Fatalf("version 2: changed %v, held %v", hist[0].Secrets, hist[0].HasSecret)
	}
	if !slices.Equal(hist[1].Secrets, []string{"password"}) || !hist[1].HasSecret["password"] {
		t.Fatalf("version 1: changed %v, held %v", hist[1].Secrets, hist[1].HasSecret)
	}
	if v, err := d.DocVersionSecret(ctx, s, staff, id, hist[1].ID, "password"); err != nil || v != "eins" {
		t.Fatalf("old password: %q %v", v, err)
	}
	if _, err := d.DocVersionSecret(ctx, s, staff, id, hist[0].ID, "password"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cleared password in version 2: %v", err)
	}
	other := DocScope{OrgID: b.ID, StaffView: true}
	if hist, err := d.DocHistory(ctx, other, id); err != nil || len(hist) != 0 {
		t.Fatalf("history through another organisation: %d %v", len(hist), err)
	}
	if _, err := d.DocVersionSecret(ctx, s, other, id, hist[1].ID, "password"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old secret through another organisation: %v", err)
	}
}

// A write whose hook fails (its audit entry) leaves nothing behind; an import is all lines or none.
func TestDocWritesAreAllOrNothing(t *testing.T) {
	d, s, a, _ := docsFixture(t)
	ctx := context.Background()
	fail := errors.New("audit failed")
	if _, err := d.DocCreate(ctx, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Anna"}, DocActor{},
		func(*sql.Tx, int64) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("create: %v", err)
	}
	chs := []DocChange{
		{OrgID: a.ID, Area: "contacts", Name: "Eins"},
		{OrgID: a.ID, Area: "passwords", Name: "Zwei", Secrets: map[string]string{"password": "x"}},
	}
	if err := d.DocCreateMany(ctx, s, chs, DocActor{}, func(*sql.Tx) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("import: %v", err)
	}
	chs = append(chs, DocChange{OrgID: 987654, Area: "contacts", Name: "No such organisation"})
	if err := d.DocCreateMany(ctx, s, chs, DocActor{}, nil); err == nil {
		t.Fatal("an import with an impossible line was stored")
	}
	id := mustCreate(t, d, s, DocChange{OrgID: a.ID, Area: "contacts", Name: "Bleibt"})
	if err := d.DocUpdate(ctx, s, id, DocChange{OrgID: a.ID, Area: "contacts", Name: "Geändert", Version: 1}, DocActor{},
		func(*sql.Tx) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("update: %v", err)
	}
	var items, versions, secrets int
	d.R.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM doc_items), (SELECT count(*) FROM doc_versions), (SELECT count(*) FROM doc_secrets)`).
		Scan(&items, &versions, &secrets)
	if items != 1 || versions != 1 || secrets != 0 {
		t.Fatalf("left behind: %d items, %d versions, %d secrets", items, versions, secrets)
	}
	if it, _ := d.DocGet(ctx, DocScope{OrgID: a.ID}, "contacts", id); it.Name != "Bleibt" || it.Version != 1 {
		t.Fatalf("failed update changed the item: %+v", it)
	}
	if err := d.DocCreateMany(ctx, s, chs[:2], DocActor{}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.DocCounts(ctx, DocScope{OrgID: a.ID}); n["contacts"] != 2 || n["passwords"] != 1 {
		t.Fatalf("counts after the import: %v", n)
	}
}

// Whatever is typed into a search becomes a query without FTS5 syntax, at most ten prefix terms.
func TestFTSQueryHasNoSyntax(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"Büro wlan":                  `"Büro"* "wlan"*`,
		`a" OR b*`:                   `"a"* "OR"* "b"*`,
		"NEAR(x y) -- ; '":           `"NEAR"* "x"* "y"*`,
		"anna@alpha.example":         `"anna@alpha.example"*`,
		"1 2 3 4 5 6 7 8 9 10 11 12": `"1"* "2"* "3"* "4"* "5"* "6"* "7"* "8"* "9"* "10"*`,
	} {
		if got := FTSQuery(in); got != want {
			t.Errorf("FTSQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
