#!/usr/bin/env python3
"""Writes the brotli and zstd bodies of the test server's /encoded endpoint:
pattern-100000.br and pattern-100000.zstd, the first 100,000 bytes of the
/bytes pattern (byte i = (i * 7 + 3) % 256) compressed.  The test server
reads these files instead of compressing, so that it needs only Python's
standard library.  Made once with the PyPI packages brotli and zstandard:

  python3 -m venv /tmp/enc && /tmp/enc/bin/pip install brotli zstandard
  /tmp/enc/bin/python make_encoded.py
"""

import os

import brotli
import zstandard

SIZE = 100000
HERE = os.path.dirname(os.path.abspath(__file__))

data = bytes((i * 7 + 3) % 256 for i in range(SIZE))
blobs = {"br": brotli.compress(data),
         "zstd": zstandard.ZstdCompressor(level=19).compress(data)}
assert brotli.decompress(blobs["br"]) == data
assert zstandard.ZstdDecompressor().decompress(blobs["zstd"]) == data
for name, blob in blobs.items():
    with open(os.path.join(HERE, "pattern-%d.%s" % (SIZE, name)), "wb") as f:
        f.write(blob)
    print("pattern-%d.%s: %d bytes" % (SIZE, name, len(blob)))
