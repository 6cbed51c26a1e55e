package db

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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
