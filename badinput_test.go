package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Requests the server refuses before any handler runs, with the real server's settings.

// Headers over 64 KB get a quick 431 from net/http (plain text: no handler ran, so no language was
// chosen).
func TestOversizedHeadersAreRefused(t *testing.T) {
	p := startPortier(t, nil)
	req, _ := http.NewRequest("GET", p.BaseURL+"/login", nil)
	req.Header.Set("X-Filler", strings.Repeat("a", 100<<10))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || time.Since(start) > 2*time.Second {
		t.Fatalf("oversized headers: %d after %s", resp.StatusCode, time.Since(start))
	}
	// Headers just under the limit still work.
	req.Header.Set("X-Filler", strings.Repeat("a", 60<<10))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("60 KB of headers: %d", resp.StatusCode)
	}
}

// A client that sends its headers a byte at a time, slower than the header timeout allows (slowloris),
// is cut off; others are served meanwhile.
func TestSlowHeadersAreCutOff(t *testing.T) {
	readHeaderTimeout = time.Second
	t.Cleanup(func() { readHeaderTimeout = 10 * time.Second })
	p := startPortier(t, nil)
	addr := strings.TrimPrefix(p.BaseURL, "http://localhost")
	conn, err := net.Dial("tcp", "127.0.0.1"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		// The server closes the connection (or answers 408): either way the read ends.
		_, _ = bufio.NewReader(conn).ReadString('\n')
		closed <- time.Since(start)
	}()
	slow := "GET /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + strings.Repeat("z", 40)
	var took time.Duration
	for i := 0; i < len(slow); i++ {
		if _, err := conn.Write([]byte{slow[i]}); err != nil {
			break // cut off
		}
		select {
		case took = <-closed:
		case <-time.After(100 * time.Millisecond):
			// A normal client is served while the slow one dribbles.
			if i == 3 {
				if resp, body := httpGet(t, p.BaseURL+"/healthz", nil); resp.StatusCode != 200 || body != "ok\n" {
					t.Fatalf("healthz during a slow client: %d", resp.StatusCode)
				}
			}
			continue
		}
		break
	}
	if took == 0 {
		select {
		case took = <-closed:
		case <-time.After(6 * time.Second):
			t.Fatal("the slow connection was not cut off")
		}
	}
	if took < 900*time.Millisecond || took > 5*time.Second { // the 1 s timeout, not the 10 s default; slack for a busy machine
		t.Fatalf("cut off after %s, want about the 1 s header timeout", took)
	}
}
