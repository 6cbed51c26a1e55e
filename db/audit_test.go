package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// A reveal is logged once per person, item and field within the window, also when requests come at once;
// item 1 is not item 17 (the target prefix), another field or a later time is a new entry.
func TestAuditOnceDeduplicates(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	kim, lou := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")
	reveal := func(actor, item int64, field string) AuditEntry {
		return AuditEntry{ActorID: actor, ActorName: "x", Action: "docs.reveal", Target: fmt.Sprintf("%d:NAS", item), Field: field}
	}
	if won := race(t, 8, func(int) (bool, error) { return d.AuditOnce(ctx, reveal(kim, 17, "password"), 17, time.Minute) }); won != 1 {
		t.Fatalf("%d entries for one reveal", won)
	}
	for name, c := range map[string]struct {
		e    AuditEntry
		item int64
		want bool
	}{
		"same again":     {reveal(kim, 17, "password"), 17, false},
		"item 1":         {reveal(kim, 1, "password"), 1, true},
		"another field":  {reveal(kim, 17, "totp"), 17, true},
		"another person": {reveal(lou, 17, "password"), 17, true},
	} {
		if ok, err := d.AuditOnce(ctx, c.e, c.item, time.Minute); ok != c.want || err != nil {
			t.Errorf("%s: wrote=%v %v", name, ok, err)
		}
	}
	later := time.Now().Add(2 * time.Minute)
	d.Now = func() time.Time { return later }
	if ok, _ := d.AuditOnce(ctx, reveal(kim, 17, "password"), 17, time.Minute); !ok {
		t.Fatal("a reveal after the window was not logged")
	}
}

