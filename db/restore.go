package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrNotPortier means a file is an SQLite database but not one of Portier's.
var ErrNotPortier = errors.New("not a Portier database (no schema_migrations table)")

// KnownSchemaVersion is the newest schema version this binary can migrate to.
func KnownSchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// CheckFile opens the database file at path read-only (it is never created or changed), runs
// integrity_check, and returns its schema version. It fails with ErrNotPortier for an SQLite file that
// Portier did not make.
func CheckFile(ctx context.Context, path string) (version int, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	if err := IntegrityCheck(ctx, path); err != nil {
		return 0, err
	}
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var n int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, ErrNotPortier
	}
	err = c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version)
	return version, err
}

// RestoreFile copies the backup at from to the path to (a data folder's portier.db) with mode 0600. It
// refuses when to, or a -wal or -shm file beside it, exists: SQLite would apply a stale write-ahead log to
// the restored file. The backup must pass CheckFile and have a schema this binary knows. Sessions in it
// (a file copied by other means, or a backup made before sessions were left out) are deleted: a restored
// database signs nobody in.
func RestoreFile(ctx context.Context, from, to string) (version int, err error) {
	for _, p := range []string{to, to + "-wal", to + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			return 0, fmt.Errorf("%s exists: %w", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	version, err = CheckFile(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", from, err)
	}
	if known := KnownSchemaVersion(); version > known {
		return 0, fmt.Errorf("backup %s has schema version %d, newer than this binary knows (%d): use the portier version that made it", from, version, known)
	}
	src, err := os.Open(from)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), ".portier-restore-*.db")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, err
	}
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("copy backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := dropSessions(ctx, tmp.Name()); err != nil {
		return 0, fmt.Errorf("drop sessions of the restored copy: %w", err)
	}
	// The copy is what will be served: check it, not only the source.
	if _, err := CheckFile(ctx, tmp.Name()); err != nil {
		return 0, fmt.Errorf("restored copy failed its check: %w", err)
	}
	if err := os.Link(tmp.Name(), to); err != nil { // fails rather than replace a database created meanwhile
		return 0, err
	}
	return version, syncDir(filepath.Dir(to))
}

// Replicate makes a consistent copy of the database at dbPath as dir/portier.db: a backup to a temporary
// name in dir, then an atomic rename, so that dir/portier.db is always a complete database.
func Replicate(ctx context.Context, dbPath, dir string) error {
	tmp := filepath.Join(dir, fmt.Sprintf(".portier-replica-%d.db", time.Now().UnixNano()))
	if err := Backup(ctx, dbPath, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "portier.db")); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ChangeWatcher tells whether a database changed since it was last asked, from SQLite's data_version,
// which changes whenever another connection commits. It holds one read connection of its own.
type ChangeWatcher struct {
	db   *sql.DB
	conn *sql.Conn
	last int64
	init bool
}

// WatchChanges opens a ChangeWatcher on the database file at path.
func WatchChanges(ctx context.Context, path string) (*ChangeWatcher, error) {
	d, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	c, err := d.Conn(ctx) // data_version is per connection: keep this one
	if err != nil {
		d.Close()
		return nil, err
	}
	return &ChangeWatcher{db: d, conn: c}, nil
}

// Changed reports whether another connection committed since the previous call; the first call reports true.
func (w *ChangeWatcher) Changed(ctx context.Context) (bool, error) {
	var v int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return false, err
	}
	changed := !w.init || v != w.last
	w.last, w.init = v, true
	return changed, nil
}

// Close releases the watcher's connection.
func (w *ChangeWatcher) Close() error {
	return errors.Join(w.conn.Close(), w.db.Close())
}

// CheckWritable proves that the database takes a write: it takes the write lock (BEGIN IMMEDIATE), writes a
// row and rolls it back, so a readiness probe leaves nothing behind and does not wake the replica.
func (d *DB) CheckWritable(ctx context.Context) error {
	errProbe := errors.New("probe rolled back")
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('readyz.probe', ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, d.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
		return errProbe
	})
	if errors.Is(err, errProbe) {
		return nil
	}
	return err
}
