#!/usr/bin/env bash
# Fuzzing: builds the cargo-fuzz targets in fuzz/ (nightly, AddressSanitizer) and runs
# each for a bounded time from the committed seed corpora (fuzz/seeds/, made from the RFC 9605
# vectors). Any crash, panic, failed assertion or sanitizer report fails the stage.
# Budget: under 8 minutes cold (cargo-fuzz install + build + 6 x FUZZ_SECONDS).
# FUZZ_SECONDS overrides the per-target time (default 35).
set -euo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS="${FUZZ_SECONDS:-35}"
CARGO_FUZZ_VERSION=0.13.2
TARGETS=(header_parse unprotect roundtrip keystore sender rtp_depacketize)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

cd fuzz
# The fuzz crate is its own workspace with its own target dir (fuzz/target).
unset CARGO_TARGET_DIR
cargo +nightly fuzz build -O

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n "seeds/$t"/* "corpus/$t/" 2>/dev/null || true
  log="artifacts/$t/run.log"
  echo "--- fuzz $t for ${FUZZ_SECONDS}s"
  if cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  else
    status=1
    echo "!!! fuzz target $t FAILED; last lines of $log:"
    tail -60 "$log"
    ls -l "artifacts/$t" || true
  fi
done
exit "$status"
