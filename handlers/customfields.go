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
	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// Custom fields: MSP administrators add fields to an area. Every documentation page resolves its area
// through areaFor, which returns the built-in definition extended by the custom fields; from there on the
// form, detail page, list, search, CSV and handbook treat them like any other field.

// areaFor is the named area with the MSP's custom fields.
func (s *Server) areaFor(ctx context.Context, name string) (*docs.Area, bool, error) {
	return s.docs.Area(ctx, name)
}

// areasFor is every area with the MSP's custom fields, in menu order.
func (s *Server) areasFor(ctx context.Context) ([]*docs.Area, error) {
	return s.docs.Areas(ctx)
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
	cfs, err := s.docs.CustomFields(ctx)
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

// readFieldForm reads the administrator's form (docsapp settles what a field of its kind keeps).
func readFieldForm(c *echo.Context) docsapp.CustomFieldInput {
	in := docsapp.CustomFieldInput{Area: c.FormValue("area"), Kind: c.FormValue("kind"), Label: c.FormValue("label"),
		Options: docs.ParseOptions(c.FormValue("options")), InList: c.FormValue("in_list") != "", Expiry: c.FormValue("expiry") != ""}
	in.Version, _ = strconv.Atoi(c.FormValue("version"))
	return in
}

// fieldErrors are the form's messages of a field that was not stored; ok false for any other error.
func fieldErrors(err error) (map[string]string, bool) {
	var inv *docsapp.FieldInvalidError
	if errors.As(err, &inv) {
		return inv.Fields, true
	}
	return nil, false
}

func (s *Server) customFieldCreate(c *echo.Context) error {
	cf, err := s.docs.CreateCustomField(c.Request().Context(), s.viewer(c), readFieldForm(c))
	if errs, ok := fieldErrors(err); ok {
		return s.renderCustomFields(c, http.StatusUnprocessableEntity, s.newFieldForm(cf, errs, "docs.fix_errors"))
	}
	if err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyFlash, "fields.created")
	return s.redirect(c, "/staff/fields")
}

// customField is the route's field.
func (s *Server) customField(c *echo.Context) (db.CustomField, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.CustomField{}, echo.ErrNotFound
	}
	return s.docs.CustomField(c.Request().Context(), id)
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
	cf, err := s.docs.UpdateCustomField(c.Request().Context(), s.viewer(c), old.ID, readFieldForm(c))
	if errs, ok := fieldErrors(err); ok {
		return s.renderFieldEdit(c, http.StatusUnprocessableEntity, s.editFieldForm(cf, errs, "docs.fix_errors"))
	}
	if errors.Is(err, docsapp.ErrConflict) {
		// Keep what this administrator typed, at the version now stored, and say so.
		return s.renderFieldEdit(c, http.StatusConflict, s.editFieldForm(cf, nil, "fields.conflict"))
	}
	if err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyFlash, "fields.updated")
	return s.redirect(c, "/staff/fields")
}

func (s *Server) customFieldDelete(c *echo.Context) error {
	cf, err := s.customField(c)
	if err != nil {
		return err
	}
	if err := s.docs.DeleteCustomField(c.Request().Context(), s.viewer(c), cf.ID); err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyFlash, "fields.deleted")
	return s.redirect(c, "/staff/fields")
}
