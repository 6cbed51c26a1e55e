package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"portier/db"
	"portier/deploy"
	"portier/testkit"
)

func doctorRun(env map[string]string, args ...string) (string, error) {
	var out syncBuf
	err := run(context.Background(), append([]string{"doctor"}, args...), func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// problems returns the output's problem lines.
func problems(out string) []string {
	var ps []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "problem: ") {
			ps = append(ps, l)
		}
	}
	return ps
}

// TestDoctorNamesEachProblem: a data folder others can read, a missing key file beside an existing
// database, a mail server that does not answer and an expired certificate: each is one problem line with a
// fix, and doctor exits non-zero.
func TestDoctorNamesEachProblem(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	d, err := db.Open(ctx, filepath.Join(data, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	expired := makeCert(t, 7, time.Now().Add(-90*24*time.Hour), time.Now().Add(-24*time.Hour), "localhost")
	certPath, keyPath := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")
	expired.write(t, certPath, keyPath)
	closed := freePort(t) // nothing listens there
	env := map[string]string{
		"PORTIER_DATA":      data,
		"PORTIER_BASE_URL":  "https://localhost:8443",
		"PORTIER_TLS":       "files",
		"PORTIER_TLS_CERT":  certPath,
		"PORTIER_TLS_KEY":   keyPath,
		"PORTIER_SMTP_URL":  fmt.Sprintf("smtp://portier:Geheim-SMTP-99@127.0.0.1:%d", closed),
		"PORTIER_HTTP_ADDR": "off",
	}
	out, err := doctorRun(env)
	if err == nil || !strings.Contains(err.Error(), "4 problem(s)") {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	ps := problems(out)
	want := []string{
		"data folder " + data + " has mode 0755",
		"key file " + filepath.Join(data, "secret.key") + " is missing",
		"TLS certificate " + certPath + " expired on",
		fmt.Sprintf("mail server smtp://127.0.0.1:%d", closed),
	}
	if len(ps) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(ps), len(want), out)
	}
	for i, w := range want {
		if !strings.Contains(ps[i], w) || !strings.Contains(ps[i], ", fix: ") {
			t.Errorf("problem %d: %q, want it to name %q and a fix", i, ps[i], w)
		}
	}
	if !strings.Contains(out, "chmod 700 "+data) {
		t.Errorf("no chmod fix:\n%s", out)
	}
	if strings.Contains(out, "Geheim-SMTP-99") {
		t.Fatal("doctor printed the SMTP password")
	}
	if !strings.Contains(out, "ok: database passes integrity_check") {
		t.Errorf("database check missing:\n%s", out)
	}

	// A key that does not belong to the certificate, and a certificate for another host that ends soon.
	other := makeCert(t, 8, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour), "localhost")
	writeAtomic(t, keyPath, other.keyPEM)
	os.Chmod(data, 0o700)
	db.LoadOrCreateKey(filepath.Join(data, "secret.key"))
	env["PORTIER_SMTP_URL"] = ""
	out, err = doctorRun(env)
	if ps := problems(out); err == nil || len(ps) != 1 || !strings.Contains(ps[0], "private key does not match public key") {
		t.Fatalf("mismatched key: %v\n%s", err, out)
	}
	soon := makeCert(t, 9, time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour+time.Hour), "portal.muster-it.example")
	soon.write(t, certPath, keyPath)
	out, err = doctorRun(env)
	ps = problems(out)
	if err == nil || len(ps) != 2 || !strings.Contains(ps[0], "does not cover localhost (it names portal.muster-it.example, 127.0.0.1)") ||
		!strings.Contains(ps[1], "in 5 day(s)") {
		t.Fatalf("wrong host, ends soon: %v\n%s", err, out)
	}

	// A setting that does not parse is named, and nothing else is checked.
	out, err = doctorRun(map[string]string{"PORTIER_DATA": data, "PORTIER_BASE_URL": "portal.example.com"})
	if ps := problems(out); err == nil || len(ps) != 1 || !strings.Contains(ps[0], "PORTIER_BASE_URL") {
		t.Fatalf("bad setting: %v\n%s", err, out)
	}
}

