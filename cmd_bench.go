package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"portier/bench"
)

// cmdBench builds a data set of the size the issue asks for (1,000 organisations, 100,000 documentation
// items, 5,000 people) in a temporary data folder, starts `portier serve` on it as a child process (so its
// start-up time and peak memory are its own), signs people in through the real forms and measures each
// page for a fixed time. It prints a table and writes the figures as JSON.
func cmdBench(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "bench-results.json", "write the results as JSON to this file")
	dur := fs.Duration("duration", 5*time.Second, "measuring time per scenario")
	clients := fs.Int("clients", 64, "concurrent clients for the page scenarios")
	signinClients := fs.Int("signin-clients", 8, "concurrent clients for the full sign-in scenario and the flood")
	spec := bench.DefaultSpec()
	fs.IntVar(&spec.Orgs, "orgs", spec.Orgs, "organisations in the data set")
	fs.IntVar(&spec.Items, "items", spec.Items, "documentation items in the data set")
	fs.IntVar(&spec.People, "people", spec.People, "people in the data set")
	fs.IntVar(&spec.BigOrgs, "big-orgs", spec.BigOrgs, "large organisations the page views use")
	server := fs.String("server", "", "portier binary to start (default: this program)")
	keep := fs.Bool("keep", false, "keep the temporary data folder (its path is printed)")
	reuse := fs.String("reuse", "", "use a folder kept by an earlier --keep run instead of generating (for quicker rounds while tuning)")
	inProcess := fs.Bool("in-process", false, "serve inside this process instead of a child (for --cpuprofile; memory figures then include the load generator)")
	cpuProfile := fs.String("cpuprofile", "", "with --in-process: write a CPU profile of one more round of --profile to this file")
	profile := fs.String("profile", "list", "the scenario --cpuprofile profiles: healthz, static, home, list, detail, detailconn, search, reveal, loginpage, signin")
	only := fs.String("only", "", "measure only these scenarios (comma-separated keys as for --profile, and replication; healthz is always measured)")
	var err error
	if err = fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *cpuProfile != "" && !*inProcess {
		return errors.New("bench: --cpuprofile needs --in-process (the profile is of this process)")
	}
	logw := env.stderr
	total := time.Now()

	tmp := *reuse
	if tmp == "" {
		if tmp, err = os.MkdirTemp("", "portier-bench-"); err != nil {
			return err
		}
		if *keep {
			fmt.Fprintf(logw, "data folder (kept): %s\n", tmp)
		} else {
			defer os.RemoveAll(tmp)
		}
	}
	dataDir := filepath.Join(tmp, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}

	var ds *bench.Dataset
	var genTime time.Duration
	if *reuse != "" {
		b, err := os.ReadFile(filepath.Join(tmp, "dataset.json"))
		if err != nil {
			return fmt.Errorf("bench: --reuse: %w", err)
		}
		if err := json.Unmarshal(b, &ds); err != nil {
			return err
		}
		spec.People = len(ds.People)
		if err := bench.Reuse(ctx, dataDir); err != nil {
			return fmt.Errorf("bench: --reuse: %w", err)
		}
		fmt.Fprintf(logw, "reusing the data set in %s\n", tmp)
	} else {
		fmt.Fprintf(logw, "generating %d organisations, %d items, %d people ...\n", spec.Orgs, spec.Items, spec.People)
		genStart := time.Now()
		spec.Log = logw
		if ds, err = bench.Generate(ctx, dataDir, spec); err != nil {
			return fmt.Errorf("bench: generate: %w", err)
		}
		genTime = time.Since(genStart)
		if b, err := json.Marshal(ds); err == nil {
			_ = os.WriteFile(filepath.Join(tmp, "dataset.json"), b, 0o600)
		}
	}
	dbSize := fileSizes(filepath.Join(dataDir, "portier.db"))
	fmt.Fprintf(logw, "data set ready in %s, database %.1f MB\n", genTime.Round(time.Millisecond), float64(dbSize)/1e6)

	port, err := freeTCPPort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srvEnv := map[string]string{
		"PORTIER_ADDR":     fmt.Sprintf("127.0.0.1:%d", port),
		"PORTIER_DATA":     dataDir,
		"PORTIER_BASE_URL": base,
		"PORTIER_MSP_NAME": "Bench IT",
	}
	exe := *server
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	start := func(env map[string]string, log string) (benchServer, error) {
		if *inProcess {
			return startInProcess(env, log)
		}
		return startChild(exe, env, log)
	}
	srv, err := start(srvEnv, filepath.Join(tmp, "server.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	tr := bench.Transport(max(*clients, 64) + *signinClients*2)
	startup, firstOK, err := srv.waitReady(base, tr)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "server listening after %s, first /healthz 200 after %s\n", startup.Round(time.Millisecond), firstOK.Round(time.Millisecond))

	rep := &benchReport{
		Machine: benchMachine(), Go: runtime.Version(), LoadBefore: loadAvg(),
		Dataset: benchDataset{Orgs: ds.Orgs, Items: ds.Items, People: spec.People, StaffOnly: ds.StaffOnly,
			GenerateSeconds: genTime.Seconds(), DBBytes: dbSize},
		StartupMS: ms(startup), FirstHealthzMS: ms(firstOK), InProcess: *inProcess,
		DurationSeconds: dur.Seconds(), Clients: *clients,
	}

	// Sign in one person per page-view client, through the real /login and /mfa forms.
	steps := &bench.Steps{}
	sessions := make([]*benchSession, *clients)
	used := map[int]bool{}
	var wg sync.WaitGroup
	var signErr atomic.Pointer[error]
	sem := make(chan struct{}, 8)
	for i := range sessions {
		b := &ds.Big[i%len(ds.Big)]
		if i/len(ds.Big) >= len(b.Members) {
			return fmt.Errorf("bench: %d clients need more members in the big organisations", *clients)
		}
		p := b.Members[i/len(ds.Big)]
		used[p] = true
		sessions[i] = &benchSession{c: bench.Client(tr), org: b}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := bench.SignIn(ctx, sessions[i].c, base, ds.People[p].Email, ds.Password, ds.TOTPSecret, steps); err != nil {
				signErr.CompareAndSwap(nil, &err)
			}
		}()
	}
	wg.Wait()
	if e := signErr.Load(); e != nil {
		return fmt.Errorf("bench: sign-in of the page-view sessions: %w", *e)
	}
	fmt.Fprintf(logw, "%d sessions signed in\n", len(sessions))

	// Everyone else signs in during the sign-in scenarios, each person once per 30-second code step.
	var pool []int
	for i := range ds.People {
		if !used[i] {
			pool = append(pool, i)
		}
	}
	var next atomic.Int64
	fullSignIn := func(ctx context.Context, _ int) error {
		p := ds.People[pool[int(next.Add(1)-1)%len(pool)]]
		_, err := bench.SignIn(ctx, bench.Client(tr), base, p.Email, ds.Password, ds.TOTPSecret, steps)
		return err
	}

	anon := bench.Client(tr)
	loginHTML, err := bench.Do(ctx, anon, http.MethodGet, base+"/login", "", http.StatusOK)
	if err != nil {
		return err
	}
	asset := regexp.MustCompile(`/static/app\.[^"]+\.css`).FindString(loginHTML)
	if asset == "" {
		return errors.New("bench: no stylesheet link on the sign-in page")
	}
	// The list page must really show 50 rows.
	s0 := sessions[0]
	listPath := "/o/" + s0.org.Slug + "/docs/configurations"
	body, err := bench.Do(ctx, s0.c, http.MethodGet, base+listPath, "", http.StatusOK)
	if err != nil {
		return err
	}
	if n := strings.Count(body, `<tr data-testid="row-`); n != 50 {
		return fmt.Errorf("bench: the list page shows %d rows, want 50 (organisation has %d configurations)", n, s0.org.Counts["configurations"])
	}

	// The connected detail page must really show its related items and files (bench/connect.go).
	if s0.org.Connected == 0 {
		return errors.New("bench: the data set has no connected item (made before related items existed): run without --reuse")
	}
	body, err = bench.Do(ctx, s0.c, http.MethodGet, base+connectedPath(s0.org), "", http.StatusOK)
	if err != nil {
		return err
	}
	if n, f := strings.Count(body, `data-testid="related-`), strings.Count(body, `data-testid="file-download"`); n != bench.ConnectedLinks || f != bench.ConnectedFiles {
		return fmt.Errorf("bench: the connected detail page shows %d related items and %d files, want %d and %d", n, f, bench.ConnectedLinks, bench.ConnectedFiles)
	}

	var counter atomic.Uint64
	get := func(path func(s *benchSession, n uint64) string) bench.Op {
		return func(ctx context.Context, w int) error {
			s := sessions[w%len(sessions)]
			_, err := bench.Do(ctx, s.c, http.MethodGet, base+path(s, counter.Add(1)), "", http.StatusOK)
			return err
		}
	}
	q := url.QueryEscape(ds.SearchTerm)
	type scenario struct {
		key, name string
		clients   int
		op        bench.Op
	}
	listOp := get(func(s *benchSession, _ uint64) string { return "/o/" + s.org.Slug + "/docs/configurations" })
	scenarios := []scenario{
		{"healthz", "healthz", *clients, func(ctx context.Context, _ int) error {
			_, err := bench.Do(ctx, anon, http.MethodGet, base+"/healthz", "", http.StatusOK)
			return err
		}},
		{"static", "static asset", *clients, get(func(*benchSession, uint64) string { return asset })},
		{"home", "organisation home", *clients, get(func(s *benchSession, _ uint64) string { return "/o/" + s.org.Slug })},
		{"list", "list page (50 rows)", *clients, listOp},
		{"detail", "detail page", *clients, get(func(s *benchSession, n uint64) string {
			return "/o/" + s.org.Slug + "/docs/configurations/" + strconv.FormatInt(s.org.Configs[n%uint64(len(s.org.Configs))], 10)
		})},
		{"detailconn", "detail, 10 related + 3 files", *clients, get(func(s *benchSession, _ uint64) string { return connectedPath(s.org) })},
		{"search", "search", *clients, get(func(s *benchSession, _ uint64) string { return "/o/" + s.org.Slug + "/search?q=" + q })},
		{"reveal", "reveal (POST)", *clients, func(ctx context.Context, w int) error {
			s := sessions[w%len(sessions)]
			id := s.org.Passwords[counter.Add(1)%uint64(min(20, len(s.org.Passwords)))]
			_, err := bench.Do(ctx, s.c, http.MethodPost, base+"/o/"+s.org.Slug+"/docs/passwords/"+strconv.FormatInt(id, 10)+"/secret/password", "", http.StatusOK)
			return err
		}},
		{"loginpage", "sign-in page", *clients, func(ctx context.Context, _ int) error {
			_, err := bench.Do(ctx, anon, http.MethodGet, base+"/login", "", http.StatusOK)
			return err
		}},
		{"signin", "full sign-in (password + TOTP)", *signinClients, fullSignIn},
	}
	selected := func(key string) bool {
		return *only == "" || key == "healthz" || slices.Contains(strings.Split(*only, ","), key)
	}
	var healthz float64
	for _, sc := range scenarios {
		if !selected(sc.key) {
			continue
		}
		fmt.Fprintf(logw, "measuring %s (%d clients, %s) ...\n", sc.name, sc.clients, *dur)
		r := bench.Run(ctx, sc.name, sc.clients, *dur, sc.op)
		if sc.name == "healthz" {
			healthz = r.RPS
		}
		if healthz > 0 {
			r.Ratio = r.RPS / healthz
		}
		rep.Results = append(rep.Results, r)
	}

	if listRPS := rep.find("list page (50 rows)").RPS; listRPS > 0 {
		// Flat out, 64 clients queue behind each other: latency is then clients ÷ throughput. The same 64
		// clients at half the measured capacity show the latency of a busy but not saturated portal.
		half := listRPS / 2
		fmt.Fprintf(logw, "measuring list pages, %d clients at %.0f/s ...\n", *clients, half)
		rep.Paced = append(rep.Paced, bench.RunPaced(ctx, "list page, half of capacity", *clients, half, *dur, listOp))
		if searchRPS := rep.find("search").RPS; searchRPS > 0 {
			i := slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.key == "search" })
			fmt.Fprintf(logw, "measuring searches, %d clients at %.0f/s ...\n", *clients, searchRPS/2)
			rep.Paced = append(rep.Paced, bench.RunPaced(ctx, "search, half of capacity", *clients, searchRPS/2, *dur, scenarios[i].op))
		}

		// The flood: people already signed in look at list pages at a steady pace while sign-ins run flat out.
		rate := max(10, min(200, listRPS/4))
		pacedClients := 16
		fmt.Fprintf(logw, "measuring list pages at %.0f/s without sign-ins ...\n", rate)
		calm := bench.RunPaced(ctx, "list page, paced, no sign-ins", pacedClients, rate, *dur, listOp)
		fmt.Fprintf(logw, "measuring list pages at %.0f/s during a sign-in flood (%d clients) ...\n", rate, *signinClients*2)
		var flood, floodSignIns bench.Result
		var fwg sync.WaitGroup
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			floodSignIns = bench.Run(ctx, "sign-ins during the flood", *signinClients*2, *dur, fullSignIn)
		}()
		flood = bench.RunPaced(ctx, "list page, paced, sign-in flood", pacedClients, rate, *dur, listOp)
		fwg.Wait()
		rep.Flood = []bench.Result{calm, flood, floodSignIns}
	}

	if *cpuProfile != "" {
		i := slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.key == *profile })
		if i < 0 {
			return fmt.Errorf("bench: --profile %q: no such scenario", *profile)
		}
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		bench.Run(ctx, scenarios[i].name+" (profiled)", scenarios[i].clients, *dur, scenarios[i].op)
		pprof.StopCPUProfile()
		f.Close()
		fmt.Fprintf(logw, "CPU profile of %s written to %s\n", scenarios[i].name, *cpuProfile)
	}

	rep.PeakRSSMB, rep.RSSMB = srv.memory()
	if err := srv.stop(); err != nil {
		fmt.Fprintf(logw, "server stop: %v\n", err)
	}
	rep.DBBytesAfter = fileSizes(filepath.Join(dataDir, "portier.db"))
	rep.ServerErrors = countServerErrors(filepath.Join(tmp, "server.log"))
	if selected("replication") {
		i := slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.key == "reveal" })
		repl, logs, err := runReplicationScenario(ctx, logw, tmp, dataDir, base, start, srvEnv, tr, *clients, *signinClients, *dur,
			listOp, scenarios[i].op, fullSignIn, rep.find("list page (50 rows)"))
		if err != nil {
			return err
		}
		rep.Replication = repl
		for _, l := range logs {
			rep.ServerErrors += countServerErrors(l)
		}
	}
	rep.LoadAfter = loadAvg()
	rep.targets()
	rep.TotalSeconds = time.Since(total).Seconds()

	rep.print(env.stdout)
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "\nresults written to %s\n", *out)
	}
	return nil
}

