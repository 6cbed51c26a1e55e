package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"portier/access"
	"portier/accounts"
	"portier/auth"
	"portier/db"
	"portier/i18n"
)

// The account commands: the first administrator, organisations, invitations and disabling an account from
// the command line.
// They call the application layer (accounts) as the web pages do, so the rules, the mail and the audit
// entry are the same; no HTTP server is built for them. Each command prints what a script needs (the slug, the link) alone on
// standard output and explains the rest on standard error.

const cliAgent = "portier command line" // the audit log's user agent for these commands

// cliActor is who acts through these commands, for the access policy: the operator of the server, who
// holds the data folder and its key, with an MSP administrator's authority. The commands still ask the
// policy, so what nobody may do (a staff address as a customer member, a customer as staff) the command
// line may not do either.
var cliActor = access.Operator()

// cmdAdmin: portier admin create --email E [--name N] [--lang de|en]
func cmdAdmin(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`admin: want "portier admin create --email E [--name N] [--lang de|en]"`)
	}
	email := fs.String("email", "", "e-mail address of the administrator")
	name := fs.String("name", "", "their name (optional; they can change it when setting the password)")
	lang := fs.String("lang", "de", "language of the invitation mail and the portal for them: de or en")
	cfg, err := parseSettings(env, fs, args[1:])
	if err != nil {
		return err
	}
	req, err := inviteRequest(*email, *name, *lang)
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	req.Role = "admin"
	return inviteFromCLI(ctx, env, cfg, req, "")
}

// cmdInvite: portier invite --org SLUG --email E [--name N] [--role manager|viewer] [--lang de|en]
func cmdInvite(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	org := fs.String("org", "", "slug of the organisation (see portier org create)")
	email := fs.String("email", "", "e-mail address of the person to invite")
	name := fs.String("name", "", "their name (optional; they can change it when setting the password)")
	role := fs.String("role", "viewer", "manager (may invite colleagues) or viewer")
	lang := fs.String("lang", "de", "language of the invitation mail and the portal for them: de or en")
	cfg, err := parseSettings(env, fs, args)
	if err != nil {
		return err
	}
	req, err := inviteRequest(*email, *name, *lang)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	if *role != "manager" && *role != "viewer" {
		return fmt.Errorf("invite: --role %q: want manager or viewer", *role)
	}
	if strings.TrimSpace(*org) == "" {
		return errors.New("invite: --org SLUG is required (portier org create --name \"Muster GmbH\" prints one)")
	}
	req.Role = *role
	return inviteFromCLI(ctx, env, cfg, req, strings.TrimSpace(*org))
}

// cmdOrg: portier org create --name "Muster GmbH" [--slug muster]
func cmdOrg(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`org: want "portier org create --name NAME [--slug SLUG]"`)
	}
	name := fs.String("name", "", "name of the customer organisation, e.g. \"Muster GmbH\"")
	slug := fs.String("slug", "", "its URL name (lower-case letters, digits, hyphens); derived from the name when not given")
	cfg, err := parseSettings(env, fs, args[1:])
	if err != nil {
		return err
	}
	n := strings.TrimSpace(*name)
	if n == "" {
		return errors.New("org create: --name is required")
	}
	a, err := openApp(ctx, cfg, cliLogger(env))
	if err != nil {
		return err
	}
	defer a.db.Close()
	acc, err := a.accounts(ctx)
	if err != nil {
		return err
	}
	o, err := acc.CreateOrg(ctx, cliActor, n, *slug, db.AuditEntry{UserAgent: cliAgent})
	var bad accounts.Invalid
	switch {
	case errors.As(err, &bad) && bad["name"] != "":
		return fmt.Errorf("org create: --name: %s", english(accounts.NameProblem(n)))
	case errors.As(err, &bad) && strings.TrimSpace(*slug) == "":
		return fmt.Errorf("org create: cannot derive a URL slug from %q; choose one with --slug (lower-case letters, digits and hyphens)", n)
	case errors.As(err, &bad):
		return fmt.Errorf("org create: --slug %q is not valid: use 1 to 50 lower-case letters, digits and hyphens, not starting or ending with a hyphen", strings.TrimSpace(*slug))
	case errors.Is(err, accounts.ErrSlugTaken):
		return fmt.Errorf("org create: an organisation with the slug %q exists already; choose another with --slug", accounts.OrgSlug(n, *slug))
	case err != nil:
		return fmt.Errorf("org create: %w", err)
	}
	fmt.Fprintf(env.stderr, "Created the organisation %q. Invite its people with: portier invite --org %s --email ...\n", o.Name, o.Slug)
	fmt.Fprintln(env.stdout, o.Slug)
	return nil
}

