package handlers

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/access"
	"portier/db"
	"portier/i18n"
	"portier/idp"
	"portier/views"
)

// Sign-in through an organisation's OpenID Connect provider (Microsoft Entra ID, Google Workspace, any
// other): the buttons on the sign-in and invitation pages, the round trip, and the hand-over to Portier's
// own session and second-factor steps. Administrators configure providers in staff_idp.go; the rules (what
// is checked in the token, which account is whose, what counts as a second factor) live in package idp.

// Session keys of the provider sign-in.
const (
	keyIdPFlow = "idp_flow" // the round trip under way (JSON of idpFlow); removed when the provider answers
	keyIdPMFA  = "idp_mfa"  // the person (id) whose second factor the provider vouched for in this session
	keyIdPOrg  = "idp_org"  // the organisation whose provider that was
)

// idpFlowTTL is how long a round trip may take: the provider's sign-in page, maybe its second factor.
const idpFlowTTL = 10 * time.Minute

// Purposes of a round trip.
const (
	purposeSignIn = "signin" // the sign-in page
	purposeInvite = "invite" // an invitation link
	purposeTest   = "test"   // an administrator's "test connection"
	purposeLink   = "link"   // a signed-in person links their provider account (security page)
)

// idpFlow is what the session remembers between leaving for the provider and coming back.
type idpFlow struct {
	idp.Flow
	IdP     int64  `json:"p"`
	Purpose string `json:"k"`
	Invite  string `json:"i,omitempty"` // the invitation's token hash (base64url), never the token
	Terms   int    `json:"t,omitempty"` // the terms version accepted on the invitation page
	UID     int64  `json:"u,omitempty"` // purposeLink: who asked to link
	At      int64  `json:"a"`
}

func (s *Server) idpRoutes() {
	e := s.e
	e.POST("/login/idp", s.idpSignIn)
	e.POST("/invite/:token/idp", s.idpInvite)
	e.GET("/oidc/callback", s.idpCallback)
	e.POST("/security/idp/:id/link", s.idpLinkStart, s.complete)
	s.staffIdPRoutes()
}

// idpRedirectURL is the one callback address registered at every provider: from the configured base URL,
// never from the request.
func (s *Server) idpRedirectURL() string { return s.link("/oidc/callback") }

// idpSettings turns a stored provider into the idp package's settings, secret opened.
func (s *Server) idpSettings(p *db.IdP) (idp.Settings, error) {
	secret, err := p.Secret(s.cfg.Sealer)
	if err != nil {
		return idp.Settings{}, err
	}
	ds, _ := idp.ParseDomains(p.Kind, p.Tenant, p.Domains)
	return idp.Settings{
		Kind: p.Kind, Name: p.Name, Tenant: p.Tenant, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secret,
		Domains: ds, MFAACR: strings.Fields(p.MFAACR), RequirePortierMFA: p.RequirePortierMFA,
	}, nil
}

// idpClient discovers the provider and prepares a client for it.
func (s *Server) idpClient(ctx context.Context, p *db.IdP) (*idp.Client, idp.Settings, error) {
	st, err := s.idpSettings(p)
	if err != nil {
		return nil, st, err
	}
	cl, err := idp.New(ctx, s.cfg.IdPEndpoints, st, s.idpRedirectURL(), s.now)
	return cl, st, err
}

// idpStart remembers a new round trip in the session and sends the browser to the provider.
func (s *Server) idpStart(c *echo.Context, p *db.IdP, f idpFlow, loginHint string) error {
	ctx := c.Request().Context()
	cl, _, err := s.idpClient(ctx, p)
	if err != nil {
		s.log.Warn("identity provider unreachable", "idp", p.ID, "err", err)
		return s.idpProblem(c, http.StatusBadGateway, "idp.error.unreachable", p.Name)
	}
	f.Flow, f.IdP, f.At = idp.NewFlow(), p.ID, s.now().Unix()
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyIdPFlow, string(b))
	return s.redirect(c, cl.AuthURL(f.Flow, loginHint))
}

