package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

// mailStuckAfter is how old the oldest queued mail may be before the portal counts as not ready: the mail
// worker retries with backoff, so a queue this old means mail is not getting out (server down, wrong
// password) and invitations and resets are silently waiting.
const mailStuckAfter = 15 * time.Minute

// ReplicaState is one replication target as /readyz and doctor report it.
type ReplicaState struct {
	N       int    // position in PORTIER_REPLICA_URL; the URL itself is not shown to the public
	Scheme  string // file, sftp or s3
	Lag     time.Duration
	Down    time.Duration // how long the target has not answered; 0 when it does
	OK      bool
	Problem string
}

// readyz answers 200 when the portal can do its work: the database takes a write (the write lock within a
// few seconds, a row written and rolled back), the mail queue is moving, and every replication target has
// the changes older than the lag limit. 503 with the reason otherwise. Plain text for load balancers and
// monitoring; no details beyond the reason (targets are named by number and kind, never by URL).
func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := s.db.CheckWritable(ctx); err != nil {
		s.log.Error("readyz: database not writable", "err", err)
		return c.String(http.StatusServiceUnavailable, "database not writable\n")
	}
	queued, _, _, oldest, err := s.db.OutboxStats(ctx)
	if err != nil {
		s.log.Error("readyz: mail queue", "err", err)
		return c.String(http.StatusServiceUnavailable, "database not readable\n")
	}
	if queued > 0 && oldest >= mailStuckAfter {
		return c.String(http.StatusServiceUnavailable, fmt.Sprintf("mail queue stuck: %d queued, oldest %s\n", queued, oldest.Round(time.Minute)))
	}
	if s.cfg.Replicas == nil {
		return c.String(http.StatusOK, "ok\n")
	}
	status, head, lines := http.StatusOK, "ok\n", ""
	for _, r := range s.cfg.Replicas() {
		line := fmt.Sprintf("replica %d (%s): lag %s", r.N, r.Scheme, r.Lag.Round(100*time.Millisecond))
		if !r.OK {
			status, head = http.StatusServiceUnavailable, "replication behind\n"
			line += ", " + r.Problem
		}
		lines += line + "\n"
	}
	return c.String(status, head+lines)
}
