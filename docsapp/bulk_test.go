package docsapp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
	"portier/docs"
)

// customerAudits are the entries of an action the organisation's customers read (audits: all of them).
func (f *fixture) customerAudits(t *testing.T, org int64, action string) []db.AuditEntry {
	t.Helper()
	es, err := f.db.AuditList(context.Background(), db.AuditFilter{OrgID: org, Action: action, ActionExact: true, CustomerView: true})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// Bulk actions are staff's: a customer's manager gets what a missing item gets, and nothing changes.
func TestBulkIsForStaff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.add(t, f.a.ID, "contacts", "Anna", nil, nil, false)
	mgr := f.customer(f.a, "manager")
	ids := []int64{id}
	_, e1 := f.svc.BulkStaffOnly(ctx, mgr, docs.Contacts, ids, true)
	_, e2 := f.svc.BulkDelete(ctx, mgr, docs.Contacts, ids)
	_, e3 := f.svc.BulkRestore(ctx, mgr, docs.Contacts, ids)
	_, e4 := f.svc.BulkLink(ctx, mgr, docs.Contacts, ids, id, "")
	_, e5 := f.svc.BulkExport(ctx, mgr, docs.Contacts, ids)
	e6 := f.svc.Link(ctx, mgr, id, id, "")
	for i, err := range []error{e1, e2, e3, e4, e5, e6, f.svc.BulkCheck(ctx, mgr, docs.Contacts, ids)} {
		if !errors.Is(err, ErrForbidden) || !errors.Is(err, ErrNotFound) {
			t.Fatalf("action %d by a customer: %v", i, err)
		}
	}
	if it, err := f.svc.Item(ctx, f.staff(f.a), docs.Contacts, id); err != nil || it.StaffOnly {
		t.Fatalf("the item changed: %v %+v", err, it)
	}
}

// One item of another organisation, of another area, or too many items: nothing of the request happens.
func TestBulkIsAllOrNone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	mine := f.add(t, f.a.ID, "contacts", "Anna", nil, nil, false)
	theirs := f.add(t, f.b.ID, "contacts", "Bernd", nil, nil, false)
	device := f.add(t, f.a.ID, "configurations", "Router", nil, nil, false)
	for _, other := range []int64{theirs, device} {
		ids := []int64{mine, other}
		if _, err := f.svc.BulkDelete(ctx, staff, docs.Contacts, ids); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete with item %d: %v", other, err)
		}
		if _, err := f.svc.BulkStaffOnly(ctx, staff, docs.Contacts, ids, true); !errors.Is(err, ErrNotFound) {
			t.Fatalf("staff-only with item %d: %v", other, err)
		}
		if _, err := f.svc.BulkExport(ctx, staff, docs.Contacts, ids); !errors.Is(err, ErrNotFound) {
			t.Fatalf("export with item %d: %v", other, err)
		}
	}
	many := make([]int64, MaxBulk+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if err := f.svc.BulkCheck(ctx, staff, docs.Contacts, many); !errors.Is(err, ErrInvalid) {
		t.Fatalf("%d items: %v", len(many), err)
	}
	if it, err := f.svc.Item(ctx, staff, docs.Contacts, mine); err != nil || it.StaffOnly {
		t.Fatalf("the organisation's own item changed: %v", err)
	}
	if es := f.audits(t, f.a.ID, "docs.delete"); len(es) != 0 {
		t.Fatalf("audited a refused deletion: %+v", es)
	}
}

// Marking staff-only changes (and audits) only the items that were not so already; the customer's log
// does not read the entries of what is now staff's.
func TestBulkStaffOnlyCountsWhatChanged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	a := f.add(t, f.a.ID, "contacts", "Anna", nil, nil, false)
	b := f.add(t, f.a.ID, "contacts", "Berta", nil, nil, true)
	n, err := f.svc.BulkStaffOnly(ctx, staff, docs.Contacts, []int64{a, b}, true)
	if err != nil || n != 1 {
		t.Fatalf("changed %d: %v", n, err)
	}
	es := f.audits(t, f.a.ID, "docs.update")
	if len(es) != 1 || es[0].Target != ItemTarget(a, "contacts", "", "Anna") || es[0].ActorName != staff.Name {
		t.Fatalf("audit: %+v", es)
	}
	if es := f.customerAudits(t, f.a.ID, "docs.update"); len(es) != 0 {
		t.Fatalf("the customer reads a staff-only change: %+v", es)
	}
	if n, err := f.svc.BulkStaffOnly(ctx, staff, docs.Contacts, []int64{a, b}, false); err != nil || n != 2 {
		t.Fatalf("back to the customer: %d %v", n, err)
	}
}

