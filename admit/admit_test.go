package admit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitQueued waits until n requests wait at the gate.
func waitQueued(t *testing.T, g *Gate, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Waiting() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting, want %d", g.Waiting(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestParallelRequestsNeverExceedTheSlots(t *testing.T) {
	g := New(3, 0)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			_, leave, err := g.Enter(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(50 * time.Microsecond)
			running.Add(-1)
			leave()
		})
	}
	wg.Wait()
	if most.Load() > 3 {
		t.Fatalf("%d ran at once, want at most 3", most.Load())
	}
	if most.Load() < 2 {
		t.Fatalf("at most %d ran at once: the gate serialises more than it should", most.Load())
	}
	if g.Waiting() != 0 || g.free != 3 {
		t.Fatalf("after the burst: %d waiting, %d free, want 0 and 3", g.Waiting(), g.free)
	}
}

func TestRequestsAreAdmittedInArrivalOrder(t *testing.T) {
	g := New(1, 0)
	_, leave, _ := g.Enter(context.Background())
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, l, err := g.Enter(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			l()
		})
		waitQueued(t, g, i+1) // the next one arrives after this one queued
	}
	leave()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("admitted in order %v, want 0..19", order)
		}
	}
}

func TestOutsideFreesTheSlotAndComesBackFirst(t *testing.T) {
	g := New(1, 0)
	ctx, leave, _ := g.Enter(context.Background())

	waitDone := make(chan struct{})
	back := make(chan struct{})
	go func() {
		Outside(ctx, func() { <-waitDone }) // e.g. waiting for a hashing slot
		close(back)
	}()

	// While the holder waits outside, a fresh request gets the slot.
	ctx2, leave2, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A third request queues behind it; then the first comes back and must be served before the third.
	third := make(chan struct{})
	go func() {
		_, l, _ := g.Enter(context.Background())
		close(third)
		l()
	}()
	waitQueued(t, g, 1)
	close(waitDone)
	waitQueued(t, g, 2)
	leave2()
	_ = ctx2
	<-back
	select {
	case <-third:
		t.Fatal("a request that had not started went ahead of one coming back")
	case <-time.After(20 * time.Millisecond):
	}
	leave()
	<-third
}

func TestOutsideWithoutASlotJustRuns(t *testing.T) {
	ran := false
	Outside(context.Background(), func() { ran = true })
	if !ran {
		t.Fatal("f did not run")
	}
}

func TestAWaitLongerThanMaxWaitIsBusy(t *testing.T) {
	g := New(1, 20*time.Millisecond)
	_, leave, _ := g.Enter(context.Background())
	defer leave()
	_, _, err := g.Enter(context.Background())
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if g.Waiting() != 0 {
		t.Fatalf("%d still waiting after giving up", g.Waiting())
	}
}

func TestACancelledWaiterLeavesTheQueue(t *testing.T) {
	g := New(1, 0)
	_, leave, _ := g.Enter(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := g.Enter(ctx)
		done <- err
	}()
	waitQueued(t, g, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	leave()
	// The slot is free again: nobody holds it.
	_, l, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	l()
}

// Cancellations racing grants must never lose a slot: after many such races every slot is free again.
func TestParallelCancellationsLoseNoSlot(t *testing.T) {
	g := New(2, 0)
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*50*time.Microsecond)
			defer cancel()
			c, leave, err := g.Enter(ctx)
			if err != nil {
				return
			}
			Outside(c, func() { time.Sleep(20 * time.Microsecond) })
			leave()
			leave() // twice is harmless
		})
	}
	wg.Wait()
	if g.free != 2 || g.Waiting() != 0 {
		t.Fatalf("after the races: %d free, %d waiting; want 2 and 0", g.free, g.Waiting())
	}
}

// Work that outlives its request (a goroutine given the request's context without its cancellation, as
// context.WithoutCancel does) and comes back from Outside after the request gave its place back must not
// take a place again: nobody would ever give it back, and after a few such the gate would be shut.
func TestOutsideAfterLeaveTakesNoPlace(t *testing.T) {
	g := New(1, 0)
	ctx, leave, _ := g.Enter(context.Background())
	inside, back := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		Outside(context.WithoutCancel(ctx), func() { close(inside); <-back })
		close(done)
	}()
	<-inside
	leave() // the request is over
	close(back)
	<-done
	wctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, leave2, err := g.Enter(wctx)
	if err != nil {
		t.Fatalf("the only place is gone: %v", err)
	}
	leave2()
}
