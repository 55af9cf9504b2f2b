#!/usr/bin/env bash
# Instructions per frame (callgrind), ours vs the raw-AEAD floor of the same crypto library, for
# each backend of sframe-core (both are compiled into one binary and named explicitly).
# Deterministic: use it to check overheads that wall-clock noise on a shared machine would hide.
# Note: valgrind does not emulate AVX-512, so aws-lc runs its AVX2/AES-NI code path here.
#
#   benches/icount.sh                      # backends rustcrypto and aws-lc; suites 1 4 5 6
#   BACKENDS=aws-lc SUITES="6 7 8" SIZES=1200 ITERS=200 benches/icount.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p benches --example icount "$@"
bin="${CARGO_TARGET_DIR:-target}/release/examples/icount"
count() { # backend variant suite size iters
    valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='*measured_*' \
        "$bin" "$@" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "| backend | suite | size | protect instr/frame | raw seal | ratio | unprotect | raw open | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for backend in ${BACKENDS:-rustcrypto aws-lc}; do
  for suite in ${SUITES:-1 4 5 6}; do  # one per construction: CTR-128/SHA-256, GCM-128, GCM-256, CTR-256/SHA-512
    for size in ${SIZES:-64 1200 10240}; do
        it=${ITERS:-200}
        p=$(count "$backend" protect "$suite" "$size" "$it"); rs=$(count "$backend" raw-seal "$suite" "$size" "$it")
        u=$(count "$backend" unprotect "$suite" "$size" "$it"); ro=$(count "$backend" raw-open "$suite" "$size" "$it")
        python3 -c "
p,rs,u,ro,it=$p,$rs,$u,$ro,$it
print(f'| $backend | $suite | $size | {p/it:.0f} | {rs/it:.0f} | {p/rs:.3f}× | {u/it:.0f} | {ro/it:.0f} | {u/ro:.3f}× |')"
    done
  done
done
