#!/usr/bin/env bash
# The test command: builds everything first (the crash and signal tests run the real binary
# from .build/debug/audit-forwarder), then runs every test. PostgreSQL's server is installed
# when missing: the state tests run on a throwaway cluster of it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
swift build --build-tests
swift test --skip-build "$@"
