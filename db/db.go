// Package db owns Portier's SQLite file: opening it with the right pragmas, migrating it, sealing secret
// columns and making online backups. Every query of the application lives in this package, next to its Scan.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// Errors that handlers map to HTTP statuses in exactly one place.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// DB is the application's database: one writer connection and a small pool of readers. SQLite allows one
// writer at a time anyway; giving it a single connection turns lock contention (SQLITE_BUSY) into an ordinary
// wait in database/sql's pool, while readers in WAL mode never block and are never blocked.
type DB struct {
	W    *Writer // the only connection that writes; transactions start with BEGIN IMMEDIATE (writer.go)
	R    *sql.DB // read-only connections
	Path string
	Now  func() time.Time

	gens      gens                       // generations of cached data (gens.go)
	terms     atomic.Pointer[termsCache] // the current terms, while their generation holds
	stmts     stmts                      // prepared statements of the hot reads (stmts.go)
	wstmts    stmts                      // and of the hot writes, on the writer
	auditOnce auditBatch                 // the group commit of AuditOnce (audit.go)
}

// dsn builds the connection string. modernc applies pragmas per connection, so they must be in the DSN for
// every pooled connection to get them:
//   - busy_timeout first, so that even setting journal_mode waits instead of failing on a busy file;
//   - WAL, so readers and the writer do not block each other;
//   - synchronous(FULL): in WAL mode NORMAL already survives a process crash, but FULL also survives a power
//     loss or a VM reset without losing an acknowledged write. Writes here are human-paced (edits, sign-ins),
//     so ~200 µs per commit is a price worth paying for documentation an MSP relies on;
//   - foreign keys on (SQLite's default is off);
//   - _time_format=sqlite stores time.Time as "2006-01-02 15:04:05.999999999-07:00", which SQLite's date
//     functions understand (scs's store compares expiry with julianday()).
//   - wal_autocheckpoint(0) when Litestream replicates the file: it then owns checkpointing (PASSIVE at
//     1,000 pages or every minute), because a checkpoint that restarts the WAL between two of its reads
//     forces a full snapshot to the replica instead of shipping the few pages that changed.
func dsn(path string, readOnly bool, opts ...Option) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	for _, o := range opts {
		if o == NoAutoCheckpoint && !readOnly {
			q.Add("_pragma", "wal_autocheckpoint(0)")
		}
	}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Option changes how Open treats the file.
type Option int

// NoAutoCheckpoint leaves checkpointing to someone else (Litestream, see dsn).
const NoAutoCheckpoint Option = 1

// Open opens (creating if needed) the database file at path and applies all migrations.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, false, opts...))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// The file may be new: make sure only the service user can read it.
	_ = os.Chmod(path, 0o600)
	d := &DB{W: &Writer{DB: w}, Path: path, Now: time.Now}
	if err := d.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	// As many readers as the server's page gate lets requests run at once (two per core, handlers/admit.go),
	// so that an admitted request does not wait for a connection.
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	d.R = r
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.closeStmts()
	return errors.Join(d.R.Close(), d.W.Close())
}

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.queryRow(ctx, "SELECT 1").Scan(&one)
}

// Tx runs fn in a write transaction (BEGIN IMMEDIATE): committed if fn returns nil, rolled back otherwise.
//
// The whole transaction, from the wait for the writer to the commit, runs outside the page gate
// (Writer.run): taking a place back between BEGIN and COMMIT would hold the writer while waiting for a
// page to finish, and every other write would wait with it. The body of a transaction is a few
// statements, work for the disk more than for the processor.
func (d *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	d.W.run(ctx, func() { err = d.W.tx(ctx, fn) })
	return err
}
