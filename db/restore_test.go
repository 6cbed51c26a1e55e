package db

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A backup restored to a new place holds the data without the sessions, readable only by the owner;
// an existing database (or a leftover write-ahead log) is never replaced.
func TestRestoreRoundTripWithoutSessions(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	d.SetSetting(ctx, "msp.name", "Muster IT")
	u := newUser(t, d, "kim@alpha.example")
	d.InsertSession(ctx, "tok", []byte("data"), time.Now().Add(time.Hour))
	d.AddUserSession(ctx, "tok", u, 0, "192.0.2.1", "ua")
	dir := t.TempDir()
	backup := filepath.Join(dir, "backup.db")
	if err := Backup(ctx, d.Path, backup); err != nil {
		t.Fatal(err)
	}
	if err := Backup(ctx, d.Path, backup); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	to := filepath.Join(dir, "restored", "portier.db")
	os.Mkdir(filepath.Dir(to), 0o700)
	v, err := RestoreFile(ctx, backup, to)
	if err != nil || v != KnownSchemaVersion() {
		t.Fatalf("restore: version %d %v", v, err)
	}
	if st, _ := os.Stat(to); st.Mode().Perm() != 0o600 {
		t.Fatalf("restored file mode %v", st.Mode().Perm())
	}
	r, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if name, _ := r.Setting(ctx, "msp.name", ""); name != "Muster IT" {
		t.Fatalf("restored setting %q", name)
	}
	if _, found, _ := r.FindSession(ctx, "tok"); found {
		t.Fatal("a session came back with the restore")
	}
	if l, _ := r.UserSessions(ctx, u); len(l) != 0 {
		t.Fatal("a session listing came back with the restore")
	}
	for _, existing := range []string{to, filepath.Join(dir, "wal-left", "portier.db")} {
		os.MkdirAll(filepath.Dir(existing), 0o700)
		if existing != to {
			os.WriteFile(existing+"-wal", []byte("x"), 0o600)
		}
		if _, err := RestoreFile(ctx, backup, existing); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("restore over %s: %v", existing, err)
		}
	}
}

// A file that is not a Portier database, a damaged one, or one from a newer Portier is refused and
// nothing is written.
func TestRestoreRefusesForeignDamagedAndNewer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	f, err := Open(ctx, foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.W.Exec(`DROP TABLE schema_migrations`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	d := openTemp(t)
	newer := filepath.Join(dir, "newer.db")
	Backup(ctx, d.Path, newer)
	n, err := Open(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.W.Exec(`INSERT INTO schema_migrations(version, name) VALUES (?, 'future')`, KnownSchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	n.Close()

	damaged := filepath.Join(dir, "damaged.db")
	Backup(ctx, d.Path, damaged)
	b, _ := os.ReadFile(damaged)
	for i := 100; i < len(b) && i < 4096; i++ {
		b[i] = 0xff
	}
	os.WriteFile(damaged, b, 0o600)

	for name, from := range map[string]string{"foreign": foreign, "newer": newer, "damaged": damaged} {
		to := filepath.Join(dir, name+"-restored.db")
		if _, err := RestoreFile(ctx, from, to); err == nil {
			t.Errorf("%s: restored", name)
		}
		if _, err := os.Stat(to); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a file was left at the target", name)
		}
	}
	if _, err := CheckFile(ctx, foreign); !errors.Is(err, ErrNotPortier) {
		t.Fatalf("foreign file: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".portier-restore-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// The readiness probe writes nothing that stays.
func TestCheckWritableLeavesNothing(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if err := d.CheckWritable(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.Setting(ctx, "readyz.probe", "none"); v != "none" {
		t.Fatalf("probe left %q", v)
	}
}
