package handlers

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"portier/db"
)

// registering names the echo methods that add a route or a group of routes.
var registering = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true,
	"OPTIONS": true, "CONNECT": true, "TRACE": true, "Any": true, "Match": true, "Group": true, "RouteNotFound": true,
	"AddRoute": true, "Static": true, "StaticFS": true, "File": true, "FileFS": true}

// Every route the server answers is written out in routes.go, and no other file registers one.
func TestRouteTableIsComplete(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{} // the package's string constants, for a route named by one
	files := map[string]*ast.File{}
	for _, en := range entries {
		name := en.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	listed := map[string]bool{}
	for name, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !registering[sel.Sel.Name] {
				return true
			}
			if name != "routes.go" {
				t.Errorf("%s: %s registers routes outside routes.go", fset.Position(call.Pos()), sel.Sel.Name)
				return true
			}
			if sel.Sel.Name == "Group" {
				t.Errorf("%s: a group hides its middleware from the route's line", fset.Position(call.Pos()))
			}
			if len(call.Args) < 2 {
				return true
			}
			var path string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				path, _ = strconv.Unquote(a.Value)
			case *ast.Ident:
				path = consts[a.Name]
			}
			method := sel.Sel.Name
			if method == "RouteNotFound" {
				method = "echo_route_not_found"
			}
			listed[method+" "+path] = true
			return true
		})
	}
	e := newTestEnv(t)
	n := 0
	for _, r := range e.srv.e.Router().Routes() {
		n++
		if !listed[r.Method+" "+r.Path] {
			t.Errorf("%s %s is registered outside routes.go", r.Method, r.Path)
		}
	}
	if n < 150 {
		t.Errorf("only %d routes registered", n)
	}
}

// A path under an organisation that names no page passes the organisation's checks first: a signed-out
// visitor is sent to sign in, as for a page that exists, and only a member learns it is not there.
func TestUnknownPathUnderAnOrganisationPassesItsChecks(t *testing.T) {
	e := newTestEnv(t)
	org := e.createOrg("Acme", "acme")
	known, _ := e.get("/o/acme/docs/devices", nil)
	resp, _ := e.get("/o/acme/no-such-page", nil)
	if resp.StatusCode != known.StatusCode || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") || known.StatusCode != 303 {
		t.Fatalf("signed out: %d %q, want what a known page answers: %d %q", resp.StatusCode, resp.Header.Get("Location"), known.StatusCode, known.Header.Get("Location"))
	}
	e.createUser("member@acme.example", "Mia Member", "", map[int64]string{org.ID: "viewer"})
	e.login("member@acme.example", testPassword)
	if resp, _ := e.get("/o/acme/no-such-page", nil); resp.StatusCode != 404 {
		t.Fatalf("member: %d, want 404", resp.StatusCode)
	}
}

// In routes.go every route whose path is under orgRoutes names a middleware list with s.orgAccess in it, and
// no other route does: the session is read with the route's organisation only under orgRoutes, so a route
// elsewhere would have orgAccess fail (500), and one under /o/ without it would have no organisation check.
func TestOrgAccessGuardsExactlyTheOrgRoutes(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	isOrgAccess := func(x ast.Expr) bool {
		sel, ok := x.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "orgAccess"
	}
	guarded := map[string]bool{} // the middleware lists holding s.orgAccess
	ast.Inspect(f, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		for i, rhs := range as.Rhs {
			if cl, ok := rhs.(*ast.CompositeLit); ok && i < len(as.Lhs) {
				for _, el := range cl.Elts {
					if isOrgAccess(el) {
						guarded[as.Lhs[i].(*ast.Ident).Name] = true
					}
				}
			}
		}
		return true
	})
	if len(guarded) < 3 {
		t.Fatalf("middleware lists with orgAccess: %v", guarded)
	}
	checked := 0
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !registering[sel.Sel.Name] || len(call.Args) < 2 {
			return true
		}
		path := ""
		switch a := call.Args[0].(type) {
		case *ast.BasicLit:
			path, _ = strconv.Unquote(a.Value)
		case *ast.Ident:
			if a.Name == "attachmentRoute" {
				path = attachmentRoute
			} else if a.Name == "articleAttachmentRoute" {
				path = articleAttachmentRoute
			} else {
				t.Errorf("%s: route named by %s: add it to this test", fset.Position(call.Pos()), a.Name)
			}
		}
		uses := false
		for _, a := range call.Args[2:] {
			if id, ok := a.(*ast.Ident); ok && guarded[id.Name] || isOrgAccess(a) {
				uses = true
			}
		}
		under := path == orgRoutes || strings.HasPrefix(path, orgRoutes+"/")
		if strings.HasPrefix(path, "/o/") != under {
			t.Errorf("%s: %s is under /o/ but not under %s", fset.Position(call.Pos()), path, orgRoutes)
		}
		if uses != under {
			t.Errorf("%s: %s %s: under orgRoutes %v, through orgAccess %v", fset.Position(call.Pos()), sel.Sel.Name, path, under, uses)
		}
		checked++
		return true
	})
	if checked < 150 {
		t.Fatalf("only %d routes checked", checked)
	}
}

