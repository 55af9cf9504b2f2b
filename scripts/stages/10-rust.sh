#!/usr/bin/env bash
# Rust workspace: formatting, lints, rustdoc, the no_std builds, and every Rust test
# (unit, integration, property and doc tests).
#
# sframe-ffi enables sframe-core's `aws-lc` feature by default, and cargo unifies features
# across the packages of one invocation. So the workspace is checked and tested without
# sframe-ffi (the default RustCrypto backend that Rust and WASM users get), and sframe-ffi on
# its own (aws-lc, as native C users get it). Stage 20 tests the core itself with aws-lc.
set -euo pipefail
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf
cargo fmt --all --check
cargo clippy --workspace --exclude sframe-ffi --all-targets -- -D warnings
cargo clippy -p sframe-ffi --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p sframe-core
cargo build -p sframe-core --no-default-features --target thumbv7em-none-eabihf
cargo build -p sframe-core --no-default-features --features alloc --target thumbv7em-none-eabihf
cargo test --workspace --exclude sframe-ffi
# The core without alloc (a sender with a bounded key history: issue 13 finding 5).
cargo test -p sframe-core --no-default-features --lib
cargo test -p sframe-ffi
