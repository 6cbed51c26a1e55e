package main

// Operations subcommands: restore, doctor, install-service.

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/superfly/ltx"

	"portier/db"
	"portier/deploy"
	"portier/mail"
)

func cmdRestore(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	from := fs.String("from", "", "backup file (made by `portier backup` or the scheduled backups), or a replica target URL (file://, sftp://, s3://)")
	atFlag := fs.String("at", "", "with a replica URL: restore the state at this time (RFC 3339 such as 2026-11-29T08:00:00Z, or 2026-11-29 08:00 in local time); default: the newest")
	cfg, err := parseSettings(env, fs, args)
	if err != nil {
		return err
	}
	if *from == "" {
		return errors.New("restore: --from FILE or --from URL is required")
	}
	isURL := strings.Contains(*from, "://")
	var at time.Time
	if *atFlag != "" {
		if !isURL {
			return errors.New("restore: --at needs a replica URL in --from; a backup file holds one point in time")
		}
		if at, err = parseRestoreTime(*atFlag); err != nil {
			return err
		}
	}
	var targets []replicaTarget
	if isURL {
		if targets, err = parseReplicaURLs(*from, cfg.insideData); err != nil {
			return fmt.Errorf("restore: --from: %w", err)
		}
		if err := env.settings.checkTargets(cfg, targets); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	} else if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("restore: backup %s: %w", *from, errors.Unwrap(err))
	}
	if _, err := os.Lstat(cfg.DBPath()); err == nil {
		return fmt.Errorf("restore: %s already holds a database (portier.db) and restore never overwrites a live one; "+
			"stop the portal, move portier.db, portier.db-wal and portier.db-shm out of the folder (keep them until the restored portal works) "+
			"and run restore again, or restore into an empty folder with --data", cfg.DataDir)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: data folder: %w", err)
	}
	start := time.Now()
	var version int
	var source replicaTarget
	if isURL {
		logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		source, version, err = restoreFromReplica(ctx, cfg, targets, at, logger, nil)
		if errors.Is(err, ErrNoReplica) {
			if !at.IsZero() {
				return fmt.Errorf("restore: %s holds no database for %s (before its oldest snapshot, or past the retention); nothing was restored", targets[0], at.Format(time.RFC3339))
			}
			return fmt.Errorf("restore: %s holds no database; nothing was restored", targets[0])
		}
	} else {
		version, err = db.RestoreFile(ctx, *from, cfg.DBPath())
	}
	switch {
	case errors.Is(err, db.ErrNotPortier):
		return fmt.Errorf("restore: %s is not a Portier database (it has no schema_migrations table); nothing was restored", *from)
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("restore: %v; these are left from an earlier database: move portier.db-wal and portier.db-shm out of %s, then run restore again", err, cfg.DataDir)
	case err != nil:
		return fmt.Errorf("restore: %w; nothing was restored", err)
	}
	w := env.stdout
	what := *from
	if isURL {
		what = source.String()
		if !at.IsZero() {
			what += " as of " + at.UTC().Format(time.RFC3339)
		}
	}
	fmt.Fprintf(w, "Restored %s (integrity ok, schema version %d) as %s (mode 0600) in %s.\n", what, version, cfg.DBPath(), time.Since(start).Round(time.Millisecond))
	// Run as root for a service: hand the file to the folder's owner, or the service could not open it.
	if err := handBack(cfg.DataDir, cfg.DBPath()); err != nil {
		fmt.Fprintf(w, "warning: could not give %s to the data folder's owner: %v\n", cfg.DBPath(), err)
	}
	if err := reportKey(ctx, w, cfg); err != nil {
		return fmt.Errorf("restore: the database is restored, but %w", err)
	}
	fmt.Fprintln(w, "Then start the portal (systemctl start portier).")
	return nil
}

// parseRestoreTime reads --at: RFC 3339, or a date and time in the machine's time zone.
func parseRestoreTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("restore: --at %q: want a time such as 2026-11-29T08:00:00Z or \"2026-11-29 08:00\" (local time)", s)
}

