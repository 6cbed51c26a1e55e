package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/views"
)

// docsSearch searches the organisation's documentation.
func (s *Server) docsSearch(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	q, items, err := s.docs.Search(c.Request().Context(), r.v, c.QueryParam("q"))
	if err != nil {
		return err
	}
	nav, err := s.nav(c, r, q)
	if err != nil {
		return err
	}
	v := views.SearchView{Nav: &nav, Query: q, Action: "/o/" + r.org.Slug + "/search"}
	// Words that name an area ("Passwörter", "VPN") lead to it, with its count (read only then).
	if named := docs.AreasFor(q); len(named) > 0 {
		counts, err := s.docs.Counts(c.Request().Context(), r.v.Scope())
		if err != nil {
			return err
		}
		links := menuNav(r.org, counts, "", "").Areas
		for _, a := range named {
			for _, link := range links {
				if link.Name == a.Name {
					v.Areas = append(v.Areas, link)
				}
			}
		}
	}
	terms := db.NewSearchTerms(q)
	for _, it := range items {
		v.Results = append(v.Results, searchResult(it, terms))
	}
	found, err := s.docs.SearchDocuments(c.Request().Context(), r.v, q, false)
	if err != nil {
		return err
	}
	v.Results = append(v.Results, documentResults(found, terms)...)
	return s.render(c, http.StatusOK, views.Search(s.shell(c, r.l.T("docs.search.title")), v), nil)
}

// documentResults are the documents a search found, after the items, each with the body's line that
// matched.
func documentResults(found []*db.ArticleHit, q db.SearchTerms) []views.SearchResult {
	out := make([]views.SearchResult, 0, len(found))
	for _, a := range found {
		res := views.SearchResult{Href: articleHref(a.OrgSlug, a.ID), Name: a.Title, AreaKey: "articles.title", OrgName: a.OrgName}
		if q.Hits(a.Body) {
			res.Matches = []views.SearchMatch{{LabelKey: "articles.field.body", Text: excerpt(a.Body, q)}}
		}
		out = append(out, res)
	}
	return out
}

// staffSearch searches every organisation (staff only).
func (s *Server) staffSearch(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	q, items, err := s.docs.SearchAll(c.Request().Context(), r.v, c.QueryParam("q"))
	if err != nil {
		return err
	}
	v := views.SearchView{Query: q, Action: "/staff/search", ShowOrg: true}
	terms := db.NewSearchTerms(q)
	for _, it := range items {
		v.Results = append(v.Results, searchResult(it, terms))
	}
	found, err := s.docs.SearchDocuments(c.Request().Context(), r.v, q, true)
	if err != nil {
		return err
	}
	v.Results = append(v.Results, documentResults(found, terms)...)
	return s.render(c, http.StatusOK, views.Search(s.shell(c, r.l.T("docs.search.title")), v), nil)
}

// searchResult is one result with the fields that matched q.
func searchResult(it *db.DocItem, q db.SearchTerms) views.SearchResult {
	a, _ := docs.ByName(it.Area)
	return views.SearchResult{Href: "/o/" + it.OrgSlug + "/docs/" + it.Area + "/" + strconv.FormatInt(it.ID, 10),
		Name: it.Name, AreaKey: a.TitleKey(), OrgName: it.OrgName, Matches: searchMatches(it, q)}
}
