package db

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"
)

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

// The terms stay in memory only until a new version is published.
func TestCurrentTermsFollowsPublish(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	t1, err := d.CurrentTerms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t1.TextEN = "changed by the caller"
	again, _ := d.CurrentTerms(ctx)
	if again.TextEN == "changed by the caller" {
		t.Fatal("callers share the cached terms")
	}
	v, err := d.PublishTerms(ctx, "Neu", "New", 0)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := d.CurrentTerms(ctx)
	if err != nil || t2.Version != v || v != t1.Version+1 || t2.TextEN != "New" {
		t.Fatalf("after publishing %d: %+v %v", v, t2, err)
	}
}

// RecentReveal finds an entry of exactly this item (not 55 for 5), of this person and action, within the
// window only.
func TestRecentRevealMatchesTheItemOnly(t *testing.T) {
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
	if ok, err := d.RecentReveal(ctx, 1, 5, "docs.reveal", "", 5*time.Minute); err != nil || ok {
		t.Fatalf("item 5 found through another item, action or person: %v %v", ok, err)
	}
	for _, c := range []struct {
		actor, item int64
		action      string
	}{{1, 55, "docs.reveal"}, {1, 5, "docs.view"}, {2, 5, "docs.reveal"}, {1, 50, "docs.reveal"}} {
		if ok, err := d.RecentReveal(ctx, c.actor, c.item, c.action, "", 5*time.Minute); err != nil || !ok {
			t.Fatalf("%+v not found: %v", c, err)
		}
	}
	d.Now = func() time.Time { return now.Add(6 * time.Minute) }
	if ok, _ := d.RecentReveal(ctx, 1, 55, "docs.reveal", "", 5*time.Minute); ok {
		t.Fatal("an entry older than the window counted")
	}
}

// A reveal of one field does not hide a later reveal of another field of the same item.
func TestRecentRevealIsPerField(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if err := d.Audit(ctx, nil, AuditEntry{ActorID: 1, Action: "docs.reveal", Target: "7:passwords:M365 (Password)", Field: "password"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.RecentReveal(ctx, 1, 7, "docs.reveal", "password", 5*time.Minute); err != nil || !ok {
		t.Fatalf("same field not found: %v %v", ok, err)
	}
	if ok, err := d.RecentReveal(ctx, 1, 7, "docs.reveal", "totp", 5*time.Minute); err != nil || ok {
		t.Fatalf("another field counted as already revealed: %v %v", ok, err)
	}
}
