#!/usr/bin/env bash
# The GStreamer plugin (gst-sframe/, plugin `sframe`: sframeenc / sframedec) against Debian's
# GStreamer 1.22: clippy, its tests (gst-check harnesses and a PLAYING pipeline with real
# H.264 from x264enc, decoded by avdec_h264; gst-inspect-1.0 on the built plugin), then
# gst-inspect-1.0 and real gst-launch-1.0 runs with figures:
#   - the README's GStreamer block, run exactly as written (send: x264enc ! sframeenc !
#     matroskamux; receive: matroskademux ! capssetter ! sframedec ! matroskamux), then the
#     frames of both files counted and decoded, and the protected file decoded without
#     sframedec (must give no picture) and with a wrong key (nothing, one bus message);
#   - gst-sframe/README.md's UDP pair (rtpgstpay / rtpgstdepay), with fakesink in place of
#     autovideosink (no display here).
# The crate is a member of the root workspace, but stage 10 excludes it (--exclude
# gst-plugin-sframe): its tests need GStreamer's runtime plugins, not only its headers, and
# this way the GStreamer crates are compiled in this stage only, once (debug: the tests' build
# is also the plugin gst-launch-1.0 loads).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

# Debian packages: headers and .pc files (gstreamer-1.0, -base, -check: libgstreamer1.0-dev),
# pkg-config, the tools, and the elements the tests and pipelines use: videotestsrc (base),
# matroska / rtp / udp / capssetter / vpx (good), x264enc (ugly), h264parse (bad),
# avdec_h264 (libav).
need=()
dpkg -s libgstreamer1.0-dev >/dev/null 2>&1 || need+=(libgstreamer1.0-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools)
has() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
has videotestsrc || need+=(gstreamer1.0-plugins-base)
{ has matroskamux && has rtpgstpay && has capssetter && has udpsrc; } || need+=(gstreamer1.0-plugins-good)
has x264enc || need+=(gstreamer1.0-plugins-ugly)
has h264parse || need+=(gstreamer1.0-plugins-bad)
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

echo "--- gst-sframe/README.md: the UDP pair (fakesink for autovideosink)"
block gst-sframe/README.md "stage 90 runs this pair" >"$work/udp.sh"
grep -q '^gst-launch-1.0 udpsrc' "$work/udp.sh" || fail "gst-sframe/README.md has no marked UDP pair"
cat "$work/udp.sh"
# The lines before the two pipelines (KEY=...) run once, here; what they set is exported to
# both pipelines' shells.
set -a
eval "$(grep -v '^gst-launch-1.0 ' "$work/udp.sh")"
set +a
receiver=$(grep '^gst-launch-1.0 udpsrc' "$work/udp.sh" |
  sed 's/^gst-launch-1.0 /gst-launch-1.0 -e -v /; s/autovideosink/fakesink silent=false/')
sender=$(grep '^gst-launch-1.0 ' "$work/udp.sh" | grep -v '^gst-launch-1.0 udpsrc')
# exec twice: $rx is gst-launch-1.0 itself, which -e makes end cleanly (EOS) on SIGINT.
(cd "$work" && exec bash -c "exec $receiver" >"$work/rx.log" 2>&1) &
rx=$!
sleep 2
(cd "$work" && bash -euo pipefail -c "$sender")
sleep 1
kill -INT "$rx"
# A receiver that never got a frame may not reach EOS: give it 10 s.
for _ in $(seq 50); do kill -0 "$rx" 2>/dev/null || break; sleep 0.2; done
kill -TERM "$rx" 2>/dev/null || true
wait "$rx" || true
rx=
udp_decoded=$(grep -c 'last-message = chain' "$work/rx.log" || true)
echo "figures: UDP (rtpgstpay): 300 frames sent, $udp_decoded decoded"
[ "$udp_decoded" = 300 ] || { tail -n 20 "$work/rx.log"; fail "UDP: frames lost"; }
