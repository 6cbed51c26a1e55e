package db

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A label is taken once per area regardless of case (also by parallel creations), is free again once its
// field is deleted, and fields list by area in the order they were added.
func TestCustomFieldLabelsAndOrder(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	created := race(t, 4, func(int) (bool, error) {
		_, err := d.CustomFieldCreate(ctx, CustomField{Area: "configurations", Label: "Seriennummer", Kind: "text"}, nil)
		if errors.Is(err, ErrLabelTaken) {
			return false, nil
		}
		return err == nil, err
	})
	if created != 1 {
		t.Fatalf("label created %d times", created)
	}
	if _, err := d.CustomFieldCreate(ctx, CustomField{Area: "configurations", Label: "SERIENNUMMER", Kind: "text"}, nil); !errors.Is(err, ErrLabelTaken) {
		t.Fatalf("same label in other case: %v", err)
	}
	other, err := d.CustomFieldCreate(ctx, CustomField{Area: "contacts", Label: "Seriennummer", Kind: "text"}, nil)
	if err != nil {
		t.Fatalf("same label in another area: %v", err)
	}
	choice, _ := d.CustomFieldCreate(ctx, CustomField{Area: "configurations", Label: "Standort", Kind: "choice", Options: []string{"Berlin", "Köln"}, InList: true}, nil)
	if err := d.CustomFieldUpdate(ctx, CustomField{ID: choice, Label: "seriennummer", Version: 1}, nil); !errors.Is(err, ErrLabelTaken) {
		t.Fatalf("renamed onto a taken label: %v", err)
	}
	fields, _ := d.CustomFields(ctx)
	var got []string
	for _, f := range fields {
		got = append(got, fmt.Sprintf("%s/%s/%d", f.Area, f.Label, f.Position))
	}
	if fmt.Sprint(got) != "[configurations/Seriennummer/1 configurations/Standort/2 contacts/Seriennummer/1]" {
		t.Fatalf("fields %v", got)
	}
	if fields[1].Kind != "choice" || fmt.Sprint(fields[1].Options) != "[Berlin Köln]" || !fields[1].InList {
		t.Fatalf("choice field %+v", fields[1])
	}
	if err := d.CustomFieldDelete(ctx, fields[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.CustomFieldDelete(ctx, fields[0].ID, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if err := d.CustomFieldUpdate(ctx, CustomField{ID: fields[0].ID, Label: "x", Version: 1}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("changed a deleted field: %v", err)
	}
	if _, err := d.CustomFieldCreate(ctx, CustomField{Area: "configurations", Label: "Seriennummer", Kind: "text"}, nil); err != nil {
		t.Fatalf("label of a deleted field not free: %v", err)
	}
	if err := d.CustomFieldUpdate(ctx, CustomField{ID: other, Label: "S/N", Version: 1}, nil); err != nil {
		t.Fatal(err)
	}
}

// A change names the version its editor saw: a stale one is ErrConflict and changes nothing; of parallel
// changes from one version, one is stored. A choice that a live entry holds stays in the list.
func TestCustomFieldUpdateFromTheVersionSeen(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	id, err := d.CustomFieldCreate(ctx, CustomField{Area: "configurations", Label: "Stufe", Kind: "choice", Options: []string{"Gold", "Silber"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := race(t, 8, func(i int) (bool, error) {
		err := d.CustomFieldUpdate(ctx, CustomField{ID: id, Kind: "choice", Label: fmt.Sprint("Stufe ", i), Options: []string{"Gold", "Silber"}, Version: 1}, nil)
		if errors.Is(err, ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	if stored != 1 {
		t.Fatalf("%d changes stored from version 1", stored)
	}
	if err := d.CustomFieldUpdate(ctx, CustomField{ID: id, Kind: "choice", Label: "alt", Options: []string{"Gold"}, Version: 1}, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	org, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`INSERT INTO doc_items(org_id, area, name, fields, created_at, updated_at) VALUES (?, 'configurations', 'x', ?, 0, 0)`,
		org.ID, `{"cf_`+fmt.Sprint(id)+`":"Silber"}`); err != nil {
		t.Fatal(err)
	}
	if err := d.CustomFieldUpdate(ctx, CustomField{ID: id, Kind: "choice", Area: "configurations", Label: "Stufe", Options: []string{"Gold"}, Version: 2}, nil); !errors.Is(err, ErrOptionInUse) {
		t.Fatalf("dropped a choice in use: %v", err)
	}
}