// cmdUser: portier user disable|enable --email E. Disabling is the operator's way to lock an account at
// once from the server — a stolen administrator's account, say, while nobody can sign in to the staff pages
// — and works while the portal runs: the account's sessions end in the database, and the portal reads the
// account on every request. It goes through accounts.SetDisabled as the people pages do: the last enabled
// administrator stays, the open invitations the person sent are withdrawn, and the audit log has it.
// --even-last-admin disables the only administrator too (accounts.DisableLastAdmin): their account stolen,
// the operator makes the next one with admin create.
func cmdUser(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || (args[0] != "disable" && args[0] != "enable") {
		return errors.New(`user: want "portier user disable --email E" or "portier user enable --email E"`)
	}
	verb := args[0]
	email := fs.String("email", "", "e-mail address of the account")
	lastAdmin := fs.Bool("even-last-admin", false, "disable: also when the account is the last enabled administrator (a stolen one); then make the next with portier admin create")
	cfg, err := parseSettings(env, fs, args[1:])
	if err != nil {
		return err
	}
	addr := db.NormalizeEmail(strings.TrimSpace(*email))
	if addr == "" {
		return fmt.Errorf("user %s: --email is required", verb)
	}
	if *lastAdmin && verb != "disable" {
		return errors.New("user enable: --even-last-admin is for disable only")
	}
	a, err := openApp(ctx, cfg, cliLogger(env))
	if err != nil {
		return err
	}
	defer a.db.Close()
	u, err := a.db.UserByEmail(ctx, addr)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("user %s: no account has the address %s", verb, addr)
	}
	if err != nil {
		return err
	}
	acc, err := a.accounts(ctx)
	if err != nil {
		return err
	}
	if u.Disabled == (verb == "disable") {
		fmt.Fprintf(env.stderr, "%s is %sd already: nothing changed.\n", addr, verb)
		return nil
	}
	actor := db.AuditEntry{UserAgent: cliAgent}
	var withdrawn int
	if *lastAdmin {
		withdrawn, err = acc.DisableLastAdmin(ctx, u, actor)
	} else {
		withdrawn, err = acc.SetDisabled(ctx, cliActor, 0, u, verb == "disable", actor)
	}
	switch {
	case errors.Is(err, accounts.ErrLastAdmin):
		return fmt.Errorf("user disable: %s is the last enabled administrator; another has to accept an invitation first (portier admin create --email ...), an open one does not count — or, if this account must stop now (it was stolen), add --even-last-admin", addr)
	case err != nil:
		return fmt.Errorf("user %s: %w", verb, err)
	case verb == "enable":
		fmt.Fprintf(env.stderr, "Enabled %s: they can sign in again.\n", addr)
		return nil
	}
	fmt.Fprintf(env.stderr, "Disabled %s: every session of theirs has ended, and they cannot sign in until enabled again (portier user enable --email %s).\n", addr, addr)
	if withdrawn > 0 {
		fmt.Fprintf(env.stderr, "Open invitations they had sent, now withdrawn: %d.\n", withdrawn)
	}
	if n, err := a.db.AdminsOrInvited(ctx); err == nil && n == 0 {
		fmt.Fprintln(env.stderr, "No administrator is left: make the next one with portier admin create --email ... (it prints the invitation link).")
	}
	return nil
}

