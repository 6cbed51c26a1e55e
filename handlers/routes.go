package handlers

// routes is the whole route table, grouped by who may call it.
func (s *Server) routes() {
	e := s.e
	// Outermost first: log (and turn errors into pages), headers, language, cross-site check, body limit,
	// session, the signed-in person.
	e.Use(s.logRequests, s.securityHeaders, s.locale, s.crossOrigin, s.limitBody, s.sessionMiddleware, s.loadUser)

	// Anyone.
	e.GET("/", s.welcome)
	e.POST("/lang", s.setLanguage)
	e.POST("/theme", s.setTheme)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/:name", s.staticFile)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	e.GET("/terms", s.termsPage)
	e.GET("/confirm/:token", s.confirmEmail)
	e.POST("/confirm/resend", s.confirmResend)
	e.GET("/setup/:token", s.setupPage)
	e.POST("/setup/:token", s.setupCreate)
	s.firstLoginRoutes() // /invite/:token, /forgot, /reset/:token, /password/check
	s.mfaRoutes()        // /mfa…, /login/passkey/…, /security…, second-factor resets
	s.idpRoutes()        // /login/idp, /invite/:token/idp, /oidc/callback, /staff/orgs/:slug/idp…

	// Signed in, first-login steps not necessarily done.
	e.POST("/logout", s.logout, s.signedIn)
	e.POST("/terms", s.termsDecide, s.signedIn)
	e.GET("/confirm/pending", s.confirmPendingPage, s.signedIn)
	e.GET("/welcome/done", s.setupDone, s.signedIn)

	// Signed in with every step done.
	e.GET("/orgs", s.orgsPage, s.complete)
	e.POST("/orgs/switch", s.switchOrg, s.complete)
	s.profileRoutes()
	s.staffRoutes()
	s.mspSetupRoutes()
	s.docsRoutes()
	s.docsIORoutes()
	s.docsDailyRoutes()
	s.articleRoutes()
	s.customFieldRoutes()
	s.expiryRoutes()
	s.connectRoutes() // related items, attachments, bulk actions (docs_links.go)
}
