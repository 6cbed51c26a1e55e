package main

import (
	"flag"

	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"portier/auth"
	"strings"
	"time"
)

// setting is one configuration value: a flag with an environment twin. The environment sets the default,
// the flag wins.
type setting struct {
	flag, env, def, help string
	val                  *string
}

// config is the parsed configuration of the binary.
type config struct {
	Addr            string
	DataDir         string
	BaseURL         *url.URL
	SMTPURL         *url.URL // nil: mail is written to the log
	MailFrom        string
	TrustedProxies  []netip.Prefix
	MSPName         string
	SupportEmail    string
	SupportPhone    string
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	PasswordPolicy  auth.Policy
}

func (c *config) DBPath() string  { return filepath.Join(c.DataDir, "portier.db") }
func (c *config) KeyPath() string { return filepath.Join(c.DataDir, "secret.key") }

type settings struct {
	list []*setting
}

func newSettings() *settings {
	s := &settings{}
	add := func(flag, env, def, help string) {
		s.list = append(s.list, &setting{flag: flag, env: env, def: def, help: help, val: new(string)})
	}
	add("addr", "PORTIER_ADDR", "localhost:8080", "address to listen on (host:port)")
	add("data", "PORTIER_DATA", "./data", "data folder: holds portier.db and secret.key")
	add("base-url", "PORTIER_BASE_URL", "http://localhost:8080", "public URL of the portal: the only source for links in mails, the cookie's Secure flag and the passkey domain")
	add("smtp-url", "PORTIER_SMTP_URL", "", "mail server, e.g. smtp://user:pass@host:587 or smtps://host:465; empty: mails are written to the log")
	add("mail-from", "PORTIER_MAIL_FROM", "", "sender address of mails (default: portier@<base URL host>)")
	add("trusted-proxies", "PORTIER_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed; empty: none")
	add("msp-name", "PORTIER_MSP_NAME", "Portier", "name of the service provider shown in the header and mails (administrators can change it in the portal)")
	add("support-email", "PORTIER_SUPPORT_EMAIL", "", "support e-mail shown to customers (default: support@<base URL host>)")
	add("support-phone", "PORTIER_SUPPORT_PHONE", "", "support phone number shown to customers")
	add("password-policy", "PORTIER_PASSWORD_POLICY", "default", "password rules: default (8+ characters with upper-case, digit, special character) or nist (12+ characters, no composition rules); both refuse common and personal passwords")
	add("session-idle", "PORTIER_SESSION_IDLE", "30m", "sign out after this much inactivity")
	add("session-lifetime", "PORTIER_SESSION_LIFETIME", "12h", "sign out after this long in any case")
	return s
}

// register adds the settings to fs with defaults taken from the environment.
func (s *settings) register(fs *flag.FlagSet, getenv func(string) string) {
	for _, st := range s.list {
		def := st.def
		if v := getenv(st.env); v != "" {
			def = v
		}
		fs.StringVar(st.val, st.flag, def, st.help+" ["+st.env+"]")
	}
}

func (s *settings) get(flag string) string {
	for _, st := range s.list {
		if st.flag == flag {
			return strings.TrimSpace(*st.val)
		}
	}
	panic("unknown setting " + flag)
}

func (s *settings) name(flag string) string {
	for _, st := range s.list {
		if st.flag == flag {
			return st.env + " (--" + st.flag + ")"
		}
	}
	return flag
}

// parse validates every setting; the first bad one stops start-up with one line naming it.
func (s *settings) parse() (*config, error) {
	bad := func(flag, msg string, args ...any) error {
		return fmt.Errorf("setting %s: %s", s.name(flag), fmt.Sprintf(msg, args...))
	}
	c := &config{}

	c.Addr = s.get("addr")
	if host, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" || strings.ContainsAny(host, "/ ") {
		return nil, bad("addr", "want host:port such as localhost:8080 or :443, got %q", c.Addr)
	}

	c.DataDir = s.get("data")
	if c.DataDir == "" {
		return nil, bad("data", "must not be empty")
	}

	raw := s.get("base-url")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("base-url", "want an absolute http:// or https:// URL without a path, such as https://portal.example.com, got %q", raw)
	}
	u.Path = ""
	c.BaseURL = u

	if raw := s.get("smtp-url"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return nil, bad("smtp-url", "want smtp://[user:password@]host[:port] or smtps://..., got a value that is not such a URL")
		}
		c.SMTPURL = u
	}

	c.MailFrom = s.get("mail-from")
	if c.MailFrom == "" {
		c.MailFrom = "portier@" + c.BaseURL.Hostname()
	}
	if !strings.Contains(c.MailFrom, "@") {
		return nil, bad("mail-from", "want an e-mail address, got %q", c.MailFrom)
	}

	if raw := s.get("trusted-proxies"); raw != "" {
		for _, part := range strings.Split(raw, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			p, err := netip.ParsePrefix(part)
			if err != nil {
				a, aerr := netip.ParseAddr(part)
				if aerr != nil {
					return nil, bad("trusted-proxies", "%q is neither an IP address nor a CIDR range", part)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}

	c.MSPName = s.get("msp-name")
	if c.MSPName == "" || len(c.MSPName) > 100 {
		return nil, bad("msp-name", "must be 1 to 100 characters")
	}
	c.SupportEmail = s.get("support-email")
	if c.SupportEmail == "" {
		c.SupportEmail = "support@" + c.BaseURL.Hostname()
	}
	if !strings.Contains(c.SupportEmail, "@") {
		return nil, bad("support-email", "want an e-mail address, got %q", c.SupportEmail)
	}
	c.SupportPhone = s.get("support-phone")

	pol, err := auth.ParsePolicy(s.get("password-policy"))
	if err != nil {
		return nil, bad("password-policy", "want default or nist, got %q", s.get("password-policy"))
	}
	c.PasswordPolicy = pol

	for _, d := range []struct {
		flag string
		dst  *time.Duration
		min  time.Duration
	}{{"session-idle", &c.SessionIdle, time.Minute}, {"session-lifetime", &c.SessionLifetime, 5 * time.Minute}} {
		v, err := time.ParseDuration(s.get(d.flag))
		if err != nil || v < d.min {
			return nil, bad(d.flag, "want a duration of at least %s such as 30m or 12h, got %q", d.min, s.get(d.flag))
		}
		*d.dst = v
	}
	return c, nil
}