// Every route under orgRoutes — pages, forms, htmx fragments, downloads, export, import, search, handbook,
// people and audit, the unknown paths — with every method it answers, asked by someone the organisation
// of the path is not theirs to see: a customer of the other organisation (also with the slug written in
// other cases or escaped), and staff asking for an organisation that does not exist. Each answers 404 with
// nothing of the organisation in it, and changes nothing.
func TestEveryOrgRouteRefusesWhoeverItIsNotFor(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	before := func() [3]int {
		return [3]int{countRows(t, e, `SELECT count(*) FROM doc_items WHERE org_id = ?`, f.b.ID),
			countRows(t, e, `SELECT count(*) FROM audit WHERE org_id IS NOT NULL`), countRows(t, e, `SELECT count(*) FROM invitations`)}
	}
	start := before()
	type outsider struct {
		who    string
		u      *db.User
		slugs  []string
		id     int64    // an item of the organisation asked for
		hidden []string // what the answers must not show
	}
	for _, o := range []outsider{
		{"Vera, viewer of Alpha", f.viewer, []string{"beta", "BETA", "Beta", "%62eta", "beta%2F", "alpha%2F..%2Fbeta"}, f.bItem, []string{"Beta AG", marker}},
		{"Mia, manager of Alpha", f.mgr, []string{"beta", "ALPHA"}, f.bItem, []string{"Beta AG", marker}},
		{"Stefan, viewer of Beta", f.stranger, []string{"alpha", "Alpha"}, f.items["passwords"], []string{"Alpha GmbH", "NAS admin", marker}},
		{"the technician", f.tech, []string{"nope", "ALPHA"}, f.items["passwords"], []string{"Alpha GmbH", "Beta AG", "NAS admin", marker}},
	} {
		f.as(o.u)
		n := 0
		for _, r := range e.srv.e.Router().Routes() {
			if r.Path != orgRoutes && !strings.HasPrefix(r.Path, orgRoutes+"/") {
				continue
			}
			methods := []string{r.Method}
			if r.Method == "echo_route_not_found" {
				methods = []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut}
			}
			for _, slug := range o.slugs {
				path := routeURL(r.Path, r.Parameters, map[string]string{"slug": slug, "id": itoa64(o.id),
					"uid": itoa64(f.stranger.ID), "area": "passwords", "field": "password", "*": "x/y"})
				for _, m := range methods {
					for _, hdr := range []map[string]string{nil, {"HX-Request": "true"}} {
						resp, body := e.do(m, path, strings.NewReader("name=x&role=manager&email=x%40y.example"), hdr)
						n++
						if resp.StatusCode != http.StatusNotFound {
							t.Errorf("%s: %s %s (%s): %d, want 404", o.who, m, path, r.Path, resp.StatusCode)
						}
						for _, bad := range o.hidden {
							if strings.Contains(body, bad) {
								t.Errorf("%s: %s %s: the answer names %q", o.who, m, path, bad)
							}
						}
					}
				}
			}
		}
		if n < 150 {
			t.Fatalf("%s: only %d requests", o.who, n)
		}
	}
	if now := before(); now != start {
		t.Fatalf("items of Beta, audit entries, invitations: %v before, %v after", start, now)
	}
}

// HEAD is answered as GET without the body, on every GET route (RFC 9110; uptime monitors ask with HEAD):
// before, every one answered 405. Signed out and as an administrator; the log names the HEAD.
func TestHeadAnswersAsGet(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	for _, path := range []string{"/healthz", "/readyz", "/login"} {
		resp, body := e.do(http.MethodHead, path, nil, nil)
		if resp.StatusCode != http.StatusOK || body != "" {
			t.Errorf("signed out: HEAD %s: %d with %d bytes", path, resp.StatusCode, len(body))
		}
	}
	if !strings.Contains(e.logBuf.String(), "method=HEAD route=/healthz") {
		t.Errorf("the log does not name the HEAD: %s", e.logBuf.String())
	}
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	f.as(admin)
	pw := itoa64(f.items["passwords"])
	checked := 0
	for _, r := range e.srv.e.Router().Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		path := routeURL(r.Path, r.Parameters, map[string]string{"slug": "alpha", "id": pw, "uid": itoa64(f.viewer.ID),
			"area": "passwords", "field": "password", "token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
		get, _ := e.get(path, nil)
		head, body := e.do(http.MethodHead, path, nil, nil)
		if head.StatusCode != get.StatusCode || body != "" {
			t.Errorf("HEAD %s (%s): %d with %d bytes; GET: %d", path, r.Path, head.StatusCode, len(body), get.StatusCode)
		}
		if get.StatusCode == http.StatusOK && head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: Content-Type %q, GET %q", path, head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
		}
		checked++
	}
	if checked < 60 {
		t.Fatalf("only %d GET routes", checked)
	}
}

