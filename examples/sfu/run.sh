#!/usr/bin/env bash
# One command for the Janus demo: a local Janus (Debian's `janus` package) with an E2EE,
# recorded videoroom, and the demo page.
#
#   bash examples/sfu/run.sh                 # serves http://127.0.0.1:${PORT:-8090}/ (Ctrl-C stops all)
#   bash examples/sfu/run.sh --native        # the same, plus the native participant in the room
#   bash examples/sfu/run.sh -- CMD ARGS...  # runs CMD instead of the page server, with
#                                            #   JANUS_URL, SFU_REC_DIR, SFU_WORK set (used by the e2e test)
#
# Janus's HTTP API listens on 127.0.0.1 only (no admin API; no other transport or plugin is
# loaded), and so does the page server. Media: Janus 1.1 (libnice) never gathers ICE
# candidates on the loopback interface, so its candidates are this host's own addresses —
# traffic between local processes and them does not leave the machine. The
# configuration lives in a temporary directory; recordings stay in $SFU_WORK/recordings
# (printed on exit; SFU_KEEP=0 removes everything). Ports: PORT (page, 8090), JANUS_PORT
# (8088), RTP_PORTS (20000-20999).
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8090}
JANUS_PORT=${JANUS_PORT:-8088}
RTP_PORTS=${RTP_PORTS:-20000-20999}
ROOM=${ROOM:-1234}
WITH_NATIVE=0
if [ "${1:-}" = "--native" ]; then
  WITH_NATIVE=1
  shift
fi

if ! command -v janus >/dev/null; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y janus janus-tools
fi
command -v node >/dev/null || { apt-get update && apt-get install -y nodejs; }
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh

LIB=$(dirname "$(dpkg -L janus | grep -m1 '/janus/plugins/libjanus_videoroom.so$')")/..
WORK=$(mktemp -d /tmp/sframe-sfu.XXXXXX)
mkdir -p "$WORK/conf" "$WORK/plugins" "$WORK/transports" "$WORK/none" "$WORK/recordings"
# Only the videoroom plugin and the HTTP transport are loaded.
ln -s "$LIB/plugins/libjanus_videoroom.so" "$WORK/plugins/"
ln -s "$LIB/transports/libjanus_http.so" "$WORK/transports/"

cat >"$WORK/conf/janus.jcfg" <<EOF
general: {
	configs_folder = "$WORK/conf"
	plugins_folder = "$WORK/plugins"
	transports_folder = "$WORK/transports"
	events_folder = "$WORK/none"
	loggers_folder = "$WORK/none"
	debug_level = ${JANUS_DEBUG:-4}
	debug_timestamps = true
	server_name = "sframe-sfu-demo"
	session_timeout = 60
}
certificates: {
}
media: {
	rtp_port_range = "$RTP_PORTS"
}
nat: {
	ignore_mdns = true
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
}
EOF
cat >"$WORK/conf/janus.transport.http.jcfg" <<EOF
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = $JANUS_PORT
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
cors: {
}
EOF
# The room: Janus refuses participants that do not declare end-to-end encrypted media
# (require_e2ee) and records every publisher's streams as they arrive (record, rec_dir).
# Room ROOM + 1: VP9, AV1 and VP8 simulcast publishers, no recording (examples/sfu/codecs.test.mjs).
cat >"$WORK/conf/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
room-$ROOM: {
	description = "SFrame end-to-end encrypted room"
	publishers = 16
	bitrate = 512000
	fir_freq = 5
	audiocodec = "opus"
	videocodec = "vp8"
	require_e2ee = true
	record = true
	rec_dir = "$WORK/recordings"
}
room-$((ROOM + 1)): {
	description = "SFrame end-to-end encrypted room, VP9, AV1 and VP8 simulcast"
	publishers = 4
	bitrate = 2000000
	fir_freq = 5
	audiocodec = "opus"
	videocodec = "vp9,av1,vp8"
	require_e2ee = true
}
EOF

JANUS_PID=
SERVE_PID=
NATIVE_PID=
stop() {
  trap - EXIT INT TERM
  if [ -n "$NATIVE_PID" ]; then
    exec 3>&- # end of input: the native participant leaves the room and exits
    for _ in $(seq 1 50); do kill -0 "$NATIVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$NATIVE_PID" 2>/dev/null || true
  fi
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
  if [ -n "$JANUS_PID" ] && kill -0 "$JANUS_PID" 2>/dev/null; then
    kill -TERM "$JANUS_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$JANUS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$JANUS_PID" 2>/dev/null || true
  fi
  if [ "${SFU_KEEP:-1}" = 0 ]; then
    rm -rf "$WORK"
    echo "janus stopped; $WORK removed" >&2
  else
    echo "janus stopped; recordings: $WORK/recordings ($(ls "$WORK/recordings" | wc -l) files), log: $WORK/janus.log" >&2
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM

janus -C "$WORK/conf/janus.jcfg" -F "$WORK/conf" -o >"$WORK/janus.log" 2>&1 &
JANUS_PID=$!
JANUS_URL="http://127.0.0.1:$JANUS_PORT/janus"
for i in $(seq 1 100); do
  if node -e "fetch('$JANUS_URL/info').then(r => r.json()).then(j => process.exit(j.janus === 'server_info' ? 0 : 1), () => process.exit(1))"; then
    break
  fi
  kill -0 "$JANUS_PID" 2>/dev/null || { cat "$WORK/janus.log" >&2; echo "janus exited" >&2; exit 1; }
  [ "$i" = 100 ] && { echo "janus did not answer on $JANUS_URL" >&2; exit 1; }
  sleep 0.2
done
echo "janus $(janus --version 2>/dev/null | head -1 | sed 's/.*version: //') answers on $JANUS_URL (room $ROOM: require_e2ee, recording to $WORK/recordings)" >&2

export JANUS_URL SFU_REC_DIR="$WORK/recordings" SFU_WORK="$WORK" ROOM
if [ "${1:-}" = "--" ]; then
  shift
  "$@"
elif [ "$WITH_NATIVE" = 1 ]; then
  export ROOM_SECRET=${ROOM_SECRET:-$(node -e "console.log(require('crypto').randomBytes(12).toString('hex'))")}
  cargo build --quiet --manifest-path examples/sfu/native/Cargo.toml
  node examples/sfu/serve.mjs "$PORT" &
  SERVE_PID=$!
  for _ in $(seq 1 50); do
    node -e "fetch('http://127.0.0.1:$PORT/').then(() => process.exit(0), () => process.exit(1))" && break
    sleep 0.2
  done
  # Its stdin is a FIFO this shell holds open: closing it on exit makes it leave the room.
  mkfifo "$WORK/native.in"
  examples/sfu/native/target/debug/sframe-sfu-native --server "http://127.0.0.1:$PORT" --room "$ROOM" \
    --secret "$ROOM_SECRET" --ivf test-vectors/tiny-vp8.ivf <"$WORK/native.in" &
  NATIVE_PID=$!
  exec 3>"$WORK/native.in"
  wait "$SERVE_PID"
else
  export ROOM_SECRET=${ROOM_SECRET:-$(node -e "console.log(require('crypto').randomBytes(12).toString('hex'))")}
  node examples/sfu/serve.mjs "$PORT"
fi
