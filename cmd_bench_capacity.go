package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"portier/bench"
)

// benchMix is the page mix of the capacity scenario, weighted like a working day at a customer: people
// mostly open lists and items, search now and then, and reveal a password for the odd task.
var benchMix = []struct {
	key, name string
	percent   float64
}{
	{"home", "organisation home", 15},
	{"list", "list page", 30},
	{"detail", "detail page", 25},
	{"detailconn", "detail with related items", 10},
	{"search", "search", 15},
	{"reveal", "reveal", 5},
}

// capacityLimitMS is the latency the capacity scenario holds: the slowest percent of pages under 100 ms.
const capacityLimitMS = 100

// capacityAssumptions turn a rate of pages into people and organisations. They are estimates, printed with
// the result, not measurements.
type capacityAssumptions struct {
	// BurstFactor: the busiest seconds of the peak hour carry this multiple of the hour's average rate.
	BurstFactor float64 `json:"burst_factor"`
	// ActiveShare: the part of all people who use the portal in the peak hour.
	ActiveShare float64 `json:"active_share"`
	// PagesPerActive: the pages each of them opens in that hour.
	PagesPerActive float64 `json:"pages_per_active_person"`
	// PeoplePerOrg: as in the data set (5,000 people in 1,000 organisations).
	PeoplePerOrg float64 `json:"people_per_organisation"`
}

// serves is the arithmetic: a rate the server holds in the busiest seconds, spread over the peak hour,
// divided among the people active then, scaled up to everyone, grouped into organisations.
func (a capacityAssumptions) serves(rate float64) (peakHourPages float64, people, orgs int) {
	peakHourPages = rate * 3600 / a.BurstFactor
	people = int(peakHourPages / (a.ActiveShare * a.PagesPerActive))
	orgs = int(float64(people) / a.PeoplePerOrg)
	return peakHourPages, people, orgs
}

type benchCapacity struct {
	LimitP99ms     float64             `json:"limit_p99_ms"`
	Arrivals       string              `json:"arrivals"`
	WeightsPercent map[string]float64  `json:"weights_percent"`
	StepSeconds    float64             `json:"step_seconds"`
	Steps          []bench.Step        `json:"steps"`
	Rate           float64             `json:"highest_rate_per_second"` // 0: no rate tried held
	Best           bench.Result        `json:"at_highest_rate"`
	Assumptions    capacityAssumptions `json:"assumptions"`
	PeakHourPages  float64             `json:"peak_hour_pages"`
	People         int                 `json:"people"`
	Organisations  int                 `json:"organisations"`
}

// runCapacity searches the highest rate of the mix at which p99 stays under the limit, starting from half
// the rate the flat-out scenarios of this run suggest for the mix (or 50/s without them).
func runCapacity(ctx context.Context, logw io.Writer, dur time.Duration, ops map[string]bench.Op, rep *benchReport,
	measure func(func() bench.Result) bench.Result) *benchCapacity {
	c := &benchCapacity{LimitP99ms: capacityLimitMS, StepSeconds: dur.Seconds(), WeightsPercent: map[string]float64{},
		Arrivals: "open loop: Poisson arrivals at a fixed rate per step, each request started when due (at most 256 at once), latency from the moment it was due",
		Assumptions: capacityAssumptions{BurstFactor: 4, ActiveShare: 0.10, PagesPerActive: 20,
			PeoplePerOrg: float64(rep.Dataset.People) / float64(max(1, rep.Dataset.Orgs))}}
	var total, secondsPerPage, known float64
	for _, m := range benchMix {
		c.WeightsPercent[m.key] = m.percent
		total += m.percent
		if r := rep.findKey(m.key); r.RPS > 0 {
			secondsPerPage += m.percent / r.RPS
			known += m.percent
		}
	}
	start := 50.0
	if known > 0 {
		start = known / secondsPerPage / 2
	}
	pick := func(n int, rng *rand.Rand) bench.Op {
		x := rng.Float64() * total
		for _, m := range benchMix {
			if x -= m.percent; x < 0 {
				return ops[m.key]
			}
		}
		return ops[benchMix[len(benchMix)-1].key]
	}
	var seed uint64
	best, steps := bench.CapacitySearch(start, capacityLimitMS, 8, func(rate float64) bench.Result {
		fmt.Fprintf(logw, "capacity: the page mix at %.0f/s, open loop (%s) ...\n", rate, dur)
		seed++
		return measure(func() bench.Result {
			return bench.RunOpen(ctx, fmt.Sprintf("page mix at %.0f/s", rate), rate, dur, 2*time.Second, 256, seed, pick)
		})
	})
	c.Steps, c.Rate, c.Best = steps, best.Rate, best.Result
	if c.Rate > 0 {
		c.PeakHourPages, c.People, c.Organisations = c.Assumptions.serves(c.Rate)
	}
	return c
}

func (c *benchCapacity) print(w io.Writer) {
	var mix []string
	for _, m := range benchMix {
		mix = append(mix, fmt.Sprintf("%s %.0f%%", m.name, m.percent))
	}
	fmt.Fprintf(w, "\ncapacity: the highest rate of a page mix with p99 < %.0f ms (%s)\n", c.LimitP99ms, strings.Join(mix, ", "))
	fmt.Fprintf(w, "  %s; %g s per step\n", c.Arrivals, c.StepSeconds)
	fmt.Fprintf(w, "  %8s %9s %8s %8s %8s %7s %10s %7s\n", "rate/s", "answered", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU ms/req", "RSS MB")
	for _, s := range c.Steps {
		verdict := "over"
		if s.OK {
			verdict = "held"
		}
		r := s.Result
		fmt.Fprintf(w, "  %8.0f %9d %8.2f %8.2f %8.2f %7d %10.3f %7.1f  %s\n", s.Rate, r.Requests, r.P50ms, r.P95ms, r.P99ms, r.Errors, r.ServerCPUmsPerReq, r.PeakRSSMB, verdict)
	}
	if c.Rate == 0 {
		fmt.Fprintf(w, "  no rate tried held p99 < %.0f ms\n", c.LimitP99ms)
		return
	}
	a := c.Assumptions
	fmt.Fprintf(w, "  highest rate that held: %.0f pages/s (p99 %.1f ms)\n", c.Rate, c.Best.P99ms)
	fmt.Fprintf(w, "  assumed: the busiest seconds carry %.0f× the peak hour's average rate; %.0f%% of people use the portal in that hour, %.0f pages each; %.1f people per organisation (as in the data set)\n",
		a.BurstFactor, 100*a.ActiveShare, a.PagesPerActive, a.PeoplePerOrg)
	fmt.Fprintf(w, "  %.0f pages/s × 3,600 s ÷ %.0f = %s pages in the peak hour; ÷ (%.0f%% × %.0f pages) = %s people; ÷ %.1f = %s organisations\n",
		c.Rate, a.BurstFactor, thousands(int(c.PeakHourPages)), 100*a.ActiveShare, a.PagesPerActive, thousands(c.People), a.PeoplePerOrg, thousands(c.Organisations))
}

// thousands writes n with commas between groups of three digits, as the README does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
