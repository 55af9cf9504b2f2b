#!/usr/bin/env bash
# RFC 9605 §5.2 with a real MLS group: builds and runs examples/mls (openmls), which exits
# non-zero if any of its checks fails (epoch change, late frame, removed member locked out).
# examples/mls is its own Cargo workspace (openmls needs Rust >= 1.91 and ~200 crates), so it
# is kept out of the main workspace's build/clippy/test and built here only.
# Budget: about 3 minutes cold on 2 cores (measured 129 s for the whole stage, load avg ~10).
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup component add rustfmt >/dev/null 2>&1 || true
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/mls-example"
cargo fmt --manifest-path examples/mls/Cargo.toml --check
cargo run --locked --manifest-path examples/mls/Cargo.toml
