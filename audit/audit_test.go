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

// twoOrgs opens a database in a temporary folder with two organisations, and the log on it.
func twoOrgs(t *testing.T) (*audit.Log, *db.Org, *db.Org) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	var orgs [2]*db.Org
	for i, slug := range []string{"kunde", "andere"} {
		if orgs[i], err = d.CreateOrg(ctx, slug+" GmbH", slug); err != nil {
			t.Fatal(err)
		}
	}
	return audit.New(d, nil), orgs[0], orgs[1]
}

func TestReadPagesAndHidesWhatCustomersMustNotSee(t *testing.T) {
	ctx := context.Background()
	log, o, other := twoOrgs(t)
	for i := range audit.PageSize + 5 {
		log.Record(ctx, db.AuditEntry{OrgID: o.ID, Action: "docs.update", Target: strconv.Itoa(i)})
	}
	log.Record(ctx, db.AuditEntry{OrgID: o.ID, Action: "docs.update", Target: "staff only", StaffOnly: true})
	log.Record(ctx, db.AuditEntry{OrgID: other.ID, Action: "docs.update", Target: "elsewhere"})

	staff := access.Person{ID: 1, StaffRole: access.Admin}
	customer := access.Person{ID: 2, Orgs: map[int64]string{o.ID: access.Manager}}
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

// Who reads which log is decided by Read itself (access.ReadsAudit), not only by the routes in front of it:
// every viewer × the organisation's log, another organisation's and every organisation's.
func TestReadRefusesWhoeverTheLogIsNotFor(t *testing.T) {
	ctx := context.Background()
	log, a, b := twoOrgs(t)
	log.Record(ctx, db.AuditEntry{OrgID: a.ID, Action: "docs.update", Target: "in A"})
	log.Record(ctx, db.AuditEntry{OrgID: b.ID, Action: "docs.update", Target: "in B"})

	viewers := map[string]access.Person{
		"admin":           {ID: 1, StaffRole: access.Admin},
		"technician":      {ID: 2, StaffRole: access.Technician},
		"operator":        access.Operator(),
		"manager of A":    {ID: 3, Orgs: map[int64]string{a.ID: access.Manager}},
		"viewer of A":     {ID: 4, Orgs: map[int64]string{a.ID: access.Viewer}},
		"manager of B":    {ID: 5, Orgs: map[int64]string{b.ID: access.Manager}},
		"manager of both": {ID: 6, Orgs: map[int64]string{a.ID: access.Manager, b.ID: access.Manager}},
		"nobody's":        {ID: 7},
	}
	// want[viewer] = {reads A, reads every organisation}
	want := map[string][2]bool{
		"admin": {true, true}, "technician": {true, false}, "operator": {true, true},
		"manager of A": {true, false}, "viewer of A": {false, false}, "manager of B": {false, false},
		"manager of both": {true, false}, "nobody's": {false, false},
	}
	for name, v := range viewers {
		for i, orgID := range []int64{a.ID, 0} {
			page, err := log.Read(ctx, v, audit.Query{OrgID: orgID})
			if !want[name][i] {
				if !errors.Is(err, access.ErrNotFound) || len(page.Entries) != 0 {
					t.Errorf("%s reading log %d: %d entries, %v; want refused", name, orgID, len(page.Entries), err)
				}
				continue
			}
			if err != nil || len(page.Entries) == 0 {
				t.Errorf("%s reading log %d: %d entries, %v", name, orgID, len(page.Entries), err)
			}
			for _, e := range page.Entries {
				if orgID != 0 && e.OrgID != orgID {
					t.Errorf("%s reading log %d sees %+v", name, orgID, e)
				}
			}
		}
	}
}
