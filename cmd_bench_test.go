package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"portier/bench"
)

// The benchmark itself, on a small data set and for a fraction of a second per scenario, so it cannot rot:
// it generates, starts the binary, signs people in, measures every scenario without errors, and writes
// its table and JSON.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr syncBuf
	err := run(context.Background(), []string{"bench", "--server", bin, "--orgs", "12", "--items", "1500", "--people", "120",
		"--big-orgs", "2", "--clients", "8", "--signin-clients", "2", "--duration", "150ms", "--out", out},
		func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	t.Logf("bench table:\n%s", stdout.String())
	var rep benchReport
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 10 || len(rep.Flood) != 3 || len(rep.Paced) != 6 || rep.PeakRSSMB <= 0 || rep.StartupMS <= 0 || rep.Dataset.Items != 1500 {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range append(append(rep.Results, rep.Flood...), rep.Paced...) {
		if r.Requests == 0 || r.Errors != 0 || r.P50ms <= 0 {
			t.Fatalf("%s: %d requests, %d errors (%s)", r.Name, r.Requests, r.Errors, r.FirstErr)
		}
	}
	// The replication scenario: list pages and the write mix without errors while replicating, lag
	// sampled, and the replica restored and served.
	x := rep.Replication
	if x == nil || x.ListOn.Requests == 0 || x.ListOn.Errors != 0 || x.Reveals.Errors != 0 || x.SignIns.Errors != 0 ||
		x.Reveals.Requests == 0 || x.LagSamples == 0 || x.ReplicaBytes == 0 || x.RestoreMS <= 0 || x.RestoreStartMS < x.RestoreMS {
		t.Fatalf("replication scenario: %+v", x)
	}
	if rep.ServerErrors != 0 {
		t.Fatalf("the server logged %d 5xx responses", rep.ServerErrors)
	}
	for _, want := range []string{"list page (50 rows)", "detail, 10 related + 3 files", "full sign-in (password + TOTP)", "vs healthz", "p99/p50", "CPU ms/req", "targets:", "peak RSS", "with replication", "restore + start"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, stdout.String())
		}
	}
}

// Issue 16's targets, each at its boundary: a p99 of exactly 3 × p50 is met, anything above is not; the
// list page needs 30% of /healthz and the detail page 20%; search p99 under 50 ms; at half capacity p99
// under 20 ms; at 1 CPU the whole run's peak RSS under 256 MB, and only with a sign-in flood in the run.
func TestBenchTargets(t *testing.T) {
	res := func(key string, p50, p99, ratio float64) bench.Result {
		return bench.Result{Name: key, Key: key, Clients: 64, Requests: 100, P50ms: p50, P99ms: p99, TailRatio: bench.TailRatio(p50, p99), Ratio: ratio}
	}
	rep := &benchReport{
		Dataset: benchDataset{Items: 100000}, StartupMS: 20, PeakRSSMB: 255.9, CPUs: &benchCPUs{Requested: 1},
		Results: []bench.Result{res("healthz", 1, 9, 1), res("list", 10, 30, 0.30), res("detail", 10, 30.5, 0.199),
			res("search", 17, 49.9, 0.1), res("home", 10, 31, 0.2), res("reveal", 0, 0, 0)},
		Paced: []bench.Result{{Name: "list page (50 rows), half of capacity", Key: "list", Clients: 64, Requests: 10, P99ms: 19.9, PacedRate: 2000},
			{Name: "search, half of capacity", Key: "search", Clients: 64, Requests: 10, P99ms: 20, PacedRate: 900}},
		Flood: []bench.Result{{Requests: 10, P50ms: 1, P99ms: 5}, {Requests: 10, P50ms: 1.2, P99ms: 9}, {Requests: 5}},
	}
	rep.Results[5].Requests = 0 // a scenario without answers never meets its tail target
	rep.targets()
	got := map[string]bool{}
	for _, x := range rep.Targets {
		got[x.Scenario+"|"+x.Want+"|"+x.What] = x.Met
	}
	check := func(scenario, want, whatPrefix string, met bool) {
		t.Helper()
		for k, v := range got {
			parts := strings.SplitN(k, "|", 3)
			if parts[0] == scenario && parts[1] == want && strings.HasPrefix(parts[2], whatPrefix) {
				if v != met {
					t.Errorf("%s %s %s: met %v, want %v", scenario, want, parts[2], v, met)
				}
				return
			}
		}
		t.Errorf("no target %s %s %s in %v", scenario, want, whatPrefix, got)
	}
	check("list", "≤ 3", "list", true) // 30 ÷ 10 = 3.0
	check("detail", "≤ 3", "detail", false)
	check("search", "≤ 3", "search", true)
	check("home", "≤ 3", "home", false)
	check("reveal", "≤ 3", "reveal", false)
	check("list", "≥ 30%", "list page rate", true)
	check("detail", "≥ 20%", "detail page rate", false)
	check("search", "< 50 ms", "search p99", true)
	check("list", "< 20 ms", "list page (50 rows) p99 at 64 clients, 2000/s", true)
	check("search", "< 20 ms", "search p99 at 64 clients, 900/s", false)
	check("", "< 256 MB", "peak RSS at 1 CPU, 100000 items, with a sign-in flood", true)
	for _, x := range rep.Targets {
		if x.Scenario == "healthz" {
			t.Errorf("/healthz is no page: %+v", x)
		}
	}

	rep.Targets, rep.Flood = nil, nil
	rep.targets()
	for _, x := range rep.Targets {
		if x.Want == "< 256 MB" && x.Met {
			t.Error("the 256 MB target is met without a sign-in flood in the run")
		}
	}
}

