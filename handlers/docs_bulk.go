package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/docs"
	"portier/docsapp"
)

// Bulk actions are for MSP staff on a list: the ticked items of one area of one organisation. The rules,
// transactions and audit entries are docsapp's (bulk.go); these handlers read the ticks and show the outcome.

// bulkReq is a bulk request: who, where, which items (as sent; docsapp checks each).
type bulkReq struct {
	v    *docsapp.Viewer
	area *docs.Area
	ids  []int64
	list string // the list's address
}

func (s *Server) bulkRequest(c *echo.Context) (*bulkReq, error) {
	v := s.viewer(c)
	if !v.CanBulk() {
		return nil, echo.ErrNotFound
	}
	area, ok, err := s.areaFor(c.Request().Context(), c.Param("area")) // with the custom fields (export)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, echo.ErrNotFound
	}
	b := &bulkReq{v: v, area: area, list: "/o/" + v.Org.Slug + "/docs/" + area.Name}
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
	if len(raw) > docsapp.MaxBulk {
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

// bulkDone flashes how many items a bulk action changed and returns to the list.
func (s *Server) bulkDone(c *echo.Context, b *bulkReq, key string, n int) error {
	ctx := c.Request().Context()
	s.sm.Put(ctx, keyFlash, key)
	s.sm.Put(ctx, "flash_name", strconv.Itoa(n))
	return s.redirect(c, b.list)
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
	switch action := c.FormValue("action"); action {
	case "staff_only_on", "staff_only_off":
		n, err := s.docs.BulkStaffOnly(ctx, b.v, b.area, b.ids, action == "staff_only_on")
		if err != nil {
			return err
		}
		return s.bulkDone(c, b, "docs.bulk.updated", n)
	case "delete":
		n, err := s.docs.BulkDelete(ctx, b.v, b.area, b.ids)
		if err != nil {
			return err
		}
		s.sm.Put(ctx, "undo_items", joinIDs(b.ids))
		return s.bulkDone(c, b, "docs.bulk.deleted", n)
	case "link":
		if err := s.docs.BulkCheck(ctx, b.v, b.area, b.ids); err != nil {
			return err
		}
		return s.redirect(c, b.list+"/bulk/link?"+idQuery(b.ids))
	case "export":
		data, err := s.docs.BulkExport(ctx, b.v, b.area, b.ids)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-selected.csv"`, b.v.Org.Slug, b.area.Name))
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", data)
	default:
		// An unknown action on items the person cannot reach answers as those items do.
		if err := s.docs.BulkCheck(ctx, b.v, b.area, b.ids); err != nil {
			return err
		}
		return echo.ErrBadRequest
	}
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func idQuery(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "id=" + strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, "&")
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
	n, err := s.docs.BulkRestore(ctx, b.v, b.area, ids)
	if err != nil {
		return err
	}
	s.sm.Remove(ctx, "undo_items")
	return s.bulkDone(c, b, "docs.bulk.restored", n)
}

func (s *Server) bulkLinkPicker(c *echo.Context) error {
	b, err := s.bulkRequest(c)
	if err != nil {
		return err
	}
	if len(b.ids) == 0 {
		return s.redirect(c, b.list)
	}
	if err := s.docs.BulkCheck(c.Request().Context(), b.v, b.area, b.ids); err != nil {
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
	other, label, errKey := linkForm(c)
	if errKey != "" {
		// The picker is shown again only for items the person may link.
		if err := s.docs.BulkCheck(c.Request().Context(), b.v, b.area, b.ids); err != nil {
			return err
		}
		return s.renderPicker(c, nil, b, http.StatusUnprocessableEntity, errKey)
	}
	n, err := s.docs.BulkLink(c.Request().Context(), b.v, b.area, b.ids, other, label)
	if errors.Is(err, docsapp.ErrNotFound) {
		// A ticked item or the chosen one went (deleted or moved, maybe by a colleague while the picker was
		// open): still the 404 of an item out of reach, but the page says that nothing was linked (BulkLink
		// is all or none), which "page not found" does not; and it leads back to the list, where the text
		// asks the person to select again.
		return &explained{err: err, titleKey: "docs.bulk.link_gone.title", textKey: "docs.bulk.link_gone.text",
			linkKey: "docs.bulk.link_gone.back", linkHref: b.list}
	}
	if err != nil {
		return err
	}
	return s.bulkDone(c, b, "docs.bulk.linked", n)
}
