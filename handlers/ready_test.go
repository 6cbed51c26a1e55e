package handlers

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/db"
)

func TestReadyz(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	resp, body := e.get("/readyz", nil)
	if resp.StatusCode != 200 || body != "ok\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("readyz: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	// The write probe is rolled back: nothing is left behind.
	if v, err := e.db.Setting(ctx, "readyz.probe", "none"); err != nil || v != "none" {
		t.Fatalf("probe row left behind: %q %v", v, err)
	}

	// A queued mail is fine while it is young; 15 minutes without getting out is a stuck queue.
	err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		return db.EnqueueMail(ctx, tx, e.srv.cfg.Sealer, e.clock.Now(), "kunde@example.com", "mail.test", "Hallo", "Text", "")
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(14 * time.Minute)
	if resp, body := e.get("/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("young queue: %d %q", resp.StatusCode, body)
	}
	e.clock.Advance(2 * time.Minute)
	resp, body = e.get("/readyz", nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "mail queue stuck") {
		t.Fatalf("stuck queue: %d %q", resp.StatusCode, body)
	}
	// Sent mail does not count.
	ms := e.mails()
	if len(ms) != 1 {
		t.Fatalf("mails: %d", len(ms))
	}
	if err := e.db.MailSent(ctx, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.get("/readyz", nil); resp.StatusCode != 200 {
		t.Fatalf("after sending: %d %q", resp.StatusCode, body)
	}

	// A database that takes no writes is not ready, while /healthz (alive) still answers.
	e.db.W.Close()
	resp, body = e.get("/readyz", nil)
	if resp.StatusCode != 503 || body != "database not writable\n" {
		t.Fatalf("closed writer: %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.get("/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz with a closed writer: %d", resp.StatusCode)
	}
}

// TestReadyzReplicas: with replication on, /readyz lists each target's lag by number and kind (never its
// URL) and answers 503 when one is behind or unreachable past the limit.
func TestReadyzReplicas(t *testing.T) {
	var mu sync.Mutex
	states := []ReplicaState{
		{N: 1, Scheme: "s3", Lag: 300 * time.Millisecond, OK: true},
		{N: 2, Scheme: "sftp", OK: true},
	}
	e := newTestEnv(t, func(c *testConfig) {
		c.Replicas = func() []ReplicaState { mu.Lock(); defer mu.Unlock(); return append([]ReplicaState(nil), states...) }
	})
	resp, body := e.get("/readyz", nil)
	if resp.StatusCode != 200 || body != "ok\nreplica 1 (s3): lag 300ms\nreplica 2 (sftp): lag 0s\n" {
		t.Fatalf("in sync: %d %q", resp.StatusCode, body)
	}
	mu.Lock()
	states[1] = ReplicaState{N: 2, Scheme: "sftp", Lag: 90 * time.Second, Down: 95 * time.Second, Problem: "unreachable for 1m35s"}
	mu.Unlock()
	resp, body = e.get("/readyz", nil)
	if resp.StatusCode != 503 || body != "replication behind\nreplica 1 (s3): lag 300ms\nreplica 2 (sftp): lag 1m30s, unreachable for 1m35s\n" {
		t.Fatalf("behind: %d %q", resp.StatusCode, body)
	}
}
