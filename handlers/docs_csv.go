package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// docsIORoutes registers CSV export/import and the printable emergency handbook.
func (s *Server) docsIORoutes() {
	g := s.e.Group("/o/:slug", s.complete, s.orgAccess)
	g.GET("/export/:area", s.docsExport)
	g.GET("/import/:area", s.docsImportPage)
	g.POST("/import/:area", s.docsImport)
	g.GET("/handbook", s.handbook)
	g.POST("/handbook", s.handbook)
}

// csvSafe neutralises a cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// docsExport writes one area as CSV (without secrets): the viewer's language for the header, and the
// separator and byte order mark their spreadsheet program expects (docs.CSVComma).
func (s *Server) docsExport(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var buf bytes.Buffer
	buf.WriteString(docs.CSVBOM)
	w := csv.NewWriter(&buf)
	w.Comma = docs.CSVComma(r.l.Lang, c.QueryParam("sep"))
	var header []string
	for _, f := range r.area.Fields {
		if !f.IsSecret() {
			header = append(header, r.l.T(f.LabelKey(r.area.Name)))
		}
	}
	if err := w.Write(header); err != nil {
		return err
	}
	contacts, err := s.contactNames(c, r)
	if err != nil {
		return err
	}
	for offset := 0; ; offset += 200 {
		items, _, err := s.db.DocList(ctx, db.DocQuery{DocScope: r.scope, Area: r.area.Name, Limit: 200, Offset: offset})
		if err != nil {
			return err
		}
		for _, it := range items {
			var rec []string
			for _, f := range r.area.Fields {
				switch {
				case f.IsSecret():
					continue
				case f.Name == "name":
					rec = append(rec, csvSafe(it.Name))
				case f.Kind == docs.Contact:
					rec = append(rec, csvSafe(contacts[it.Fields[f.Name]]))
				default:
					rec = append(rec, csvSafe(it.Fields[f.Name]))
				}
			}
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		if len(items) < 200 {
			break
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	s.audit(c, r.org.ID, "docs.export", r.area.Name)
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, r.org.Slug, r.area.Name))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// importProblem is one line of a refused import.
type importProblem struct {
	Line    int
	Column  string
	Key     string
	Value   string   // the refused value as written (never for a secret field)
	Allowed []string // translation keys of the values that would have been accepted (options)
}

func (s *Server) docsImportPage(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.u.IsStaff() {
		return echo.ErrNotFound
	}
	return s.renderImport(c, r, http.StatusOK, views.ImportView{})
}

func (s *Server) renderImport(c *echo.Context, r *docReq, status int, v views.ImportView) error {
	nav, err := s.docsNav(c, r.org, r.scope, r.area.Name, "")
	if err != nil {
		return err
	}
	v.Nav, v.TitleKey, v.Action, v.BackHref = nav, r.area.TitleKey(), "/o/"+r.org.Slug+"/import/"+r.area.Name, r.base
	v.Templates = importTemplates(v.Action)
	for _, f := range r.area.Fields {
		if f.Kind == docs.Contact {
			continue
		}
		v.Columns = append(v.Columns, views.ImportColumn{Name: f.Name, LabelKey: f.LabelKey(r.area.Name), Required: f.Required, Secret: f.IsSecret()})
	}
	return s.render(c, status, views.Import(s.shell(c, r.l.T("docs.import.title", "area", r.l.T(r.area.TitleKey()))), v), nil)
}

// columnIndex maps a header cell to a field: our field name, or the English or German label.
func columnIndex(area *docs.Area, en, de *i18n.Localizer, header string) (docs.Field, bool) {
	h := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header, "\ufeff")))
	for _, f := range area.Fields {
		if f.Kind == docs.Contact {
			continue
		}
		if h == f.Name || h == strings.ToLower(en.T(f.LabelKey(area.Name))) || h == strings.ToLower(de.T(f.LabelKey(area.Name))) {
			return f, true
		}
	}
	return docs.Field{}, false
}

