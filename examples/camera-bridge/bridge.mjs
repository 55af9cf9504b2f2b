#!/usr/bin/env node
// A camera and the bridge that receives it — what a HomeKit or Matter camera bridge written
// in Node does — with SFrame (RFC 9605) over RTP (draft-ietf-avtcore-rtp-sframe) from the
// sframe-wasm package:
//
//   GStreamer ──H.264 / Opus──▶ camera ──SFrame RTP / UDP──▶ relay ──▶ bridge ──▶ decoders
//   (x264enc, opusenc)          SFrameSendStream   (loss,     SFrameReceiveSession
//                               suite 6 video,     reorder,   (starts without the key)
//                               suite 8 audio,     a late
//                               per-SSRC keys      path)
//
// 1. GStreamer encodes a test pattern to H.264 (one Annex B access unit per file) and a tone
//    to Opus (one packet per file).
// 2. The camera turns each access unit into AVCC (4-byte NAL lengths, as HomeKit sends),
//    protects video with suite 6 (AES_256_CTR_HMAC_SHA512_80) and audio with suite 8
//    (AES_256_CTR_HMAC_SHA512_32), both under per-SSRC keys derived from one session key
//    (draft §7), and sends SFrame RTP over UDP on 127.0.0.1, paced in real time.
// 3. The relay drops a seeded fraction of the packets, swaps some neighbours, and holds the
//    last frame each stream sends under the old key on a slow path, so that it arrives after
//    the bridge has removed that key.
// 4. The bridge starts without the key: frames wait (awaitingkey). The controller (standing
//    in for HomeKit's HAP or Matter's session setup, a secure channel) sends the key late;
//    the waiting frames come out. Midway the controller gives the bridge a new key and the
//    camera rolls to its KID; when the new key authenticates on a stream (keyauthenticated)
//    the bridge removes the old one, and frames under it then fail.
// 5. The bridge turns AVCC back into Annex B; GStreamer's avdec_h264 and opusdec decode what
//    it received, and count.
//
// Prints the figures and exits non-zero if an assertion fails.
//   node examples/camera-bridge/bridge.mjs [--seed N] [--frames N] [--loss 0.03]
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { parseArgs } from 'node:util';

import { SFrameSendStream, SFrameReceiveSession, parseHeader } from '../../sframe-wasm/js/index.js';
import { annexBToAvcc, avccToAnnexB, splitAnnexB, splitAvcc, nalTypes } from './h264.mjs';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '7' },
    frames: { type: 'string', default: '150' }, // video frames at 30 fps
    loss: { type: 'string', default: '0.01' },
    reorder: { type: 'string', default: '0.1' },
    keep: { type: 'boolean', default: false }, // keep the temporary directory
  },
});
const SEED = Number(args.seed);
const VIDEO_FRAMES = Number(args.frames);
const AUDIO_FRAMES = Math.round((VIDEO_FRAMES * 50) / 30); // 20 ms Opus packets, same length
const LOSS = Number(args.loss);
const REORDER = Number(args.reorder);
const SPEED = 2; // media time runs twice as fast as the wall clock
const KEY_AT_MS = 400; // media time at which the controller sends the first key
const ROLL_AT_MS = Math.round((VIDEO_FRAMES / 30) * 500); // midway: the new KID
const SLOW_PATH_FRAMES = 3; // the relay's slow path: a frame arrives after 3 later ones
const MTU_PAYLOAD = 1188; // a 1200-byte RTP packet: 12 bytes of RTP header

const VIDEO = { ssrc: 0x5eed0001, pt: 99, suite: 6, clock: 90_000 };
const AUDIO = { ssrc: 0x5eed0002, pt: 110, suite: 8, clock: 48_000 };
const KID_1 = 1n;
const KID_2 = 2n;
const key1 = webcrypto.getRandomValues(new Uint8Array(32));
const key2 = webcrypto.getRandomValues(new Uint8Array(32));

