#!/usr/bin/env bash
# sframe-core with the aws-lc backend (issue 10): the same unit, property, no-allocation, RFC
# vector and doc tests as the default RustCrypto build (10-rust.sh), plus clippy for the
# feature-gated code. aws-lc-sys 0.47 builds AWS-LC with the `cc` crate (no cmake, no nasm,
# no libclang on x86_64/aarch64 Linux: bindings are pre-generated); it needs a C compiler.
# An external vector file is honoured through SFRAME_TEST_VECTORS, as in the default build.
set -euo pipefail
if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
    apt-get update && apt-get install -y --no-install-recommends gcc g++ libc6-dev make
fi
rustup component add clippy >/dev/null 2>&1 || true
cargo test -p sframe-core --features aws-lc
# The aws-lc raw-AEAD floor of the benches must produce sframe-core's exact bytes (issue 7).
cargo test -p benches --features aws-lc --lib
cargo clippy -p sframe-core --all-targets --features aws-lc -- -D warnings
