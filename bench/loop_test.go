package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAnswerInPieces(t *testing.T) {
	body := strings.Repeat("x", 5000)
	wire := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\ncontent-length: 5000\r\n\r\n" + body
	for _, size := range []int{1, 7, 100, 4096, len(wire)} {
		var a answer
		a.reset()
		done := false
		for i := 0; i < len(wire); i += size {
			if done {
				t.Fatalf("piece %d: complete before the end", size)
			}
			var err error
			if done, err = a.feed([]byte(wire[i:min(i+size, len(wire))])); err != nil {
				t.Fatalf("pieces of %d: %v", size, err)
			}
		}
		if !done || a.status != 200 {
			t.Fatalf("pieces of %d: done %v, status %d", size, done, a.status)
		}
	}
}

func TestAnswerRefusesWhatItCannotTime(t *testing.T) {
	for name, wire := range map[string]string{
		"no length":         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"closing":           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
		"bytes after":       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1",
		"not HTTP/1.1":      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"bad length":        "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
		"header never ends": "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", 70<<10),
	} {
		var a answer
		a.reset()
		if _, err := a.feed([]byte(wire)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRunLoop drives a real HTTP server: every request arrives whole with its cookie, language and (for
// a POST) an empty form; each answer is counted once; a wrong status is an error, not a lost request.
func TestRunLoop(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Cookie")+" "+r.Header.Get("Accept-Language")]++
		mu.Unlock()
		if r.Method == http.MethodPost && (r.ParseForm() != nil || r.ContentLength != 0) {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/teapot" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		page := strings.Repeat("row ", 5000) // 20 KB, more than one read; Portier's pages say their length
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	r := RunLoop(context.Background(), "pages", 8, 300*time.Millisecond, Loop{Addr: addr, Want: http.StatusOK,
		Next: func(w int) Request {
			if w%2 == 1 {
				return Request{Method: http.MethodPost, Path: "/reveal?id=1", Cookie: "s=odd"}
			}
			return Request{Method: http.MethodGet, Path: "/list", Cookie: "s=even; lang=de"}
		}})
	if r.Errors != 0 || r.Requests < 8 || r.Clients != 8 || r.P50ms <= 0 {
		t.Fatalf("run: %+v", r)
	}
	mu.Lock()
	served := 0
	for k, n := range seen {
		if k != "POST /reveal?id=1 s=odd de-DE,de;q=0.9,en;q=0.8" && k != "GET /list s=even; lang=de de-DE,de;q=0.9,en;q=0.8" {
			t.Errorf("unexpected request %q", k)
		}
		served += n
	}
	mu.Unlock()
	if served != r.Requests {
		t.Errorf("server answered %d, load generator counted %d", served, r.Requests)
	}

	r = RunLoop(context.Background(), "teapot", 2, 50*time.Millisecond, Loop{Addr: addr, Want: http.StatusOK,
		Next: func(int) Request { return Request{Method: http.MethodGet, Path: "/teapot"} }})
	if r.Errors == 0 || r.Errors != r.Requests || !strings.Contains(r.FirstErr, "418") {
		t.Fatalf("wrong status: %+v", r)
	}
}

func TestRunLoopWithoutServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := RunLoop(context.Background(), "nobody", 3, 50*time.Millisecond, Loop{Addr: addr, Want: http.StatusOK,
		Next: func(int) Request { return Request{Method: http.MethodGet, Path: "/"} }})
	if r.Errors == 0 || r.FirstErr == "" || r.Requests != 0 {
		t.Fatalf("no server: %+v", r)
	}
}
