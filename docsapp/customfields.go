package docsapp

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"portier/db"
	"portier/docs"
)

// Custom fields: MSP administrators add fields to an area. Every documentation page resolves its area
// through Area or Areas, which return the built-in definition extended by the custom fields; from there on
// the form, detail page, list, search, CSV and handbook treat them like any other field. They live here,
// not in accounts, because they change what the documentation holds, not who may do what.

// maxOptions bounds a choice list: a longer one is a text field.
const maxOptions = 50

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

// Area is the named area with the MSP's custom fields (ok false for no such area).
func (s *Service) Area(ctx context.Context, name string) (a *docs.Area, ok bool, err error) {
	a, ok = docs.ByName(name)
	if !ok {
		return nil, false, nil
	}
	cfs, err := s.db.CustomFields(ctx)
	if err != nil {
		return nil, false, err
	}
	return a.WithCustom(customDocFields(cfs)[name]), true, nil
}

// Areas is every area with the MSP's custom fields, in menu order.
func (s *Service) Areas(ctx context.Context) ([]*docs.Area, error) {
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

// CustomFields is every live custom field, by area and position.
func (s *Service) CustomFields(ctx context.Context) ([]db.CustomField, error) {
	return s.db.CustomFields(ctx)
}

// CustomField is one live custom field (ErrNotFound otherwise).
func (s *Service) CustomField(ctx context.Context, id int64) (db.CustomField, error) {
	cfs, err := s.db.CustomFields(ctx)
	if err != nil {
		return db.CustomField{}, err
	}
	for _, cf := range cfs {
		if cf.ID == id {
			return cf, nil
		}
	}
	return db.CustomField{}, ErrNotFound
}

// CustomFieldInput is an administrator's form: area and kind count only for a new field (stored values
// were validated and sealed as that kind); Version is the version the editor saw (an edit without one, or
// with a stale one, is a conflict, never a blind write).
type CustomFieldInput struct {
	Area, Kind string
	Label      string
	Options    []string // the choices of a choice field, one per line as typed (docs.ParseOptions)
	InList     bool
	Expiry     bool
	Version    int
}

// FieldInvalidError is an input that was not stored (a custom field, a dated thing, the digest's
// recipients): a translation key per form field.
type FieldInvalidError struct{ Fields map[string]string }

func (e *FieldInvalidError) Error() string        { return "docsapp: invalid input fields" }
func (e *FieldInvalidError) Is(target error) bool { return target == ErrInvalid }

// checkField settles what of the input a field of its kind keeps and names what is wrong with it.
func (s *Service) checkField(cf db.CustomField, in CustomFieldInput) (db.CustomField, map[string]string) {
	errs := map[string]string{}
	if _, ok := docs.ByName(cf.Area); !ok {
		errs["area"] = "fields.err.area"
	}
	if _, ok := docs.CustomKind(cf.Kind); !ok {
		errs["kind"] = "fields.err.kind"
	}
	cf.Label = strings.TrimSpace(in.Label)
	if e := docs.CustomLabelOK(cf.Label, s.isMessageKey); e != "" {
		errs["label"] = e
	} else if s.builtinLabel(cf.Area, cf.Label) {
		errs["label"] = "fields.err.label_taken"
	}
	cf.Options = nil
	if cf.Kind == "choice" {
		cf.Options = in.Options
		if len(cf.Options) == 0 {
			errs["options"] = "fields.err.options"
		} else if len(cf.Options) > maxOptions {
			errs["options"] = "fields.err.options_many"
		}
		for _, o := range cf.Options {
			if e := docs.CustomLabelOK(o, s.isMessageKey); e != "" {
				errs["options"] = e
			}
		}
	}
	cf.InList = in.InList && cf.Kind != "secret"
	cf.Expiry = in.Expiry && cf.Kind == "date"
	return cf, errs
}

// builtinLabel reports whether label names one of the area's own fields, by its name or its English or
// German label. A CSV column is matched to a field by exactly these, and the custom fields stand before
// the notes: a custom field called "Notes" would take the notes column of every import, one called
// "Password" would put a plain-text column of that name beside the sealed one.
func (s *Service) builtinLabel(area, label string) bool {
	a, ok := docs.ByName(area)
	if !ok {
		return false
	}
	en, de := s.labels.For("en", ""), s.labels.For("de", "")
	for _, f := range a.Fields {
		key := f.LabelKey(a.Name)
		if strings.EqualFold(label, f.Name) || strings.EqualFold(label, en.T(key)) || strings.EqualFold(label, de.T(key)) {
			return true
		}
	}
	return false
}

// isMessageKey reports whether a text is one of the translation keys (a label that would be translated).
func (s *Service) isMessageKey(text string) bool {
	_, ok := s.labels.Keys("en")[text]
	return ok
}

func fieldTarget(cf db.CustomField) string {
	return strconv.FormatInt(cf.ID, 10) + ":" + cf.Area + ":" + cf.Label
}

// CreateCustomField adds a field at the end of its area, audited in the same transaction. MSP
// administrators only (ErrForbidden). It returns the field as stored, or as it would have been (what a form
// shows again) with a *FieldInvalidError (also for a label the area has already).
func (s *Service) CreateCustomField(ctx context.Context, v *Viewer, in CustomFieldInput) (db.CustomField, error) {
	if !v.Admin {
		return db.CustomField{}, ErrForbidden
	}
	cf, errs := s.checkField(db.CustomField{Area: in.Area, Kind: in.Kind}, in)
	if len(errs) > 0 {
		return cf, &FieldInvalidError{Fields: errs}
	}
	var err error
	cf.ID, err = s.db.CustomFieldCreate(ctx, cf, func(tx *sql.Tx, id int64) error {
		cf.ID = id
		return s.db.Audit(ctx, tx, v.entry("fields.create", fieldTarget(cf)))
	})
	if errors.Is(err, db.ErrLabelTaken) {
		return cf, &FieldInvalidError{Fields: map[string]string{"label": "fields.err.label_taken"}}
	}
	if err != nil {
		return cf, err
	}
	return s.CustomField(ctx, cf.ID) // as stored: with its position and first version
}

// UpdateCustomField changes a field's label, options and where it shows (its area and kind stay), at the
// version the editor saw, audited in the same transaction. MSP administrators only. A choice list keeps
// every choice a live entry holds (a *FieldInvalidError on "options"). ErrConflict when another
// administrator saved meanwhile: the field returned is the input at the version now stored.
func (s *Service) UpdateCustomField(ctx context.Context, v *Viewer, id int64, in CustomFieldInput) (db.CustomField, error) {
	if !v.Admin {
		return db.CustomField{}, ErrForbidden
	}
	old, err := s.CustomField(ctx, id)
	if err != nil {
		return db.CustomField{}, err
	}
	cf, errs := s.checkField(old, in)
	cf.Version = in.Version
	if len(errs) > 0 {
		return cf, &FieldInvalidError{Fields: errs}
	}
	err = s.db.CustomFieldUpdate(ctx, cf, func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.entry("fields.update", fieldTarget(cf)))
	})
	switch {
	case errors.Is(err, db.ErrLabelTaken):
		return cf, &FieldInvalidError{Fields: map[string]string{"label": "fields.err.label_taken"}}
	case errors.Is(err, db.ErrOptionInUse):
		return cf, &FieldInvalidError{Fields: map[string]string{"options": "fields.err.option_in_use"}}
	case errors.Is(err, db.ErrConflict):
		cur, gerr := s.CustomField(ctx, id)
		if gerr != nil {
			return cf, gerr
		}
		cf.Version = cur.Version
	}
	return cf, err
}

// DeleteCustomField hides a field (its values stay in the items' history), audited in the same
// transaction. MSP administrators only.
func (s *Service) DeleteCustomField(ctx context.Context, v *Viewer, id int64) error {
	if !v.Admin {
		return ErrForbidden
	}
	cf, err := s.CustomField(ctx, id)
	if err != nil {
		return err
	}
	return s.db.CustomFieldDelete(ctx, cf.ID, func(tx *sql.Tx) error {
		return s.db.Audit(ctx, tx, v.entry("fields.delete", fieldTarget(cf)))
	})
}
