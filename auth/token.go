package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// TokenLen is the length of a raw one-time token: 32 random bytes in unpadded base64url.
const TokenLen = 43

// ErrBadToken is returned by HashToken for anything that is not a well-formed raw token.
var ErrBadToken = errors.New("auth: malformed token")

// NewToken returns a fresh one-time token for a link (invitation, password reset, e-mail
// confirmation): raw goes into the URL and is never stored; hash, the SHA-256 of raw, is what the
// database keeps (single use by a conditional UPDATE … WHERE token_hash = ? AND used_at IS NULL).
func NewToken() (raw string, hash []byte) {
	var b [32]byte
	rand.Read(b[:]) // never fails (Go ≥ 1.24 crashes the program instead)
	raw = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(raw))
	return raw, sum[:]
}

// HashToken validates a raw token taken from a request and returns the hash to look up.
// It is strict, so garbage never reaches the database: exactly TokenLen characters, only the
// base64url alphabet (A–Z a–z 0–9 - _), no padding, and canonical (the unused low bits of the
// last character are zero, as NewToken makes them). Anything else is ErrBadToken.
//
// The hash is SHA-256 over the raw string's bytes (the 43 ASCII characters, not the decoded 32
// bytes), so support can find a link's row with `printf %s "$token" | sha256sum`.
func HashToken(raw string) ([]byte, error) {
	if len(raw) != TokenLen {
		return nil, ErrBadToken
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, ErrBadToken
		}
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(raw); err != nil {
		return nil, ErrBadToken
	}
	sum := sha256.Sum256([]byte(raw))
	return sum[:], nil
}

// NewCode6 returns a 6-digit numeric code ("000000"–"999999", leading zeros kept) drawn
// uniformly from crypto/rand: 32-bit values at or above the largest multiple of 10^6 are
// rejected and redrawn, so there is no modulo bias.
func NewCode6() string {
	const n = 1_000_000
	const limit = (1 << 32) / n * n // 4_294_000_000
	var b [4]byte
	for {
		rand.Read(b[:])
		v := binary.BigEndian.Uint32(b[:])
		if v < limit {
			return pad6(v % n)
		}
	}
}

func pad6(v uint32) string {
	var out [6]byte
	for i := 5; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out[:])
}

// HashCode returns HMAC-SHA256(purposeKey, code), the form in which a short code (e-mail login
// code, …) is stored.
//
// Why HMAC with a server key and not a bare SHA-256: a 6-digit code has only 10^6 values. Anyone
// who reads the database (a leaked backup, an SQL injection elsewhere) could hash all million
// candidates in well under a second and recover every live code from a bare hash, salted or not.
// With HMAC, the key lives outside the database (derived with HKDF from secret.key, one key per
// purpose so a code for one purpose never verifies for another), so a database dump alone
// reveals nothing; online guessing stays limited by the 5-tries rule and the expiry.
// (Long random tokens do not need this: 256 bits cannot be enumerated, so SHA-256 suffices.)
//
// purposeKey must be at least 16 bytes (32 recommended); a shorter key is a programming or
// configuration error and panics.
func HashCode(code string, purposeKey []byte) []byte {
	if len(purposeKey) < 16 {
		panic("auth: HashCode needs a purpose key of at least 16 bytes")
	}
	m := hmac.New(sha256.New, purposeKey)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// VerifyCode reports, in constant time with respect to the stored value, whether code (exactly
// six ASCII digits) matches stored, a value from HashCode with the same purposeKey.
func VerifyCode(code string, purposeKey, stored []byte) bool {
	ok := len(code) == 6
	for i := 0; i < len(code) && ok; i++ {
		ok = '0' <= code[i] && code[i] <= '9'
	}
	if !ok {
		return false
	}
	return hmac.Equal(HashCode(code, purposeKey), stored)
}
