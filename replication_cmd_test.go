package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/superfly/ltx"
	"golang.org/x/crypto/ssh"

	"portier/db"
)

// TestReplicaSettings: each wrong replication or key setting stops start-up with one line naming it
// (and never repeating a password); a good one gives the targets in order, the old folder setting as a
// file:// target, and the key from a systemd credential.
func TestReplicaSettings(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(dir, "id_ed25519")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	hostKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(mustSSHPub(t))))
	openSSHKey := filepath.Join(dir, "id_open")
	os.WriteFile(openSSHKey, pem.EncodeToMemory(block), 0o644)
	openKey := filepath.Join(dir, "open.key")
	os.WriteFile(openKey, make([]byte, db.KeySize), 0o644)
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PORTIER_REPLICA_URL": "ftp://host/portier"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup:Geheim123@host/portier"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "file://relative/folder"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "file://DATA/replica"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/path?region=eu-central-1"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/a, s3://bucket/a"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup@host/portier"}, "PORTIER_REPLICA_SFTP_KEY"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup@host/portier", "PORTIER_REPLICA_SFTP_KEY": keyFile}, "PORTIER_REPLICA_SFTP_HOST_KEY"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup@host/portier", "PORTIER_REPLICA_SFTP_KEY": keyFile, "PORTIER_REPLICA_SFTP_HOST_KEY": "nonsense"}, "PORTIER_REPLICA_SFTP_HOST_KEY"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup@host/portier", "PORTIER_REPLICA_SFTP_KEY": filepath.Join(dir, "missing"), "PORTIER_REPLICA_SFTP_HOST_KEY": hostKey}, "PORTIER_REPLICA_SFTP_KEY"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/p", "PORTIER_REPLICA_S3_ACCESS_KEY_ID": "AKIA"}, "PORTIER_REPLICA_S3_ACCESS_KEY_ID"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/p", "PORTIER_REPLICA_S3_ENDPOINT": "fsn1.example.com"}, "PORTIER_REPLICA_S3_ENDPOINT"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/p", "AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}, "PORTIER_REPLICA_URL"},
		{map[string]string{"PORTIER_RESTORE_IF_MISSING": "true"}, "PORTIER_RESTORE_IF_MISSING"},
		{map[string]string{"PORTIER_REPLICA_URL": "file:///mnt/r", "PORTIER_RESTORE_IF_MISSING": "maybe"}, "PORTIER_RESTORE_IF_MISSING"},
		{map[string]string{"PORTIER_REPLICA_LAG_MAX": "500ms"}, "PORTIER_REPLICA_LAG_MAX"},
		{map[string]string{"PORTIER_REPLICA_RETENTION": "2h"}, "PORTIER_REPLICA_RETENTION"},
		{map[string]string{"PORTIER_REPLICA_SYNC_INTERVAL": "10ms"}, "PORTIER_REPLICA_SYNC_INTERVAL"},
		{map[string]string{"PORTIER_REPLICA_DIR": "DATA/replica"}, "PORTIER_REPLICA_DIR"},
		{map[string]string{"PORTIER_SECRET_KEY_FILE": filepath.Join(dir, "no-key")}, "PORTIER_SECRET_KEY_FILE"},
		// A key file others may read, and an endpoint or unparsable URL with a password in it (never echoed).
		{map[string]string{"PORTIER_SECRET_KEY_FILE": openKey}, "PORTIER_SECRET_KEY_FILE"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup@host/portier", "PORTIER_REPLICA_SFTP_KEY": openSSHKey, "PORTIER_REPLICA_SFTP_HOST_KEY": hostKey}, "PORTIER_REPLICA_SFTP_KEY"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/p", "PORTIER_REPLICA_S3_ENDPOINT": "https://AKIA:Geheim123@fsn1.example.com"}, "PORTIER_REPLICA_S3_ENDPOINT"},
		{map[string]string{"PORTIER_REPLICA_URL": "s3://bucket/p", "PORTIER_REPLICA_S3_ENDPOINT": "htps://AKIA:Geheim123@fsn1.example.com"}, "PORTIER_REPLICA_S3_ENDPOINT"},
		{map[string]string{"PORTIER_REPLICA_URL": "sftp://backup:x@Geheim123@host/%zz"}, "PORTIER_REPLICA_URL"},
	}
	for _, tc := range cases {
		data := t.TempDir()
		env := map[string]string{"PORTIER_DATA": data}
		for k, v := range tc.env {
			env[k] = strings.ReplaceAll(v, "DATA", data)
		}
		_, err := parseTestConfig(env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "Geheim123") {
			t.Errorf("%v: error %v, want one line naming %s", tc.env, err, tc.want)
		}
	}

	creds := t.TempDir()
	key := make([]byte, db.KeySize)
	rand.Read(key)
	os.WriteFile(filepath.Join(creds, "secret.key"), key, 0o400)
	data := t.TempDir()
	cfg, err := parseTestConfig(map[string]string{"PORTIER_DATA": data,
		"PORTIER_REPLICA_URL": " file:///mnt/backup/portier , sftp://backup@storage.example:23/portier,s3://bucket/portier",
		"PORTIER_REPLICA_DIR": "/mnt/old-replica", "PORTIER_REPLICA_SFTP_KEY": keyFile, "PORTIER_REPLICA_SFTP_HOST_KEY": hostKey,
		"PORTIER_RESTORE_IF_MISSING": "true", "CREDENTIALS_DIRECTORY": creds})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range cfg.Replicas {
		got = append(got, r.String())
	}
	want := []string{"file:///mnt/backup/portier", "sftp://backup@storage.example:23/portier", "s3://bucket/portier", "file:///mnt/old-replica"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("targets %q, want %q", got, want)
	}
	if !cfg.RestoreIfMissing || cfg.ReplicaSync != time.Second || cfg.ReplicaSnapshot != 24*time.Hour || cfg.ReplicaRetention != 168*time.Hour || cfg.ReplicaLagMax != time.Minute {
		t.Fatalf("defaults: %+v", cfg)
	}
	if !cfg.KeySupplied || cfg.KeyPath() != filepath.Join(creds, "secret.key") {
		t.Fatalf("systemd credential not used: %s %v", cfg.KeyPath(), cfg.KeySupplied)
	}
	// Each target keeps its own Litestream state in the data folder, named after the target.
	if a, b := metaPath(cfg, cfg.Replicas[0]), metaPath(cfg, cfg.Replicas[1]); a == b || filepath.Dir(a) != data {
		t.Fatalf("meta paths %s %s", a, b)
	}
}

