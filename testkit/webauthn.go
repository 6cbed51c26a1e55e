package testkit

import (
	"context"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Authenticator is a DevTools virtual WebAuthn authenticator attached to the
// tab of a [BrowserT]: a platform passkey authenticator (CTAP2, internal
// transport, resident keys, user verification that always succeeds, user
// presence confirmed automatically). navigator.credentials.create/get in the
// page use it instead of real hardware. WebAuthn needs a secure context: load
// pages from http://localhost:PORT (not 127.0.0.1) and use rp id "localhost".
type Authenticator struct {
	b  *BrowserT
	ID webauthn.AuthenticatorID
}

// VirtualAuthenticator enables the WebAuthn domain in the tab and adds a
// virtual authenticator. It can be called before or after Navigate; it stays
// for the life of the tab.
func (b *BrowserT) VirtualAuthenticator() *Authenticator {
	b.t.Helper()
	call(b, webauthn.Enable, webauthn.EnableParams{})
	res := call(b, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:            webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:        webauthn.Ctap2versionCtap21,
			Transport:           webauthn.AuthenticatorTransportInternal,
			HasResidentKey:      true,
			HasUserVerification: true,
			IsUserVerified:      true,
			// cdproto v0.159 always sends this bool; false (the Go zero
			// value) makes every create()/get() wait forever for a touch.
			AutomaticPresenceSimulation: true,
		},
	})
	return &Authenticator{b: b, ID: res.AuthenticatorID}
}

// Credentials returns the credentials stored in the authenticator, with their
// private keys (PKCS#8), user handles and sign counts.
func (a *Authenticator) Credentials() []*webauthn.Credential {
	a.b.t.Helper()
	return call(a.b, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.ID}).Credentials
}

// AddCredential stores a credential in the authenticator, e.g. one taken
// from Credentials of another test's authenticator. RpID, CredentialID and
// PrivateKey must be set.
func (a *Authenticator) AddCredential(c *webauthn.Credential) {
	a.b.t.Helper()
	call(a.b, webauthn.AddCredential, webauthn.AddCredentialParams{AuthenticatorID: a.ID, Credential: c})
}

// RemoveCredential deletes a credential from the authenticator.
func (a *Authenticator) RemoveCredential(credentialID []byte) {
	a.b.t.Helper()
	call(a.b, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: a.ID, CredentialID: credentialID})
}

// SetSignCount sets the signature counter of a stored credential. The
// authenticator increments it before each assertion, so the next get()
// reports n+1. Setting it below what the server last saw simulates a cloned
// authenticator.
func (a *Authenticator) SetSignCount(credentialID []byte, n uint32) {
	a.b.t.Helper()
	count := float64(n)
	call(a.b, webauthn.SetCredentialProperties, webauthn.SetCredentialPropertiesParams{
		AuthenticatorID: a.ID,
		CredentialID:    credentialID,
		SignCount:       &count, // a non-nil pointer is sent, also for 0
	})
}

// SetUserVerified makes user verification succeed (true) or fail (false)
// from now on.
func (a *Authenticator) SetUserVerified(ok bool) {
	a.b.t.Helper()
	call(a.b, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: a.ID, IsUserVerified: ok})
}

// call sends one DevTools protocol command to the tab with ActionTimeout and
// fails the test on error. Outside an action, chromedp.Call(ctx, cmd, params)
// is the v0.23 form; inside one, cdp.Call(ctx, target, cmd, params).
func call[P, R any](b *BrowserT, cmd cdp.Command[P, R], params P) R {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		b.t.Fatalf("testkit: %s: %v", cmd.Method, err)
	}
	return res
}
