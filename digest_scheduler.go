package main

import (
	"context"
	"log/slog"
	"time"
)

// digestSender is what the scheduler needs of the documentation (docsapp.Service): send every weekly
// expiry digest that is due.
type digestSender interface {
	SendExpiryDigests(ctx context.Context) (int, error)
}

// digestCheck is how often the scheduler asks whether a digest is due. Each organisation's digest goes
// out a week after its last one; checking hourly spreads them over the day they fall due, and a restart
// loses nothing (the last sending time is in the database).
var digestCheck = time.Hour

// firstDigestDelay keeps the first round out of the way of start-up; a variable so tests can shorten it.
var firstDigestDelay = time.Minute

// startDigests runs the weekly expiry digests until the returned function is called; it waits for a
// round under way to finish.
func startDigests(s digestSender, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runDigests(ctx, s, logger, firstDigestDelay, digestCheck)
	}()
	return func() { cancel(); <-done }
}

func runDigests(ctx context.Context, s digestSender, logger *slog.Logger, first, every time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.SendExpiryDigests(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			logger.Error("expiry digests failed", "err", err)
		} else if n > 0 {
			logger.Info("expiry digests queued", "mails", n)
		}
		t.Reset(every)
	}
}
