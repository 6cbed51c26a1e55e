package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// Custom fields: MSP administrators add fields to an area. Every documentation page resolves its area
// through areaFor, which returns the built-in definition extended by the custom fields; from there on the
// form, detail page, list, search, CSV and handbook treat them like any other field.

// customDocFields turns stored custom fields into field definitions, by area.
func customDocFields(cfs []db.CustomField) map[string][]docs.Field {
	out := map[string][]docs.Field{}
	for _, cf := range cfs {
		kind, ok := docs.CustomKind(cf.Kind)
		if !ok {
			continue
		}
		out[cf.Area] = append(out[cf.Area], docs.Field{Name: docs.CustomFieldName(cf.ID), Kind: kind, Custom: true, Label: cf.Label,
			Options: cf.Options, InList: cf.InList && kind != docs.Secret, Filter: kind == docs.Enum && cf.InList,
			Expiry: cf.Expiry && kind == docs.Date})
	}
	return out
}

// areaFor is the named area with the MSP's custom fields.
func (s *Server) areaFor(ctx context.Context, name string) (*docs.Area, bool, error) {
	a, ok := docs.ByName(name)
	if !ok {
		return nil, false, nil
	}
	cfs, err := s.db.CustomFields(ctx)
	if err != nil {
		return nil, false, err
	}
	return a.WithCustom(customDocFields(cfs)[name]), true, nil
}

// areasFor is every area with the MSP's custom fields, in menu order.
func (s *Server) areasFor(ctx context.Context) ([]*docs.Area, error) {
	cfs, err := s.db.CustomFields(ctx)
	if err != nil {
		return nil, err
	}
	by := customDocFields(cfs)
	out := make([]*docs.Area, 0, len(docs.Areas))
	for _, a := range docs.Areas {
		out = append(out, a.WithCustom(by[a.Name]))
	}
	return out, nil
}

// fieldLabelKey is the label of a field of the area by its name, also for a custom field; a field the
// area no longer has (a deleted custom field in an old version) is shown by its stored name.
func fieldLabelKey(area *docs.Area, name string) string {
	if f, ok := area.Field(name); ok {
		return f.LabelKey(area.Name)
	}
	if docs.IsCustomFieldName(name) {
		return name
	}
	return docs.Field{Name: name}.LabelKey(area.Name)
}

func (s *Server) customFieldsPage(c *echo.Context) error {
	return s.renderCustomFields(c, http.StatusOK, s.newFieldForm(db.CustomField{Area: docs.Configurations.Name, Kind: "text"}, nil, ""))
}

func (s *Server) newFieldForm(cf db.CustomField, errs map[string]string, errKey string) views.CustomFieldForm {
	f := views.CustomFieldForm{Action: "/staff/fields", Area: cf.Area, Kind: cf.Kind, Label: cf.Label, Options: strings.Join(cf.Options, "\n"),
		InList: cf.InList, Expiry: cf.Expiry, Version: cf.Version, Errors: errs, ErrorKey: errKey}
	for _, a := range docs.Areas {
		f.Areas = append(f.Areas, views.FilterOption{Value: a.Name, LabelKey: a.TitleKey(), Selected: a.Name == cf.Area})
	}
	for _, k := range docs.CustomKinds {
		f.Kinds = append(f.Kinds, views.FilterOption{Value: k, LabelKey: "fields.kind." + k, Selected: k == cf.Kind})
	}
	return f
}

func (s *Server) renderCustomFields(c *echo.Context, status int, form views.CustomFieldForm) error {
	ctx := c.Request().Context()
	cfs, err := s.db.CustomFields(ctx)
	if err != nil {
		return err
	}
	v := views.CustomFieldsView{Nav: staffNav(c, "fields"), Form: form, FlashKey: s.sm.PopString(ctx, keyFlash)}
	if !strings.HasPrefix(v.FlashKey, "fields.") {
		v.FlashKey = ""
	}
	for _, cf := range cfs {
		id := strconv.FormatInt(cf.ID, 10)
		v.Rows = append(v.Rows, views.CustomFieldRow{ID: id, AreaKey: "docs.area." + cf.Area, Label: cf.Label, KindKey: "fields.kind." + cf.Kind,
			Options: strings.Join(cf.Options, ", "), InList: cf.InList, Expiry: cf.Expiry,
			EditHref: "/staff/fields/" + id, Delete: "/staff/fields/" + id + "/delete"})
	}
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.CustomFields(s.shell(c, l.T("fields.title")), v), nil)
}

// readFieldForm validates the administrator's form; area and kind only for a new field.
func (s *Server) readFieldForm(c *echo.Context, cf db.CustomField, isNew bool) (db.CustomField, map[string]string) {
	errs := map[string]string{}
	if isNew {
		cf.Area, cf.Kind = c.FormValue("area"), c.FormValue("kind")
		if _, ok := docs.ByName(cf.Area); !ok {
			errs["area"] = "fields.err.area"
		}
		if _, ok := docs.CustomKind(cf.Kind); !ok {
			errs["kind"] = "fields.err.kind"
		}
	}
	cf.Label = strings.TrimSpace(c.FormValue("label"))
	if e := docs.CustomLabelOK(cf.Label, s.isMessageKey); e != "" {
		errs["label"] = e
	} else if s.builtinLabel(cf.Area, cf.Label) {
		errs["label"] = "fields.err.label_taken"
	}
	cf.Options = nil
	if cf.Kind == "choice" {
		cf.Options = docs.ParseOptions(c.FormValue("options"))
		if len(cf.Options) == 0 {
			errs["options"] = "fields.err.options"
		} else if len(cf.Options) > 50 {
			errs["options"] = "fields.err.options_many"
		}
		for _, o := range cf.Options {
			if e := docs.CustomLabelOK(o, s.isMessageKey); e != "" {
				errs["options"] = e
			}
		}
	}
	if !isNew {
		// The version the editor saw; a form without one (or a stale one) is a conflict, never a blind write.
		cf.Version, _ = strconv.Atoi(c.FormValue("version"))
	}
	cf.InList = c.FormValue("in_list") != "" && cf.Kind != "secret"
	cf.Expiry = c.FormValue("expiry") != "" && cf.Kind == "date"
	return cf, errs
}

