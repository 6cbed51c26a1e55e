package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/db"
)

// sealedSetting stores plaintext sealed with the data folder's key file in the settings table, the way
// every secret column is stored: sealed, bound to its table, column and row.
func sealedSetting(t testing.TB, d *db.DB, dataDir, key, plaintext string) {
	t.Helper()
	s := sealerFor(t, filepath.Join(dataDir, "secret.key"))
	blob, err := s.Seal("settings", "value", 0, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetSetting(context.Background(), key, base64.StdEncoding.EncodeToString(blob)); err != nil {
		t.Fatal(err)
	}
}

func sealerFor(t testing.TB, keyPath string) *db.Sealer {
	t.Helper()
	k, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.NewSealer(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openSealed reads the sealed setting back from the database file at dbPath and opens it with the key file.
func openSealed(t testing.TB, dbPath, keyPath, key string) (string, error) {
	t.Helper()
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v, err := d.Setting(context.Background(), key, "")
	if err != nil || v == "" {
		t.Fatalf("sealed setting %s missing: %v", key, err)
	}
	blob, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := sealerFor(t, keyPath).Open("settings", "value", 0, blob)
	return string(pt), err
}

// stop ends a portier started by startPortier and leaves its result for the test's cleanup.
func (p *portier) stop(t testing.TB) {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
		p.done <- nil
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// signIn posts the sign-in form and reports whether it started a session.
func signIn(t testing.TB, base, email, password string) bool {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusSeeOther && cookieNamed(resp, "portier_session") != nil
}

// TestBackupUnderLoadRestoreAndServe makes a backup while writes go on, restores it into a fresh folder with
// `portier restore`, starts the portal on it and finds the data, including a sealed secret that opens with
// the same key file (and not with another).
func TestBackupUnderLoadRestoreAndServe(t *testing.T) {
	p := startPortier(t, nil)
	ctx := context.Background()
	createTestUser(t, p, "anna@muster-it.example", "Zugang-Sicher#2026")
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sealedSetting(t, d, p.DataDir, "test.wifi", "WLAN-Schlüssel: Sommer-Regen-42")

	// Load: writes through the db package and page views through HTTP, until the backup is done.
	var committed atomic.Int64
	committed.Store(-1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := int64(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := d.SetSetting(ctx, fmt.Sprintf("load.%06d", i), strings.Repeat("x", int(i%300))); err != nil {
				t.Error(err)
				return
			}
			committed.Store(i)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Get(p.BaseURL + "/")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}
	}()
	for committed.Load() < 200 { // the load is well under way
		time.Sleep(5 * time.Millisecond)
	}
	before := committed.Load()
	out := filepath.Join(t.TempDir(), "portier-backup.db")
	msg, err := p.cmd(t, "backup", "--out", out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, msg)
	}
	after := committed.Load()
	t.Logf("writes before the backup: %d, until it ended: %d", before, after)

	// Restore into a fresh folder: the key file is not in the backup, and restore says so.
	fresh := filepath.Join(t.TempDir(), "data")
	var outBuf syncBuf
	getenv := func(k string) string { return map[string]string{"PORTIER_DATA": fresh}[k] }
	if err := run(ctx, []string{"restore", "--from", out}, getenv, &outBuf, &outBuf); err != nil {
		t.Fatalf("restore: %v\n%s", err, outBuf.String())
	}
	if !strings.Contains(outBuf.String(), "there is no key file") {
		t.Fatalf("restore did not warn about the missing key file:\n%s", outBuf.String())
	}
	if st, err := os.Stat(filepath.Join(fresh, "portier.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v %v", st, err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("restored data folder: %v %v", st, err)
	}
	// A second restore refuses to overwrite what is now a live database.
	outBuf = syncBuf{}
	err = run(ctx, []string{"restore", "--from", out, "--data", fresh}, func(string) string { return "" }, &outBuf, &outBuf)
	if err == nil || !strings.Contains(err.Error(), "already holds a database") || !strings.Contains(err.Error(), "stop the portal") {
		t.Fatalf("restore over a live database: %v", err)
	}
	keyCopy, err := os.ReadFile(filepath.Join(p.DataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "secret.key"), keyCopy, 0o600); err != nil {
		t.Fatal(err)
	}

	// The portal runs on the restored folder and has the data.
	p2 := startPortier(t, map[string]string{"PORTIER_DATA": fresh})
	if resp, body := httpGet(t, p2.BaseURL+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz on the restored portal: %d %q", resp.StatusCode, body)
	}
	if !signIn(t, p2.BaseURL, "anna@muster-it.example", "Zugang-Sicher#2026") {
		t.Fatal("the person from before the backup cannot sign in on the restored portal")
	}
	r, err := db.Open(ctx, filepath.Join(fresh, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v, err := r.Setting(ctx, fmt.Sprintf("load.%06d", before), ""); err != nil || v == "" {
		t.Fatalf("write %d, committed before the backup started, is missing: %v", before, err)
	}
	if v, err := r.Setting(ctx, fmt.Sprintf("load.%06d", after+1), "none"); err != nil || v != "none" {
		t.Fatalf("the backup holds a write that never happened: %q %v", v, err)
	}
	got, err := openSealed(t, filepath.Join(fresh, "portier.db"), filepath.Join(fresh, "secret.key"), "test.wifi")
	if err != nil || got != "WLAN-Schlüssel: Sommer-Regen-42" {
		t.Fatalf("sealed secret after restore: %q %v", got, err)
	}
	// Without the right key file the same row does not open.
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := db.LoadOrCreateKey(other); err != nil {
		t.Fatal(err)
	}
	if _, err := openSealed(t, filepath.Join(fresh, "portier.db"), other, "test.wifi"); !errors.Is(err, db.ErrSealBroken) {
		t.Fatalf("sealed secret opened with another key: %v", err)
	}
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	restore := func(args ...string) (string, error) {
		var out syncBuf
		err := run(ctx, append([]string{"restore"}, args...), func(string) string { return "" }, &out, &out)
		return out.String(), err
	}
	if _, err := restore("--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("without --from: %v", err)
	}
	// An SQLite file that is not Portier's.
	foreign := filepath.Join(t.TempDir(), "other.db")
	c, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES ('hi')`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	data := filepath.Join(t.TempDir(), "data")
	if _, err := restore("--from", foreign, "--data", data); err == nil || !strings.Contains(err.Error(), "not a Portier database") {
		t.Fatalf("foreign database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "portier.db")); err == nil {
		t.Fatal("a foreign database was restored")
	}
	// Not a database at all.
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not sqlite ", 500)), 0o600)
	if _, err := restore("--from", junk, "--data", data); err == nil || !strings.Contains(err.Error(), "nothing was restored") {
		t.Fatalf("junk file: %v", err)
	}
	if _, err := restore("--from", filepath.Join(t.TempDir(), "missing.db"), "--data", data); err == nil {
		t.Fatal("missing backup file accepted")
	}

	// A real backup, but a stale write-ahead log in the target folder.
	src := filepath.Join(t.TempDir(), "src", "portier.db")
	d, err := db.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	d.SetSetting(ctx, "x", "y")
	d.Close()
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.Backup(ctx, src, backup); err != nil {
		t.Fatal(err)
	}
	stale := t.TempDir()
	os.WriteFile(filepath.Join(stale, "portier.db-wal"), []byte("old"), 0o600)
	if _, err := restore("--from", backup, "--data", stale); err == nil || !strings.Contains(err.Error(), "portier.db-wal") {
		t.Fatalf("stale WAL: %v", err)
	}
	// A portier.db that is a symbolic link (even one to nowhere) is a database restore never replaces.
	linked := t.TempDir()
	os.Symlink(filepath.Join(t.TempDir(), "elsewhere.db"), filepath.Join(linked, "portier.db"))
	if _, err := restore("--from", backup, "--data", linked); err == nil || !strings.Contains(err.Error(), "already holds a database") {
		t.Fatalf("symlink: %v", err)
	}
	if _, err := db.RestoreFile(ctx, backup, filepath.Join(linked, "portier.db")); !errors.Is(err, os.ErrExist) {
		t.Fatalf("RestoreFile over a symlink: %v", err)
	}
	// And the good case, with the key file already in place.
	good := t.TempDir()
	if _, err := db.LoadOrCreateKey(filepath.Join(good, "secret.key")); err != nil {
		t.Fatal(err)
	}
	out, err := restore("--from", backup, "--data", good)
	if err != nil || !strings.Contains(out, "key file") || !strings.Contains(out, "is in place") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if v, err := db.CheckFile(ctx, filepath.Join(good, "portier.db")); err != nil || v != db.KnownSchemaVersion() {
		t.Fatalf("restored file: version %d %v", v, err)
	}
}

// TestScheduledBackups: the scheduler writes portier-YYYYMMDD-HHMMSS.db files made like `portier backup`,
// keeps the newest N, never touches other files, and runs from `portier serve` shortly after start.
func TestScheduledBackups(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "portier.db")
	d, err := db.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetSetting(ctx, "x", "y")
	dir := filepath.Join(t.TempDir(), "backups")
	clock := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	b := &backupScheduler{dbPath: src, dir: dir, keep: 3, log: slog.New(slog.DiscardHandler),
		now: func() time.Time { clock = clock.Add(time.Hour); return clock }}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600)
	os.WriteFile(filepath.Join(dir, "portier-manual.db"), []byte("mine"), 0o600)
	for range 5 {
		if _, err := b.backupOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{"notes.txt", "portier-20261122-060000.db", "portier-20261122-070000.db", "portier-20261122-080000.db", "portier-manual.db"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("backup folder: %v, want %v", names, want)
	}
	for _, n := range want[1:4] {
		st, _ := os.Stat(filepath.Join(dir, n))
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", n, st.Mode())
		}
		if _, err := db.CheckFile(ctx, filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}

	// After a restart the next backup waits for the interval since the newest one, so a service that keeps
	// restarting cannot rotate the older backups out.
	b.every, b.first = 24*time.Hour, 30*time.Second
	b.now = func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }
	if got := b.firstDelay(); got != 22*time.Hour {
		t.Fatalf("first delay after a restart: %v, want 22h (newest backup 08:00)", got)
	}
	b.now = func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }
	if got := b.firstDelay(); got != 30*time.Second {
		t.Fatalf("first delay with only old backups: %v", got)
	}
	b.dir = filepath.Join(t.TempDir(), "new")
	if got := b.firstDelay(); got != 30*time.Second {
		t.Fatalf("first delay without backups: %v", got)
	}

	// From serve: the first backup comes shortly after start; the key file never goes there.
	old := firstBackupDelay
	firstBackupDelay = 100 * time.Millisecond
	t.Cleanup(func() { firstBackupDelay = old })
	sdir := filepath.Join(t.TempDir(), "offsite")
	p := startPortier(t, map[string]string{"PORTIER_BACKUP_DIR": sdir, "PORTIER_BACKUP_INTERVAL": "1h", "PORTIER_BACKUP_KEEP": "2"})
	var found []string
	for deadline := time.Now().Add(10 * time.Second); len(found) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled backup:\n%s", p.Stderr.String())
		}
		found, _ = filepath.Glob(filepath.Join(sdir, "portier-*.db"))
	}
	if _, err := db.CheckFile(ctx, found[0]); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(sdir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("backup folder: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(sdir, "secret.key")); err == nil {
		t.Fatal("the key file was copied into the backup folder")
	}
	if !strings.Contains(p.Stderr.String(), "scheduled backup written") {
		t.Fatalf("backup not logged:\n%s", p.Stderr.String())
	}
}