// inviteRequest validates what admin create and invite have in common.
func inviteRequest(email, name, lang string) (accounts.InviteRequest, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return accounts.InviteRequest{}, errors.New("--email is required")
	}
	if !accounts.ValidEmail(email) {
		return accounts.InviteRequest{}, fmt.Errorf("--email %q is not a valid e-mail address (want name@example.com, at most 254 bytes)", email)
	}
	name = strings.TrimSpace(name)
	if name != "" {
		if key := accounts.NameProblem(name); key != "" {
			return accounts.InviteRequest{}, fmt.Errorf("--name: %s", english(key))
		}
	}
	if !i18n.Supported(lang) {
		return accounts.InviteRequest{}, fmt.Errorf("--lang %q: want de or en", lang)
	}
	return accounts.InviteRequest{Email: db.NormalizeEmail(email), Name: name, Lang: lang,
		By: cliActor, Actor: db.AuditEntry{UserAgent: cliAgent}}, nil
}

// inviteFromCLI invites through the application layer, without a mail worker (the running portal's worker
// sends what is queued). orgSlug "" invites to the MSP's staff.
func inviteFromCLI(ctx context.Context, env *runEnv, cfg *config, req accounts.InviteRequest, orgSlug string) error {
	a, err := openApp(ctx, cfg, cliLogger(env))
	if err != nil {
		return err
	}
	defer a.db.Close()
	where := "the MSP's staff"
	if orgSlug != "" {
		o, err := a.db.OrgBySlug(ctx, orgSlug)
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("invite: no organisation with the slug %q (portier org create --name ... prints the slug)", orgSlug)
		}
		if err != nil {
			return err
		}
		req.OrgID, where = o.ID, fmt.Sprintf("%q", o.Name)
	}
	acc, err := a.accounts(ctx)
	if err != nil {
		return err
	}
	sent, err := acc.Invite(ctx, req)
	inv := sent.Inv
	switch {
	case errors.Is(err, access.ErrStaffAddress):
		return fmt.Errorf("invite: %s belongs to MSP staff, who see every organisation already and cannot be a customer's member", req.Email)
	case errors.Is(err, access.ErrCustomerAddress):
		return fmt.Errorf("admin create: %s belongs to a customer's account; staff need an account of their own", req.Email)
	case errors.Is(err, accounts.ErrAccountDisabled):
		return fmt.Errorf("invite: %s belongs to a disabled account; enable it first (portier user enable --email %s)", req.Email, req.Email)
	case errors.Is(err, accounts.ErrRoleDiffers):
		return fmt.Errorf("admin create: %s is staff with another role already; an invitation does not change it", req.Email)
	case err != nil:
		return err
	case sent.Result == accounts.AlreadyMember:
		fmt.Fprintf(env.stderr, "%s belongs to %s already: nothing was sent.\n", req.Email, where)
		return nil
	}
	fmt.Fprintf(env.stderr, "Invited %s as %s of %s. The link below is valid until %s and works once:\n",
		inv.Email, inv.Role, where, inv.ExpiresAt.Local().Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(env.stdout, sent.Link)
	fmt.Fprintln(env.stderr, "The invitation e-mail waits in the outbox (in the database): the running portal's mail worker sends it within seconds, or when the portal starts.")
	if cfg.SMTPURL == nil {
		fmt.Fprintln(env.stderr, "No mail server is set (PORTIER_SMTP_URL): the invitation e-mail cannot be sent; pass the link on yourself.")
	}
	return nil
}

// cliLogger logs warnings and errors of the commands to standard error.
func cliLogger(env *runEnv) *slog.Logger {
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// english is the English text of a validation message, for the command line.
func english(key string) string {
	b, err := i18n.Load()
	if err != nil {
		return key
	}
	return b.For("en", "").T(key)
}

// accounts is the application layer for the account commands, built as the server builds it (services.go),
// with the MSP's mail texts as the portal writes them.
func (a *app) accounts(ctx context.Context) (*accounts.Accounts, error) {
	svc, err := a.services(ctx, auth.NewHasher(1), nil)
	if err != nil {
		return nil, err
	}
	return svc.accounts, nil
}
