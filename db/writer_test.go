package db

import (
	"context"
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
