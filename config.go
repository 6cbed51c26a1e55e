package main

import (
	"errors"
	"flag"
	"os"
	"strconv"

	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"portier/auth"
	"portier/handlers"
	"portier/idp"
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
	SMTPURL         *url.URL // nil: no mail is sent (the log notes whom each was for)
	MailFrom        string
	TrustedProxies  []netip.Prefix
	MSPName         string
	SupportEmail    string
	SupportPhone    string
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	PasswordPolicy  auth.Policy
	IdPEndpoints    idp.Endpoints // where Microsoft and Google sign in (national clouds differ)
	AttachmentMax   int64         // bytes: the largest file attached to an item

	// Going live (tls.go, backup_scheduler.go).
	TLS            string // off, acme or files
	TLSCert        string
	TLSKey         string
	ACMEEmail      string
	HTTPAddr       string // redirect and ACME challenge listener when TLS is on; "" when off
	BackupDir      string // "" = no scheduled backups
	BackupInterval time.Duration
	BackupKeep     int

	// Continuous replication with Litestream (replication.go).
	Replicas         []replicaTarget // empty = off
	ReplicaSync      time.Duration   // how often WAL changes are shipped
	ReplicaSnapshot  time.Duration   // how often a full snapshot is written to each target
	ReplicaRetention time.Duration   // how far back a point-in-time restore can go
	ReplicaLagMax    time.Duration   // /readyz and doctor fail beyond this
	RestoreIfMissing bool
	SFTPKeyFile      string
	SFTPHostKey      string
	S3               s3Settings

	// KeyFile is where the master key is read from; KeySupplied is true when it was named by the operator
	// (PORTIER_SECRET_KEY_FILE or a systemd credential): such a file is never created, only read.
	KeyFile     string
	KeySupplied bool
}

// s3Settings apply to every s3:// target.
type s3Settings struct {
	Endpoint, Region, AccessKeyID, SecretAccessKey string
}

func (c *config) DBPath() string  { return filepath.Join(c.DataDir, "portier.db") }
func (c *config) KeyPath() string { return c.KeyFile }

type settings struct {
	list   []*setting
	getenv func(string) string // for values that are not settings, such as systemd's CREDENTIALS_DIRECTORY
}

