package db

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// StorageTrouble reports whether err means the database cannot store anything right now: the disk (or
// the database's size limit) is full, the file or its folder became read-only, or the disk reports I/O
// errors. Handlers answer 503 "cannot save right now" for these instead of an internal error: reads keep
// working, and once space returns writes work again without a restart (SQLite retries on every write).
func StorageTrouble(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code; extended codes (SQLITE_IOERR_WRITE, ...) keep it in the low byte
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}
