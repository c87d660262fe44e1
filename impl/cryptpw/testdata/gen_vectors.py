#!/usr/bin/env python3
"""Regenerate libcrypt_vectors.json with the system's crypt(3) (libxcrypt).

Run from this directory:  python3 gen_vectors.py > libcrypt_vectors.json

libcrypt is called through ctypes rather than python's `crypt` module, which
is deprecated and gone in Python 3.13; both wrap the same library. All salts
and random bytes are fixed, so the output is deterministic for a given
libcrypt. The secrets are made up for the tests; none is a real credential.
"""
import ctypes
import ctypes.util
import json
import sys

lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]


def crypt(secret, setting):
    out = lib.crypt(secret.encode(), setting.encode())
    if out is None:
        return None
    out = out.decode()
    # libxcrypt signals failure with a "*0"/"*1" token instead of NULL.
    return None if out.startswith("*") else out


def gensalt(prefix, count, rbytes):
    out = lib.crypt_gensalt(prefix.encode(), count, rbytes, len(rbytes))
    if out is None:
        raise SystemExit("crypt_gensalt(%r, %d) failed" % (prefix, count))
    return out.decode()


UUIDS = [
    "0d2f9a51-8f5e-4b0c-9a3e-3c2b7d6e1f40",
    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
]
ODD = [
    ("empty", ""),
    ("non-ascii", "p\u00e4ssw\u00f6rd-\u79d8\u5bc6-\U0001f511"),
    ("max-length-511", "x" * 511),
]
RBYTES = bytes(range(1, 17))

verify = []


def add(name, secret, setting):
    h = crypt(secret, setting)
    if h is None:
        raise SystemExit("crypt rejected setting for %s" % name)
    verify.append({"name": name, "secret": secret, "hash": h})
    return h


for prefix, scheme in (("$5$", "sha256"), ("$6$", "sha512")):
    add(scheme + "/default", UUIDS[0], prefix + "saltstring")
    add(scheme + "/default-16-char-salt", UUIDS[1], prefix + "0123456789abcdef")
    add(scheme + "/gensalt-default", UUIDS[2], gensalt(prefix, 0, RBYTES))
    # Explicit rounds=5000 with a short salt: GehirnInc/crypt issue #9.
    add(scheme + "/rounds5000-short-salt", UUIDS[0], prefix + "rounds=5000$abc")
    add(scheme + "/rounds5000-1-char-salt", UUIDS[1], prefix + "rounds=5000$Z")
    add(scheme + "/rounds1000", UUIDS[1], prefix + "rounds=1000$shortsalt")
    add(scheme + "/rounds10000", UUIDS[2], prefix + "rounds=10000$0123456789abcdef")
    for label, secret in ODD:
        add(scheme + "/" + label, secret, prefix + "oddsecret")

for params in ("j75", "j85", "j7T", "j8T", "j9T", "jAT"):
    add("yescrypt/" + params, UUIDS[0], gensalt("$y$", {"j75": 1, "j85": 2, "j7T": 3,
        "j8T": 4, "j9T": 5, "jAT": 6}[params], RBYTES))
add("yescrypt/gensalt-default", UUIDS[1], gensalt("$y$", 0, bytes(range(17, 33))))
add("yescrypt/short-salt", UUIDS[2], "$y$j8T$abcd")
for label, secret in ODD:
    add("yescrypt/" + label, secret, "$y$j75$" + "oddsecretsalt...")

# Stored strings libcrypt never reproduces, so crypt(secret, h) != h and a
# PBS-style check (crypt, then compare) rejects them. Each is built from a
# genuine digest for the same secret so only the setting is off.
never = []


def add_never(name, secret, stored_setting, real_setting):
    h = crypt(secret, real_setting)
    digest = h.rsplit("$", 1)[1]
    stored = stored_setting + "$" + digest
    assert crypt(secret, stored) != stored, name
    never.append({"name": name, "secret": secret, "hash": stored})


s = UUIDS[0]
add_never("sha256/salt-longer-than-16", s, "$5$0123456789abcdefXYZ", "$5$0123456789abcdefXYZ")
add_never("sha256/rounds-below-1000", s, "$5$rounds=999$abc", "$5$rounds=1000$abc")
add_never("sha256/rounds-leading-zero", s, "$5$rounds=05000$abc", "$5$rounds=5000$abc")
add_never("sha256/rounds-zero", s, "$5$rounds=0$abc", "$5$rounds=1000$abc")
add_never("sha512/salt-longer-than-16", s, "$6$rounds=1000$0123456789abcdefXYZ", "$6$rounds=1000$0123456789abcdefXYZ")
add_never("sha512/rounds-above-max", s, "$6$rounds=1000000000$abc", "$6$rounds=1000$abc")
add_never("sha512/rounds-empty", s, "$6$rounds=$abc", "$6$rounds=1000$abc")
add_never("yescrypt/bad-salt-encoding", s, "$y$j75$abc", "$y$j75$abcd")

# crypt_gensalt outputs for fixed random bytes: our setting generator must
# produce exactly these. 16 bytes is what libxcrypt draws itself when it is
# given no random bytes, for every scheme here.
gs = []
for count in range(0, 12):
    gs.append({"prefix": "$y$", "count": count, "rbytes": RBYTES.hex(),
               "setting": gensalt("$y$", count, RBYTES)})
for prefix in ("$5$", "$6$"):
    for count in (0, 1, 999, 1000, 4999, 5000, 5001, 10000, 999999999):
        gs.append({"prefix": prefix, "count": count, "rbytes": RBYTES.hex(),
                   "setting": gensalt(prefix, count, RBYTES)})

json.dump({"generator": "gen_vectors.py (libxcrypt via ctypes)",
           "verify": verify, "never_verify": never, "gensalt": gs},
          sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