// Opening a confirmation link uses nothing up: mail scanners and link checkers open links (GET and HEAD)
// before, or instead of, the person. Before, the GET itself switched the address, so a scanner's visit
// left the person a "link already used" page. Forty opens of each kind at once leave the address waiting
// and no audit entry; the page names the address and the button confirms it; afterwards GET and HEAD say
// the link is used.
func TestOpeningAConfirmationLinkUsesNothing(t *testing.T) {
	e := newTestEnv(t)
	u, link := pendingAddressLink(t, e)
	resp, page := e.get(link, map[string]string{"Accept-Language": "de"})
	d := doc(t, page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(d.Find(`[data-testid="confirm-ask"]`).Text(), "neu@muster.example") ||
		d.Find(`[data-testid="confirm-submit"]`).Text() != "E-Mail-Adresse bestätigen" {
		t.Fatalf("the link's page: %d %.400s", resp.StatusCode, page)
	}
	if resp, body := e.do(http.MethodHead, link, nil, nil); resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("HEAD of a live link: %d with %d bytes", resp.StatusCode, len(body))
	}
	got := e.fire(burst, func(i int) (answer, error) {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodHead
		}
		req, err := http.NewRequest(method, e.URL(link), nil)
		if err != nil {
			return answer{}, err
		}
		resp, err := newBrowser().Do(req)
		if err != nil {
			return answer{}, err
		}
		resp.Body.Close()
		return answer{resp.StatusCode, location(resp)}, nil
	})
	if n := countStatus(got, http.StatusOK); n != burst {
		t.Fatalf("opening a live link: %v, want %d × 200", got, burst)
	}
	if n := countRows(t, e, `SELECT count(*) FROM audit WHERE action = 'email.confirmed'`); n != 0 {
		t.Fatalf("opening the link confirmed the address (%d audit entries)", n)
	}
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE id = ? AND email = 'alt@muster.example' AND pending_email = 'neu@muster.example'`, u.ID); n != 1 {
		t.Fatal("opening the link changed the address")
	}
	if resp, body := e.confirmAddress(t, link, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="confirm-done"`) {
		t.Fatalf("the click after the opens: %d", resp.StatusCode)
	}
	if n := countRows(t, e, `SELECT count(*) FROM users WHERE id = ? AND email = 'neu@muster.example' AND pending_email IS NULL`, u.ID); n != 1 {
		t.Fatal("the button did not switch the address")
	}
	get, gone := e.get(link, nil)
	if head, body := e.do(http.MethodHead, link, nil, nil); get.StatusCode != http.StatusGone || head.StatusCode != http.StatusGone ||
		body != "" || head.Header.Get("Content-Length") != strconv.Itoa(len(gone)) {
		t.Fatalf("a used link: GET %d, HEAD %d with %d bytes and Content-Length %q (the GET's page: %d bytes)", get.StatusCode,
			head.StatusCode, len(body), head.Header.Get("Content-Length"), len(gone))
	}
	if !strings.Contains(e.logBuf.String(), "method=HEAD route=/confirm/:token status=200") {
		t.Errorf("the log does not name the HEAD of the link: %s", e.logBuf.String())
	}
	if strings.Contains(e.logBuf.String(), link) {
		t.Error("the link reached the log")
	}
}

// A HEAD that fails is logged as a HEAD in the error line too (the line a person reads first), and its
// answer has the GET's status and the length of the GET's error page, without the page.
func TestHeadFailureIsLoggedAsHead(t *testing.T) {
	e := newTestEnv(t)
	e.srv.e.GET("/test/boom", func(c *echo.Context) error { return errors.New("boom") })
	get, page := e.get("/test/boom", nil)
	head, body := e.do(http.MethodHead, "/test/boom", nil, nil)
	if get.StatusCode != http.StatusInternalServerError || head.StatusCode != get.StatusCode || body != "" ||
		head.Header.Get("Content-Length") != strconv.Itoa(len(page)) {
		t.Fatalf("GET %d (%d bytes), HEAD %d with %d bytes and Content-Length %q", get.StatusCode, len(page), head.StatusCode,
			len(body), head.Header.Get("Content-Length"))
	}
	log := e.logBuf.String()
	if !strings.Contains(log, `msg="request failed" method=HEAD route=/test/boom`) || !strings.Contains(log, "method=HEAD route=/test/boom status=500") {
		t.Fatalf("the HEAD's failure is not logged as a HEAD:\n%s", log)
	}
}
