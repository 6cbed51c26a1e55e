// Package mailtext writes Portier's mails: the greeting, signature and footer every mail shares, the
// plain-text and HTML parts rendered from one model, and the links in them, built from the configured base
// URL (never from a request's Host header). The application layer and the web handlers both compose
// through it; the outbox (db) and the worker (mail) deliver what it writes.
package mailtext

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"sync/atomic"

	"portier/db"
	"portier/i18n"
	"portier/mail"
	"portier/views"
)

// Composer writes mails in the recipient's language on behalf of the MSP.
type Composer struct {
	bundle *i18n.Bundle
	base   string
	msp    func() views.MSP
}

// New returns a composer. msp is asked for the MSP's name and support contact at every mail, so a change an
// administrator saves shows in the next mail.
func New(bundle *i18n.Bundle, base *url.URL, msp func() views.MSP) *Composer {
	return &Composer{bundle: bundle, base: strings.TrimRight(base.String(), "/"), msp: msp}
}

// LoadMSP reads the MSP's name, support contact and logo from the administrators' settings, falling back
// to defaults (the configuration). Every place that shows the MSP loads it here.
func LoadMSP(ctx context.Context, d *db.DB, defaults views.MSP) (views.MSP, error) {
	m := defaults
	var err error
	if m.Name, err = d.Setting(ctx, "msp.name", m.Name); err != nil {
		return m, err
	}
	if m.SupportEmail, err = d.Setting(ctx, "msp.support_email", m.SupportEmail); err != nil {
		return m, err
	}
	if m.SupportPhone, err = d.Setting(ctx, "msp.support_phone", m.SupportPhone); err != nil {
		return m, err
	}
	logo, err := d.Setting(ctx, db.SettingLogoName, "")
	if err != nil {
		return m, err
	}
	if logo != "" {
		m.LogoURL = "/msp-logo/" + logo
	}
	return m, nil
}

// CurrentMSP is the MSP as the portal shows it now: read from the settings at start and again whenever
// an administrator saves them (Reload), so every page and the next mail show the change. Safe for
// concurrent use.
type CurrentMSP struct {
	d        *db.DB
	defaults views.MSP
	p        atomic.Pointer[views.MSP]
}

// LoadCurrentMSP reads the MSP's settings (LoadMSP) with defaults from the configuration.
func LoadCurrentMSP(ctx context.Context, d *db.DB, defaults views.MSP) (*CurrentMSP, error) {
	c := &CurrentMSP{d: d, defaults: defaults}
	return c, c.Reload(ctx)
}

// Load is the MSP as last read; the caller does not change it.
func (c *CurrentMSP) Load() *views.MSP { return c.p.Load() }

// Get is Load's value, for New.
func (c *CurrentMSP) Get() views.MSP { return *c.p.Load() }

// Reload reads the settings again after a change was stored.
func (c *CurrentMSP) Reload(ctx context.Context) error {
	m, err := LoadMSP(ctx, c.d, c.defaults)
	if err != nil {
		return err
	}
	c.p.Store(&m)
	return nil
}

// Link is the absolute URL of path under the configured base URL.
func (c *Composer) Link(path string) string { return c.base + path }

// MSP is the MSP as mails name it.
func (c *Composer) MSP() views.MSP { return c.msp() }

// SupportContact is the MSP's support address and phone, as one line.
func (c *Composer) SupportContact() string {
	m := c.msp()
	contact := m.SupportEmail
	if m.SupportPhone != "" {
		if contact != "" {
			contact += ", "
		}
		contact += m.SupportPhone
	}
	return contact
}

// Start begins a mail in lang to a person called name (may be empty) with greeting, signature and footer;
// the caller adds paragraphs and the button with the returned localizer.
func (c *Composer) Start(lang, name, subjectKey string, args ...any) (views.Email, *i18n.Localizer) {
	l := c.bundle.For(lang, "")
	greeting := l.T("mail.greeting")
	if strings.TrimSpace(name) != "" {
		greeting = l.T("mail.greeting_name", "name", name)
	}
	msp := c.msp().Name
	return views.Email{
		Lang:      l.Lang,
		Kind:      strings.TrimSuffix(subjectKey, ".subject"),
		Subject:   l.T(subjectKey, args...),
		Greeting:  greeting,
		Signature: l.T("mail.signature", "msp", msp),
		Footer:    l.T("mail.footer", "msp", msp, "contact", c.SupportContact(), "url", c.Link("/")),
	}, l
}

// Render turns a mail into the message the outbox keeps: the HTML part and a plain-text part from the same
// model.
func (c *Composer) Render(ctx context.Context, to string, m views.Email) (mail.Message, error) {
	var html bytes.Buffer
	if err := views.EmailHTML(m).Render(ctx, &html); err != nil {
		return mail.Message{}, err
	}
	return mail.Message{To: to, Kind: m.Kind, Subject: m.Subject, Text: plainText(m), HTML: html.String()}, nil
}

// plainText renders the plain-text part of a mail from the same model as the HTML part.
func plainText(m views.Email) string {
	var b strings.Builder
	b.WriteString(m.Greeting + "\n\n")
	for _, p := range m.Paragraphs {
		b.WriteString(p + "\n\n")
	}
	if m.ButtonURL != "" {
		b.WriteString(m.ButtonText + ":\n" + m.ButtonURL + "\n\n")
	}
	for _, p := range m.After {
		b.WriteString(p + "\n\n")
	}
	b.WriteString(m.Signature + "\n\n-- \n" + m.Footer + "\n")
	return b.String()
}
