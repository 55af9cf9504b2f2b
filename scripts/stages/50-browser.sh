#!/usr/bin/env bash
# Real-browser end-to-end test of sframe-wasm in headless Debian Chromium and headless Debian
# Firefox ESR, both driven by puppeteer-core (npm ci; no browser download): the
# examples/browser demo's loopback call in each browser — W3C main-thread API
# (RTCRtpSFrameEncryptor / Decryptor, the package's polyfill; the default page's "what the SFU
# sees" panel fed by observeWire: headers parse, counters go up, not black; a screenshot in
# $E2E_SCREENSHOTS or the temporary directory) and SFrameTransform in the page's
# RTCRtpScriptTransform worker; VP8, and H.264 where the browser has it, + Opus; one KID per
# track, no (KID, CTR) twice on the wire, "key_in_use" for a shared key + KID, H.264 SEI never
# in clear, wrong key -> "authentication" errors — and a call between the two browsers, both
# directions, both APIs (examples/browser/peer.html); a receiver whose key comes 1 s late
# decodes the frames its decryptors kept (keyWait, e2e/keywait.test.mjs); every video codec
# each browser offers (VP8, VP9, AV1 with SVC, H.264; H.265 skipped where absent) and Opus with
# RED (also under loss: dropped at the receiver, and in transit by a UDP relay between the
# peers) decoding through the transform (e2e/codecs.test.mjs);
# an encryptor assigned after the sender's creation task still encrypts every frame (Chromium
# short-circuits such senders; the package guards them: e2e/late-transform.test.mjs).
# Then one short run of the browser bench
# (sframe-wasm/bench/browser.mjs --quick: headless Chromium, a dedicated worker; not a timing check).
# The tests run in a network namespace that has only loopback: ICE uses 127.0.0.1 / ::1 and
# nothing leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v node >/dev/null || missing+=(nodejs npm)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
# Built by 40-wasm.sh in a full run; build here when this stage runs alone.
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh
cd sframe-wasm
npm ci --no-audit --no-fund
export CHROMIUM="$(command -v chromium)" FIREFOX="$(command -v firefox-esr)"
if unshare -n true 2>/dev/null; then
  # Loopback is all the namespace has; every e2e test launches its browsers through
  # e2e/browsers.mjs, which tells both to accept loopback ICE.
  unshare -n sh -c 'ip link set lo up && exec node --test e2e/'
  # The browser bench once, short: it runs, round trips decrypt, webcrypto.js meets the vectors.
  unshare -n sh -c 'ip link set lo up && exec node bench/browser.mjs --quick'
else
  echo "50-browser: cannot make a network namespace (unshare -n refused): testing on the host network"
  node --test e2e/
  node bench/browser.mjs --quick
fi
