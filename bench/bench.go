// Package bench measures a running Portier: a data-set generator (generate.go) and a load generator
// (this file). Everything is plain Go: an HTTP client with keep-alive, a fixed duration per scenario, N
// concurrent workers, every latency kept and sorted for exact percentiles.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one scenario's figures.
type Result struct {
	Name     string  `json:"name"`
	Key      string  `json:"key,omitempty"` // the scenario's key as for --only
	Clients  int     `json:"clients"`
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	Maxms    float64 `json:"max_ms"`
	// TailRatio is p99 ÷ p50: how much longer the slowest percent waits than the typical request.
	TailRatio float64 `json:"p99_over_p50"`
	// Ratio is RPS divided by the /healthz rate of the same run (0 when not set).
	Ratio     float64 `json:"ratio_to_healthz,omitempty"`
	FirstErr  string  `json:"first_error,omitempty"`
	PacedRate float64 `json:"paced_rate,omitempty"` // requests per second asked for (paced scenarios)
	// Generator is how the load was made: RunLoop's epoll loop (or its fallback), or net/http.
	Generator string `json:"load_generator,omitempty"`

	// Filled in by the caller that knows the server process (zero when it does not, e.g. in-process).
	ServerCPUms float64 `json:"server_cpu_ms,omitempty"` // user + system CPU time of the server during the scenario
	// ServerCPUmsPerReq is ServerCPUms ÷ Requests; left out where another scenario ran at the same time.
	ServerCPUmsPerReq float64  `json:"server_cpu_ms_per_request,omitempty"`
	LoadCPUms         float64  `json:"load_generator_cpu_ms,omitempty"` // the same for the bench process itself
	PeakRSSMB         float64  `json:"server_peak_rss_mb,omitempty"`    // the server's VmHWM at the end of the scenario
	GC                *GCStats `json:"gc,omitempty"`                    // with --gctrace
}

// Stats turns latencies into a Result.
func Stats(name string, clients int, elapsed time.Duration, lat []time.Duration, errs int, firstErr error) Result {
	slices.Sort(lat)
	r := Result{Name: name, Clients: clients, Seconds: elapsed.Seconds(), Requests: len(lat), Errors: errs}
	if elapsed > 0 {
		r.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	if len(lat) > 0 {
		r.P50ms, r.P95ms, r.P99ms = ms(Percentile(lat, 50)), ms(Percentile(lat, 95)), ms(Percentile(lat, 99))
		r.Maxms = ms(lat[len(lat)-1])
		r.TailRatio = TailRatio(r.P50ms, r.P99ms)
	}
	if firstErr != nil {
		r.FirstErr = firstErr.Error()
	}
	return r
}

// TailRatio is p99 ÷ p50, rounded to two places (0 without a median).
func TailRatio(p50, p99 float64) float64 {
	if p50 <= 0 {
		return 0
	}
	return math.Round(100*p99/p50) / 100
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Percentile returns the p-th percentile of sorted latencies (nearest rank).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// Op is one request (or a sequence counted as one, such as a full sign-in) made by worker w.
type Op func(ctx context.Context, w int) error

// Run calls op from clients workers as fast as each can, for d, and measures every call. Requests under
// way at the end are finished (and counted), not cut off: a cut-off request would show up on the server as
// a client that went away.
func Run(ctx context.Context, name string, clients int, d time.Duration, op Op) Result {
	lats := make([][]time.Duration, clients)
	var errs atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(end) {
				t0 := time.Now()
				err := op(ctx, w)
				lats[w] = append(lats[w], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Stats(name, clients, elapsed, slices.Concat(lats...), int(errs.Load()), loadErr(&firstErr))
	r.Generator = netHTTPGenerator
	return r
}

// RunPaced calls op at a fixed total rate (requests per second) spread over clients workers, for d. A
// latency counts from the moment the request was due, not from when a worker got round to it, so a
// server that falls behind shows it (no coordinated omission).
func RunPaced(ctx context.Context, name string, clients int, rate float64, d time.Duration, op Op) Result {
	lats := make([][]time.Duration, clients)
	var errs atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	interval := time.Duration(float64(time.Second) * float64(clients) / rate)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			due := start.Add(time.Duration(float64(time.Second) * float64(w) / rate))
			for due.Before(end) {
				if wait := time.Until(due); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
				err := op(ctx, w)
				lats[w] = append(lats[w], time.Since(due))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
				due = due.Add(interval)
			}
		}()
	}
	wg.Wait()
	r := Stats(name, clients, time.Since(start), slices.Concat(lats...), int(errs.Load()), loadErr(&firstErr))
	r.PacedRate, r.Generator = rate, netHTTPGenerator
	return r
}

const netHTTPGenerator = "net/http, a goroutine per client"

func loadErr(p *atomic.Pointer[error]) error {
	if e := p.Load(); e != nil {
		return *e
	}
	return nil
}

// Transport is a keep-alive transport for n concurrent clients of one host.
func Transport(n int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        n * 2,
		MaxIdleConnsPerHost: n * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// Client is one browser: its own cookie jar, redirects not followed (the caller checks them).
func Client(tr http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// StatusError is an unexpected answer.
type StatusError struct {
	Method, Path string
	Status       int
	Want         int
	Location     string
	Body         string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: status %d, want %d", e.Method, e.Path, e.Status, e.Want)
	if e.Location != "" {
		s += " (to " + e.Location + ")"
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Do sends one request and reads the whole body (so the connection is reused). It fails unless the
// status is want; for want 303 it returns the Location.
func Do(ctx context.Context, c *http.Client, method, url string, form string, want int) (string, error) {
	return do(ctx, c, method, url, form, want, true)
}

// Hit is Do for a measured request: the body is read to its end and thrown away. Keeping it would cost
// the load generator, which shares the machine with the server, an allocation of twice the page per
// request (io.ReadAll's growing buffer and the string), and so take processor time from the server in
// proportion to the page's size: a 50-row list page, which is large, lost more of it than /healthz.
// A body shorter than its Content-Length is still an error (net/http reports it while reading).
func Hit(ctx context.Context, c *http.Client, method, url string, form string, want int) error {
	_, err := do(ctx, c, method, url, form, want, false)
	return err
}

func do(ctx context.Context, c *http.Client, method, url string, form string, want int, keep bool) (string, error) {
	var body io.Reader
	if form != "" || method == http.MethodPost {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.8")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	var b []byte
	if keep || resp.StatusCode != want {
		b, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != want {
		snippet := ""
		if resp.StatusCode >= 400 {
			snippet = strings.Join(strings.Fields(string(b)), " ")
			if len(snippet) > 200 {
				snippet = snippet[:200]
			}
		}
		return "", &StatusError{Method: method, Path: req.URL.Path, Status: resp.StatusCode, Want: want,
			Location: resp.Header.Get("Location"), Body: snippet}
	}
	if want == http.StatusSeeOther {
		return resp.Header.Get("Location"), nil
	}
	if !keep {
		return "", nil
	}
	return string(b), nil
}

// ErrReplay is returned when no fresh one-time code is available for a person in this time step.
var ErrReplay = errors.New("no unused one-time code step for this person")
