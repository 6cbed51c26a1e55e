package db

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// Writer is the single connection that writes. Waiting for it means waiting for other requests' commits,
// each a sync to disk: time spent on the disk, not the processor. The server runs page work through a
// gate of a few places (handlers/admit.go); a request that waits here must not hold one of them, or a
// burst of sign-ins (each a few small writes) would keep the pages out. So every wait for the writer, and
// every commit, runs through the function given to SetOutside (the gate's admit.Outside), which gives the
// place back meanwhile; a transaction (DB.Tx) does so as a whole, so that it never waits for a place
// while it holds the writer. Without one, they simply run.
type Writer struct {
	*sql.DB
	outside atomic.Pointer[func(context.Context, func())]
}

// SetOutside sets the function every wait for the writer and every commit runs through.
func (d *DB) SetOutside(f func(ctx context.Context, wait func())) { d.W.outside.Store(&f) }

func (w *Writer) run(ctx context.Context, f func()) {
	if o := w.outside.Load(); o != nil {
		(*o)(ctx, f)
		return
	}
	f()
}

// ExecContext runs a statement on the writer (autocommit: waiting for the connection and the commit).
func (w *Writer) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	w.run(ctx, func() { res, err = w.DB.ExecContext(context.WithoutCancel(ctx), query, args...) }) // runToEnd (stmts.go)
	return res, err
}

// QueryContext runs a query on the writer (an INSERT … RETURNING, or a read that must see the newest
// commit).
func (w *Writer) QueryContext(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	w.run(ctx, func() { rows, err = w.DB.QueryContext(context.WithoutCancel(ctx), query, args...) })
	return rows, err
}

// QueryRowContext is QueryContext for one row.
func (w *Writer) QueryRowContext(ctx context.Context, query string, args ...any) (row *sql.Row) {
	w.run(ctx, func() { row = w.DB.QueryRowContext(context.WithoutCancel(ctx), query, args...) })
	return row
}

// BeginTx waits for the writer and begins a transaction (BEGIN IMMEDIATE).
func (w *Writer) BeginTx(ctx context.Context, opts *sql.TxOptions) (tx *sql.Tx, err error) {
	w.run(ctx, func() { tx, err = w.DB.BeginTx(context.WithoutCancel(ctx), opts) })
	return tx, err
}

// tx runs fn in a transaction on the writer, committed if fn returns nil; DB.Tx runs it through the
// function given to SetOutside, as a whole.
func (w *Writer) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := w.DB.BeginTx(context.WithoutCancel(ctx), nil) // runToEnd (stmts.go)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
