#!/usr/bin/env bash
# Benchmarks (per-frame cost against raw AEAD and the `sframe` crate). CI times nothing: it checks
# that every criterion bench still compiles in release mode and runs once (`-- --test`: both
# backends of sframe-core, RustCrypto and aws-lc, named explicitly in one binary, plus the default
# build against the `sframe` crate; the harness also runs the floor byte-for-byte test), then that
# benches/report turns real criterion output into its tables (a few benches measured for a
# fraction of a second: one frame size per backend, the default build, the header). The measured
# tables live in benches/README.md. ring (the `sframe` crate's backend) and aws-lc-sys
# (sframe-core's default aws-lc backend) need a C compiler.
set -euo pipefail
if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    apt-get update && apt-get install -y --no-install-recommends gcc g++ libc6-dev make python3
fi
# Nothing is profiled here, so no debug info (the bench profile's `debug = true` in Cargo.toml
# is for perf and callgrind). The bench profile then equals release, and cargo reuses the
# release artifacts earlier stages built (30-ffi: aws-lc-sys, sframe-core); cold, it also
# saves about a quarter of the build's CPU time.
export CARGO_PROFILE_BENCH_DEBUG=false
cargo bench -p benches -- --test
cargo bench -p benches --bench frames -- --warm-up-time 0.01 --measurement-time 0.05 --sample-size 10 \
    '^((rustcrypto|aws-lc|default)/protect/AES_128_GCM_SHA256_128/[^/]+/1200|header/parse/(ours|sframe)/kid7)'
report=$(python3 benches/report "${CARGO_TARGET_DIR:-target}/criterion")
echo "$report"
for row in '| parse | kid7-ctr0 |' \
    '| protect | AES_128_GCM_SHA256_128 | 1200 B |' \
    '#### rustcrypto: protect' '#### aws-lc: protect'; do
    grep -qF "$row" <<<"$report" || { echo "benches/report: no '$row' in its output" >&2; exit 1; }
done
