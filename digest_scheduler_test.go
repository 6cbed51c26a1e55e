package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type countingSender struct {
	mu    sync.Mutex
	calls int
	fail  bool
}

func (c *countingSender) SendExpiryDigests(context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail {
		return 0, errors.New("disk full")
	}
	return 2, nil
}

func (c *countingSender) n() int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls }

// The scheduler asks again and again, logs what it queued and what failed, keeps going after a failure,
// and stops when told (waiting for a round under way).
func TestDigestSchedulerRunsUntilStopped(t *testing.T) {
	var logBuf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logBuf.Write(p) }), nil))
	s := &countingSender{fail: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runDigests(ctx, s, logger, time.Millisecond, 5*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.n() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	s.fail = false
	s.mu.Unlock()
	for s.n() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if s.n() < 5 {
		t.Fatalf("%d rounds", s.n())
	}
	mu.Lock()
	out := logBuf.String()
	mu.Unlock()
	if !strings.Contains(out, "expiry digests failed") || !strings.Contains(out, "expiry digests queued") {
		t.Errorf("log:\n%s", out)
	}
	after := s.n()
	time.Sleep(30 * time.Millisecond)
	if s.n() != after {
		t.Error("rounds after stop")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