// reportKey says whether the key in place opens the restored database, so a wrong key is found now and
// not at the first reveal. It returns an error for a key that does not belong.
func reportKey(ctx context.Context, w io.Writer, cfg *config) error {
	st, err := os.Stat(cfg.KeyPath())
	if err != nil {
		fmt.Fprintf(w, "warning: there is no key file %s. Put the key of the installation the database came from there (mode 0600, owned by the service user), "+
			"or set PORTIER_SECRET_KEY_FILE to it (the typed-in recovery sheet works), BEFORE starting the portal: "+
			"sealed secrets (stored passwords, Wi-Fi and VPN keys, authenticator seeds) open only with it.\n", cfg.KeyPath())
		return nil
	}
	key, err := db.LoadKey(cfg.KeyPath())
	if err != nil {
		return fmt.Errorf("the key %s cannot be read (%d bytes): %w", cfg.KeyPath(), st.Size(), err)
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		return err
	}
	hasCheck, err := db.CheckKeyFile(ctx, cfg.DBPath(), sealer)
	switch {
	case errors.Is(err, db.ErrWrongKey):
		return wrongKey(cfg)
	case err != nil:
		return err
	case !hasCheck:
		fmt.Fprintf(w, "The key file %s is in place. The database is from before key check values: sealed secrets open only if it is the key of the installation the database came from.\n", cfg.KeyPath())
	default:
		fmt.Fprintf(w, "The key %s belongs to this database (its check value opens).\n", cfg.KeyPath())
	}
	return nil
}

// handBack gives files that root made in the data folder to the folder's owner (the service user), so that
// running a command with sudo cannot lock the service out of its own files. It does nothing unless run as
// root with a folder owned by someone else.
func handBack(dir string, files ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	owner, ok := st.Sys().(*syscall.Stat_t)
	if !ok || owner.Uid == 0 {
		return nil
	}
	var errs []error
	for _, f := range files {
		fst, err := os.Lstat(f)
		if err != nil {
			continue
		}
		if sys, ok := fst.Sys().(*syscall.Stat_t); ok && sys.Uid == 0 && fst.Mode().IsRegular() {
			errs = append(errs, os.Chown(f, int(owner.Uid), int(owner.Gid)))
		}
	}
	return errors.Join(errs...)
}

// doctor collects the result of each check: one line each.
type doctor struct {
	w                  io.Writer
	problems, warnings int
}

func (d *doctor) ok(format string, args ...any) { fmt.Fprintf(d.w, "ok: "+format+"\n", args...) }
func (d *doctor) problem(what, fix string) {
	d.problems++
	fmt.Fprintf(d.w, "problem: %s, fix: %s\n", what, fix)
}
func (d *doctor) warn(what, fix string) {
	d.warnings++
	fmt.Fprintf(d.w, "warning: %s, fix: %s\n", what, fix)
}

// certExpiryWarning is how long before its end a certificate counts as a problem.
const certExpiryWarning = 14 * 24 * time.Hour

