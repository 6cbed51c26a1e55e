package docsapp

import (
	"context"
	"database/sql"

	"portier/db"
)

// ErrSameItem: an item cannot be related to itself.
var ErrSameItem = db.ErrSameItem

// linkEntry is the audit entry of a link between two items, staff-only when either of them is.
func (v *Viewer) linkEntry(action string, ch db.DocLinkChange) db.AuditEntry {
	e := v.entry(action, ItemTarget(ch.AID, ch.AArea, "", ch.AName)+LinkSep+ItemTarget(ch.BID, ch.BArea, "", ch.BName))
	e.StaffOnly = ch.StaffOnly
	return e
}

// Link relates two items of the viewer's organisation, with its audit entry in the same transaction.
// Staff only. ErrConflict when they are related already, ErrSameItem for an item and itself, ErrNotFound
// when either is not a live item of the organisation.
func (s *Service) Link(ctx context.Context, v *Viewer, x, y int64, label string) error {
	if !v.Staff {
		return ErrForbidden
	}
	return s.db.DocLinkAdd(ctx, v.Scope(), x, y, label, v.actor(), s.linkAudit(ctx, v, "docs.link"))
}

// linkAudit is the hook of a link change: its audit entry, in the change's transaction.
func (s *Service) linkAudit(ctx context.Context, v *Viewer, action string) func(*sql.Tx, db.DocLinkChange) error {
	return func(tx *sql.Tx, ch db.DocLinkChange) error {
		return s.db.Audit(ctx, tx, v.linkEntry(action, ch))
	}
}

// Unlink ends the relation of two items of the viewer's organisation, audited alike. Staff only.
func (s *Service) Unlink(ctx context.Context, v *Viewer, x, y int64) error {
	if !v.Staff {
		return ErrForbidden
	}
	return s.db.DocLinkRemove(ctx, v.Scope(), x, y, v.actor(), s.linkAudit(ctx, v, "docs.unlink"))
}
