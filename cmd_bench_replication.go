package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"portier/bench"
)

// benchReplication is the replication scenario: the same data set served again with a file:// replica
// target, the list page measured as before, then the write mix (reveals, which write audit entries, and
// full sign-ins) while /readyz is sampled for the lag, and at the end a restore of the whole replica into
// an empty folder and a start on it (the recovery time without the time to notice the loss).
type benchReplication struct {
	SyncInterval   string       `json:"sync_interval"`
	SnapshotMS     float64      `json:"first_snapshot_ms"` // start to lag 0: the whole database shipped once
	ListOff        bench.Result `json:"list_without_replication"`
	ListOn         bench.Result `json:"list_with_replication"`
	ListRatio      float64      `json:"list_with_vs_without"`
	Reveals        bench.Result `json:"write_mix_reveals"`
	SignIns        bench.Result `json:"write_mix_signins"`
	LagSamples     int          `json:"lag_samples"`
	LagP50ms       float64      `json:"lag_p50_ms"`
	LagP95ms       float64      `json:"lag_p95_ms"`
	LagMaxms       float64      `json:"lag_max_ms"`
	CatchUpMS      float64      `json:"catch_up_ms"` // end of the mix to lag 0
	ReplicaBytes   int64        `json:"replica_bytes"`
	RestoreMS      float64      `json:"restore_ms"`
	RestoreStartMS float64      `json:"restore_and_start_ms"` // restore + start until the first /healthz 200
}

var lagLine = regexp.MustCompile(`replica 1 \(file\): lag ([0-9.]+[a-zµ]+)`)

// readLag asks /readyz for the first target's lag.
func readLag(ctx context.Context, c *http.Client, base string) (time.Duration, bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := lagLine.FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(string(m[1]))
	return d, err == nil
}

