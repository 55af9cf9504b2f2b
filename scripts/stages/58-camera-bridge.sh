#!/usr/bin/env bash
# A HomeKit / Matter-style camera bridge in Node (examples/camera-bridge): GStreamer encodes
# H.264 (x264enc) and Opus; the camera protects video with suite 6 and audio with suite 8
# under per-SSRC keys (sframe-wasm's SFrameSendStream, draft-ietf-avtcore-rtp-sframe §7) and
# sends SFrame RTP over UDP on 127.0.0.1 through a relay that drops, reorders and delays a
# seeded share of the packets; the bridge (SFrameReceiveSession) starts without the key,
# follows a key roll, removes the old KID, and GStreamer's avdec_h264 / opusdec decode what it
# received. The example prints its figures and asserts them (exit code), for two seeds.
# Budget: ~10 s once sframe-wasm/pkg exists (stage 40 builds it; built here only if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Debian packages: gst-launch-1.0 (tools), videotestsrc / audiotestsrc / opusenc / opusdec
# (base), multifilesink / multifilesrc (good), h264parse / opusparse (bad), x264enc (ugly),
# avdec_h264 (libav), and Node.
need=()
command -v node >/dev/null || need+=(nodejs)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
gst-inspect-1.0 opusenc >/dev/null 2>&1 || need+=(gstreamer1.0-plugins-base)
gst-inspect-1.0 multifilesink >/dev/null 2>&1 || need+=(gstreamer1.0-plugins-good)
gst-inspect-1.0 h264parse >/dev/null 2>&1 && gst-inspect-1.0 opusparse >/dev/null 2>&1 ||
  need+=(gstreamer1.0-plugins-bad)
gst-inspect-1.0 x264enc >/dev/null 2>&1 || need+=(gstreamer1.0-plugins-ugly)
gst-inspect-1.0 avdec_h264 >/dev/null 2>&1 || need+=(gstreamer1.0-libav)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh

node --test examples/camera-bridge/
for seed in 7 3; do
  node examples/camera-bridge/bridge.mjs --seed "$seed"
done
