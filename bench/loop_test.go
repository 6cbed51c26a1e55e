package bench

import (
	"context"
	"fmt"
	"io"
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
		"two lengths":       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\nok",
		"header never ends": "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", 70<<10),
	} {
		var a answer
		a.reset()
		if _, err := a.feed([]byte(wire)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestAnswerInterimAndBodiless: an interim 1xx answer is skipped for the one that follows it, and 204 and
// 304 end at their header even without (or despite) a Content-Length.
func TestAnswerInterimAndBodiless(t *testing.T) {
	for wire, status := range map[string]int{
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok": 200,
		"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 20\r\n\r\n":                                                        304,
		"HTTP/1.1 204 No Content\r\n\r\n":                                     204,
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok": 200,
	} {
		for _, size := range []int{1, 3, len(wire)} {
			var a answer
			a.reset()
			done := false
			for i := 0; i < len(wire); i += size {
				if done {
					t.Fatalf("%q in pieces of %d: complete before the end", wire, size)
				}
				var err error
				if done, err = a.feed([]byte(wire[i:min(i+size, len(wire))])); err != nil {
					t.Fatalf("%q in pieces of %d: %v", wire, size, err)
				}
			}
			if !done || a.status != status {
				t.Fatalf("%q in pieces of %d: done %v, status %d", wire, size, done, a.status)
			}
		}
	}
}

// rawServer accepts connections on loopback and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// TestRunLoopCountsLostRequests: a request the server drops (it closes the connection, or answers and
// announces it closes) counts as Run counts it, a request with an error and its time.
func TestRunLoopCountsLostRequests(t *testing.T) {
	for name, answer := range map[string]string{
		"closed":         "",
		"says it closes": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
	} {
		addr := rawServer(t, func(c net.Conn) {
			defer c.Close()
			c.Read(make([]byte, 4096))
			time.Sleep(5 * time.Millisecond)
			c.Write([]byte(answer))
		})
		r := RunLoop(context.Background(), name, 3, 50*time.Millisecond, Loop{Addr: addr, Want: http.StatusOK,
			Next: func(int) Request { return Request{Method: http.MethodGet, Path: "/"} }})
		if r.Requests != 3 || r.Errors != 3 || r.P50ms < 4 || r.FirstErr == "" {
			t.Errorf("%s: %+v", name, r)
		}
	}
}

// TestRunLoopGivesUpOnSilentServer: a server that never answers ends the run after the request timeout,
// each unanswered request an error, as net/http's Client would time it out.
func TestRunLoopGivesUpOnSilentServer(t *testing.T) {
	defer func(d time.Duration) { requestTimeout = d }(requestTimeout)
	requestTimeout = 200 * time.Millisecond
	addr := rawServer(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(io.Discard, c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		done <- RunLoop(ctx, "silent", 2, 50*time.Millisecond, Loop{Addr: addr, Want: http.StatusOK,
			Next: func(int) Request { return Request{Method: http.MethodGet, Path: "/"} }})
	}()
	select {
	case r := <-done:
		if r.Requests != 2 || r.Errors != 2 || !strings.Contains(r.FirstErr, "timeout") {
			t.Fatalf("silent server: %+v", r)
		}
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatalf("RunLoop still waiting 5 s after the request timeout; ended by its context: %+v", <-done)
	}
}

// TestRunLoopCancelled: requests still out when the context ends fail, as Run's do.
func TestRunLoopCancelled(t *testing.T) {
	addr := rawServer(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(io.Discard, c)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := RunLoop(ctx, "cancelled", 2, time.Minute, Loop{Addr: addr, Want: http.StatusOK,
		Next: func(int) Request { return Request{Method: http.MethodGet, Path: "/"} }})
	if r.Requests != 2 || r.Errors != 2 || !strings.Contains(r.FirstErr, "deadline") {
		t.Fatalf("cancelled: %+v", r)
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
