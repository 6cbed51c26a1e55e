package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The import rules of docs/architecture.md. Dependencies point one way: main → handlers → the application
// layer → db; echo stays at the edge; only db speaks SQL.

const (
	echoPath   = "github.com/labstack/echo/v5"
	sqlitePath = "modernc.org/sqlite"
)

// appPackages are the application layer: rules and transactions, no HTTP and no pages.
var appPackages = []string{"portier/accounts", "portier/audit", "portier/docsapp", "portier/signin"}

// allowedPortier lists, for each package, the packages of this module it may import. A package missing
// here fails the test, so a new one gets its place in the layers on purpose.
var allowedPortier = map[string][]string{
	"portier":          nil, // main wires everything
	"portier/handlers": {"portier/access", "portier/accounts", "portier/admit", "portier/audit", "portier/auth", "portier/avatar", "portier/db", "portier/docs", "portier/docsapp", "portier/i18n", "portier/idp", "portier/mail", "portier/mailtext", "portier/markdown", "portier/signin", "portier/static", "portier/views"},
	"portier/accounts": {"portier/access", "portier/audit", "portier/auth", "portier/db", "portier/mail"},
	"portier/audit":    {"portier/access", "portier/admit", "portier/db"},
	"portier/docsapp":  {"portier/admit", "portier/db", "portier/docs", "portier/i18n", "portier/mail", "portier/markdown"}, // the documentation's rules and transactions (markdown: a document body's limit and preview; mail: the digest's message type)
	"portier/signin":   {"portier/audit", "portier/auth", "portier/db", "portier/mail"},
	"portier/mailtext": {"portier/db", "portier/docsapp", "portier/i18n", "portier/mail", "portier/views"}, // docsapp: the expiry digest's content, as docsapp.Mails hands it over
	"portier/mail":     {"portier/db"},
	"portier/views":    {"portier/i18n"},
	"portier/bench":    {"portier/auth", "portier/avatar", "portier/db", "portier/docs"},
	"portier/db":       {},
	"portier/access":   {},
	"portier/auth":     {"portier/admit"}, // hashing waits outside the page gate
	"portier/admit":    {},                // the page gate: a few requests at a time, the rest in arrival order
	"portier/avatar":   {},
	"portier/docs":     {},
	"portier/i18n":     {},
	"portier/idp":      {}, // OpenID Connect with Microsoft Entra ID and Google: discovery, tokens, claims
	"portier/markdown": {}, // the documents' Markdown, rendered safely
	"portier/static":   {},
	"portier/deploy":   {},
	"portier/testkit":  {"portier/i18n"}, // tests only; the test clock starts in the people's default zone
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestArchitectureImports(t *testing.T) {
	for _, p := range listPackages(t) {
		allowed, known := allowedPortier[p.ImportPath]
		if !known {
			t.Errorf("%s has no place in the layers (arch_test.go allowedPortier, docs/architecture.md)", p.ImportPath)
		}
		for _, imp := range p.Imports {
			switch {
			case imp == echoPath && p.ImportPath != "portier" && p.ImportPath != "portier/handlers":
				t.Errorf("%s imports echo: only handlers and main may", p.ImportPath)
			case strings.HasPrefix(imp, sqlitePath) && p.ImportPath != "portier/db":
				t.Errorf("%s imports the SQLite driver %s: only db may", p.ImportPath, imp)
			case strings.HasPrefix(imp, "portier/") && p.ImportPath != "portier" && !slices.Contains(allowed, imp):
				t.Errorf("%s imports %s, against the layers (arch_test.go allowedPortier)", p.ImportPath, imp)
			}
		}
		if slices.Contains(appPackages, p.ImportPath) {
			for _, dep := range p.Deps {
				if dep == echoPath || dep == "portier/views" || dep == "portier/handlers" || dep == "github.com/a-h/templ" {
					t.Errorf("application package %s depends on %s", p.ImportPath, dep)
				}
			}
		}
	}
}

// sqlLiteral is a string that starts like a statement.
var sqlLiteral = regexp.MustCompile(`^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s`)

// sqlElsewhere lists files outside db/ that still hold SQL, each with the reason. Empty is the goal.
var sqlElsewhere = map[string]string{}

func TestSQLOnlyInDB(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "db" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && sqlLiteral.MatchString(s) {
				if _, ok := sqlElsewhere[filepath.ToSlash(path)]; !ok {
					t.Errorf("%s holds SQL (%.40q): SQL belongs in db/", path, s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The account commands call the application layer; building the HTTP server to invite someone is what
// they used to do.
func TestAccountCommandsUseTheApplicationLayer(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "cmd_accounts.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "portier/handlers" {
			t.Error("cmd_accounts.go imports handlers: the commands must go through accounts, not the web server")
		}
	}
}

// The handlers are handed the application services (handlers.Services); main builds them (services.go),
// the same way for the web and the command line. A handler building one would be a second construction
// path with its own dependencies.
func TestHandlersBuildNoServices(t *testing.T) {
	constructors := map[string]bool{"accounts.New": true, "signin.New": true, "signin.NewPasskeys": true, "audit.New": true,
		"docsapp.New": true, "mailtext.New": true, "mailtext.LoadCurrentMSP": true}
	files, err := filepath.Glob("handlers/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && constructors[pkg.Name+"."+sel.Sel.Name] {
				t.Errorf("%s: handlers call %s.%s: main builds the application services", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
			}
			return true
		})
	}
}

// Who belongs where, and with which role, changes only through the application layer (accounts), where
// each change asks the policy inside its transaction and withdraws the invitations it leaves unbacked: no
// handler or command writes memberships, staff roles, disabled accounts or invitations with the db package
// directly. (bench generates its data set, before any server runs.) The check reads types, not spellings:
// a variable holding the DB, another name for the package or a method value reaches the same function
// and is caught as well.
//
// And the operator's authority (access.Operator: an administrator's, without an account behind it) is the
// command line's alone: a handler that built it, or set Person.Operator, would hand a web request the
// operator's rights, which decideTx takes without reading anyone's facts.
func TestPeopleChangeOnlyThroughAccounts(t *testing.T) {
	writes := map[string]bool{"SetMemberRole": true, "RemoveMember": true, "SetDisabled": true, "DisableUnlessLastAdmin": true,
		"SetMembership": true, "SetStaffRole": true, "CreateInvitation": true, "ReissueInvitation": true, "WithdrawInvitation": true,
		"RevokeInvitation": true, "AcceptInvitation": true, "AcceptInvitationID": true}
	operatorMay := map[string]bool{"portier": true, "portier/access": true, "portier/accounts": true, "portier/audit": true}
	for _, p := range typedPackages(t) {
		if p.path == "portier/db" || p.path == "portier/accounts" || p.path == "portier/bench" {
			continue
		}
		for id, obj := range p.info.Uses {
			if obj.Pkg() == nil {
				continue
			}
			switch o := obj.(type) {
			case *types.Func:
				if o.Pkg().Path() == "portier/db" && writes[o.Name()] {
					t.Errorf("%s: db's %s outside accounts", p.fset.Position(id.Pos()), o.FullName())
				}
				if o.Pkg().Path() == "portier/access" && o.Name() == "Operator" && !operatorMay[p.path] {
					t.Errorf("%s: access.Operator outside the command line", p.fset.Position(id.Pos()))
				}
			case *types.Var:
				if o.IsField() && o.Pkg().Path() == "portier/access" && o.Name() == "Operator" && !operatorMay[p.path] {
					t.Errorf("%s: access.Person's Operator outside the command line", p.fset.Position(id.Pos()))
				}
			}
		}
		// Files another platform builds are not type-checked here: for them, any selector with one of
		// these names is refused, whatever it reaches.
		for _, name := range p.otherPlatforms {
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok && (writes[sel.Sel.Name] || sel.Sel.Name == "Operator") {
					t.Errorf("%s (built on another platform): .%s", name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

type typedPackage struct {
	path           string
	fset           *token.FileSet
	info           *types.Info
	otherPlatforms []string // files left out by build constraints on this platform
}

// typedPackages type-checks the module's packages (without their tests) from source, importing their
// dependencies from the export data go list -export leaves in the build cache: a few seconds.
func typedPackages(t *testing.T) []typedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-export", "-deps", "-json=ImportPath,Export,Dir,GoFiles,IgnoredGoFiles,Module", "./...").Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	type listed struct {
		ImportPath, Export, Dir string
		GoFiles, IgnoredGoFiles []string
		Module                  *struct{ Path string }
	}
	exports := map[string]string{}
	var own []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var l listed
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		exports[l.ImportPath] = l.Export
		if l.Module != nil && l.Module.Path == "portier" {
			own = append(own, l)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	var pkgs []typedPackage
	for _, l := range own {
		var files []*ast.File
		for _, name := range l.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(l.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
		if _, err := (&types.Config{Importer: imp}).Check(l.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-checking %s: %v", l.ImportPath, err)
		}
		p := typedPackage{path: l.ImportPath, fset: fset, info: info}
		for _, name := range l.IgnoredGoFiles {
			if !strings.HasSuffix(name, "_test.go") {
				p.otherPlatforms = append(p.otherPlatforms, filepath.Join(l.Dir, name))
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