func TestCapacityArithmetic(t *testing.T) {
	a := capacityAssumptions{BurstFactor: 4, ActiveShare: 0.10, PagesPerActive: 20, PeoplePerOrg: 5}
	pages, people, orgs := a.serves(400)
	// 400/s × 3600 s ÷ 4 = 360,000 pages; ÷ (10% × 20) = 180,000 people; ÷ 5 = 36,000 organisations.
	if pages != 360000 || people != 180000 || orgs != 36000 {
		t.Fatalf("serves(400) = %v pages, %d people, %d organisations", pages, people, orgs)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 397350: "397,350", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// The --cpus 1 run on a small data set: the server child pinned to its own core (where it keeps two Go
// processors) and the memory limit passed on, the sign-in flood and the capacity search included, CPU
// time, peak RSS and garbage collections per scenario.
func TestBenchCPUs1(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr syncBuf
	err := run(context.Background(), []string{"bench", "--server", bin, "--orgs", "12", "--items", "1500", "--people", "120",
		"--big-orgs", "2", "--clients", "8", "--signin-clients", "2", "--duration", "200ms", "--out", out,
		"--cpus", "1", "--only", "detail", "--memlimit", "300MiB", "--gctrace"},
		func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	t.Logf("bench table:\n%s", stdout.String())
	var rep benchReport
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	c := rep.CPUs
	if c == nil || c.Requested != 1 || rep.MemLimit != "300MiB" || !rep.GCTrace {
		t.Fatalf("report: cpus %+v, memlimit %q", c, rep.MemLimit)
	}
	// On one CPU the server keeps two processors (serverProcs): its greeting says so.
	if c.ServerProcs != 2 {
		t.Fatalf("the server on one CPU runs %d processors, want 2: %+v", c.ServerProcs, c)
	}
	if cpus, _ := allowedCPUs(); len(cpus) > 1 {
		if !c.Pinned || len(c.ServerCores) != 1 || c.ServerAllowed != strconv.Itoa(c.ServerCores[0]) || (len(c.LoadCores) == 1 && c.LoadAllowed != cpuList(c.LoadCores)) || slices.Contains(c.LoadCores, c.ServerCores[0]) {
			t.Fatalf("not pinned apart: %+v", c)
		}
		if now, _ := allowedCPUs(); !slices.Equal(now, cpus) {
			t.Fatalf("the bench kept this process on CPUs %v (had %v)", now, cpus)
		}
	} else if c.Pinned || !strings.Contains(c.Note, "no pinning") {
		t.Fatalf("one CPU, yet: %+v", c)
	}
	// --only detail, yet the list page and its sign-in flood ran: the 1-CPU run must show their memory.
	if rep.findKey("list").Requests == 0 || rep.findKey("detail").Requests == 0 || len(rep.Flood) != 3 {
		t.Fatalf("scenarios: %+v, flood %d", rep.Results, len(rep.Flood))
	}
	for _, r := range append(rep.Results, rep.Paced...) {
		if r.Errors != 0 || r.ServerCPUms <= 0 || r.ServerCPUmsPerReq <= 0 || r.PeakRSSMB <= 0 || r.GC == nil || r.TailRatio <= 0 {
			t.Fatalf("%s: %+v", r.Name, r)
		}
	}
	if f := rep.Flood[1]; f.GC == nil || f.GC.Count == 0 || f.ServerCPUms <= 0 || f.ServerCPUmsPerReq != 0 {
		t.Fatalf("flood (sign-ins hash 19 MiB each, so the collector runs): %+v", f)
	}
	x := rep.Capacity
	if x == nil || len(x.Steps) == 0 || x.WeightsPercent["list"] != 30 || (x.Rate > 0 && (x.People == 0 || x.Best.P99ms >= 100)) {
		t.Fatalf("capacity: %+v", x)
	}
	if !slices.ContainsFunc(rep.Targets, func(t benchTarget) bool { return t.Want == "< 256 MB" }) {
		t.Fatalf("no 256 MB target: %+v", rep.Targets)
	}
	for _, want := range []string{"p99/p50", "CPU ms/req", "server pinned to CPU", "GOMEMLIMIT=300MiB", "garbage collections", "capacity: the highest rate", "people; ÷"} {
		if want == "server pinned to CPU" && !c.Pinned {
			continue
		}
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, stdout.String())
		}
	}
}

// --trace writes a runtime trace of the in-process server during one more round of a scenario; the
// options that set up a child process are refused with --in-process, and --trace without it.
func TestBenchTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark")
	}
	for _, args := range [][]string{{"--trace", "x.out"}, {"--in-process", "--cpus", "1"}, {"--in-process", "--gctrace"}, {"--in-process", "--memlimit", "1GiB"}, {"--cpus", "-1"}} {
		var stdout, stderr syncBuf
		if err := run(context.Background(), append([]string{"bench"}, args...), func(string) string { return "" }, &stdout, &stderr); err == nil {
			t.Errorf("bench %v: no error", args)
		}
	}
	dir := t.TempDir()
	out, tr := filepath.Join(dir, "bench.json"), filepath.Join(dir, "trace.out")
	var stdout, stderr syncBuf
	err := run(context.Background(), []string{"bench", "--in-process", "--orgs", "12", "--items", "1500", "--people", "120",
		"--big-orgs", "2", "--clients", "8", "--signin-clients", "2", "--duration", "150ms", "--out", out,
		"--only", "list", "--trace", tr, "--profile", "list"},
		func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(tr)
	if err != nil || len(b) < 1000 || !strings.HasPrefix(string(b), "go 1.") {
		t.Fatalf("trace: %d bytes, %v", len(b), err)
	}
	if !strings.Contains(stderr.String(), "runtime trace of list page (50 rows) written to") {
		t.Fatalf("log: %s", stderr.String())
	}
}
