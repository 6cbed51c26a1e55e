package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpenAppliesPragmasOnEveryConnection(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	// Hold several reader connections at once so the pool must open more than one.
	var conns []interface{ Close() error }
	for i := 0; i < d.R.Stats().MaxOpenConnections; i++ {
		c, err := d.R.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode string
		var fk, sync, busy, qonly int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk)
		c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
		c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy)
		c.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qonly)
		if mode != "wal" || fk != 1 || sync != 2 || busy != 5000 || qonly != 1 {
			t.Fatalf("reader %d: journal=%s fk=%d sync=%d busy=%d query_only=%d", i, mode, fk, sync, busy, qonly)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := d.R.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES ('a', 'b')"); err == nil {
		t.Fatal("reader pool accepted a write")
	}
	if st := d.W.Stats(); st.MaxOpenConnections != 1 {
		t.Fatalf("writer pool allows %d connections", st.MaxOpenConnections)
	}
}

func TestMigrationsApplyOnceAndRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portier.db")
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	v, _ := d.SchemaVersion(ctx)
	if v != ms[len(ms)-1].version {
		t.Fatalf("version %d, want %d", v, ms[len(ms)-1].version)
	}
	if err := d.SetSetting(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	// Reopening applies nothing twice and keeps data.
	d, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	d.R.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n)
	if n != len(ms) {
		t.Fatalf("%d migration records, want %d", n, len(ms))
	}
	if got, _ := d.Setting(ctx, "k", ""); got != "v1" {
		t.Fatalf("setting lost: %q", got)
	}
	if got, _ := d.Setting(ctx, "missing", "def"); got != "def" {
		t.Fatalf("default: %q", got)
	}
	// A database from a newer binary is refused, not silently used.
	d.W.Exec("INSERT INTO schema_migrations(version, name) VALUES (9999, '9999_future.sql')")
	d.Close()
	if _, err := Open(ctx, path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec("INSERT INTO settings(key, value) VALUES ('x', 'y')"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if v, _ := d.Setting(ctx, "x", "none"); v != "none" {
		t.Fatal("rolled-back write is visible")
	}
}

func TestMigrationNumberedBelowTheNewestIsStillApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portier.db")
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend migration 5 was added after a later one had been applied here.
	if _, err := d.W.Exec(`DELETE FROM schema_migrations WHERE version = 5`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`ALTER TABLE audit DROP COLUMN staff_only`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM pragma_table_info('audit') WHERE name = 'staff_only'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("gap migration not applied: %d %v", n, err)
	}
}

// newUser makes a person without a password.
func newUser(t *testing.T, d *DB, email string) int64 {
	t.Helper()
	var id int64
	if err := d.Tx(context.Background(), func(tx *sql.Tx) (err error) {
		id, _, err = EnsureUser(context.Background(), tx, d.Now(), email, "", "de")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{5}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// notInFiles fails when secret is in the database's files in the clear (the main file after a checkpoint,
// and the write-ahead log).
func notInFiles(t *testing.T, d *DB, secret string) {
	t.Helper()
	if _, err := d.W.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{d.Path, d.Path + "-wal"} {
		raw, _ := os.ReadFile(p)
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("%s holds %q in the clear", filepath.Base(p), secret)
		}
	}
}

// race runs fn n times at once and returns how many calls reported success.
func race(t *testing.T, n int, fn func(i int) (bool, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			ok, err := fn(i)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return won
}
