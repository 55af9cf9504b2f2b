#!/usr/bin/env bash
# Rust workspace: formatting, lints, the no_std build, and every Rust test (incl. doc-tests).
set -euo pipefail
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build -p sframe-core --no-default-features --target thumbv7em-none-eabihf
cargo build -p sframe-core --no-default-features --features alloc --target thumbv7em-none-eabihf
cargo test --workspace
