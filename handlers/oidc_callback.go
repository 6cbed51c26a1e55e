package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/accounts"
	"portier/db"
	"portier/idp"
)

// Sign-in through an organisation's provider (oidc.go): the provider's answer, and the hand-over to
// Portier's own session and second-factor steps.

// takeFlow removes the round trip from the session and returns it when the answer's state belongs to it,
// it is recent, and no other request spent that state before (SpendIdPState: parallel copies of one answer
// all find the flow in the session they read). A replayed or forged answer finds nothing.
func (s *Server) takeFlow(c *echo.Context) (*idpFlow, bool) {
	ctx := c.Request().Context()
	raw := s.sm.PopString(ctx, keyIdPFlow)
	if raw == "" {
		return nil, false
	}
	var f idpFlow
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, false
	}
	state := c.QueryParam("state")
	if f.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return nil, false
	}
	if s.now().Sub(time.Unix(f.At, 0)) > idpFlowTTL {
		return nil, false
	}
	first, err := s.db.SpendIdPState(ctx, f.State, time.Unix(f.At, 0).Add(idpFlowTTL))
	if err != nil {
		s.log.Error("spend provider state", "err", err)
		return nil, false
	}
	if !first {
		return nil, false // the same answer again, sent in parallel before the session lost the flow
	}
	return &f, true
}

// providerErrors are the OAuth error codes a person can be told about; any other is "did not work".
var providerErrors = map[string]string{
	"access_denied":           "idp.error.denied",
	"consent_required":        "idp.error.denied",
	"interaction_required":    "idp.error.denied",
	"login_required":          "idp.error.denied",
	"temporarily_unavailable": "idp.error.unreachable",
	"server_error":            "idp.error.unreachable",
}

// idpCallback is where every provider sends the browser back. It checks the round trip, trades the code
// for a checked ID token, then either shows an administrator's test result or signs the person in.
func (s *Server) idpCallback(c *echo.Context) error {
	ctx := c.Request().Context()
	f, ok := s.takeFlow(c)
	if !ok {
		s.audit(c, 0, "idp.fail", "state")
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", "")
	}
	p, err := s.db.IdPByID(ctx, f.IdP)
	if errors.Is(err, db.ErrNotFound) {
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", "")
	}
	if err != nil {
		return err
	}
	if code := c.QueryParam("error"); code != "" {
		s.log.Info("identity provider refused", "idp", p.ID, "error", code, "description", c.QueryParam("error_description"))
		s.audit(c, p.OrgID, "idp.fail", p.Name+": "+clip(code, 60))
		key, ok := providerErrors[code]
		if !ok {
			key = "idp.error.failed"
		}
		return s.idpProblem(c, http.StatusBadRequest, key, p.Name)
	}
	cl, st, err := s.idpClient(ctx, p)
	if err != nil {
		s.log.Warn("identity provider unreachable", "idp", p.ID, "err", err)
		return s.idpProblem(c, http.StatusBadGateway, "idp.error.unreachable", p.Name)
	}
	id, err := cl.Exchange(ctx, f.Flow, c.QueryParam("code"))
	if err != nil {
		s.log.Warn("identity provider answer refused", "idp", p.ID, "err", err)
		s.audit(c, p.OrgID, "idp.fail", p.Name+": token")
		if errors.Is(err, idp.ErrToken) {
			return s.idpProblem(c, http.StatusBadRequest, "idp.error.token", p.Name)
		}
		return s.idpProblem(c, http.StatusBadGateway, "idp.error.failed", p.Name)
	}
	switch f.Purpose {
	case purposeTest:
		return s.idpTestResult(c, p, st, id)
	case purposeLink:
		return s.idpLinkFinish(c, f, p, id)
	}
	var u *db.User
	code := "idp.refused.unvouched"
	if st.TenantListed(id) {
		if u, code, err = s.idpAccount(c, f, p, id); err != nil {
			return err
		}
	}
	if code != "" {
		s.audit(c, p.OrgID, "idp.refused", p.Name+": "+id.Key+" ("+strings.TrimPrefix(code, "idp.refused.")+")")
		return s.idpProblem(c, http.StatusForbidden, code, p.Name)
	}
	return s.idpSignedIn(c, p, st, id, u)
}

// clip cuts what a provider sent to a length fit for the audit log.
func clip(v string, n int) string {
	if len(v) > n {
		return v[:n]
	}
	return v
}

