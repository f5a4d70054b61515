#!/usr/bin/env bash
# Runs the product on its embedded default: local emulators + the forwarder, end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift run audit-forwarder demo "$@"
