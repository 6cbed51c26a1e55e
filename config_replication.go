package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"portier/db"
)

// replicaTarget is one place the database is replicated to.
type replicaTarget struct {
	URL *url.URL
}

func (t replicaTarget) Scheme() string { return t.URL.Scheme }

// String names the target for logs and the operator: scheme, user, host and path, never a password.
func (t replicaTarget) String() string {
	u := *t.URL
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// parseReplicaURLs turns the comma-separated list into targets, or says which entry is wrong and why.
func parseReplicaURLs(raw string, insideData func(string) bool) ([]replicaTarget, error) {
	var out []replicaTarget
	seen := map[string]bool{}
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a URL", redactURL(part))
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%s: no ?query or #fragment (endpoint, region and keys have settings of their own)", replicaTarget{u}.String())
		}
		switch u.Scheme {
		case "file":
			if (u.Host != "" && u.Host != "localhost") || !filepath.IsAbs(u.Path) || u.User != nil {
				return nil, fmt.Errorf("%s: want file:///absolute/folder", replicaTarget{u}.String())
			}
			u.Host = ""
			u.Path = filepath.Clean(u.Path)
			if insideData(u.Path) {
				return nil, fmt.Errorf("%s: must not be in the data folder: a replica belongs on other storage", replicaTarget{u}.String())
			}
		case "sftp":
			if u.User == nil || u.User.Username() == "" || u.Hostname() == "" || strings.Trim(u.Path, "/") == "" {
				return nil, fmt.Errorf("%s: want sftp://user@host[:port]/path", replicaTarget{u}.String())
			}
			if _, has := u.User.Password(); has {
				return nil, fmt.Errorf("%s: no password in the URL (it would show in process lists and logs); use a key file with PORTIER_REPLICA_SFTP_KEY", replicaTarget{u}.String())
			}
		case "s3":
			if u.Host == "" || u.User != nil {
				return nil, fmt.Errorf("%s: want s3://bucket/path", replicaTarget{u}.String())
			}
		default:
			return nil, fmt.Errorf("%s: want a file://, sftp:// or s3:// URL", replicaTarget{u}.String())
		}
		t := replicaTarget{URL: u}
		if seen[t.String()] {
			return nil, fmt.Errorf("%s is named twice", t)
		}
		seen[t.String()] = true
		out = append(out, t)
	}
	return out, nil
}

// redactURL drops a password from a URL that may not even parse, for error messages.
func redactURL(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 { // a password may hold an @ itself
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "…" + s[i:]
		}
	}
	return s
}

// insideData tells whether p is the data folder or a folder in it.
func (c *config) insideData(p string) bool {
	a, err1 := filepath.Abs(p)
	b, err2 := filepath.Abs(c.DataDir)
	rel, err3 := filepath.Rel(b, a)
	return err1 == nil && err2 == nil && err3 == nil && (rel == "." || !strings.HasPrefix(rel, ".."))
}

// parseReplication validates the replication settings.
func (s *settings) parseReplication(c *config, sameAsData func(string) bool) error {
	bad := func(flag, msg string, args ...any) error {
		return fmt.Errorf("setting %s: %s", s.name(flag), fmt.Sprintf(msg, args...))
	}
	insideData := c.insideData
	targets, err := parseReplicaURLs(s.get("replica-url"), insideData)
	if err != nil {
		return bad("replica-url", "%v", err)
	}
	if dir := s.get("replica-dir"); dir != "" {
		if sameAsData(dir) || insideData(dir) {
			return bad("replica-dir", "must not be in the data folder: a replica belongs on other storage")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return bad("replica-dir", "%v", err)
		}
		alias, err := parseReplicaURLs((&url.URL{Scheme: "file", Path: abs}).String(), insideData)
		if err != nil {
			return bad("replica-dir", "%v", err)
		}
		if len(targets) > 0 && targets[0].String() == alias[0].String() {
			alias = nil
		}
		targets = append(targets, alias...)
	}
	c.Replicas = targets

	for _, d := range []struct {
		flag string
		dst  *time.Duration
		min  time.Duration
		eg   string
	}{
		{"replica-sync-interval", &c.ReplicaSync, 100 * time.Millisecond, "1s"},
		{"replica-snapshot-interval", &c.ReplicaSnapshot, time.Hour, "24h"},
		{"replica-retention", &c.ReplicaRetention, time.Hour, "168h"},
		{"replica-lag-max", &c.ReplicaLagMax, time.Second, "1m"},
	} {
		v, err := time.ParseDuration(s.get(d.flag))
		if err != nil || v < d.min {
			return bad(d.flag, "want a duration of at least %s such as %s, got %q", d.min, d.eg, s.get(d.flag))
		}
		*d.dst = v
	}
	if c.ReplicaRetention < c.ReplicaSnapshot {
		// Litestream deletes snapshots older than the retention: with fewer than one, no restore is possible.
		return bad("replica-retention", "must be at least the snapshot interval (%s), got %s", c.ReplicaSnapshot, c.ReplicaRetention)
	}
	if c.ReplicaLagMax <= c.ReplicaSync {
		return bad("replica-lag-max", "must be longer than the sync interval (%s), got %s", c.ReplicaSync, c.ReplicaLagMax)
	}

	switch v := strings.ToLower(s.get("restore-if-missing")); v {
	case "true", "1", "yes":
		c.RestoreIfMissing = true
	case "false", "0", "no", "":
	default:
		return bad("restore-if-missing", "want true or false, got %q", v)
	}
	if c.RestoreIfMissing && len(c.Replicas) == 0 {
		return bad("restore-if-missing", "needs a replica to restore from (PORTIER_REPLICA_URL)")
	}

	c.SFTPKeyFile, c.SFTPHostKey = s.get("replica-sftp-key"), s.get("replica-sftp-host-key")
	c.S3 = s3Settings{
		Endpoint: s.get("replica-s3-endpoint"), Region: s.get("replica-s3-region"),
		AccessKeyID: s.get("replica-s3-access-key-id"), SecretAccessKey: s.get("replica-s3-secret-access-key"),
	}
	if e := c.S3.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			// The keys have settings of their own: never echo what may be one.
			return bad("replica-s3-endpoint", "want an http:// or https:// URL without user or password such as https://fsn1.your-objectstorage.com, got %q", redactURL(e))
		}
	}
	if hasS3 := slices.ContainsFunc(c.Replicas, func(t replicaTarget) bool { return t.Scheme() == "s3" }); hasS3 && s.getenv != nil && s.getenv("AWS_CA_BUNDLE") != "" {
		// Litestream's S3 client brings its own HTTP client, which the AWS SDK cannot give a CA bundle:
		// every request would fail. The system's certificates are used without it.
		return bad("replica-url", "an s3:// target cannot work while AWS_CA_BUNDLE is set (Litestream's S3 client does not support it): unset AWS_CA_BUNDLE; the system's CA certificates are used")
	}
	if (c.S3.AccessKeyID == "") != (c.S3.SecretAccessKey == "") {
		return bad("replica-s3-access-key-id", "set both PORTIER_REPLICA_S3_ACCESS_KEY_ID and PORTIER_REPLICA_S3_SECRET_ACCESS_KEY, or neither")
	}
	return s.checkTargets(c, c.Replicas)
}

