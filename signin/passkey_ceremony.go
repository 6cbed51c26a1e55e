package signin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"portier/db"
)

// Passkeys (WebAuthn): the relying party is the base URL (RP ID = its host, origin = the base URL).
// Registration asks for a resident key, so the same passkey signs in without a password; user
// verification is preferred; attestation none; no restriction of the authenticator attachment, so
// platform authenticators, security keys and password-manager extensions all work. A started ceremony
// is handed to the web as an opaque string for its session and comes back once; its challenge is spent
// in the database when it is finished. A sign-count regression (a cloned authenticator) is refused.

// CeremonyTTL bounds how long a started ceremony may be finished (the options' timeout is 5 minutes).
const CeremonyTTL = 5 * time.Minute

// Errors of the ceremonies.
var (
	// ErrNoPasskeys: the base URL is an IP address; browsers (and the library) refuse passkeys there.
	ErrNoPasskeys = errors.New("signin: passkeys need a domain name in the base URL")
	// ErrCeremony: no ceremony of this kind and person to finish (none started, expired, finished
	// already), or an answer that cannot be read. Nothing was checked, so nothing is counted.
	ErrCeremony = errors.New("signin: no passkey ceremony to finish")
	// ErrNoPasskey: the person has no passkey to sign in with.
	ErrNoPasskey = errors.New("signin: no passkey enrolled")
	// ErrPasskeyRefused: the authenticator's answer did not verify, or the attempt was refused before it
	// was checked (the Reservation returned says why). Counted.
	ErrPasskeyRefused = errors.New("signin: passkey refused")
	// ErrPasskeyCloned: the signature counter did not grow (a cloned authenticator, or two racing answers).
	ErrPasskeyCloned = errors.New("signin: passkey signature counter did not grow")
)

// PasskeyConfig is the relying party: who the passkeys are for.
type PasskeyConfig struct {
	BaseURL     *url.URL
	DisplayName string // the MSP's name, shown by the authenticator
	Now         func() time.Time
	Logger      *slog.Logger
}

// Passkeys runs the WebAuthn ceremonies: registration, the second factor after a password, and a
// password-less sign-in. It is safe for concurrent use.
type Passkeys struct {
	wa     *webauthn.WebAuthn
	db     *db.DB
	signin *Signin
	now    func() time.Time
	log    *slog.Logger
}

// NewPasskeys builds the relying party once. It returns ErrNoPasskeys when the base URL is an IP address:
// then passkeys are simply not offered.
func NewPasskeys(d *db.DB, si *Signin, cfg PasskeyConfig) (*Passkeys, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rk := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.BaseURL.Hostname(),
		RPDisplayName:         cfg.DisplayName,
		RPOrigins:             []string{cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: &rk,
			UserVerification:   protocol.VerificationPreferred,
		},
	})
	if err != nil {
		return nil, errors.Join(ErrNoPasskeys, err)
	}
	return &Passkeys{wa: wa, db: d, signin: si, now: cfg.Now, log: cfg.Logger}, nil
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

