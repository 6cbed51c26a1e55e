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

// readyz answers 200 when the portal can do its work: the database takes a write (the write lock within a
// few seconds, a row written and rolled back) and the mail queue is moving. 503 with the reason otherwise.
// Plain text for load balancers and monitoring; no details beyond the reason.
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
	return c.String(http.StatusOK, "ok\n")
}