/** mulberry32: the relay's seeded randomness. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gst(pipeline) {
  const r = spawnSync('gst-launch-1.0', ['-q', ...pipeline.split(' ')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gst-launch-1.0 ${pipeline}: ${r.stderr || r.error}`);
}

/** gst-launch-1.0 -v …! fakesink silent=false: the number of buffers the sink received. */
function gstCount(pipeline) {
  const r = spawnSync('gst-launch-1.0', ['-v', ...pipeline.split(' '), '!', 'fakesink', 'silent=false'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`gst-launch-1.0 ${pipeline}: ${r.stderr || r.error}`);
  return (r.stdout.match(/last-message = chain/g) ?? []).length;
}

const files = (dir) => readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));

// ---------------------------------------------------------------------------------------------
// 1. Encode
// ---------------------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'camera-bridge-'));
for (const d of ['video', 'audio', 'out-audio']) mkdirSync(join(work, d));
gst(
  `videotestsrc num-buffers=${VIDEO_FRAMES} pattern=smpte horizontal-speed=8 ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ` +
    `! x264enc tune=zerolatency key-int-max=10 speed-preset=ultrafast bitrate=800 ! h264parse config-interval=-1 ` +
    `! video/x-h264,stream-format=byte-stream,alignment=au ! multifilesink location=${work}/video/%05d.h264 next-file=buffer`,
);
gst(
  `audiotestsrc num-buffers=${AUDIO_FRAMES} samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ` +
    `! opusenc frame-size=20 ! multifilesink location=${work}/audio/%05d.opus next-file=buffer`,
);
const videoAUs = files(join(work, 'video'));
const audioPackets = files(join(work, 'audio'));
assert.equal(videoAUs.length, VIDEO_FRAMES, 'one file per access unit');

// ---------------------------------------------------------------------------------------------
// Sockets: camera → relay → bridge (media), controller → bridge (keys)
// ---------------------------------------------------------------------------------------------
async function bound(onMessage) {
  const s = createSocket('udp4');
  if (onMessage) s.on('message', onMessage);
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.setRecvBufferSize(4 << 20);
  return s;
}
// Sends are queued in order; the relay's handling of a packet is synchronous, so that the
// order it decides is the order on the wire.
const send = (socket, port, bytes) => socket.send(bytes, port, '127.0.0.1');

// ---------------------------------------------------------------------------------------------
// 4. The bridge
// ---------------------------------------------------------------------------------------------
const figures = {};
for (const m of ['video', 'audio']) {
  figures[m] = { sent: 0, awaitingKey: 0, fromBuffer: 0, delivered: 0, failedAfterRemoval: 0, otherFailures: 0, lostFrames: 0 };
}
const delivered = { video: [], audio: [] }; // { timestamp, data }
const keyEvents = [];
const removedAt = {};
const sessions = {
  video: new SFrameReceiveSession({ cipherSuite: VIDEO.suite, perSsrcKeys: true, maxStreams: 2, maxWaitMs: 3000 }),
  audio: new SFrameReceiveSession({ cipherSuite: AUDIO.suite, perSsrcKeys: true, maxStreams: 2, maxWaitMs: 3000 }),
};
for (const [media, session] of Object.entries(sessions)) {
  const f = figures[media];
  session.on('awaitingkey', () => f.awaitingKey++);
  session.on('frame', (e) => {
    f.delivered++;
    if (e.fromBuffer) f.fromBuffer++;
    delivered[media].push({ timestamp: e.timestamp, keyId: e.keyId, data: e.data });
  });
  session.on('keyauthenticated', (e) => {
    keyEvents.push({ media, ...e });
    // Once the new key authenticates on the stream, the camera has switched: the old key goes.
    if (e.keyId === KID_2 && session.removeKey(KID_1)) removedAt[media] = performance.now();
  });
  session.on('failed', (e) => {
    if (e.code === 'unknown_key_id' && e.keyId === KID_1 && removedAt[media] !== undefined) f.failedAfterRemoval++;
    else {
      f.otherFailures++;
      console.error(`${media}: unexpected failure`, e);
    }
  });
}
const bridge = await bound((packet) => {
  // Route by payload type (one session per media section: their suites differ).
  const session = (packet[1] & 0x7f) === VIDEO.pt ? sessions.video : sessions.audio;
  session.receive(packet);
});
const control = await bound((msg) => {
  const { keyId, key } = JSON.parse(msg.toString());
  for (const session of Object.values(sessions)) {
    session.addKey(BigInt(keyId), Buffer.from(key, 'hex'));
    session.drain(); // frames that waited for it come out now
  }
});

