#!/usr/bin/env bash
# Real-browser end-to-end test of sframe-wasm: headless Debian Chromium driven by
# playwright-core (npm ci; no browser download), loopback call of the examples/browser demo
# with SFrameTransform in RTCRtpScriptTransform workers, VP8 and H.264 (+ Opus), audio and video
# each with its own KID; checks that no (KID, CTR) pair appears twice on the wire, that a shared
# key + KID is refused ("key_in_use") and that H.264 SEI payloads never travel in clear.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
command -v node >/dev/null || { apt-get update && apt-get install -y nodejs npm; }
# Built by 40-wasm.sh in a full run; build here when this stage runs alone.
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh
cd sframe-wasm
npm ci --no-audit --no-fund
CHROMIUM="$(command -v chromium)" node --test e2e/
