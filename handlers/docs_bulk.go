package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// Bulk actions are for MSP staff on a list: the ticked items of one area of one organisation.

// maxBulk bounds how many items one bulk request names (a list page shows 50).
const maxBulk = 200

// bulkReq is a bulk request: who, where, which items (as sent; each is checked inside the write).
type bulkReq struct {
	u     *db.User
	org   *db.Org
	area  *docs.Area
	scope db.DocScope
	l     *i18n.Localizer
	ids   []int64
	list  string // the list's address
}

func (s *Server) bulkRequest(c *echo.Context) (*bulkReq, error) {
	u := currentUser(c)
	if !u.IsStaff() {
		return nil, echo.ErrNotFound
	}
	org, _ := currentOrg(c)
	area, ok, err := s.areaFor(c.Request().Context(), c.Param("area")) // with the custom fields (export)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, echo.ErrNotFound
	}
	b := &bulkReq{u: u, org: org, area: area, scope: db.DocScope{OrgID: org.ID, StaffView: true},
		l: i18n.From(c.Request().Context()), list: "/o/" + org.Slug + "/docs/" + area.Name}
	var raw []string
	if c.Request().Method == http.MethodGet {
		raw = c.QueryParams()["id"]
	} else {
		form, err := c.FormValues()
		if err != nil {
			return nil, echo.ErrBadRequest
		}
		raw = form["id"]
	}
	if len(raw) > maxBulk {
		return nil, echo.ErrBadRequest
	}
	seen := map[int64]bool{}
	for _, v := range raw {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, echo.ErrBadRequest
		}
		if !seen[id] {
			seen[id] = true
			b.ids = append(b.ids, id)
		}
	}
	return b, nil
}

func (b *bulkReq) actor() db.DocActor { return db.DocActor{ID: b.u.ID, Name: b.u.DisplayName()} }

