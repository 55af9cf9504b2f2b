#!/usr/bin/env bash
# SFrame through a real SFU (examples/sfu): Debian's Janus (videoroom with require_e2ee and
# recording), four headless Chromium participants (Debian's /usr/bin/chromium) and one headless
# Firefox ESR participant (Debian's /usr/bin/firefox-esr), both driven by puppeteer-core through
# sframe-wasm/e2e/browsers.mjs (the Firefox one through the
# package's main-thread RTCRtpSFrameEncrypter/Decrypter) and the native participant (str0m +
# sframe-core) in one room. Checks that everyone decodes everyone (Firefox included, both
# ways), a late joiner decodes after the keys rotate, a wrong room secret decodes nothing
# ("authentication" errors), a removed member stops decoding while Janus still forwards to
# it, and that Janus's own recordings hold only SFrame ciphertext, Firefox's too (headers
# parse, no plaintext, no (KID, CTR) twice, a VP8 decoder refuses them, the room's keys
# decrypt them). Then VP9 (L2T3 SVC) and AV1 (L1T3) publishers in a second room: forwarded by
# Janus and decoded at full size through the package's codec layouts; and a VP8 simulcast
# publisher whose subscriber has Janus switch substreams (2 → 0 → 2 → 1), decoded at each size
# (examples/sfu/codecs.test.mjs). Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v janus >/dev/null || need+=(janus)
command -v janus-pp-rec >/dev/null || need+=(janus-tools)
command -v chromium >/dev/null || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi
# Built by 40-wasm.sh / 50-browser.sh in a full run; here when this stage runs alone.
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh
[ -d sframe-wasm/node_modules/puppeteer-core ] ||
  (cd sframe-wasm && npm ci --no-audit --no-fund)

# The native participant: its own workspace and target dir (fmt, clippy, unit tests, build).
# Not --locked: sframe-core is a path dependency other work changes; the committed lock file
# still pins every registry crate.
(
  cd examples/sfu/native
  export CARGO_TARGET_DIR="$PWD/target"
  cargo fmt --check
  cargo clippy --all-targets -- -D warnings
  cargo test
  cargo build
)
# Its dependencies (str0m, ureq, ...) under the project's deny.toml, when cargo-deny is there
# (15-audit installs it).
if cargo deny --version >/dev/null 2>&1; then
  cargo fetch --manifest-path examples/sfu/native/Cargo.toml
  log=$(mktemp)
  if cargo deny --offline --manifest-path examples/sfu/native/Cargo.toml --config deny.toml \
      check bans licenses sources >"$log" 2>&1; then
    echo "--- cargo deny (examples/sfu/native): $(tail -n 1 "$log")"
    rm -f "$log"
  else
    cat "$log"
    exit 1
  fi
else
  echo "55-sfu: cargo-deny not installed (15-audit installs it): native dependencies not audited"
fi

# Ports away from the demo defaults, so a demo running on this machine does not collide.
export JANUS_PORT=${JANUS_PORT:-18088} RTP_PORTS=${RTP_PORTS:-21000-21999} SFU_KEEP=0
export SFU_NATIVE="$PWD/examples/sfu/native/target/debug/sframe-sfu-native"
export CHROMIUM="$(command -v chromium)" FIREFOX="$(command -v firefox-esr)"
# --test-timeout: a stuck step fails the stage instead of hanging CI.
# One test file at a time (--test-concurrency=1): both drive browsers against the one Janus.
bash examples/sfu/run.sh -- node --test --test-concurrency=1 --test-timeout=420000 --test-reporter=spec \
  examples/sfu/e2e.test.mjs examples/sfu/codecs.test.mjs
