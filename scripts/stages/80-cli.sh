#!/usr/bin/env bash
# sframe CLI: the 200 MB streaming test, against the release binary.
# Every other CLI test runs in `cargo test --workspace` (stage 10). This one writes ~600 MB
# of temporary files and asserts each child's peak RSS stays under 64 MiB; it is #[ignore]d
# there. The release binary keeps it fast (AES-GCM in a debug build runs at a few MB/s); the
# test harness itself is the debug build stage 10 already compiled.
set -euo pipefail
cargo build --release -p sframe-cli --bin sframe
export SFRAME_CLI_BIN="$PWD/${CARGO_TARGET_DIR:-target}/release/sframe"
case "${CARGO_TARGET_DIR:-}" in /*) SFRAME_CLI_BIN="$CARGO_TARGET_DIR/release/sframe" ;; esac
test -x "$SFRAME_CLI_BIN"
cargo test -p sframe-cli --test large -- --ignored --nocapture
