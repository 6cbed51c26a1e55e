package testkit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAxeFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/good" {
			w.Write([]byte(`<!DOCTYPE html><html lang="en"><head><title>Good</title></head><body><main><h1>Fine</h1><label for="a">Name</label><input id="a"></main></body></html>`))
			return
		}
		w.Write([]byte(`<!DOCTYPE html><html lang="en"><head><title>Bad</title></head><body><main><img src="x.png"><input type="text"></main></body></html>`))
	}))
	defer srv.Close()
	b := Browser(t)
	b.Navigate(srv.URL + "/bad")
	ids := map[string]bool{}
	for _, v := range b.AxeViolations() {
		ids[v.ID] = true
	}
	if !ids["image-alt"] || !ids["label"] {
		t.Fatalf("axe missed violations: %v", ids)
	}
	b.Navigate(srv.URL + "/good")
	if vs := b.AxeViolations(); len(vs) != 0 {
		t.Fatalf("violations on a good page: %+v", vs)
	}
}
