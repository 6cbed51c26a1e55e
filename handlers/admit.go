package handlers

import (
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v5"
)

// Page work goes through one gate (package admit): a few requests at a time, the others waiting in the
// order they came, so that under a burst every page waits about as long as the next instead of a few
// waiting far longer than the rest.
//
// gateSlots is two per core the process may use: one request computing while another waits on a page
// from disk or writes its answer to the network. gateMaxWait is how long a page may wait for its turn
// before the answer is "busy, try again" (503 with Retry-After): well under the server's write timeout,
// and far above what a request waits on a machine that is merely loaded.
func gateSlots() int { return 2 * runtime.GOMAXPROCS(0) }

const gateMaxWait = 10 * time.Second

// unqueued are the routes that never wait at the gate: answers that cost next to nothing (health checks,
// static files, the MSP's logo) must not queue behind pages, and requests whose time goes to the network
// rather than the processor (file uploads, whose bodies arrive as fast as the sender sends; attachment
// downloads, streamed at the reader's pace) must not hold a place that a page could use.
var unqueued = map[string]bool{
	"/healthz":                     true,
	"/readyz":                      true,
	"/static/:name":                true,
	"/msp-logo/:name":              true,
	attachmentRoute + "/:aid":      true,
	attachmentRoute + "/:aid/view": true,
}

// admitted holds each request that is not unqueued at the gate until its turn, and gives the place back
// when the answer is written. Of an upload route only the sending skips it (a POST); its form page is a
// page.
func (s *Server) admitted(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if unqueued[c.Path()] || uploadRoutes[c.Path()] && c.Request().Method == http.MethodPost {
			return next(c)
		}
		r := c.Request()
		ctx, leave, err := s.gate.Enter(r.Context())
		if err != nil {
			return err
		}
		defer leave()
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}
