#!/usr/bin/env bash
# The release build: the Swift runtime linked in statically, every function (ours and the
# packages') in a section of its own, so that the link can lay the code a run executes out
# together (scripts/code-layout.order, named in Package.swift). The process then maps about
# 9 MiB of code instead of 22 (Benchmarks/README.md, "Code laid out by use").
#
#   scripts/build-release.sh [swift build options...]     e.g. --product audit-forwarder
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release --static-swift-stdlib \
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections "$@"
