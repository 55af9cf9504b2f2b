#!/usr/bin/env bash
# Interop with the crates.io `sframe` crate (rust-crypto backend, suites 1-5, the ones it has)
# and the zeroization check. interop/ is its own workspace: that crate refuses to be built with
# two backends, and the benches compare against its default (ring) backend in the main workspace.
# Then the independent Python SFrame (test-vectors/verify.py) checks the published vectors and
# 88 frames sframe-core produces for suites 1-8 — for 6-8 (draft-barnes-sframe-iana-256) no other
# open implementation exists to compare with.
set -euo pipefail
cargo test --manifest-path interop/Cargo.toml --locked
cargo fmt --manifest-path interop/Cargo.toml --check
cargo clippy --manifest-path interop/Cargo.toml --all-targets --locked -- -D warnings

# verify.py needs the `cryptography` package (AES only; its HKDF/HMAC are its own).
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet cryptography
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python3 test-vectors/verify.py test-vectors/rfc9605.json test-vectors/iana-256.json
cargo run -q -p examples --bin gen-vectors > "$out/sframe-core-vectors.json"
python3 test-vectors/verify.py "$out/sframe-core-vectors.json"
