package handlers

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"

	"github.com/labstack/echo/v5"

	"portier/db"
)

// The person's own sessions on the profile page: end one, or all the others.

// sessionID names a session on the page by the first 8 bytes of its stored hash (db.SessionHash), in hex:
// the same value as before tokens were stored hashed. It is only ever matched against the person's own
// sessions.
func sessionID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

// sessionEnd signs out one other session of the person.
func (s *Server) sessionEnd(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id := c.FormValue("id")
	sessions, err := s.db.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	current := db.SessionHash(s.sm.Token(ctx))
	for _, se := range sessions {
		if !bytes.Equal(se.Hash, current) && len(id) == 16 && subtle.ConstantTimeCompare([]byte(sessionID(se.Hash)), []byte(id)) == 1 {
			if err := s.db.EndUserSession(ctx, u.ID, se.Hash); err != nil {
				return err
			}
			s.audit(c, 0, "session.end", se.IP)
			return s.profileDone(c, "profile.sessions.ended")
		}
	}
	return echo.ErrNotFound
}

// sessionsEndOthers signs out every session of the person except this one.
func (s *Server) sessionsEndOthers(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if err := s.db.EndOtherSessions(ctx, u.ID, s.sm.Token(ctx)); err != nil {
		return err
	}
	s.audit(c, 0, "session.end_others", "")
	return s.profileDone(c, "profile.sessions.ended_others")
}
