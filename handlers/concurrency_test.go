package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"portier/db"
)

// Two staff save the same item at the same moment, both from the version they opened: exactly one save
// wins, the other is told that the item changed meanwhile (409 with the message and its own input kept),
// and nothing is silently overwritten: the stored item is the winner's, and the history holds exactly
// one new version per round. Repeated so the two requests really overlap.
func TestDocsTwoStaffSaveAtOnce(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	second := e.createUser("tina@msp.example", "Tina Technik", "technician", nil)
	clients := make([]*http.Client, 2)
	for i, u := range []*db.User{f.tech, second} {
		f.as(u)
		clients[i] = &http.Client{Jar: e.client.Jar, CheckRedirect: e.client.CheckRedirect}
	}
	id := f.items["configurations"]
	path := e.URL(fmt.Sprintf("/o/alpha/docs/configurations/%d", id))
	staff := db.DocScope{OrgID: f.a.ID, StaffView: true}
	ctx := context.Background()
	const rounds = 15
	for round := range rounds {
		it, err := e.db.DocGet(ctx, staff, "configurations", id)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			status int
			body   string
		}
		results := make([]result, 2)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "version": {strconv.Itoa(it.Version)},
					"notes": {fmt.Sprintf("round %d by editor %d", round, i)}}
				req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept-Language", "en")
				<-start
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = result{resp.StatusCode, string(b)}
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, r := range results {
			switch r.status {
			case http.StatusSeeOther:
				if winner >= 0 {
					t.Fatalf("round %d: both saves were accepted", round)
				}
				winner = i
			case http.StatusConflict:
				if !strings.Contains(r.body, "Someone else saved this entry") || !strings.Contains(r.body, fmt.Sprintf("round %d by editor %d", round, i)) {
					t.Fatalf("round %d: the refused save does not say why or lost its input:\n%.500s", round, r.body)
				}
			default:
				t.Fatalf("round %d: editor %d got %d", round, i, r.status)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: neither save was accepted", round)
		}
		now, err := e.db.DocGet(ctx, staff, "configurations", id)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("round %d by editor %d", round, winner); now.Fields["notes"] != want || now.Version != it.Version+1 {
			t.Fatalf("round %d: stored %q version %d, want the winner's %q version %d", round, now.Fields["notes"], now.Version, want, it.Version+1)
		}
	}
	versions, err := e.db.DocHistory(ctx, staff, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != rounds+1 {
		t.Fatalf("%d versions in the history, want %d (one per round plus the first)", len(versions), rounds+1)
	}
}
