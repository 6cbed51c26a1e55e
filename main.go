// Command portier is the customer portal for IT managed-service providers: one binary, one SQLite file.
// main only wires things together; every subcommand is a function of run's arguments, so tests call run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on a VM without tzdata installed

	"portier/auth"
	"portier/db"
	"portier/handlers"
	"portier/i18n"
	"portier/mail"
	"portier/static"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "portier:", err)
		os.Exit(1)
	}
}

type command struct {
	name, args, help string
	run              func(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error
}

// runEnv is what a subcommand gets from the outside world.
type runEnv struct {
	getenv   func(string) string
	stdout   io.Writer
	stderr   io.Writer
	settings *settings
}

func commands() []command {
	return []command{
		{"serve", "", "run the portal (the default)", cmdServe},
		{"version", "", "print version, commit and build date", cmdVersion},
		{"backup", "--out FILE", "write a consistent copy of the database while the portal runs", cmdBackup},
		{"admin", "create --email E [--name N] [--lang de|en]", "invite an MSP administrator (also the very first one); prints the link", cmdAdmin},
		{"org", "create --name N [--slug S]", "create a customer organisation; prints its slug", cmdOrg},
		{"invite", "--org SLUG --email E [--name N] [--role manager|viewer] [--lang de|en]", "invite a person to an organisation; prints the link", cmdInvite},
		{"user", "disable|enable --email E", "disable an account at once (every session ends; works while the portal runs) or enable it again", cmdUser},
		{"demo", "", "create the organisation \"Muster GmbH\" with example documentation; prints its slug", cmdDemo},
		{"restore", "--from FILE|URL [--at TIME]", "put a backup file, or the state of a replica target (file://, sftp://, s3://) at a point in time, into an empty data folder (refuses a live database)", cmdRestore},
		{"key", "export", "print the master key as a recovery sheet to keep offline (groups of four with checks)", cmdKey},
		{"doctor", "", "check configuration, data folder, key file, database, TLS, SMTP and base URL; print what to fix", cmdDoctor},
		{"install-service", "[--user U] [--dry-run]", "install the systemd unit, the service user and the data folder (needs root)", cmdInstallService},
		{"bench", "[--out FILE] [--duration 5s] [--clients 64]", "generate 1,000 organisations, 100,000 items and 5,000 people in a temporary folder, serve them and measure; prints a table, writes JSON", cmdBench},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stdout, newSettings())
		return nil
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		env := &runEnv{getenv: getenv, stdout: stdout, stderr: stderr, settings: newSettings()}
		fs := flag.NewFlagSet("portier "+name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { usage(stderr, env.settings) }
		env.settings.register(fs, getenv)
		return cmd.run(ctx, env, fs, args)
	}
	usage(stderr, newSettings())
	return fmt.Errorf("unknown command %q", name)
}

func usage(w io.Writer, s *settings) {
	fmt.Fprintf(w, "Portier %s — customer portal for IT service providers\n\nUsage: portier [command] [settings]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-28s %s\n", c.name+" "+c.args, c.help)
	}
	fmt.Fprintf(w, "  %-28s %s\n", "help", "show this help")
	fmt.Fprintf(w, "\nSettings (flag, environment variable, default):\n")
	for _, st := range s.list {
		def := st.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "  --%-18s %-26s %s\n      %s\n", st.flag, st.env, def, st.help)
	}
}

func parseSettings(env *runEnv, fs *flag.FlagSet, args []string) (*config, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return env.settings.parse()
}

func cmdVersion(_ context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, c, d := buildInfo()
	fmt.Fprintf(env.stdout, "portier %s (commit %s, built %s)\n", v, c, d)
	return nil
}

// buildInfo names version, commit and build time: from the release task's -ldflags, or else from what Go
// records in every binary built from a checkout (`go build`, `go install`): the commit, its time, and
// whether the work tree had changes.
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, date
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v, c, d
	}
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version // go install portier@v1.2.3
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if c == "unknown" && rev != "" {
		c = rev[:min(12, len(rev))]
		if modified == "true" {
			c += "+changes"
		}
	}
	if d == "unknown" && at != "" {
		d = at + " (commit time)"
	}
	return v, c, d
}

func cmdBackup(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "", "file to write the backup to (must not exist)")
	cfg, err := parseSettings(env, fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out FILE is required")
	}
	start := time.Now()
	if err := db.Backup(ctx, cfg.DBPath(), *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(env.stdout, "backup written to %s (%d bytes, integrity ok, %s). The key file %s is not in it: keep a copy of it elsewhere.\n",
		*out, st.Size(), time.Since(start).Round(time.Millisecond), cfg.KeyPath())
	return nil
}

