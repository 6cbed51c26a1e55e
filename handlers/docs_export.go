package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v5"
)

// docsExport sends one area as CSV, without secrets (see docsapp.Service.Export).
func (s *Server) docsExport(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	data, err := s.docs.Export(c.Request().Context(), r.v, r.area, c.QueryParam("sep"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, r.org.Slug, r.area.Name))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", data)
}
