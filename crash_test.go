package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portier/auth"
	"portier/bench"
	"portier/db"
	"portier/testkit"
)

// Tests that run the real binary as a child process: killed hard, stopped gently.

// buildBinary builds portier once per test into its temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portier")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is `portier serve` running as its own process.
type child struct {
	cmd     *exec.Cmd
	base    string
	stderr  *syncBuf
	exited  chan struct{}
	waitErr error
}

// runChild starts the binary on dataDir and waits for its "listening" line.
func runChild(t *testing.T, bin, dataDir string, port int, extra ...string) *child {
	t.Helper()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "PORTIER_ADDR=127.0.0.1:"+strconv.Itoa(port), "PORTIER_DATA="+dataDir,
		"PORTIER_BASE_URL="+base, "PORTIER_MSP_NAME=Crash IT")
	cmd.Env = append(cmd.Env, extra...)
	c := &child{cmd: cmd, base: base, stderr: &syncBuf{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "listening on") {
				close(ready)
				signalled = true
			}
		}
	}()
	go func() { c.waitErr = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	select {
	case <-ready:
	case <-c.exited:
		t.Fatalf("serve exited during start-up: %v\n%s", c.waitErr, c.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start:\n%s", c.stderr.String())
	}
	return c
}

func (c *child) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(d):
		t.Fatalf("serve still running %s after the signal\n%s", d, c.stderr.String())
	}
}

// staffSeed is what seedStaff put into a data folder before the first start.
type staffSeed struct {
	email, password string
	totp            []byte
	org             *db.Org
	items           []int64 // passwords items, one per writer
}

