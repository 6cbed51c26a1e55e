package signin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"strings"

	"portier/auth"
	"portier/db"
)

// Recovery codes: ten, shown once, stored as HMACs, single use, replaced all at once.
const (
	RecoveryCount = 10
	recoveryLen   = 10 // characters; 50 bits each
	RecoveryLow   = 3  // the security page warns at this many left
)

// recoveryAlphabet has 32 symbols (5 bits each, so no modulo bias) without the look-alikes l, o, 0, 1.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

func (s *Signin) recoveryKey() []byte { return s.sealer.PurposeKey("recovery code") }

// newRecoveryCode returns a code written as "xxxxx-xxxxx".
func newRecoveryCode() string {
	var b [recoveryLen]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 0, recoveryLen+1)
	for i, v := range b {
		if i == recoveryLen/2 {
			out = append(out, '-')
		}
		out = append(out, recoveryAlphabet[v&31])
	}
	return string(out)
}

// NormalizeRecovery accepts a code typed with or without the dash, in any case, with spaces.
func NormalizeRecovery(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '\u00a0' || r == '\t':
		default:
			return ""
		}
	}
	if b.Len() != recoveryLen {
		return ""
	}
	return b.String()
}

// NewRecoveryCodes replaces u's recovery codes with ten new ones and returns them: the only time they
// exist in the clear. first marks the codes that follow the first second factor (for the audit log).
func (s *Signin) NewRecoveryCodes(ctx context.Context, u *db.User, first bool, actor db.AuditEntry) ([]string, error) {
	key := s.recoveryKey()
	codes := make([]string, RecoveryCount)
	hashes := make([][]byte, RecoveryCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = auth.HashCode(NormalizeRecovery(codes[i]), key)
	}
	actor.Action = "recovery.regenerate"
	if first {
		actor.Action = "recovery.create"
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.ReplaceRecoveryCodes(ctx, tx, s.now(), u.ID, hashes); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, actor)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// UseRecoveryCode spends one of u's codes; a code spent is audited.
func (s *Signin) UseRecoveryCode(ctx context.Context, u *db.User, code string, actor db.AuditEntry) (bool, error) {
	code = NormalizeRecovery(code)
	if code == "" {
		return false, nil
	}
	ok, err := s.db.UseRecoveryCode(ctx, u.ID, auth.HashCode(code, s.recoveryKey()))
	if ok && err == nil {
		actor.Action = "recovery.used"
		s.audits.Record(ctx, actor)
	}
	return ok, err
}
