#!/usr/bin/env bash
# Rust workspace: formatting, lints, rustdoc, the no_std builds, and every Rust test
# (unit, integration, property and doc tests).
#
# Backends are values and features only add them: one `--all-features` run builds
# RustCrypto and aws-lc side by side, and the tests that matter (RFC vectors, no-allocation,
# tests/backends.rs, the crypto unit tests) run once per backend, each named explicitly.
# Stage 20 runs the core's whole suite with RustCrypto as the default backend.
set -euo pipefail
# aws-lc-sys (the aws-lc backend, a default feature) builds AWS-LC with the `cc` crate: it
# needs a C compiler (no cmake, nasm or libclang on x86_64/aarch64 Linux).
if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
    apt-get update && apt-get install -y --no-install-recommends gcc g++ libc6-dev make
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf
cargo fmt --all --check
# The GStreamer plugin (gst-sframe) is checked and tested by stage 90, which installs
# GStreamer: its build needs the GStreamer headers and its tests GStreamer's codec plugins,
# and excluding it here keeps the GStreamer crates compiled once (fmt above covers it).
cargo clippy --workspace --exclude gst-plugin-sframe --all-targets --all-features -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p sframe-core
cargo build -p sframe-core --no-default-features --target thumbv7em-none-eabihf
cargo build -p sframe-core --no-default-features --features alloc --target thumbv7em-none-eabihf
cargo build -p sframe-core --no-default-features --features sdp --target thumbv7em-none-eabihf
cargo test --workspace --exclude gst-plugin-sframe --all-features
# The core without alloc (a sender with a bounded key history: going back to a key it has
# forgotten fails closed instead of restarting that key's counter).
cargo test -p sframe-core --no-default-features --lib
