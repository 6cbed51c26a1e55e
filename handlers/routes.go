package handlers

import (
	"strings"

	"github.com/labstack/echo/v5"
)

// orgRoutes begins the path of every page of an organisation. For these the session is read together with
// the organisation named by :slug and the person's role there (sessionMiddleware), which orgAccess decides
// with.
const orgRoutes = "/o/:slug"

// routeOrgSlug is the organisation a route under orgRoutes names (it may be empty: echo sets no
// parameters when it answers a method the route does not take); ok is false for any other route.
func routeOrgSlug(c *echo.Context) (slug string, ok bool) {
	if !strings.HasPrefix(c.Path(), orgRoutes) {
		return "", false
	}
	return c.Param("slug"), true
}

// routes is the whole route table, grouped by who may call it, with the middleware of each route in its
// line. No other file registers a route (TestRouteTableIsComplete).
func (s *Server) routes() {
	e := s.e
	// Outermost first: log (and turn errors into pages), headers, language, cross-site check, body limit,
	// the gate (a few requests at a time, the rest in arrival order; unqueued routes in admit.go skip it),
	// session, the signed-in person.
	// Before routing: HEAD is routed and answered as GET, without the body.
	e.Pre(s.headAsGet)
	e.Use(s.logRequests, s.securityHeaders, s.locale, s.crossOrigin, s.limitBody, s.admitted, s.sessionMiddleware, s.loadUser)

	// Anyone. The one-time links' tokens are their authorisation.
	e.GET("/", s.welcome)
	e.POST("/lang", s.setLanguage)
	e.POST("/theme", s.setTheme)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/:name", s.staticFile)
	e.GET("/msp-logo/:name", s.mspLogo)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.POST("/login/passkey/begin", s.passkeyLoginBegin) // "sign in with a passkey", no password
	e.POST("/login/passkey/finish", s.passkeyLoginFinish)
	e.GET("/terms", s.termsPage)
	e.GET("/confirm/:token", s.confirmPage)
	e.POST("/confirm/:token", s.confirmEmail)
	e.POST("/confirm/resend", s.confirmResend)
	e.GET("/setup/:token", s.setupPage)
	e.POST("/setup/:token", s.setupCreate)
	e.GET("/invite/:token", s.invitePage)
	e.POST("/invite/:token", s.inviteAccept)
	e.GET("/forgot", s.forgotPage)
	e.POST("/forgot", s.forgot)
	e.GET("/reset/:token", s.resetPage)
	e.POST("/reset/:token", s.resetSubmit)
	e.POST("/password/check", s.passwordCheck)
	// Sign-in through an organisation's identity provider (oidc.go): the provider's answer, checked there,
	// is the authorisation.
	e.POST("/login/idp", s.idpSignIn)
	e.POST("/invite/:token/idp", s.idpInvite)
	e.GET("/oidc/callback", s.idpCallback)

	// Signed in, first-login steps not necessarily done.
	e.POST("/logout", s.logout, s.signedIn)
	e.POST("/terms", s.termsDecide, s.signedIn)
	e.GET("/confirm/pending", s.confirmPendingPage, s.signedIn)
	e.GET("/welcome/done", s.setupDone, s.signedIn)

	// Signed in with the password, at the second-factor step: these pages and nothing else until it is done.
	verify := []echo.MiddlewareFunc{s.signedIn, s.verifying(toPage)}
	verifyPasskey := []echo.MiddlewareFunc{s.signedIn, s.passkeysOffered, s.verifying(toJSON)}
	e.GET("/mfa", s.mfaPage, verify...)
	e.POST("/mfa", s.mfaVerify, verify...)
	e.POST("/mfa/email/send", s.mfaEmailSend, verify...)
	e.POST("/mfa/passkey/begin", s.mfaPasskeyBegin, verifyPasskey...)
	e.POST("/mfa/passkey/finish", s.mfaPasskeyFinish, verifyPasskey...)

	// Signed in, enrolling a second factor: the first one, or another one right after passing one.
	enrol := []echo.MiddlewareFunc{s.signedIn, s.enrolling(toPage)}
	enrolEmail := []echo.MiddlewareFunc{s.signedIn, s.emailCodesOffered, s.enrolling(toPage)}
	enrolPasskey := []echo.MiddlewareFunc{s.signedIn, s.passkeysOffered, s.enrolling(toJSON)}
	e.GET("/mfa/setup", s.mfaSetupPage, enrol...)
	e.GET("/mfa/setup/totp", s.totpSetupPage, enrol...)
	e.POST("/mfa/setup/totp", s.totpSetup, enrol...)
	e.GET("/mfa/setup/email", s.emailSetupPage, enrolEmail...)
	e.POST("/mfa/setup/email", s.emailSetupSend, enrolEmail...)
	e.POST("/mfa/setup/email/verify", s.emailSetupVerify, enrolEmail...)
	e.POST("/mfa/setup/passkey/begin", s.passkeyRegisterBegin, enrolPasskey...)
	e.POST("/mfa/setup/passkey/finish", s.passkeyRegisterFinish, enrolPasskey...)
	// The recovery codes shown once after enrolling (the handlers check what is pending in the session).
	e.GET("/mfa/recovery", s.recoveryPage, s.signedIn)
	e.GET("/mfa/recovery/codes.txt", s.recoveryDownload, s.signedIn)
	e.POST("/mfa/recovery/done", s.recoveryDone, s.signedIn)

	// Signed in with every step done: their own organisations, profile and security.
	e.GET("/orgs", s.orgsPage, s.complete)
	e.POST("/orgs/switch", s.switchOrg, s.complete)
	e.GET("/profile", s.profilePage, s.complete)
	e.POST("/profile", s.profileUpdate, s.complete)
	e.POST("/profile/avatar", s.avatarUpload, s.complete)
	e.POST("/profile/avatar/remove", s.avatarRemove, s.complete)
	e.GET("/avatar/:id", s.avatarImage, s.complete)
	e.POST("/profile/password", s.passwordChange, s.complete)
	e.POST("/profile/email", s.emailChange, s.complete)
	e.POST("/profile/email/cancel", s.emailChangeCancel, s.complete)
	e.POST("/profile/sessions/end", s.sessionEnd, s.complete)
	e.POST("/profile/sessions/end-others", s.sessionsEndOthers, s.complete)
	e.GET("/security", s.securityPage, s.complete)
	e.GET("/security/confirm", s.securityConfirmPage, s.complete)
	e.POST("/security/confirm", s.securityConfirm, s.complete)
	e.POST("/security/methods/:id/rename", s.renameMethod, s.complete)
	e.GET("/security/methods/:id/remove", s.removeMethodPage, s.complete)
	e.POST("/security/methods/:id/remove", s.removeMethod, s.complete)
	e.POST("/security/idp/:id/link", s.idpLinkStart, s.complete)
	e.POST("/security/recovery", s.regenerateRecovery, s.complete)

	// Members of an organisation (and MSP staff, who see every organisation): every route under orgRoutes, and
	// only those, goes through orgAccess.
	org := []echo.MiddlewareFunc{s.complete, s.orgAccess}
	e.GET("/o/:slug", s.orgHome, org...)
	// The people actions ask accounts, which asks access.Decide with both people's facts.
	e.POST("/o/:slug/people/:id/mfa-reset", s.personMFAReset, org...)
	// Documents (docs_articles.go) and what expires next (expiry.go): members read, staff write.
	orgStaff := []echo.MiddlewareFunc{s.complete, s.orgAccess, s.staffOnly}
	e.GET("/o/:slug/articles", s.articleList, org...)
	e.GET("/o/:slug/articles/new", s.articleEdit, orgStaff...)
	e.POST("/o/:slug/articles", s.articleSave, orgStaff...)
	e.POST("/o/:slug/articles/copy", s.articleCopy, orgStaff...)
	e.GET("/o/:slug/articles/:id", s.articleDetail, org...)
	e.GET("/o/:slug/articles/:id/edit", s.articleEdit, orgStaff...)
	e.POST("/o/:slug/articles/:id", s.articleSave, orgStaff...)
	e.POST("/o/:slug/articles/:id/delete", s.articleDelete, orgStaff...)
	e.GET("/o/:slug/articles/:id/history", s.articleHistory, orgStaff...)
	e.GET("/o/:slug/articles/:id/diff", s.articleDiff, orgStaff...)
	// A document's undo (docs_articles_edit.go), linked items and files (docs_links.go, docs_attachments.go,
	// shared with items): members read and download, staff change.
	e.POST("/o/:slug/articles/:id/restore", s.articleRestore, orgStaff...)
	e.GET("/o/:slug/articles/:id/links/new", s.linkPicker, orgStaff...)
	e.POST("/o/:slug/articles/:id/links", s.linkAdd, orgStaff...)
	e.POST("/o/:slug/articles/:id/links/:other/delete", s.linkRemove, orgStaff...)
	e.POST("/o/:slug/articles/:id/attachments", s.attachmentUpload, orgStaff...) // articleAttachmentRoute
	e.GET("/o/:slug/articles/:id/attachments/:aid", s.attachmentDownload, org...)
	e.GET("/o/:slug/articles/:id/attachments/:aid/view", s.attachmentView, org...)
	e.GET("/o/:slug/articles/:id/attachments/:aid/thumb", s.attachmentThumb, org...)
	e.POST("/o/:slug/articles/:id/attachments/:aid/staff-only", s.attachmentStaffOnly, orgStaff...)
	e.POST("/o/:slug/articles/:id/attachments/:aid/delete", s.attachmentDelete, orgStaff...)
	e.GET("/o/:slug/expiry", s.expiryPage, org...)
	e.POST("/o/:slug/expiry", s.expiryAdd, orgStaff...)
	e.POST("/o/:slug/expiry/:id/delete", s.expiryDelete, orgStaff...)

	// An organisation's managers (and MSP staff): its people, invitations and audit log.
	managers := []echo.MiddlewareFunc{s.complete, s.orgAccess, s.orgManagers}
	e.GET("/o/:slug/people", s.peopleList, managers...)
	e.POST("/o/:slug/people/invite", s.peopleInvite, managers...)
	e.POST("/o/:slug/invitations/:id/resend", s.invitationResend, managers...)
	e.POST("/o/:slug/invitations/:id/revoke", s.invitationRevoke, managers...)
	e.POST("/o/:slug/people/:uid/role", s.personSetRole, managers...)
	e.POST("/o/:slug/people/:uid/remove", s.personRemove, managers...)
	e.POST("/o/:slug/people/:uid/disable", s.personSetDisabled(true), managers...)
	e.POST("/o/:slug/people/:uid/enable", s.personSetDisabled(false), managers...)
	e.GET("/o/:slug/audit", s.orgAudit, managers...)
	e.POST("/o/:slug/expiry/digest", s.expiryDigestSave, managers...)

	// MSP staff.
	staff := []echo.MiddlewareFunc{s.complete, s.staffOnly}
	e.GET("/staff", s.staffHome, staff...)
	e.POST("/staff/orgs", s.staffCreateOrg, staff...)
	e.GET("/staff/people", s.peopleList, staff...)
	e.POST("/staff/users/:id/mfa-reset", s.personMFAReset, staff...)
	e.GET("/staff/templates", s.templateList, staff...)
	e.GET("/staff/templates/new", s.templateEdit, staff...)
	e.POST("/staff/templates", s.templateSave, staff...)
	e.GET("/staff/templates/:id", s.templateEdit, staff...)
	e.POST("/staff/templates/:id", s.templateSave, staff...)
	e.POST("/staff/templates/:id/delete", s.templateDelete, staff...)
	e.GET("/staff/expiry", s.staffExpiry, staff...)
	e.GET("/staff/search", s.staffSearch, staff...) // across every organisation's documentation

	// MSP administrators.
	admin := []echo.MiddlewareFunc{s.complete, s.staffOnly, s.adminOnly}
	e.POST("/staff/people/invite", s.peopleInvite, admin...)
	e.POST("/staff/invitations/:id/resend", s.invitationResend, admin...)
	e.POST("/staff/invitations/:id/revoke", s.invitationRevoke, admin...)
	e.POST("/staff/people/:uid/disable", s.personSetDisabled(true), admin...)
	e.POST("/staff/people/:uid/enable", s.personSetDisabled(false), admin...)
	e.GET("/staff/settings", s.settingsPage, admin...)
	e.POST("/staff/settings", s.settingsSave, admin...)
	e.POST("/staff/settings/terms", s.termsPublish, admin...)
	e.GET("/staff/audit", s.staffAudit, admin...)
	e.GET("/staff/orgs/:slug/idp", s.idpPage, admin...)
	e.POST("/staff/orgs/:slug/idp", s.idpSave, admin...)
	e.POST("/staff/orgs/:slug/idp/delete", s.idpDelete, admin...)
	e.POST("/staff/orgs/:slug/idp/test", s.idpTest, admin...)
	e.POST("/staff/orgs/:slug/idp/identities/:id/unlink", s.idpUnlink, admin...)
	e.GET("/staff/welcome", s.mspSetupPage, admin...)
	e.POST("/staff/welcome", s.mspSetupSave, admin...)
	e.GET("/staff/fields", s.customFieldsPage, admin...)
	e.POST("/staff/fields", s.customFieldCreate, admin...)
	e.GET("/staff/fields/:id", s.customFieldEditPage, admin...)
	e.POST("/staff/fields/:id", s.customFieldUpdate, admin...)
	e.POST("/staff/fields/:id/delete", s.customFieldDelete, admin...)

	// The documentation of an organisation, for its members and MSP staff. Who may write, reveal or see
	// staff-only things is docsapp's rule (docsapp.Viewer), asked by each handler.
	e.GET("/o/:slug/search", s.docsSearch, org...)
	e.GET("/o/:slug/docs/:area", s.docsList, org...)
	e.GET("/o/:slug/docs/:area/new", s.docsNew, org...)
	e.POST("/o/:slug/docs/:area", s.docsCreate, org...)
	e.GET("/o/:slug/docs/:area/:id", s.docsDetail, org...)
	e.GET("/o/:slug/docs/:area/:id/edit", s.docsEdit, org...)
	e.POST("/o/:slug/docs/:area/:id", s.docsUpdate, org...)
	e.POST("/o/:slug/docs/:area/:id/delete", s.docsDelete, org...)
	e.POST("/o/:slug/docs/:area/:id/restore", s.docsRestore, org...)
	e.GET("/o/:slug/docs/:area/:id/history", s.docsHistory, org...)
	e.POST("/o/:slug/docs/:area/:id/secret/:field", s.docsReveal, org...)
	e.POST("/o/:slug/docs/:area/:id/copy/:field", s.docsCopy, org...)
	e.POST("/o/:slug/docs/:area/:id/copied/:field", s.docsCopied, org...)
	e.POST("/o/:slug/docs/:area/:id/qr", s.docsQR, org...)
	e.POST("/o/:slug/docs/:area/:id/versions/:vid/secret/:field", s.docsRevealVersion, org...)
	e.POST("/o/:slug/docs/:area/:id/conf", s.docsConfDownload, org...)
	// Related items and attachments (docs_links.go, docs_attachments.go); limitBody gives the upload
	// (attachmentRoute) the attachment size limit.
	e.GET("/o/:slug/docs/:area/:id/links/new", s.linkPicker, org...)
	e.POST("/o/:slug/docs/:area/:id/links", s.linkAdd, org...)
	e.POST("/o/:slug/docs/:area/:id/links/:other/delete", s.linkRemove, org...)
	e.POST(attachmentRoute, s.attachmentUpload, org...)
	e.GET("/o/:slug/docs/:area/:id/attachments/:aid", s.attachmentDownload, org...)
	e.GET("/o/:slug/docs/:area/:id/attachments/:aid/view", s.attachmentView, org...)
	e.GET("/o/:slug/docs/:area/:id/attachments/:aid/thumb", s.attachmentThumb, org...)
	e.POST("/o/:slug/docs/:area/:id/attachments/:aid/staff-only", s.attachmentStaffOnly, org...)
	e.POST("/o/:slug/docs/:area/:id/attachments/:aid/delete", s.attachmentDelete, org...)
	// The lists' bulk actions (docs_bulk.go).
	e.POST("/o/:slug/docs/:area/bulk", s.bulkAction, org...)
	e.GET("/o/:slug/docs/:area/bulk/link", s.bulkLinkPicker, org...)
	e.POST("/o/:slug/docs/:area/bulk/link", s.bulkLink, org...)
	e.POST("/o/:slug/docs/:area/bulk/restore", s.bulkRestore, org...)
	// CSV export and import, the printable emergency handbook.
	e.GET("/o/:slug/export/:area", s.docsExport, org...)
	e.GET("/o/:slug/import/:area", s.docsImportPage, org...)
	e.POST("/o/:slug/import/:area", s.docsImport, org...)
	e.GET("/o/:slug/import/:area/template", s.docsImportTemplate, org...)
	e.POST("/o/:slug/import/:area/confirm", s.docsImportConfirm, org...)
	e.GET("/o/:slug/handbook", s.handbook, org...)
	e.POST("/o/:slug/handbook", s.handbook, org...)
	// A path under an organisation that names no page passes the same checks before its 404, so a
	// signed-out visitor is sent to sign in and a stranger learns nothing about which paths exist.
	e.RouteNotFound("/o/:slug", nil, org...)
	e.RouteNotFound("/o/:slug/*", nil, org...)
}
