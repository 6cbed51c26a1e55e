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
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on a VM without tzdata installed

	"portier/auth"
	"portier/db"
	"portier/handlers"
	"portier/i18n"
	"portier/mail"
	"portier/static"
	"portier/views"
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
		{"demo", "", "create the organisation \"Muster GmbH\" with example documentation; prints its slug", cmdDemo},
		{"restore", "--from FILE", "put a backup into an empty data folder (refuses to overwrite a live database)", cmdRestore},
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
	fmt.Fprintf(env.stdout, "portier %s (commit %s, built %s)\n", version, commit, date)
	return nil
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
}

func openApp(ctx context.Context, cfg *config, logger *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder %s: %w", cfg.DataDir, err)
	}
	key, err := db.LoadOrCreateKey(cfg.KeyPath())
	if err != nil {
		return nil, err
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, cfg.DBPath())
	if err != nil {
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

// server builds the HTTP handlers; the administrative commands use it too, so they share every rule.
func (a *app) server(mailer handlers.Mailer) (*handlers.Server, error) {
	assets, err := static.Load()
	if err != nil {
		return nil, err
	}
	cfg := a.cfg
	return handlers.New(handlers.Config{
		BaseURL:         cfg.BaseURL,
		MSP:             views.MSP{Name: cfg.MSPName, SupportEmail: cfg.SupportEmail, SupportPhone: cfg.SupportPhone},
		TrustedProxies:  cfg.TrustedProxies,
		SessionIdle:     cfg.SessionIdle,
		SessionLifetime: cfg.SessionLifetime,
		Logger:          a.log,
		Sealer:          a.sealer,
		// Half the cores hash passwords at most, so a flood of sign-ins leaves the other half to people
		// already signed in (measured with `portier bench`: with every core hashing, list pages during a
		// flood were 20× slower).
		Hasher:         auth.NewHasher(max(1, runtime.NumCPU()/2)),
		PasswordPolicy: cfg.PasswordPolicy,
		Mailer:         mailer,
		NoMailServer:   cfg.SMTPURL == nil,
		IdPEndpoints:   cfg.IdPEndpoints,
		AttachmentMax:  cfg.AttachmentMax,
	}, a.db, a.i18n, assets)
}

// readHeaderTimeout is how long a client may take to send its request headers (security.md: 10 s); the
// slow-header test shortens it so it runs in a second.
var readHeaderTimeout = 10 * time.Second

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
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.db.Close()
	worker := &mail.Worker{DB: a.db, Sealer: a.sealer, Sender: a.mailSender(), Log: logger}
	srv, err := a.server(worker)
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
	errc := make(chan error, 1)
	web, err := startWeb(cfg, env.settings, hs, ln, logger, errc)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Portier %s listening on %s — open %s (started in %s)\n", version, ln.Addr(), cfg.BaseURL, time.Since(started).Round(time.Millisecond))
	if cfg.SMTPURL == nil {
		fmt.Fprintln(env.stdout, "No mail server set (PORTIER_SMTP_URL): no mail is sent; the log notes whom each mail was for, never its content. E-mail codes are not offered as a second factor.")
	}
	if msg := web.String(); msg != "" {
		fmt.Fprintln(env.stdout, msg)
	}
	if link, err := srv.FirstAdminLink(ctx); err != nil {
		return err
	} else if link != "" {
		fmt.Fprintf(env.stdout, "No administrator yet. Open this link to create the first one (valid 24 hours, until an administrator exists):\n%s\n", link)
		fmt.Fprintf(env.stdout, "Or from a shell: portier admin create --email you@example.com --name \"Your Name\"\n")
	}

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