func cmdDoctor(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	d := &doctor{w: env.stdout}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := env.settings.parse()
	if err != nil {
		d.problem("configuration: "+err.Error(), "correct that setting (in /etc/portier/portier.env for the service); `portier help` lists every setting")
		return fmt.Errorf("doctor: %d problem(s) found", d.problems)
	}
	d.ok("configuration parses")
	now := time.Now()

	// Data folder.
	if st, err := os.Stat(cfg.DataDir); err != nil {
		d.problem(fmt.Sprintf("data folder %s: %v", cfg.DataDir, errors.Unwrap(err)),
			"run `portier install-service` or start the portal once: it creates the folder with mode 0700")
	} else if !st.IsDir() {
		d.problem(fmt.Sprintf("data folder %s is not a folder", cfg.DataDir), "set PORTIER_DATA to a folder")
	} else if perm := st.Mode().Perm(); perm&0o077 != 0 {
		d.problem(fmt.Sprintf("data folder %s has mode %04o: other accounts can reach the database and the key file", cfg.DataDir, perm),
			"chmod 700 "+cfg.DataDir)
	} else {
		d.ok("data folder %s has mode %04o", cfg.DataDir, perm)
	}

	// Key file and database.
	_, dbErr := os.Stat(cfg.DBPath())
	dbExists := dbErr == nil
	var sealer *db.Sealer
	if st, err := os.Stat(cfg.KeyPath()); err != nil {
		if dbExists {
			d.problem(fmt.Sprintf("key file %s is missing but the database exists: sealed secrets cannot be opened", cfg.KeyPath()),
				"put the secret.key of this installation back (mode 0600, owned by the service user), or set PORTIER_SECRET_KEY_FILE to it, before starting the portal")
		} else {
			d.ok("no key file yet: it is created at first start (print it with `portier key export` and keep the sheet offline)")
		}
	} else if key, err := db.LoadKey(cfg.KeyPath()); err != nil {
		d.problem(fmt.Sprintf("key file %s: %v", cfg.KeyPath(), err), "put the key of this installation back")
	} else if perm := st.Mode().Perm(); perm&0o077 != 0 {
		d.problem(fmt.Sprintf("key file %s has mode %04o: other accounts may read it", cfg.KeyPath(), perm), "chmod 600 "+cfg.KeyPath())
	} else {
		sealer, _ = db.NewSealer(key)
		d.ok("key file %s: mode %04o, checksum %s (compare with the recovery sheet)", cfg.KeyPath(), perm, db.KeyChecksum(key))
	}
	if dbExists && sealer != nil {
		switch hasCheck, err := db.CheckKeyFile(ctx, cfg.DBPath(), sealer); {
		case errors.Is(err, db.ErrWrongKey):
			d.problem(fmt.Sprintf("the key %s does not belong to the database %s: sealed secrets would not open", cfg.KeyPath(), cfg.DBPath()),
				"supply this database's key (PORTIER_SECRET_KEY_FILE, or its secret.key), or restore the database that belongs to this key")
		case err != nil:
			d.problem(fmt.Sprintf("key check value of %s: %v", cfg.DBPath(), err), "stop the portal and restore the newest backup")
		case hasCheck:
			d.ok("the key belongs to the database (its check value opens)")
		default:
			d.ok("the database has no key check value yet: it gets one at the next start")
		}
	}
	if !dbExists {
		d.ok("no database yet: it is created at first start")
	} else {
		known := db.KnownSchemaVersion()
		v, err := db.CheckFile(ctx, cfg.DBPath())
		switch {
		case err != nil:
			d.problem(fmt.Sprintf("database %s: %v", cfg.DBPath(), err),
				"stop the portal and restore the newest backup (portier restore --from FILE)")
		case v > known:
			d.problem(fmt.Sprintf("database schema version %d is newer than this binary knows (%d)", v, known), "use the newer portier binary")
		case v < known:
			d.ok("database passes integrity_check, schema version %d (migrated to %d at the next start)", v, known)
		default:
			d.ok("database passes integrity_check, schema version %d", v)
		}
		// Reading a WAL database leaves -wal and -shm files behind; made by root, they would lock the service out.
		handBack(cfg.DataDir, cfg.DBPath()+"-wal", cfg.DBPath()+"-shm")
		if st, err := os.Stat(cfg.DBPath()); err == nil && st.Mode().Perm()&0o077 != 0 {
			d.problem(fmt.Sprintf("database %s has mode %04o", cfg.DBPath(), st.Mode().Perm()), "chmod 600 "+cfg.DBPath())
		}
	}

	// Base URL.
	host := cfg.BaseURL.Hostname()
	switch {
	case cfg.BaseURL.Scheme == "https":
		d.ok("base URL %s uses https", cfg.BaseURL)
	case isLoopbackHost(host):
		d.ok("base URL %s is local (fine for trying out; production needs https)", cfg.BaseURL)
	default:
		d.warn(fmt.Sprintf("base URL %s is plain http on a network host: passwords and session cookies cross the network unencrypted", cfg.BaseURL),
			"use an https:// base URL with PORTIER_TLS=acme (or files), or a reverse proxy that terminates HTTPS")
	}

	// TLS.
	switch cfg.TLS {
	case "files":
		d.checkCert(cfg, now)
	case "acme":
		d.ok("certificates from the ACME authority (Let's Encrypt) for %s, cached in %s", host, filepath.Join(cfg.DataDir, "acme"))
		_, port, _ := net.SplitHostPort(cfg.Addr)
		_, hport, _ := net.SplitHostPort(cfg.HTTPAddr)
		if port != "443" && hport != "80" {
			d.warn(fmt.Sprintf("neither PORTIER_ADDR (%s) listens on 443 nor PORTIER_HTTP_ADDR (%s) on 80: the certificate authority checks the name on one of these ports", cfg.Addr, cfg.HTTPAddr),
				"use PORTIER_ADDR=:443 (and PORTIER_HTTP_ADDR=:80), or forward those ports to them")
		}
	default:
		if cfg.BaseURL.Scheme == "https" {
			if len(cfg.TrustedProxies) == 0 {
				d.warn("TLS is off with an https base URL, so a reverse proxy terminates HTTPS, but PORTIER_TRUSTED_PROXIES is empty: every client appears with the proxy's address (throttling, audit)",
					"set PORTIER_TRUSTED_PROXIES to the proxy's address, or let Portier do HTTPS itself with PORTIER_TLS=acme")
			} else {
				d.ok("TLS is terminated by a reverse proxy (%d trusted address range(s))", len(cfg.TrustedProxies))
			}
		}
	}

	// Mail server: connect, EHLO, STARTTLS, AUTH — and send nothing.
	if cfg.SMTPURL == nil {
		d.warn("no mail server set: invitations, password resets and confirmations cannot be sent (the log notes whom each was for), and e-mail codes are not offered as a second factor",
			"set PORTIER_SMTP_URL, e.g. smtp://user:password@mail.example.com:587")
	} else {
		where := cfg.SMTPURL.Scheme + "://" + cfg.SMTPURL.Host // never the password
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := (&mail.SMTP{URL: cfg.SMTPURL, From: cfg.MailFrom}).Check(cctx)
		cancel()
		if err != nil {
			d.problem(fmt.Sprintf("mail server %s: %v", where, err),
				"check host, port, user and password in PORTIER_SMTP_URL, and that the firewall lets this machine reach the server")
		} else {
			d.ok("mail server %s accepts the connection (nothing was sent)", where)
		}
	}

	// Backups and replication.
	if cfg.BackupDir == "" && len(cfg.Replicas) == 0 {
		d.warn("no replica and no scheduled backups: losing this machine loses the data",
			"set PORTIER_REPLICA_URL to storage that leaves the machine (s3://, sftp:// or a mounted file:// folder), and PORTIER_BACKUP_DIR for long-term snapshots (see the README)")
	} else if len(cfg.Replicas) == 0 {
		d.warn("no replica: a lost machine loses every change since the last scheduled backup",
			"set PORTIER_REPLICA_URL (see the README, \"Backup and restore\")")
	}
	if cfg.BackupDir != "" {
		if st, err := os.Stat(cfg.BackupDir); err != nil {
			d.ok("backup folder %s does not exist yet: it is created with mode 0700", cfg.BackupDir)
		} else if !st.IsDir() {
			d.problem(fmt.Sprintf("backup folder %s is not a folder", cfg.BackupDir), "point the setting at a folder")
		} else {
			d.ok("backup folder %s exists", cfg.BackupDir)
		}
	}
	d.checkReplicas(ctx, cfg, now)

	switch {
	case d.problems > 0:
		fmt.Fprintf(d.w, "%d problem(s), %d warning(s)\n", d.problems, d.warnings)
		return fmt.Errorf("doctor: %d problem(s) found", d.problems)
	case d.warnings > 0:
		fmt.Fprintf(d.w, "no problems, %d warning(s)\n", d.warnings)
	default:
		fmt.Fprintln(d.w, "no problems found")
	}
	return nil
}