// builtinLabel reports whether label names one of the area's own fields, by its name or its English or
// German label. A CSV column is matched to a field by exactly these, and the custom fields stand before
// the notes: a custom field called "Notes" would take the notes column of every import, one called
// "Password" would put a plain-text column of that name beside the sealed one.
func (s *Server) builtinLabel(area, label string) bool {
	a, ok := docs.ByName(area)
	if !ok {
		return false
	}
	en, de := s.i18n.For("en", ""), s.i18n.For("de", "")
	for _, f := range a.Fields {
		key := f.LabelKey(a.Name)
		if strings.EqualFold(label, f.Name) || strings.EqualFold(label, en.T(key)) || strings.EqualFold(label, de.T(key)) {
			return true
		}
	}
	return false
}

// isMessageKey reports whether a text is one of the translation keys (a label that would be translated).
func (s *Server) isMessageKey(text string) bool {
	_, ok := s.i18n.Keys("en")[text]
	return ok
}

func (s *Server) customFieldCreate(c *echo.Context) error {
	cf, errs := s.readFieldForm(c, db.CustomField{}, true)
	if len(errs) > 0 {
		return s.renderCustomFields(c, http.StatusUnprocessableEntity, s.newFieldForm(cf, errs, "docs.fix_errors"))
	}
	ctx := c.Request().Context()
	_, err := s.db.CustomFieldCreate(ctx, cf, func(tx dbTx, id int64) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "fields.create", strconv.FormatInt(id, 10)+":"+cf.Area+":"+cf.Label))
	})
	if errors.Is(err, db.ErrLabelTaken) {
		return s.renderCustomFields(c, http.StatusUnprocessableEntity, s.newFieldForm(cf, map[string]string{"label": "fields.err.label_taken"}, "docs.fix_errors"))
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "fields.created")
	return s.redirect(c, "/staff/fields")
}

func (s *Server) customField(c *echo.Context) (db.CustomField, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.CustomField{}, echo.ErrNotFound
	}
	cfs, err := s.db.CustomFields(c.Request().Context())
	if err != nil {
		return db.CustomField{}, err
	}
	for _, cf := range cfs {
		if cf.ID == id {
			return cf, nil
		}
	}
	return db.CustomField{}, echo.ErrNotFound
}

func (s *Server) editFieldForm(cf db.CustomField, errs map[string]string, errKey string) views.CustomFieldForm {
	f := s.newFieldForm(cf, errs, errKey)
	f.Action, f.Existing, f.CancelHref = "/staff/fields/"+strconv.FormatInt(cf.ID, 10), true, "/staff/fields"
	return f
}

func (s *Server) customFieldEditPage(c *echo.Context) error {
	cf, err := s.customField(c)
	if err != nil {
		return err
	}
	return s.renderFieldEdit(c, http.StatusOK, s.editFieldForm(cf, nil, ""))
}

func (s *Server) renderFieldEdit(c *echo.Context, status int, f views.CustomFieldForm) error {
	l := i18n.From(c.Request().Context())
	return s.render(c, status, views.CustomFieldEdit(s.shell(c, l.T("fields.title")), views.CustomFieldEditView{Nav: staffNav(c, "fields"), Form: f}), nil)
}

func (s *Server) customFieldUpdate(c *echo.Context) error {
	old, err := s.customField(c)
	if err != nil {
		return err
	}
	cf, errs := s.readFieldForm(c, old, false)
	if len(errs) > 0 {
		return s.renderFieldEdit(c, http.StatusUnprocessableEntity, s.editFieldForm(cf, errs, "docs.fix_errors"))
	}
	ctx := c.Request().Context()
	err = s.db.CustomFieldUpdate(ctx, cf, func(tx dbTx) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "fields.update", strconv.FormatInt(cf.ID, 10)+":"+cf.Area+":"+cf.Label))
	})
	if errors.Is(err, db.ErrLabelTaken) {
		return s.renderFieldEdit(c, http.StatusUnprocessableEntity, s.editFieldForm(cf, map[string]string{"label": "fields.err.label_taken"}, "docs.fix_errors"))
	}
	if errors.Is(err, db.ErrConflict) {
		// Keep what this administrator typed, at the version now stored, and say so.
		cur, gerr := s.customField(c)
		if gerr != nil {
			return gerr
		}
		cf.Version = cur.Version
		return s.renderFieldEdit(c, http.StatusConflict, s.editFieldForm(cf, nil, "fields.conflict"))
	}
	if errors.Is(err, db.ErrOptionInUse) {
		return s.renderFieldEdit(c, http.StatusUnprocessableEntity, s.editFieldForm(cf, map[string]string{"options": "fields.err.option_in_use"}, "docs.fix_errors"))
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "fields.updated")
	return s.redirect(c, "/staff/fields")
}

func (s *Server) customFieldDelete(c *echo.Context) error {
	cf, err := s.customField(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.db.CustomFieldDelete(ctx, cf.ID, func(tx dbTx) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "fields.delete", strconv.FormatInt(cf.ID, 10)+":"+cf.Area+":"+cf.Label))
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "fields.deleted")
	return s.redirect(c, "/staff/fields")
}