// bulkAudit writes one entry per changed item, as the single actions do.
func (s *Server) bulkAudit(c *echo.Context, tx dbTx, b *bulkReq, action string, items []db.BulkItem) error {
	for _, it := range items {
		e := s.auditEntry(c, b.org.ID, action, itemTarget(it.ID, it.Area, it.Name))
		e.StaffOnly = it.StaffOnly
		if err := s.db.Audit(c.Request().Context(), tx, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) bulkAction(c *echo.Context) error {
	b, err := s.bulkRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if len(b.ids) == 0 {
		s.sm.Put(ctx, keyFlash, "docs.bulk.none")
		return s.redirect(c, b.list)
	}
	if err := s.sameArea(c, b); err != nil {
		return err
	}
	switch c.FormValue("action") {
	case "staff_only_on", "staff_only_off":
		on := c.FormValue("action") == "staff_only_on"
		done, err := s.db.DocBulkStaffOnly(ctx, s.cfg.Sealer, b.org.ID, b.ids, on, b.actor(), func(tx dbTx, items []db.BulkItem) error {
			return s.bulkAudit(c, tx, b, "docs.update", items)
		})
		if err != nil {
			return err
		}
		s.sm.Put(ctx, keyFlash, "docs.bulk.updated")
		s.sm.Put(ctx, "flash_name", strconv.Itoa(len(done)))
		return s.redirect(c, b.list)
	case "delete":
		done, err := s.db.DocBulkDelete(ctx, s.cfg.Sealer, b.org.ID, b.ids, true, b.actor(), func(tx dbTx, items []db.BulkItem) error {
			return s.bulkAudit(c, tx, b, "docs.delete", items)
		})
		if err != nil {
			return err
		}
		s.sm.Put(ctx, keyFlash, "docs.bulk.deleted")
		s.sm.Put(ctx, "flash_name", strconv.Itoa(len(done)))
		s.sm.Put(ctx, "undo_items", joinIDs(b.ids))
		return s.redirect(c, b.list)
	case "link":
		q := "?"
		for _, id := range b.ids {
			q += "id=" + strconv.FormatInt(id, 10) + "&"
		}
		return s.redirect(c, b.list+"/bulk/link"+strings.TrimSuffix(q, "&"))
	case "export":
		return s.bulkExport(c, b)
	}
	return echo.ErrBadRequest
}

// sameArea: every named item is a live item of the list's organisation and area (404 otherwise, as
// for any item the person cannot reach).
func (s *Server) sameArea(c *echo.Context, b *bulkReq) error {
	names, err := s.db.DocNames(c.Request().Context(), b.scope, b.area.Name, b.ids)
	if err != nil {
		return err
	}
	if len(names) != len(b.ids) {
		return db.ErrNotFound
	}
	return nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// bulkRestore undoes the last bulk deletion of this session, within the undo window.
func (s *Server) bulkRestore(c *echo.Context) error {
	b, err := s.bulkRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var ids []int64
	for _, p := range strings.Split(s.sm.GetString(ctx, "undo_items"), ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	// An item of the deletion that came back meanwhile on its own (its page's restore) is left as it is;
	// the others are still this undo's to restore.
	var still []int64
	for _, id := range ids {
		it, err := s.db.DocGetDeleted(ctx, b.scope, id)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if it.Area != b.area.Name || s.now().Sub(it.DeletedAt) > docsapp.UndoWindow {
			return echo.ErrNotFound
		}
		still = append(still, id)
	}
	ids = still
	if len(ids) == 0 {
		return echo.ErrNotFound
	}
	done, err := s.db.DocBulkDelete(ctx, s.cfg.Sealer, b.org.ID, ids, false, b.actor(), func(tx dbTx, items []db.BulkItem) error {
		return s.bulkAudit(c, tx, b, "docs.restore", items)
	})
	if err != nil {
		return err
	}
	s.sm.Remove(ctx, "undo_items")
	s.sm.Put(ctx, keyFlash, "docs.bulk.restored")
	s.sm.Put(ctx, "flash_name", strconv.Itoa(len(done)))
	return s.redirect(c, b.list)
}

func (s *Server) bulkLinkPicker(c *echo.Context) error {
	b, err := s.bulkRequest(c)
	if err != nil {
		return err
	}
	if len(b.ids) == 0 {
		return s.redirect(c, b.list)
	}
	if err := s.sameArea(c, b); err != nil {
		return err
	}
	return s.renderPicker(c, nil, b, http.StatusOK, "")
}

// bulkLink links every ticked item to the chosen one; pairs linked already stay as they are.
func (s *Server) bulkLink(c *echo.Context) error {
	b, err := s.bulkRequest(c)
	if err != nil {
		return err
	}
	if err := s.sameArea(c, b); err != nil {
		return err
	}
	other, label, errKey := linkForm(c)
	if errKey != "" {
		return s.renderPicker(c, nil, b, http.StatusUnprocessableEntity, errKey)
	}
	ctx := c.Request().Context()
	n := 0
	for _, id := range b.ids {
		err := s.addLink(c, b.scope, id, other, label, b.actor())
		switch {
		case err == nil:
			n++
		case errors.Is(err, db.ErrConflict), errors.Is(err, db.ErrSameItem):
		default:
			return err
		}
	}
	s.sm.Put(ctx, keyFlash, "docs.bulk.linked")
	s.sm.Put(ctx, "flash_name", strconv.Itoa(n))
	return s.redirect(c, b.list)
}

// bulkExport sends the ticked items as CSV, in the columns and language of the area's export, without
// secrets; audited like an export.
func (s *Server) bulkExport(c *echo.Context, b *bulkReq) error {
	ctx := c.Request().Context()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	var header []string
	var contactIDs []int64
	items := make([]*db.DocItem, 0, len(b.ids))
	for _, id := range b.ids {
		it, err := s.db.DocGet(ctx, b.scope, b.area.Name, id)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	for _, f := range b.area.Fields {
		if f.IsSecret() {
			continue
		}
		header = append(header, b.l.T(f.LabelKey(b.area.Name)))
		if f.Kind == docs.Contact {
			for _, it := range items {
				if cid, err := strconv.ParseInt(it.Fields[f.Name], 10, 64); err == nil {
					contactIDs = append(contactIDs, cid)
				}
			}
		}
	}
	contacts, err := s.db.DocNames(ctx, b.scope, docs.Contacts.Name, contactIDs)
	if err != nil {
		return err
	}
	if err := w.Write(header); err != nil {
		return err
	}
	for _, it := range items {
		var rec []string
		for _, f := range b.area.Fields {
			switch {
			case f.IsSecret():
				continue
			case f.Name == "name":
				rec = append(rec, docs.CSVSafe(it.Name))
			case f.Kind == docs.Contact:
				cid, _ := strconv.ParseInt(it.Fields[f.Name], 10, 64)
				rec = append(rec, docs.CSVSafe(contacts[cid]))
			default:
				rec = append(rec, docs.CSVSafe(it.Fields[f.Name]))
			}
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
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
		e := s.auditEntry(c, b.org.ID, "docs.export", b.area.Name+": "+strconv.Itoa(part.n))
		e.StaffOnly = part.staffOnly
		if err := s.db.Audit(ctx, nil, e); err != nil {
			return err // no export without its audit entry
		}
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-selected.csv"`, b.org.Slug, b.area.Name))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// bulkBar is the list page's hook: the bulk form for staff, nil for everyone else.
func bulkBar(c *echo.Context, list string) *views.BulkBar {
	if !currentUser(c).IsStaff() {
		return nil
	}
	return &views.BulkBar{Action: list + "/bulk"}
}
