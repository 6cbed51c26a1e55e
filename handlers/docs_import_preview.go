package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/views"
)

// previewRows is how many lines the preview shows; the count covers all of them.
const previewRows = 100

// importTemplates links the empty template files, one per language.
func importTemplates(action string) []views.ImportTemplate {
	return []views.ImportTemplate{
		{Href: action + "/template?lang=de", LabelKey: "docs.import.template_de"},
		{Href: action + "/template?lang=en", LabelKey: "docs.import.template_en"},
	}
}

// importPreview keeps a checked file (sealed, for this person, organisation and area) and shows what it
// will create, secrets masked, with the button that confirms it.
func (s *Server) importPreview(c *echo.Context, r *docReq, d *docsapp.ImportDraft) error {
	chs, id := d.Changes, d.ID
	p := &views.ImportPreview{
		Heading:       r.l.N("docs.import.preview_heading", len(chs)),
		Confirm:       r.l.N("docs.import.confirm", len(chs)),
		ConfirmAction: "/o/" + r.org.Slug + "/import/" + r.area.Name + "/confirm",
		Draft:         strconv.FormatInt(id, 10),
	}
	// The columns the file fills (the name always): a wide table of empty columns hid the ones that matter.
	var cols []docs.Field
	for _, f := range r.area.Fields {
		if f.Kind == docs.Contact {
			continue
		}
		used := f.Name == "name"
		for _, ch := range chs {
			used = used || ch.Fields[f.Name] != "" || ch.Secrets[f.Name] != ""
		}
		if used {
			cols = append(cols, f)
			p.Columns = append(p.Columns, f.LabelKey(r.area.Name))
		}
	}
	now := s.now()
	for i, ch := range chs {
		if i == previewRows {
			p.More = r.l.N("docs.import.preview_more", len(chs)-previewRows)
			break
		}
		row := make([]string, len(cols))
		for j, f := range cols {
			switch {
			case f.Name == "name":
				row[j] = ch.Name
			case f.IsSecret():
				if ch.Secrets[f.Name] != "" {
					row[j] = r.l.T("docs.import.masked")
				}
			default:
				row[j] = cell(r.l, r.area, f, &db.DocItem{Fields: ch.Fields}, nil, now).Text
			}
		}
		p.Rows = append(p.Rows, row)
	}
	noStore(c)
	return s.renderImport(c, r, http.StatusOK, views.ImportView{Preview: p})
}

// docsImportConfirm imports a previewed file: all lines in one transaction that also consumes the draft,
// so a second click (or a parallel request) imports nothing and says so.
func (s *Server) docsImportConfirm(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, _ := strconv.ParseInt(c.FormValue("draft"), 10, 64)
	n, err := s.docs.ImportConfirm(ctx, r.v, r.area, id)
	if errors.Is(err, docsapp.ErrDraftGone) {
		return s.renderImport(c, r, http.StatusConflict, views.ImportView{ErrorKey: "docs.import.gone"})
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "docs.import.done")
	s.sm.Put(ctx, "flash_name", strconv.Itoa(n))
	return s.redirect(c, r.base)
}

// docsImportTemplate is an empty CSV file with the area's columns, headed in the chosen language and
// separated as that language's spreadsheets expect, ready to be filled in and imported.
func (s *Server) docsImportTemplate(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.v.CanImport() {
		return docsapp.ErrForbidden
	}
	lang := c.QueryParam("lang")
	if lang != "de" {
		lang = "en"
	}
	l := s.i18n.For(lang, "")
	var buf bytes.Buffer
	buf.WriteString(docs.CSVBOM)
	w := csv.NewWriter(&buf)
	w.Comma = docs.CSVComma(lang, "")
	var header []string
	for _, f := range r.area.Fields {
		if f.Kind != docs.Contact {
			header = append(header, l.T(f.LabelKey(r.area.Name)))
		}
	}
	if err := w.Write(header); err != nil {
		return err
	}
	w.Flush()
	name := map[string]string{"de": "vorlage", "en": "template"}[lang]
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, r.area.Name, name))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
