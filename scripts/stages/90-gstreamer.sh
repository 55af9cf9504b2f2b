#!/usr/bin/env bash
# The GStreamer plugin (gst-sframe/, plugin `sframe`: sframeenc / sframedec) against Debian's
# GStreamer 1.22: clippy, its tests (gst-check harnesses and a PLAYING pipeline with real
# H.264 from x264enc, decoded by avdec_h264; gst-inspect-1.0 on the built plugin), then
# gst-inspect-1.0 and real gst-launch-1.0 runs with figures:
#   - the README's GStreamer block, run exactly as written (send: x264enc ! sframeenc !
#     matroskamux; receive: matroskademux ! capssetter ! sframedec ! matroskamux), then the
#     frames of both files counted and decoded, and the protected file decoded without
#     sframedec (must give no picture) and with a wrong key (nothing, one bus message);
#   - gst-sframe/README.md's UDP pairs (rtpgstpay / rtpgstdepay; rtpsframepay /
#     rtpsframedepay), with fakesink in place of autovideosink (no display here);
#   - H.264 and Opus side by side over RTP on 127.0.0.1 with netsim (bad) dropping and
#     reordering packets, with SFrame (sframeenc ! rtpsframepay, rtpjitterbuffer !
#     rtpsframedepay) and without (rtph264pay / rtpopuspay), frames counted out of the
#     depayloaders and out of the decoders.
# The key rotation while PLAYING, the wrong key and the interop with the Rust session API
# (both ways, over UDP) are gst-sframe/tests/rtp.rs, run by the cargo test below.
# The crate is a member of the root workspace, but stage 10 excludes it (--exclude
# gst-plugin-sframe): its tests need GStreamer's runtime plugins, not only its headers, and
# this way the GStreamer crates are compiled in this stage only, once (debug: the tests' build
# is also the plugin gst-launch-1.0 loads).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

