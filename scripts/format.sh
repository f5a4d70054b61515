#!/bin/sh
# Formats the Swift code with the toolchain's swift-format and the repository's .swift-format
# (150-column lines, 4 spaces, imports sorted). --check: only report what it would change (exit 1 then).
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--check" ]; then
    out=$(swift-format lint --configuration .swift-format --recursive Sources Tests Benchmarks Package.swift 2>&1)
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        echo "format.sh: run scripts/format.sh to fix the above" >&2
        exit 1
    fi
    exit 0
fi
swift-format format --configuration .swift-format --in-place --recursive Sources Tests Benchmarks Package.swift
