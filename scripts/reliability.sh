#!/usr/bin/env bash
# Issue 6's reliability figures (README, "Reliability"): the crash-consistency and outage suites
# with the full profile — 50,000 events over three upstreams, 30 SIGKILLs of the daemon, and
# each sink down 30 s (connection refused) + 30 s (503). `swift test` alone runs the small CI
# profile of the same suites.
#
#   scripts/reliability.sh             debug build of the forwarder (what `swift test` builds)
#   scripts/reliability.sh --release   the suites drive a release build of the forwarder
#   scripts/reliability.sh --no-build  use what is already built
#
# The summary lines (`reliability[full] …`) are printed at the end and kept in
# .build/reliability-full.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=debug build=yes
for arg in "$@"; do
    case "$arg" in
    --release) mode=release ;;
    --no-build) build=no ;;
    *) echo "usage: $0 [--release] [--no-build]" >&2; exit 64 ;;
    esac
done
if [[ $build == yes ]]; then
    swift build --build-tests
    [[ $mode == release ]] && scripts/build-release.sh --product audit-forwarder
fi
# The suites restart the binary dozens of times: run a copy, so a rebuild meanwhile cannot swap it.
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
cp ".build/$mode/audit-forwarder" "$bin_dir/"
log=.build/reliability-full.log
start=$(date +%s)
status=0
: >"$log"
# One suite at a time, so the outage timings are not shared with the crash test's load.
for suite in CrashConsistencyTests OutageTests; do
    AFWD_RELIABILITY_PROFILE=full AUDIT_FORWARDER_BIN="$bin_dir/audit-forwarder" \
        swift test --skip-build --filter "$suite" 2>&1 | tee -a "$log" || status=1
done
echo
echo "forwarder build: $mode; wall time $(( $(date +%s) - start )) s"
grep '^reliability\[' "$log" || true
exit "$status"