// The audit list keeps to an organisation, hides staff-only entries from customers, matches an action as
// a prefix (with _ and % taken literally) or whole, and pages newest first without gaps or repeats; an
// entry written in a transaction that fails is not there.
func TestAuditListScopesFiltersAndPages(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	for _, e := range []AuditEntry{
		{OrgID: a.ID, Action: "docs.reveal", Target: "1:NAS"},
		{OrgID: a.ID, Action: "docs.reveal_old", Target: "1:NAS"},
		{OrgID: a.ID, Action: "docs.view", Target: "2:Hidden", StaffOnly: true},
		{OrgID: b.ID, Action: "docs.reveal", Target: "3:Beta"},
		{Action: "login.ok"},
		{Action: "loginXok"},
	} {
		if err := d.Audit(ctx, nil, e); err != nil {
			t.Fatal(err)
		}
	}
	failed := errors.New("rolled back")
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		d.Audit(ctx, tx, AuditEntry{OrgID: a.ID, Action: "docs.delete", Target: "9:Gone"})
		return failed
	}); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	actions := func(f AuditFilter) []string {
		t.Helper()
		l, err := d.AuditList(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range l {
			out = append(out, e.Action)
		}
		return out
	}
	for name, c := range map[string]struct {
		f    AuditFilter
		want string
	}{
		"alpha for staff":    {AuditFilter{OrgID: a.ID}, "[docs.view docs.reveal_old docs.reveal]"},
		"alpha for customer": {AuditFilter{OrgID: a.ID, CustomerView: true}, "[docs.reveal_old docs.reveal]"},
		"exact action":       {AuditFilter{Action: "docs.reveal", ActionExact: true}, "[docs.reveal docs.reveal]"},
		"prefix":             {AuditFilter{OrgID: a.ID, Action: "docs.reveal"}, "[docs.reveal_old docs.reveal]"},
		"underscore literal": {AuditFilter{Action: "login_"}, "[]"},
		"percent literal":    {AuditFilter{Action: "%"}, "[]"},
	} {
		if got := fmt.Sprint(actions(c.f)); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
	all, _ := d.AuditList(ctx, AuditFilter{})
	if len(all) != 6 || all[0].Action != "loginXok" || all[5].OrgName != "Alpha GmbH" {
		t.Fatalf("all: %d entries, first %q", len(all), all[0].Action)
	}
	// An entry reads back as staff-only exactly when it was written so (tests judge entries by it).
	for _, e := range all {
		if e.StaffOnly != (e.Action == "docs.view") {
			t.Errorf("%s read back with StaffOnly %v", e.Action, e.StaffOnly)
		}
	}
	var paged []int64
	for before := int64(0); ; {
		page, _ := d.AuditList(ctx, AuditFilter{Limit: 4, Before: before})
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			paged = append(paged, e.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(paged) != 6 || paged[0] != all[0].ID || paged[5] != all[5].ID {
		t.Fatalf("paging gave %v", paged)
	}
}

// Parallel reveals of the same secret by the same person leave one entry, whichever batch of the group
// commit they land in; reveals of different items each leave theirs; and every call returns only after
// its batch is committed (the entry is readable from another connection when the call returns).
func TestParallelAuditOnceLeavesOneEntryPerPersonItemAndField(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	var wrote atomic.Int32
	var wg sync.WaitGroup
	for i := range 120 {
		wg.Go(func() {
			item := int64(1 + i%3) // three items, 40 requests each
			e := AuditEntry{ActorID: 7, ActorName: "Eva", Action: "docs.reveal", Target: fmt.Sprintf("%d:Router", item), Field: "password"}
			ok, err := d.AuditOnce(ctx, e, item, 5*time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				wrote.Add(1)
				// Committed before returning: another connection sees it.
				var n int
				if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit WHERE target = ?`, e.Target).Scan(&n); err != nil || n != 1 {
					t.Errorf("right after AuditOnce returned: %d entries for %s (err %v), want 1", n, e.Target, err)
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit WHERE action = 'docs.reveal'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 || wrote.Load() != 3 {
		t.Fatalf("%d entries, %d calls reported writing; want 3 and 3", n, wrote.Load())
	}
	// Another field of the same item, and the same field after the window, are new entries.
	if ok, err := d.AuditOnce(ctx, AuditEntry{ActorID: 7, Action: "docs.reveal", Target: "1:Router", Field: "pin"}, 1, 5*time.Minute); err != nil || !ok {
		t.Fatalf("another field: wrote %v, err %v", ok, err)
	}
	if ok, err := d.AuditOnce(ctx, AuditEntry{At: time.Now().Add(6 * time.Minute), ActorID: 7, Action: "docs.reveal", Target: "1:Router", Field: "password"}, 1, 5*time.Minute); err != nil || !ok {
		t.Fatalf("after the window: wrote %v, err %v", ok, err)
	}
}

// When the batch's transaction fails, every request in it gets the error: a reveal then shows nothing.
func TestAuditOnceReportsAFailedCommitToEveryRequest(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	if _, err := d.W.ExecContext(ctx, `CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`); err != nil {
		t.Fatal(err)
	}
	var failed atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			_, err := d.AuditOnce(ctx, AuditEntry{ActorID: int64(i), Action: "docs.view", Target: "1:Router"}, 1, time.Minute)
			if err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 30 {
		t.Fatalf("%d of 30 requests saw the failure", failed.Load())
	}
	if d.auditOnce.busy || len(d.auditOnce.pending) != 0 {
		t.Fatal("the group commit is stuck after a failure")
	}
}

// A panic while a batch commits (a bug in the driver, say) neither leaves the group commit stuck, so
// that every later view and reveal would wait forever, nor lets the batch's other requests return as if
// nothing had gone wrong: they get an error (a reveal then shows nothing), and the next requests lead.
func TestAPanicInTheGroupCommitFailsItsBatchAndLeavesNothingStuck(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	var calls atomic.Int32
	entered, proceed := make(chan struct{}), make(chan struct{})
	d.SetOutside(func(_ context.Context, f func()) {
		switch calls.Add(1) {
		case 1: // the first batch holds the writer while the next requests queue up
			close(entered)
			<-proceed
		case 2: // the second batch panics
			panic("driver bug")
		}
		f()
	})
	call := func(actor int64) (panicked bool, err error) {
		defer func() { panicked = recover() != nil }()
		_, err = d.AuditOnce(ctx, AuditEntry{ActorID: actor, Action: "docs.reveal", Target: "1:Router", Field: "password"}, 1, time.Minute)
		return false, err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if p, err := call(1); p || err != nil {
			t.Errorf("the first batch: panicked %v, err %v", p, err)
		}
	})
	<-entered
	var panics, failures atomic.Int32
	for actor := range int64(3) {
		wg.Go(func() {
			p, err := call(10 + actor)
			if p {
				panics.Add(1)
			} else if err != nil {
				failures.Add(1)
			}
		})
	}
	for {
		d.auditOnce.mu.Lock()
		n := len(d.auditOnce.pending)
		d.auditOnce.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(proceed)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("requests of the batch that panicked never returned")
	}
	if panics.Load() != 1 || failures.Load() != 2 {
		t.Fatalf("%d panics and %d errors in the batch, want 1 and 2 (no request may pass as audited)", panics.Load(), failures.Load())
	}
	next := make(chan error, 1)
	go func() { _, err := call(99); next <- err }()
	select {
	case err := <-next:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the group commit is stuck after a panic")
	}
}

// Whatever a client sends as its user agent (bytes that are no UTF-8, a NUL, far too much) is stored as
// valid text of at most 300 bytes, cut between characters, and never fails the other entries of its
// batch.
func TestAuditUserAgentsAreCutAsTextAndFailNoBatch(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	agents := []string{strings.Repeat("a", 299) + "ä and more", "bad \xff\xfe bytes", "nul \x00 inside", strings.Repeat("€", 5000), "Mozilla/5.0"}
	var wg sync.WaitGroup
	for i, ua := range agents {
		wg.Go(func() {
			e := AuditEntry{ActorID: int64(i + 1), Action: "docs.reveal", Target: "1:Router", Field: "password", UserAgent: ua}
			if ok, err := d.AuditOnce(ctx, e, 1, time.Minute); err != nil || !ok {
				t.Errorf("agent %d: wrote %v, err %v", i, ok, err)
			}
		})
	}
	wg.Wait()
	if err := d.Audit(ctx, nil, AuditEntry{Action: "login.failed", UserAgent: strings.Repeat("b", 299) + "ö"}); err != nil {
		t.Fatal(err)
	}
	list, err := d.AuditList(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(agents)+1 {
		t.Fatalf("%d entries, want %d", len(list), len(agents)+1)
	}
	for _, e := range list {
		if !utf8.ValidString(e.UserAgent) || len(e.UserAgent) > 300 {
			t.Fatalf("stored user agent %q (%d bytes): not valid text of at most 300 bytes", e.UserAgent, len(e.UserAgent))
		}
	}
}