func newSettings() *settings {
	s := &settings{}
	add := func(flag, env, def, help string) {
		s.list = append(s.list, &setting{flag: flag, env: env, def: def, help: help, val: new(string)})
	}
	add("addr", "PORTIER_ADDR", "localhost:8080", "address to listen on (host:port); with PORTIER_TLS on, the default becomes :443")
	add("data", "PORTIER_DATA", "./data", "data folder: holds portier.db and secret.key")
	add("base-url", "PORTIER_BASE_URL", "http://localhost:8080", "public URL of the portal: the only source for links in mails, the cookie's Secure flag and the passkey domain")
	add("smtp-url", "PORTIER_SMTP_URL", "", "mail server, e.g. smtp://user:pass@host:587 or smtps://host:465; empty: no mail is sent (the log notes whom each was for, never its content)")
	add("mail-from", "PORTIER_MAIL_FROM", "", "sender address of mails (default: portier@<base URL host>)")
	add("trusted-proxies", "PORTIER_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed; empty: none")
	add("msp-name", "PORTIER_MSP_NAME", "Portier", "name of the service provider shown in the header and mails (administrators can change it in the portal)")
	add("support-email", "PORTIER_SUPPORT_EMAIL", "", "support e-mail shown to customers (default: support@<base URL host>)")
	add("support-phone", "PORTIER_SUPPORT_PHONE", "", "support phone number shown to customers")
	add("password-policy", "PORTIER_PASSWORD_POLICY", "default", "password rules: default (8+ characters with upper-case, digit, special character) or nist (12+ characters, no composition rules); both refuse common and personal passwords")
	add("entra-authority", "PORTIER_ENTRA_AUTHORITY", idp.DefaultEndpoints.EntraAuthority, "Microsoft Entra ID sign-in address for organisations that sign in with Microsoft (national clouds: e.g. https://login.microsoftonline.us)")
	add("google-issuer", "PORTIER_GOOGLE_ISSUER", idp.DefaultEndpoints.GoogleIssuer, "Google's OpenID Connect issuer for organisations that sign in with Google Workspace")
	add("session-idle", "PORTIER_SESSION_IDLE", "30m", "sign out after this much inactivity")
	add("session-lifetime", "PORTIER_SESSION_LIFETIME", "12h", "sign out after this long in any case")
	add("tls", "PORTIER_TLS", "off", "HTTPS built in: off (plain HTTP, e.g. behind a proxy), acme (certificate from Let's Encrypt for the base URL's host) or files (PORTIER_TLS_CERT and PORTIER_TLS_KEY, reloaded on change)")
	add("tls-cert", "PORTIER_TLS_CERT", "", "certificate chain (PEM) for PORTIER_TLS=files")
	add("tls-key", "PORTIER_TLS_KEY", "", "private key (PEM) for PORTIER_TLS=files")
	add("acme-email", "PORTIER_ACME_EMAIL", "", "contact e-mail given to the ACME certificate authority (expiry warnings)")
	add("http-addr", "PORTIER_HTTP_ADDR", "", "with TLS on: plain-HTTP address that answers ACME challenges and redirects everything else to the https base URL (default :80; off: none)")
	add("backup-dir", "PORTIER_BACKUP_DIR", "", "folder for scheduled backups (mount off-machine storage here); empty: no scheduled backups")
	add("backup-interval", "PORTIER_BACKUP_INTERVAL", "24h", "time between scheduled backups")
	add("attachment-max-mb", "PORTIER_ATTACHMENT_MAX_MB", strconv.Itoa(handlers.DefaultAttachmentMax>>20), "largest file that can be attached to an item, in MB (files are stored sealed inside the database)")
	add("backup-keep", "PORTIER_BACKUP_KEEP", "14", "number of scheduled backups to keep (older ones are deleted)")
	add("replica-url", "PORTIER_REPLICA_URL", "", "continuous replication (Litestream) to one or more comma-separated targets: file:///mnt/backup/portier, sftp://user@host[:port]/absolute/path, s3://bucket/path; empty: off")
	add("replica-dir", "PORTIER_REPLICA_DIR", "", "older name for a file:// target: the folder receives the replica (same as PORTIER_REPLICA_URL=file:///folder)")
	add("replica-sync-interval", "PORTIER_REPLICA_SYNC_INTERVAL", "1s", "how often changes are shipped to the replica targets: at most this much is lost with the machine")
	add("replica-snapshot-interval", "PORTIER_REPLICA_SNAPSHOT_INTERVAL", "24h", "how often a full snapshot is written to each target (restores start from the newest snapshot before the chosen time)")
	add("replica-retention", "PORTIER_REPLICA_RETENTION", "168h", "how long snapshots and changes stay on the targets: the window for restore --at")
	add("replica-lag-max", "PORTIER_REPLICA_LAG_MAX", "1m", "/readyz and doctor fail when a target is missing changes older than this, or was unreachable this long")
	add("replica-sftp-key", "PORTIER_REPLICA_SFTP_KEY", "", "private key file (OpenSSH format) for sftp:// targets")
	add("replica-sftp-host-key", "PORTIER_REPLICA_SFTP_HOST_KEY", "", "the SFTP server's public host key as one line of `ssh-keyscan -t ed25519 HOST` without the host name, e.g. \"ssh-ed25519 AAAA...\"; required for sftp://")
	add("replica-s3-endpoint", "PORTIER_REPLICA_S3_ENDPOINT", "", "S3-compatible endpoint URL for s3:// targets (MinIO, Hetzner, Wasabi, Backblaze ...); empty: AWS")
	add("replica-s3-region", "PORTIER_REPLICA_S3_REGION", "", "region of the s3:// bucket (empty: us-east-1, or what the endpoint needs)")
	add("replica-s3-access-key-id", "PORTIER_REPLICA_S3_ACCESS_KEY_ID", "", "access key id for s3:// targets (empty: the AWS_* environment or instance role)")
	add("replica-s3-secret-access-key", "PORTIER_REPLICA_S3_SECRET_ACCESS_KEY", "", "secret access key for s3:// targets")
	add("restore-if-missing", "PORTIER_RESTORE_IF_MISSING", "false", "true: when the data folder has no database, restore it from the replica targets before serving (a new VM with the same settings comes up by itself)")
	add("secret-key-file", "PORTIER_SECRET_KEY_FILE", "", "read the master key from this file instead of secret.key in the data folder (never created, only read); with systemd, LoadCredential=secret.key:/path works too")
	return s
}

