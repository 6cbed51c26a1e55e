package docsapp

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"strconv"

	"portier/db"
	"portier/docs"
)

// Bulk actions work on the ticked items of one area of the viewer's organisation, all or none.

// MaxBulk bounds how many items one bulk request names (a list page shows 50).
const MaxBulk = 200

// CanBulk: the lists' bulk actions are for MSP staff.
func (v *Viewer) CanBulk() bool { return v.Staff }

// BulkCheck refuses a bulk request unless every named item is a live item of the viewer's organisation
// and of area: ErrNotFound otherwise, as for any single item the person cannot reach.
func (s *Service) BulkCheck(ctx context.Context, v *Viewer, area *docs.Area, ids []int64) error {
	if !v.CanBulk() {
		return ErrForbidden
	}
	if len(ids) > MaxBulk {
		return ErrInvalid
	}
	names, err := s.db.DocNames(ctx, v.Scope(), area.Name, ids)
	if err != nil {
		return err
	}
	if len(names) != len(ids) {
		return ErrNotFound
	}
	return nil
}

// bulkAudit is the hook of a bulk write: one entry per changed item, as the single actions write.
func (s *Service) bulkAudit(ctx context.Context, v *Viewer, action string) func(*sql.Tx, []db.BulkItem) error {
	return func(tx *sql.Tx, items []db.BulkItem) error {
		for _, it := range items {
			e := v.entry(action, ItemTarget(it.ID, it.Area, "", it.Name))
			e.StaffOnly = it.StaffOnly
			if err := s.db.Audit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}
}

// BulkStaffOnly marks the items staff-only (on) or visible to the customer, in one transaction with their
// audit entries. Items already so stay as they are; it returns how many changed.
func (s *Service) BulkStaffOnly(ctx context.Context, v *Viewer, area *docs.Area, ids []int64, on bool) (int, error) {
	if err := s.BulkCheck(ctx, v, area, ids); err != nil {
		return 0, err
	}
	done, err := s.db.DocBulkStaffOnly(ctx, s.sealer, v.Org.ID, ids, on, v.actor(), s.bulkAudit(ctx, v, "docs.update"))
	return len(done), err
}

// BulkDelete deletes the items (softly: BulkRestore brings them back within UndoWindow), in one
// transaction with their audit entries, and returns how many.
func (s *Service) BulkDelete(ctx context.Context, v *Viewer, area *docs.Area, ids []int64) (int, error) {
	if err := s.BulkCheck(ctx, v, area, ids); err != nil {
		return 0, err
	}
	done, err := s.db.DocBulkDelete(ctx, s.sealer, v.Org.ID, ids, true, v.actor(), s.bulkAudit(ctx, v, "docs.delete"))
	return len(done), err
}

// BulkRestore undoes a bulk deletion of area's items within UndoWindow. An item of the deletion that came
// back meanwhile on its own (its page's restore) is left as it is; the others are restored together.
// ErrNotFound when there is nothing left to restore, or an item is of another area or past the window.
func (s *Service) BulkRestore(ctx context.Context, v *Viewer, area *docs.Area, ids []int64) (int, error) {
	if !v.CanBulk() {
		return 0, ErrForbidden
	}
	var still []int64
	for _, id := range ids {
		it, err := s.db.DocGetDeleted(ctx, v.Scope(), id)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if it.Area != area.Name || s.now().Sub(it.DeletedAt) > UndoWindow {
			return 0, ErrNotFound
		}
		still = append(still, id)
	}
	if len(still) == 0 {
		return 0, ErrNotFound
	}
	done, err := s.db.DocBulkDelete(ctx, s.sealer, v.Org.ID, still, false, v.actor(), s.bulkAudit(ctx, v, "docs.restore"))
	return len(done), err
}

// BulkLink relates every item to other, in one transaction with an audit entry per link (as Link writes
// it): an item deleted or moved since the check, or any failure, leaves no link of the request. Pairs
// related already, and other itself, are left as they are. It returns how many links it made.
func (s *Service) BulkLink(ctx context.Context, v *Viewer, area *docs.Area, ids []int64, other int64, label string) (int, error) {
	if err := s.BulkCheck(ctx, v, area, ids); err != nil {
		return 0, err
	}
	return s.db.DocBulkLink(ctx, v.Scope(), ids, other, label, v.actor(), s.linkAudit(ctx, v, "docs.link"))
}

// BulkExport is the items as CSV, in the columns and language of the area's export, without secrets.
// The file is only handed out once its audit entries are written.
func (s *Service) BulkExport(ctx context.Context, v *Viewer, area *docs.Area, ids []int64) ([]byte, error) {
	if err := s.BulkCheck(ctx, v, area, ids); err != nil {
		return nil, err
	}
	items := make([]*db.DocItem, 0, len(ids))
	for _, id := range ids {
		it, err := s.db.DocGet(ctx, v.Scope(), area.Name, id)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	var contactIDs []int64
	for _, f := range area.Fields {
		if f.Kind == docs.Contact && !f.IsSecret() {
			for _, it := range items {
				if cid, err := strconv.ParseInt(it.Fields[f.Name], 10, 64); err == nil {
					contactIDs = append(contactIDs, cid)
				}
			}
		}
	}
	contacts, err := s.db.DocNames(ctx, v.Scope(), docs.Contacts.Name, contactIDs)
	if err != nil {
		return nil, err
	}
	contact := func(ref string) string {
		cid, _ := strconv.ParseInt(ref, 10, 64)
		return contacts[cid]
	}
	var buf bytes.Buffer
	buf.WriteString(docs.CSVBOM)
	w := csv.NewWriter(&buf)
	if err := w.Write(exportHeader(v, area)); err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := w.Write(exportRecord(area, it, contact)); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	// The customer's access log reads how many of their items were exported; staff-only items are not
	// theirs, not even as a count, so those are counted in an entry of their own that only staff read.
	visible := 0
	for _, it := range items {
		if !it.StaffOnly {
			visible++
		}
	}
	for _, part := range []struct {
		n         int
		staffOnly bool
	}{{visible, false}, {len(items) - visible, true}} {
		if part.n == 0 {
			continue
		}
		e := v.entry("docs.export", area.Name+": "+strconv.Itoa(part.n))
		e.StaffOnly = part.staffOnly
		if err := s.db.Audit(ctx, nil, e); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