// ---------------------------------------------------------------------------------------------
// 3. The relay
// ---------------------------------------------------------------------------------------------
const random = rng(SEED);
const relayOut = await bound();
const relayStats = { packets: 0, dropped: 0, swapped: 0, slowPath: 0 };
const lostFrames = new Set(); // `${ssrc}/${timestamp}` of frames that lost a packet
let held = null; // a packet held back to swap with the next
const forward = (packet) => {
  if (held === null && random() < REORDER) {
    held = packet;
    relayStats.swapped++;
    return;
  }
  send(relayOut, bridge.address().port, packet);
  if (held !== null) {
    const h = held;
    held = null;
    send(relayOut, bridge.address().port, h);
  }
};
const rtpSsrc = (p) => new DataView(p.buffer, p.byteOffset).getUint32(8);
const rtpTimestamp = (p) => new DataView(p.buffer, p.byteOffset).getUint32(4);
// One frame's delay line per SSRC: a frame goes on when the next one starts; the last frame
// under a KID, when the next is under another, takes the slow path.
const pending = new Map(); // ssrc → { kid, packets }
const slowPath = []; // { ssrc, frame, after: frames of its SSRC still to go before it }
function relayFrame(ssrc, frame) {
  for (const p of frame.packets) {
    relayStats.packets++;
    if (random() < LOSS) {
      relayStats.dropped++;
      lostFrames.add(`${ssrc}/${rtpTimestamp(p)}`);
    } else forward(p);
  }
  for (const late of slowPath.filter((l) => l.ssrc === ssrc && l.after > 0)) {
    if (--late.after === 0) {
      relayStats.packets += late.frame.packets.length;
      late.frame.packets.forEach(forward);
    }
  }
}
const relayIn = await bound((packet) => {
  const ssrc = rtpSsrc(packet);
  const start = (packet[12] & 0x80) !== 0; // the descriptor's S bit: an SFrame header follows
  let frame = pending.get(ssrc);
  if (start) {
    const kid = parseHeader(packet.subarray(13)).keyId; // no key needed (RFC 9605 §4.3)
    if (frame) {
      if (frame.kid !== kid) {
        relayStats.slowPath++;
        slowPath.push({ ssrc, frame, after: SLOW_PATH_FRAMES });
      } else relayFrame(ssrc, frame);
    }
    frame = { kid, packets: [] };
    pending.set(ssrc, frame);
  }
  frame?.packets.push(packet);
});

// ---------------------------------------------------------------------------------------------
// 2. The camera, and the controller's key messages
// ---------------------------------------------------------------------------------------------
const camera = await bound();
const streams = {
  video: new SFrameSendStream({ cipherSuite: VIDEO.suite, ssrc: VIDEO.ssrc, payloadType: VIDEO.pt, maxPayloadLength: MTU_PAYLOAD, perSsrcKeys: true, firstSequence: 1000 }),
  audio: new SFrameSendStream({ cipherSuite: AUDIO.suite, ssrc: AUDIO.ssrc, payloadType: AUDIO.pt, maxPayloadLength: MTU_PAYLOAD, perSsrcKeys: true, firstSequence: 50000 }),
};
for (const s of Object.values(streams)) s.setKey(KID_1, key1);
const controller = await bound();
const sendKey = (keyId, key) =>
  send(controller, control.address().port, Buffer.from(JSON.stringify({ keyId: String(keyId), key: Buffer.from(key).toString('hex') })));