// A bulk deletion is undone within the window, leaving alone what came back on its own; after the window
// it is gone for good.
func TestBulkDeleteAndRestore(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	ids := []int64{f.add(t, f.a.ID, "contacts", "Anna", nil, nil, false), f.add(t, f.a.ID, "contacts", "Berta", nil, nil, false),
		f.add(t, f.a.ID, "contacts", "Carl", nil, nil, false)}
	if n, err := f.svc.BulkDelete(ctx, staff, docs.Contacts, ids); err != nil || n != 3 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	if _, err := f.svc.Item(ctx, staff, docs.Contacts, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a deleted item is still there: %v", err)
	}
	if es := f.audits(t, f.a.ID, "docs.delete"); len(es) != 3 {
		t.Fatalf("%d delete entries", len(es))
	}
	if _, err := f.svc.Restore(ctx, staff, docs.Contacts, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.BulkRestore(ctx, staff, docs.Configurations, ids); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restored through another area's list: %v", err)
	}
	if n, err := f.svc.BulkRestore(ctx, staff, docs.Contacts, ids); err != nil || n != 2 {
		t.Fatalf("restored %d: %v", n, err)
	}
	if es := f.audits(t, f.a.ID, "docs.restore"); len(es) != 3 {
		t.Fatalf("%d restore entries, want 3 (one single, two bulk)", len(es))
	}
	if _, err := f.svc.BulkRestore(ctx, staff, docs.Contacts, ids); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restored twice: %v", err)
	}
	if _, err := f.svc.BulkDelete(ctx, staff, docs.Contacts, ids); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(UndoWindow + time.Second)
	if _, err := f.svc.BulkRestore(ctx, staff, docs.Contacts, ids); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restored after the undo window: %v", err)
	}
}

// Two undos of the same deletion at once (two tabs): one restores the items, the other finds nothing to
// restore, and each item is restored (and audited) once.
func TestBulkRestoreInParallel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.add(t, f.a.ID, "contacts", "Person "+strconv.Itoa(i), nil, nil, false))
	}
	if _, err := f.svc.BulkDelete(ctx, staff, docs.Contacts, ids); err != nil {
		t.Fatal(err)
	}
	const tries = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	restored, refused := 0, 0
	for range tries {
		wg.Go(func() {
			n, err := f.svc.BulkRestore(ctx, staff, docs.Contacts, ids)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				restored += n
			case errors.Is(err, ErrNotFound):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if restored != len(ids) || refused != tries-1 {
		t.Fatalf("restored %d items, %d undos refused", restored, refused)
	}
	if es := f.audits(t, f.a.ID, "docs.restore"); len(es) != len(ids) {
		t.Fatalf("%d restore entries for %d items", len(es), len(ids))
	}
}

// Linking many items to one counts the new links; a pair linked already and the item itself are skipped.
func TestBulkLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	target := f.add(t, f.a.ID, "configurations", "Firewall", nil, nil, false)
	a := f.add(t, f.a.ID, "configurations", "Router", nil, nil, false)
	b := f.add(t, f.a.ID, "configurations", "Switch", nil, nil, false)
	if err := f.svc.Link(ctx, staff, a, target, "uplink"); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.BulkLink(ctx, staff, docs.Configurations, []int64{a, b, target}, target, "")
	if err != nil || n != 1 {
		t.Fatalf("linked %d: %v", n, err)
	}
	es := f.audits(t, f.a.ID, "docs.link")
	if len(es) != 2 || !strings.Contains(es[0].Target, LinkSep) {
		t.Fatalf("link entries: %+v", es)
	}
	theirs := f.add(t, f.b.ID, "configurations", "Fremd", nil, nil, false)
	if _, err := f.svc.BulkLink(ctx, staff, docs.Configurations, []int64{b}, theirs, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("linked to another organisation's item: %v", err)
	}
}

// The export of ticked items holds no secret, names the contacts, and is counted in the customer's log
// only for what the customer may see.
func TestBulkExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	fields := map[string]string{"username": "admin"}
	a := f.add(t, f.a.ID, "passwords", "Firewall", fields, map[string]string{"password": "Geheim-123!"}, false)
	b := f.add(t, f.a.ID, "passwords", "Backup", fields, map[string]string{"password": "Geheim-456!"}, true)
	data, err := f.svc.BulkExport(ctx, staff, docs.Passwords, []int64{a, b})
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	if strings.Contains(out, "Geheim") || !strings.HasPrefix(out, docs.CSVBOM) || !strings.Contains(out, "Firewall") || !strings.Contains(out, "Backup") {
		t.Fatalf("export:\n%s", out)
	}
	customer := f.customerAudits(t, f.a.ID, "docs.export")
	all := f.audits(t, f.a.ID, "docs.export")
	if len(customer) != 1 || customer[0].Target != "passwords: 1" || len(all) != 2 {
		t.Fatalf("export entries: customer %+v, all %+v", customer, all)
	}
	contact := f.add(t, f.a.ID, "contacts", "Anna Admin", nil, nil, false)
	device := f.add(t, f.a.ID, "configurations", "Router", map[string]string{"kind": "firewall", "contact": strconv.FormatInt(contact, 10)}, nil, false)
	data, err = f.svc.BulkExport(ctx, staff, docs.Configurations, []int64{device})
	if err != nil || !strings.Contains(string(data), "Anna Admin") {
		t.Fatalf("the device's contact is not named (%v):\n%s", err, data)
	}
}

