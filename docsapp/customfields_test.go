package docsapp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"portier/docs"
)

func (f *fixture) admin() *Viewer {
	v := f.staff(nil)
	v.Admin = true
	return v
}

// An administrator's field extends its area; its label may not be one of the area's own (in either
// language) nor a translation key; what a kind cannot have is dropped. Others may not touch fields.
func TestCustomFieldRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	adm := f.admin()
	for _, v := range []*Viewer{f.staff(nil), f.customer(f.a, "manager")} {
		if _, err := f.svc.CreateCustomField(ctx, v, CustomFieldInput{Area: "contacts", Kind: "text", Label: "Badge"}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("created by a non-administrator: %v", err)
		}
	}
	for label, want := range map[string]string{"Notes": "fields.err.label_taken", "Notizen": "fields.err.label_taken", "": "docs.err.required",
		"fields.title": "fields.err.label_key"} {
		_, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "contacts", Kind: "text", Label: label})
		var inv *FieldInvalidError
		if !errors.As(err, &inv) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("label %q: %v", label, err)
		}
		if inv.Fields["label"] == "" || want != "fields.err.label_key" && inv.Fields["label"] != want {
			t.Fatalf("label %q: %v, want %s", label, inv.Fields, want)
		}
	}
	if _, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "nowhere", Kind: "colour", Label: "X"}); err == nil {
		t.Fatal("an unknown area and kind were taken")
	} else if inv := (*FieldInvalidError)(nil); !errors.As(err, &inv) || inv.Fields["area"] == "" || inv.Fields["kind"] == "" {
		t.Fatalf("unknown area and kind: %v", err)
	}
	cf, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "contacts", Kind: "secret", Label: "  Badge PIN ", InList: true, Expiry: true,
		Options: []string{"A"}})
	if err != nil {
		t.Fatal(err)
	}
	if cf.ID == 0 || cf.Label != "Badge PIN" || cf.InList || cf.Expiry || cf.Options != nil {
		t.Fatalf("stored %+v", cf)
	}
	if _, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "contacts", Kind: "text", Label: "badge pin"}); err == nil {
		t.Fatal("a second field of the same label")
	}
	area, ok, err := f.svc.Area(ctx, "contacts")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if fd, ok := area.Field(docs.CustomFieldName(cf.ID)); !ok || fd.Kind != docs.Secret || fd.Label != "Badge PIN" {
		t.Fatalf("the area's field: %+v %v", fd, ok)
	}
	if es := f.audits(t, 0, "fields.create"); len(es) != 1 {
		t.Fatalf("create entries: %+v", es)
	}
	if err := f.svc.DeleteCustomField(ctx, f.staff(nil), cf.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("deleted by a technician: %v", err)
	}
	if err := f.svc.DeleteCustomField(ctx, adm, cf.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteCustomField(ctx, adm, cf.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if areas, _ := f.svc.Areas(ctx); len(areas) != len(docs.Areas) || len(areas[0].Fields) != len(docs.Areas[0].Fields) {
		t.Fatal("a deleted field is still in an area")
	}
}

// A choice a live item holds cannot be dropped from the list (the next save of that item would erase it).
func TestCustomFieldOptionInUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	adm := f.admin()
	cf, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "contacts", Kind: "choice", Label: "Filiale", Options: []string{"Bonn", "Köln"}})
	if err != nil {
		t.Fatal(err)
	}
	f.add(t, f.a.ID, "contacts", "Anna", map[string]string{docs.CustomFieldName(cf.ID): "Köln"}, nil, false)
	_, err = f.svc.UpdateCustomField(ctx, adm, cf.ID, CustomFieldInput{Label: "Filiale", Options: []string{"Bonn"}, Version: cf.Version})
	var inv *FieldInvalidError
	if !errors.As(err, &inv) || inv.Fields["options"] != "fields.err.option_in_use" {
		t.Fatalf("dropping a used choice: %v", err)
	}
	got, err := f.svc.UpdateCustomField(ctx, adm, cf.ID, CustomFieldInput{Area: "devices", Kind: "text", Label: "Ort", Options: []string{"Köln", "Aachen"}, Version: cf.Version})
	if err != nil {
		t.Fatal(err)
	}
	if got.Area != "contacts" || got.Kind != "choice" {
		t.Fatalf("an edit changed area or kind: %+v", got)
	}
}

// Parallel edits at the version one administrator saw: one is stored (with its one audit entry), the
// others are conflicts that come back at the version now stored.
func TestCustomFieldParallelEditsConflict(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	adm := f.admin()
	cf, err := f.svc.CreateCustomField(ctx, adm, CustomFieldInput{Area: "configurations", Kind: "text", Label: "Rack"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	var stored, conflicts atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := f.svc.UpdateCustomField(ctx, adm, cf.ID, CustomFieldInput{Label: "Rack " + string(rune('A'+i)), Version: cf.Version})
			switch {
			case err == nil:
				stored.Add(1)
			case errors.Is(err, ErrConflict):
				conflicts.Add(1)
				if got.Version != cf.Version+1 {
					t.Errorf("a conflict at version %d, want %d", got.Version, cf.Version+1)
				}
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if stored.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d stored, %d conflicts", stored.Load(), conflicts.Load())
	}
	if es := f.audits(t, 0, "fields.update"); len(es) != 1 {
		t.Fatalf("%d update entries, want 1", len(es))
	}
}