// seedStaff creates, straight in the database, an organisation with items and a technician who can sign
// in with a password and an authenticator app of a known secret.
func seedStaff(t *testing.T, dataDir string, items int) *staffSeed {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := db.LoadOrCreateKey(filepath.Join(dataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sd := &staffSeed{email: "tech@crash.example", password: "Absturz-Sicher#2026", totp: []byte("crash-test-totp-key!")}
	phc, err := auth.NewHasher(1).Hash(ctx, sd.password)
	if err != nil {
		t.Fatal(err)
	}
	terms, err := d.CurrentTerms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sd.org, err = d.CreateOrg(ctx, "Absturz GmbH", "absturz"); err != nil {
		t.Fatal(err)
	}
	var uid int64
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		var err error
		if uid, _, err = db.EnsureUser(ctx, tx, now, sd.email, "Toni Technik", "en"); err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, now, uid, phc); err != nil {
			return err
		}
		if err := db.SetStaffRole(ctx, tx, uid, "technician"); err != nil {
			return err
		}
		if err := db.AcceptTerms(ctx, tx, now, uid, terms.Version, "127.0.0.1"); err != nil {
			return err
		}
		_, err = db.AddTOTP(ctx, tx, sealer, now, uid, "Phone", sd.totp, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.MarkSetupShown(ctx, uid); err != nil {
		t.Fatal(err)
	}
	for i := range items {
		id, err := d.DocCreate(ctx, sealer, db.DocChange{OrgID: sd.org.ID, Area: "passwords", Name: fmt.Sprintf("item-%d", i),
			Fields: map[string]string{"username": "admin"}, Secrets: map[string]string{"password": "initial"}}, db.DocActor{Name: "Seed"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sd.items = append(sd.items, id)
	}
	return sd
}

// writeLog is what one writer sent: every acknowledged write, and the one that was under way when the
// server died (it may or may not have been stored).
type writeLog struct {
	mu       sync.Mutex
	acked    map[int64]itemState // item → last acknowledged state
	inFlight map[int64]itemState
	invites  []string // acknowledged invitation addresses
}

type itemState struct {
	name, secret string
	version      int
}

// TestCrashKeepsAcknowledgedWrites kills the server with SIGKILL while staff edit documentation, change
// secrets and invite people, three times. Every write that was answered (303) must be there after the
// restart, and the database must pass integrity_check.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	const writers = 4
	sd := seedStaff(t, dataDir, writers)
	port := freePort(t)
	ctx := context.Background()
	jar := bench.Client(http.DefaultTransport)
	steps := &bench.Steps{}
	log := &writeLog{acked: map[int64]itemState{}, inFlight: map[int64]itemState{}}
	versions := map[int64]int{}
	for _, id := range sd.items {
		versions[id] = 1
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	total := len(sd.items)
	for round := range 3 {
		c := runChild(t, bin, dataDir, port)
		if round == 0 {
			if _, err := bench.SignIn(ctx, jar, c.base, sd.email, sd.password, sd.totp, steps); err != nil {
				t.Fatalf("sign-in: %v\n%s", err, c.stderr.String())
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				crashWriter(ctx, jar, c.base, sd, w, round, versions[sd.items[w]], log, stop)
			}()
		}
		// Kill at a random moment while the writes run.
		time.Sleep(time.Duration(200+rnd.IntN(800)) * time.Millisecond)
		c.signal(t, syscall.SIGKILL)
		c.wait(t, 10*time.Second)
		close(stop)
		wg.Wait()

		// Every acknowledged write is there; a write under way at the kill is either fully there or not.
		d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		var ok string
		if err := d.R.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("round %d: integrity_check %q %v", round, ok, err)
		}
		key, _ := db.LoadOrCreateKey(filepath.Join(dataDir, "secret.key"))
		sealer, _ := db.NewSealer(key)
		staff := db.DocScope{OrgID: sd.org.ID, StaffView: true}
		log.mu.Lock()
		for _, id := range sd.items {
			it, err := d.DocGet(ctx, staff, "passwords", id)
			if err != nil {
				t.Fatalf("round %d: item %d: %v", round, id, err)
			}
			secret, err := d.DocSecret(ctx, sealer, staff, "passwords", id, "password")
			if err != nil {
				t.Fatalf("round %d: secret of %d: %v", round, id, err)
			}
			got := itemState{name: it.Name, secret: secret, version: it.Version}
			want, acked := log.acked[id]
			fly, flying := log.inFlight[id]
			switch {
			case acked && got == want:
			case flying && got == fly:
			case !acked && !flying && got.version == versions[id]:
			default:
				t.Fatalf("round %d: item %d is %+v; last acknowledged %+v (%v), under way %+v (%v)", round, id, got, want, acked, fly, flying)
			}
			total += it.Version - versions[id]
			versions[id] = it.Version
		}
		for _, e := range log.invites {
			u, err := d.UserByEmail(ctx, e)
			if err != nil {
				t.Fatalf("round %d: invited person %s: %v", round, e, err)
			}
			if _, err := d.OpenInvitation(ctx, u.ID, sd.org.ID); err != nil {
				t.Fatalf("round %d: acknowledged invitation of %s: %v", round, e, err)
			}
		}
		clear(log.inFlight)
		log.mu.Unlock()
		d.Close()
	}
	if len(log.acked) == 0 || len(log.invites) == 0 {
		t.Fatalf("nothing was acknowledged (%d items, %d invitations): the test did not test", len(log.acked), len(log.invites))
	}
	t.Logf("3 kills: %d saves (name and secret) and %d invitations acknowledged, all there", total-len(sd.items), len(log.invites))
}

// crashWriter edits its own item (name and stored password) and invites people, one request at a time,
// until the server dies or stop closes.
func crashWriter(ctx context.Context, c *http.Client, base string, sd *staffSeed, w, round, version int, log *writeLog, stop chan struct{}) {
	id := sd.items[w]
	path := fmt.Sprintf("/o/%s/docs/passwords/%d", sd.org.Slug, id)
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if n%3 == 2 {
			email := fmt.Sprintf("inv-%d-%d-%d@crash.example", round, w, n)
			form := url.Values{"email": {email}, "name": {"Eingeladen"}, "role": {"viewer"}, "lang": {"de"}}
			// No mail server here: staff get the page with the link to pass on (200), not a redirect.
			if _, err := bench.Do(ctx, c, http.MethodPost, base+"/o/"+sd.org.Slug+"/people/invite", form.Encode(), http.StatusOK); err != nil {
				return
			}
			log.mu.Lock()
			log.invites = append(log.invites, email)
			log.mu.Unlock()
			continue
		}
		next := itemState{name: fmt.Sprintf("item-%d r%d n%d", w, round, n), secret: fmt.Sprintf("geheim-%d-%d-%d", w, round, n), version: version + 1}
		log.mu.Lock()
		log.inFlight[id] = next
		log.mu.Unlock()
		form := url.Values{"name": {next.name}, "username": {"admin"}, "password": {next.secret}, "version": {strconv.Itoa(version)}}
		_, err := bench.Do(ctx, c, http.MethodPost, base+path, form.Encode(), http.StatusSeeOther)
		if err != nil {
			return // the server died: this write may or may not have been stored
		}
		log.mu.Lock()
		log.acked[id] = next
		delete(log.inFlight, id)
		log.mu.Unlock()
		version++
	}
}

// TestGracefulShutdown: on SIGTERM a request under way (a sign-in, which hashes for a while) still gets
// its answer, new connections are refused, the process exits by itself, and mail waiting in the outbox
// stays there and goes out after the restart.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	sd := seedStaff(t, dataDir, 0)
	port := freePort(t)
	ctx := context.Background()

	// Queue a mail while no server runs: the mail server refuses everything for now.
	smtp := testkit.SMTP(t)
	smtp.Fail(1 << 20)
	c := runChild(t, bin, dataDir, port, "PORTIER_SMTP_URL="+smtp.URL())
	cl := bench.Client(http.DefaultTransport)
	steps := &bench.Steps{}
	if _, err := bench.SignIn(ctx, cl, c.base, sd.email, sd.password, sd.totp, steps); err != nil {
		t.Fatalf("sign-in: %v\n%s", err, c.stderr.String())
	}
	// An invitation mail goes into the outbox; the refusing mail server keeps it there.
	form := url.Values{"email": {"wartet@crash.example"}, "name": {"Wartende"}, "role": {"viewer"}, "lang": {"de"}}
	if _, err := bench.Do(ctx, cl, http.MethodPost, c.base+"/o/"+sd.org.Slug+"/people/invite", form.Encode(), http.StatusSeeOther); err != nil {
		t.Fatal(err)
	}

	// A request under way: a sign-in (argon2id hashing, then writes). Its headers and half its body are
	// on the server when SIGTERM comes; the rest follows after the signal.
	body := url.Values{"email": {sd.email}, "password": {sd.password}}.Encode()
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		strings.TrimPrefix(c.base, "http://"), len(body), body[:len(body)/2])
	time.Sleep(300 * time.Millisecond) // accepted and reading the body
	c.signal(t, syscall.SIGTERM)
	// The listener closes: new connections are refused while the old request is still running (it cannot
	// finish: half its body is still here).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := (&http.Client{Timeout: time.Second, Transport: &http.Transport{}}).Get(c.base + "/healthz")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new connections were still served 5 s after SIGTERM")
		}
	}
	if _, err := io.WriteString(conn, body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request under way at SIGTERM got no answer: %v\n%s", err, c.stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("the request under way answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c.wait(t, 25*time.Second)
	if c.waitErr != nil {
		t.Fatalf("serve exited with %v after SIGTERM\n%s", c.waitErr, c.stderr.String())
	}
	log := c.stderr.String()
	if !strings.Contains(log, "shutting down") || strings.Contains(log, "level=ERROR") {
		t.Fatalf("no shutdown line, or errors, in the log:\n%s", log)
	}
	// The mail is still queued (not lost, not marked sent).
	d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	queued, sent, failed, _, err := d.OutboxStats(ctx)
	d.Close()
	if err != nil || queued != 1 || sent != 0 || failed != 0 {
		t.Fatalf("outbox after shutdown: %d queued, %d sent, %d failed (%v)", queued, sent, failed, err)
	}
	// After the restart it goes out (the mail server now accepts; the retry is due after its backoff, so
	// the test moves the due time instead of waiting 30 s).
	smtp.Fail(0)
	makeMailDue(t, dataDir)
	c2 := runChild(t, bin, dataDir, port, "PORTIER_SMTP_URL="+smtp.URL())
	msg := smtp.WaitFor(t, "wartet@crash.example", 15*time.Second)
	if !strings.Contains(msg.Text, "/invite/") {
		t.Fatalf("the mail after the restart is not the invitation:\n%s", msg.Text)
	}
	c2.signal(t, syscall.SIGTERM)
	c2.wait(t, 25*time.Second)
}

// makeMailDue makes every queued mail due now (the worker's backoff after a refused delivery is 30 s).
func makeMailDue(t *testing.T, dataDir string) {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(dataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.W.Exec(`UPDATE outbox SET next_attempt_at = 0 WHERE sent_at IS NULL`); err != nil {
		t.Fatal(err)
	}
}
