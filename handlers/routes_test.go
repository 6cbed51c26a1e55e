package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// Every route the server answers is written out in routes.go, except the documentation routes that
// docsRoutes and docsIORoutes still register (see the comment in routes.go).
func TestRouteTableIsComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "GET" && sel.Sel.Name != "POST") {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok {
			p, _ := strconv.Unquote(lit.Value)
			listed[sel.Sel.Name+" "+p] = true
		}
		return true
	})
	docs := func(path string) bool {
		for _, p := range []string{"/o/:slug/docs/", "/o/:slug/search", "/o/:slug/export/", "/o/:slug/import/", "/o/:slug/handbook", "/staff/search"} {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
	e := newTestEnv(t)
	n := 0
	for _, r := range e.srv.e.Router().Routes() {
		if r.Method != "GET" && r.Method != "POST" {
			continue
		}
		n++
		if !listed[r.Method+" "+r.Path] && !docs(r.Path) {
			t.Errorf("%s %s is registered outside routes.go", r.Method, r.Path)
		}
	}
	if n < 100 {
		t.Errorf("only %d routes registered", n)
	}
}