// checkReplicas asks every target for the newest change it holds and compares it with the changes this
// machine captured (Litestream's local state in the data folder): the same lag rule as /readyz.
func (d *doctor) checkReplicas(ctx context.Context, cfg *config, now time.Time) {
	for i, t := range cfg.Replicas {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		client, err := newReplicaClient(cfg, t)
		var remote ltx.TXID
		if err == nil {
			client.SetLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err = client.Init(cctx); err == nil {
				remote, err = remoteTXID(cctx, client)
			}
		}
		cancel()
		if err != nil {
			d.problem(fmt.Sprintf("replica %d %s cannot be read: %v", i+1, t, err),
				"check the network, the credentials (key file, host key, S3 keys) and that the folder or bucket exists")
			continue
		}
		pending, err := pendingSince(metaPath(cfg, t), remote)
		if err != nil {
			d.problem(fmt.Sprintf("replica %d %s: local replication state: %v", i+1, t, err), "check the data folder's permissions")
			continue
		}
		st := judgeLag(i+1, t.Scheme(), pending, time.Time{}, now, cfg.ReplicaLagMax)
		switch {
		case !st.OK:
			d.problem(fmt.Sprintf("replica %d %s is %s", i+1, t, st.Problem),
				"start the portal (it ships what is waiting), and look for \"replica target unreachable\" in its log")
		case remote == 0:
			d.ok("replica %d %s is reachable and holds nothing yet (the portal fills it when it runs)", i+1, t)
		default:
			d.ok("replica %d %s is reachable, lag %s (limit %s)", i+1, t, st.Lag.Round(100*time.Millisecond), cfg.ReplicaLagMax)
		}
	}
}

