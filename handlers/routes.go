package handlers

// routes is the whole route table, grouped by who may call it.
func (s *Server) routes() {
	e := s.e
	// Outermost first: log (and turn errors into pages), headers, language, cross-site check, body limit,
	// session.
	e.Use(s.logRequests, s.securityHeaders, s.locale, s.crossOrigin, s.limitBody, s.sessionMiddleware)

	// Anyone.
	e.GET("/", s.welcome)
	e.POST("/lang", s.setLanguage)
	e.POST("/theme", s.setTheme)
	e.GET("/healthz", s.healthz)
	e.GET("/static/:name", s.staticFile)
}