// idpProblem explains, in the person's language and with the support contact, why the provider sign-in
// did not work. Nothing the provider sent is shown: its error texts are logged only.
func (s *Server) idpProblem(c *echo.Context, status int, key, provider string) error {
	l := i18n.From(c.Request().Context())
	if provider == "" {
		provider = l.T("idp.provider_generic")
	}
	v := views.MessageView{
		TitleKey: "idp.problem.title", TextKey: key, TextArgs: []any{"provider", provider}, Kind: "error",
		ShowSupport: true, TestID: "idp-problem", LinkKey: "link.login", LinkHref: "/login",
	}
	c.Response().Header().Set("X-Portier-Refusal", strings.TrimPrefix(key, "idp."))
	return s.render(c, status, views.Message(s.shell(c, l.T(v.TitleKey)), v), nil)
}

// allowFormActionTo extends this page's form-action to the providers' sign-in addresses: browsers apply
// form-action to the redirect a form submission follows, and these forms end at the provider.
func allowFormActionTo(c *echo.Context, origins []string) {
	if len(origins) == 0 {
		return
	}
	h := c.Response().Header()
	csp := h.Get("Content-Security-Policy")
	h.Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1))
}

// idpOrigin is where a provider's sign-in page lives, for the page's form-action: the origin of the
// Entra authority, of Google's issuer, or of the configured issuer. Only scheme, host and port of a
// parsed URL reach the header.
func (s *Server) idpOrigin(p *db.IdP) string {
	raw := p.Issuer
	switch p.Kind {
	case idp.KindEntra:
		raw = s.cfg.IdPEndpoints.EntraAuthority
	case idp.KindGoogle:
		raw = s.cfg.IdPEndpoints.GoogleIssuer
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// ---------------------------------------------------------------------------------------------------------
// The sign-in page.

// idpButtons are the sign-in page's "Continue with …" buttons: one per provider name, whatever the number
// of organisations using it. It also lets the page's form reach those providers.
func (s *Server) idpButtons(c *echo.Context) []views.IdPButton {
	ps, err := s.db.IdPs(c.Request().Context())
	if err != nil {
		s.log.Error("identity providers", "err", err)
		return nil
	}
	var out []views.IdPButton
	var origins []string
	seen := map[string]bool{}
	for _, p := range ps {
		if o := s.idpOrigin(p); o != "" && !seen["o "+o] {
			seen["o "+o] = true
			origins = append(origins, o)
		}
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		out = append(out, views.IdPButton{Name: p.Name, Kind: p.Kind})
	}
	allowFormActionTo(c, origins)
	return out
}

// idpSignIn starts a provider sign-in from the sign-in page. When several organisations use providers of
// that name, the e-mail domain picks one; without an address the page asks for it.
func (s *Server) idpSignIn(c *echo.Context) error {
	ctx := c.Request().Context()
	name := c.FormValue("idp")
	email := db.NormalizeEmail(c.FormValue("email"))
	ps, err := s.db.IdPs(ctx)
	if err != nil {
		return err
	}
	var named []*db.IdP
	for _, p := range ps {
		if p.Name == name {
			named = append(named, p)
		}
	}
	p := pickIdP(named, email)
	if p == nil {
		if len(named) == 0 {
			return s.redirect(c, "/login")
		}
		l := i18n.From(ctx)
		v := views.IdPPickView{Name: name, Email: email}
		if email != "" {
			v.ErrorKey = "idp.pick.unknown_domain"
		}
		allowFormActionTo(c, []string{s.idpOrigin(named[0])})
		return s.render(c, http.StatusUnprocessableEntity, views.IdPPick(s.shell(c, l.T("idp.pick.title")), v), nil)
	}
	if next := safeNext(c.FormValue("next"), ""); next != "" {
		s.sm.Put(ctx, keyNext, next)
	}
	hint := ""
	if ValidEmail(email) {
		hint = email
	}
	return s.idpStart(c, p, idpFlow{Purpose: purposeSignIn}, hint)
}

// pickIdP chooses among providers of one name: the only one, or the one whose domains hold the address.
func pickIdP(ps []*db.IdP, email string) *db.IdP {
	if len(ps) == 1 {
		return ps[0]
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return nil
	}
	dom := email[at+1:]
	for _, p := range ps {
		ds, _ := idp.ParseDomains(p.Kind, p.Tenant, p.Domains)
		for _, d := range ds {
			if d.Name == dom {
				return p
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------------------
// The invitation page.

// inviteIdPPage renders the invitation page of an organisation with a provider: "Continue with …" first,
// with the terms to accept on the same screen, and the password route one link away. It reports false
// when the invitation has no provider to offer (staff invitations, people who have a password, the
// person asked for the password form).
func (s *Server) inviteIdPPage(c *echo.Context, il *inviteLink) (bool, error) {
	if c.QueryParam("with") == "password" || il.inv.OrgID == 0 || il.user.PasswordHash != "" {
		return false, nil
	}
	ctx := c.Request().Context()
	p, err := s.db.IdPByOrg(ctx, il.inv.OrgID)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, s.renderInviteIdP(c, http.StatusOK, il, p, "")
}

func (s *Server) renderInviteIdP(c *echo.Context, status int, il *inviteLink, p *db.IdP, termsErr string) error {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	token := c.Param("token")
	v := views.InviteIdPView{
		Action: "/invite/" + token + "/idp", PasswordHref: "/invite/" + token + "?with=password",
		LeadArgs: s.inviteArgs(c, il.inv), Email: il.user.Email, Provider: p.Name, Kind: p.Kind,
	}
	if terms != nil {
		v.Terms = &views.TermsBox{Version: terms.Version, Text: terms.Text(l.Lang), Required: true, ErrorKey: termsErr}
	}
	allowFormActionTo(c, []string{s.idpOrigin(p)})
	return s.render(c, status, views.InviteIdP(s.shell(c, l.T("idp.invite.title", "provider", p.Name)), v), nil)
}

// idpInvite starts the provider sign-in of an invited person, after the terms were accepted on the page.
// The link's token stays out of the session: its hash identifies the invitation when the provider answers.
func (s *Server) idpInvite(c *echo.Context) error {
	ctx := c.Request().Context()
	il, err := s.openInvite(c)
	if il == nil {
		return err
	}
	if il.inv.OrgID == 0 || il.user.PasswordHash != "" {
		return s.redirect(c, "/invite/"+c.Param("token"))
	}
	p, err := s.db.IdPByOrg(ctx, il.inv.OrgID)
	if errors.Is(err, db.ErrNotFound) {
		return s.redirect(c, "/invite/"+c.Param("token"))
	}
	if err != nil {
		return err
	}
	f := idpFlow{Purpose: purposeInvite, Invite: base64.RawURLEncoding.EncodeToString(il.hash)}
	terms, err := s.db.CurrentTerms(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if terms != nil {
		switch got := c.FormValue("terms"); got {
		case strconv.Itoa(terms.Version):
			f.Terms = terms.Version
		case "":
			return s.renderInviteIdP(c, http.StatusUnprocessableEntity, il, p, "setpw.terms.required")
		default:
			return s.renderInviteIdP(c, http.StatusUnprocessableEntity, il, p, "setpw.terms.changed")
		}
	}
	return s.idpStart(c, p, f, il.user.Email)
}

// ---------------------------------------------------------------------------------------------------------
// The provider's answer.

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
		// The same policy as the invitation page: whoever invited them, staff never become customer members.
		ap, err := s.accessPerson(ctx, u)
		if err != nil {
			return nil, "", err
		}
		if access.Decide(ap, access.AcceptInvitation, inv.OrgID, &ap) != nil {
			return nil, "idp.refused.invitation_gone", nil
		}
		if err := s.idpAcceptInvitation(c, f, p, id, u, inv, inviteHash, link == nil); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return nil, "idp.refused.invitation_gone", nil
			}
			if errors.Is(err, db.ErrConflict) {
				return nil, "idp.refused.taken", nil
			}
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

// idpAcceptInvitation uses the invitation (once: the conditional UPDATE decides), links the provider
// account when it is new, records the terms accepted on the invitation page and completes the account.
func (s *Server) idpAcceptInvitation(c *echo.Context, f *idpFlow, p *db.IdP, id *idp.Identity, u *db.User,
	inv *db.Invitation, hash []byte, link bool) error {
	ctx := c.Request().Context()
	now := s.now()
	lang := u.Lang
	if l := i18n.From(ctx); l != nil {
		lang = l.Lang
	}
	name := strings.TrimSpace(id.Name)
	if NameProblem(name) != "" {
		name = ""
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := db.AcceptInvitation(ctx, tx, now, hash); err != nil {
			return err
		}
		if link {
			if err := db.LinkIdentity(ctx, tx, now, u.ID, p.ID, id.Key, id.Email); err != nil {
				return err
			}
		}
		if u.PasswordHash == "" {
			if err := db.FinishProviderSignup(ctx, tx, now, u.ID, name, lang); err != nil {
				return err
			}
		}
		if f.Terms != 0 {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, f.Terms, c.RealIP()); err != nil {
				return err
			}
		}
		actor := u.DisplayName()
		if actor == u.Email && name != "" {
			actor = name
		}
		e := s.auditEntry(c, inv.OrgID, "invite.accept", u.Email+" ("+inv.Role+")")
		e.ActorID, e.ActorName = u.ID, actor
		if err := s.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		if !link {
			return nil
		}
		e = s.auditEntry(c, p.OrgID, "idp.link", p.Name+": "+id.Key)
		e.ActorID, e.ActorName = u.ID, actor
		return s.db.Audit(ctx, tx, e)
	})
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

// ---------------------------------------------------------------------------------------------------------
// Linking from the security page: a person who signs in with a password (and Portier's second factor)
// links the provider account of their organisation, so that "Continue with …" works for them too.

// idpLinkRows lists the providers of the person's organisations, linked or not.
func (s *Server) idpLinkRows(c *echo.Context, u *db.User) ([]views.IdPLinkRow, error) {
	if u.IsStaff() {
		return nil, nil
	}
	ctx := c.Request().Context()
	ms, err := s.db.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ids, err := s.db.IdentitiesOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var rows []views.IdPLinkRow
	for _, m := range ms {
		p, err := s.db.IdPByOrg(ctx, m.Org.ID)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r := views.IdPLinkRow{IdPID: p.ID, Provider: p.Name, Kind: p.Kind, Org: m.Org.Name}
		for _, i := range ids {
			if i.IdPID == p.ID {
				r.Linked, r.Email = true, i.Email
			}
		}
		rows = append(rows, r)
	}
	if len(rows) > 0 {
		origins := make([]string, 0, len(rows))
		for _, r := range rows {
			if p, err := s.db.IdPByID(ctx, r.IdPID); err == nil {
				origins = append(origins, s.idpOrigin(p))
			}
		}
		allowFormActionTo(c, origins)
	}
	return rows, nil
}

// idpLinkStart sends a signed-in person to their organisation's provider to link their account there.
// Like adding a second factor, it needs the password entered in the last 10 minutes.
func (s *Server) idpLinkStart(c *echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return db.ErrNotFound
	}
	p, err := s.db.IdPByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.db.MemberRole(ctx, u.ID, p.OrgID); err != nil {
		return err // another organisation's provider: the same answer as one that does not exist
	}
	if !s.recentPassword(c) {
		return s.redirect(c, "/security/confirm?next="+url.QueryEscape("/security"))
	}
	return s.idpStart(c, p, idpFlow{Purpose: purposeLink, UID: u.ID}, u.Email)
}

// idpLinkFinish links the provider account to the person who asked, when the provider vouches for the
// person's own address.
func (s *Server) idpLinkFinish(c *echo.Context, f *idpFlow, p *db.IdP, id *idp.Identity) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u == nil || u.ID != f.UID {
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", p.Name)
	}
	if step, err := s.nextStep(c, u); err != nil || step != "" {
		return s.idpProblem(c, http.StatusBadRequest, "idp.error.state", p.Name)
	}
	refuse := func(key string) error {
		s.audit(c, p.OrgID, "idp.refused", p.Name+": "+id.Key+" ("+strings.TrimPrefix(key, "idp.refused.")+")")
		return s.idpProblem(c, http.StatusForbidden, key, p.Name)
	}
	if _, err := s.db.MemberRole(ctx, u.ID, p.OrgID); errors.Is(err, db.ErrNotFound) {
		return refuse("idp.refused.no_account")
	} else if err != nil {
		return err
	}
	if !id.Vouched {
		return refuse(id.RefusalKey)
	}
	if id.Email != u.Email { // both lower-cased; EqualFold would also match ſ with s
		return refuse("idp.refused.link_address")
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.LinkIdentity(ctx, tx, s.now(), u.ID, p.ID, id.Key, id.Email); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, s.auditEntry(c, p.OrgID, "idp.link", p.Name+": "+id.Key))
	})
	if errors.Is(err, db.ErrConflict) {
		return refuse("idp.refused.taken")
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "idp.link.done")
	return s.redirect(c, "/security")
}
