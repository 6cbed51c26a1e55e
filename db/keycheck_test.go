package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestKeySheetRoundTrip: the recovery sheet gives the key back, and a mistyped digit is found and pinned
// to its line instead of giving a wrong key.
func TestKeySheetRoundTrip(t *testing.T) {
	key := make([]byte, KeySize)
	rand.Read(key)
	lines := KeySheetLines(key)
	if len(lines) != 5 || !strings.HasPrefix(lines[4], "checksum: ") {
		t.Fatalf("sheet: %q", lines)
	}
	for _, l := range lines[:4] {
		// "1: abcd abcd abcd abcd  / abcd": four groups of four and a check group.
		if f := strings.Fields(l); len(f) != 7 || f[5] != "/" {
			t.Fatalf("line %q", l)
		}
	}
	sheet := "PORTIER RECOVERY SHEET\n\n    " + strings.Join(lines, "\n    ") + "\n\nKeep it offline.\n"
	got, err := ParseKeySheet(sheet)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("round trip: %x %v", got, err)
	}
	// Typed in upper case and without the indentation, it still reads.
	if got, err := ParseKeySheet(strings.ToUpper(strings.Join(lines, "\n"))); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("upper case: %x %v", got, err)
	}
	// One digit wrong in line 3.
	bad := []byte(lines[2])
	i := strings.Index(lines[2], ":") + 2
	if bad[i] == '0' {
		bad[i] = '1'
	} else {
		bad[i] = '0'
	}
	typo := strings.Join([]string{lines[0], lines[1], string(bad), lines[3], lines[4]}, "\n")
	if _, err := ParseKeySheet(typo); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("typo in line 3: %v", err)
	}
	// A line missing.
	if _, err := ParseKeySheet(strings.Join([]string{lines[0], lines[1], lines[2], lines[4]}, "\n")); err == nil {
		t.Fatal("three lines accepted")
	}
	// Lines of another sheet with this sheet's checksum.
	other := make([]byte, KeySize)
	rand.Read(other)
	mixed := strings.Join(append(KeySheetLines(other)[:4], lines[4]), "\n")
	if _, err := ParseKeySheet(mixed); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("checksum of another key: %v", err)
	}

	// LoadKey reads a raw key file and a typed-in sheet alike; it never creates one.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "raw"), key, 0o600)
	os.WriteFile(filepath.Join(dir, "sheet"), []byte(sheet), 0o600)
	for _, f := range []string{"raw", "sheet"} {
		if got, err := LoadKey(filepath.Join(dir, f)); err != nil || !bytes.Equal(got, key) {
			t.Fatalf("LoadKey(%s): %v", f, err)
		}
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LoadKey of a missing file")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LoadKey created a key")
	}
}

// TestKeyCheck: a database remembers its key by a sealed check value; another key is told at once.
func TestKeyCheck(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portier.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k1, k2 := make([]byte, KeySize), make([]byte, KeySize)
	rand.Read(k1)
	rand.Read(k2)
	s1, _ := NewSealer(k1)
	s2, _ := NewSealer(k2)

	if has, err := CheckKeyFile(ctx, path, s1); has || err != nil {
		t.Fatalf("no check value yet: %v %v", has, err)
	}
	if err := d.EnsureKeyCheck(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if err := d.EnsureKeyCheck(ctx, s1); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	if err := d.EnsureKeyCheck(ctx, s2); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}
	if has, err := CheckKeyFile(ctx, path, s1); !has || err != nil {
		t.Fatalf("file, right key: %v %v", has, err)
	}
	if has, err := CheckKeyFile(ctx, path, s2); !has || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("file, wrong key: %v %v", has, err)
	}
	// The check value is not replaced by the wrong key's.
	if err := d.EnsureKeyCheck(ctx, s1); err != nil {
		t.Fatalf("right key after a wrong one: %v", err)
	}

	// A database from before check values that holds secrets adopts only the key that opens them.
	path2 := filepath.Join(t.TempDir(), "portier.db")
	d2, err := Open(ctx, path2)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	org, err := d2.CreateOrg(ctx, "Alt GmbH", "alt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d2.DocCreate(ctx, s1, DocChange{OrgID: org.ID, Area: "passwords", Name: "Router",
		Fields: map[string]string{"username": "admin"}, Secrets: map[string]string{"password": "alt"}}, DocActor{Name: "Test"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d2.EnsureKeyCheck(ctx, s2); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("old database, key that opens none of its secrets: %v", err)
	}
	if has, _ := CheckKeyFile(ctx, path2, s2); has {
		t.Fatal("the wrong key's check value was stored")
	}
	if err := d2.EnsureKeyCheck(ctx, s1); err != nil {
		t.Fatalf("old database, its own key: %v", err)
	}
}

// TestKeyCheckRace: processes starting at once with two different keys on a new database: the first check
// value stored stays, every process with that key passes and every one with the other key is refused.
func TestKeyCheckRace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portier.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	sealers := make([]*Sealer, 2)
	for i := range sealers {
		k := make([]byte, KeySize)
		rand.Read(k)
		sealers[i], _ = NewSealer(k)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := Open(ctx, path) // each its own process-like pool
			if err != nil {
				errs[i] = err
				return
			}
			defer d.Close()
			errs[i] = d.EnsureKeyCheck(ctx, sealers[i%2])
		})
	}
	wg.Wait()
	ok := map[int]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			ok[i%2]++
		case !errors.Is(err, ErrWrongKey):
			t.Fatalf("start %d: %v", i, err)
		}
	}
	if !(ok[0] == n/2 && ok[1] == 0) && !(ok[1] == n/2 && ok[0] == 0) {
		t.Fatalf("both keys or a part of one accepted: %v", ok)
	}
}
