package handlers

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v5"

	"portier/docsapp"
	"portier/views"
)

func (s *Server) docsImportPage(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.v.CanImport() {
		return docsapp.ErrForbidden
	}
	return s.renderImport(c, r, http.StatusOK, views.ImportView{})
}

// maxImportProblems is how many problems of a refused import the page lists.
const maxImportProblems = 50

// docsImport checks a CSV file for one area and shows what it would import (importPreview); nothing is
// stored before the confirmation, and then every line or none.
func (s *Server) docsImport(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.v.CanImport() {
		return docsapp.ErrForbidden // before the upload is read
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return s.renderImport(c, r, http.StatusUnprocessableEntity, views.ImportView{ErrorKey: "docs.import.err_nofile"})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUploadBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxUploadBody {
		return echo.ErrStatusRequestEntityTooLarge
	}
	d, err := s.docs.ImportPreview(c.Request().Context(), r.v, r.area, data)
	if refused := (*docsapp.ImportError)(nil); errors.As(err, &refused) {
		v := views.ImportView{ErrorKey: refused.Key}
		for _, p := range refused.Problems[:min(len(refused.Problems), maxImportProblems)] {
			v.Problems = append(v.Problems, importProblemView(r.l, p))
		}
		return s.renderImport(c, r, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return s.importPreview(c, r, d)
}

func (s *Server) renderImport(c *echo.Context, r *docReq, status int, v views.ImportView) error {
	nav, err := s.nav(c, r, "")
	if err != nil {
		return err
	}
	v.Nav, v.TitleKey, v.Action, v.BackHref = nav, r.area.TitleKey(), "/o/"+r.org.Slug+"/import/"+r.area.Name, r.base
	v.Templates = importTemplates(v.Action)
	for _, f := range docsapp.ImportColumns(r.area) {
		v.Columns = append(v.Columns, views.ImportColumn{Name: f.Name, LabelKey: f.LabelKey(r.area.Name), Required: f.Required, Secret: f.IsSecret()})
	}
	return s.render(c, status, views.Import(s.shell(c, r.l.T("docs.import.title", "area", r.l.T(r.area.TitleKey()))), v), nil)
}
