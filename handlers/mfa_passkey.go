package handlers

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
)

// Passkeys (WebAuthn): the relying party is the base URL (RP ID = its host, origin = the base URL).
// Registration asks for a resident key, so the same passkey signs in without a password; user
// verification is preferred; attestation none; no restriction of the authenticator attachment, so
// platform authenticators, security keys and password-manager extensions all work. The ceremony data lives
// in the session and is deleted when used. A sign-count regression (a cloned authenticator) is refused.

// ceremonyTTL bounds how long a started ceremony may be finished (the options' timeout is 5 minutes).
const ceremonyTTL = 5 * time.Minute

// newWebAuthn builds the relying party from the base URL. Browsers refuse passkeys on IP addresses, and so
// does the library: then passkeys are simply not offered.
func (s *Server) newWebAuthn() *webauthn.WebAuthn {
	base := s.cfg.BaseURL
	rk := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  base.Hostname(),
		RPDisplayName:         s.msp.Load().Name,
		RPOrigins:             []string{base.Scheme + "://" + base.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: &rk,
			UserVerification:   protocol.VerificationPreferred,
		},
	})
	if err != nil {
		s.log.Warn("passkeys are not available with this base URL", "err", err)
		return nil
	}
	return wa
}

// waUser is a person as the WebAuthn library sees them.
type waUser struct {
	u      *db.User
	handle []byte
	creds  []webauthn.Credential
	ids    []int64 // method id of each credential
}

func (w *waUser) WebAuthnID() []byte                         { return w.handle }
func (w *waUser) WebAuthnName() string                       { return w.u.Email }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.DisplayName() }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// methodID returns the method id of a credential.
func (w *waUser) methodID(credID []byte) int64 {
	for i, c := range w.creds {
		if bytes.Equal(c.ID, credID) {
			return w.ids[i]
		}
	}
	return 0
}

func (s *Server) loadWAUser(c *echo.Context, u *db.User) (*waUser, error) {
	ctx := c.Request().Context()
	h, err := s.db.WebAuthnHandle(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u, handle: h}
	for _, m := range methods {
		if m.Kind != db.MFAPasskey {
			continue
		}
		cred := webauthn.Credential{
			ID:                m.CredentialID,
			PublicKey:         m.PublicKey,
			AttestationFormat: m.AttestationFormat,
			Flags:             webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(m.Flags)),
			Authenticator:     webauthn.Authenticator{AAGUID: m.AAGUID, SignCount: m.SignCount},
		}
		for _, t := range m.Transports {
			cred.Transport = append(cred.Transport, protocol.AuthenticatorTransport(t))
		}
		w.creds = append(w.creds, cred)
		w.ids = append(w.ids, m.ID)
	}
	return w, nil
}

// ceremony is what the session keeps between the start and the end of a WebAuthn ceremony.
type ceremony struct {
	Kind    string               `json:"k"` // "register", "mfa" or "login"
	UID     int64                `json:"u"`
	Name    string               `json:"n,omitempty"`
	Started int64                `json:"t"`
	Data    webauthn.SessionData `json:"d"`
}

func (s *Server) putCeremony(c *echo.Context, cer ceremony) error {
	cer.Started = s.now().Unix()
	b, err := json.Marshal(cer)
	if err != nil {
		return err
	}
	s.sm.Put(c.Request().Context(), keyWebAuthn, string(b))
	return nil
}

