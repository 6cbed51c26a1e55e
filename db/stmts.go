package db

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements for the reads every page makes (session, person, organisation, role, menu counts,
// an item) and for the writes of every audited view. modernc's driver parses the SQL text again on every
// query; measured with `portier bench`, parsing took about 15% of a list page's time, and preparing the
// audit insert inside each group commit 7% of a detail page's. A statement prepared once on a pool is
// prepared by database/sql at most once per connection (the writer has one). Only constant query texts
// come here: texts built from input (filters, IN lists, searches) would grow the map without bound.
//
// A prepared statement is only worth keeping if SQLite does not prepare it again. SQLite re-prepares a
// statement on its next step whenever a parameter it looked at while planning is bound to another value
// (sqlite3_prepare_v2: "the specific value bound to a host parameter ... might influence the choice of
// query plan"). Its planner looks at a parameter compared with a column as `col = ?` when that column's
// table is joined or an index of it could serve the ORDER BY or GROUP BY; `portier bench --in-process
// --cpuprofile` showed the detail page spending 9% of its time in _sqlite3Reprepare (item links, files),
// search 7% and the organisation home 4%, because the organisation id changes from one request to the
// next. In those reads the comparisons are written `col = +?`: the unary plus makes the parameter an
// expression the planner does not look into, the index is used as before, and the plan holds for every
// value. TestHotReadsKeepTheirPlan fails for a hot read SQLite compiles again for another organisation,
// person or item, or whose plan reads a whole table. (Texts shared with reads that are not prepared, such
// as DocScope.where, carry the plus there too; it changes nothing for them.)
type stmts struct {
	m sync.Map // query text → *sql.Stmt
}

func (s *stmts) get(pool *sql.DB, query string) (*sql.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *stmts) close() {
	s.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.m.Delete(k)
		return true
	})
}

func (d *DB) prepared(query string) (*sql.Stmt, error) { return d.stmts.get(d.R, query) }

// writerStmt is a statement of constant text for write transactions, prepared once on the writer; a
// transaction uses it with tx.StmtContext. Ask for it before the transaction begins: preparing needs the
// writer's one connection, which a transaction holds until its end.
func (d *DB) writerStmt(query string) (*sql.Stmt, error) { return d.wstmts.get(d.W.DB, query) }

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
	d.stmts.close()
	d.wstmts.close()
}
