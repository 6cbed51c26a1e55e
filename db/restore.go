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

// RestoreFile copies the backup at from to the path to (a data folder's portier.db) with mode 0600. The
// backup must pass CheckFile and have a schema this binary knows; the rest is RestoreWith's (which also
// deletes any sessions in it: a restored database signs nobody in).
func RestoreFile(ctx context.Context, from, to string) (version int, err error) {
	if err := refuseExisting(to); err != nil {
		return 0, err
	}
	version, err = CheckFile(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", from, err)
	}
	if known := KnownSchemaVersion(); version > known {
		return 0, fmt.Errorf("backup %s has schema version %d, newer than this binary knows (%d): use the portier version that made it", from, version, known)
	}
	return RestoreWith(ctx, to, func(tmp string) error {
		src, err := os.Open(from)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return fmt.Errorf("copy backup: %w", err)
		}
		return errors.Join(dst.Sync(), dst.Close())
	})
}

// refuseExisting fails when to, or a -wal or -shm file beside it, exists: restore never overwrites a
// database, and SQLite would apply a stale write-ahead log to the restored file.
func refuseExisting(to string) error {
	for _, p := range []string{to, to + "-wal", to + "-shm"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists: %w", p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// RestoreWith puts a database made by write into place as to (a data folder's portier.db), whatever its
// source (a backup file, a Litestream replica). write creates the file at the temporary path it is given,
// beside to. The result must pass CheckFile (integrity_check, a Portier schema) and have a schema this
// binary knows before it is linked into place with mode 0600; it is never put over an existing database.
func RestoreWith(ctx context.Context, to string, write func(tmp string) error) (version int, err error) {
	if err := refuseExisting(to); err != nil {
		return 0, err
	}
	tmp := filepath.Join(filepath.Dir(to), fmt.Sprintf(".portier-restore-%d.db", time.Now().UnixNano()))
	defer func() {
		for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			os.Remove(p)
		}
	}()
	if err := write(tmp); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return 0, err
	}
	if err := dropSessions(ctx, tmp); err != nil {
		return 0, fmt.Errorf("drop sessions of the restored copy: %w", err)
	}
	// The copy is what will be served: check it, not only the source.
	version, err = CheckFile(ctx, tmp)
	if err != nil {
		return 0, fmt.Errorf("restored copy failed its check: %w", err)
	}
	if known := KnownSchemaVersion(); version > known {
		return 0, fmt.Errorf("the restored database has schema version %d, newer than this binary knows (%d): use a newer portier", version, known)
	}
	if err := os.Link(tmp, to); err != nil { // fails rather than replace a database created meanwhile
		return 0, err
	}
	return version, syncDir(filepath.Dir(to))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CheckWritable proves that the database takes a write: it takes the write lock (BEGIN IMMEDIATE), writes a
// row and rolls it back, so a readiness probe leaves nothing behind and gives the replica nothing to ship.
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
