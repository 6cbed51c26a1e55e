package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Request is one measured request of a flat-out scenario, written to the connection as it is: no cookie
// jar, no redirects, the answer read to its end and dropped.
type Request struct {
	Method, Path string
	Cookie       string // the Cookie header's value, empty for none
}

// Wire is the request as bytes on a keep-alive HTTP/1.1 connection to host. A POST carries an empty form.
func (r Request) Wire(host string) []byte {
	b := make([]byte, 0, 256+len(r.Path)+len(r.Cookie))
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: portier-bench\r\nAccept-Language: de-DE,de;q=0.9,en;q=0.8\r\n"...)
	if r.Cookie != "" {
		b = append(b, "Cookie: "...)
		b = append(b, r.Cookie...)
		b = append(b, "\r\n"...)
	}
	if r.Method == "POST" {
		b = append(b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"...)
	}
	return append(b, "\r\n"...)
}

// Loop is a flat-out scenario for RunLoop: the server's address (host:port), the request worker w sends
// next, and the status every answer must have.
type Loop struct {
	Addr string
	Next func(w int) Request
	Want int
}

// answer reads one HTTP/1.1 answer from the bytes a connection delivers, in as many pieces as they come.
// Only what the load generator needs is parsed: the status and the body's length, which must be given
// (Portier renders a page whole before it answers); the body itself is skipped.
type answer struct {
	head   []byte // the header so far, until its blank line
	status int
	remain int // body bytes still to come; -1 while in the header
}

var errNoLength = errors.New("answer without Content-Length")

func (a *answer) reset() { a.head, a.status, a.remain = a.head[:0], 0, -1 }

// feed takes the next bytes. It reports whether the answer is complete; bytes beyond it are an error
// (the generator never sends a second request before the first is answered).
func (a *answer) feed(p []byte) (bool, error) {
	if a.remain < 0 {
		a.head = append(a.head, p...)
		for {
			end := bytes.Index(a.head, []byte("\r\n\r\n"))
			if end < 0 {
				if len(a.head) > 64<<10 {
					return false, errors.New("answer header over 64 KB")
				}
				return false, nil
			}
			if err := a.parseHead(a.head[:end]); err != nil {
				return false, err
			}
			p = a.head[end+4:]
			if a.status >= 200 {
				break
			}
			// An interim answer (100 Continue, 103 Early Hints) has no body: the real one follows it.
			a.head = append(a.head[:0], p...)
		}
	}
	if len(p) > a.remain {
		return false, fmt.Errorf("%d bytes after the answer's end", len(p)-a.remain)
	}
	a.remain -= len(p)
	return a.remain == 0, nil
}

func (a *answer) parseHead(h []byte) error {
	line, rest, _ := bytes.Cut(h, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return fmt.Errorf("not an HTTP/1.1 status line: %q", line)
	}
	st, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("status line %q: %w", line, err)
	}
	a.status, a.remain = st, -1
	if st < 200 {
		return nil
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || n < 0 {
				return fmt.Errorf("Content-Length %q", value)
			}
			// Two different lengths leave the answer's end unknown (RFC 9112, 6.3).
			if a.remain >= 0 && n != a.remain {
				return fmt.Errorf("Content-Length given twice: %d and %d", a.remain, n)
			}
			a.remain = n
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(bytes.TrimSpace(value), []byte("close")):
			return errors.New("the server closes the connection")
		}
	}
	if st == http.StatusNoContent || st == http.StatusNotModified {
		a.remain = 0 // never a body, whatever a Content-Length says
	}
	if a.remain < 0 {
		return errNoLength
	}
	return nil
}

// requestTimeout is how long a request may wait for its answer, as long as Client's: a server that stops
// answering ends the run with errors rather than holding it up for ever.
var requestTimeout = 30 * time.Second

var errTimeout = errors.New("no answer within the request timeout")

// loopConn is one keep-alive connection of RunLoop and the figures of its worker.
type loopConn struct {
	w     int
	ans   answer
	start time.Time
	lat   []time.Duration
	errs  int
	first error
	done  bool
}

// finish records the answer just read; it reports whether the worker sends another request.
func (c *loopConn) finish(now, end time.Time, want int) bool {
	c.lat = append(c.lat, now.Sub(c.start))
	if c.ans.status != want {
		c.fail(fmt.Errorf("status %d, want %d", c.ans.status, want))
	}
	c.ans.reset()
	return now.Before(end)
}

// lost records a request that got no usable answer: as in Run, it counts as a request, with its time.
func (c *loopConn) lost(now time.Time, err error) {
	c.lat = append(c.lat, now.Sub(c.start))
	c.fail(err)
}

func (c *loopConn) fail(err error) {
	c.errs++
	if c.first == nil {
		c.first = err
	}
}

func loopResult(name, generator string, conns []*loopConn, elapsed time.Duration) Result {
	var lats [][]time.Duration
	errs := 0
	var first error
	for _, c := range conns {
		lats = append(lats, c.lat)
		errs += c.errs
		if first == nil {
			first = c.first
		}
	}
	r := Stats(name, len(conns), elapsed, slices.Concat(lats...), errs, first)
	r.Generator = generator
	return r
}

// RunLoop is Run for requests that need nothing but their bytes (every page scenario): clients keep-alive
// connections, each sending its next request as soon as the last answer is read, for d. Where the system
// allows (Linux) one thread serves every connection from one epoll loop, as wrk does: the load generator
// shares the machine with the server, and net/http's goroutines per connection cost it twice the
// processor time, taken from the server it measures.
func RunLoop(ctx context.Context, name string, clients int, d time.Duration, l Loop) Result {
	return runLoop(ctx, name, clients, d, l)
}