// takeCeremony returns the session's ceremony of this kind and deletes it: each challenge is used once.
//
// Popping it from the session is not enough: parallel requests of one session all read it before any of
// them saves the session without it. So the challenge is also spent in the database, where one answer per
// challenge wins (db.SpendChallenge); the signature counter cannot tell a replay of a passkey that keeps
// it at 0.
func (s *Server) takeCeremony(c *echo.Context, kind string, uid int64) (*ceremony, bool, error) {
	ctx := c.Request().Context()
	raw := s.sm.PopString(ctx, keyWebAuthn)
	if raw == "" {
		return nil, false, nil
	}
	var cer ceremony
	if json.Unmarshal([]byte(raw), &cer) != nil || cer.Kind != kind || cer.UID != uid ||
		s.now().Sub(time.Unix(cer.Started, 0)) > ceremonyTTL || cer.Data.Challenge == "" {
		return nil, false, nil
	}
	sum := sha256.Sum256([]byte(cer.Data.Challenge))
	spent, err := s.db.SpendChallenge(ctx, sum[:], time.Unix(cer.Started, 0).Add(ceremonyTTL))
	if err != nil || !spent {
		return nil, false, err
	}
	return &cer, true, nil
}

// passkeyJSON is the answer of the ceremony endpoints to static/passkey.js.
type passkeyJSON struct {
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// jsonAnswer saves the session first (a failed save becomes an error page, not a lost session) and then
// answers JSON.
func (s *Server) jsonAnswer(c *echo.Context, status int, v any) error {
	if err := s.saveSession(c); err != nil {
		return err
	}
	return c.JSON(status, v)
}

func (s *Server) passkeyError(c *echo.Context, key string) error {
	l := i18n.From(c.Request().Context())
	return s.jsonAnswer(c, http.StatusBadRequest, passkeyJSON{Error: l.T(key)})
}

// ---- registration ----

func (s *Server) passkeyRegisterBegin(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	u := currentUser(c)
	_, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
	}
	wu, err := s.loadWAUser(c, u)
	if err != nil {
		return err
	}
	var exclude []protocol.CredentialDescriptor
	for _, cr := range wu.creds {
		exclude = append(exclude, cr.Descriptor())
	}
	creation, sd, err := s.wa.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return err
	}
	l := i18n.From(c.Request().Context())
	name := cleanName(c.FormValue("name"), l.T("mfa.passkey.default_name"))
	if err := s.putCeremony(c, ceremony{Kind: "register", UID: u.ID, Name: name, Data: *sd}); err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, creation)
}

func (s *Server) passkeyRegisterFinish(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	methods, dest, err := s.enrolGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
	}
	cer, ok, err := s.takeCeremony(c, "register", u.ID)
	if err != nil {
		return err
	}
	if !ok {
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(c.Request().Body)
	if err != nil {
		s.log.Info("passkey registration: unreadable answer", "err", err)
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	wu, err := s.loadWAUser(c, u)
	if err != nil {
		return err
	}
	cred, err := s.wa.CreateCredential(wu, cer.Data, parsed)
	if err != nil {
		s.log.Info("passkey registration refused", "err", err)
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	p := db.Passkey{
		Name: cer.Name, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		Flags: byte(cred.Flags.ProtocolValue()), BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		AAGUID: cred.Authenticator.AAGUID, AttestationFormat: cred.AttestationFormat,
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SessionsStillValid(ctx, tx, u.ID, u.SessionEpoch); err != nil {
			return err
		}
		if _, err := db.AddPasskey(ctx, tx, s.now(), u.ID, p); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "mfa.enrol.passkey", cer.Name))
	})
	if errors.Is(err, db.ErrConflict) {
		return s.passkeyError(c, "mfa.passkey.exists")
	}
	if err != nil {
		return err
	}
	dest, err = s.enrolled(c, u, len(methods) == 0, db.MFAPasskey)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
}

// ---- second factor after the password ----

func (s *Server) mfaPasskeyBegin(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	u := currentUser(c)
	_, dest, err := s.mfaGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
	}
	wu, err := s.loadWAUser(c, u)
	if err != nil {
		return err
	}
	if len(wu.creds) == 0 {
		return s.passkeyError(c, "mfa.passkey.none")
	}
	assertion, sd, err := s.wa.BeginLogin(wu)
	if err != nil {
		return err
	}
	if err := s.putCeremony(c, ceremony{Kind: "mfa", UID: u.ID, Data: *sd}); err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, assertion)
}

