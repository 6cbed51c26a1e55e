package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
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
