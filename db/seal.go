package db

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// KeySize is the length of the master key in secret.key.
const KeySize = 32

// keyID is written as the first byte of every ciphertext. A later key rotation adds id 2 and keeps id 1 for
// reading until every row is re-sealed.
const keyID byte = 1

// ErrSealBroken means a sealed value could not be opened: it was altered, moved to another row, or sealed
// with another key. It never carries the value.
var ErrSealBroken = errors.New("sealed value cannot be opened (altered, moved, or another key)")

// LoadOrCreateKey reads the 32-byte master key at path, creating it (mode 0600) on first start.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("key file %s holds %d bytes, want %d", path, len(b), KeySize)
	}
	return b, nil
}

// Sealer encrypts secret columns with AES-256-GCM. The associated data binds each ciphertext to its table,
// column and row, so a sealed value copied into another row (or column) does not open.
type Sealer struct {
	aead   cipher.AEAD
	master []byte
}

// NewSealer derives the sealing key from the master key with HKDF-SHA256.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes", KeySize)
	}
	k, err := hkdf.Key(sha256.New, master, nil, "portier seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, master: master}, nil
}

// PurposeKey derives an independent 32-byte key for another use (HMAC of short codes, ...), so that no two
// uses ever share a key.
func (s *Sealer) PurposeKey(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, s.master, nil, "portier "+purpose, 32)
	if err != nil {
		panic(err) // only fails for lengths HKDF cannot produce; 32 is always fine
	}
	return k
}

func ad(table, column string, row int64) []byte {
	return []byte(table + "\x00" + column + "\x00" + strconv.FormatInt(row, 10))
}

// Seal encrypts plaintext for the given table, column and row id. Layout: key id (1 byte) | nonce (12) |
// ciphertext and tag.
func (s *Sealer) Seal(table, column string, row int64, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = keyID
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plaintext, ad(table, column, row)), nil
}

// Open decrypts a value sealed by Seal for the same table, column and row.
func (s *Sealer) Open(table, column string, row int64, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != keyID {
		return nil, ErrSealBroken
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], ad(table, column, row))
	if err != nil {
		return nil, ErrSealBroken
	}
	return pt, nil
}
