#!/usr/bin/env bash
# sframe-core with RustCrypto as the default backend (what `default-features = false` users —
# no_std, WebAssembly — get): the whole unit, property, model, no-allocation, RFC vector and
# doc test suite, whose `Sender::new` / `Receiver::new` then run RustCrypto, plus clippy for
# that configuration. Stage 10 runs the same suite with aws-lc as the default (the default
# features) and both backends side by side. An external vector file is honoured through
# SFRAME_TEST_VECTORS, as in stage 10.
set -euo pipefail
rustup component add clippy >/dev/null 2>&1 || true
cargo test -p sframe-core --no-default-features --features std
cargo clippy -p sframe-core --all-targets --no-default-features --features std -- -D warnings
