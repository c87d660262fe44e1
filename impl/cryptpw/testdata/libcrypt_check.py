#!/usr/bin/env python3
"""Check hashes with the system's crypt(3), the way PBS does.

Reads a JSON list of {"secret", "hash"} objects on stdin (stdin, so secrets
never show up in argv) and writes a JSON list of booleans: whether
crypt(secret, hash) == hash. Exits 3 if libcrypt cannot be loaded, so the Go
test can skip instead of failing.
"""
import ctypes
import ctypes.util
import json
import sys

try:
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
except (OSError, AttributeError) as e:
    print("libcrypt not available: %s" % e, file=sys.stderr)
    sys.exit(3)

out = []
for item in json.load(sys.stdin):
    got = lib.crypt(item["secret"].encode(), item["hash"].encode())
    out.append(got is not None and got.decode() == item["hash"])
json.dump(out, sys.stdout)
