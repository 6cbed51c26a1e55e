package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"portier/db"
)

// cmdKey handles `portier key export`: the replica and the backups hold sealed secrets, never the key, so
// the key needs a custody of its own — a sheet of paper in a safe.
func cmdKey(ctx context.Context, env *runEnv, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("key: want `portier key export` (prints the master key as a recovery sheet)")
	}
	cfg, err := parseSettings(env, fs, args[1:])
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.KeyPath()); err != nil {
		return fmt.Errorf("key export: no key at %s: start the portal once (it creates the key), or point PORTIER_DATA / PORTIER_SECRET_KEY_FILE at the installation", cfg.KeyPath())
	}
	key, err := db.LoadKey(cfg.KeyPath())
	if err != nil {
		return fmt.Errorf("key export: %w", err)
	}
	sealer, err := db.NewSealer(key)
	if err != nil {
		return err
	}
	checked := "no database here to check the key against"
	if fileExists(cfg.DBPath()) {
		hasCheck, err := db.CheckKeyFile(ctx, cfg.DBPath(), sealer)
		switch {
		case errors.Is(err, db.ErrWrongKey):
			// A sheet of the wrong key would be trusted in the one moment it matters.
			return fmt.Errorf("key export: %w; no sheet printed", wrongKey(cfg))
		case err != nil:
			return fmt.Errorf("key export: %w", err)
		case hasCheck:
			checked = "this key opens the database's check value"
		default:
			checked = "the database has no check value yet (it gets one at the next start)"
		}
	}
	w := env.stdout
	fmt.Fprintf(w, "PORTIER RECOVERY SHEET: master key\n\n")
	fmt.Fprintf(w, "Portal:    %s\n", cfg.BaseURL)
	fmt.Fprintf(w, "Printed:   %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Key file:  %s\n", cfg.KeyPath())
	fmt.Fprintf(w, "Database:  %s\n\n", checked)
	for _, line := range db.KeySheetLines(key) {
		fmt.Fprintln(w, "    "+line)
	}
	fmt.Fprintf(w, "\nWhoever holds this sheet and a copy of the replica or a backup can read every stored secret.\n"+
		"Keep it offline (printed, in a safe), never beside the backups. Each line ends with a check group\n"+
		"that catches a mistyped digit.\n\n"+
		"On a new machine: type the numbered lines and the checksum line into a file (mode 0600), set\n"+
		"PORTIER_SECRET_KEY_FILE to it (or install it as the systemd credential secret.key), then restore.\n")
	fmt.Fprintln(env.stderr, "The master key was printed: do not leave it in a terminal log or a ticket.")
	return nil
}
