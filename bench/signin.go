package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TOTP is the RFC 6238 code (SHA-1, 6 digits, 30 s) of secret for a time step.
func TOTP(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// Steps remembers the last time step used per person, so that no code is sent twice: the server refuses a
// step at or below the last one it accepted (replay), and accepts one step of skew ahead.
type Steps struct {
	mu   sync.Mutex
	last map[string]int64
}

// Next returns a step not used yet for email: the current one, or the next (within the accepted skew).
func (s *Steps) Next(email string, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]int64{}
	}
	cur := now.Unix() / 30
	for _, st := range []int64{cur, cur + 1} {
		if st > s.last[email] {
			s.last[email] = st
			return st, nil
		}
	}
	return 0, ErrReplay
}

// SignIn goes through the real sign-in: the password form, then the authenticator code. It returns
// where the server sent the person at the end.
func SignIn(ctx context.Context, c *http.Client, base, email, password string, secret []byte, steps *Steps) (string, error) {
	loc, err := Do(ctx, c, http.MethodPost, base+"/login", url.Values{"email": {email}, "password": {password}}.Encode(), http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	if loc != "/mfa" {
		return "", fmt.Errorf("sign-in of %s went to %q, want /mfa", email, loc)
	}
	step, err := steps.Next(email, time.Now())
	if err != nil {
		return "", err
	}
	loc, err = Do(ctx, c, http.MethodPost, base+"/mfa", url.Values{"code": {TOTP(secret, step)}}.Encode(), http.StatusSeeOther)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(loc, "/mfa") || strings.HasPrefix(loc, "/login") {
		return "", fmt.Errorf("second factor of %s refused (sent to %s)", email, loc)
	}
	return loc, nil
}
