package bench

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
)

// GCStats summarises the garbage collections a server reported with GODEBUG=gctrace=1 during a scenario.
// A collection stops the world twice (sweep termination and mark termination); Pause is the sum of both
// wall-clock phases, the time every request in flight stood still.
type GCStats struct {
	Count        int     `json:"count"`
	TotalPauseMS float64 `json:"total_pause_ms"`
	MaxPauseMS   float64 `json:"max_pause_ms"`
	// MaxHeapMB is the largest heap at the start of a collection (the first of the "a->b->c MB" figures).
	MaxHeapMB float64 `json:"max_heap_mb"`
}

// gcLine matches the runtime's gctrace line, e.g.
// "gc 14 @0.027s 3%: 0.026+0.23+0.044 ms clock, 0.052+0.019/0.048/0+0.089 ms cpu, 24->24->14 MB, ...".
var gcLine = regexp.MustCompile(`^gc \d+ @[0-9.]+s \d+%: ([0-9.]+)\+[0-9.]+\+([0-9.]+) ms clock, .*? ([0-9.]+)->[0-9.]+->[0-9.]+ MB`)

// ParseGCTrace reads a server's stderr and summarises the gctrace lines in it; other lines (the server's
// own log) are skipped.
func ParseGCTrace(r io.Reader) GCStats {
	var s GCStats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := gcLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		stw1, _ := strconv.ParseFloat(string(m[1]), 64)
		stw2, _ := strconv.ParseFloat(string(m[2]), 64)
		heap, _ := strconv.ParseFloat(string(m[3]), 64)
		pause := stw1 + stw2
		s.Count++
		s.TotalPauseMS += pause
		s.MaxPauseMS = max(s.MaxPauseMS, pause)
		s.MaxHeapMB = max(s.MaxHeapMB, heap)
	}
	return s
}
