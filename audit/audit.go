// Package audit is the application layer of the audit log: appending entries after the change they
// record, and reading the log a page at a time with what each viewer may see. The log itself is
// append-only in the database (db/audit.go).
package audit

import (
	"context"
	"log/slog"

	"portier/access"
	"portier/db"
)

// Log is the audit log. It is safe for concurrent use.
type Log struct {
	db  *db.DB
	log *slog.Logger
}

// New returns the audit log; failures to append are written to logger.
func New(d *db.DB, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{db: d, log: logger}
}

// Record appends an entry outside any transaction, after the change it records committed. A failure is
// logged, not returned: the change stands either way, and the person should not see an error for it.
// Changes whose entry must commit with them append inside their transaction (db.Audit with the tx).
func (l *Log) Record(ctx context.Context, e db.AuditEntry) {
	if err := l.db.Audit(ctx, nil, e); err != nil {
		l.log.Error("audit", "action", e.Action, "err", err)
	}
}

// PageSize is how many entries a page of the log shows.
const PageSize = 50

// Query asks for one page of the log.
type Query struct {
	OrgID  int64  // 0: every organisation (staff only)
	Action string // an action prefix, e.g. "login"; "" for all
	// ActionExact: Action is a whole action (one of the filter's choices), not a prefix.
	ActionExact bool
	Before      int64 // the id the previous page ended at; 0 for the newest
}

// Page is one page of the log, newest first. Older is the Before of the next page, 0 when there is none.
type Page struct {
	Entries []db.AuditEntry
	Older   int64
}

// Read returns one page of the log for viewer, when access.ReadsAudit lets them read it (access.ErrNotFound
// otherwise). Customers see their organisation's log (staff actions on it included, such as which staff
// member revealed a secret) but no entry about a staff-only item, and never the log of every organisation.
func (l *Log) Read(ctx context.Context, viewer access.Person, q Query) (Page, error) {
	if !access.ReadsAudit(viewer, q.OrgID) {
		return Page{}, access.ErrNotFound
	}
	customer := !viewer.ForMSP()
	entries, err := l.db.AuditList(ctx, db.AuditFilter{OrgID: q.OrgID, Action: q.Action, ActionExact: q.ActionExact, Before: q.Before,
		Limit: PageSize + 1, CustomerView: customer})
	if err != nil {
		return Page{}, err
	}
	p := Page{Entries: entries}
	if len(entries) > PageSize {
		p.Entries = entries[:PageSize]
		p.Older = p.Entries[PageSize-1].ID
	}
	return p, nil
}
