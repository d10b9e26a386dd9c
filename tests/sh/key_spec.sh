#!/usr/bin/env bash
# An independent implementation of docs/keys.md "Encoding, version 1" (Python, standard library
# only) recomputes every `key-example` block of the document: the text of the specification is
# enough to reproduce the C library's bytes (tests/test_key.c checks the C side on the same
# blocks). Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null || { echo "key_spec: python3 not available"; exit 77; }
python3 - "$src/docs/keys.md" <<'PY'
import hashlib, re, struct, sys

def s(b):
    return struct.pack(">Q", len(b)) + b

def encode(kind, parent, fields):
    out = b"goaccel.key\n" + struct.pack(">I", 1) + s(kind.encode())
    out += (b"\x01" + bytes.fromhex(parent)) if parent else b"\x00"
    out += struct.pack(">Q", len(fields))
    for name, typ, val in sorted(fields, key=lambda f: f[0].encode()):
        out += s(name.encode()) + bytes([1 if typ == "string" else 2])
        out += s(val.encode() if typ == "string" else bytes.fromhex(val))
    return out

doc = open(sys.argv[1]).read()
blocks = re.findall(r"```key-example\n(.*?)\n```", doc, re.S)
assert len(blocks) >= 3, "no examples found"
for b in blocks:
    kind = parent = None
    fields, enc, key = [], "", None
    for line in b.split("\n"):
        word, _, rest = line.partition(" ")
        if word == "kind": kind = rest
        elif word == "parent": parent = rest
        elif word == "encoding": enc += rest
        elif word == "key": key = rest
        elif word in ("string", "digest"):
            name, _, value = rest.partition(" ")
            fields.append((name, word, value))
        else: raise SystemExit("unknown line: " + line)
    e = encode(kind, parent, fields)
    if e.hex() != enc: raise SystemExit("encoding differs for %s: %s" % (kind, e.hex()))
    if hashlib.sha256(e).hexdigest() != key: raise SystemExit("key differs for " + kind)
print("key_spec: %d documented examples reproduced from the specification" % len(blocks))
PY