// checkTargets makes sure the settings that targets of each kind need are there: for the configured
// targets, and for a target named to `portier restore --from`.
func (s *settings) checkTargets(c *config, targets []replicaTarget) error {
	bad := func(flag, msg string, args ...any) error {
		return fmt.Errorf("setting %s: %s", s.name(flag), fmt.Sprintf(msg, args...))
	}
	for _, t := range targets {
		if t.Scheme() != "sftp" {
			continue
		}
		if c.SFTPKeyFile == "" {
			return bad("replica-sftp-key", "an sftp:// target needs a private key file")
		}
		if b, err := os.ReadFile(c.SFTPKeyFile); err != nil {
			return bad("replica-sftp-key", "cannot read %s: %v", c.SFTPKeyFile, errors.Unwrap(err))
		} else if err := privateFile(c.SFTPKeyFile); err != nil {
			return bad("replica-sftp-key", "%v", err)
		} else if _, err := ssh.ParsePrivateKey(b); err != nil {
			return bad("replica-sftp-key", "%s is not an unencrypted OpenSSH private key: %v", c.SFTPKeyFile, err)
		}
		// Without the host key anyone on the path could pose as the server and receive the database.
		if c.SFTPHostKey == "" {
			return bad("replica-sftp-host-key", "an sftp:// target needs the server's host key (ssh-keyscan -t ed25519 HOST prints it; drop the host name in front)")
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.SFTPHostKey)); err != nil {
			return bad("replica-sftp-host-key", "want one public key line such as \"ssh-ed25519 AAAA...\": %v", err)
		}
	}
	return nil
}

// parseKey decides where the master key comes from: a file the operator names, a systemd credential
// (LoadCredential=secret.key:... puts it in $CREDENTIALS_DIRECTORY), or secret.key in the data folder.
func (s *settings) parseKey(c *config) error {
	c.KeyFile = filepath.Join(c.DataDir, "secret.key")
	if f := s.get("secret-key-file"); f != "" {
		c.KeyFile, c.KeySupplied = f, true
	} else if s.getenv != nil {
		if dir := s.getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			if p := filepath.Join(dir, "secret.key"); fileExists(p) {
				c.KeyFile, c.KeySupplied = p, true
			}
		}
	}
	if c.KeySupplied {
		st, err := os.Stat(c.KeyFile)
		switch {
		case err != nil:
			return fmt.Errorf("setting %s: cannot read %s: %v", s.name("secret-key-file"), c.KeyFile, errors.Unwrap(err))
		case st.Size() < db.KeySize || st.Size() > 4096:
			return fmt.Errorf("setting %s: %s holds %d bytes: neither a key file (%d bytes) nor a recovery sheet", s.name("secret-key-file"), c.KeyFile, st.Size(), db.KeySize)
		}
		if err := privateFile(c.KeyFile); err != nil {
			return fmt.Errorf("setting %s: %v", s.name("secret-key-file"), err)
		}
	}
	return nil
}

// privateFile refuses a key file that other accounts may read (as ssh does): a key supplied from outside
// the data folder (mode 0700) is guarded by its own mode alone.
func privateFile(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: other accounts may read it; chmod 600 %s", p, perm, p)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
