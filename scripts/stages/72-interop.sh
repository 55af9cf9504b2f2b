#!/usr/bin/env bash
# Interop with the crates.io `sframe` crate (rust-crypto backend, all five suites) and the
# zeroization check. interop/ is its own workspace: that crate refuses to be built with two
# backends, and the benches compare against its default (ring) backend in the main workspace.
set -euo pipefail
cargo test --manifest-path interop/Cargo.toml --locked
cargo fmt --manifest-path interop/Cargo.toml --check
cargo clippy --manifest-path interop/Cargo.toml --all-targets --locked -- -D warnings