// checkCert checks the given certificate files: they load, the key matches, the certificate covers the
// base URL's host and is valid for at least another 14 days.
func (d *doctor) checkCert(cfg *config, now time.Time) {
	host := cfg.BaseURL.Hostname()
	pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		d.problem(fmt.Sprintf("TLS certificate %s and key %s: %v", cfg.TLSCert, cfg.TLSKey, err),
			"give a PEM certificate chain and its matching private key")
		return
	}
	leaf := pair.Leaf
	if leaf == nil {
		d.problem("TLS certificate "+cfg.TLSCert+" cannot be parsed", "give a PEM certificate chain")
		return
	}
	good := true
	if err := leaf.VerifyHostname(host); err != nil {
		good = false
		d.problem(fmt.Sprintf("TLS certificate %s does not cover %s (it names %s)", cfg.TLSCert, host, strings.Join(append(leaf.DNSNames, ipStrings(leaf.IPAddresses)...), ", ")),
			"get a certificate for "+host)
	}
	switch left := leaf.NotAfter.Sub(now); {
	case left <= 0:
		good = false
		d.problem(fmt.Sprintf("TLS certificate %s expired on %s", cfg.TLSCert, leaf.NotAfter.UTC().Format(time.DateOnly)),
			"renew it (Portier picks up new files within 10 seconds), or use PORTIER_TLS=acme")
	case left < certExpiryWarning:
		good = false
		d.problem(fmt.Sprintf("TLS certificate %s expires on %s, in %d day(s)", cfg.TLSCert, leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24)),
			"renew it (Portier picks up new files within 10 seconds), or use PORTIER_TLS=acme")
	}
	if leaf.NotBefore.After(now) {
		good = false
		d.problem(fmt.Sprintf("TLS certificate %s is not valid before %s", cfg.TLSCert, leaf.NotBefore.UTC().Format(time.RFC3339)),
			"check the machine's clock, or wait")
	}
	if good {
		d.ok("TLS certificate %s covers %s, key matches, valid until %s", cfg.TLSCert, host, leaf.NotAfter.UTC().Format(time.DateOnly))
	}
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

var validUser = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// Where install-service writes; variables for the test of the dry run.
var (
	unitPath    = "/etc/systemd/system/portier.service"
	envDir      = "/etc/portier"
	backupsDir  = "/var/backups/portier"
	defaultData = "/var/lib/portier"
	systemctl   = "systemctl" // "" in tests: no daemon-reload of the machine's systemd
)

