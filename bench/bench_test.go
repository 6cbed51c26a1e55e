package bench

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTOTPMatchesRFC6238(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, last six digits of the eight shown there.
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		if got := TOTP(secret, unix/30); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
}

func TestStepsNeverRepeat(t *testing.T) {
	var s Steps
	now := time.Unix(3000, 0)
	a, err1 := s.Next("x", now)
	b, err2 := s.Next("x", now)
	_, err3 := s.Next("x", now)
	if err1 != nil || err2 != nil || a == b || !errors.Is(err3, ErrReplay) {
		t.Fatalf("steps %d %d, errors %v %v %v", a, b, err1, err2, err3)
	}
	if c, err := s.Next("y", now); err != nil || c != a {
		t.Fatalf("another person: %d %v", c, err)
	}
}

func TestPercentileAndRun(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if p := Percentile(lat, 50); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := Percentile(lat, 99); p != 99*time.Millisecond {
		t.Errorf("p99 %v", p)
	}
	if p := Percentile(lat, 100); p != 100*time.Millisecond {
		t.Errorf("p100 %v", p)
	}
	r := Run(context.Background(), "sleep", 4, 200*time.Millisecond, func(context.Context, int) error {
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	if r.Requests < 40 || r.Requests > 100 || r.P50ms < 9 || r.Errors != 0 {
		t.Errorf("run: %+v", r)
	}
	p := RunPaced(context.Background(), "paced", 2, 100, 300*time.Millisecond, func(context.Context, int) error { return errors.New("x") })
	if p.Requests < 25 || p.Requests > 35 || p.Errors != p.Requests || p.FirstErr != "x" {
		t.Errorf("paced: %+v", p)
	}
}

func TestGenerateSmall(t *testing.T) {
	dir := t.TempDir()
	ds, err := Generate(context.Background(), dir, Spec{Orgs: 12, Items: 1200, People: 80, BigOrgs: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Items != 1200 || ds.Orgs != 12 || len(ds.People) != 75 || len(ds.Big) != 2 {
		t.Fatalf("data set: %d items, %d orgs, %d customers, %d big", ds.Items, ds.Orgs, len(ds.People), len(ds.Big))
	}
	for _, b := range ds.Big {
		// 300 items each: 35% configurations (one of them the connected item, kept out of the plain detail
		// page's list), and every big organisation has members who can sign in.
		if b.Counts["configurations"] != 105 || len(b.Members) != 20 || len(b.Configs) != 104 || len(b.Passwords) == 0 || b.Connected == 0 {
			t.Fatalf("big organisation %s: %v, %d members, %d configs, %d passwords", b.Slug, b.Counts, len(b.Members), len(b.Configs), len(b.Passwords))
		}
		for _, m := range b.Members {
			if ds.People[m].Org != b.Slug {
				t.Fatalf("member %s belongs to %s", ds.People[m].Email, ds.People[m].Org)
			}
		}
	}
	if ds.StaffOnly == 0 || ds.StaffOnly > ds.Items/20 {
		t.Fatalf("%d staff-only items", ds.StaffOnly)
	}
}

func TestTailRatio(t *testing.T) {
	for _, c := range []struct{ p50, p99, want float64 }{{10, 30, 3}, {14.47, 39.79, 2.75}, {2, 7, 3.5}, {0, 5, 0}} {
		if got := TailRatio(c.p50, c.p99); got != c.want {
			t.Errorf("TailRatio(%v, %v) = %v, want %v", c.p50, c.p99, got, c.want)
		}
	}
	// Stats fills it from the exact percentiles: 1..100 ms gives p50 50, p99 99.
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	r := Stats("x", 1, time.Second, lat, 0, nil)
	if r.P50ms != 50 || r.P95ms != 95 || r.P99ms != 99 || r.TailRatio != 1.98 || r.RPS != 100 {
		t.Fatalf("stats: %+v", r)
	}
}

func TestParseGCTrace(t *testing.T) {
	log := `time=2026-11-29T12:00:00Z level=INFO msg=request status=200
gc 14 @0.027s 3%: 0.026+0.23+0.044 ms clock, 0.052+0.019/0.048/0+0.089 ms cpu, 24->24->14 MB, 24 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 15 @10.028s 3%: 1.5+0.57+0.25 ms clock, 0.057+0/0.065/0.38+0.004 ms cpu, 128->130->18 MB, 28 MB goal, 0 MB stacks, 0 MB globals, 1 P
gc 16 @12.029s 2%: 0.025+0.073+0.001 ms clock, 0.051+0/0.055/0.005+0.003 ms cpu, 24->24->0 MB, 36 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
scvg: 0 MB released
`
	s := ParseGCTrace(strings.NewReader(log))
	if s.Count != 3 || s.MaxHeapMB != 128 {
		t.Fatalf("%+v", s)
	}
	if math.Abs(s.MaxPauseMS-1.75) > 1e-9 || math.Abs(s.TotalPauseMS-(0.07+1.75+0.026)) > 1e-9 {
		t.Fatalf("pauses: %+v", s)
	}
	if s := ParseGCTrace(strings.NewReader("no collections here\n")); s != (GCStats{}) {
		t.Fatalf("empty: %+v", s)
	}
}

func TestCapacitySearchSteps(t *testing.T) {
	// A server that holds p99 < 100 ms up to 347/s: doubling from 50 fails at 400, halving the gap
	// narrows 200..400 down within the eight tries.
	fake := func(limit float64) func(float64) Result {
		return func(rate float64) Result {
			if rate <= limit {
				return Result{Requests: 10, P99ms: 20}
			}
			return Result{Requests: 10, P99ms: 300}
		}
	}
	best, steps := CapacitySearch(50, 100, 8, fake(347))
	var rates []float64
	for _, s := range steps {
		rates = append(rates, s.Rate)
	}
	if want := []float64{50, 100, 200, 400, 300, 350, 325, 338}; !slices.Equal(rates, want) {
		t.Fatalf("rates tried %v, want %v", rates, want)
	}
	if best.Rate != 338 || !best.OK {
		t.Fatalf("best %+v", best)
	}
	// Too fast a start halves until one holds, then narrows upwards.
	best, steps = CapacitySearch(800, 100, 8, fake(120))
	if best.Rate < 100 || best.Rate > 120 || steps[0].OK || steps[0].Rate != 800 {
		t.Fatalf("from above: best %+v after %+v", best, steps)
	}
	// Errors fail a step even when fast.
	best, _ = CapacitySearch(10, 100, 3, func(float64) Result { return Result{Requests: 10, Errors: 1, P99ms: 1} })
	if best.Rate != 0 {
		t.Fatalf("errors held: %+v", best)
	}
}

// The capacity search against a real HTTP server in this process, one request at a time at 4 ms each
// (250 per second at most): the rate found lies near or below that (arrivals are random, so a short step
// may see fewer than its rate), and arrivals do not wait for answers.
func TestCapacityAgainstFakeServer(t *testing.T) {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" { // answered in parallel
			time.Sleep(20 * time.Millisecond)
			return
		}
		mu.Lock()
		time.Sleep(4 * time.Millisecond)
		mu.Unlock()
	}))
	defer srv.Close()
	c := Client(Transport(64))
	get := func(path string) Op {
		return func(ctx context.Context, _ int) error {
			_, err := Do(ctx, c, http.MethodGet, srv.URL+path, "", http.StatusOK)
			return err
		}
	}
	// Open loop: 200 arrivals per second of 20 ms requests, far more than one worker could send.
	r := RunOpen(context.Background(), "open", 200, 400*time.Millisecond, time.Second, 256, 1, func(int, *rand.Rand) Op { return get("/slow") })
	if r.Requests < 40 || r.Requests > 130 || r.P50ms < 20 || r.Errors != 0 || r.PacedRate != 200 {
		t.Fatalf("open loop: %+v", r)
	}
	seed := uint64(0)
	best, steps := CapacitySearch(60, 100, 7, func(rate float64) Result {
		seed++
		return RunOpen(context.Background(), "queued", rate, 600*time.Millisecond, time.Second, 256, seed, func(int, *rand.Rand) Op { return get("/") })
	})
	for _, s := range steps {
		t.Logf("%4.0f/s: %d answered, p99 %.1f ms, held %v", s.Rate, s.Result.Requests, s.Result.P99ms, s.OK)
	}
	if best.Rate < 50 || best.Rate > 330 || best.Result.P99ms >= 100 {
		t.Fatalf("capacity %+v", best)
	}
	if slices.IndexFunc(steps, func(s Step) bool { return !s.OK }) < 0 {
		t.Fatal("no rate failed: the search never found the limit")
	}
}

// TestHitChecksWhatItThrowsAway: a measured request reads the body to its end without keeping it, and
// still fails on another status (with the body's start) and on a body cut short of its Content-Length.
func TestHitChecksWhatItThrowsAway(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(strings.Repeat("x", 100_000)))
		case "/fail":
			http.Error(w, "Datenbank nicht erreichbar", http.StatusInternalServerError)
		case "/short":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("only a part"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := Hit(ctx, srv.Client(), http.MethodGet, srv.URL+"/ok", "", http.StatusOK); err != nil {
		t.Fatal(err)
	}
	var se *StatusError
	if err := Hit(ctx, srv.Client(), http.MethodGet, srv.URL+"/fail", "", http.StatusOK); !errors.As(err, &se) || !strings.Contains(se.Body, "Datenbank") {
		t.Fatalf("another status: %v", err)
	}
	if err := Hit(ctx, srv.Client(), http.MethodGet, srv.URL+"/short", "", http.StatusOK); err == nil {
		t.Fatal("a body cut short passed")
	}
}
