package docsapp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"portier/docs"
)

// Who may do what, in one place: staff everything; a customer's manager edits contacts only; a viewer
// reads. Whatever is refused answers as not found.
func TestWhoMayDoWhat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff, mgr, viewer := f.staff(f.a), f.customer(f.a, "manager"), f.customer(f.a, "viewer")
	for _, a := range docs.Areas {
		if !staff.CanEdit(a) || viewer.CanEdit(a) || mgr.CanEdit(a) != (a == docs.Contacts) {
			t.Fatalf("%s: staff %v, manager %v, viewer %v", a.Name, staff.CanEdit(a), mgr.CanEdit(a), viewer.CanEdit(a))
		}
	}
	// The contacts with a custom field are a copy of docs.Contacts: still the manager's to edit.
	withCustom := docs.Contacts.WithCustom([]docs.Field{{Name: "c_1", Kind: docs.Text, Custom: true, Label: "Badge"}})
	if withCustom == docs.Contacts || !mgr.CanEdit(withCustom) {
		t.Fatal("a customer's manager may not edit contacts that have a custom field")
	}
	if !staff.CanImport() || mgr.CanImport() || !staff.CanSeeHistory() || mgr.CanSeeHistory() {
		t.Fatal("import or history open to customers")
	}
	if !errors.Is(ErrForbidden, ErrNotFound) {
		t.Fatal("a refusal would tell that the item exists")
	}
	in := Input{Values: map[string]string{"name": "Neu"}, StaffOnly: true}
	if _, err := f.svc.Create(ctx, mgr, docs.Passwords, in); !errors.Is(err, ErrForbidden) {
		t.Fatalf("manager creates a password: %v", err)
	}
	id, err := f.svc.Create(ctx, mgr, docs.Contacts, in)
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := f.svc.Item(ctx, staff, docs.Contacts, id); it.StaffOnly {
		t.Fatal("a customer made an item staff-only")
	}
	if _, err := f.svc.ImportPreview(ctx, mgr, docs.Contacts, []byte("name\nX\n")); !errors.Is(err, ErrForbidden) {
		t.Fatalf("manager imports: %v", err)
	}
	if _, err := f.svc.History(ctx, mgr, docs.Contacts, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("manager reads history: %v", err)
	}
	if _, _, err := f.svc.SearchAll(ctx, mgr, "neu"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("customer searches every organisation: %v", err)
	}
	// Another organisation's item does not exist for this viewer, whatever the verb.
	other := f.add(t, f.b.ID, "contacts", "Bernd", nil, nil, false)
	if _, err := f.svc.Detail(ctx, staff, docs.Contacts, other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another organisation's item: %v", err)
	}
	if err := f.svc.Update(ctx, staff, docs.Contacts, other, Input{Values: map[string]string{"name": "X"}, Version: 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of another organisation's item: %v", err)
	}
}

// A form with problems stores nothing and says what is wrong per field; an edit against an older version
// is a conflict that carries the newer one.
func TestInvalidAndConflictingEdits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	_, err := f.svc.Create(ctx, staff, docs.Contacts, Input{Values: map[string]string{"email": "kein-mail"}})
	var invalid *InvalidError
	if !errors.As(err, &invalid) || invalid.Fields["name"] != "docs.err.required" || invalid.Fields["email"] != "docs.err.email" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid form: %v", err)
	}
	if n, _ := f.db.DocCounts(ctx, staff.Scope()); n["contacts"] != 0 {
		t.Fatal("an invalid form stored something")
	}
	id, err := f.svc.Create(ctx, staff, docs.Contacts, Input{Values: map[string]string{"name": "Anna"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Update(ctx, staff, docs.Contacts, id, Input{Values: map[string]string{"name": "Anna B"}, Version: 1}); err != nil {
		t.Fatal(err)
	}
	err = f.svc.Update(ctx, staff, docs.Contacts, id, Input{Values: map[string]string{"name": "Anna C"}, Version: 1})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Current.Version != 2 || conflict.Current.Name != "Anna B" || !errors.Is(err, ErrConflict) {
		t.Fatalf("stale edit: %v", err)
	}
}

// A deletion can be undone for UndoWindow, not after.
func TestRestoreOnlyWithinTheUndoWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(f.a)
	one := f.add(t, f.a.ID, "contacts", "Eins", nil, nil, false)
	two := f.add(t, f.a.ID, "contacts", "Zwei", nil, nil, false)
	for _, id := range []int64{one, two} {
		if _, err := f.svc.Delete(ctx, staff, docs.Contacts, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Restore(ctx, staff, docs.Contacts, one); err != nil {
		t.Fatalf("restore at once: %v", err)
	}
	if _, err := f.svc.Restore(ctx, staff, docs.Passwords, two); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore through another area: %v", err)
	}
	f.clock.Advance(UndoWindow + time.Second)
	if _, err := f.svc.Restore(ctx, staff, docs.Contacts, two); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore after the window: %v", err)
	}
}

// The application layer stays between the web and the database: nothing of HTTP or the pages, no SQL
// driver of its own, no SQL.
func TestDocsappImportsNoWebAndNoSQL(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-deps", "portier/docsapp").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "github.com/labstack/echo"), dep == "portier/handlers", dep == "portier/views",
			strings.HasPrefix(dep, "github.com/a-h/templ"), strings.HasPrefix(dep, "github.com/alexedwards/scs"):
			t.Errorf("docsapp depends on %s", dep)
		}
	}
	out, err = exec.Command(goBin, "list", "-f", `{{join .Imports " "}}`, "portier/docsapp").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// net/http itself only by way of package docs, which judges attachments with http.DetectContentType
	// (a function of bytes); docsapp knows nothing of requests.
	for _, imp := range strings.Fields(string(out)) {
		if imp == "net/http" {
			t.Error("docsapp imports net/http")
		}
	}
	if strings.Contains(string(out), "modernc.org/sqlite") {
		t.Error("docsapp imports the SQLite driver")
	}
	// SQL stays in db: no database/sql query of its own (transactions are db's, passed through hooks).
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, w := range []string{"QueryContext", "ExecContext", "QueryRowContext", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"} {
			if strings.Contains(src, w) {
				t.Errorf("%s holds %q: SQL belongs in package db", name, w)
			}
		}
	}
}
