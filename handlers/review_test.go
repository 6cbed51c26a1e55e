package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"
)

// Findings of the review of every route and command, as an attacker would try them.

// A stored TOTP seed is never shown, also not from an earlier version in the history: the history's
// reveal shows the current code of that version's seed, like the detail page does.
func TestHistoryRevealShowsTheCodeNotTheSeed(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	id := addM365(t, f)
	f.as(f.tech)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
	_, body := e.get(item+"/history", nil)
	href, ok := doc(t, body).Find(`form[action$="/secret/totp"]`).First().Attr("action")
	if !ok {
		t.Fatalf("the history offers no reveal of the one-time code:\n%.2000s", body)
	}
	resp, body := e.post(href, nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("history reveal: %d", resp.StatusCode)
	}
	flat := strings.ToUpper(strings.Join(strings.Fields(body), ""))
	if strings.Contains(flat, totpSeed) {
		t.Fatal("the history reveal shows the stored TOTP seed")
	}
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if !strings.Contains(strings.ReplaceAll(body, " ", ""), code) {
		t.Fatalf("the history reveal lacks the current code %s:\n%.500s", code, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("history reveal Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}
