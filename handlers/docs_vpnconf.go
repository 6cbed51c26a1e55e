package handlers

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v5"
)

// docsConfDownload sends a WireGuard configuration as a .conf file (see docsapp.Service.Conf). The file
// holds the private key, so it is a POST (no link to leak, no prefetch) and no-store.
func (s *Server) docsConfDownload(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	f, err := s.docs.Conf(c.Request().Context(), r.v, r.area, itemID(c))
	if err != nil {
		return err
	}
	noStore(c)
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	return c.Blob(http.StatusOK, "application/octet-stream", f.Data)
}
