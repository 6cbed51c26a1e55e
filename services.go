package main

import (
	"context"
	"errors"

	"portier/accounts"
	"portier/audit"
	"portier/auth"
	"portier/docsapp"
	"portier/mailtext"
	"portier/signin"
	"portier/views"
)

// services is the application layer, built here once for the web server and the account commands alike:
// both call the same methods on services built the same way.
type services struct {
	msp      *mailtext.CurrentMSP
	mails    *mailtext.Composer
	accounts *accounts.Accounts
	signin   *signin.Signin
	passkeys *signin.Passkeys // nil when the base URL is an IP address (passkeysOff says why)
	audit    *audit.Log
	docs     *docsapp.Service

	passkeysOff error
}

// services builds the application layer. hasher is the password hasher (its concurrency is the caller's
// choice: the server leaves cores to people signed in, a command needs one); wake nudges the mail worker
// after a transaction that queued mail committed (nil when none runs).
func (a *app) services(ctx context.Context, hasher *auth.Hasher, wake func()) (*services, error) {
	cfg := a.cfg
	msp, err := mailtext.LoadCurrentMSP(ctx, a.db, views.MSP{Name: cfg.MSPName, SupportEmail: cfg.SupportEmail, SupportPhone: cfg.SupportPhone})
	if err != nil {
		return nil, err
	}
	s := &services{msp: msp, mails: mailtext.New(a.i18n, cfg.BaseURL, msp.Get), audit: audit.New(a.db, a.log)}
	s.accounts = accounts.New(a.db, a.sealer, hasher, s.mails, accounts.Config{Wake: wake, Logger: a.log})
	s.signin = signin.New(a.db, a.sealer, hasher, s.mails, signin.Config{Wake: wake, Logger: a.log})
	s.passkeys, s.passkeysOff = signin.NewPasskeys(a.db, s.signin, signin.PasskeyConfig{BaseURL: cfg.BaseURL, DisplayName: msp.Get().Name, Logger: a.log})
	if s.passkeysOff != nil && !errors.Is(s.passkeysOff, signin.ErrNoPasskeys) {
		return nil, s.passkeysOff
	}
	s.docs = docsapp.New(a.db, a.sealer, nil, a.i18n, a.log, s.mails, wake)
	return s, nil
}