func (p *Passkeys) loadUser(ctx context.Context, u *db.User) (*waUser, error) {
	h, err := p.db.WebAuthnHandle(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	methods, err := p.db.MFAMethods(ctx, u.ID)
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

// ceremony is what the session keeps between the start and the end of a ceremony.
type ceremony struct {
	Kind    string               `json:"k"` // "register", "mfa" or "login"
	UID     int64                `json:"u"`
	Name    string               `json:"n,omitempty"`
	Started int64                `json:"t"`
	Data    webauthn.SessionData `json:"d"`
}

func (p *Passkeys) started(cer ceremony) (string, error) {
	cer.Started = p.now().Unix()
	b, err := json.Marshal(cer)
	return string(b), err
}

// take opens a ceremony the web kept (and has removed from its session) if it is of this kind and
// person and not expired, and spends its challenge: each challenge is used once.
//
// Removing it from the session is not enough: parallel requests of one session all read it before any of
// them saves the session without it. So the challenge is also spent in the database, where one answer per
// challenge wins (db.SpendChallenge); the signature counter cannot tell a replay of a passkey that keeps
// it at 0.
func (p *Passkeys) take(ctx context.Context, raw, kind string, uid int64) (*ceremony, error) {
	if raw == "" {
		return nil, ErrCeremony
	}
	var cer ceremony
	if json.Unmarshal([]byte(raw), &cer) != nil || cer.Kind != kind || cer.UID != uid ||
		p.now().Sub(time.Unix(cer.Started, 0)) > CeremonyTTL || cer.Data.Challenge == "" {
		return nil, ErrCeremony
	}
	sum := sha256.Sum256([]byte(cer.Data.Challenge))
	spent, err := p.db.SpendChallenge(ctx, sum[:], time.Unix(cer.Started, 0).Add(CeremonyTTL))
	if err != nil {
		return nil, err
	}
	if !spent {
		return nil, ErrCeremony
	}
	return &cer, nil
}

// accept stores the result of a verified assertion. It refuses (ErrPasskeyCloned) a signature counter
// that did not grow: the library flags it, and the conditional UPDATE catches two racing assertions.
func (p *Passkeys) accept(ctx context.Context, wu *waUser, cred *webauthn.Credential, actor db.AuditEntry) error {
	id := wu.methodID(cred.ID)
	if id == 0 {
		return errors.New("verified credential without a method")
	}
	actor.Action, actor.Target = "mfa.passkey.cloned", "#"+strconv.FormatInt(id, 10)
	if cred.Authenticator.CloneWarning {
		p.signin.audits.Record(ctx, actor)
		return ErrPasskeyCloned
	}
	ok, err := p.db.UsePasskey(ctx, id, cred.Authenticator.SignCount, byte(cred.Flags.ProtocolValue()), cred.Flags.BackupState)
	if err != nil {
		return err
	}
	if !ok {
		p.signin.audits.Record(ctx, actor)
		return ErrPasskeyCloned
	}
	return nil
}

// BeginRegistration starts enrolling a passkey named name for u. It returns the options for the
// browser and the ceremony for the session; passkeys u has already are excluded.
func (p *Passkeys) BeginRegistration(ctx context.Context, u *db.User, name string) (*protocol.CredentialCreation, string, error) {
	wu, err := p.loadUser(ctx, u)
	if err != nil {
		return nil, "", err
	}
	var exclude []protocol.CredentialDescriptor
	for _, cr := range wu.creds {
		exclude = append(exclude, cr.Descriptor())
	}
	creation, sd, err := p.wa.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", err
	}
	cer, err := p.started(ceremony{Kind: "register", UID: u.ID, Name: name, Data: *sd})
	return creation, cer, err
}

// FinishRegistration checks the authenticator's answer to the ceremony and enrols the passkey
// (EnrolPasskey: audited, refused from an ended session). ErrCeremony, ErrPasskeyRefused or
// ErrPasskeyExists when it is not enrolled.
func (p *Passkeys) FinishRegistration(ctx context.Context, u *db.User, raw string, answer io.Reader, actor db.AuditEntry) error {
	cer, err := p.take(ctx, raw, "register", u.ID)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(answer)
	if err != nil {
		p.log.Info("passkey registration: unreadable answer", "err", err)
		return ErrCeremony
	}
	wu, err := p.loadUser(ctx, u)
	if err != nil {
		return err
	}
	cred, err := p.wa.CreateCredential(wu, cer.Data, parsed)
	if err != nil {
		p.log.Info("passkey registration refused", "err", err)
		return ErrPasskeyRefused
	}
	pk := db.Passkey{
		Name: cer.Name, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		Flags: byte(cred.Flags.ProtocolValue()), BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		AAGUID: cred.Authenticator.AAGUID, AttestationFormat: cred.AttestationFormat,
	}
	for _, t := range cred.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	return p.signin.EnrolPasskey(ctx, u, pk, actor)
}

// BeginSecondFactor starts the second factor of u, who passed the password: ErrNoPasskey without one.
func (p *Passkeys) BeginSecondFactor(ctx context.Context, u *db.User) (*protocol.CredentialAssertion, string, error) {
	wu, err := p.loadUser(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if len(wu.creds) == 0 {
		return nil, "", ErrNoPasskey
	}
	assertion, sd, err := p.wa.BeginLogin(wu)
	if err != nil {
		return nil, "", err
	}
	cer, err := p.started(ceremony{Kind: "mfa", UID: u.ID, Data: *sd})
	return assertion, cer, err
}

// FinishSecondFactor checks u's passkey answer as the second factor of the sign-in attempt. The check
// is reserved first (ReserveSecondFactor, with attempt and ip) and the reservation returned: the caller
// passes it to SecondFactorPassed on success and to SecondFactorFailed on ErrPasskeyRefused or
// ErrPasskeyCloned (when res.Refused is RefusedIP the client is throttled instead). ErrCeremony is not
// counted.
func (p *Passkeys) FinishSecondFactor(ctx context.Context, u *db.User, raw string, answer io.Reader, attempt, ip string, actor db.AuditEntry) (db.Reservation, error) {
	cer, err := p.take(ctx, raw, "mfa", u.ID)
	if err != nil {
		return db.Reservation{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(answer)
	if err != nil {
		return db.Reservation{}, ErrCeremony
	}
	res, err := p.signin.ReserveSecondFactor(ctx, u, attempt, ip)
	if err != nil {
		return res, err
	}
	if res.Refused != db.NotRefused {
		return res, ErrPasskeyRefused
	}
	wu, err := p.loadUser(ctx, u)
	if err != nil {
		return res, err
	}
	cred, err := p.wa.ValidateLogin(wu, cer.Data, parsed)
	if err != nil {
		p.log.Info("passkey assertion refused", "err", err)
		return res, ErrPasskeyRefused
	}
	return res, p.accept(ctx, wu, cred, actor)
}

// BeginLogin starts a discoverable sign-in: the browser offers the passkeys it has for this site. User
// verification is required here, so the passkey stands for both factors.
func (p *Passkeys) BeginLogin(ctx context.Context) (*protocol.CredentialAssertion, string, error) {
	assertion, sd, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	cer, err := p.started(ceremony{Kind: "login", Data: *sd})
	return assertion, cer, err
}

// FinishLogin signs in with a passkey and no password: it returns the person, whose attempt passed
// (PasskeyPassed). The account becomes known only inside the check, just before the signature is
// verified: the attempt is reserved there (lock and throttle), and a refusal ends the check. A refused
// sign-in is counted and audited (PasskeyFailed) and answers ErrPasskeyRefused or ErrPasskeyCloned — except
// when the client address is throttled: then the Reservation's Refused is RefusedIP, for a 429.
func (p *Passkeys) FinishLogin(ctx context.Context, raw string, answer io.Reader, actor db.AuditEntry) (*db.User, db.Reservation, error) {
	cer, err := p.take(ctx, raw, "login", 0)
	if err != nil {
		return nil, db.Reservation{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(answer)
	if err != nil {
		return nil, db.Reservation{}, ErrCeremony
	}
	var found *waUser
	var res db.Reservation
	var reserved bool
	var handlerErr error
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		uid, err := p.db.UserIDByWebAuthnHandle(ctx, userHandle)
		if err != nil {
			return nil, err
		}
		u, err := p.db.UserByID(ctx, uid)
		if err != nil {
			return nil, err
		}
		if res, handlerErr = p.signin.ReserveSecondFactor(ctx, u, "", actor.IP); handlerErr != nil {
			return nil, handlerErr
		}
		if res.Refused != db.NotRefused {
			return nil, errors.New("attempt refused")
		}
		reserved = true
		if found, handlerErr = p.loadUser(ctx, u); handlerErr != nil {
			return nil, handlerErr
		}
		return found, nil
	}
	failed := func(why error) (*db.User, db.Reservation, error) {
		if res.Refused == db.RefusedIP {
			return nil, res, ErrPasskeyRefused
		}
		var u *db.User
		if found != nil {
			u = found.u
		}
		if err := p.signin.PasskeyFailed(ctx, u, res, reserved, actor); err != nil {
			return nil, res, err
		}
		return nil, res, why
	}
	_, cred, err := p.wa.ValidatePasskeyLogin(handler, cer.Data, parsed)
	if handlerErr != nil {
		return nil, res, handlerErr
	}
	if err != nil {
		p.log.Info("passkey sign-in refused", "err", err)
		return failed(ErrPasskeyRefused)
	}
	u := found.u
	if u.Disabled || u.PasswordHash == "" {
		return failed(ErrPasskeyRefused)
	}
	if err := p.accept(ctx, found, cred, actor); errors.Is(err, ErrPasskeyCloned) {
		return failed(err)
	} else if err != nil {
		return nil, res, err
	}
	if err := p.signin.PasskeyPassed(ctx, u, res); err != nil {
		return nil, res, err
	}
	return u, res, nil
}
