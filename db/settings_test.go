package db

import (
	"context"
	"testing"
)

// A setting falls back to its default until stored, is replaced by a later write, and a one-time value
// is swapped by exactly one of parallel requests.
func TestSettingsAndOneTimeSwap(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if v, err := d.Setting(ctx, "setup.token", "none"); err != nil || v != "none" {
		t.Fatalf("default %q %v", v, err)
	}
	d.SetSetting(ctx, "setup.token", "abc")
	d.SetSetting(ctx, "setup.token", "hash-1")
	if v, _ := d.Setting(ctx, "setup.token", "none"); v != "hash-1" {
		t.Fatalf("value %q", v)
	}
	if won := race(t, 8, func(int) (bool, error) { return d.SwapSetting(ctx, "setup.token", "hash-1", "") }); won != 1 {
		t.Fatalf("one-time value consumed %d times", won)
	}
	if ok, _ := d.SwapSetting(ctx, "setup.token", "hash-1", "x"); ok {
		t.Fatal("a consumed value swapped again")
	}
	if ok, _ := d.SwapSetting(ctx, "missing", "", "x"); ok {
		t.Fatal("a setting that was never stored was swapped")
	}
}