// A bulk link is all or none: when one pair cannot be written (a ticked item deleted by someone else
// between the check and the write, or any error of the database), no link of the request stays, no
// link is audited and nothing enters an item's history. Before, each pair was a transaction of its own:
// the pairs before the failing one stayed linked and audited while the person was told it had failed.
// A trigger in the test's database stands in for the colleague's deletion or the failing disk, landing
// once the first pair is written.
func TestBulkLinkIsAllOrNone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trigger string // %[1]d: the first ticked item, %[2]d: the last one
		want    error
	}{
		{"deleted meanwhile", `CREATE TRIGGER meanwhile AFTER INSERT ON doc_links WHEN %[1]d IN (NEW.a_id, NEW.b_id)
			BEGIN UPDATE doc_items SET deleted_at = unixepoch() WHERE id = %[2]d; END`, ErrNotFound},
		{"database error", `CREATE TRIGGER meanwhile BEFORE INSERT ON doc_links WHEN %[2]d IN (NEW.a_id, NEW.b_id)
			BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			staff := f.staff(f.a)
			target := f.add(t, f.a.ID, "contacts", "Anna", nil, nil, false)
			var ids []int64
			for _, name := range []string{"Router", "Switch", "Firewall"} {
				ids = append(ids, f.add(t, f.a.ID, "configurations", name, nil, nil, false))
			}
			if _, err := f.db.W.ExecContext(ctx, fmt.Sprintf(tc.trigger, ids[0], ids[len(ids)-1])); err != nil {
				t.Fatal(err)
			}
			n, err := f.svc.BulkLink(ctx, staff, docs.Configurations, ids, target, "Betreut von")
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("linked %d, error %v; want %v", n, err, tc.want)
			}
			var links, events int
			if err := f.db.R.QueryRow(`SELECT (SELECT count(*) FROM doc_links), (SELECT count(*) FROM doc_link_events)`).Scan(&links, &events); err != nil {
				t.Fatal(err)
			}
			if links != 0 || events != 0 {
				t.Fatalf("a failed bulk link left %d links and %d history entries (reported %d)", links, events, n)
			}
			if es := f.audits(t, f.a.ID, "docs.link"); len(es) != 0 {
				t.Fatalf("a failed bulk link is audited: %+v", es)
			}
		})
	}
}
