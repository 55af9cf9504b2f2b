#!/usr/bin/env python3
"""Writes the fuzz seed corpora (fuzz/seeds/<target>/) from the RFC 9605 Appendix C vectors
(suites 1-5) and the draft-barnes-sframe-iana-256 vectors (test-vectors/iana-256.json, suites
6-8, same schema).

Run from the repo root: python3 fuzz/gen_seeds.py. The output is committed; 70-fuzz.sh copies
it into fuzz/corpus/ (ignored) before each run.
"""
import json, os, struct

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load(name):
    with open(os.path.join(root, "test-vectors", name)) as f:
        return json.load(f)


vec = load("rfc9605.json")
# C.3-style frames of every suite: RFC 9605's, then the draft's (no header vectors there).
sframe_vectors = vec["sframe"] + load("iana-256.json")["sframe"]
out = os.path.join(root, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u64(v):
    return int(v)


# header_parse: every C.1 header, and each followed by 16 bytes of (KID, CTR).
for i, h in enumerate(vec["header"]):
    if i % 8 == 0:  # a spread of 37 of the 289 (all lengths occur)
        b = bytes.fromhex(h["header"])
        put("header_parse", f"c1_{i:03}", b + struct.pack(">QQ", u64(h["kid"]), u64(h["ctr"])))

# unprotect: [suite selector, metadata length, metadata, frame] for each C.3-style vector
# (selector = suite id - 1 indexes CipherSuite::ALL, which is in IANA order 1..8).
suites = sorted(v["cipher_suite"] for v in sframe_vectors)
assert suites == list(range(1, 9)), f"expected one vector per suite 1-8, got {suites}"
for v in sframe_vectors:
    meta = bytes.fromhex(v["metadata"])
    ct = bytes.fromhex(v["ct"])
    put("unprotect", f"c3_suite{v['cipher_suite']}", bytes([v["cipher_suite"] - 1, len(meta)]) + meta + ct)
    put("unprotect", f"c3_suite{v['cipher_suite']}_nometa", bytes([v["cipher_suite"] - 1, 0]) + ct)
    # roundtrip / keystore take `arbitrary` structures: the raw vector bytes are as good a
    # start as any and give the fuzzer the suites' real key / payload sizes.
    put("roundtrip", f"c3_suite{v['cipher_suite']}",
        bytes([v["cipher_suite"] - 1]) + bytes.fromhex(v["base_key"]) + meta + bytes.fromhex(v["pt"]))
    put("keystore", f"c3_suite{v['cipher_suite']}", bytes([v["cipher_suite"] - 1]) + ct)

# rtp_depacketize takes an `arbitrary` structure (suite, mode, max payload, first sequence
# number, frame lengths, operations): one seed per suite and mode, each a header of those
# fields followed by a run of operation bytes (genuine pushes, pops, raw packets), so the
# fuzzer starts with frames protected under every suite and both descriptor T values.
for sid in range(1, 9):
    for per_packet in (0, 1):
        head = bytes([sid - 1, per_packet]) + struct.pack("<HH", 1200 if per_packet else 300, 65530)
        ops = bytes([0, 0, 0, 0, 1, 0, 0, 2, 0, 4, 0, 0, 4, 3, 0x80, 0x60, 0, 1, 0, 0, 4] * 4)
        put("rtp_depacketize", f"suite{sid}_{'packet' if per_packet else 'frame'}", head + ops)
