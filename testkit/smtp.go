package testkit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one mail that the [MailServer] accepted.
type Message struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	AuthUser string   // user name of AUTH PLAIN/LOGIN, "" without AUTH
	Data     []byte   // the raw message as received (headers and body)

	// Parsed from Data. Text and HTML are the first text/plain and text/html
	// parts that are not attachments, with the transfer encoding
	// (quoted-printable, base64) undone.
	Header  mail.Header
	Subject string // RFC 2047 encoded words decoded
	Text    string
	HTML    string
	// ParseErr is set when Data is not a well-formed MIME message; WaitFor
	// fails the test then.
	ParseErr error

	Received time.Time
}

// MailServer is an SMTP server on 127.0.0.1 inside the test process. It needs
// no TLS, accepts mail with or without AUTH (PLAIN and LOGIN accept any
// password) and keeps every message in memory. It stops when the test ends.
type MailServer struct {
	srv  *smtp.Server
	addr *net.TCPAddr

	mu       sync.Mutex
	msgs     []Message
	taken    []bool        // taken[i]: msgs[i] was returned by WaitFor
	fail     int           // reject this many more messages with 451
	rejected int           // messages rejected by Fail so far
	changed  chan struct{} // closed and replaced when a message arrives
}

// SMTP starts a mail server for the test.
func SMTP(t testing.TB) *MailServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: SMTP listen: %v", err)
	}
	m := &MailServer{addr: l.Addr().(*net.TCPAddr), changed: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{server: m}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.MaxMessageBytes = 10 << 20
	s.MaxRecipients = 100
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.ErrorLog = &testLogger{t: t}
	m.srv = s
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("testkit: SMTP server: %v", err)
		}
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
		s.ErrorLog.(*testLogger).stop()
	})
	return m
}

// URL returns smtp://127.0.0.1:PORT (plain SMTP, no TLS).
func (m *MailServer) URL() string { return "smtp://" + m.addr.String() }

// Addr returns 127.0.0.1:PORT.
func (m *MailServer) Addr() string { return m.addr.String() }

// Host returns "127.0.0.1".
func (m *MailServer) Host() string { return m.addr.IP.String() }

// Port returns the TCP port.
func (m *MailServer) Port() int { return m.addr.Port }

// Messages returns a copy of all messages received so far, oldest first.
func (m *MailServer) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// Fail makes the next n messages fail at the end of DATA with
// "451 4.3.0 testkit: temporary failure" (nothing is stored), to test retries.
func (m *MailServer) Fail(n int) {
	m.mu.Lock()
	m.fail = n
	m.mu.Unlock()
}

// Rejected returns how many messages Fail has rejected so far.
func (m *MailServer) Rejected() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rejected
}

// WaitFor waits until a message for the envelope recipient to (compared
// case-insensitively) has arrived and returns it. Each message is returned by
// WaitFor only once, so a second call waits for the next message to that
// address. It fails the test on timeout or when the message is not valid
// MIME.
func (m *MailServer) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		for i, msg := range m.msgs {
			if m.taken[i] || !hasRecipient(msg, to) {
				continue
			}
			m.taken[i] = true
			m.mu.Unlock()
			if msg.ParseErr != nil {
				t.Errorf("testkit: mail to %s is not valid MIME: %v\n%s", to, msg.ParseErr, msg.Data)
			}
			return msg
		}
		changed := m.changed
		n := len(m.msgs)
		m.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("testkit: no mail to %s within %v (%d messages received: %s)", to, timeout, n, m.summary())
			return Message{}
		}
	}
}

func hasRecipient(msg Message, to string) bool {
	for _, r := range msg.To {
		if strings.EqualFold(r, to) {
			return true
		}
	}
	return false
}

func (m *MailServer) summary() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var parts []string
	for _, msg := range m.msgs {
		parts = append(parts, fmt.Sprintf("to %v %q", msg.To, msg.Subject))
	}
	return strings.Join(parts, ", ")
}

func (m *MailServer) deliver(msg Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		m.rejected++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "testkit: temporary failure"}
	}
	m.msgs = append(m.msgs, msg)
	m.taken = append(m.taken, false)
	close(m.changed)
	m.changed = make(chan struct{})
	return nil
}

// mailSession is one SMTP connection.
type mailSession struct {
	server   *MailServer
	authUser string
	from     string
	to       []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			s.authUser = username
			return nil
		}), nil
	case sasl.Login:
		return &loginServer{done: func(user string) { s.authUser = user }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := Message{From: s.from, To: append([]string(nil), s.to...), AuthUser: s.authUser, Data: data, Received: time.Now()}
	parseMessage(&msg)
	return s.server.deliver(msg)
}

func (s *mailSession) Reset() { s.from, s.to = "", nil }

func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, accepting any password.
type loginServer struct {
	step int
	user string
	done func(user string)
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if response != nil { // initial response carries the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(response)
		l.step++
		return []byte("Password:"), false, nil
	default:
		l.done(l.user)
		return nil, true, nil
	}
}

// parseMessage fills the parsed fields of msg from msg.Data.
func parseMessage(msg *Message) {
	pm, err := mail.ReadMessage(bytes.NewReader(msg.Data))
	if err != nil {
		msg.ParseErr = err
		return
	}
	msg.Header = pm.Header
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(pm.Header.Get("Subject")); err == nil {
		msg.Subject = subj
	} else {
		msg.Subject = pm.Header.Get("Subject")
		msg.ParseErr = fmt.Errorf("subject: %w", err)
	}
	if err := walkPart(msg, pm.Header.Get, pm.Body, 0); err != nil && msg.ParseErr == nil {
		msg.ParseErr = err
	}
}

// walkPart handles one MIME entity: it descends into multipart entities and
// stores the first inline text/plain and text/html bodies in msg.
func walkPart(msg *Message, header func(string) string, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("MIME nesting too deep")
	}
	ctype := header("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content-type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return fmt.Errorf("%s without boundary", mediaType)
		}
		mr := multipart.NewReader(body, boundary)
		for {
			// NextRawPart: NextPart would undo quoted-printable itself and
			// hide the header; decode() handles all encodings alike.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := walkPart(msg, p.Header.Get, p, depth+1); err != nil {
				return err
			}
		}
	}
	if disp, _, _ := mime.ParseMediaType(header("Content-Disposition")); disp == "attachment" {
		return nil
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	b, err := decode(header("Content-Transfer-Encoding"), body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "us-ascii":
	case "iso-8859-1", "latin1":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		b = []byte(string(r))
	default:
		return fmt.Errorf("%s body: unsupported charset %q", mediaType, cs)
	}
	switch {
	case mediaType == "text/plain" && msg.Text == "":
		msg.Text = string(b)
	case mediaType == "text/html" && msg.HTML == "":
		msg.HTML = string(b)
	}
	return nil
}

func decode(cte string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return io.ReadAll(body)
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(body))
	case "base64":
		// The decoder skips \r and \n.
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, body))
	default:
		return nil, fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
}

// testLogger sends go-smtp's error log to t.Logf until the server stopped.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("testkit: smtp: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.Printf("%s", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

func (l *testLogger) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}
