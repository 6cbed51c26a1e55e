package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// A previewed import is sealed, read back only by the same person for the same organisation and area
// within the hour, and confirmed once: of parallel confirmations one wins and the others roll back.
func TestImportDraftScopedSealedAndConsumedOnce(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	u, other := newUser(t, d, "tech@muster-it.example"), newUser(t, d, "tech2@muster-it.example")
	const csv = "name,password\nNAS,Import-Geheimnis-4711\n"
	id, err := d.ImportDraftSave(ctx, s, u, a.ID, "passwords", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	notInFiles(t, d, "Import-Geheimnis-4711")
	got, err := d.ImportDraftGet(ctx, s, id, u, a.ID, "passwords")
	if err != nil || string(got.Data) != csv {
		t.Fatalf("draft %v %v", got, err)
	}
	for name, get := range map[string]func() (*ImportDraft, error){
		"another person":       func() (*ImportDraft, error) { return d.ImportDraftGet(ctx, s, id, other, a.ID, "passwords") },
		"another organisation": func() (*ImportDraft, error) { return d.ImportDraftGet(ctx, s, id, u, b.ID, "passwords") },
		"another area":         func() (*ImportDraft, error) { return d.ImportDraftGet(ctx, s, id, u, a.ID, "contacts") },
	} {
		if _, err := get(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s reads the draft: %v", name, err)
		}
	}
	if err := d.Tx(ctx, func(tx *sql.Tx) error { return ImportDraftConsume(ctx, tx, id, other) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("another person confirmed the draft: %v", err)
	}
	// Each confirmation writes something in its transaction; only the winner's write stays.
	won := race(t, 6, func(i int) (bool, error) {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if err := SetSettingTx(ctx, tx, "import-marker", "written"); err != nil {
				return err
			}
			return ImportDraftConsume(ctx, tx, id, u)
		})
		if errors.Is(err, ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("draft confirmed %d times", won)
	}
	if _, err := d.ImportDraftGet(ctx, s, id, u, a.ID, "passwords"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a confirmed draft is still there: %v", err)
	}
}

// After its hour a draft cannot be confirmed, and the next save drops it from the file.
func TestImportDraftExpires(t *testing.T) {
	d, s, a, _ := docsFixture(t)
	ctx := context.Background()
	u := newUser(t, d, "tech@muster-it.example")
	old, _ := d.ImportDraftSave(ctx, s, u, a.ID, "contacts", []byte("name\nAlt\n"))
	later := time.Now().Add(ImportDraftLifetime + time.Second)
	d.Now = func() time.Time { return later }
	if _, err := d.ImportDraftGet(ctx, s, old, u, a.ID, "contacts"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("draft read after its hour: %v", err)
	}
	if _, err := d.ImportDraftSave(ctx, s, u, a.ID, "contacts", []byte("name\nNeu\n")); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM import_drafts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d drafts, want only the new one (%v)", n, err)
	}
}
