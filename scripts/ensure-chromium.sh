#!/usr/bin/env bash
# Finds Chromium for the browser tests, or installs Debian's package when it can (root + apt-get).
# Under CI=true a missing browser is an error; elsewhere the browser tests skip with a message.
set -euo pipefail
for c in "${PORTIER_CHROMIUM:-}" /usr/bin/chromium chromium chromium-browser google-chrome; do
  [ -n "$c" ] || continue
  if command -v "$c" >/dev/null 2>&1; then
    echo "chromium: $(command -v "$c")"
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not found, installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && { echo "chromium: $(command -v chromium)"; exit 0; }
fi
if [ "${CI:-}" = "true" ]; then
  echo "chromium: not found and could not be installed (need root and apt-get); the browser journeys cannot run" >&2
  exit 1
fi
echo "chromium: not found; browser journeys will be skipped (install the chromium package to run them)" >&2
