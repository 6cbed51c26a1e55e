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
	return st.QueryContext(ctx, args...)
}

func (d *DB) closeStmts() {
	d.stmts.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		d.stmts.m.Delete(k)
		return true
	})
}
