package bench

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// RunOpen sends requests as independent people would: arrivals at random moments (a Poisson process of the
// given rate, seeded, so runs are comparable), each started when due whether or not earlier ones have been
// answered. Unlike Run, a slow server does not slow the arrivals down; unlike RunPaced, no fixed set of
// workers waits its turn. At most maxInFlight requests run at once (a browser's connections are finite
// too); the rest wait, and their latency counts from the moment they were due. Requests still unanswered
// drain after the end are cancelled and count as errors. next picks the request for arrival n.
func RunOpen(ctx context.Context, name string, rate float64, d, drain time.Duration, maxInFlight int, seed uint64, next func(n int, rng *rand.Rand) Op) Result {
	rng := rand.New(rand.NewPCG(seed, 16))
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, maxInFlight)
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	due := start
arrivals:
	for n := 0; ; n++ {
		due = due.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		if !due.Before(end) {
			break
		}
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				break arrivals
			case <-time.After(wait):
			}
		}
		op := next(n, rng)
		wg.Add(1)
		go func(due time.Time) {
			defer wg.Done()
			var err error
			select {
			case sem <- struct{}{}:
				err = op(reqCtx, n)
				<-sem
			case <-reqCtx.Done():
				err = reqCtx.Err()
			}
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			if err != nil {
				errs++
				if firstErr == nil {
					firstErr = err
				}
			}
			mu.Unlock()
		}(due)
	}
	stop := time.AfterFunc(time.Until(end)+drain, cancel)
	wg.Wait()
	stop.Stop()
	// The rate is what arrived in the measuring time, the latencies those of all of them.
	r := Stats(name, maxInFlight, d, lat, errs, firstErr)
	r.PacedRate = rate
	return r
}

// Step is one rate tried by CapacitySearch.
type Step struct {
	Rate   float64 `json:"rate"`
	Result Result  `json:"result"`
	OK     bool    `json:"p99_under_limit"`
}

// CapacitySearch finds the highest rate at which try's p99 stays under limitMS without errors: from start
// it doubles (or halves) the rate until one side holds and the other fails, then halves the gap between
// the best rate that held and the lowest that failed, in at most maxSteps tries in all. The steps are whole
// requests per second. best.Requests is 0 when no rate held.
func CapacitySearch(start, limitMS float64, maxSteps int, try func(rate float64) Result) (best Step, steps []Step) {
	probe := func(rate float64) bool {
		r := try(rate)
		s := Step{Rate: rate, Result: r, OK: r.Requests > 0 && r.Errors == 0 && r.P99ms < limitMS}
		steps = append(steps, s)
		if s.OK && s.Rate > best.Rate {
			best = s
		}
		return s.OK
	}
	start = math.Max(1, math.Round(start))
	lo, hi := 0.0, 0.0 // the highest rate that held, the lowest that failed
	if probe(start) {
		lo = start
		for len(steps) < maxSteps {
			if r := lo * 2; probe(r) {
				lo = r
			} else {
				hi = r
				break
			}
		}
	} else {
		hi = start
		for len(steps) < maxSteps && hi > 1 {
			if r := math.Max(1, math.Round(hi/2)); probe(r) {
				lo = r
				break
			} else {
				hi = r
			}
		}
	}
	for len(steps) < maxSteps && lo > 0 && hi > 0 {
		mid := math.Round((lo + hi) / 2)
		if mid <= lo || mid >= hi || hi/lo < 1.05 {
			break
		}
		if probe(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return best, steps
}