// app is everything serve and the administrative commands share.
type app struct {
	cfg    *config
	db     *db.DB
	sealer *db.Sealer
	i18n   *i18n.Bundle
	log    *slog.Logger
	repl   *replication // nil unless serving with replica targets
}

// loadKey reads the master key. A key the operator supplied is only read; secret.key in the data folder
// is created on first start, but never beside an existing database: a new key there would seal nothing
// the database holds, and the portal would fail at the first reveal.
func loadKey(cfg *config) ([]byte, error) {
	if cfg.KeySupplied {
		return db.LoadKey(cfg.KeyPath())
	}
	if _, err := os.Stat(cfg.KeyPath()); errors.Is(err, os.ErrNotExist) && fileExists(cfg.DBPath()) {
		return nil, fmt.Errorf("the database %s exists but its key file %s does not: put the key back (or set PORTIER_SECRET_KEY_FILE to it, e.g. the typed-in recovery sheet) before starting", cfg.DBPath(), cfg.KeyPath())
	}
	return db.LoadOrCreateKey(cfg.KeyPath())
}

// wrongKey explains ErrWrongKey wherever it is met.
func wrongKey(cfg *config) error {
	return fmt.Errorf("the key %s does not belong to the database %s (its check value does not open): sealed secrets would not open either. "+
		"Supply this database's key (PORTIER_SECRET_KEY_FILE, or its secret.key in the data folder), or restore the database that belongs to this key", cfg.KeyPath(), cfg.DBPath())
}

func openApp(ctx context.Context, cfg *config, logger *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder %s: %w", cfg.DataDir, err)
	}
	key, err := loadKey(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		return nil, err
	}
	var opts []db.Option
	if len(cfg.Replicas) > 0 {
		opts = append(opts, db.NoAutoCheckpoint)
	}
	if !fileExists(cfg.DBPath()) {
		dropLitestreamState(cfg)
	}
	d, err := db.Open(ctx, cfg.DBPath(), opts...)
	if err != nil {
		return nil, err
	}
	if err := d.EnsureKeyCheck(ctx, sealer); err != nil {
		d.Close()
		if errors.Is(err, db.ErrWrongKey) {
			return nil, wrongKey(cfg)
		}
		return nil, err
	}
	bundle, err := i18n.Load()
	if err != nil {
		d.Close()
		return nil, err
	}
	return &app{cfg: cfg, db: d, sealer: sealer, i18n: bundle, log: logger}, nil
}

// mailSender is SMTP when configured, the log otherwise.
func (a *app) mailSender() mail.Sender {
	if a.cfg.SMTPURL == nil {
		return &mail.Log{Logger: a.log}
	}
	return &mail.SMTP{URL: a.cfg.SMTPURL, From: a.cfg.MailFrom}
}

// server builds the HTTP handlers on the application services (services.go), which the account commands
// build the same way.
func (a *app) server(ctx context.Context, mailer *mail.Worker) (*handlers.Server, *services, error) {
	assets, err := static.Load()
	if err != nil {
		return nil, nil, err
	}
	// Half the cores hash passwords at most, so a flood of sign-ins leaves the other half to people
	// already signed in (measured with `portier bench`: with every core hashing, list pages during a
	// flood were 20× slower).
	svc, err := a.services(ctx, auth.NewHasher(max(1, runtime.NumCPU()/2)), mailer.Wake)
	if err != nil {
		return nil, nil, err
	}
	if svc.passkeysOff != nil {
		a.log.Warn("passkeys are not available with this base URL", "err", svc.passkeysOff)
	}
	cfg := a.cfg
	srv, err := handlers.New(handlers.Config{
		BaseURL:         cfg.BaseURL,
		TrustedProxies:  cfg.TrustedProxies,
		SessionIdle:     cfg.SessionIdle,
		SessionLifetime: cfg.SessionLifetime,
		Logger:          a.log,
		Sealer:          a.sealer,
		PasswordPolicy:  cfg.PasswordPolicy,
		NoMailServer:    cfg.SMTPURL == nil,
		IdPEndpoints:    cfg.IdPEndpoints,
		AttachmentMax:   cfg.AttachmentMax,
		Replicas:        a.replicaStates(),
	}, a.db, a.i18n, assets, handlers.Services{
		MSP: svc.msp, Mails: svc.mails, Accounts: svc.accounts, Signin: svc.signin, Passkeys: svc.passkeys,
		Audit: svc.audit, Docs: svc.docs,
	})
	return srv, svc, err
}

