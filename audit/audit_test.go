package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"portier/access"
	"portier/audit"
	"portier/db"
)

func TestReadPagesAndHidesWhatCustomersMustNotSee(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	o, err := d.CreateOrg(ctx, "Kunde GmbH", "kunde")
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.CreateOrg(ctx, "Andere GmbH", "andere")
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(d, nil)
	for i := range audit.PageSize + 5 {
		log.Record(ctx, db.AuditEntry{OrgID: o.ID, Action: "docs.update", Target: strconv.Itoa(i)})
	}
	log.Record(ctx, db.AuditEntry{OrgID: o.ID, Action: "docs.update", Target: "staff only", StaffOnly: true})
	log.Record(ctx, db.AuditEntry{OrgID: other.ID, Action: "docs.update", Target: "elsewhere"})

	staff := &db.User{ID: 1, StaffRole: access.Admin}
	customer := &db.User{ID: 2}
	first, err := log.Read(ctx, staff, audit.Query{OrgID: o.ID})
	if err != nil || len(first.Entries) != audit.PageSize || first.Older == 0 || first.Entries[0].Target != "staff only" {
		t.Fatalf("staff, first page: %d entries, older %d, %v", len(first.Entries), first.Older, err)
	}
	second, err := log.Read(ctx, staff, audit.Query{OrgID: o.ID, Before: first.Older})
	if err != nil || len(second.Entries) != 6 || second.Older != 0 {
		t.Fatalf("staff, second page: %d entries, older %d, %v", len(second.Entries), second.Older, err)
	}
	all, err := log.Read(ctx, staff, audit.Query{})
	if err != nil || all.Entries[0].Target != "elsewhere" {
		t.Fatalf("staff, every organisation: %v", err)
	}

	page, err := log.Read(ctx, customer, audit.Query{OrgID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		if e.StaffOnly || e.OrgID != o.ID {
			t.Fatalf("a customer sees %+v", e)
		}
	}
	if _, err := log.Read(ctx, customer, audit.Query{}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("a customer reading every organisation's log: %v", err)
	}
}
