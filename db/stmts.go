package db

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements for the reads every page makes (session, person, organisation, role, menu counts,
// an item). modernc's driver parses the SQL text again on every query; measured with `portier bench`,
// parsing took about 15% of a list page's time. A statement prepared once on the reader pool is prepared
// by database/sql at most once per connection. Only constant query texts come here: texts built from
// input (filters, IN lists, searches) would grow the map without bound.
type stmts struct {
	m sync.Map // query text → *sql.Stmt
}

func (d *DB) prepared(query string) (*sql.Stmt, error) {
	if st, ok := d.stmts.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.R.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow is d.R.QueryRowContext with a prepared statement.
func (d *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx) // see runToEnd
	st, err := d.prepared(query)
	if err != nil {
		return d.R.QueryRowContext(ctx, query, args...) // reports the error the usual way
	}
	return st.QueryRowContext(ctx, args...)
}

// query is d.R.QueryContext with a prepared statement.
func (d *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := d.prepared(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(context.WithoutCancel(ctx), args...) // see runToEnd
}

// runToEnd: a query that has started runs to its end (a millisecond or so) even if the request that asked
// is over, so reads and writes are given a context without cancellation. With a cancellable context the
// SQLite driver starts a goroutine per statement to watch it; under load those goroutines kept one
// core's run queue busy, and the Go scheduler then looked at connections with a new request only now and
// then: at one core, pages waited up to 1.7 s before being read (p99/p50 of 90 to 280, `portier bench
// --cpus 1`), against p99/p50 of 1.3 to 2.3 without the watchers.
func (d *DB) closeStmts() {
	d.stmts.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		d.stmts.m.Delete(k)
		return true
	})
}
