package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if len(rep.Results) != 10 || len(rep.Flood) != 3 || len(rep.Paced) != 2 || rep.PeakRSSMB <= 0 || rep.StartupMS <= 0 || rep.Dataset.Items != 1500 {
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
	for _, want := range []string{"list page (50 rows)", "detail, 10 related + 3 files", "full sign-in (password + TOTP)", "vs healthz", "targets:", "peak RSS", "with replication", "restore + start"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, stdout.String())
		}
	}
}