func (s *Server) mfaPasskeyFinish(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	u := currentUser(c)
	_, dest, err := s.mfaGate(c, u)
	if err != nil {
		return err
	}
	if dest != "" {
		return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: dest})
	}
	cer, ok, err := s.takeCeremony(c, "mfa", u.ID)
	if err != nil {
		return err
	}
	if !ok {
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(c.Request().Body)
	if err != nil {
		return s.passkeyError(c, "mfa.passkey.failed")
	}
	res, err := s.reserveCode(c, u)
	if err != nil {
		return err
	}
	if res.Refused == db.RefusedIP {
		return &tooMany{retryAfter: res.RetryAfter}
	}
	fail := func(key string) error {
		voided, err := s.mfaFailed(c, db.MFAPasskey, res)
		if err != nil {
			return err
		}
		if voided {
			return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: "/login"})
		}
		return s.passkeyError(c, key)
	}
	if res.Refused != db.NotRefused {
		return fail("mfa.failed")
	}
	wu, err := s.loadWAUser(c, u)
	if err != nil {
		return err
	}
	cred, err := s.wa.ValidateLogin(wu, cer.Data, parsed)
	if err != nil {
		s.log.Info("passkey assertion refused", "err", err)
		return fail("mfa.passkey.failed")
	}
	if ok, err := s.acceptAssertion(c, wu, cred); err != nil {
		return err
	} else if !ok {
		return fail("mfa.passkey.cloned")
	}
	if err := s.passMFA(c, u, db.MFAPasskey, res); err != nil {
		return err
	}
	next, err := s.nextURL(c, u)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: next})
}

// acceptAssertion stores the result of a verified assertion. It refuses (false) a signature counter that
// did not grow: the library flags it, and the conditional UPDATE catches two racing assertions.
func (s *Server) acceptAssertion(c *echo.Context, wu *waUser, cred *webauthn.Credential) (bool, error) {
	id := wu.methodID(cred.ID)
	if id == 0 {
		return false, errors.New("verified credential without a method")
	}
	if cred.Authenticator.CloneWarning {
		s.audit(c, 0, "mfa.passkey.cloned", "#"+itoa64(id))
		return false, nil
	}
	ok, err := s.db.UsePasskey(c.Request().Context(), id, cred.Authenticator.SignCount, byte(cred.Flags.ProtocolValue()), cred.Flags.BackupState)
	if err == nil && !ok {
		s.audit(c, 0, "mfa.passkey.cloned", "#"+itoa64(id))
	}
	return ok, err
}

// ---- sign-in without a password ----

// passkeyLoginBegin starts a discoverable login: the browser offers the passkeys it has for this site.
// User verification is required here, so the passkey stands for both factors.
func (s *Server) passkeyLoginBegin(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	if wait, err := s.db.IPBlocked(c.Request().Context(), c.RealIP()); err != nil {
		return err
	} else if wait > 0 {
		return &tooMany{retryAfter: wait}
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	if err := s.putCeremony(c, ceremony{Kind: "login", Data: *sd}); err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, assertion)
}

