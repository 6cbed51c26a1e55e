package docsapp

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"portier/db"
	"portier/docs"
	"portier/i18n"
)

// Export writes the area as the viewer sees it as CSV, without secrets: the viewer's language for the
// header, and the separator (sep: "comma", "semicolon" or "" for the language's) and byte order mark
// their spreadsheet program expects (docs.CSVComma). The export is audited; a failed audit entry is
// logged and does not hold back the file.
func (s *Service) Export(ctx context.Context, v *Viewer, area *docs.Area, sep string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(docs.CSVBOM)
	w := csv.NewWriter(&buf)
	w.Comma = docs.CSVComma(v.L.Lang, sep)
	if err := w.Write(exportHeader(v, area)); err != nil {
		return nil, err
	}
	contacts, err := s.contactNames(ctx, v, area)
	if err != nil {
		return nil, err
	}
	contact := func(ref string) string { return contacts[ref] }
	err = s.eachItem(ctx, v, area, func(it *db.DocItem) error {
		return w.Write(exportRecord(area, it, contact))
	})
	if err != nil {
		return nil, err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, nil, v.entry("docs.export", area.Name)); err != nil {
		s.log.Error("audit", "action", "docs.export", "err", err)
	}
	return buf.Bytes(), nil
}

// exportHeader is the export's first row: the labels of the area's fields but the secret ones, in the
// viewer's language.
func exportHeader(v *Viewer, area *docs.Area) []string {
	var header []string
	for _, f := range area.Fields {
		if !f.IsSecret() {
			header = append(header, v.L.T(f.LabelKey(area.Name)))
		}
	}
	return header
}

// exportRecord is an item's row under exportHeader, each cell made safe for spreadsheets; contact names
// the contact an item's contact field refers to.
func exportRecord(area *docs.Area, it *db.DocItem, contact func(ref string) string) []string {
	var rec []string
	for _, f := range area.Fields {
		switch {
		case f.IsSecret():
			continue
		case f.Name == "name":
			rec = append(rec, docs.CSVSafe(it.Name))
		case f.Kind == docs.Contact:
			rec = append(rec, docs.CSVSafe(contact(it.Fields[f.Name])))
		default:
			rec = append(rec, docs.CSVSafe(it.Fields[f.Name]))
		}
	}
	return rec
}

// ImportProblem is one problem of a refused import. Column is a field's translation key, or an unknown
// header as it was written.
type ImportProblem struct {
	Line    int
	Column  string
	Key     string
	Value   string   // the refused value as written (never for a secret field)
	Allowed []string // translation keys of the values that would have been accepted (options)
}

// cellProblem describes a refused value so that it can be fixed without guessing: the value as written
// (shortened; never a secret's, which must not reach a page) and, for a choice, every accepted option.
func cellProblem(area *docs.Area, f docs.Field, line int, raw, key string) ImportProblem {
	p := ImportProblem{Line: line, Column: f.LabelKey(area.Name), Key: key}
	if !f.IsSecret() {
		p.Value = strings.TrimSpace(raw)
		if utf8.RuneCountInString(p.Value) > 60 {
			p.Value = string([]rune(p.Value)[:60]) + "…"
		}
	}
	if f.Kind == docs.Enum && key == "docs.err.option" {
		for _, o := range f.Options {
			p.Allowed = append(p.Allowed, f.OptionKey(o))
		}
	}
	return p
}

// ImportError is a refused import: nothing was stored. Key says why; Problems lists them by line.
type ImportError struct {
	Key      string
	Problems []ImportProblem
}

func (e *ImportError) Error() string        { return "docsapp: import refused (" + e.Key + ")" }
func (e *ImportError) Is(target error) bool { return target == ErrInvalid }

// MaxImportRows bounds one import.
const MaxImportRows = 5000

// ImportColumns are the fields a CSV file of the area may have as columns (contacts are referred to by
// id, which a file cannot know).
func ImportColumns(area *docs.Area) []docs.Field {
	var out []docs.Field
	for _, f := range area.Fields {
		if f.Kind != docs.Contact {
			out = append(out, f)
		}
	}
	return out
}

// ImportDraft is a checked file kept (sealed) until its confirmation: only the person who uploaded it
// may confirm it, for the same organisation and area, once.
type ImportDraft struct {
	ID      int64
	Changes []db.DocChange // what the confirmation will create
}

// ImportPreview checks a CSV file for the area (MSP staff only) and keeps it as a draft; nothing is
// created before ImportConfirm. A refused file is an *ImportError.
func (s *Service) ImportPreview(ctx context.Context, v *Viewer, area *docs.Area, data []byte) (*ImportDraft, error) {
	if !v.CanImport() {
		return nil, ErrForbidden
	}
	chs, err := s.parse(v, area, data)
	if err != nil {
		return nil, err
	}
	id, err := s.db.ImportDraftSave(ctx, s.sealer, v.ID, v.Org.ID, area.Name, data)
	if err != nil {
		return nil, err
	}
	return &ImportDraft{ID: id, Changes: chs}, nil
}

