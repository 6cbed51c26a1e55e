package handlers

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/docs"
	"portier/docsapp"
	"portier/views"
)

func (s *Server) docsDetail(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if !s.docs.Caching() {
		// The uncached path: the page read and rendered in one go, as the cached path must write it too
		// (TestDocDetailFragmentParity compares them byte for byte).
		d, err := s.docs.Detail(ctx, r.v, r.area, itemID(c))
		if err != nil {
			return err
		}
		v, err := s.detailView(c, r, d)
		if err != nil {
			return err
		}
		v.Connections.ErrorKey = s.filesError(c)
		return s.render(c, http.StatusOK, views.DocDetail(s.shell(c, d.Item.Name), v), nil)
	}
	p, err := s.docs.DetailHTML(ctx, r.v, r.area, itemID(c), func(d *docsapp.Detail, w io.Writer) error {
		v, err := s.detailView(c, r, d)
		if err != nil {
			return err
		}
		return views.RenderDocDetailContent(ctx, w, v)
	})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DocDetailCached(s.shell(c, p.Name), p.HTML, s.filesError(c), s.attachmentMB()), nil)
}

// detailView builds the content of an item's page from the item alone (see docsapp.Service.DetailHTML:
// nothing of the person or the request): its fields, actions by the class of viewer, related items and
// files.
func (s *Server) detailView(c *echo.Context, r *docReq, d *docsapp.Detail) (views.DocDetailView, error) {
	nav, err := s.nav(c, r, "")
	if err != nil {
		return views.DocDetailView{}, err
	}
	it := d.Item
	itemBase := r.itemHref(it.ID)
	v := views.DocDetailView{Nav: nav, Area: r.area.Name, TitleKey: r.area.TitleKey(), Name: it.Name, StaffOnly: it.StaffOnly,
		UpdatedBy: it.UpdatedBy, UpdatedAt: r.l.DateTime(it.UpdatedAt), ListHref: r.base}
	if v.UpdatedBy == "" {
		v.UpdatedBy = "—"
	}
	now := d.Now
	for _, f := range r.area.Fields {
		if f.Name == "name" {
			if f.Copy {
				v.NameCopy = &views.CopyButton{ID: "name", LabelKey: f.LabelKey(r.area.Name), Text: it.Name}
			}
			continue
		}
		if !r.area.Shown(f.Name, it.Fields["kind"], it.Fields[f.Name] != "" || it.Secrets[f.Name]) {
			continue
		}
		df := views.DetailField{Name: f.Name, LabelKey: f.LabelKey(r.area.Name)}
		if f.IsSecret() {
			df.Secret, df.HasValue, df.TOTP = true, it.Secrets[f.Name], f.Kind == docs.TOTPSeed
			df.RevealURL = itemBase + "/secret/" + f.Name
			df.Copy = secretCopy(itemBase, f.Name, df.LabelKey, f.Name)
			if f.Name == "config" && docsapp.ConfDownloadable(r.area, it) {
				df.DownloadURL = itemBase + "/conf"
			}
		} else {
			cell := cell(r.l, r.area, f, it, d.Contacts, now)
			df.Text, df.Href, df.Highlight, df.State = cell.Text, cell.Href, cell.Highlight, cell.State
			df.Multiline = f.Kind == docs.LongText
			if f.Kind == docs.Contact && it.Fields[f.Name] != "" && cell.Text != "" {
				df.Href = "/o/" + r.org.Slug + "/docs/contacts/" + it.Fields[f.Name]
			}
			if f.Copy && cell.Text != "" {
				df.Copy = &views.CopyButton{ID: f.Name, LabelKey: df.LabelKey, Text: cell.Text}
			}
		}
		v.Fields = append(v.Fields, df)
	}
	if ok, key := docsapp.HasQR(r.area, it); ok {
		v.QRURL, v.QRLabelKey = itemBase+"/qr", key
	}
	if r.v.CanEdit(r.area) {
		v.EditHref, v.DeleteHref = itemBase+"/edit", itemBase+"/delete"
	}
	if r.v.CanSeeHistory() {
		v.HistoryHref = itemBase + "/history"
	}
	if v.Connections, err = s.detailConnections(c, it); err != nil {
		return views.DocDetailView{}, err
	}
	return v, nil
}