# Debian packages: headers and .pc files (gstreamer-1.0, -base, -check: libgstreamer1.0-dev),
# pkg-config, the tools, and the elements the tests and pipelines use: videotestsrc (base),
# matroska / rtp / udp / capssetter / vpx (good), x264enc (ugly), h264parse / netsim (bad),
# avdec_h264 (libav), opusenc / opusdec (base).
need=()
dpkg -s libgstreamer1.0-dev >/dev/null 2>&1 || need+=(libgstreamer1.0-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
has() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
{ has videotestsrc && has opusenc; } || need+=(gstreamer1.0-plugins-base)
{ has matroskamux && has rtpgstpay && has capssetter && has udpsrc; } || need+=(gstreamer1.0-plugins-good)
has x264enc || need+=(gstreamer1.0-plugins-ugly)
{ has h264parse && has netsim; } || need+=(gstreamer1.0-plugins-bad)
has avdec_h264 || need+=(gstreamer1.0-libav)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
rustup component add clippy >/dev/null 2>&1 || true

cargo clippy -p gst-plugin-sframe --all-targets -- -D warnings
cargo test -p gst-plugin-sframe -- --nocapture
# Compiles nothing (the tests built the library, cdylib included); puts libgstsframe.so in
# target/debug, which `cargo test` does not.
cargo build -p gst-plugin-sframe

# The plugin as GStreamer loads it: a private plugin dir and registry (only this build).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
rx=
trap '[ -z "$rx" ] || kill "$rx" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/plugins"
cp "$target_dir/debug/libgstsframe.so" "$work/plugins/"
export GST_PLUGIN_PATH="$work/plugins" GST_REGISTRY="$work/registry.bin"
gst-inspect-1.0 sframe
gst-inspect-1.0 sframeenc | grep -A2 -E '^  (cipher-suite|key|key-hex|key-id|stats) '
gst-inspect-1.0 sframedec | sed -n '/Element Actions/,$p'
gst-inspect-1.0 rtpsframepay | grep -A2 -E '^  (mtu|pt|ssrc|sframe-stats) '
gst-inspect-1.0 rtpsframedepay | grep -A2 -E '^  (cipher-suite|per-ssrc|max-wait|key-id|key-hex|sframe-stats) '
gst-inspect-1.0 rtpsframedepay | sed -n '/Element Actions/,$p'

# Prints the fenced block that follows the line "<!-- $2 -->" in file $1.
block() {
  awk -v marker="<!-- $2 -->" '
    $0 == marker { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$1"
}
# Buffers reaching the fakesink of gst-launch-1.0 -v ... (each one logs a "chain" line).
count() { gst-launch-1.0 -v "$@" 2>&1 | grep -c 'last-message = chain' || true; }
fail() { echo "90-gstreamer: $*" >&2; exit 1; }

echo "--- README.md: the GStreamer block, as written"
block README.md "stage 90 runs this block as written" >"$work/readme.sh"
[ -s "$work/readme.sh" ] || fail "README.md has no marked GStreamer block"
cat "$work/readme.sh"
# In the work dir (the block writes sframe.mkv and clear.mkv), in one shell: KEY stays set
# for the wrong-key check below.
(cd "$work" && bash -euo pipefail -c "$(cat readme.sh)
echo \"\$KEY\" >key.hex")
key=$(cat "$work/key.hex")
protected=$(count filesrc location="$work/sframe.mkv" ! matroskademux ! fakesink silent=false)
clear=$(count filesrc location="$work/clear.mkv" ! matroskademux ! fakesink silent=false)
decoded=$(count filesrc location="$work/clear.mkv" ! matroskademux ! h264parse ! avdec_h264 ! fakesink silent=false)
undecrypted=$(count filesrc location="$work/sframe.mkv" ! matroskademux ! h264parse ! avdec_h264 ! fakesink silent=false)
wrong_log=$(gst-launch-1.0 -m filesrc location="$work/sframe.mkv" ! matroskademux \
  ! capssetter caps="video/x-h264,sframe=(boolean)true" \
  ! sframedec key-id=1 key-hex=00000000000000000000000000000000 ! fakesink silent=false -v 2>&1)
wrong_out=$(grep -c 'last-message = chain' <<<"$wrong_log" || true)
wrong_msgs=$(grep -c 'sframe-decrypt-error, kind=(string)authentication_failed' <<<"$wrong_log" || true)
echo "figures: 300 frames encoded; $protected SFrame frames in sframe.mkv; $clear frames in clear.mkv; $decoded decoded from clear.mkv"
echo "figures: sframe.mkv decoded without sframedec: $undecrypted pictures; with a wrong key: $wrong_out frames out, $wrong_msgs bus message(s)"
[ "$protected" = 300 ] && [ "$clear" = 300 ] && [ "$decoded" = 300 ] || fail "frames lost"
[ "$undecrypted" = 0 ] || fail "the protected recording decodes without the key"
[ "$wrong_out" = 0 ] && [ "$wrong_msgs" = 1 ] || fail "wrong key: expected no frame and one message"

# Runs a receiver (in the background, -e -v, its log in $work/$3.log) and a sender
# (gst-launch-1.0 pipelines given without the command name), then ends the receiver with
# SIGINT (EOS). $1: receiver, $2: sender, $3: log name.
pair() {
  (cd "$work" && exec bash -c "exec gst-launch-1.0 -e -v $1" >"$work/$3.log" 2>&1) &
  rx=$!
  sleep 2
  (cd "$work" && bash -euo pipefail -c "gst-launch-1.0 $2" >"$work/$3.tx.log" 2>&1) ||
    { tail -n 20 "$work/$3.tx.log"; fail "$3: the sender failed"; }
  sleep 1
  kill -INT "$rx"
  # A receiver that never got a frame may not reach EOS: give it 10 s.
  for _ in $(seq 50); do kill -0 "$rx" 2>/dev/null || break; sleep 0.2; done
  kill -TERM "$rx" 2>/dev/null || true
  wait "$rx" || true
  rx=
}
# Buffers that reached the fakesink or identity named $2 in log $1.
chains() { grep -cE "Gst(FakeSink|Identity):$2: last-message = chain" "$work/$1.log" || true; }

# Runs the marked README pair of $1 (marker $2) as written, fakesink for autovideosink; the
# lines before the pipelines (KEY=...) run once and are exported to both. Prints the number of
# buffers that reached the receiver's sink.
readme_pair() {
  block "$1" "$2" >"$work/$3.sh"
  grep -q '^gst-launch-1.0 udpsrc' "$work/$3.sh" || fail "$1 has no pair marked '$2'"
  cat "$work/$3.sh" >&2
  set -a
  eval "$(grep -v '^gst-launch-1.0 ' "$work/$3.sh")"
  set +a
  local receiver sender
  receiver=$(grep '^gst-launch-1.0 udpsrc' "$work/$3.sh" |
    sed 's/^gst-launch-1.0 //; s/autovideosink/fakesink name=out silent=false/')
  sender=$(grep '^gst-launch-1.0 ' "$work/$3.sh" | grep -v '^gst-launch-1.0 udpsrc' |
    sed 's/^gst-launch-1.0 //')
  pair "$receiver" "$sender" "$3"
  chains "$3" out
}

echo "--- gst-sframe/README.md: the UDP pair with rtpgstpay (fakesink for autovideosink)"
udp_decoded=$(readme_pair gst-sframe/README.md "stage 90 runs this pair" udp)
echo "figures: UDP (rtpgstpay): 300 frames sent, $udp_decoded decoded"
[ "$udp_decoded" = 300 ] || { tail -n 20 "$work/udp.log"; fail "UDP: frames lost"; }

echo "--- gst-sframe/README.md: the UDP pair with rtpsframepay / rtpsframedepay"
rtp_decoded=$(readme_pair gst-sframe/README.md "stage 90 runs this RTP pair" rtp)
echo "figures: SFrame RTP (rtpsframepay / rtpsframedepay): 300 frames sent, $rtp_decoded decoded"
[ "$rtp_decoded" = 300 ] || { tail -n 20 "$work/rtp.log"; fail "SFrame RTP: frames lost"; }

echo "--- H.264 video and Opus audio over RTP with injected loss and reordering: SFrame and clear"
# netsim (gst-plugins-bad) on the sender: 1 % of the packets dropped, 5 % delayed by 1-30 ms
# (reordered). It has no seed: each run loses other packets, so the two runs are compared
# with margins, not exactly. 300 video frames (10 s at 30 fps), 500 Opus frames (20 ms each).
vkey=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
akey=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
net="netsim drop-probability=0.01 delay-probability=0.05 min-delay=1 max-delay=30 allow-reordering=true"
video_src="videotestsrc num-buffers=300 is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency key-int-max=30 ! h264parse"
audio_src="audiotestsrc num-buffers=500 samplesperbuffer=960 is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc"
vcaps="application/x-rtp,media=video,clock-rate=90000,encoding-name=H264"
acaps="application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS"
# identity counts the frames out of the depayloader, fakesink the decoded ones.
video_sink="identity name=vdepay silent=false ! h264parse ! avdec_h264 ! fakesink name=video silent=false"
audio_sink="identity name=adepay silent=false ! opusdec ! fakesink name=audio silent=false"
pair "udpsrc port=5004 caps=\"$vcaps,sframe=(boolean)true\" ! rtpjitterbuffer latency=300 ! rtpsframedepay key-id=1 key-hex=$vkey ! $video_sink \
      udpsrc port=5006 caps=\"$acaps,sframe=(boolean)true\" ! rtpjitterbuffer latency=300 ! rtpsframedepay key-id=2 key-hex=$akey ! $audio_sink" \
     "$video_src ! sframeenc key-id=1 key-hex=$vkey ! rtpsframepay mtu=1200 ! $net ! udpsink host=127.0.0.1 port=5004 \
      $audio_src ! sframeenc key-id=2 key-hex=$akey ! rtpsframepay ! $net ! udpsink host=127.0.0.1 port=5006" lossy-sframe
pair "udpsrc port=5004 caps=\"$vcaps\" ! rtpjitterbuffer latency=300 ! rtph264depay ! $video_sink \
      udpsrc port=5006 caps=\"$acaps\" ! rtpjitterbuffer latency=300 ! rtpopusdepay ! $audio_sink" \
     "$video_src ! rtph264pay config-interval=-1 mtu=1200 ! $net ! udpsink host=127.0.0.1 port=5004 \
      $audio_src ! rtpopuspay ! $net ! udpsink host=127.0.0.1 port=5006" lossy-clear
sv=$(chains lossy-sframe video); sa=$(chains lossy-sframe audio)
cv=$(chains lossy-clear video); ca=$(chains lossy-clear audio)
sdv=$(chains lossy-sframe vdepay); sda=$(chains lossy-sframe adepay)
cdv=$(chains lossy-clear vdepay); cda=$(chains lossy-clear adepay)
echo "figures: 1 % loss, 5 % reordered, video: 300 frames sent; with SFrame $sdv out of rtpsframedepay, $sv decoded; without, $cdv out of rtph264depay, $cv decoded"
echo "figures: 1 % loss, 5 % reordered, Opus: 500 frames sent; with SFrame $sda out of rtpsframedepay, $sa decoded; without, $cda out of rtpopusdepay, $ca decoded (opusdec also fills gaps)"
# At 1 % packet loss a video frame of n packets is lost whole with probability 1 - 0.99^n
# (about 6 % for these frames; key frames are 10+ packets), and packets later than the jitter
# buffer's 300 ms count as lost too on a loaded machine: at least 85 % of the video frames and
# 90 % of the Opus frames come out of rtpsframedepay. Decoding then varies more: after a frame
# lost whole avdec_h264 drops pictures until the next key frame (every 30 frames), while the
# clear run hands partial frames to the decoder, which conceals them. So the decoded counts
# are only bounded loosely: 70 % of the video in each run, SFrame's at least 70 % of the clear
# run's, 90 % of the audio.
[ "$sdv" -ge 255 ] && [ "$sdv" -le 300 ] || fail "rtpsframedepay: $sdv of 300 video frames"
[ "$sda" -ge 450 ] && [ "$sda" -le 500 ] || fail "rtpsframedepay: $sda of 500 Opus frames"
for n in "$sv" "$cv"; do [ "$n" -ge 210 ] || fail "video: $n of 300 decoded"; done
for n in "$sa" "$ca"; do [ "$n" -ge 450 ] || fail "audio: $n of 500 decoded"; done
[ $((sv * 100)) -ge $((cv * 70)) ] || fail "SFrame decoded $sv video frames, the clear run $cv"
