#!/usr/bin/env bash
# Miri: runs sframe-core's unit tests and the RFC 9605 vector test under Miri
# (nightly), to catch undefined behaviour in the core and in the unsafe code of its
# dependencies (AES, GHASH, SHA-2, zeroize) on the paths the tests drive.
# Left out, for time only (Miri interprets software AES very slowly): the crypto unit tests
# that push kilobytes through every suite, the randomized replay-model test (thousands of
# steps), the proptest and other integration suites; all run natively in stage 10.
# Budget: about 5 minutes cold.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
  rustup +nightly component add miri rust-src
fi
cargo +nightly miri setup

# An allow-list of modules, so a slow test added elsewhere does not silently blow the budget.
# RustCrypto only (--no-default-features --features std): Miri cannot run aws-lc's C.
cargo +nightly miri test -p sframe-core --no-default-features --features std --lib -- \
  header:: key:: mls:: ratchet:: replay:: stream:: suite:: \
  crypto::tests::hkdf crypto::tests::hmac \
  --skip replay::tests::matches_a_naive_model

# The vector test reads test-vectors/rfc9605.json and iana-256.json: allow file access.
MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-disable-isolation" \
  cargo +nightly miri test -p sframe-core --no-default-features --features std --test vectors
