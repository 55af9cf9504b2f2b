#!/usr/bin/env python3
"""Per-SSRC SFrame keys of draft-ietf-avtcore-rtp-sframe section 7 ("SFrame SDP RTP Key Management"),
computed from scratch with Python's stdlib hmac/hashlib (RFC 5869 HKDF written out below, no
HKDF library), independently of sframe-core.

    ssrc_key = HKDF-Expand(HKDF-Extract(SSRC, base_key), "SFrame 1.0 RTP Stream", CipherSuite.Nh)

"The SSRC is encoded as a 4-byte big-endian byte sequence and passed as the salt value to
HKDF-Extract"; base_key is the input keying material; the hash is the cipher suite's. Each
vector also gives the RFC 9605 §4.4.2 sframe_key / sframe_salt derived from ssrc_key for one
KID (ssrc_key is the stream's base key; §8: ratcheting then runs per SSRC with the same KIDs).

Usage:
    python3 rtp_ssrc_keys.py            # writes rtp-ssrc-keys.json next to this file
    python3 rtp_ssrc_keys.py --check    # recomputes and compares with the committed file
"""
import hashlib
import hmac
import json
import os
import sys

# suite id -> (hash, Nh, Nk, Nn)   (RFC 9605 §8.1; suites 6-8: draft-barnes-sframe-iana-256)
SUITES = {
    1: (hashlib.sha256, 32, 48, 12),
    2: (hashlib.sha256, 32, 48, 12),
    3: (hashlib.sha256, 32, 48, 12),
    4: (hashlib.sha256, 32, 16, 12),
    5: (hashlib.sha512, 64, 32, 12),
    6: (hashlib.sha512, 64, 96, 12),
    7: (hashlib.sha512, 64, 96, 12),
    8: (hashlib.sha512, 64, 96, 12),
}
LABEL = b"SFrame 1.0 RTP Stream"


def hkdf_extract(h, salt, ikm):
    return hmac.new(salt, ikm, h).digest()


def hkdf_expand(h, prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), h).digest()
        out += t
        i += 1
    return out[:n]


def self_test():
    # RFC 5869 A.1 (SHA-256) pins the HKDF code above.
    prk = hkdf_extract(hashlib.sha256, bytes(range(13)), b"\x0b" * 22)
    okm = hkdf_expand(hashlib.sha256, prk, bytes(range(0xF0, 0xFA)), 42)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    assert okm.hex().startswith("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf")


def vector(suite, ssrc, base_key, kid):
    h, nh, nk, nn = SUITES[suite]
    salt = ssrc.to_bytes(4, "big")
    prk = hkdf_extract(h, salt, base_key)
    ssrc_key = hkdf_expand(h, prk, LABEL, nh)
    secret = hkdf_extract(h, b"", ssrc_key)
    tail = kid.to_bytes(8, "big") + suite.to_bytes(2, "big")
    return {
        "cipher_suite": suite,
        "ssrc": ssrc,
        "base_key": base_key.hex(),
        "salt": salt.hex(),
        "prk": prk.hex(),
        "info": LABEL.hex(),
        "ssrc_key": ssrc_key.hex(),
        "kid": kid,
        "sframe_key": hkdf_expand(h, secret, b"SFrame 1.0 Secret key " + tail, nk).hex(),
        "sframe_salt": hkdf_expand(h, secret, b"SFrame 1.0 Secret salt " + tail, nn).hex(),
    }


def generate():
    base_keys = [
        bytes(range(16)),  # 000102...0f
        bytes.fromhex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    ]
    ssrcs = [0, 1, 0x12345678, 0xFFFFFFFF]
    vectors = []
    for suite in sorted(SUITES):
        for bi, base_key in enumerate(base_keys):
            for si, ssrc in enumerate(ssrcs):
                vectors.append(vector(suite, ssrc, base_key, kid=(bi * 4 + si) * 37))
    return {
        "source": "draft-ietf-avtcore-rtp-sframe section 7 (editor's copy d4bfa1e)",
        "provenance": "test-vectors/rtp_ssrc_keys.py: RFC 5869 HKDF on Python stdlib hmac/hashlib",
        "ssrc_keys": vectors,
    }


def main():
    self_test()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtp-ssrc-keys.json")
    data = generate()
    text = json.dumps(data, indent=1) + "\n"
    if "--check" in sys.argv:
        with open(path) as f:
            if f.read() != text:
                sys.exit("rtp-ssrc-keys.json differs from the recomputed vectors")
        print(f"rtp-ssrc-keys.json: {len(data['ssrc_keys'])} vectors OK")
    else:
        with open(path, "w") as f:
            f.write(text)
        print(f"wrote {len(data['ssrc_keys'])} vectors to {path}")


if __name__ == "__main__":
    main()
