package db

import (
	"context"
	"database/sql"
	"errors"
)

// Settings that more than one package reads or writes.
const (
	SettingLogo     = "msp.logo"       // base64 of the MSP's logo (a PNG)
	SettingLogoName = "msp.logo_name"  // "<hash>.png", under which the logo is served; "" for none
	SettingMSPSetup = "msp.setup_done" // the MSP was named (by its setup step or the settings page)
)

// Setting returns the stored value of key, or def when none is stored.
func (d *DB) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := d.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	return v, err
}

// SetSetting stores value under key.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	return setSetting(ctx, d.W, key, value)
}

// SetSettingTx stores value under key inside tx.
func SetSettingTx(ctx context.Context, tx *sql.Tx, key, value string) error {
	return setSetting(ctx, tx, key, value)
}

func setSetting(ctx context.Context, x execer, key, value string) error {
	_, err := x.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// SwapSetting replaces the value of key with new if it is still old, and reports whether it did: a
// one-time value (the first-administrator setup link) is consumed by this conditional write, whose row
// count decides between parallel requests.
func (d *DB) SwapSetting(ctx context.Context, key, old, new string) (bool, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE settings SET value = ? WHERE key = ? AND value = ?`, new, key, old)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
