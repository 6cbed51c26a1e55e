#!/usr/bin/env bash
# Finds or installs what the tests run for real: Chromium (browser journeys, see ensure-chromium.sh),
# pdftotext (the handbook's printed PDF, ensure-pdftotext.sh) and Debian's OpenSSH server (the SFTP replica target of the disaster drill). Installs with apt-get when run
# as root. Under CI=true anything missing is an error, so a test can never pass by skipping.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/ensure-chromium.sh"
bash "$here/ensure-pdftotext.sh"

if [ -x /usr/sbin/sshd ]; then
  echo "sshd: /usr/sbin/sshd"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "sshd: not found, installing Debian's openssh-server package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The package's own service is not wanted: the tests start sshd themselves on a loopback port.
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  [ -x /usr/sbin/sshd ] && { echo "sshd: /usr/sbin/sshd"; exit 0; }
fi
if [ "${CI:-}" = "true" ]; then
  echo "sshd: not found and could not be installed (need root and apt-get); the SFTP replication drill cannot run" >&2
  exit 1
fi
echo "sshd: not found; the SFTP replication tests will be skipped (install the openssh-server package to run them)" >&2
