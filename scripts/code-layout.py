#!/usr/bin/env python3
"""The symbol ordering for lld from callgrind runs (scripts/code-layout.sh explains why).

usage: code-layout.py BINARY PREBUILT_SYMBOLS CALLGRIND_OUT...

Prints one function name per line: those the runs executed inside BINARY, the ones most runs
executed first, ties in BINARY's own address order; the toolchain's prebuilt functions after ours,
since many of them share their library's one large text section and would thin the dense part. A name the toolchain's prebuilt libraries
define more than once (merged thunks, `objectdestroy` and the like, which every module has its own
copies of) comes last of all: lld moves every copy, the prebuilt libraries' large sections with
them, but left out, our own copies stayed scattered over the whole text, and a fresh build peaked
about 1.5 MiB higher. Names the binary lacks are left out.
"""
import collections
import re
import subprocess
import sys


def executed(path, binary_name):
    """Names of the functions a callgrind output shows executed in the object `binary_name`."""
    objects, names, found = {}, {}, set()
    current = None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        match = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?$", line)
        if match:
            kind, key, name = match.groups()
            if name:
                objects[key] = name
            if kind == "ob":
                current = objects.get(key)
            continue
        match = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line)
        if match:
            kind, key, name = match.groups()
            if name:
                names[key] = re.sub(r"'\d+$", "", name)  # callgrind's recursion marks
            if kind == "fn" and current and current.endswith("/" + binary_name):
                found.add(names[key])
    return found


def main():
    binary, prebuilt_path, outputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    prebuilt = set(open(prebuilt_path).read().split())
    address, copies = {}, collections.Counter()
    listing = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tTwW":
            address.setdefault(fields[2], int(fields[0], 16))
            copies[fields[2]] += 1
    runs = collections.Counter()
    for output in outputs:
        runs.update(executed(output, binary.rsplit("/", 1)[-1]))
    names = [name for name in runs if name in address]
    shared = {name for name in names if copies[name] > 1 and name in prebuilt}
    names.sort(key=lambda name: (name in shared, name in prebuilt, -runs[name], address[name]))
    sys.stdout.write("".join(name + "\n" for name in names))
    print(f"{len(names)} of the {len(runs)} functions executed", file=sys.stderr)


main()
