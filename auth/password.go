// Package auth holds Portier's authentication logic that needs neither HTTP nor a database:
// password hashing (argon2id), the password policy, and one-time tokens and codes.
//
// Decisions and numbers come from /work/shared/guide/security.md ("Passwords", "One-time links").
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"

	"portier/admit"
)

// MaxPasswordBytes is the longest password accepted, in bytes (not characters). Longer input is
// refused before any hashing so that a huge form field cannot buy expensive work.
const MaxPasswordBytes = 1024

var (
	// ErrTooLong is returned by Hash, Verify and DummyVerify for passwords over MaxPasswordBytes.
	ErrTooLong = errors.New("auth: password longer than 1024 bytes")
	// ErrInvalidHash is returned (wrapped, with details) when a stored PHC string cannot be parsed
	// or carries parameters outside the accepted bounds.
	ErrInvalidHash = errors.New("auth: invalid argon2id hash")
	// ErrIncompatibleVersion is returned (wrapped in ErrInvalidHash's family) for an argon2
	// version other than 0x13 (19), the only one golang.org/x/crypto/argon2 implements.
	ErrIncompatibleVersion = errors.New("auth: unsupported argon2 version")
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8  // parallelism
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the parameters of the guide (OWASP's first argon2id option):
// m = 19 MiB, t = 2, p = 1, 16-byte salt, 32-byte key. About 30 ms and 20 MB per hash.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds for parameters, both for configuration and for parsing stored strings, so that a
// tampered database row cannot make a login allocate gigabytes or spin for minutes.
const (
	minMemory  = 8 * 1024 // 8 MiB
	maxMemory  = 1 << 20  // 1 GiB
	maxTime    = 64
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	argonV     = argon2.Version
)

func (p Params) validate() error {
	switch {
	case p.Memory < minMemory || p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB outside [%d, %d]", ErrInvalidHash, p.Memory, minMemory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d outside [1, %d]", ErrInvalidHash, p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: threads %d outside [1, %d]", ErrInvalidHash, p.Threads, maxThreads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length %d outside [%d, %d]", ErrInvalidHash, p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length %d outside [%d, %d]", ErrInvalidHash, p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// below reports whether p is weaker than cur in any dimension (so a hash made with p should be
// replaced by one made with cur at the next successful login).
func (p Params) below(cur Params) bool {
	return p.Memory < cur.Memory || p.Time < cur.Time || p.Threads < cur.Threads ||
		p.SaltLen < cur.SaltLen || p.KeyLen < cur.KeyLen
}

type kdfFunc func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

// Hasher hashes and verifies login passwords with argon2id. At most a fixed number of hashes run
// at once (a buffered-channel semaphore); further callers wait, honouring their context, so a
// login flood queues instead of exhausting memory (each hash holds ~19 MiB).
//
// Create one with NewHasher and share it; it is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	kdf    kdfFunc // argon2.IDKey; replaceable in tests
	runs   atomic.Uint64

	// dummySalt and dummyKey make DummyVerify do exactly the work of a Verify with the
	// current parameters, against a key no password produces in practice.
	dummySalt []byte
	dummyKey  []byte
}

// NewHasher returns a Hasher with DefaultParams. concurrency is the number of hashes allowed to
// run at once; 0 or less means runtime.NumCPU().
func NewHasher(concurrency int) *Hasher {
	h, err := NewHasherParams(DefaultParams(), concurrency)
	if err != nil { // DefaultParams are within bounds
		panic(err)
	}
	return h
}

// NewHasherParams is NewHasher with explicit parameters (to raise them later; stored hashes with
// lower parameters then report needsRehash). It refuses parameters outside sane bounds.
func NewHasherParams(p Params, concurrency int) (*Hasher, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("auth: hasher parameters: %w", err)
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	h := &Hasher{
		params:    p,
		sem:       make(chan struct{}, concurrency),
		kdf:       argon2.IDKey,
		dummySalt: make([]byte, p.SaltLen),
		dummyKey:  make([]byte, p.KeyLen),
	}
	rand.Read(h.dummySalt)
	rand.Read(h.dummyKey)
	return h, nil
}

// Derivations counts the key derivations run so far (hashes, checks and dummy checks alike): every failed
// sign-in must cost exactly one, whoever the address belongs to, so that time tells nothing apart.
func (h *Hasher) Derivations() uint64 { return h.runs.Load() }

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Concurrency returns the maximum number of hashes running at once.
func (h *Hasher) Concurrency() int { return cap(h.sem) }

// derive runs the key derivation in a hashing slot, waiting for one first. Waiting and hashing both
// happen outside the server's page gate (package admit): hashing has its own limit on the cores it may
// take, and a sign-in waiting for a slot must not hold a place that a page could use.
func (h *Hasher) derive(ctx context.Context, password, salt []byte, p Params) (key []byte, err error) {
	if h.sem == nil {
		panic("auth: Hasher used without NewHasher")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	admit.Outside(ctx, func() {
		select {
		case h.sem <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
			return
		}
		h.runs.Add(1)
		key = h.kdf(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		<-h.sem
	})
	return key, err
}

// Hash returns a PHC string for password:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64 raw std>$<hash, base64 raw std>
//
// Any Unicode is accepted and nothing is truncated; more than MaxPasswordBytes is ErrTooLong.
// It returns ctx's error if ctx ends while waiting for a hashing slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrTooLong
	}
	p := h.params
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (Go ≥ 1.24 crashes the program instead)
	key, err := h.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

// Verify checks password against a PHC string made by Hash. ok is true only for the right
// password (constant-time comparison). needsRehash is true (only when ok) if the stored
// parameters are below the Hasher's current ones: the caller should then store a fresh Hash.
// err is ErrTooLong, a wrapped ErrInvalidHash, or ctx's error while waiting for a slot.
//
// Timing: for an unknown account, or an account without a password hash, call DummyVerify
// instead so the response takes as long as a real check.
func (h *Hasher) Verify(ctx context.Context, phc, password string) (ok, needsRehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, ErrTooLong
	}
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.below(h.params), nil
}

// DummyVerify spends the time (and takes the hashing slot) of a Verify with the current
// parameters, and always fails. Call it when the login names an unknown account or one that has
// no password yet, so timing does not reveal whether the account exists. It returns ErrTooLong
// exactly as Verify would, and ctx's error while waiting for a slot; otherwise nil.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	if len(password) > MaxPasswordBytes {
		return ErrTooLong
	}
	p := h.params
	got, err := h.derive(ctx, []byte(password), h.dummySalt, p)
	if err != nil {
		return err
	}
	_ = subtle.ConstantTimeCompare(got, h.dummyKey)
	return nil
}

var b64 = base64.RawStdEncoding

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonV, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsePHC parses "$argon2id$v=19$m=…,t=…,p=…$salt$hash" strictly: fixed field order, decimal
// numbers without signs or leading zeros, unpadded canonical base64, parameters within bounds.
func parsePHC(s string) (p Params, salt, key []byte, err error) {
	bad := func(format string, a ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidHash}, a...)...)
	}
	if len(s) > 512 {
		return bad("longer than 512 bytes")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm %q, want argon2id", parts[1])
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return bad("missing version")
	}
	ver, err := parseDec(v, 1<<31)
	if err != nil {
		return bad("version: %v", err)
	}
	if ver != argonV {
		return Params{}, nil, nil, fmt.Errorf("%w: %w: v=%d", ErrInvalidHash, ErrIncompatibleVersion, ver)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want m=,t=,p=")
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		val, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return bad("parameter %d: want %s", i+1, name)
		}
		if nums[i], err = parseDec(val, 1<<32-1); err != nil {
			return bad("%s: %v", name, err)
		}
	}
	if nums[2] > 255 {
		return bad("p=%d too large", nums[2])
	}
	strict := b64.Strict()
	if salt, err = strict.DecodeString(parts[4]); err != nil {
		return bad("salt: %v", err)
	}
	if key, err = strict.DecodeString(parts[5]); err != nil {
		return bad("hash: %v", err)
	}
	p = Params{
		Memory: uint32(nums[0]), Time: uint32(nums[1]), Threads: uint8(nums[2]),
		SaltLen: uint32(len(salt)), KeyLen: uint32(len(key)),
	}
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// parseDec parses a plain decimal number: digits only, no sign, no leading zero, at most max.
func parseDec(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 10 {
		return 0, errors.New("not a number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, errors.New("out of range")
	}
	return n, nil
}
