#!/usr/bin/env python3
"""Instructions of callgrind dumps split by library (shared object).

    callgrind_by_library.py REQUESTS LABEL=FILE [LABEL=FILE ...]

Prints one Markdown row per file: the exclusive instructions of libcurl, of
libc and of nethttp's own code, and the total, each divided by REQUESTS.
The raw loop's own code (the benchmark program) is its "own code"; nethttp's
is libnethttp.so, minus the libcurl linked into it when that is bundled
(functions from libcurl's sources count as libcurl there).
"""
import re
import sys
from collections import Counter

# Symbols of libcurl (and its nghttp2) when it is linked statically into
# libnethttp.so or the benchmark: named by the files they come from.
LIBCURL_FILE = re.compile(r"/curl-sys-[^/]*/(out|curl)/|/curl/lib/|nghttp2")


def library_of(obj, source):
    name = obj.rsplit("/", 1)[-1]
    if name.startswith("libcurl"):
        return "libcurl"
    if name.startswith("libc.so") or name.startswith("ld-linux"):
        return "libc"
    if LIBCURL_FILE.search(source):
        return "libcurl"
    if name.startswith("libnethttp") or name == "nethttp_bench":
        return "own"
    return "other"


def split(path):
    """Exclusive instructions per library of one callgrind output file."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    base_of = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl",
               "cfi": "fl", "cfl": "fl", "fn": "fn", "cfn": "fn"}

    def resolve(kind, value):
        # "(id) name" defines a compressed name, "(id)" reuses it.
        table = names[base_of[kind]]
        match = re.match(r"\((\d+)\)(?:\s+(.*))?$", value)
        if not match:
            return value
        if match.group(2) is not None:
            table[match.group(1)] = match.group(2)
        return table.get(match.group(1), value)

    totals = Counter()
    obj = function_file = source = ""
    after_calls = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            key = re.match(r"^([a-z]+)=(.*)$", line)
            if key:
                kind, value = key.groups()
                if kind in base_of:
                    value = resolve(kind, value)
                    if kind == "ob":
                        obj = value
                    elif kind == "fl":
                        function_file = source = value
                    elif kind in ("fi", "fe"):
                        # Lines inlined from another file, until fn= or fe=.
                        source = value
                    elif kind == "fn":
                        source = function_file
                elif kind == "calls":
                    after_calls = True
                continue
            if not line or not (line[0].isdigit() or line[0] in "+-*"):
                continue
            if after_calls:
                # The cost line after calls= is the callee's, inclusive.
                after_calls = False
                continue
            fields = line.split()
            if len(fields) >= 2:
                totals[library_of(obj, source)] += int(fields[1])
    return totals


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    requests = int(sys.argv[1])
    print("| | libcurl | libc | own code | other | total |")
    print("|---|--:|--:|--:|--:|--:|")
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        t = split(path)
        cells = [t[k] / requests / 1000 for k in ("libcurl", "libc", "own", "other")]
        total = sum(t.values()) / requests / 1000
        print(f"| {label} | " + " | ".join(f"{c:.1f}k" for c in cells) + f" | {total:.1f}k |")


if __name__ == "__main__":
    main()
