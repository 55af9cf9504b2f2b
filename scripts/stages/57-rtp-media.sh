#!/usr/bin/env bash
# SFrame over RTP with real media: examples/rtp-vp8 sends VP8 from GStreamer's
# vp8enc (libvpx) as SFrame RTP (draft-ietf-avtcore-rtp-sframe-02, sframe_core::rtp) over UDP
# on 127.0.0.1 between two processes, with seeded loss, reordering and duplication injected
# by the sender, per frame (T=0) and per packet (T=1); the receiver reassembles, decrypts and
# decodes with vp8dec. Its end-to-end test prints the figures of both modes and checks that
# exactly the frames whose packets all arrived are delivered, byte for byte, that the decoded
# pictures equal the lossless decode, and that a wrong key delivers nothing.
# examples/rtp-vp8 is its own workspace and target dir (like examples/sfu/native): only
# sframe-core's own dependencies, GStreamer driven through gst-launch-1.0 subprocesses.
# Budget: ~40 s cold on 2 cores (sframe-core + RustCrypto, clippy and test builds), ~5 s warm.
set -euo pipefail
cd "$(dirname "$0")/../.."
# GStreamer from Debian: tools (gst-launch-1.0), base (videotestsrc, videoconvert), good (vp8enc,
# vp8dec, rtpvp8depay, rtpstreamdepay, multifilesink). plugins-bad (ivfparse) is not needed.
need=()
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
gst-inspect-1.0 videotestsrc >/dev/null 2>&1 || need+=(gstreamer1.0-plugins-base)
gst-inspect-1.0 vp8dec >/dev/null 2>&1 && gst-inspect-1.0 rtpstreamdepay >/dev/null 2>&1 ||
  need+=(gstreamer1.0-plugins-good)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Not --locked: sframe-core is a path dependency other work changes; the committed lock file
# still pins every registry crate.
(
  cd examples/rtp-vp8
  export CARGO_TARGET_DIR="$PWD/target"
  cargo fmt --check
  cargo clippy --all-targets -- -D warnings
  # One test at a time: each run's figures print together, and the two processes of one run
  # do not compete with another run's for the 2 cores.
  cargo test -- --nocapture --test-threads=1
)
