package auth

import (
	"crypto/subtle"
	"encoding/base32"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Authenticator apps (RFC 6238 TOTP) with the parameters every common app expects: SHA-1, 6 digits,
// 30-second steps. One step of clock skew either way is accepted.
const (
	TOTPPeriod = 30
	TOTPSkew   = 1
)

var totpB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode computes the 6-digit code of a secret for a time step.
func TOTPCode(secret []byte, step int64) string {
	code, err := hotp.GenerateCodeCustom(totpB32.EncodeToString(secret), uint64(step), hotp.ValidateOpts{
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "" // only for an invalid base32 secret, which totpB32 never makes
	}
	return code
}

// MatchTOTP returns the time step (within the skew, and after last) whose code is code. Codes are compared
// in constant time.
func MatchTOTP(secret []byte, code string, now time.Time, last int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := TOTPStep(now)
	for st := cur - TOTPSkew; st <= cur+TOTPSkew; st++ {
		if st <= last {
			continue // used already, or older than a used one: a replay
		}
		if subtle.ConstantTimeCompare([]byte(TOTPCode(secret, st)), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}
