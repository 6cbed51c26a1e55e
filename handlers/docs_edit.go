package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/views"
)

func (s *Server) docsNew(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.v.CanEdit(r.area) {
		return docsapp.ErrForbidden
	}
	return s.renderDocForm(c, r, http.StatusOK, nil, map[string]string{}, nil, false, "")
}

func (s *Server) docsEdit(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	it, err := s.docs.ItemForEdit(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	vals := map[string]string{"name": it.Name}
	for k, v := range it.Fields {
		vals[k] = v
	}
	return s.renderDocForm(c, r, http.StatusOK, it, vals, nil, it.StaffOnly, "")
}

func (s *Server) docsCreate(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.v.CanEdit(r.area) {
		return docsapp.ErrForbidden // before the form is read
	}
	in, err := readDocForm(c, r.area)
	if err != nil {
		return err
	}
	id, err := s.docs.Create(c.Request().Context(), r.v, r.area, in)
	if invalid := (*docsapp.InvalidError)(nil); errors.As(err, &invalid) {
		return s.renderDocForm(c, r, http.StatusUnprocessableEntity, nil, in.Values, invalid.Fields, invalid.StaffOnly, "docs.fix_errors")
	}
	if err != nil {
		return err
	}
	return s.redirect(c, r.itemHref(id))
}

func (s *Server) docsUpdate(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := itemID(c)
	// Refused (404) before the form is read when the item is not the viewer's to change.
	if _, err := s.docs.ItemForEdit(ctx, r.v, r.area, id); err != nil {
		return err
	}
	in, err := readDocForm(c, r.area)
	if err != nil {
		return err
	}
	err = s.docs.Update(ctx, r.v, r.area, id, in)
	var invalid *docsapp.InvalidError
	var conflict *docsapp.ConflictError
	switch {
	case errors.As(err, &invalid):
		return s.renderDocForm(c, r, http.StatusUnprocessableEntity, invalid.Item, in.Values, invalid.Fields, invalid.StaffOnly, "docs.fix_errors")
	case errors.As(err, &conflict):
		// Someone saved meanwhile: keep what this person typed, show the newer version's number, and say so.
		return s.renderDocForm(c, r, http.StatusConflict, conflict.Current, in.Values, nil, conflict.StaffOnly, "docs.conflict")
	case err != nil:
		return err
	}
	return s.redirect(c, r.itemHref(id))
}

func (s *Server) docsDelete(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	it, err := s.docs.Delete(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s.sm.Put(ctx, keyFlash, "docs.deleted")
	s.sm.Put(ctx, "flash_name", it.Name)
	s.sm.Put(ctx, "undo_item", it.ID)
	return s.redirect(c, r.base)
}

func (s *Server) docsRestore(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	it, err := s.docs.Restore(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s.sm.Remove(ctx, "undo_item")
	s.sm.Put(ctx, keyFlash, "docs.restored")
	s.sm.Put(ctx, "flash_name", it.Name)
	return s.redirect(c, r.itemHref(it.ID))
}

// readDocForm reads an item form. The forms send every name once: a repeated one (a field, the version)
// is not ours to guess at.
func readDocForm(c *echo.Context, area *docs.Area) (docsapp.Input, error) {
	form, err := c.FormValues()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return docsapp.Input{}, err
		}
		return docsapp.Input{}, echo.ErrBadRequest
	}
	for _, vs := range form {
		if len(vs) > 1 {
			return docsapp.Input{}, echo.ErrBadRequest
		}
	}
	in := docsapp.Input{Values: map[string]string{}, Generate: map[string]bool{}, Clear: map[string]bool{},
		StaffOnly: form.Get("staff_only") != ""}
	in.Version, _ = strconv.Atoi(form.Get("version"))
	for _, f := range area.Fields {
		v := form.Get(f.Name)
		if f.Kind == docs.Bool && v != "" {
			v = "1"
		}
		in.Values[f.Name] = v
		in.Generate[f.Name] = form.Get("generate."+f.Name) != ""
		in.Clear[f.Name] = form.Get("clear."+f.Name) != ""
	}
	return in, nil
}

func (s *Server) renderDocForm(c *echo.Context, r *docReq, status int, it *db.DocItem, vals, errs map[string]string, staffOnly bool, errKey string) error {
	fields, err := s.formFields(c, r, vals, errs, it)
	if err != nil {
		return err
	}
	nav, err := s.nav(c, r, "")
	if err != nil {
		return err
	}
	v := views.DocFormView{Nav: nav, Area: r.area.Name, TitleKey: r.area.TitleKey(), Fields: fields, StaffOnly: staffOnly,
		CanStaffOnly: r.v.Staff, ErrorKey: errKey, Action: r.base, CancelHref: r.base,
		Heading: r.l.T("docs.new_heading." + r.area.Name)}
	if it != nil {
		itemBase := r.itemHref(it.ID)
		v.Action, v.CancelHref, v.Version = itemBase, itemBase, it.Version
		v.Heading = r.l.T("docs.edit_heading", "name", it.Name)
	}
	return s.render(c, status, views.DocForm(s.shell(c, v.Heading), v), views.DocFormFragment(v))
}

// formFields builds the inputs of an item form from the area's definition, the values to show and the
// problems found.
func (s *Server) formFields(c *echo.Context, r *docReq, values map[string]string, errs map[string]string, it *db.DocItem) ([]views.FormField, error) {
	var contacts []*db.DocItem
	var out []views.FormField
	for _, f := range r.area.Fields {
		ff := views.FormField{Name: f.Name, LabelKey: f.LabelKey(r.area.Name), Value: values[f.Name], ErrorKey: errs[f.Name],
			Required: f.Required, MaxLength: f.MaxLen()}
		switch f.Kind {
		case docs.LongText:
			ff.Type = "textarea"
		case docs.Email:
			ff.Type = "email"
		case docs.Phone:
			ff.Type = "tel"
		case docs.URL:
			ff.Type = "url"
		case docs.Date:
			ff.Type = "date"
		case docs.Port, docs.Int:
			ff.Type = "number"
		case docs.Bool:
			ff.Type = "checkbox"
		case docs.Enum:
			ff.Type = "select"
			for _, o := range f.Options {
				ff.Options = append(ff.Options, views.FilterOption{Value: o, LabelKey: f.OptionKey(o), Selected: values[f.Name] == o})
			}
		case docs.Secret, docs.TOTPSeed:
			ff.Type, ff.Value = "secret", ""
			ff.HasValue = it != nil && it.Secrets[f.Name]
			ff.Generate = f.Kind == docs.Secret && r.area.Name == docs.Passwords.Name
		case docs.SecretText:
			ff.Type, ff.Value = "secrettext", ""
			ff.HasValue = it != nil && it.Secrets[f.Name]
		case docs.Contact:
			ff.Type = "contact"
			if contacts == nil {
				var err error
				if contacts, err = s.docs.Contacts(c.Request().Context(), r.v); err != nil {
					return nil, err
				}
			}
			for _, ct := range contacts {
				id := strconv.FormatInt(ct.ID, 10)
				ff.Options = append(ff.Options, views.FilterOption{Value: id, LabelKey: ct.Name, Selected: values[f.Name] == id})
			}
		default:
			ff.Type = "text"
		}
		out = append(out, ff)
	}
	return out, nil
}