// passkeyLoginFinish signs in with a passkey: it counts as both factors. The rest of the first-login
// pipeline (terms, ...) still applies.
func (s *Server) passkeyLoginFinish(c *echo.Context) error {
	if s.wa == nil {
		return errNoWebAuthn
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	if wait, err := s.db.IPBlocked(ctx, ip); err != nil {
		return err
	} else if wait > 0 {
		return &tooMany{retryAfter: wait}
	}
	cer, ok, err := s.takeCeremony(c, "login", 0)
	if err != nil {
		return err
	}
	if !ok {
		return s.passkeyError(c, "login.passkey_failed")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(c.Request().Body)
	if err != nil {
		return s.passkeyError(c, "login.passkey_failed")
	}
	var found *waUser
	// The account becomes known only inside the check, just before the signature is verified: the attempt
	// is reserved there (lock and throttle), and a refusal ends the check.
	var res db.Reservation
	var reserved bool
	var handlerErr error
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		uid, err := s.db.UserIDByWebAuthnHandle(ctx, userHandle)
		if err != nil {
			return nil, err
		}
		u, err := s.db.UserByID(ctx, uid)
		if err != nil {
			return nil, err
		}
		if res, handlerErr = s.db.ReserveAttempt(ctx, db.Attempt{Kind: db.AttemptSecondFactor, UserID: uid, IP: ip}); handlerErr != nil {
			return nil, handlerErr
		}
		if res.Refused != db.NotRefused {
			return nil, errors.New("attempt refused")
		}
		reserved = true
		if found, handlerErr = s.loadWAUser(c, u); handlerErr != nil {
			return nil, handlerErr
		}
		return found, nil
	}
	failed := func(key string) error {
		var u *db.User
		if found != nil {
			u = found.u
		}
		action := "login.fail"
		switch {
		case res.Refused == db.RefusedIP:
			return &tooMany{retryAfter: res.RetryAfter}
		case res.Refused == db.RefusedLocked:
			action = "login.locked"
		case !reserved:
			// Refused before the account was known (an unknown passkey): the client address counts it.
			if err := s.db.RecordLoginFailure(ctx, db.Attempt{Kind: db.AttemptSecondFactor, IP: ip}); err != nil {
				return err
			}
		}
		s.auditPasskeyLogin(c, u, action)
		return s.passkeyError(c, key)
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(handler, cer.Data, parsed)
	if handlerErr != nil {
		return handlerErr
	}
	if err != nil {
		s.log.Info("passkey sign-in refused", "err", err)
		return failed("login.passkey_failed")
	}
	u := found.u
	if u.Disabled || u.PasswordHash == "" {
		return failed("login.passkey_failed")
	}
	if ok, err := s.acceptAssertion(c, found, cred); err != nil {
		return err
	} else if !ok {
		return failed("mfa.passkey.cloned")
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return err
	}
	if err := s.db.NoteSignIn(ctx, u.ID); err != nil {
		return err
	}
	if err := s.startPasskeySession(c, u); err != nil {
		return err
	}
	s.auditPasskeyLogin(c, u, "login.ok")
	next, err := s.nextURL(c, u)
	if err != nil {
		return err
	}
	return s.jsonAnswer(c, http.StatusOK, passkeyJSON{Redirect: next})
}

// startPasskeySession is startSession for a password-less sign-in: a new token, the person, the second
// factor passed — and no password time, so changing factors asks for the password.
func (s *Server) startPasskeySession(c *echo.Context, u *db.User) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	for _, k := range []string{keyPwAt, keyMFAAttempt, keyMFAAttemptOf, keyTOTPPending, keyEmailEnrol, keyMFARecovery, keyMFARecFirst} {
		s.sm.Remove(ctx, k)
	}
	s.sm.Put(ctx, keyUID, u.ID)
	s.sm.Put(ctx, keyMFAOK, true)
	c.Set(ctxUser, u)
	r := c.Request()
	c.SetRequest(r.WithContext(i18n.WithLocalizer(ctx, s.i18n.For(u.Lang, u.TimeZone))))
	return s.db.AddUserSession(ctx, s.sm.Token(ctx), u.ID, u.SessionEpoch, c.RealIP(), r.UserAgent())
}

func (s *Server) auditPasskeyLogin(c *echo.Context, u *db.User, action string) {
	e := s.auditEntry(c, 0, action, db.MFAPasskey)
	if u != nil {
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
	}
	if err := s.db.Audit(c.Request().Context(), nil, e); err != nil {
		s.log.Error("audit", "err", err)
	}
}

// passkeyNameFor suggests a name for a new passkey from the browser: "Chrome on Windows".
func passkeyNameFor(l *i18n.Localizer, ua string) string {
	b := browserLabel(l, ua)
	if strings.TrimSpace(b) == "" {
		return l.T("mfa.passkey.default_name")
	}
	return b
}