type benchSession struct {
	c   *http.Client
	org *bench.BigOrg
}

type benchDataset struct {
	Orgs            int     `json:"orgs"`
	Items           int     `json:"items"`
	People          int     `json:"people"`
	StaffOnly       int     `json:"staff_only_items"`
	GenerateSeconds float64 `json:"generate_seconds"`
	DBBytes         int64   `json:"db_bytes"`
}

type benchTarget struct {
	What  string  `json:"what"`
	Want  string  `json:"want"`
	Got   float64 `json:"got"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
	Lower bool    `json:"-"`
}

type benchReport struct {
	Machine         string            `json:"machine"`
	LoadBefore      string            `json:"load_average_before"` // other work on the machine skews the figures
	LoadAfter       string            `json:"load_average_after"`
	Go              string            `json:"go"`
	InProcess       bool              `json:"in_process,omitempty"`
	Dataset         benchDataset      `json:"dataset"`
	StartupMS       float64           `json:"startup_ms"`
	FirstHealthzMS  float64           `json:"first_healthz_ms"`
	PeakRSSMB       float64           `json:"peak_rss_mb"`
	RSSMB           float64           `json:"rss_at_end_mb"`
	DBBytesAfter    int64             `json:"db_bytes_after"`
	DurationSeconds float64           `json:"duration_seconds"`
	Clients         int               `json:"clients"`
	Results         []bench.Result    `json:"results"`
	Paced           []bench.Result    `json:"paced"`
	Flood           []bench.Result    `json:"flood"`
	Replication     *benchReplication `json:"replication,omitempty"`
	Targets         []benchTarget     `json:"targets"`
	ServerErrors    int               `json:"server_errors_logged"`
	TotalSeconds    float64           `json:"total_seconds"`
}

func (r *benchReport) find(name string) bench.Result {
	for _, x := range r.Results {
		if x.Name == name {
			return x
		}
	}
	return bench.Result{}
}

func (r *benchReport) targets() {
	list, search := r.find("list page (50 rows)"), r.find("search")
	add := func(what, want string, got float64, unit string, met bool) {
		r.Targets = append(r.Targets, benchTarget{What: what, Want: want, Got: got, Unit: unit, Met: met})
	}
	add("signed-in list page rate vs /healthz", "≥ 15%", 100*list.Ratio, "%", list.Ratio >= 0.15)
	add(fmt.Sprintf("list page p99 at %d clients, flat out", list.Clients), "< 20 ms", list.P99ms, "ms", list.P99ms < 20)
	for _, p := range r.Paced {
		if strings.HasPrefix(p.Name, "list") {
			add(fmt.Sprintf("list page p99 at %d clients, %.0f/s", p.Clients, p.PacedRate), "< 20 ms", p.P99ms, "ms", p.P99ms < 20 && p.Errors == 0)
		}
	}
	add(fmt.Sprintf("search p99 at %d clients, flat out", search.Clients), "< 50 ms", search.P99ms, "ms", search.P99ms < 50)
	for _, p := range r.Paced {
		if strings.HasPrefix(p.Name, "search") {
			add(fmt.Sprintf("search p99 at %d clients, %.0f/s", p.Clients, p.PacedRate), "< 50 ms", p.P99ms, "ms", p.P99ms < 50 && p.Errors == 0)
		}
	}
	add("start-up with this data set", "< 1 s", r.StartupMS, "ms", r.StartupMS < 1000)
	add("peak RSS", "< 150 MB", r.PeakRSSMB, "MB", r.PeakRSSMB > 0 && r.PeakRSSMB < 150)
	if len(r.Flood) == 3 {
		calm, flood := r.Flood[0], r.Flood[1]
		// "Not slowed" made checkable: the median stays within a quarter of the calm one, and even the slowest
		// percent stays under the page target. The table shows p95/p99 of both for the whole picture.
		add(fmt.Sprintf("list p50 during a sign-in flood (calm: %.1f ms)", calm.P50ms), "≤ 1.25 × calm", flood.P50ms, "ms",
			flood.Errors == 0 && flood.P50ms <= 1.25*calm.P50ms)
		add("list p99 during a sign-in flood", "< 20 ms", flood.P99ms, "ms", flood.Errors == 0 && flood.P99ms < 20)
	}
	if x := r.Replication; x != nil {
		// The promise: at most a second of changes lost, back within a minute on a new machine.
		add("replication lag p95 during the write mix (RPO)", "≤ 1 s", x.LagP95ms, "ms", x.LagSamples > 0 && x.LagP95ms <= 1000)
		add("list page rate with replication vs without", "≥ 90%", 100*x.ListRatio, "%", x.ListRatio >= 0.9)
		add("restore + start of this data set (RTO)", "≤ 60 s", x.RestoreStartMS/1000, "s", x.RestoreStartMS > 0 && x.RestoreStartMS <= 60000)
	}
}

func (r *benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nPortier benchmark — %s, %s (load average before %s, after %s)\n", r.Machine, r.Go, r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "data set: %d organisations, %d documentation items (%d staff-only), %d people; database %.1f MB (generated in %.1f s)\n",
		r.Dataset.Orgs, r.Dataset.Items, r.Dataset.StaffOnly, r.Dataset.People, float64(r.Dataset.DBBytes)/1e6, r.Dataset.GenerateSeconds)
	fmt.Fprintf(w, "start-up: listening after %.0f ms, first /healthz 200 after %.0f ms; peak RSS %.1f MB (%.1f MB at the end)\n\n",
		r.StartupMS, r.FirstHealthzMS, r.PeakRSSMB, r.RSSMB)
	fmt.Fprintf(w, "%-34s %7s %9s %10s %8s %8s %8s %7s\n", "scenario", "clients", "req/s", "vs healthz", "p50 ms", "p95 ms", "p99 ms", "errors")
	row := func(x bench.Result) {
		ratio := "—"
		if x.Ratio > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*x.Ratio)
		}
		fmt.Fprintf(w, "%-34s %7d %9.0f %10s %8.2f %8.2f %8.2f %7d\n", x.Name, x.Clients, x.RPS, ratio, x.P50ms, x.P95ms, x.P99ms, x.Errors)
	}
	for _, x := range r.Results {
		row(x)
	}
	fmt.Fprintln(w)
	for _, x := range r.Paced {
		row(x)
	}
	for _, x := range r.Flood {
		row(x)
	}
	for _, x := range slices.Concat(r.Results, r.Paced, r.Flood) {
		if x.FirstErr != "" {
			fmt.Fprintf(w, "first error in %s: %s\n", x.Name, x.FirstErr)
		}
	}
	if r.Replication != nil {
		r.Replication.print(w)
	}
	if r.ServerErrors > 0 {
		fmt.Fprintf(w, "the server logged %d responses with status 500 or more\n", r.ServerErrors)
	}
	fmt.Fprintf(w, "\ntargets:\n")
	for _, t := range r.Targets {
		verdict := "NOT MET"
		if t.Met {
			verdict = "met"
		}
		fmt.Fprintf(w, "  %-48s want %-28s got %8.1f %-3s %s\n", t.What, t.Want, t.Got, t.Unit, verdict)
	}
	fmt.Fprintf(w, "\nwhole run: %.0f s\n", r.TotalSeconds)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func benchMachine() string {
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			s += " (" + strings.TrimSpace(string(m[1])) + ")"
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			s += fmt.Sprintf(", %.0f GB RAM", kb/1024/1024)
		}
	}
	return s + ", " + runtime.GOOS + "/" + runtime.GOARCH
}

// loadAvg is the 1, 5 and 15 minute load average: the benchmark shares the machine with whatever else runs.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// fileSizes is the size of the database with its write-ahead log.
func fileSizes(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

var serverErrorRE = regexp.MustCompile(`status=5\d\d`)

func countServerErrors(logPath string) int {
	f, err := os.Open(logPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if serverErrorRE.Match(sc.Bytes()) {
			n++
		}
	}
	return n
}

// benchServer is the server under test: a child process or, for profiling, a goroutine.
type benchServer interface {
	waitReady(base string, tr http.RoundTripper) (listening, firstOK time.Duration, err error)
	memory() (peakMB, nowMB float64)
	stop() error
}

type childServer struct {
	cmd     *exec.Cmd
	started time.Time
	ready   chan time.Duration
	done    chan error
	once    sync.Once
	stopErr error
}

func startChild(exe string, env map[string]string, logPath string) (*childServer, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTIER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &childServer{cmd: cmd, ready: make(chan time.Duration, 1), done: make(chan error, 1)}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				c.ready <- time.Since(c.started)
			}
		}
	}()
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	return c, nil
}

func (c *childServer) waitReady(base string, tr http.RoundTripper) (time.Duration, time.Duration, error) {
	var listening time.Duration
	select {
	case listening = <-c.ready:
	case err := <-c.done:
		c.done <- err
		return 0, 0, fmt.Errorf("bench: the server stopped during start-up: %v", err)
	case <-time.After(60 * time.Second):
		return 0, 0, errors.New("bench: the server did not start within 60 s")
	}
	firstOK, err := pollHealthz(base, tr, c.started)
	return listening, firstOK, err
}

func pollHealthz(base string, tr http.RoundTripper, since time.Time) (time.Duration, error) {
	cl := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := cl.Get(base + "/healthz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, errors.New("bench: /healthz never answered 200")
}

// memory reads the peak and current resident set size of the child from /proc.
func (c *childServer) memory() (float64, float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	field := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + `:\s*(\d+) kB`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		kb, _ := strconv.ParseFloat(string(m[1]), 64)
		return kb / 1024
	}
	return field("VmHWM"), field("VmRSS")
}

// stop ends the child with SIGTERM (a graceful shutdown), or SIGKILL when it does not stop in 30 s.
func (c *childServer) stop() error {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-c.done:
			c.stopErr = err
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			c.stopErr = errors.New("did not stop within 30 s after SIGTERM; killed")
		}
	})
	return c.stopErr
}

type inProcessServer struct {
	cancel  context.CancelFunc
	done    chan error
	stdout  *lockedBuf
	started time.Time
	once    sync.Once
	stopErr error
}

func startInProcess(env map[string]string, logPath string) (*inProcessServer, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &inProcessServer{cancel: cancel, done: make(chan error, 1), stdout: &lockedBuf{}, started: time.Now()}
	go func() {
		s.done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, s.stdout, logf)
		logf.Close()
	}()
	return s, nil
}

func (s *inProcessServer) waitReady(base string, tr http.RoundTripper) (time.Duration, time.Duration, error) {
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.stdout.String(), "listening on") {
		select {
		case err := <-s.done:
			return 0, 0, fmt.Errorf("bench: the server stopped during start-up: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return 0, 0, errors.New("bench: the server did not start within 60 s")
		}
		time.Sleep(time.Millisecond)
	}
	listening := time.Since(s.started)
	firstOK, err := pollHealthz(base, tr, s.started)
	return listening, firstOK, err
}

func (s *inProcessServer) memory() (float64, float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	field := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + `:\s*(\d+) kB`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		kb, _ := strconv.ParseFloat(string(m[1]), 64)
		return kb / 1024
	}
	return field("VmHWM"), field("VmRSS")
}

func (s *inProcessServer) stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(30 * time.Second):
			s.stopErr = errors.New("did not stop within 30 s")
		}
	})
	return s.stopErr
}

// lockedBuf collects the in-process server's output while it runs.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *lockedBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *lockedBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// connectedPath is the detail page of the organisation's item with related items and files.
func connectedPath(b *bench.BigOrg) string {
	return "/o/" + b.Slug + "/docs/configurations/" + strconv.FormatInt(b.Connected, 10)
}
