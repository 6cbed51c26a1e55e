package db

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestKeyFileCreatedOnceWith0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || len(k1) != KeySize {
		t.Fatalf("mode %v len %d", st.Mode().Perm(), len(k1))
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key changed on second load")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("accepted a short key file")
	}
}

func TestSealBindsToRowAndDetectsTampering(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("WLAN-Schlüssel: Korrekt-Pferd-Batterie")
	c1, err := s.Seal("wireless", "key", 42, secret)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := s.Seal("wireless", "key", 42, secret)
	if bytes.Equal(c1, c2) {
		t.Fatal("same ciphertext twice: nonce not random")
	}
	if bytes.Contains(c1, secret) || c1[0] != keyID {
		t.Fatal("plaintext visible or key id missing")
	}
	pt, err := s.Open("wireless", "key", 42, c1)
	if err != nil || !bytes.Equal(pt, secret) {
		t.Fatalf("open: %v", err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"other row":    func() ([]byte, error) { return s.Open("wireless", "key", 43, c1) },
		"other column": func() ([]byte, error) { return s.Open("wireless", "notes", 42, c1) },
		"other table":  func() ([]byte, error) { return s.Open("vpn", "key", 42, c1) },
		"flipped byte": func() ([]byte, error) {
			c := bytes.Clone(c1)
			c[len(c)/2] ^= 1
			return s.Open("wireless", "key", 42, c)
		},
		"truncated": func() ([]byte, error) { return s.Open("wireless", "key", 42, c1[:10]) },
		"other key": func() ([]byte, error) {
			s2, _ := NewSealer(bytes.Repeat([]byte{8}, KeySize))
			return s2.Open("wireless", "key", 42, c1)
		},
	} {
		pt, err := open()
		if !errors.Is(err, ErrSealBroken) || pt != nil {
			t.Errorf("%s: %q %v", name, pt, err)
		}
	}
	if bytes.Equal(s.PurposeKey("a"), s.PurposeKey("b")) || len(s.PurposeKey("a")) != 32 {
		t.Fatal("purpose keys not independent")
	}
}

// Two first starts at the same moment never end with two keys: whoever succeeds holds the key in the file
// (a loser fails rather than seal with a key nobody kept).
func TestKeyCreatedByOneOfParallelStarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	var mu sync.Mutex
	var keys [][]byte
	race(t, 6, func(int) (bool, error) {
		k, err := LoadOrCreateKey(path)
		if err == nil {
			mu.Lock()
			keys = append(keys, k)
			mu.Unlock()
		}
		return err == nil, nil
	})
	onDisk, err := os.ReadFile(path)
	if err != nil || len(keys) == 0 {
		t.Fatalf("no key: %v", err)
	}
	for _, k := range keys {
		if !bytes.Equal(k, onDisk) {
			t.Fatal("a start got a key that is not the one in the file")
		}
	}
}