// runReplicationScenario restarts the server on dataDir with a replica in tmp/replica and measures.
// list measures the list page flat out exactly as its row without replication was measured (listOff); the
// write ops are the page scenarios' own, so sessions signed in earlier keep working (they live in the
// database) until the restore, which deliberately brings none back.
func runReplicationScenario(ctx context.Context, logw io.Writer, tmp, dataDir, base string, start func(env map[string]string, log string) (benchServer, error),
	srvEnv map[string]string, tr http.RoundTripper, clients, signinClients int, dur time.Duration,
	list func(name string) bench.Result, revealOp, signInOp bench.Op, listOff bench.Result) (*benchReplication, []string, error) {
	const every = time.Second
	r := &benchReplication{SyncInterval: every.String(), ListOff: listOff}
	replica, restored := filepath.Join(tmp, "replica"), filepath.Join(tmp, "restored")
	// A folder kept by --keep and used again with --reuse still holds the last run's replica and restore:
	// start from empty ones, or the figures (and the restore) would be of two runs.
	// Litestream's own state beside the database belongs to that old replica too.
	stale, _ := filepath.Glob(filepath.Join(dataDir, ".*-litestream*"))
	for _, dir := range append([]string{replica, restored}, stale...) {
		if err := os.RemoveAll(dir); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(replica, 0o700); err != nil { // a file:// target's folder must exist (replication.go)
		return nil, nil, err
	}
	env := map[string]string{}
	for k, v := range srvEnv {
		env[k] = v
	}
	env["PORTIER_REPLICA_URL"] = "file://" + replica
	env["PORTIER_REPLICA_SYNC_INTERVAL"] = every.String()
	logs := []string{filepath.Join(tmp, "server-replicating.log"), filepath.Join(tmp, "server-restored.log")}
	srv, err := start(env, logs[0])
	if err != nil {
		return nil, logs, err
	}
	defer srv.stop()
	began := time.Now()
	if _, _, err := srv.waitReady(base, tr); err != nil {
		return nil, logs, err
	}
	probe := bench.Client(tr)
	for {
		if lag, ok := readLag(ctx, probe, base); ok && lag == 0 {
			if _, err := os.Stat(filepath.Join(replica, "ltx", "9")); err == nil {
				break
			}
		}
		if time.Since(began) > 5*time.Minute {
			return nil, logs, fmt.Errorf("bench: the replica did not get its first snapshot within 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.SnapshotMS = ms(time.Since(began))
	fmt.Fprintf(logw, "replicating: first snapshot shipped after %s\n", time.Since(began).Round(time.Millisecond))

	fmt.Fprintf(logw, "measuring list page with replication on (%d clients, %s) ...\n", clients, dur)
	r.ListOn = list("list page (50 rows), replicating")
	if listOff.RPS > 0 {
		r.ListRatio = r.ListOn.RPS / listOff.RPS
	}

	fmt.Fprintf(logw, "measuring the replication lag during the write mix (reveals and sign-ins, %s) ...\n", dur)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var lags []time.Duration
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if lag, ok := readLag(ctx, probe, base); ok {
				lags = append(lags, lag)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	var mix sync.WaitGroup
	mix.Go(func() { r.Reveals = bench.Run(ctx, "reveal (POST), replicating", clients/2, dur, revealOp) })
	mix.Go(func() { r.SignIns = bench.Run(ctx, "full sign-in, replicating", signinClients, dur, signInOp) })
	mix.Wait()
	mixEnd := time.Now()
	for deadline := mixEnd.Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if lag, ok := readLag(ctx, probe, base); ok && lag == 0 && time.Since(mixEnd) > every {
			break
		}
	}
	r.CatchUpMS = ms(time.Since(mixEnd))
	close(stop)
	wg.Wait()
	slices.Sort(lags)
	r.LagSamples = len(lags)
	if len(lags) > 0 {
		r.LagP50ms, r.LagP95ms, r.LagMaxms = ms(bench.Percentile(lags, 50)), ms(bench.Percentile(lags, 95)), ms(lags[len(lags)-1])
	}
	if err := srv.stop(); err != nil {
		fmt.Fprintf(logw, "server stop: %v\n", err)
	}
	r.ReplicaBytes = dirSize(replica)

	// The machine is lost: restore the whole replica into an empty folder and start on it.
	fmt.Fprintf(logw, "restoring the replica (%.1f MB) into an empty folder and starting on it ...\n", float64(r.ReplicaBytes)/1e6)
	if err := os.MkdirAll(restored, 0o700); err != nil {
		return nil, logs, err
	}
	if err := os.Link(filepath.Join(dataDir, "secret.key"), filepath.Join(restored, "secret.key")); err != nil {
		return nil, logs, err
	}
	renv := map[string]string{}
	for k, v := range env {
		renv[k] = v
	}
	renv["PORTIER_DATA"] = restored
	cfg, err := configFrom(renv)
	if err != nil {
		return nil, logs, err
	}
	t0 := time.Now()
	if _, _, err := restoreFromReplica(ctx, cfg, cfg.Replicas, time.Time{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err != nil {
		return nil, logs, fmt.Errorf("bench: restore: %w", err)
	}
	r.RestoreMS = ms(time.Since(t0))
	delete(renv, "PORTIER_REPLICA_URL") // measure the start, not a second replica
	srv2, err := start(renv, logs[1])
	if err != nil {
		return nil, logs, err
	}
	defer srv2.stop()
	if _, _, err := srv2.waitReady(base, tr); err != nil {
		return nil, logs, err
	}
	r.RestoreStartMS = ms(time.Since(t0))
	if _, err := bench.Do(ctx, probe, http.MethodGet, base+"/readyz", "", http.StatusOK); err != nil {
		return nil, logs, fmt.Errorf("bench: the restored portal is not ready: %w", err)
	}
	// Sessions are never restored (a restored database signs nobody in): a full sign-in shows the restored
	// portal works, people, second factors and all.
	if err := signInOp(ctx, 0); err != nil {
		return nil, logs, fmt.Errorf("bench: signing in on the restored portal: %w", err)
	}
	return r, logs, srv2.stop()
}

// configFrom parses settings from an environment map, as serve would.
func configFrom(env map[string]string) (*config, error) {
	s := newSettings()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.register(fs, func(k string) string { return env[k] })
	if err := fs.Parse(nil); err != nil {
		return nil, err
	}
	return s.parse()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func (r *benchReplication) print(w io.Writer) {
	fmt.Fprintf(w, "\nreplication to a file:// target (sync interval %s); replica %.1f MB, first snapshot shipped %.0f ms after start\n",
		r.SyncInterval, float64(r.ReplicaBytes)/1e6, r.SnapshotMS)
	fmt.Fprintf(w, "  list page: %.0f req/s without, %.0f req/s with replication (%.0f%%)\n", r.ListOff.RPS, r.ListOn.RPS, 100*r.ListRatio)
	fmt.Fprintf(w, "  write mix: %.0f reveals/s and %.0f sign-ins/s; lag p50 %.0f ms, p95 %.0f ms, max %.0f ms (%d samples); caught up %.0f ms after the mix\n",
		r.Reveals.RPS, r.SignIns.RPS, r.LagP50ms, r.LagP95ms, r.LagMaxms, r.LagSamples, r.CatchUpMS)
	fmt.Fprintf(w, "  restore of the whole replica into an empty folder: %.0f ms; restore + start to the first /healthz 200: %.0f ms\n", r.RestoreMS, r.RestoreStartMS)
	for _, x := range []bench.Result{r.ListOn, r.Reveals, r.SignIns} {
		if x.FirstErr != "" {
			fmt.Fprintf(w, "  first error in %s: %s\n", x.Name, x.FirstErr)
		}
	}
}
