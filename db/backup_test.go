package db

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestBackupUnderConcurrentWrites(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := d.SetSetting(ctx, "n", string(rune('a'+i%26))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	out := filepath.Join(t.TempDir(), "backup.db")
	err := Backup(ctx, d.Path, out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := IntegrityCheck(ctx, out); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(out)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode().Perm())
	}
	// A damaged file fails the check.
	bad := filepath.Join(t.TempDir(), "bad.db")
	b, _ := os.ReadFile(out)
	for i := 100; i < len(b) && i < 4096; i++ {
		b[i] = 0xff
	}
	os.WriteFile(bad, b, 0o600)
	if err := IntegrityCheck(ctx, bad); err == nil {
		t.Fatal("damaged database passed integrity_check")
	}
}
