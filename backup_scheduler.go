package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"portier/db"
)

// firstBackupDelay is how long after start the first scheduled backup is made: soon, but not in the way of
// start-up. A variable so that tests can shorten it.
var firstBackupDelay = 30 * time.Second

// backupName matches the files the scheduler writes (and the only files it ever deletes).
var backupName = regexp.MustCompile(`^portier-\d{8}-\d{6}\.db$`)

// startBackups runs the scheduled backups that cfg asks for (long-term snapshots beside the continuous
// replication of replication.go), and returns a function that stops them and waits until they have stopped.
func startBackups(cfg *config, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if cfg.BackupDir != "" {
		b := &backupScheduler{dbPath: cfg.DBPath(), dir: cfg.BackupDir, every: cfg.BackupInterval, keep: cfg.BackupKeep,
			first: firstBackupDelay, log: logger, now: time.Now}
		wg.Go(func() { b.run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// backupScheduler writes a backup (the same as `portier backup`) into dir every interval and keeps the
// newest keep of them. The key file is never copied: a backup holds the database only.
type backupScheduler struct {
	dbPath, dir string
	every       time.Duration
	keep        int
	first       time.Duration
	log         *slog.Logger
	now         func() time.Time
}

func (b *backupScheduler) run(ctx context.Context) {
	t := time.NewTimer(b.firstDelay())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		if path, err := b.backupOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("scheduled backup failed", "dir", b.dir, "err", err)
		} else {
			b.log.Info("scheduled backup written", "file", path, "dur_ms", time.Since(start).Milliseconds())
		}
		t.Reset(b.every)
	}
}

// firstDelay is how long to wait for the first backup after start: shortly, unless the newest scheduled
// backup is younger than the interval — then when the interval since it is over. Otherwise a service that
// keeps restarting would make a backup at every start and rotate the good old ones out within minutes.
func (b *backupScheduler) firstDelay() time.Duration {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return b.first
	}
	var newest time.Time
	for _, e := range entries {
		if !backupName.MatchString(e.Name()) {
			continue
		}
		at, err := time.Parse("20060102-150405", e.Name()[len("portier-"):len("portier-")+15])
		if err == nil && at.After(newest) {
			newest = at
		}
	}
	return max(b.first, newest.Add(b.every).Sub(b.now()))
}

// backupOnce writes one backup named portier-YYYYMMDD-HHMMSS.db (UTC) and deletes the oldest beyond keep.
func (b *backupScheduler) backupOnce(ctx context.Context) (string, error) {
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	path := filepath.Join(b.dir, "portier-"+b.now().UTC().Format("20060102-150405")+".db")
	if err := db.Backup(ctx, b.dbPath, path); err != nil {
		return "", err
	}
	return path, b.prune()
}

// prune deletes the oldest scheduled backups beyond keep. Only files named like the scheduler's own are
// ever considered; the names sort by time.
func (b *backupScheduler) prune() error {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && backupName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) > b.keep {
		if err := os.Remove(filepath.Join(b.dir, names[0])); err != nil {
			return fmt.Errorf("delete old backup: %w", err)
		}
		b.log.Info("old backup deleted", "file", names[0])
		names = names[1:]
	}
	return nil
}
