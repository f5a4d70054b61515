#!/usr/bin/env bash
# Installs the Debian packages the build links against, when missing (GRDB needs SQLite's headers,
# NIO's zlib the zlib headers). `--tests` adds what the tests run: PostgreSQL's server, of which
# they start throwaway clusters. Needs root or sudo only when something is missing.
set -euo pipefail
packages=(libsqlite3-dev zlib1g-dev)
if [ "${1:-}" = "--tests" ]; then
  # Any installed server will do (the tests take the newest /usr/lib/postgresql/N/bin).
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || packages+=(postgresql-15)
  # The test server's TLS certificates are made with openssl.
  command -v openssl >/dev/null 2>&1 || packages+=(openssl)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