// serverProcs is how many Go processors (Ps) the server runs with: the runtime's choice (the CPUs the
// process may use), but at least two unless the operator set GOMAXPROCS. With one P, a request that waits
// for the disk inside a system call — the audit log's group commit syncs the WAL (synchronous=FULL) before
// any audited view or reveal is answered — keeps that P until the runtime's monitor takes it back, up to
// 10 ms later, and no other request runs meanwhile: on one pinned core (`portier bench --cpus 1`) item
// pages whose look had to be audited ran at 2,529/s with one P and 8,156/s with two, the CPU idle while it
// waited. Two Ps on one core share it through the kernel; a sync then blocks its thread only.
func serverProcs(env string, current int) (n int, raised bool) {
	if env != "" || current >= 2 {
		return current, false
	}
	return 2, true
}

// readHeaderTimeout is how long a client may take to send its request headers (security.md: 10 s); the
// slow-header test shortens it so it runs in a second.
var readHeaderTimeout = 10 * time.Second

// serveAgent is the audit log's user agent for what the server does by itself at start.
const serveAgent = "portier serve"

func cmdServe(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	cfg, err := parseSettings(env, fs, args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	started := time.Now()
	if env.getenv("GOGC") == "" {
		// The garbage collector ran every time the small live heap doubled: with 200 instead of 100 it
		// runs half as often, for ~20% more pages per second and ~20 MB more memory (measured with
		// `portier bench`: peak RSS ~120 MB with 100,000 items). GOGC set by the operator wins.
		debug.SetGCPercent(200)
	}
	if n, raised := serverProcs(env.getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); raised {
		runtime.GOMAXPROCS(n)
	}
	if err := restoreIfMissing(ctx, cfg, logger); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// Litestream's rule: its databases close after the application's connections.
	defer func() {
		a.db.Close()
		if err := a.repl.Close(context.Background()); err != nil {
			logger.Error("replication stopped with an error", "err", err)
		}
	}()
	if len(cfg.Replicas) > 0 {
		if a.repl, err = startReplication(ctx, cfg, logger); err != nil {
			return err
		}
	}
	worker := &mail.Worker{DB: a.db, Sealer: a.sealer, Sender: a.mailSender(), Log: logger}
	srv, svc, err := a.server(ctx, worker)
	if err != nil {
		return err
	}
	defer srv.Close()
	wctx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); worker.Run(wctx) }()
	defer func() { stopWorker(); <-workerDone }()
	stopBackups := startBackups(cfg, logger)
	defer stopBackups()
	stopDigests := startDigests(svc.docs, logger)
	defer stopDigests()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("setting %s: %w", env.settings.name("addr"), err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Before anyone is let in: an invitation whose sender lost the right to invite before this version (or
	// in a restored database) must not stay usable (accounts.WithdrawUnbackedAll).
	if n, err := svc.accounts.WithdrawUnbackedAll(ctx, db.AuditEntry{UserAgent: serveAgent}); err != nil {
		return fmt.Errorf("withdrawing invitations whose senders may no longer invite: %w", err)
	} else if n > 0 {
		logger.Info("withdrew open invitations whose senders may no longer invite", "count", n)
	}
	// A stop signal right after start cancels ctx while the link is looked up: that is a shutdown, not an error.
	link, err := svc.accounts.FirstAdminLink(ctx)
	if err != nil && ctx.Err() == nil {
		return err
	}
	errc := make(chan error, 1)
	web, err := startWeb(cfg, env.settings, hs, ln, logger, errc)
	if err != nil {
		return err
	}
	// One write for the whole greeting: whoever waits for "listening on" sees the rest with it.
	var greet strings.Builder
	fmt.Fprintf(&greet, "Portier %s listening on %s — open %s (started in %s; %d processors)\n", version, ln.Addr(), cfg.BaseURL,
		time.Since(started).Round(time.Millisecond), runtime.GOMAXPROCS(0))
	if cfg.SMTPURL == nil {
		fmt.Fprintln(&greet, "No mail server set (PORTIER_SMTP_URL): no mail is sent; the log notes whom each mail was for, never its content. E-mail codes are not offered as a second factor.")
	}
	if msg := web.String(); msg != "" {
		fmt.Fprintln(&greet, msg)
	}
	if link != "" {
		fmt.Fprintf(&greet, "No administrator yet. Open this link to create the first one (valid 24 hours, until an administrator exists):\n%s\n", link)
		fmt.Fprintf(&greet, "Or from a shell: portier admin create --email you@example.com --name \"Your Name\"\n")
	}
	io.WriteString(env.stdout, greet.String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := web.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
