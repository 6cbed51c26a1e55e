package db

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Storage trouble (a read-only or full database) is told apart from a refused statement, also when the
// error is wrapped on its way up.
func TestStorageTrouble(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	_, readonly := d.R.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('a', 'b')`)
	if readonly == nil || !StorageTrouble(readonly) || !StorageTrouble(fmt.Errorf("saving: %w", readonly)) {
		t.Fatalf("a write to the read-only pool: %v", readonly)
	}
	d.SetSetting(ctx, "k", "v")
	_, constraint := d.W.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('k', 'w')`)
	if constraint == nil || StorageTrouble(constraint) {
		t.Fatalf("a constraint violation counted as storage trouble: %v", constraint)
	}
	if StorageTrouble(errors.New("disk full")) || StorageTrouble(nil) || StorageTrouble(ErrNotFound) {
		t.Fatal("a plain error counted as storage trouble")
	}
}
