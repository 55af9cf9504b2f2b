#!/usr/bin/env bash
# SFrame through a real SFU (examples/sfu): Debian's Janus (videoroom with require_e2ee and
# recording), two-to-four headless Chromium participants (playwright-core from
# sframe-wasm/node_modules, Debian's /usr/bin/chromium) and the native participant (str0m +
# sframe-core) in one room. Checks that everyone decodes everyone, a late joiner decodes after
# the keys rotate, a wrong room secret decodes nothing ("authentication" errors), a removed
# member stops decoding while Janus still forwards to it, and that Janus's own recordings hold
# only SFrame ciphertext (headers parse, no plaintext, no (KID, CTR) twice, a VP8 decoder
# refuses them, the room's keys decrypt them). Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v janus >/dev/null || need+=(janus)
command -v janus-pp-rec >/dev/null || need+=(janus-tools)
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
# Built by 40-wasm.sh / 50-browser.sh in a full run; here when this stage runs alone.
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh
[ -d sframe-wasm/node_modules/playwright-core ] || (cd sframe-wasm && npm ci --no-audit --no-fund)

# The native participant: its own workspace and target dir (fmt, clippy, unit tests, build).
# Not --locked: sframe-core is a path dependency other work changes; the committed lock file
# still pins every registry crate.
(
  cd examples/sfu/native
  cargo fmt --check
  cargo clippy --all-targets -- -D warnings
  cargo test
  cargo build
)

# Ports away from the demo defaults, so a demo running on this machine does not collide.
export JANUS_PORT=${JANUS_PORT:-18088} RTP_PORTS=${RTP_PORTS:-21000-21999} SFU_KEEP=0
export SFU_NATIVE="$PWD/examples/sfu/native/target/debug/sframe-sfu-native"
export CHROMIUM="$(command -v chromium)"
bash examples/sfu/run.sh -- node --test --test-reporter=spec examples/sfu/e2e.test.mjs
