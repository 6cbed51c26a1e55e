package db

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"portier/admit"
)

// A request waiting for the writer (another commit holds it) gives its place at the page gate back
// meanwhile: with the only place taken by such a waiter, another request still gets in.
func TestWaitingForTheWriterHoldsNoPlaceAtTheGate(t *testing.T) {
	d, _ := openTest(t)
	d.SetOutside(admit.Outside)
	ctx := context.Background()
	busy, err := d.W.DB.BeginTx(ctx, nil) // the writer is taken
	if err != nil {
		t.Fatal(err)
	}
	g := admit.New(1, 0)
	held, leave, err := g.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer leave()
		if _, err := d.W.ExecContext(held, `INSERT INTO settings(key, value) VALUES ('x', 'y')`); err != nil {
			t.Error(err)
		}
	})
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, leave2, err := g.Enter(wctx)
	if err != nil {
		t.Fatalf("the gate's only place stayed with a request waiting for the writer: %v", err)
	}
	leave2()
	busy.Rollback()
	wg.Wait()
}

// A transaction never waits for a place at the gate while it holds the writer: if it did, once it had
// begun every other write (sign-ins outside the gate, the mail queue, uploads) would wait for some page
// to finish, and a page that took long would stall every write. The whole transaction runs outside.
func TestATransactionDoesNotHoldTheWriterWhileWaitingForAPlace(t *testing.T) {
	d, _ := openTest(t)
	d.SetOutside(admit.Outside)
	ctx := context.Background()
	g := admit.New(1, 0)
	mine, leave, err := g.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	other := make(chan func(), 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := d.Tx(mine, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('a', 'b')`)
			return err
		})
		if err != nil {
			t.Error(err)
		}
	})
	// While the transaction's request is outside, a page takes the place (and keeps it a while).
	wg.Go(func() {
		_, leave2, err := g.Enter(ctx)
		if err != nil {
			t.Error(err)
		}
		other <- leave2
	})
	leave2 := <-other
	defer leave2()
	time.Sleep(100 * time.Millisecond) // the transaction begins meanwhile
	done := make(chan error, 1)
	go func() {
		_, err := d.W.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('c', 'd')`)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		leave2()
		t.Fatal("a write waited for a page to give its place back: the transaction held the writer meanwhile")
	}
	leave2()
	wg.Wait()
}