// ErrDraftGone: the draft was confirmed already (a second click, a parallel request), expired, or is
// someone else's.
var ErrDraftGone = errors.New("docsapp: import draft gone")

// ImportConfirm stores every line of a previewed file as an item of the area: every line or none, in one
// transaction that also consumes the draft and writes the audit entry, so a draft imports at most once.
// It returns the number of items stored.
func (s *Service) ImportConfirm(ctx context.Context, v *Viewer, area *docs.Area, draftID int64) (int, error) {
	if !v.CanImport() {
		return 0, ErrForbidden
	}
	d, err := s.db.ImportDraftGet(ctx, s.sealer, draftID, v.ID, v.Org.ID, area.Name)
	if errors.Is(err, db.ErrNotFound) {
		return 0, ErrDraftGone
	}
	if err != nil {
		return 0, err
	}
	chs, err := s.parse(v, area, d.Data)
	if err != nil {
		// Checked at the preview; only a change of the rules (custom fields) in between lands here.
		return 0, ErrDraftGone
	}
	err = s.db.DocCreateMany(ctx, s.sealer, chs, v.actor(), func(tx *sql.Tx) error {
		if err := db.ImportDraftConsume(ctx, tx, d.ID, v.ID); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, v.entry("docs.import", area.Name+": "+strconv.Itoa(len(chs))))
	})
	if errors.Is(err, db.ErrConflict) || errors.Is(err, db.ErrNotFound) {
		return 0, ErrDraftGone
	}
	if err != nil {
		return 0, err
	}
	return len(chs), nil
}

// parse is parseImport with the refusals as an *ImportError.
func (s *Service) parse(v *Viewer, area *docs.Area, data []byte) ([]db.DocChange, error) {
	chs, problems := parseImport(area, v.Org.ID, s.labels.For("en", ""), s.labels.For("de", ""), data)
	if len(problems) > 0 {
		return nil, &ImportError{Key: "docs.import.refused", Problems: problems}
	}
	if len(chs) == 0 {
		return nil, &ImportError{Key: "docs.import.err_empty"}
	}
	return chs, nil
}

// columnIndex maps a header cell to a field: our field name, or the English or German label.
func columnIndex(area *docs.Area, en, de *i18n.Localizer, header string) (docs.Field, bool) {
	h := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header, "\ufeff")))
	for _, f := range ImportColumns(area) {
		if h == f.Name || h == strings.ToLower(en.T(f.LabelKey(area.Name))) || h == strings.ToLower(de.T(f.LabelKey(area.Name))) {
			return f, true
		}
	}
	return docs.Field{}, false
}

// parseImport reads a CSV file (comma or semicolon separated, UTF-8 with or without BOM) into changes,
// or the problems per line. Nothing is stored here.
func parseImport(area *docs.Area, orgID int64, en, de *i18n.Localizer, data []byte) ([]db.DocChange, []ImportProblem) {
	if !utf8.Valid(data) {
		return nil, []ImportProblem{{Line: 1, Key: "docs.import.err_encoding"}}
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
		return nil, []ImportProblem{{Line: 1, Key: "docs.import.err_empty"}}
	}
	fields := make([]docs.Field, len(header))
	var problems []ImportProblem
	seen := map[string]bool{}
	for i, h := range header {
		f, ok := columnIndex(area, en, de, h)
		if !ok || seen[f.Name] {
			problems = append(problems, ImportProblem{Line: 1, Column: h, Key: "docs.import.err_column"})
			continue
		}
		seen[f.Name] = true
		fields[i] = f
	}
	if len(seen) == 0 {
		// Not one column is known: the first line is data, not a header (a password, say). Naming its cells
		// would show them on the page; the missing name column says what is wrong.
		return nil, []ImportProblem{{Line: 1, Column: "name", Key: "docs.import.err_no_name"}}
	}
	if !seen["name"] {
		problems = append(problems, ImportProblem{Line: 1, Column: "name", Key: "docs.import.err_no_name"})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var out []db.DocChange
	rows := 0 // data rows read, good or bad: the cap bounds the problems collected too
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, ImportProblem{Line: line, Key: "docs.import.err_syntax"})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if rows++; rows > MaxImportRows {
			problems = append(problems, ImportProblem{Line: line, Key: "docs.import.err_too_many"})
			break
		}
		if len(rec) != len(header) {
			problems = append(problems, ImportProblem{Line: line, Key: "docs.import.err_count"})
			continue
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
		for _, f := range ImportColumns(area) {
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
