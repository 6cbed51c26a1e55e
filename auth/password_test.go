package auth

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/admit"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	h := NewHasher(2)
	ctx := context.Background()
	for _, pw := range []string{"Ärger-Über-Straße9", "correct horse battery staple", "密码🔑パスワード", ""} {
		phc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if !phcRE.MatchString(phc) {
			t.Fatalf("Hash(%q) = %q, not the expected PHC form", pw, phc)
		}
		ok, rehash, err := h.Verify(ctx, phc, pw)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(right password %q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, phc, pw+"x")
		if err != nil || ok || rehash {
			t.Fatalf("Verify(wrong password) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := NewHasher(2)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatal("two hashes of the same password are identical: salt not random")
	}
}

func TestNoTruncation(t *testing.T) {
	h := NewHasher(1)
	ctx := context.Background()
	base := strings.Repeat("a", MaxPasswordBytes-1)
	phc, err := h.Hash(ctx, base+"b")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := h.Verify(ctx, phc, base+"c"); ok {
		t.Fatal("passwords differing only in byte 1024 verified: truncation")
	}
	if ok, _, _ := h.Verify(ctx, phc, base+"b"); !ok {
		t.Fatal("1024-byte password did not verify")
	}
}

func TestTooLong(t *testing.T) {
	h := NewHasher(1)
	ctx := context.Background()
	long := strings.Repeat("x", MaxPasswordBytes+1)
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(1025 bytes) err = %v, want ErrTooLong", err)
	}
	phc, _ := h.Hash(ctx, "short")
	if _, _, err := h.Verify(ctx, phc, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify(1025 bytes) err = %v, want ErrTooLong", err)
	}
	if err := h.DummyVerify(ctx, long); !errors.Is(err, ErrTooLong) {
		t.Errorf("DummyVerify(1025 bytes) err = %v, want ErrTooLong", err)
	}
	// 1025 bytes but fewer characters: the limit is in bytes.
	if _, err := h.Hash(ctx, strings.Repeat("ä", 513)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(513 × ä = 1026 bytes) err = %v, want ErrTooLong", err)
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	cur := NewHasher(1)
	weaker := []Params{
		{Memory: 8 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 19 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
		{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16},
	}
	for _, p := range weaker {
		old, err := NewHasherParams(p, 1)
		if err != nil {
			t.Fatal(err)
		}
		phc, err := old.Hash(ctx, "pw")
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := cur.Verify(ctx, phc, "pw")
		if err != nil || !ok || !rehash {
			t.Errorf("params %+v: Verify = %v, %v, %v; want true, true, nil", p, ok, rehash, err)
		}
		ok, rehash, _ = cur.Verify(ctx, phc, "wrong")
		if ok || rehash {
			t.Errorf("params %+v, wrong password: ok=%v rehash=%v, want false, false", p, ok, rehash)
		}
	}
	// Stronger stored parameters do not ask for a rehash.
	strong, _ := NewHasherParams(Params{Memory: 19 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	phc, _ := strong.Hash(ctx, "pw")
	if ok, rehash, err := cur.Verify(ctx, phc, "pw"); !ok || rehash || err != nil {
		t.Errorf("stronger params: Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestNewHasherParamsBounds(t *testing.T) {
	for _, p := range []Params{
		{Memory: 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 19456, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := NewHasherParams(p, 1); err == nil {
			t.Errorf("NewHasherParams(%+v) accepted", p)
		}
	}
	if got := NewHasher(0).Concurrency(); got != runtime.NumCPU() {
		t.Errorf("NewHasher(0).Concurrency() = %d, want NumCPU %d", got, runtime.NumCPU())
	}
	if got := NewHasher(3).Concurrency(); got != 3 {
		t.Errorf("NewHasher(3).Concurrency() = %d", got)
	}
	if NewHasher(1).Params() != DefaultParams() {
		t.Error("NewHasher does not use DefaultParams")
	}
}

// With a cap of 1 and the only slot taken, a second caller waits, and gives up with its
// context's error when the context ends.
func TestSemaphoreHonoursContext(t *testing.T) {
	h := NewHasher(1)
	inKDF := make(chan struct{})
	release := make(chan struct{})
	orig := h.kdf
	h.kdf = func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		close(inKDF)
		<-release
		return orig(pw, salt, 1, 8*1024, 1, kl)
	}
	phc, _ := NewHasher(1).Hash(context.Background(), "pw")

	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "first")
		done <- err
	}()
	<-inKDF // the first caller holds the only slot

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "second"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with cancelled ctx = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, phc, "second"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with cancelled ctx = %v, want context.Canceled", err)
	}
	if err := h.DummyVerify(ctx, "second"); !errors.Is(err, context.Canceled) {
		t.Errorf("DummyVerify with cancelled ctx = %v, want context.Canceled", err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer tcancel()
	start := time.Now()
	if _, err := h.Hash(tctx, "third"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash while slot held = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("waiter returned after %v, before its deadline: it did not wait for the slot", d)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Hash: %v", err)
	}
	// The slot is free again.
	h.kdf = orig
	if _, err := h.Hash(context.Background(), "again"); err != nil {
		t.Fatalf("Hash after release: %v", err)
	}
}

// The number of hashes in flight never exceeds the cap.
func TestSemaphoreCap(t *testing.T) {
	const limit = 3
	h := NewHasher(limit)
	var active, peak atomic.Int32
	h.kdf = func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		active.Add(-1)
		return make([]byte, kl)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit || p < 1 {
		t.Fatalf("peak concurrent hashes = %d, want 1..%d", p, limit)
	}
}

// DummyVerify does the same argon2id work as a Verify with the current parameters.
func TestDummyVerifySameWork(t *testing.T) {
	h := NewHasher(1)
	type call struct {
		t, m    uint32
		p       uint8
		kl, sl  int
		pwBytes string
	}
	var calls []call
	orig := h.kdf
	h.kdf = func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		calls = append(calls, call{tm, mem, th, int(kl), len(salt), string(pw)})
		return orig(pw, salt, tm, mem, th, kl)
	}
	ctx := context.Background()
	phc, _ := h.Hash(ctx, "secret")
	calls = nil
	if _, _, err := h.Verify(ctx, phc, "guess"); err != nil {
		t.Fatal(err)
	}
	if err := h.DummyVerify(ctx, "guess"); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0] != calls[1] {
		t.Fatalf("Verify and DummyVerify did different work: %+v", calls)
	}

	// Same parameters, same salt length, same password: the same work. (Not timed: a stopwatch on a shared
	// machine fails for reasons of its own, and the work is what decides the time.)
}

func TestParsePHCErrors(t *testing.T) {
	h := NewHasher(1)
	good, _ := h.Hash(context.Background(), "pw")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	bad := map[string]string{
		"empty":             "",
		"garbage":           "not a hash",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"argon2d":           "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"version 16":        "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"no version":        "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"params order":      "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"missing p":         "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"extra param":       "$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
		"negative":          "$argon2id$v=19$m=-19456,t=2,p=1$" + salt + "$" + key,
		"plus sign":         "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key,
		"leading zero":      "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key,
		"huge memory":       "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key,
		"overflow":          "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key,
		"t zero":            "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"p zero":            "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"p 256":             "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"padded salt":       "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"url alphabet":      "$argon2id$v=19$m=19456,t=2,p=1$" + strings.NewReplacer("+", "-", "/", "_").Replace(salt) + "-_$" + key,
		"bad base64":        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key,
		"short salt":        "$argon2id$v=19$m=19456,t=2,p=1$AAAA$" + key,
		"short key":         "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$AAAA",
		"missing key":       "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"trailing field":    good + "$x",
		"no leading $":      strings.TrimPrefix(good, "$"),
		"non-canonical b64": "$argon2id$v=19$m=19456,t=2,p=1$" + salt[:len(salt)-1] + "B$" + key,
	}
	for name, phc := range bad {
		ok, rehash, err := h.Verify(context.Background(), phc, "pw")
		if !errors.Is(err, ErrInvalidHash) || ok || rehash {
			t.Errorf("%s: Verify(%q) = %v, %v, %v; want ErrInvalidHash", name, phc, ok, rehash, err)
		}
	}
	if _, _, err := h.Verify(context.Background(), "$argon2id$v=16$m=19456,t=2,p=1$"+salt+"$"+key, "pw"); !errors.Is(err, ErrIncompatibleVersion) {
		t.Errorf("version 16: err = %v, want ErrIncompatibleVersion", err)
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "Ärger-Über-Straße9"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher(0)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "Ärger-Über-Straße9"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// A sign-in waiting for a hashing slot, or hashing, does not hold the server's page gate: while two
// hashes block (one hashing, one waiting for the only slot), both of their page places are free.
func TestHashingWaitsOutsideThePageGate(t *testing.T) {
	h := NewHasher(1)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h.kdf = func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		started <- struct{}{}
		<-release
		return make([]byte, kl)
	}
	g := admit.New(2, 0)
	var wg sync.WaitGroup
	for range 2 {
		ctx, leave, err := g.Enter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer leave()
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				t.Error(err)
			}
		})
	}
	<-started // one hashes, the other waits for the hashing slot
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, leave, err := g.Enter(ctx)
		cancel()
		if err != nil {
			t.Fatalf("a page could not enter while sign-ins hashed: %v", err)
		}
		leave()
	}
	close(release)
	wg.Wait()
}