// register adds the settings to fs with defaults taken from the environment.
func (s *settings) register(fs *flag.FlagSet, getenv func(string) string) {
	s.getenv = getenv
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

	for _, f := range []struct {
		flag string
		dst  *string
	}{{"entra-authority", &c.IdPEndpoints.EntraAuthority}, {"google-issuer", &c.IdPEndpoints.GoogleIssuer}} {
		u, err := url.Parse(s.get(f.flag))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return nil, bad(f.flag, "want an https:// address, got %q", s.get(f.flag))
		}
		*f.dst = strings.TrimRight(u.String(), "/")
	}

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
	if err := s.parseOps(c); err != nil {
		return nil, err
	}
	return c, nil
}

// parseOps validates the settings of going live: TLS, scheduled backups and the file replica.
func (s *settings) parseOps(c *config) error {
	bad := func(flag, msg string, args ...any) error {
		return fmt.Errorf("setting %s: %s", s.name(flag), fmt.Sprintf(msg, args...))
	}
	c.TLS = strings.ToLower(s.get("tls"))
	switch c.TLS {
	case "off", "":
		c.TLS = "off"
	case "acme", "files":
		if c.BaseURL.Scheme != "https" {
			return bad("tls", "%s needs an https:// base URL (PORTIER_BASE_URL), got %s", c.TLS, c.BaseURL)
		}
		// HTTPS on the default development address is never what is meant: serve on 443.
		if c.Addr == "localhost:8080" {
			c.Addr = ":443"
		}
		c.HTTPAddr = s.get("http-addr")
		switch c.HTTPAddr {
		case "":
			c.HTTPAddr = ":80"
		case "off":
			c.HTTPAddr = ""
		default:
			if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil || port == "" {
				return bad("http-addr", "want host:port such as :80, or off, got %q", c.HTTPAddr)
			}
		}
	default:
		return bad("tls", "want off, acme or files, got %q", c.TLS)
	}
	if h := c.BaseURL.Hostname(); c.TLS == "acme" && (net.ParseIP(h) != nil || !strings.Contains(h, ".") || strings.HasSuffix(h, ".localhost")) {
		return bad("base-url", "PORTIER_TLS=acme needs a public DNS name in the base URL; certificate authorities do not issue for %q (use PORTIER_TLS=files)", h)
	}
	c.TLSCert, c.TLSKey = s.get("tls-cert"), s.get("tls-key")
	if c.TLS == "files" {
		for _, f := range []struct{ flag, path string }{{"tls-cert", c.TLSCert}, {"tls-key", c.TLSKey}} {
			if f.path == "" {
				return bad(f.flag, "PORTIER_TLS=files needs both PORTIER_TLS_CERT and PORTIER_TLS_KEY")
			}
			fh, err := os.Open(f.path)
			if err != nil {
				return bad(f.flag, "cannot read %s: %v", f.path, errors.Unwrap(err))
			}
			fh.Close()
		}
	}
	c.ACMEEmail = s.get("acme-email")
	if c.ACMEEmail != "" && !strings.Contains(c.ACMEEmail, "@") {
		return bad("acme-email", "want an e-mail address, got %q", c.ACMEEmail)
	}

	sameAsData := func(dir string) bool {
		a, err1 := filepath.Abs(dir)
		b, err2 := filepath.Abs(c.DataDir)
		return err1 == nil && err2 == nil && a == b
	}
	c.BackupDir = s.get("backup-dir")
	if c.BackupDir != "" && sameAsData(c.BackupDir) {
		return bad("backup-dir", "must not be the data folder: backups belong on other storage")
	}
	if v, err := time.ParseDuration(s.get("backup-interval")); err != nil || v < time.Minute {
		return bad("backup-interval", "want a duration of at least 1m such as 24h or 6h, got %q", s.get("backup-interval"))
	} else {
		c.BackupInterval = v
	}
	if n, err := strconv.Atoi(s.get("attachment-max-mb")); err != nil || n < 1 || n > 1024 {
		return bad("attachment-max-mb", "want a number from 1 to 1024, got %q", s.get("attachment-max-mb"))
	} else {
		c.AttachmentMax = int64(n) << 20
	}
	if n, err := strconv.Atoi(s.get("backup-keep")); err != nil || n < 1 || n > 10000 {
		return bad("backup-keep", "want a number from 1 to 10000, got %q", s.get("backup-keep"))
	} else {
		c.BackupKeep = n
	}
	if err := s.parseReplication(c, sameAsData); err != nil {
		return err
	}
	return s.parseKey(c)
}
