package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"golang.org/x/crypto/ssh"

	"portier/bench"
	"portier/db"
)

// Real replica servers for the tests: Debian's OpenSSH server for sftp://, gofakes3 (an S3-protocol
// server in the test process) for s3://.

// sftpServer is an sshd started for one test on a loopback port.
type sftpServer struct {
	addr, keyFile, hostKey, root string
}

// startSFTP runs /usr/sbin/sshd -D on a free loopback port with a temporary host key and one authorized
// key, serving SFTP as the current user. Without sshd the test skips, except under CI=true, where the
// test command (scripts/ensure-deps.sh) installs it and its absence is a failure.
func startSFTP(t *testing.T) *sftpServer {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: the SFTP tests need Debian's openssh-server (scripts/ensure-deps.sh installs it)", sshd)
		}
		t.Skipf("%s is missing: install openssh-server (or run `go tool task test`) for the SFTP tests", sshd)
	}
	dir := t.TempDir()
	writeKey := func(name string) ssh.PublicKey {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	hostPub := writeKey("host_ed25519")
	clientPub := writeKey("client_ed25519")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd run as root wants its privilege-separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
`, port, dir, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logBuf := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logBuf, logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("sshd exited: %s", logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen on %s: %s", addr, logBuf.String())
		}
	}
	root := filepath.Join(dir, "files")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	return &sftpServer{addr: addr, keyFile: filepath.Join(dir, "client_ed25519"),
		hostKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub))), root: root}
}

// env is the replica configuration for a target in folder name on the server.
func (s *sftpServer) env(name string) []string {
	u, err := osuser.Current()
	if err != nil {
		panic(err)
	}
	return []string{
		"PORTIER_REPLICA_URL=sftp://" + u.Username + "@" + s.addr + filepath.Join(s.root, name),
		"PORTIER_REPLICA_SFTP_KEY=" + s.keyFile,
		"PORTIER_REPLICA_SFTP_HOST_KEY=" + s.hostKey,
	}
}

// s3Server is gofakes3 on a loopback port; down makes it answer 503 to everything (an outage).
type s3Server struct {
	url  string
	down atomic.Bool
}

func startS3(t *testing.T, bucket string) *s3Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s := &s3Server{}
	fake := gofakes3.New(backend).Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

func (s *s3Server) env(bucket, path string) []string {
	return []string{
		"PORTIER_REPLICA_URL=s3://" + bucket + "/" + path,
		"PORTIER_REPLICA_S3_ENDPOINT=" + s.url,
		"PORTIER_REPLICA_S3_REGION=us-east-1",
		"PORTIER_REPLICA_S3_ACCESS_KEY_ID=drill",
		"PORTIER_REPLICA_S3_SECRET_ACCESS_KEY=drill-secret",
		"AWS_CA_BUNDLE=", // set on some machines; Litestream's S3 client cannot use it (config refuses it)
	}
}

// TestDrillLoseTheVM is the disaster drill, once per kind of target: the real binary serves while staff
// change documentation (names and stored passwords) and invite people; it is killed with SIGKILL and its
// data folder deleted; a second binary with an empty data folder, the same replica settings,
// PORTIER_RESTORE_IF_MISSING and the key typed in from the recovery sheet restores and serves. Every
// write acknowledged more than the sync interval before the kill must be there, the secrets must reveal,
// and integrity_check must pass. It prints the measured RPO and RTO.
func TestDrillLoseTheVM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("file", func(t *testing.T) {
		drill(t, bin, []string{"PORTIER_REPLICA_URL=file://" + t.TempDir()})
	})
	t.Run("sftp", func(t *testing.T) {
		drill(t, bin, startSFTP(t).env("portier"))
	})
	t.Run("s3", func(t *testing.T) {
		drill(t, bin, startS3(t, "drill").env("drill", "portier"))
	})
}

// ackedWrite is one write the server answered, with the time of the answer.
type ackedWrite struct {
	item    int64 // 0 for an invitation
	state   itemState
	invite  string
	ackedAt time.Time
}

func drill(t *testing.T, bin string, replicaEnv []string) {
	const (
		writers      = 4
		syncInterval = time.Second
	)
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	sd := seedStaff(t, dataDir, writers)
	env := append([]string{"PORTIER_REPLICA_SYNC_INTERVAL=" + syncInterval.String()}, replicaEnv...)
	port := freePort(t)
	c := runChild(t, bin, dataDir, port, env...)

	// The key, as the operator keeps it: the recovery sheet, typed back into a file off the data folder.
	out, err := exec.Command(bin, "key", "export", "--data", dataDir).Output()
	if err != nil || !strings.Contains(string(out), "this key opens the database's check value") {
		t.Fatalf("key export: %v\n%s", err, out)
	}
	sheet := filepath.Join(t.TempDir(), "key-sheet.txt")
	if err := os.WriteFile(sheet, out, 0o600); err != nil {
		t.Fatal(err)
	}

	jar := bench.Client(http.DefaultTransport)
	steps := &bench.Steps{}
	if _, err := bench.SignIn(ctx, jar, c.base, sd.email, sd.password, sd.totp, steps); err != nil {
		t.Fatalf("sign-in: %v\n%s", err, c.stderr.String())
	}
	var mu sync.Mutex
	var acked []ackedWrite
	inFlight := map[int64]itemState{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := sd.items[w]
			path := fmt.Sprintf("%s/o/%s/docs/passwords/%d", c.base, sd.org.Slug, id)
			version := 1
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if n%3 == 2 {
					email := fmt.Sprintf("drill-%d-%d@kunde.example", w, n)
					form := url.Values{"email": {email}, "name": {"Eingeladen"}, "role": {"viewer"}, "lang": {"de"}}
					if _, err := bench.Do(ctx, jar, http.MethodPost, c.base+"/o/"+sd.org.Slug+"/people/invite", form.Encode(), http.StatusSeeOther); err != nil {
						return
					}
					mu.Lock()
					acked = append(acked, ackedWrite{invite: email, ackedAt: time.Now()})
					mu.Unlock()
					continue
				}
				next := itemState{name: fmt.Sprintf("item-%d n%d", w, n), secret: fmt.Sprintf("WLAN-Schlüssel %d/%d", w, n), version: version + 1}
				mu.Lock()
				inFlight[id] = next
				mu.Unlock()
				form := url.Values{"name": {next.name}, "username": {"admin"}, "password": {next.secret}, "version": {strconv.Itoa(version)}}
				if _, err := bench.Do(ctx, jar, http.MethodPost, path, form.Encode(), http.StatusSeeOther); err != nil {
					return // the server died: this write may or may not have been replicated
				}
				mu.Lock()
				acked = append(acked, ackedWrite{item: id, state: next, ackedAt: time.Now()})
				delete(inFlight, id)
				mu.Unlock()
				version++
			}
		})
	}
	// Let the writes run for a few sync intervals, then lose the machine at a random moment.
	time.Sleep(3*time.Second + time.Duration(mrand.IntN(1000))*time.Millisecond)
	c.signal(t, syscall.SIGKILL)
	killed := time.Now()
	c.wait(t, 10*time.Second)
	close(stop)
	wg.Wait()
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}

	// The new machine: an empty data folder, the same settings, the key from the sheet.
	port2 := freePort(t)
	c2 := runChild(t, bin, dataDir, port2, append(env, "PORTIER_RESTORE_IF_MISSING=true", "PORTIER_SECRET_KEY_FILE="+sheet)...)
	var rto time.Duration
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := bench.Do(ctx, http.DefaultClient, http.MethodGet, c2.base+"/readyz", "", http.StatusOK); err == nil {
			rto = time.Since(killed)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored portal is not ready within 60 s:\n%s", c2.stderr.String())
		}
	}
	if !strings.Contains(c2.stderr.String(), "database restored from the replica") {
		t.Fatalf("no restore in the log:\n%s", c2.stderr.String())
	}

	// What is there: straight from the restored file, with the key from the sheet.
	d, err := db.Open(ctx, filepath.Join(dataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ok string
	if err := d.R.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check %q %v", ok, err)
	}
	staff := db.DocScope{OrgID: sd.org.ID, StaffView: true}
	current := map[int64]int{} // item → restored version
	for _, id := range sd.items {
		it, err := d.DocGet(ctx, staff, "passwords", id)
		if err != nil {
			t.Fatalf("item %d: %v", id, err)
		}
		current[id] = it.Version
	}
	mu.Lock()
	defer mu.Unlock()
	mustHave := killed.Add(-syncInterval)
	var oldestLost time.Duration // RPO: how far before the kill the lost writes reach
	var missingN, required int
	latest := map[int64]ackedWrite{} // newest acknowledged state per item that must be there
	for _, a := range acked {
		there := true
		if a.item != 0 {
			there = current[a.item] >= a.state.version
			if a.ackedAt.Before(mustHave) {
				if l, seen := latest[a.item]; !seen || a.state.version > l.state.version {
					latest[a.item] = a
				}
			}
		} else if u, err := d.UserByEmail(ctx, a.invite); err != nil {
			there = false
		} else if _, err := d.OpenInvitation(ctx, u.ID, sd.org.ID); err != nil {
			there = false
		}
		if a.ackedAt.Before(mustHave) {
			required++
			if !there {
				t.Errorf("write acknowledged %s before the kill is lost: %+v", killed.Sub(a.ackedAt).Round(time.Millisecond), a)
			}
		}
		if !there {
			missingN++
			oldestLost = max(oldestLost, killed.Sub(a.ackedAt))
		}
	}
	if required == 0 {
		t.Fatalf("nothing was acknowledged a sync interval before the kill (%d writes): the drill did not drill", len(acked))
	}

	// The restored portal reveals each item's secret as the restored version has it.
	jar2 := bench.Client(http.DefaultTransport)
	if _, err := bench.SignIn(ctx, jar2, c2.base, sd.email, sd.password, sd.totp, steps); err != nil {
		t.Fatalf("sign-in on the restored portal: %v\n%s", err, c2.stderr.String())
	}
	for _, id := range sd.items {
		want := "initial"
		for _, a := range acked {
			if a.item == id && a.state.version == current[id] {
				want = a.state.secret
			}
		}
		if fly, ok := inFlight[id]; ok && fly.version == current[id] {
			want = fly.secret
		}
		if l, ok := latest[id]; ok && current[id] < l.state.version {
			t.Fatalf("item %d restored at version %d, older than %d acknowledged before the sync window", id, current[id], l.state.version)
		}
		body, err := bench.Do(ctx, jar2, http.MethodPost, fmt.Sprintf("%s/o/%s/docs/passwords/%d/secret/password", c2.base, sd.org.Slug, id), "", http.StatusOK)
		if err != nil || !strings.Contains(body, htmlEscape(want)) {
			t.Fatalf("item %d (version %d): reveal %v, want %q in\n%s", id, current[id], err, want, body)
		}
	}
	rpo := "0 (no acknowledged write lost)"
	if missingN > 0 {
		rpo = fmt.Sprintf("%s (%d acknowledged writes lost, the oldest of them acknowledged %s before the kill)", oldestLost.Round(time.Millisecond), missingN, oldestLost.Round(time.Millisecond))
	}
	t.Logf("drill %s: %d writes acknowledged (%d of them more than %s before the kill, all there); RPO %s; RTO %s (SIGKILL to the first 200 from /readyz of the restored portal)",
		t.Name(), len(acked), required, syncInterval, rpo, rto.Round(time.Millisecond))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
