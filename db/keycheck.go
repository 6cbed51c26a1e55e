package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrWrongKey means the master key does not open the database's check value: the key belongs to another
// installation (or the database to another key). Every sealed secret would fail to open too.
var ErrWrongKey = errors.New("this key does not belong to this database")

// keyCheckSetting holds a value sealed with the master key when the database met it first. Opening it
// tells at once whether a key belongs to a database: at start-up, after a restore and in doctor, instead of
// at the first reveal of a secret.
const (
	keyCheckSetting = "key.check"
	keyCheckText    = "portier key check v1"
)

// EnsureKeyCheck opens the database's check value with s, or stores one when the database has none yet
// (a new database, or one from before check values). It returns ErrWrongKey for a key that does not fit.
func (d *DB) EnsureKeyCheck(ctx context.Context, s *Sealer) error {
	stored, err := d.Setting(ctx, keyCheckSetting, "")
	if err != nil {
		return err
	}
	if stored != "" {
		return openKeyCheck(s, stored)
	}
	// A database from before check values may already hold secrets: adopt the key only if it opens one,
	// or a wrong key would be written down as the right one.
	if err := d.opensExistingSecret(ctx, s); err != nil {
		return err
	}
	sealed, err := s.Seal("settings", keyCheckSetting, 0, []byte(keyCheckText))
	if err != nil {
		return err
	}
	// Only where none is stored, so two processes starting at once cannot replace each other's.
	if _, err := d.W.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`,
		keyCheckSetting, base64.StdEncoding.EncodeToString(sealed)); err != nil {
		return err
	}
	stored, err = d.Setting(ctx, keyCheckSetting, "")
	if err != nil {
		return err
	}
	return openKeyCheck(s, stored)
}

// opensExistingSecret tries s on one stored secret of each kind there is (a documentation secret, an
// authenticator seed); no secrets at all is fine.
func (d *DB) opensExistingSecret(ctx context.Context, s *Sealer) error {
	probes := []struct{ query, table string }{
		{`SELECT item_id, field, sealed FROM doc_secrets LIMIT 1`, "doc_secrets"},
		{`SELECT id, 'secret', secret FROM mfa_methods WHERE kind = 'totp' AND secret IS NOT NULL LIMIT 1`, "mfa_methods"},
	}
	for _, p := range probes {
		var row int64
		var column string
		var sealed []byte
		err := d.W.QueryRowContext(ctx, p.query).Scan(&row, &column, &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return err
		}
		if _, err := s.Open(p.table, column, row, sealed); err != nil {
			return ErrWrongKey
		}
	}
	return nil
}

func openKeyCheck(s *Sealer, stored string) error {
	b, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return ErrWrongKey
	}
	pt, err := s.Open("settings", keyCheckSetting, 0, b)
	if err != nil || string(pt) != keyCheckText {
		return ErrWrongKey
	}
	return nil
}

// CheckKeyFile tells, without changing the file, whether s opens the check value of the database at path.
// It returns hasCheck false for a database that has no check value yet (it gets one at its next start).
func CheckKeyFile(ctx context.Context, path string, s *Sealer) (hasCheck bool, err error) {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return false, err
	}
	defer c.Close()
	var stored string
	err = c.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyCheckSetting).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, openKeyCheck(s, stored)
}

// LoadKey reads the master key from a file that must exist: the 32 bytes of a secret.key, or the text of a
// recovery sheet (KeySheet) typed back in. A key supplied by the operator is never created.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(b) == KeySize {
		return b, nil
	}
	key, err := ParseKeySheet(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s holds %d bytes, not a %d-byte key, and is no recovery sheet: %w", path, len(b), KeySize, err)
	}
	return key, nil
}

// A recovery sheet writes the key as 4 lines of 4 groups of 4 hex digits; each line ends with a check
// group (the first 2 bytes of SHA-256 over the line's 8 key bytes), so a typing error is found and
// pinned to its line. A last line holds the check of the whole key.
const sheetLines = 4

func lineCheck(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:2])
}

// KeyChecksum is the check of the whole key printed on the sheet (and by doctor), 8 hex digits in 2 groups.
func KeyChecksum(key []byte) string {
	sum := sha256.Sum256(append([]byte("portier key sheet\x00"), key...))
	h := hex.EncodeToString(sum[:4])
	return h[:4] + " " + h[4:]
}

// KeySheetLines returns the key's lines as printed on the recovery sheet.
func KeySheetLines(key []byte) []string {
	per := len(key) / sheetLines
	var out []string
	for i := 0; i < sheetLines; i++ {
		part := key[i*per : (i+1)*per]
		h := hex.EncodeToString(part)
		var groups []string
		for j := 0; j < len(h); j += 4 {
			groups = append(groups, h[j:j+4])
		}
		out = append(out, fmt.Sprintf("%d: %s  / %s", i+1, strings.Join(groups, " "), lineCheck(part)))
	}
	return append(out, "checksum: "+KeyChecksum(key))
}

// ParseKeySheet reads a key back from the lines of a recovery sheet (other text on the sheet is ignored).
// It names the line that does not match its check.
func ParseKeySheet(text string) ([]byte, error) {
	var key []byte
	var sum string
	next := 1
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(strings.ToLower(line), "checksum:"); ok {
			sum = strings.Join(strings.Fields(rest), "")
			continue
		}
		prefix := fmt.Sprintf("%d:", next)
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		groups, check, ok := strings.Cut(rest, "/")
		if !ok {
			return nil, fmt.Errorf("line %d has no check group after /", next)
		}
		part, err := hex.DecodeString(strings.Join(strings.Fields(groups), ""))
		if err != nil || len(part) != KeySize/sheetLines {
			return nil, fmt.Errorf("line %d: want %d groups of 4 hex digits", next, KeySize/sheetLines/2)
		}
		if strings.ToLower(strings.TrimSpace(check)) != lineCheck(part) {
			return nil, fmt.Errorf("line %d does not match its check group: a digit is mistyped in that line", next)
		}
		key = append(key, part...)
		next++
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("found %d of %d key lines", next-1, sheetLines)
	}
	if sum != "" && sum != strings.ReplaceAll(KeyChecksum(key), " ", "") {
		return nil, errors.New("the lines match their checks but not the checksum: is a line from another sheet?")
	}
	return key, nil
}