// maxImportRows bounds one import.
const maxImportRows = 5000

// parseImport reads a CSV file (comma or semicolon separated, UTF-8 with or without BOM) into changes,
// or the problems per line. Nothing is stored here.
func parseImport(area *docs.Area, orgID int64, en, de *i18n.Localizer, data []byte) ([]db.DocChange, []importProblem) {
	if !utf8.Valid(data) {
		return nil, []importProblem{{Line: 1, Key: "docs.import.err_encoding"}}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	firstLine, _, _ := bytes.Cut(data, []byte("\n"))
	rd := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(firstLine, []byte(";")) > bytes.Count(firstLine, []byte(",")) {
		rd.Comma = ';'
	}
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return nil, []importProblem{{Line: 1, Key: "docs.import.err_empty"}}
	}
	fields := make([]docs.Field, len(header))
	var problems []importProblem
	seen := map[string]bool{}
	for i, h := range header {
		f, ok := columnIndex(area, en, de, h)
		if !ok || seen[f.Name] {
			problems = append(problems, importProblem{Line: 1, Column: h, Key: "docs.import.err_column"})
			continue
		}
		seen[f.Name] = true
		fields[i] = f
	}
	if !seen["name"] {
		problems = append(problems, importProblem{Line: 1, Column: "name", Key: "docs.import.err_no_name"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var out []db.DocChange
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, importProblem{Line: line, Key: "docs.import.err_syntax"})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			problems = append(problems, importProblem{Line: line, Key: "docs.import.err_count"})
			continue
		}
		if len(out) >= maxImportRows {
			problems = append(problems, importProblem{Line: line, Key: "docs.import.err_too_many"})
			break
		}
		vals := map[string]string{}
		for i, v := range rec {
			// Undo our own export's formula guard.
			if strings.HasPrefix(v, "'") && len(v) > 1 && strings.ContainsRune("=+-@", rune(v[1])) {
				v = v[1:]
			}
			vals[fields[i].Name] = v
		}
		ch := db.DocChange{OrgID: orgID, Area: area.Name, Fields: map[string]string{}, Secrets: map[string]string{}}
		for _, f := range area.Fields {
			if f.Kind == docs.Contact {
				continue
			}
			v := vals[f.Name]
			if f.Kind == docs.Enum && v != "" {
				v = enumFromLabel(f, en, de, v)
			}
			clean, e := f.Clean(v)
			if e != "" {
				problems = append(problems, cellProblem(area, f, line, vals[f.Name], e))
				continue
			}
			switch {
			case f.Name == "name":
				ch.Name = clean
			case f.IsSecret():
				if clean != "" {
					ch.Secrets[f.Name] = clean
				}
			case clean != "":
				ch.Fields[f.Name] = clean
			}
		}
		out = append(out, ch)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// enumFromLabel accepts an option by its stored value or its English or German label.
func enumFromLabel(f docs.Field, en, de *i18n.Localizer, v string) string {
	lv := strings.ToLower(strings.TrimSpace(v))
	for _, o := range f.Options {
		if lv == o || lv == strings.ToLower(en.T(f.OptionKey(o))) || lv == strings.ToLower(de.T(f.OptionKey(o))) {
			return o
		}
	}
	return v
}

// docsImport checks a CSV file for one area and shows what it would import (importPreview); nothing is
// stored before the confirmation, and then every line or none.
func (s *Server) docsImport(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.u.IsStaff() {
		return echo.ErrNotFound
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return s.renderImport(c, r, http.StatusUnprocessableEntity, views.ImportView{ErrorKey: "docs.import.err_nofile"})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUploadBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxUploadBody {
		return echo.ErrStatusRequestEntityTooLarge
	}
	chs, problems := parseImport(r.area, r.org.ID, s.i18n.For("en", ""), s.i18n.For("de", ""), data)
	if len(problems) > 0 {
		v := views.ImportView{ErrorKey: "docs.import.refused"}
		for _, p := range problems {
			if len(v.Problems) == 50 {
				break
			}
			// A field's column is named in the viewer's language; an unknown header as it was written.
			v.Problems = append(v.Problems, importProblemView(r.l, p))
		}
		return s.renderImport(c, r, http.StatusUnprocessableEntity, v)
	}
	if len(chs) == 0 {
		return s.renderImport(c, r, http.StatusUnprocessableEntity, views.ImportView{ErrorKey: "docs.import.err_empty"})
	}
	return s.importPreview(c, r, data, chs)
}

// handbook is the printable emergency handbook: every area of the organisation on one page. Secrets appear
// only after an explicit, audited choice (a POST with secrets=1): each secret printed is an entry of its
// own (item and field), written before the page is sent, and a stored TOTP seed is printed as its current
// code, never as the seed (as on the detail page).
func (s *Server) handbook(c *echo.Context) error {
	u := currentUser(c)
	org, _ := currentOrg(c)
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	scope := db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()}
	withSecrets := c.Request().Method == http.MethodPost && c.FormValue("secrets") == "1"
	v := views.HandbookView{OrgName: org.Name, Generated: l.DateTime(s.now()), WithSecrets: withSecrets, Action: "/o/" + org.Slug + "/handbook",
		CSS: s.assets.URL("handbook.css"), JS: s.assets.URL("handbook.js")}
	var printed []db.AuditEntry
	areas, err := s.areasFor(ctx)
	if err != nil {
		return err
	}
	if v.Procedures, err = s.handbookProcedures(ctx, org.ID, u.IsStaff()); err != nil {
		return err
	}
	for _, area := range areas {
		r := &docReq{u: u, org: org, area: area, scope: scope, l: l}
		contacts, err := s.contactNames(c, r)
		if err != nil {
			return err
		}
		sec := views.HandbookSection{Name: area.Name, TitleKey: area.TitleKey()}
		for offset := 0; ; offset += 200 {
			items, _, err := s.db.DocList(ctx, db.DocQuery{DocScope: scope, Area: area.Name, Limit: 200, Offset: offset})
			if err != nil {
				return err
			}
			for _, it := range items {
				secrets := map[string]string{}
				for _, f := range area.Secrets() {
					if !withSecrets || !it.Secrets[f.Name] {
						continue
					}
					val, err := s.db.DocSecret(ctx, s.cfg.Sealer, scope, area.Name, it.ID, f.Name)
					if errors.Is(err, db.ErrSealBroken) {
						return errSealBroken
					} else if err != nil {
						return err
					}
					if f.Kind == docs.TOTPSeed {
						if val, _, err = s.currentCode(val); err != nil {
							return err
						}
					}
					secrets[f.Name] = val
					printed = append(printed, s.secretAuditEntry(c, r, it, "docs.handbook_reveal", f.Name))
				}
				sec.Items = append(sec.Items, handbookItem(area, it, secrets, func(f docs.Field) string {
					return s.cell(r, f, it, contacts, s.now()).Text
				}))
			}
			if len(items) < 200 {
				break
			}
		}
		v.Sections = append(v.Sections, sec)
	}
	if withSecrets {
		// No page with secrets without its entries: a failed write refuses the page.
		err := s.db.Tx(ctx, func(tx dbTx) error {
			for _, e := range printed {
				if err := s.db.Audit(ctx, tx, e); err != nil {
					return err
				}
			}
			return s.db.Audit(ctx, tx, s.auditEntry(c, org.ID, "docs.handbook_secrets", org.Name))
		})
		if err != nil {
			return err
		}
		noStore(c)
	}
	return s.render(c, http.StatusOK, views.Handbook(s.shell(c, l.T("docs.handbook.title")), v), nil)
}