func cmdInstallService(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	userName := fs.String("user", "portier", "system user the service runs as (created when missing)")
	dry := fs.Bool("dry-run", false, "print the unit and the steps instead of carrying them out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	data := defaultData
	if set["data"] || env.getenv("PORTIER_DATA") != "" {
		data = env.settings.get("data")
	}
	if !validUser.MatchString(*userName) {
		return fmt.Errorf("install-service: --user %q is not a valid user name (lower-case letters, digits, - and _)", *userName)
	}
	if !filepath.IsAbs(data) || filepath.Clean(data) != data || strings.ContainsAny(data, " \t\n%\\\"'$") || data == "/" {
		return fmt.Errorf("install-service: --data must be a plain absolute path such as /var/lib/portier, got %q", data)
	}
	baseURL := ""
	if set["base-url"] || env.getenv("PORTIER_BASE_URL") != "" {
		baseURL = env.settings.get("base-url")
		if err := checkBaseURL(baseURL); err != nil {
			return fmt.Errorf("install-service: setting %s: %v", env.settings.name("base-url"), err)
		}
	}
	unit := renderUnit(*userName, data)
	envFile := renderEnvFile(data, baseURL, env.settings.get("acme-email"))
	w := env.stdout

	_, lookupErr := user.Lookup(*userName)
	userExists := lookupErr == nil
	useradd := []string{"useradd", "--system", "--user-group", "--home-dir", data, "--no-create-home", "--shell", "/usr/sbin/nologin", *userName}
	if *dry {
		fmt.Fprintf(w, "# portier install-service --dry-run: nothing is changed. The steps would be:\n")
		if userExists {
			fmt.Fprintf(w, "# 1. user %s exists already\n", *userName)
		} else {
			fmt.Fprintf(w, "# 1. %s\n", strings.Join(useradd, " "))
		}
		fmt.Fprintf(w, "# 2. create %s with mode 0700, owned by %s (and %s for backups)\n", data, *userName, backupsDir)
		fmt.Fprintf(w, "# 3. create %s (0750) and, if missing, %s/portier.env (0640, root:%s):\n", envDir, envDir, *userName)
		fmt.Fprint(w, indent(envFile))
		fmt.Fprintf(w, "# 4. write %s:\n", unitPath)
		fmt.Fprint(w, unit)
		fmt.Fprintf(w, "# 5. systemctl daemon-reload\n")
		return nil
	}

	if os.Geteuid() != 0 {
		return errors.New("install-service: needs root (run it with sudo), or use --dry-run to see what it would do")
	}
	if !userExists {
		if out, err := exec.CommandContext(ctx, useradd[0], useradd[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("install-service: %s: %v: %s", strings.Join(useradd, " "), err, strings.TrimSpace(string(out)))
		}
		fmt.Fprintf(w, "created system user %s\n", *userName)
	}
	u, err := user.Lookup(*userName)
	if err != nil {
		return fmt.Errorf("install-service: user %s: %w", *userName, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, dir := range []string{data, backupsDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("install-service: %w", err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("install-service: %w", err)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("install-service: %w", err)
		}
	}
	fmt.Fprintf(w, "data folder %s: mode 0700, owner %s\n", data, *userName)
	if err := os.MkdirAll(envDir, 0o750); err != nil {
		return fmt.Errorf("install-service: %w", err)
	}
	if err := os.Chown(envDir, 0, gid); err != nil {
		return fmt.Errorf("install-service: %w", err)
	}
	envPath := filepath.Join(envDir, "portier.env")
	if f, err := os.OpenFile(envPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640); err == nil {
		_, werr := f.WriteString(envFile)
		if err := errors.Join(werr, f.Chown(0, gid), f.Close()); err != nil {
			return fmt.Errorf("install-service: %s: %w", envPath, err)
		}
		fmt.Fprintf(w, "wrote %s: edit it (base URL, mail server, backups)\n", envPath)
	} else if errors.Is(err, os.ErrExist) {
		fmt.Fprintf(w, "kept the existing %s\n", envPath)
	} else {
		return fmt.Errorf("install-service: %w", err)
	}
	if err := writeFileAtomic(unitPath, []byte(unit), 0o644); err != nil {
		return fmt.Errorf("install-service: %w", err)
	}
	fmt.Fprintf(w, "wrote %s\n", unitPath)
	if self, err := os.Executable(); err == nil && self != "/usr/local/bin/portier" {
		fmt.Fprintf(w, "note: the unit starts /usr/local/bin/portier; copy this binary there: sudo install -m 0755 %s /usr/local/bin/portier\n", self)
	}
	if systemctl != "" {
		if _, err := exec.LookPath(systemctl); err == nil {
			if out, err := exec.CommandContext(ctx, systemctl, "daemon-reload").CombinedOutput(); err != nil {
				fmt.Fprintf(w, "warning: systemctl daemon-reload: %v: %s\n", err, strings.TrimSpace(string(out)))
			}
		}
	}
	fmt.Fprintf(w, "Next: edit %s, then\n  sudo systemctl enable --now portier\n  journalctl -u portier -f\n", envPath)
	return nil
}

// renderUnit adapts the embedded unit to another user or data folder.
func renderUnit(userName, data string) string {
	u := deploy.Unit
	u = strings.Replace(u, "\nUser=portier\n", "\nUser="+userName+"\n", 1)
	u = strings.Replace(u, "\nGroup=portier\n", "\nGroup="+userName+"\n", 1)
	if data != defaultData {
		// StateDirectory= manages only /var/lib/<name>: another folder is made by install-service.
		u = strings.Replace(u, "# The data folder, made by systemd and owned by the service user; 0700 keeps the database and the key file\n"+
			"# away from every other account.\nStateDirectory=portier\nStateDirectoryMode=0700\n",
			"# The data folder, made by `portier install-service`: owned by the service user, mode 0700.\n", 1)
		u = strings.ReplaceAll(u, defaultData, data)
	}
	return u
}

func renderEnvFile(data, baseURL, acmeEmail string) string {
	var b strings.Builder
	b.WriteString("# Portier settings for the service (KEY=value; `portier help` lists all). Readable by root and the service only.\n")
	fmt.Fprintf(&b, "PORTIER_DATA=%s\n", data)
	if strings.HasPrefix(baseURL, "https://") {
		fmt.Fprintf(&b, "PORTIER_BASE_URL=%s\nPORTIER_TLS=acme\nPORTIER_ADDR=:443\nPORTIER_HTTP_ADDR=:80\n", baseURL)
		if acmeEmail != "" {
			fmt.Fprintf(&b, "PORTIER_ACME_EMAIL=%s\n", acmeEmail)
		} else {
			b.WriteString("#PORTIER_ACME_EMAIL=you@example.com\n")
		}
	} else {
		if baseURL != "" {
			fmt.Fprintf(&b, "PORTIER_BASE_URL=%s\n", baseURL)
		} else {
			b.WriteString("#PORTIER_BASE_URL=https://portal.example.com\n")
		}
		b.WriteString("#PORTIER_TLS=acme\n#PORTIER_ADDR=:443\n#PORTIER_HTTP_ADDR=:80\n#PORTIER_ACME_EMAIL=you@example.com\n")
	}
	b.WriteString("#PORTIER_SMTP_URL=smtp://user:password@mail.example.com:587\n#PORTIER_MAIL_FROM=portal@example.com\n#PORTIER_MSP_NAME=Muster IT\n")
	fmt.Fprintf(&b, "#PORTIER_BACKUP_DIR=%s\n", backupsDir)
	b.WriteString("# Continuous replication to storage off this machine (see the README, \"Backup and restore\"):\n" +
		"#PORTIER_REPLICA_URL=s3://bucket/portier\n#PORTIER_REPLICA_S3_ENDPOINT=https://fsn1.your-objectstorage.com\n" +
		"#PORTIER_REPLICA_S3_ACCESS_KEY_ID=\n#PORTIER_REPLICA_S3_SECRET_ACCESS_KEY=\n#PORTIER_RESTORE_IF_MISSING=true\n")
	return b.String()
}

// checkBaseURL applies the base URL's rule from config.go to one value.
func checkBaseURL(raw string) error {
	s := newSettings()
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s.register(fs, func(string) string { return "" })
	if err := fs.Set("base-url", raw); err != nil {
		return err
	}
	if err := fs.Set("data", os.TempDir()); err != nil {
		return err
	}
	_, err := s.parse()
	return err
}

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString("#    " + line)
		}
	}
	return b.String()
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".portier-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Chmod(mode), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
