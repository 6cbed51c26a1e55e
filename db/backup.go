package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the live database to out while the server keeps running. VACUUM INTO
// reads one snapshot (WAL readers never block the writer), so the copy is a single point in time. The copy
// is checked with integrity_check before it is moved into place with mode 0600. The key file is never part
// of a backup.
func Backup(ctx context.Context, dbPath, out string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists already; choose a new file name", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, ".portier-backup-*.db")
	if err != nil {
		return fmt.Errorf("backup folder: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpName)

	src, err := sql.Open("sqlite", dsn(dbPath, false))
	if err != nil {
		return err
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return err
	}
	if err := IntegrityCheck(ctx, tmpName); err != nil {
		return fmt.Errorf("backup copy failed its check: %w", err)
	}
	if err := os.Link(tmpName, out); err != nil { // fails rather than overwrite a file created meanwhile
		return fmt.Errorf("move backup into place: %w", err)
	}
	return nil
}

// IntegrityCheck opens the database file read-only and runs PRAGMA integrity_check.
func IntegrityCheck(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity_check: %s", strings.Join(msgs, "; "))
	}
	return nil
}
