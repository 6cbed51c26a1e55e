package docsapp

import (
	"context"
	"reflect"
	"testing"

	"portier/docs"
)

// The history compares each version with the one before once, here: changed fields in the area's order
// (the name too), the staff-only mark last, and secrets only as set, changed or removed, with the
// versions that hold each side.
func TestHistoryComparesVersions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	id := f.add(t, f.a.ID, "passwords", "Firewall", map[string]string{"username": "admin"}, map[string]string{"password": "Alt-123!"}, false)
	edit := func(version int, in Input) {
		t.Helper()
		in.Version = version
		if err := f.svc.Update(ctx, staff, docs.Passwords, id, in); err != nil {
			t.Fatal(err)
		}
	}
	// v2: name and user changed, the password changed, staff-only.
	edit(1, Input{Values: map[string]string{"name": "Firewall HQ", "username": "root", "password": "Neu-456!"}, StaffOnly: true})
	// v3: only the password removed.
	edit(2, Input{Values: map[string]string{"name": "Firewall HQ", "username": "root"}, Clear: map[string]bool{"password": true}, StaffOnly: true})
	h, err := f.svc.History(ctx, staff, docs.Passwords, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 3 {
		t.Fatalf("%d versions", len(h.Entries))
	}
	v3, v2, v1 := h.Entries[0], h.Entries[1], h.Entries[2]
	if v1.Prev != nil || len(v1.Changes) != 0 || !reflect.DeepEqual(v1.Secrets, []SecretChange{{Field: "password", State: SecretSet, Version: v1.ID}}) {
		t.Fatalf("first version: %+v", v1)
	}
	want := []Change{{Field: "name", Old: "Firewall", New: "Firewall HQ"}, {Field: "username", Old: "admin", New: "root"}, {Field: StaffOnlyChange, Old: "", New: "1"}}
	if !reflect.DeepEqual(v2.Changes, want) || v2.Prev == nil || v2.Prev.ID != v1.ID {
		t.Fatalf("second version: %+v", v2.Changes)
	}
	if !reflect.DeepEqual(v2.Secrets, []SecretChange{{Field: "password", State: SecretChanged, Version: v2.ID, PrevVer: v1.ID}}) {
		t.Fatalf("second version's secrets: %+v", v2.Secrets)
	}
	if len(v3.Changes) != 0 || !reflect.DeepEqual(v3.Secrets, []SecretChange{{Field: "password", State: SecretRemoved, PrevVer: v2.ID}}) {
		t.Fatalf("third version: %+v %+v", v3.Changes, v3.Secrets)
	}
	if _, err := f.svc.History(ctx, f.customer(f.a, "manager"), docs.Passwords, id); err == nil {
		t.Fatal("a customer reads the history")
	}
}