// idpAccount finds the Portier account of a checked provider account. A linked subject opens its account
// (whatever address the provider reports today). An unlinked one is linked only to an invited person:
// through the invitation link itself, or through a live invitation to this organisation found by the
// address the provider vouches for. It returns the person, or the translation key of the refusal.
func (s *Server) idpAccount(c *echo.Context, f *idpFlow, p *db.IdP, id *idp.Identity) (*db.User, string, error) {
	ctx := c.Request().Context()
	var inviteHash []byte
	if f.Purpose == purposeInvite {
		h, err := base64.RawURLEncoding.DecodeString(f.Invite)
		if err != nil {
			return nil, "idp.error.state", nil
		}
		inviteHash = h
	}
	link, err := s.db.IdentityBySubject(ctx, id.Key)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, "", err
	}
	var inv *db.Invitation
	if inviteHash != nil {
		if inv, err = s.db.InvitationByToken(ctx, inviteHash); errors.Is(err, db.ErrNotFound) {
			return nil, "idp.refused.invitation_gone", nil
		} else if err != nil {
			return nil, "", err
		}
		if inv.Status != db.InvitePending || inv.OrgID != p.OrgID {
			return nil, "idp.refused.invitation_gone", nil
		}
	}
	var uid int64
	switch {
	case link != nil && inv != nil && link.UserID != inv.UserID:
		return nil, "idp.refused.taken", nil
	case link != nil:
		uid = link.UserID
		if err := s.db.TouchIdentity(ctx, link.ID); err != nil {
			return nil, "", err
		}
	default:
		if !id.Vouched {
			return nil, id.RefusalKey, nil
		}
		if inv == nil {
			h, err := s.db.PendingInvitationFor(ctx, p.OrgID, id.Email)
			if errors.Is(err, db.ErrNotFound) {
				return nil, "idp.refused.no_account", nil
			}
			if err != nil {
				return nil, "", err
			}
			inviteHash = h
			if inv, err = s.db.InvitationByToken(ctx, h); err != nil {
				return nil, "", err
			}
		} else if inv.Email != id.Email { // both lower-cased; EqualFold would also match ſ with s
			return nil, "idp.refused.other_address", nil
		}
		uid = inv.UserID
	}
	u, err := s.db.UserByID(ctx, uid)
	if err != nil {
		return nil, "", err
	}
	if u.Disabled || u.IsStaff() {
		// Staff sign in with their own password and factor; a customer's provider does not speak for them.
		return nil, "idp.refused.no_account", nil
	}
	if inv != nil {
		// The invitation page spoke linkLang: so does the account (the browser's header, which nobody chose,
		// would turn a German invitation into an English account).
		lang := s.linkLang(c, u)
		err := s.accounts.AcceptWithProvider(ctx, accounts.ProviderAcceptance{
			User: u, Inv: inv, Hash: inviteHash, IdPID: p.ID, IdPName: p.Name, Subject: id.Key, Email: id.Email,
			Link: link == nil, Name: strings.TrimSpace(id.Name), Lang: lang, Terms: f.Terms, IP: c.RealIP(),
			Actor: s.auditEntry(c, 0, "", ""),
		})
		switch {
		case errors.Is(err, accounts.ErrLinkUsed):
			return nil, "idp.refused.invitation_gone", nil
		case errors.Is(err, db.ErrConflict):
			return nil, "idp.refused.taken", nil
		case err != nil:
			return nil, "", err
		}
		if u, err = s.db.UserByID(ctx, uid); err != nil {
			return nil, "", err
		}
	}
	// The provider speaks for the people of its own organisation only.
	if _, err := s.db.MemberRole(ctx, u.ID, p.OrgID); errors.Is(err, db.ErrNotFound) {
		return nil, "idp.refused.no_account", nil
	} else if err != nil {
		return nil, "", err
	}
	return u, "", nil
}

// idpSignedIn hands over to Portier's own machinery: the same session start as after a password (new
// token, listed among the person's sessions), then the second factor: passed when the provider vouches
// for one and the organisation accepts that, else Portier's own step as after a password.
func (s *Server) idpSignedIn(c *echo.Context, p *db.IdP, st idp.Settings, id *idp.Identity, u *db.User) error {
	ctx := c.Request().Context()
	// The provider checked the credentials: nothing was reserved, and Portier's own failure counts (which
	// guard its password and codes) are left as they are.
	if err := s.db.NoteSignIn(ctx, u.ID); err != nil {
		return err
	}
	next := s.sm.GetString(ctx, keyNext)
	if err := s.startSession(c, u); err != nil {
		return err
	}
	if next != "" {
		s.sm.Put(ctx, keyNext, next)
	}
	s.sm.Remove(ctx, keyIdPMFA)
	s.sm.Remove(ctx, keyIdPOrg)
	e := s.auditEntry(c, p.OrgID, "login.idp", p.Name+": "+id.Key)
	if err := s.db.Audit(ctx, nil, e); err != nil {
		s.log.Error("audit", "err", err)
	}
	if st.AcceptsProviderMFA(id) {
		covers, err := s.idpMFACovers(ctx, u, p.OrgID)
		if err != nil {
			return err
		}
		if covers {
			if err := s.passMFA(c, u, "idp", db.Reservation{}); err != nil {
				return err
			}
			s.sm.Put(ctx, keyIdPMFA, u.ID)
			s.sm.Put(ctx, keyIdPOrg, p.OrgID)
		}
	}
	return s.continueTo(c, u)
}

// idpMFACovers is the one rule for how far a provider's second factor reaches: an organisation's provider
// speaks for that organisation, so its factor stands in for Portier's only while the person belongs to no
// other organisation. Someone who also belongs to an organisation that uses another provider, none, or
// requires Portier's factor passes Portier's own factor: that organisation never agreed to trust this one.
func (s *Server) idpMFACovers(ctx context.Context, u *db.User, orgID int64) (bool, error) {
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Org.ID != orgID {
			return false, nil
		}
	}
	return len(ms) > 0, nil
}

// idpMFAPassed reports whether the provider's second factor stands in for Portier's in this session: the
// person may then go on without enrolling a method of their own. When the person has meanwhile joined
// another organisation, the provider's factor no longer counts and the session must pass Portier's.
func (s *Server) idpMFAPassed(ctx context.Context, u *db.User) (bool, error) {
	if s.sm.GetInt64(ctx, keyIdPMFA) != u.ID {
		return false, nil
	}
	covers, err := s.idpMFACovers(ctx, u, s.sm.GetInt64(ctx, keyIdPOrg))
	if err != nil {
		return false, err
	}
	if !covers {
		s.sm.Remove(ctx, keyIdPMFA)
		s.sm.Remove(ctx, keyIdPOrg)
		s.sm.Remove(ctx, keyMFAOK)
		return false, nil
	}
	return s.sm.GetBool(ctx, keyMFAOK), nil
}
