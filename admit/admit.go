// Package admit lets a fixed number of requests do their work at once and keeps the rest waiting in the
// order they came.
//
// Without it, every request that arrives starts at once: under a burst the Go scheduler, the database
// pool (database/sql wakes a random waiter when a connection frees up) and the single writer pick among
// dozens of half-done requests in no particular order, so most finish quickly and a few wait far longer
// than the rest. With a Gate in front, at most Slots requests run, each with the cores and connections it
// needs, and the others wait in a first-come queue: the same work, done in arrival order, with a tail close
// to the median.
//
// Work that waits on something other than the processor (a password hashing slot, a group commit of the
// audit log) steps outside the gate with Outside, so that a slow wait never holds a slot that a page
// render could use. Coming back, it goes ahead of requests that have not started yet: a request that has
// begun finishes first.
package admit

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBusy is returned by Enter when a request waited MaxWait without getting a slot.
var ErrBusy = errors.New("admit: too busy")

// Gate admits at most a fixed number of holders at once. The zero value is not usable; call New.
type Gate struct {
	mu      sync.Mutex
	free    int
	fresh   *list.List // of *waiter: requests not started yet, first come first
	resumed *list.List // of *waiter: requests coming back from Outside, served before fresh ones
	maxWait time.Duration
}

type waiter struct {
	ready chan struct{}
	in    *list.List // the list the waiter is queued in; nil once granted
	elem  *list.Element
}

// New returns a gate with slots places. maxWait bounds the wait of a fresh request (0: no bound); a
// request that waits longer gets ErrBusy, so a flood is answered with "try again" instead of growing
// the queue without end.
func New(slots int, maxWait time.Duration) *Gate {
	if slots < 1 {
		slots = 1
	}
	return &Gate{free: slots, fresh: list.New(), resumed: list.New(), maxWait: maxWait}
}

// Waiting reports how many requests wait for a slot.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fresh.Len() + g.resumed.Len()
}

type ticketKey struct{}

// ticket is what a request holds between Enter and its leave: whether it holds a slot right now.
type ticket struct {
	g    *Gate
	mu   sync.Mutex
	held bool
	done bool // leave ran: the request is over, and whatever still runs with its context takes no slot
}

// Enter waits for a slot in arrival order. It returns a context that carries the slot (for Outside) and
// the function that gives it back, to be called once when the request is done.
func (g *Gate) Enter(ctx context.Context) (context.Context, func(), error) {
	wctx := ctx
	if g.maxWait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeoutCause(ctx, g.maxWait, ErrBusy)
		defer cancel()
	}
	if err := g.acquire(wctx, false); err != nil {
		if ctx.Err() == nil {
			return ctx, func() {}, ErrBusy
		}
		return ctx, func() {}, err
	}
	t := &ticket{g: g, held: true}
	leave := func() {
		t.mu.Lock()
		held := t.held
		t.held, t.done = false, true
		t.mu.Unlock()
		if held {
			g.release()
		}
	}
	return context.WithValue(ctx, ticketKey{}, t), leave, nil
}

// Outside runs f without holding ctx's slot, if it holds one: the slot goes to the next request while f
// waits, and is taken back (ahead of requests not yet started) when f returns. Without a slot in ctx it
// just runs f. If ctx ends while coming back, the request goes on without a slot (it is over anyway).
func Outside(ctx context.Context, f func()) {
	t, _ := ctx.Value(ticketKey{}).(*ticket)
	if t == nil {
		f()
		return
	}
	t.mu.Lock()
	held := t.held
	t.held = false
	t.mu.Unlock()
	if !held {
		f()
		return
	}
	t.g.release()
	defer func() {
		// Not after leave: work that outlived its request (with context.WithoutCancel, say) would take a
		// slot that nobody gives back.
		t.mu.Lock()
		done := t.done
		t.mu.Unlock()
		if done || t.g.acquire(ctx, true) != nil {
			return
		}
		t.mu.Lock()
		done = t.done
		t.held = !done
		t.mu.Unlock()
		if done {
			t.g.release()
		}
	}()
	f()
}

func (g *Gate) acquire(ctx context.Context, resumed bool) error {
	g.mu.Lock()
	if g.free > 0 && g.fresh.Len() == 0 && g.resumed.Len() == 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	if err := ctx.Err(); err != nil {
		g.mu.Unlock()
		return err
	}
	w := &waiter{ready: make(chan struct{}), in: g.fresh}
	if resumed {
		w.in = g.resumed
	}
	w.elem = w.in.PushBack(w)
	g.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		if w.in != nil { // still queued: leave the queue
			w.in.Remove(w.elem)
			g.mu.Unlock()
			return context.Cause(ctx)
		}
		g.mu.Unlock()
		// Granted while giving up: pass the slot on.
		g.release()
		return context.Cause(ctx)
	}
}

func (g *Gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, q := range [...]*list.List{g.resumed, g.fresh} {
		if e := q.Front(); e != nil {
			w := q.Remove(e).(*waiter)
			w.in = nil
			close(w.ready)
			return
		}
	}
	g.free++
}
