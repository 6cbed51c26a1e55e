package signin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"

	"portier/db"
)

// A person's sessions as their profile lists them. The web's session store (scs) holds the sessions
// themselves; ending one here removes it from the person's list, which every request checks, so it ends
// also while one of its requests is in flight.

// ErrNoSuchSession: the person has no other session with that id.
var ErrNoSuchSession = errors.New("signin: no such session")

// SessionID names a session on the page by the first 8 bytes of its stored hash (db.SessionHash), in hex:
// the same value as before tokens were stored hashed. It is only ever matched against the person's own
// sessions.
func SessionID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

// EndSession signs out one of u's sessions other than the current one (its token), named by SessionID.
func (s *Signin) EndSession(ctx context.Context, u *db.User, current, id string, actor db.AuditEntry) error {
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	cur := db.SessionHash(current)
	for _, se := range sessions {
		if !bytes.Equal(se.Hash, cur) && len(id) == 16 && subtle.ConstantTimeCompare([]byte(SessionID(se.Hash)), []byte(id)) == 1 {
			if err := s.db.EndUserSession(ctx, u.ID, se.Hash); err != nil {
				return err
			}
			actor.Action, actor.Target = "session.end", se.IP
			s.audits.Record(ctx, actor)
			return nil
		}
	}
	return ErrNoSuchSession
}

// EndOtherSessions signs out every session of u except the current one (its token).
func (s *Signin) EndOtherSessions(ctx context.Context, u *db.User, current string, actor db.AuditEntry) error {
	if err := s.db.EndOtherSessions(ctx, u.ID, current); err != nil {
		return err
	}
	actor.Action = "session.end_others"
	s.audits.Record(ctx, actor)
	return nil
}
