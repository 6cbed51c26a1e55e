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
// of a backup, and neither are sessions (dropSessions).
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
	if err := dropSessions(ctx, tmpName); err != nil {
		return fmt.Errorf("leave sessions out of the backup: %w", err)
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

// dropSessions deletes every session and its listing from the database file at path: a backup copy, or
// a restored file before it is served. A backup is meant to be harmless without secret.key, and session
// rows are sign-ins (their data also holds what a sign-in keeps pending, such as a TOTP secret before its
// first code); a restored database signs nobody in. secure_delete overwrites the freed pages, so the rows
// do not linger in the file's free space. The file's journal mode is left as it is.
func dropSessions(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=secure_delete(1)")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	// Every schema version has sessions (0001); user_sessions came with 0002.
	for _, table := range []string{"user_sessions", "sessions"} {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return err
		}
	}
	return c.Close()
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