// TestDoctorHealthy: a running portal with a reachable mail server has no problems; the SMTP check logs in
// and sends nothing.
func TestDoctorHealthy(t *testing.T) {
	// Without credentials: go-mail, like the real sender, offers a password only over an encrypted
	// connection, and the test server has no TLS.
	mailSrv := testkit.SMTP(t)
	smtpURL := mailSrv.URL()
	p := startPortier(t, map[string]string{"PORTIER_SMTP_URL": smtpURL, "PORTIER_BACKUP_DIR": filepath.Join(t.TempDir(), "b")})
	out, err := p.cmd(t, "doctor")
	if err != nil || len(problems(out)) != 0 || !strings.Contains(out, "no problems") {
		t.Fatalf("doctor on a healthy portal: %v\n%s", err, out)
	}
	for _, w := range []string{"ok: data folder", "ok: key file", "ok: database passes integrity_check", "ok: mail server smtp://" + mailSrv.Addr() + " accepts", "ok: base URL"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
	if n := len(mailSrv.Messages()); n != 0 {
		t.Fatalf("doctor sent %d mail(s)", n)
	}
}

// hardening lists the options the unit must carry.
var hardening = []string{
	"User=portier\n", "Group=portier\n", "StateDirectory=portier\n", "StateDirectoryMode=0700\n", "WorkingDirectory=/var/lib/portier\n",
	"EnvironmentFile=-/etc/portier/portier.env\n", "NoNewPrivileges=true\n", "ProtectSystem=strict\n", "ProtectHome=true\n",
	"PrivateTmp=true\n", "PrivateDevices=true\n", "ProtectKernelTunables=true\n", "ProtectKernelModules=true\n",
	"ProtectKernelLogs=true\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n", "LockPersonality=true\n",
	"MemoryDenyWriteExecute=true\n", "SystemCallFilter=@system-service\n", "AmbientCapabilities=CAP_NET_BIND_SERVICE\n",
	"CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", "Restart=on-failure\n", "ReadWritePaths=/var/lib/portier -/var/backups/portier\n",
	"KillSignal=SIGTERM\n", "TimeoutStopSec=45\n", "ExecStart=/usr/local/bin/portier serve\n", "WantedBy=multi-user.target\n",
}

func TestInstallServiceDryRun(t *testing.T) {
	for _, h := range hardening {
		if !strings.Contains(deploy.Unit, "\n"+h) {
			t.Errorf("deploy/portier.service lacks %q", strings.TrimSpace(h))
		}
	}
	// Nothing is written by a dry run.
	dir := t.TempDir()
	oldUnit, oldEnv, oldBackups := unitPath, envDir, backupsDir
	unitPath, envDir, backupsDir = filepath.Join(dir, "portier.service"), filepath.Join(dir, "etc"), filepath.Join(dir, "backups")
	t.Cleanup(func() { unitPath, envDir, backupsDir = oldUnit, oldEnv, oldBackups })
	install := func(args ...string) (string, error) {
		var out syncBuf
		err := run(context.Background(), append([]string{"install-service"}, args...), func(string) string { return "" }, &out, &out)
		return out.String(), err
	}

	out, err := install("--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, deploy.Unit) {
		t.Fatalf("dry run does not print the unit as it is in the repository:\n%s", out)
	}
	for _, w := range []string{"nothing is changed", "/var/lib/portier with mode 0700", unitPath, "systemctl daemon-reload", "#    PORTIER_DATA=/var/lib/portier"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run lacks %q:\n%s", w, out)
		}
	}
	for _, p := range []string{unitPath, envDir, backupsDir} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("dry run created %s", p)
		}
	}

	out, err = install("--dry-run", "--user", "kundenportal", "--data", "/srv/kundenportal", "--base-url", "https://portal.muster-it.example", "--acme-email", "it@muster-it.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"User=kundenportal\n", "Group=kundenportal\n", "WorkingDirectory=/srv/kundenportal\n", "ReadWritePaths=/srv/kundenportal ",
		"Environment=PORTIER_DATA=/srv/kundenportal\n", "PORTIER_BASE_URL=https://portal.muster-it.example\n", "PORTIER_TLS=acme\n",
		"PORTIER_ACME_EMAIL=it@muster-it.example\n", "NoNewPrivileges=true\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("custom dry run lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "/var/lib/portier") || strings.Contains(out, "StateDirectory=") || strings.Contains(out, "User=portier") {
		t.Errorf("custom dry run still names the defaults:\n%s", out)
	}

	// systemd itself accepts the unit, where its tools are installed.
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		self, _ := os.Executable()
		unit := strings.Replace(renderUnit("kundenportal", "/srv/kundenportal"), "/usr/local/bin/portier", self, 1)
		path := filepath.Join(t.TempDir(), "portier.service")
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		if err != nil || strings.Contains(string(out), "portier.service") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}

	for _, bad := range [][]string{{"--user", "Root;rm"}, {"--data", "relative/dir"}, {"--data", "/srv/a b"}, {"--base-url", "ftp://x"}} {
		if _, err := install(append([]string{"--dry-run"}, bad...)...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestHandBack: files root makes in the service's data folder (sudo portier restore, doctor) go to the
// folder's owner.
func TestHandBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change owners")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 4321, 4321); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "portier.db-shm")
	os.WriteFile(f, []byte("x"), 0o600)
	if err := handBack(dir, f, filepath.Join(dir, "missing")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(f)
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 4321 || sys.Gid != 4321 {
		t.Fatalf("owner %d:%d", sys.Uid, sys.Gid)
	}
}

// TestInstallServiceWrites runs the real installation into temporary paths, as root with the existing user
// root (so no user is created on the machine running the test).
func TestInstallServiceWrites(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("install-service needs root")
	}
	dir := t.TempDir()
	oldUnit, oldEnv, oldBackups, oldCtl := unitPath, envDir, backupsDir, systemctl
	unitPath, envDir, backupsDir, systemctl = filepath.Join(dir, "portier.service"), filepath.Join(dir, "etc"), filepath.Join(dir, "backups"), ""
	t.Cleanup(func() { unitPath, envDir, backupsDir, systemctl = oldUnit, oldEnv, oldBackups, oldCtl })
	data := filepath.Join(dir, "lib", "portier")
	var out syncBuf
	err := run(context.Background(), []string{"install-service", "--user", "root", "--data", data}, func(string) string { return "" }, &out, &out)
	if err != nil {
		t.Fatalf("install-service: %v\n%s", err, out.String())
	}
	mode := func(p string) os.FileMode {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if m := mode(data); m != 0o700 {
		t.Errorf("data folder mode %v", m)
	}
	if m := mode(backupsDir); m != 0o700 {
		t.Errorf("backup folder mode %v", m)
	}
	if m := mode(filepath.Join(envDir, "portier.env")); m != 0o640 {
		t.Errorf("env file mode %v", m)
	}
	unit, err := os.ReadFile(unitPath)
	if err != nil || mode(unitPath) != 0o644 || string(unit) != renderUnit("root", data) {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	envFile, _ := os.ReadFile(filepath.Join(envDir, "portier.env"))
	if !strings.Contains(string(envFile), "PORTIER_DATA="+data+"\n") {
		t.Fatalf("env file:\n%s", envFile)
	}
	// A second run keeps the edited settings and rewrites the unit.
	os.WriteFile(filepath.Join(envDir, "portier.env"), []byte("PORTIER_MSP_NAME=Muster IT\n"), 0o640)
	out = syncBuf{}
	if err := run(context.Background(), []string{"install-service", "--user", "root", "--data", data}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(envDir, "portier.env")); string(b) != "PORTIER_MSP_NAME=Muster IT\n" || !strings.Contains(out.String(), "kept the existing") {
		t.Fatalf("settings overwritten: %q\n%s", b, out.String())
	}
}