const timeline = [
  ...videoAUs.map((au, i) => ({ at: (i * 1000) / 30, media: 'video', i, au })),
  ...audioPackets.map((au, i) => ({ at: i * 20, media: 'audio', i, au })),
  { at: KEY_AT_MS, key: [KID_1, key1] },
  { at: ROLL_AT_MS - 100, key: [KID_2, key2] }, // the bridge learns the new key first
  { at: ROLL_AT_MS, roll: true },
].sort((a, b) => a.at - b.at);
const t0 = performance.now();
for (const ev of timeline) {
  const wait = t0 + ev.at / SPEED - performance.now();
  if (wait > 1) await sleep(wait);
  if (ev.key) await sendKey(...ev.key);
  else if (ev.roll) for (const s of Object.values(streams)) s.setKey(KID_2, key2);
  else {
    const { clock } = ev.media === 'video' ? VIDEO : AUDIO;
    const media = ev.media === 'video' ? annexBToAvcc(ev.au) : ev.au;
    const ts = ev.media === 'video' ? ev.i * (clock / 30) : ev.i * (clock / 50);
    for (const p of streams[ev.media].sendFrame(media, ts, true)) send(camera, relayIn.address().port, p);
    figures[ev.media].sent++;
  }
}
await sleep(50);
for (const [ssrc, frame] of pending) relayFrame(ssrc, frame); // the delay line's last frames
pending.clear();
for (const late of slowPath.filter((l) => l.after > 0)) {
  relayStats.packets += late.frame.packets.length;
  late.frame.packets.forEach(forward);
}
if (held !== null) send(relayOut, bridge.address().port, held);
await sleep(300);
for (const s of Object.values(sessions)) s.drain();
for (const s of [bridge, control, relayIn, relayOut, camera, controller]) s.close();

// ---------------------------------------------------------------------------------------------
// 5. Decode what the bridge received
// ---------------------------------------------------------------------------------------------
for (const [media, { ssrc }] of [['video', VIDEO], ['audio', AUDIO]]) {
  figures[media].lostFrames = [...lostFrames].filter((k) => k.startsWith(`${ssrc}/`)).length;
}
// A jitter buffer's order: by RTP timestamp.
for (const list of Object.values(delivered)) list.sort((a, b) => a.timestamp - b.timestamp);
// Video: AVCC back to Annex B. Every P frame of this stream references the frame before it
// (x264 ultrafast: one reference), so after a missing frame the decoder is fed again only from
// the next IDR frame — a bridge would send a keyframe request (RTCP PLI) there.
const FRAME_TICKS = VIDEO.clock / 30;
const sourceByTs = new Map(videoAUs.map((au, i) => [i * FRAME_TICKS, au]));
const videoOut = [];
let expected = null; // timestamp of the next frame the decoder can take, null: wait for an IDR
for (const f of delivered.video) {
  // Byte for byte: the NAL units the decoder gets are the encoder's.
  const got = splitAnnexB(avccToAnnexB(f.data));
  const want = splitAnnexB(sourceByTs.get(f.timestamp));
  assert.deepEqual(got.map((n) => Buffer.from(n).toString('hex')), want.map((n) => Buffer.from(n).toString('hex')));
  const idr = nalTypes(splitAvcc(f.data)).includes(5);
  if (idr || f.timestamp === expected) {
    videoOut.push(f);
    expected = f.timestamp + FRAME_TICKS;
  } else expected = null;
}
const skippedToIdr = delivered.video.length - videoOut.length;
const h264 = join(work, 'received.h264');
writeFileSync(h264, Buffer.concat(videoOut.map((f) => avccToAnnexB(f.data))));
const videoDecoded = gstCount(`filesrc location=${h264} ! h264parse ! avdec_h264`);
delivered.audio.forEach((f, i) => writeFileSync(join(work, 'out-audio', `${String(i).padStart(5, '0')}.opus`), f.data));
const audioDecoded = delivered.audio.length
  ? gstCount(
      `multifilesrc location=${work}/out-audio/%05d.opus index=0 stop-index=${delivered.audio.length - 1} ` +
        `caps=audio/x-opus,channel-mapping-family=(int)0,channels=(int)1,rate=(int)48000 ! opusparse ! opusdec`,
    )
  : 0;

