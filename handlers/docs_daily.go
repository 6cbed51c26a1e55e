package handlers

// docsDailyRoutes registers what daily work with the documentation needs beyond the basic pages.
func (s *Server) docsDailyRoutes() {
	g := s.e.Group("/o/:slug", s.complete, s.orgAccess)
	g.POST("/docs/:area/:id/conf", s.docsConfDownload)
	g.GET("/import/:area/template", s.docsImportTemplate)
	g.POST("/import/:area/confirm", s.docsImportConfirm)
}
