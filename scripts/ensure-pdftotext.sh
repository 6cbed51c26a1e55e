#!/usr/bin/env bash
# Finds pdftotext (Debian's poppler-utils), with which the handbook test reads the PDF Chromium printed,
# or installs it when it can (root + apt-get). Under CI=true a missing pdftotext is an error; elsewhere
# the PDF check skips with a message.
set -euo pipefail
if command -v pdftotext >/dev/null 2>&1; then
  echo "pdftotext: $(command -v pdftotext)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pdftotext: not found, installing Debian's poppler-utils package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq poppler-utils >/dev/null
  command -v pdftotext >/dev/null 2>&1 && { echo "pdftotext: $(command -v pdftotext)"; exit 0; }
fi
if [ "${CI:-}" = "true" ]; then
  echo "pdftotext: not found and could not be installed (need root and apt-get); the handbook PDF test cannot run" >&2
  exit 1
fi
echo "pdftotext: not found; the handbook PDF test will be skipped (install poppler-utils to run it)" >&2