func mustSSHPub(t *testing.T) ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// serveErr runs `portier serve` with env until it fails or listens; it returns the error of a failed start.
func serveErr(t *testing.T, env map[string]string) (error, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuf{}, &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, out, errOut) }()
	select {
	case err := <-done:
		return err, errOut.String()
	case <-time.After(60 * time.Second): // an S3 client retries with backoff before it gives up
		cancel()
		<-done
		t.Fatalf("serve started:\n%s", out.String())
		return nil, ""
	}
}

// TestKeyExportAndWrongKey: the recovery sheet gives the key back; a key that does not belong to the
// database is named as such at start-up, by doctor and by key export, before any secret is read; a lost
// key file is never silently replaced by a new one.
func TestKeyExportAndWrongKey(t *testing.T) {
	p := startPortier(t, nil)
	out, err := p.cmd(t, "key", "export")
	if err != nil || !strings.Contains(out, "this key opens the database's check value") {
		t.Fatalf("key export: %v\n%s", err, out)
	}
	key, err := os.ReadFile(filepath.Join(p.DataDir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.ParseKeySheet(out); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("the sheet does not give the key back: %v\n%s", err, out)
	}
	p.stop(t)

	// The sheet, typed into a file, is a key file.
	sheet := filepath.Join(t.TempDir(), "sheet.txt")
	os.WriteFile(sheet, []byte(out), 0o600)
	env := map[string]string{"PORTIER_DATA": p.DataDir, "PORTIER_SECRET_KEY_FILE": sheet}
	for k, v := range p.env {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	if out, err := doctorRun(env); err != nil || !strings.Contains(out, "the key belongs to the database") {
		t.Fatalf("doctor with the sheet: %v\n%s", err, out)
	}

	// Another key.
	other := filepath.Join(t.TempDir(), "other.key")
	k2 := make([]byte, db.KeySize)
	rand.Read(k2)
	os.WriteFile(other, k2, 0o600)
	env["PORTIER_SECRET_KEY_FILE"] = other
	if err, _ := serveErr(t, env); err == nil || !strings.Contains(err.Error(), "does not belong to the database") {
		t.Fatalf("serve with another key: %v", err)
	}
	if out, err := doctorRun(env); err == nil || !strings.Contains(out, "problem: the key "+other+" does not belong to the database") {
		t.Fatalf("doctor with another key: %v\n%s", err, out)
	}
	exportOut := &syncBuf{}
	if err := run(context.Background(), []string{"key", "export"}, func(k string) string { return env[k] }, exportOut, exportOut); err == nil ||
		!strings.Contains(err.Error(), "does not belong") || strings.Contains(exportOut.String(), "checksum:") {
		t.Fatalf("key export with another key: %v\n%s", err, exportOut.String())
	}

	// secret.key lost beside its database: no new key is made.
	os.Remove(filepath.Join(p.DataDir, "secret.key"))
	delete(env, "PORTIER_SECRET_KEY_FILE")
	if err, _ := serveErr(t, env); err == nil || !strings.Contains(err.Error(), "exists but its key file") {
		t.Fatalf("serve without the key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.DataDir, "secret.key")); err == nil {
		t.Fatal("a new key file was made beside the existing database")
	}

}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// walCheckpoints is the checkpoint count in a WAL file's header (big-endian at offset 12): SQLite
// increases it each time it restarts the WAL after a checkpoint. 0 when there is no WAL yet.
func walCheckpoints(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr [16]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(hdr[12:16])
}

// caughtUp waits until the portal has captured the latest change and every target has it.
func caughtUp(t *testing.T, p *portier) {
	t.Helper()
	time.Sleep(600 * time.Millisecond) // the WAL is read every quarter sync interval
	waitFor(t, 10*time.Second, "replica catches up", func() bool {
		resp, body := httpGet(t, p.BaseURL+"/readyz", nil)
		return resp.StatusCode == 200 && strings.Contains(body, "replica 1 (file): lag 0s")
	})
}

// TestRestoreFromReplica: `portier restore --from URL` restores the newest state, or the state at --at, into
// an empty data folder, says whether the key belongs, and refuses a live data folder and an empty replica.
func TestRestoreFromReplica(t *testing.T) {
	ctx := context.Background()
	rdir := t.TempDir()
	os.Chmod(rdir, 0o700) // as the README has it made
	p := startPortier(t, map[string]string{"PORTIER_REPLICA_URL": "file://" + rdir})
	write := func(v string) {
		d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"), db.NoAutoCheckpoint)
		if err != nil {
			t.Fatal(err)
		}
		sealedSetting(t, d, p.DataDir, "test.vpn", v)
		// A signed-in browser: its row (the token's hash) travels to the replica, never into a restore.
		if err := d.InsertSession(ctx, "replica-token-"+v, []byte("session data"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	write("VPN-Schlüssel alt")
	caughtUp(t, p)
	between := time.Now()
	time.Sleep(1100 * time.Millisecond)
	write("VPN-Schlüssel neu")
	caughtUp(t, p)
	keyFile := filepath.Join(p.DataDir, "secret.key")
	if out, err := p.cmd(t, "doctor"); !strings.Contains(out, "ok: replica 1 file://"+rdir+" is reachable, lag 0s (limit 1m0s)") {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	// A target that does not answer is a problem doctor names.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	sshKey := filepath.Join(t.TempDir(), "id")
	os.WriteFile(sshKey, pem.EncodeToMemory(block), 0o600)
	deadEnv := map[string]string{"PORTIER_DATA": p.DataDir, "PORTIER_REPLICA_URL": fmt.Sprintf("sftp://backup@127.0.0.1:%d/portier", freePort(t)),
		"PORTIER_REPLICA_SFTP_KEY": sshKey, "PORTIER_REPLICA_SFTP_HOST_KEY": strings.TrimSpace(string(ssh.MarshalAuthorizedKey(mustSSHPub(t))))}
	if out, err := doctorRun(deadEnv); err == nil || !strings.Contains(out, "problem: replica 1 sftp://backup@127.0.0.1:") || !strings.Contains(out, "cannot be read") {
		t.Fatalf("doctor, target down: %v\n%s", err, out)
	}

	// The live folder is refused.
	if out, err := p.cmd(t, "restore", "--from", "file://"+rdir); err == nil || !strings.Contains(err.Error(), "already holds a database") {
		t.Fatalf("restore into the live folder: %v\n%s", err, out)
	}
	p.stop(t)
	// The data folder (with Litestream's state) and the replica are readable by this account alone.
	for _, root := range []string{p.DataDir, rdir} {
		filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := e.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s has mode %04o", path, fi.Mode().Perm())
			}
			return nil
		})
	}
	if n := countRows(t, filepath.Join(p.DataDir, "portier.db"), "sessions"); n == 0 {
		t.Fatal("the replicated database holds no session: the test below proves nothing")
	}

	restoreInto := func(args ...string) (string, string, error) {
		dir := filepath.Join(t.TempDir(), "data")
		env := map[string]string{"PORTIER_DATA": dir, "PORTIER_SECRET_KEY_FILE": keyFile}
		out := &syncBuf{}
		err := run(ctx, append([]string{"restore"}, args...), func(k string) string { return env[k] }, out, out)
		return dir, out.String(), err
	}
	dir, out, err := restoreInto("--from", "file://"+rdir)
	if err != nil || !strings.Contains(out, "belongs to this database") {
		t.Fatalf("restore newest: %v\n%s", err, out)
	}
	if got, err := openSealed(t, filepath.Join(dir, "portier.db"), keyFile, "test.vpn"); err != nil || got != "VPN-Schlüssel neu" {
		t.Fatalf("newest: %q %v", got, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "portier.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v %v", st, err)
	}
	if n := countRows(t, filepath.Join(dir, "portier.db"), "sessions"); n != 0 {
		t.Fatalf("%d sessions restored from the replica, want none", n)
	}
	// A time past the newest change is the newest state.
	dir, out, err = restoreInto("--from", "file://"+rdir, "--at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if err != nil {
		t.Fatalf("restore --at in the future: %v\n%s", err, out)
	}
	if got, err := openSealed(t, filepath.Join(dir, "portier.db"), keyFile, "test.vpn"); err != nil || got != "VPN-Schlüssel neu" {
		t.Fatalf("at a future time: %q %v", got, err)
	}
	dir, out, err = restoreInto("--from", "file://"+rdir, "--at", between.UTC().Format(time.RFC3339Nano))
	if err != nil {
		t.Fatalf("restore --at: %v\n%s", err, out)
	}
	if got, err := openSealed(t, filepath.Join(dir, "portier.db"), keyFile, "test.vpn"); err != nil || got != "VPN-Schlüssel alt" {
		t.Fatalf("at %s: %q %v", between, got, err)
	}
	if _, out, err := restoreInto("--from", "file://"+rdir, "--at", between.Add(-time.Hour).Format(time.RFC3339)); err == nil || !strings.Contains(err.Error(), "holds no database for") {
		t.Fatalf("restore before the first snapshot: %v\n%s", err, out)
	}
	if _, out, err := restoreInto("--from", "file://"+t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no database") {
		t.Fatalf("restore from an empty replica: %v\n%s", err, out)
	}
	if _, out, err := restoreInto("--from", "file://"+rdir, "--at", "yesterday"); err == nil || !strings.Contains(err.Error(), "--at") {
		t.Fatalf("bad --at: %v\n%s", err, out)
	}

	// PORTIER_RESTORE_IF_MISSING without any key refuses to restore (every secret would be unreadable) ...
	empty := filepath.Join(t.TempDir(), "new-vm")
	err, _ = serveErr(t, map[string]string{"PORTIER_DATA": empty, "PORTIER_ADDR": "127.0.0.1:0",
		"PORTIER_REPLICA_URL": "file://" + rdir, "PORTIER_RESTORE_IF_MISSING": "true"})
	if err == nil || !strings.Contains(err.Error(), "PORTIER_SECRET_KEY_FILE") || fileExists(filepath.Join(empty, "portier.db")) || fileExists(filepath.Join(empty, "secret.key")) {
		t.Fatalf("restore without a key: %v", err)
	}
	// A file:// folder that is not there (storage not mounted under its mount point) is not taken for an
	// empty replica, neither by a new VM nor by a restart; nothing is created in its place.
	unmounted := filepath.Join(t.TempDir(), "mnt", "portier")
	newVM := filepath.Join(t.TempDir(), "new-vm")
	for _, data := range []string{newVM, p.DataDir} {
		err, _ = serveErr(t, map[string]string{"PORTIER_DATA": data, "PORTIER_ADDR": "127.0.0.1:0", "PORTIER_SECRET_KEY_FILE": keyFile,
			"PORTIER_REPLICA_URL": "file://" + unmounted, "PORTIER_RESTORE_IF_MISSING": "true"})
		if err == nil || !strings.Contains(err.Error(), "the folder does not exist") || fileExists(unmounted) {
			t.Fatalf("unmounted file target, data folder %s: %v", data, err)
		}
	}
	if fileExists(filepath.Join(newVM, "portier.db")) {
		t.Fatal("a database was made")
	}
	// ... while on the very first start, with an empty replica, it makes the key and a new database.
	first := startPortier(t, map[string]string{"PORTIER_REPLICA_URL": "file://" + t.TempDir(), "PORTIER_RESTORE_IF_MISSING": "true"})
	if !strings.Contains(first.Stderr.String(), "no target holds a database yet") || !fileExists(filepath.Join(first.DataDir, "secret.key")) {
		t.Fatalf("first start with PORTIER_RESTORE_IF_MISSING:\n%s", first.Stderr.String())
	}
}

// TestNewDatabaseNeverReplacesTheReplica: a data folder without a database never gets a new one while a
// target holds a replica or cannot be asked (briefly unreachable at start-up), with or without
// PORTIER_RESTORE_IF_MISSING: Litestream would ship the new, empty database to the target as its newest
// state, and the next restore would bring back an empty portal. Nor is the portal restored from a second
// target while the first cannot be read (it may hold newer changes). The replica is untouched afterwards.
func TestNewDatabaseNeverReplacesTheReplica(t *testing.T) {
	ctx := context.Background()
	s3 := startS3(t, "portier")
	env := map[string]string{"PORTIER_REPLICA_SYNC_INTERVAL": "200ms"}
	for _, kv := range s3.env("portier", "good") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	t.Setenv("AWS_CA_BUNDLE", "")
	// A second target that stays reachable: a restore from it could lose what only the first one holds.
	env["PORTIER_REPLICA_URL"] += ",file://" + t.TempDir()
	p := startPortier(t, env)
	if out, err := p.cmd(t, "org", "create", "--name", "Bestand GmbH"); err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	time.Sleep(600 * time.Millisecond)
	waitFor(t, 10*time.Second, "replica catches up", func() bool {
		resp, body := httpGet(t, p.BaseURL+"/readyz", nil)
		return resp.StatusCode == 200 && strings.Contains(body, "replica 1 (s3): lag 0s") && strings.Contains(body, "replica 2 (file): lag 0s")
	})
	p.stop(t)
	keyFile := filepath.Join(p.DataDir, "secret.key")
	cfg, err := parseTestConfig(mergeEnv(env, map[string]string{"PORTIER_DATA": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	newest := func() ltx.TXID {
		c, err := newReplicaClient(cfg, cfg.Replicas[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Init(ctx); err != nil {
			t.Fatal(err)
		}
		id, err := remoteTXID(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	before := newest()
	if before == 0 {
		t.Fatal("the replica holds nothing")
	}

	for _, tc := range []struct {
		name, want string
		down       bool
		extra      map[string]string
	}{
		{"replica there, no PORTIER_RESTORE_IF_MISSING", "PORTIER_RESTORE_IF_MISSING=true", false, nil},
		{"target unreachable, no PORTIER_RESTORE_IF_MISSING", "cannot be asked", true, nil},
		{"target unreachable, PORTIER_RESTORE_IF_MISSING", "restore from the replica failed", true, map[string]string{"PORTIER_RESTORE_IF_MISSING": "true"}},
	} {
		s3.down.Store(tc.down)
		dir := filepath.Join(t.TempDir(), "new-vm")
		err, _ := serveErr(t, mergeEnv(env, tc.extra, map[string]string{"PORTIER_DATA": dir, "PORTIER_ADDR": "127.0.0.1:0",
			"PORTIER_BASE_URL": "http://localhost", "PORTIER_SECRET_KEY_FILE": keyFile}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was started") || strings.Contains(err.Error(), "drill-secret") {
			t.Errorf("%s: %v, want a refusal naming %q", tc.name, err, tc.want)
		}
		if fileExists(filepath.Join(dir, "portier.db")) {
			t.Errorf("%s: a new database was made", tc.name)
		}
	}
	s3.down.Store(false)
	if after := newest(); after != before {
		t.Fatalf("the replica moved from TXID %s to %s", before, after)
	}
}

func countRows(t *testing.T, path, table string) int {
	t.Helper()
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestReplicaOutageIsLoggedAndReported: when the S3 target stops answering, the log says so once, /readyz
// fails past the lag limit, and both recover when the target is back. No credential reaches the log.
func TestReplicaOutageIsLoggedAndReported(t *testing.T) {
	s3 := startS3(t, "portier")
	env := map[string]string{"PORTIER_REPLICA_SYNC_INTERVAL": "200ms", "PORTIER_REPLICA_LAG_MAX": "2s"}
	for _, kv := range s3.env("portier", "outage") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	t.Setenv("AWS_CA_BUNDLE", "") // read by the AWS SDK from the process environment; see the s3 env above
	p := startPortier(t, env)
	ready := func() (int, string) {
		resp, body := httpGet(t, p.BaseURL+"/readyz", nil)
		return resp.StatusCode, body
	}
	waitFor(t, 10*time.Second, "ready with the target", func() bool {
		code, body := ready()
		return code == 200 && strings.Contains(body, "replica 1 (s3): lag 0s")
	})

	s3.down.Store(true)
	if out, err := p.cmd(t, "org", "create", "--name", "Ausfall GmbH"); err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	// The AWS SDK retries a request 8 times with backoff before it gives up: some seconds.
	waitFor(t, 30*time.Second, "outage logged", func() bool { return strings.Contains(p.Stderr.String(), "replica target unreachable") })
	waitFor(t, 30*time.Second, "readyz fails", func() bool {
		code, body := ready()
		return code == 503 && strings.HasPrefix(body, "replication behind\nreplica 1 (s3): lag ")
	})
	s3.down.Store(false)
	waitFor(t, 30*time.Second, "recovery logged", func() bool { return strings.Contains(p.Stderr.String(), "replica target reachable again") })
	waitFor(t, 10*time.Second, "readyz recovers", func() bool { code, _ := ready(); return code == 200 })
	log := p.Stderr.String()
	if n := strings.Count(log, "replica target unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once", n)
	}
	if strings.Contains(log, "drill-secret") {
		t.Error("the S3 secret reached the log")
	}
}

// TestVersionFromBuildInfo: a plain `go build` of a git checkout names its commit (Go records it in the
// binary), not "unknown". The source is copied into a fresh repository first: Go stamps only checkouts
// whose .git is a folder, not git worktrees, and the test must not depend on how it was checked out.
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	files, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	src := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com"}, args...)...)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "version test")
	rev := git("rev-parse", "HEAD")
	bin := filepath.Join(t.TempDir(), "portier")
	// -buildvcs=true: some machines set GOFLAGS=-buildvcs=false; an operator's plain build stamps by default.
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "commit " + rev[:12] + ", built "
	if !strings.Contains(string(out), want) || strings.Contains(string(out), "unknown") || strings.Contains(string(out), "+changes") {
		t.Fatalf("version %q, want %q and the commit time", out, want)
	}
}

// TestTwoTargets: with two targets each gets every change, also across a checkpoint (which only the first
// target's Litestream runs), and each restores the same database on its own.
func TestTwoTargets(t *testing.T) {
	ctx := context.Background()
	r1, r2 := t.TempDir(), t.TempDir()
	p := startPortier(t, map[string]string{"PORTIER_REPLICA_URL": "file://" + r1 + ",file://" + r2})
	d, err := db.Open(ctx, filepath.Join(p.DataDir, "portier.db"), db.NoAutoCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	// More than 1,000 pages of WAL: the first target's Litestream checkpoints (PASSIVE at 1,000 pages).
	walBefore := walCheckpoints(t, filepath.Join(p.DataDir, "portier.db-wal"))
	big := strings.Repeat("x", 3000)
	for i := range 2000 {
		if err := d.SetSetting(ctx, fmt.Sprintf("bulk.%d", i), big); err != nil {
			t.Fatal(err)
		}
	}
	// Litestream checkpoints on a sync that finds the WAL past 1,000 pages; in about one run of four it had
	// not by the time both targets reported no lag, and in some of those the WAL was restarted all the
	// same (a checkpoint SQLite ran, found by the checkpoint count in the WAL's header). Either makes the
	// value below one written after a checkpoint: wait for one, writing a little as a live portal does.
	tick := 0
	waitFor(t, 20*time.Second, "a checkpoint", func() bool {
		var seq int
		if d.R.QueryRowContext(ctx, `SELECT seq FROM _litestream_seq`).Scan(&seq) == nil && seq >= 2 {
			return true
		}
		if walCheckpoints(t, filepath.Join(p.DataDir, "portier.db-wal")) != walBefore {
			return true
		}
		tick++
		if err := d.SetSetting(ctx, "tick", strconv.Itoa(tick)); err != nil {
			t.Fatal(err)
		}
		return false
	})
	sealedSetting(t, d, p.DataDir, "test.vpn", "nach dem Checkpoint")
	d.Close()
	time.Sleep(600 * time.Millisecond)
	waitFor(t, 20*time.Second, "both targets catch up", func() bool {
		resp, body := httpGet(t, p.BaseURL+"/readyz", nil)
		return resp.StatusCode == 200 && strings.Contains(body, "replica 1 (file): lag 0s") && strings.Contains(body, "replica 2 (file): lag 0s")
	})
	p.stop(t)
	var seq int
	if err := openRaw(t, filepath.Join(p.DataDir, "portier.db")).QueryRow(`SELECT seq FROM _litestream_seq`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	t.Logf("_litestream_seq %d (1 from Litestream's start, one more per checkpoint of its own)", seq)
	keyFile := filepath.Join(p.DataDir, "secret.key")
	for _, r := range []string{r1, r2} {
		dir := filepath.Join(t.TempDir(), "data")
		env := map[string]string{"PORTIER_DATA": dir, "PORTIER_SECRET_KEY_FILE": keyFile}
		out := &syncBuf{}
		if err := run(ctx, []string{"restore", "--from", "file://" + r}, func(k string) string { return env[k] }, out, out); err != nil {
			t.Fatalf("restore from %s: %v\n%s", r, err, out.String())
		}
		if got, err := openSealed(t, filepath.Join(dir, "portier.db"), keyFile, "test.vpn"); err != nil || got != "nach dem Checkpoint" {
			t.Fatalf("from %s: %q %v", r, got, err)
		}
		rd, err := db.Open(ctx, filepath.Join(dir, "portier.db"))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := rd.Setting(ctx, "bulk.1999", ""); v != big {
			t.Fatalf("from %s: the bulk writes are incomplete", r)
		}
		rd.Close()
	}
}

func openRaw(t *testing.T, path string) *sql.DB {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
