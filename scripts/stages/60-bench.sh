#!/usr/bin/env bash
# Benchmarks (issue 7). CI times nothing: it checks that every criterion bench still compiles
# in release mode and runs once (`-- --test`), then that benches/report turns real criterion
# output into the ratio table (a few header benches measured for a fraction of a second).
# The measured table lives in benches/README.md. ring (the `sframe` crate's backend) needs a
# C compiler.
set -euo pipefail
if ! command -v cc >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev python3
fi
cargo bench -p benches -- --test
cargo bench -p benches --bench frames -- --warm-up-time 0.01 --measurement-time 0.05 --sample-size 10 \
    'header/parse/(ours|sframe)/kid7'
report=$(python3 benches/report "${CARGO_TARGET_DIR:-target}/criterion")
echo "$report"
grep -q '| parse | kid7-ctr0 |' <<<"$report"
