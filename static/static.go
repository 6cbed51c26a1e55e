// Package static embeds the files the browser loads (vendored htmx and Pico CSS, our CSS and the little
// JavaScript that must exist) and serves them under content-hashed names, so they can be cached for a year
// and a new release is never served stale.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed *.js *.css *.svg
var files embed.FS

// Asset is one embedded file.
type Asset struct {
	Name        string // logical name, e.g. "app.css"
	Hashed      string // served name, e.g. "app.3f2a1b9c0d.css"
	ContentType string
	Body        []byte
}

// Assets maps logical and hashed names to their files.
type Assets struct {
	byName   map[string]*Asset
	byHashed map[string]*Asset
}

// Load hashes every embedded file once at start-up.
func Load() (*Assets, error) {
	a := &Assets{byName: map[string]*Asset{}, byHashed: map[string]*Asset{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		as := &Asset{
			Name:        p,
			Hashed:      strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
			ContentType: mime.TypeByExtension(ext),
			Body:        b,
		}
		a.byName[p] = as
		a.byHashed[as.Hashed] = as
		return nil
	})
	return a, err
}

// URL returns the path under which the logical file name is served. An unknown name is a programming
// error and panics in tests rather than rendering a broken link.
func (a *Assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return "/static/" + as.Hashed
}

// ByHashed finds a file by its served name.
func (a *Assets) ByHashed(name string) (*Asset, bool) {
	as, ok := a.byHashed[name]
	return as, ok
}
