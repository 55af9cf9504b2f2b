#!/usr/bin/env bash
# Runs the example once by hand: encodes a 10 s clip with GStreamer's vp8enc, starts the
# receiver, sends the clip as SFrame RTP over UDP on 127.0.0.1 and prints both sides' figures.
#   examples/rtp-vp8/run.sh [frame|packet] [sender options: --seed N --loss 0.05 --reorder 0.05
#                                           --duplicate 0.02 --mtu 1200 ...]
# Needs gst-launch-1.0 with plugins-base and plugins-good (Debian: gstreamer1.0-tools,
# gstreamer1.0-plugins-base, gstreamer1.0-plugins-good). Leaves its files in a temporary
# directory it names at the end.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="$PWD/target"
cargo build -q
bin="$CARGO_TARGET_DIR/debug/sframe-rtp-vp8"
mode=${1:-frame}
shift || true
work=$(mktemp -d /tmp/rtp-vp8.XXXXXX)
mkdir -p "$work/clip"
gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=smpte horizontal-speed=4 \
  ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc keyframe-max-dist=15 target-bitrate=800000 cpu-used=4 \
  ! multifilesink location="$work/clip/%05d.vp8"

"$bin" recv --out "$work/out" --report "$work/receiver.txt" >"$work/receiver.log" &
rpid=$!
trap 'kill "$rpid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/receiver.log" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$work/receiver.log")
[ -n "$addr" ] || { echo "receiver did not start"; exit 1; }
"$bin" send --to "$addr" --input "$work/clip" --mode "$mode" --report "$work/sender.txt" "$@"
wait "$rpid"
trap - EXIT
grep -v '^listening on ' "$work/receiver.log"
echo "files in $work; to watch what the receiver decoded:"
echo "  gst-launch-1.0 filesrc location=$work/out/decoded-all.yuv ! rawvideoparse width=320 height=240 format=i420 framerate=30/1 ! videoconvert ! autovideosink"