const v = figures.video;
const a = figures.audio;
console.log(`camera-bridge: seed ${SEED}, loss ${LOSS}, reorder ${REORDER}, ${VIDEO_FRAMES} video frames, ${AUDIO_FRAMES} audio frames`);
console.log(`relay: ${relayStats.packets} packets, ${relayStats.dropped} dropped, ${relayStats.swapped} swapped, ${relayStats.slowPath} frames on the slow path`);
console.log('                               video   audio');
const row = (label, x, y) => console.log(`${label.padEnd(30)} ${String(x).padStart(5)}   ${String(y).padStart(5)}`);
row('frames sent', v.sent, a.sent);
row('waited for the key', v.awaitingKey, a.awaitingKey);
row('  delivered from the wait', v.fromBuffer, a.fromBuffer);
row('delivered (decrypted)', v.delivered, a.delivered);
row('lost to injected loss', v.lostFrames, a.lostFrames);
row('failed after old KID removed', v.failedAfterRemoval, a.failedAfterRemoval);
row('other failures', v.otherFailures, a.otherFailures);
row('skipped to the next IDR', skippedToIdr, 0);
row('given to the decoder', videoOut.length, delivered.audio.length);
row('decoded (avdec_h264 / opusdec)', videoDecoded, audioDecoded);
console.log(`key events: ${keyEvents.map((e) => `${e.media} kid ${e.keyId}${e.first ? ' (first)' : ''}`).join(', ')}`);
const vs = sessions.video.stats().streams[0];
console.log(`video stream stats: waited ${vs.waited}, released ${vs.released}, dropped (overflow/expired/removed) ${vs.droppedOverflow}/${vs.droppedExpired}/${vs.droppedRemoved}, duplicates ${vs.packets.duplicates}, late ${vs.packets.late}`);

// Assertions.
for (const [media, f] of Object.entries(figures)) {
  assert.equal(f.otherFailures, 0, `${media}: no failure but the removed KID's`);
  assert.ok(f.awaitingKey > 0 && f.fromBuffer === f.awaitingKey, `${media}: frames waited for the key and all came out`);
  assert.ok(f.failedAfterRemoval >= 1, `${media}: the slow path's old-KID frame failed after removal`);
  assert.equal(f.sent, f.delivered + f.lostFrames + f.failedAfterRemoval, `${media}: every frame accounted for`);
  for (const kid of [KID_1, KID_2]) {
    assert.ok(keyEvents.some((e) => e.media === media && e.keyId === kid), `${media}: kid ${kid} authenticated`);
  }
  assert.ok(removedAt[media] !== undefined, `${media}: old KID removed`);
  assert.ok(delivered[media].some((d) => d.keyId === KID_2) && delivered[media].some((d) => d.keyId === KID_1));
}
assert.ok(videoOut.length >= 10, 'video frames reach the decoder');
assert.equal(videoDecoded, videoOut.length, 'the decoder decoded every video frame it was given');
assert.equal(audioDecoded, delivered.audio.length, 'opusdec decoded every audio frame it was given');
if (args.keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
for (const s of [...Object.values(streams), ...Object.values(sessions)]) s.close();
console.log('camera-bridge: OK');
