#!/usr/bin/env bash
# Writes scripts/code-layout.order: the functions a forwarder run executes, in the order the
# release link places them (Package.swift passes the file to lld as --symbol-ordering-file).
#
# Why: the kernel maps a program's code in 64 KiB or larger steps around each page it runs
# (fault-around, and whole page-cache folios), so code spread over the 33 MB of the binary made
# about 22 MiB of it resident for a run that executes under 2 MB. Gathered, it takes about 9.
#
# How: the benchmark's scenarios run the release binary under callgrind, which names every
# function executed. Functions every scenario runs come first, then the rarer ones, each group in
# the order of the unordered binary (related code stays together). Left out: names the toolchain's
# prebuilt libraries define more than once (lld would move every copy, and some sit in their
# library's single large text section).
#
# Run after a change that moves much code (a dependency upgrade, a new sink), then commit the
# file. A stale list still works: names it misses are laid out as before.
# Needs valgrind and python3; takes about five minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-release.sh --product audit-forwarder
scripts/build-release.sh --product forwarder-benchmark
bin=$(scripts/build-release.sh --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# valgrind reads the symbol table but not the DWARF 5 this toolchain writes.
strip --strip-debug -o "$work/audit-forwarder" "$bin/audit-forwarder"
cat > "$work/under-callgrind" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.\$SCENARIO.out" "$work/audit-forwarder" "\$@"
EOF
chmod +x "$work/under-callgrind"
run() {
  local name=$1; shift
  echo "scenario $name" >&2
  SCENARIO=$name "$bin/forwarder-benchmark" --binary "$work/under-callgrind" "$@" | tail -n 1 >&2
}
run file --scenario file --events 5000
run webhook --scenario webhook+file --events 3000
run siem --scenario siem-latency --events 3000
run elastic --scenario elastic --events 3000
run okta --scenario file --events 3000 --upstream okta
run github --scenario file --events 3000 --upstream github
run backfill --scenario file --events 3000 --backfill
run integrity --scenario file --events 3000 --integrity
run sources --scenario many-sources --sources 40 --poll-seconds 5

# The toolchain's static libraries, from the compiler itself (a swiftly shim is no path to them).
resources=$(swiftc -print-target-info | sed -n 's/.*"runtimeResourcePath": "\(.*\)".*/\1/p')
swift_static="$resources/../swift_static/linux"
ls "$swift_static"/*.a >/dev/null || { echo "no static Swift libraries in $swift_static" >&2; exit 1; }
for library in "$swift_static"/*.a "$swift_static"/*/*.o; do nm --defined-only "$library" 2>/dev/null || true; done \
  | awk 'NF == 3 { print $3 }' | sort -u > "$work/prebuilt-symbols"
python3 scripts/code-layout.py "$work/audit-forwarder" "$work/prebuilt-symbols" "$work"/callgrind.*.out > scripts/code-layout.order
echo "scripts/code-layout.order: $(wc -l < scripts/code-layout.order) functions" >&2
# swift build does not know the list is an input of the link: relink by hand.
rm -f "$bin/audit-forwarder"
scripts/build-release.sh --product audit-forwarder
