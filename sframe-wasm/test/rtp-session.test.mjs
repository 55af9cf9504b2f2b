// SFrameSendStream / SFrameReceiveSession (js/rtp-session.js over sframe-core's rtp::session):
// draft-ietf-avtcore-rtp-sframe §5 (packetization), §7 (per-SSRC keys), §8; RFC 9605 §4.4.4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  SFrameSendStream,
  SFrameReceiveSession,
  Receiver,
  hazmatProtectFrame,
} from '../js/index.js';
import { hex, rng, toHex } from './helpers.mjs';

const ssrcVectors = JSON.parse(
  readFileSync(new URL('../../test-vectors/rtp-ssrc-keys.json', import.meta.url), 'utf8'),
).ssrc_keys;

const frameOf = (i, len) => Uint8Array.from({ length: len }, (_, j) => (i * 31 + j) & 0xff);
const KEY = new Uint8Array(32).fill(0x5a);
const KEY2 = new Uint8Array(32).fill(0xa5);

/** One RTP packet: V=2, no CSRC, marker on, then the SFrame descriptor (S|E) and `frame`. */
function rtpPacket(pt, seq, ts, ssrc, frame) {
  const p = new Uint8Array(13 + frame.length);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  p[1] = 0x80 | pt;
  v.setUint16(2, seq);
  v.setUint32(4, ts);
  v.setUint32(8, ssrc);
  p[12] = 0xc0; // S, E, per-frame
  p.set(frame, 13);
  return p;
}

test('round trip, suite 6, per-SSRC keys: 10% loss and reordering; every complete frame once, intact', () => {
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 0x4d2e61f0, payloadType: 99, maxPayloadLength: 1100, perSsrcKeys: true, firstSequence: 65500 });
  tx.setKey(7, KEY);
  const rx = new SFrameReceiveSession({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_80', perSsrcKeys: true, maxStreams: 2 });
  rx.addKey(7, KEY);
  const random = rng(42);
  const sent = new Map();
  let wire = [];
  const complete = new Set();
  for (let i = 0; i < 120; i++) {
    const media = frameOf(i, 200 + Math.floor(random() * 6000));
    sent.set(i * 3000, media);
    const packets = tx.sendFrame(media, i * 3000, true);
    assert.ok(packets.length >= 1 && packets.every((p) => p.length <= 12 + 1100));
    const kept = packets.filter(() => random() >= 0.1);
    if (kept.length === packets.length) complete.add(i * 3000);
    wire.push(...kept);
  }
  // Reorder within windows of 8 packets.
  for (let i = 0; i < wire.length; i += 8) {
    const w = wire.slice(i, i + 8);
    for (let j = w.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [w[j], w[k]] = [w[k], w[j]];
    }
    wire.splice(i, w.length, ...w);
  }
  const got = new Map();
  const failed = [];
  rx.on('frame', (e) => {
    assert.ok(!got.has(e.timestamp), 'a frame comes out once');
    got.set(e.timestamp, e.data);
  });
  rx.on('failed', (e) => failed.push(e));
  let t = 0;
  for (const p of wire) rx.receive(p, t++);
  assert.deepEqual(failed, []);
  assert.ok(complete.size > 20 && complete.size < 120, `complete ${complete.size}`);
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...complete].sort((a, b) => a - b));
  for (const [ts, data] of got) assert.deepEqual(data, sent.get(ts));
  const s = rx.stats();
  assert.equal(s.streams[0].framesOut, complete.size);
  assert.equal(s.streams[0].ssrc, 0x4d2e61f0);
  assert.equal(tx.stats().frames, 120);
  assert.equal(tx.nextSequence, (65500 + tx.stats().packets) % 65536);
});

test('late key: frames wait (awaitingkey), come out in order when the key arrives, then keyauthenticated', () => {
  const tx = new SFrameSendStream({ cipherSuite: 8, ssrc: 2, payloadType: 111, maxPayloadLength: 1200, perSsrcKeys: true });
  tx.setKey(3n, KEY);
  const rx = new SFrameReceiveSession({ cipherSuite: 8, perSsrcKeys: true, maxWaitMs: 1000 });
  const events = [];
  for (let i = 0; i < 5; i++) for (const p of tx.sendFrame(frameOf(i, 100), i * 960)) events.push(...rx.receive(p, i * 20));
  assert.deepEqual(events.map((e) => e.type), Array(5).fill('awaitingkey'));
  assert.deepEqual(events.map((e) => e.counter), [0n, 1n, 2n, 3n, 4n]);
  assert.equal(rx.stats().streams[0].waiting, 5);
  rx.addKey(3n, KEY);
  const after = rx.drain(100);
  assert.deepEqual(after.map((e) => e.type), ['frame', 'keyauthenticated', 'frame', 'frame', 'frame', 'frame']);
  const frames = after.filter((e) => e.type === 'frame');
  assert.ok(frames.every((e) => e.fromBuffer && e.keyId === 3n && e.ssrc === 2));
  assert.deepEqual(frames.map((e) => e.data), [0, 1, 2, 3, 4].map((i) => frameOf(i, 100)));
  assert.deepEqual(after[1], { type: 'keyauthenticated', keyId: 3n, ssrc: 2, first: true });
  // A frame that waits longer than maxWaitMs is dropped, counted.
  const tx2 = new SFrameSendStream({ cipherSuite: 8, ssrc: 2, payloadType: 111, maxPayloadLength: 1200, perSsrcKeys: true, firstSequence: tx.nextSequence });
  tx2.setKey(4n, KEY2);
  const waiting = [];
  for (const p of tx2.sendFrame(frameOf(9, 50), 99999)) waiting.push(...rx.receive(p, 200));
  assert.deepEqual(waiting.map((e) => [e.type, e.keyId]), [['awaitingkey', 4n]]);
  assert.deepEqual(rx.drain(1300), []);
  assert.equal(rx.stats().streams[0].droppedExpired, 1);
  rx.addKey(4n, KEY2);
  assert.deepEqual(rx.drain(1301), []);
});

test('rotation: new KID authenticates (event), the old one is removed, its frames then fail; a removed KID cannot come back', () => {
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 0xabc, payloadType: 99, maxPayloadLength: 500, perSsrcKeys: true });
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true });
  tx.setKey(1, KEY);
  rx.addKey(1, KEY);
  const auth = [];
  rx.on('keyauthenticated', (e) => auth.push(e));
  for (const p of tx.sendFrame(frameOf(0, 1500), 0)) rx.receive(p, 0);
  assert.deepEqual(auth.map((e) => e.keyId), [1n]);
  rx.addKey(2, KEY2); // the new key comes before the sender switches
  tx.setKey(2, KEY2);
  assert.equal(tx.keyId, 2n);
  const ev = [];
  for (const p of tx.sendFrame(frameOf(1, 1500), 3000)) ev.push(...rx.receive(p, 33));
  assert.deepEqual(ev.map((e) => e.type), ['frame', 'keyauthenticated']);
  assert.equal(ev[0].keyId, 2n);
  assert.deepEqual(auth.map((e) => [e.keyId, e.first]), [[1n, true], [2n, true]]);
  assert.equal(rx.removeKey(1), true);
  assert.equal(rx.hasKey(1), false);
  tx.setKey(1, KEY); // a late frame under the old key
  const late = [];
  for (const p of tx.sendFrame(frameOf(2, 100), 6000)) late.push(...rx.receive(p, 66));
  assert.deepEqual(late, [{ type: 'failed', ssrc: 0xabc, keyId: 1n, code: 'unknown_key_id' }]);
  assert.throws(() => rx.addKey(1, KEY), (e) => e.name === 'SFrameError' && e.code === 'stale_epoch');
  const k1 = rx.stats().keys.find((k) => k.keyId === 1n);
  assert.equal(k1.active, false);
  assert.equal(k1.counters.failures.unknownKey, 1);
});

test('ratcheting: a session follows a sender that ratchets (§8 per SSRC)', () => {
  const tx = new SFrameSendStream({ cipherSuite: 8, ssrc: 77, payloadType: 96, maxPayloadLength: 1200, perSsrcKeys: true });
  const kid0 = tx.setRatchetingKey(4, 2, KEY);
  assert.equal(kid0, 2n << 4n);
  const rx = new SFrameReceiveSession({ cipherSuite: 8, perSsrcKeys: true });
  rx.addRatchetingKey(4, kid0, KEY);
  const kids = [];
  rx.on('frame', (e) => kids.push(e.keyId));
  for (let i = 0; i < 3; i++) {
    for (const p of tx.sendFrame(frameOf(i, 64), i)) rx.receive(p, i);
    tx.ratchet();
  }
  assert.deepEqual(kids, [32n, 33n, 34n]);
});

test('per-SSRC vectors (test-vectors/rtp-ssrc-keys.json), suites 6 and 8, through the session', () => {
  const vs = ssrcVectors.filter((v) => v.cipher_suite === 6 || v.cipher_suite === 8);
  assert.equal(vs.length, 16);
  for (const v of vs) {
    const kid = BigInt(v.kid);
    const media = frameOf(v.kid, 300);
    // A frame made with the vector's derived per-SSRC key decrypts in a per-SSRC session given
    // the base key: the session derived the same key.
    const frame = hazmatProtectFrame(v.cipher_suite, kid, 5n, hex(v.ssrc_key), media);
    const rx = new SFrameReceiveSession({ cipherSuite: v.cipher_suite, perSsrcKeys: true });
    rx.addKey(kid, hex(v.base_key));
    const ev = rx.receive(rtpPacket(100, 1, 1234, v.ssrc, frame), 0);
    assert.equal(ev[0].type, 'frame', `suite ${v.cipher_suite} ssrc ${v.ssrc}`);
    assert.deepEqual(ev[0].data, media);
    assert.equal(ev[0].ssrc, v.ssrc);
    // Without per-SSRC keys the base key is used as is: the same frame fails.
    const plain = new SFrameReceiveSession({ cipherSuite: v.cipher_suite });
    plain.addKey(kid, hex(v.base_key));
    const bad = plain.receive(rtpPacket(100, 1, 1234, v.ssrc, frame), 0);
    assert.deepEqual(bad.map((e) => [e.type, e.code]), [['failed', 'authentication_failed']]);
    // And the send side: the stream's frame opens with the vector's per-SSRC key.
    const tx = new SFrameSendStream({ cipherSuite: v.cipher_suite, ssrc: v.ssrc, payloadType: 100, maxPayloadLength: 1400, perSsrcKeys: true });
    tx.setKey(kid, hex(v.base_key));
    const [packet] = tx.sendFrame(media, 1);
    assert.equal(new DataView(packet.buffer, packet.byteOffset).getUint32(8), v.ssrc);
    const low = new Receiver(v.cipher_suite);
    low.addKey(kid, hex(v.ssrc_key));
    assert.equal(toHex(low.unprotect(packet.subarray(13))), toHex(media));
  }
});

test('per-SSRC keys bind a frame to its SSRC: the same packet under another SSRC fails', () => {
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 10, payloadType: 99, maxPayloadLength: 1200, perSsrcKeys: true });
  tx.setKey(1, KEY);
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true });
  rx.addKey(1, KEY);
  const [p] = tx.sendFrame(frameOf(0, 10), 0);
  const moved = Uint8Array.from(p);
  new DataView(moved.buffer).setUint32(8, 11);
  assert.deepEqual(rx.receive(moved, 0).map((e) => [e.type, e.code]), [['failed', 'authentication_failed']]);
  assert.equal(rx.receive(p, 0)[0].type, 'frame');
});

test('bounded memory: waiting frames, streams and reassembly stay within their bounds under a flood', () => {
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true, maxStreams: 3 });
  // 300 complete frames under a KID with no key: at most 64 wait, the rest are dropped, counted.
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 1, payloadType: 99, maxPayloadLength: 1200, perSsrcKeys: true });
  tx.setKey(9, KEY);
  for (let i = 0; i < 300; i++) for (const p of tx.sendFrame(frameOf(i, 100), i)) rx.receive(p, i);
  let st = rx.stats().streams.find((s) => s.ssrc === 1);
  assert.equal(st.waiting, 64);
  assert.equal(st.waited, 300);
  assert.equal(st.droppedOverflow, 236);
  // Made-up SSRCs: never more streams than slots.
  for (let s = 100; s < 1100; s++) rx.pushPacket(rtpPacket(99, 0, 0, s, new Uint8Array(20)), 1000 + s);
  rx.drain(5000);
  assert.equal(rx.stats().session.streams, 3);
  assert.equal(rx.stats().session.capacity, 3);
  // Fragments that never complete: stored bytes stay under the reassembly bound.
  const frag = new Uint8Array(1200);
  for (let i = 0; i < 5000; i++) {
    const p = rtpPacket(99, i, 7, 5, frag);
    p[12] = 0x80; // S only: no frame ever ends
    rx.pushPacket(p, 6000 + i);
  }
  rx.drain(20000);
  st = rx.stats().streams.find((s) => s.ssrc === 5);
  assert.ok(st, 'stream 5 exists');
  assert.ok(st.storedBytes <= rx.maxFrameLength && st.storedPackets <= 512, JSON.stringify(st));
  // Malformed packets throw and are counted, nothing stored.
  assert.throws(() => rx.pushPacket(new Uint8Array(5), 0), (e) => e.code === 'malformed_frame');
  assert.equal(rx.stats().session.packetsMalformed, 1);
});

test('argument errors: bad options throw TypeError / RangeError / SFrameError', () => {
  assert.throws(() => new SFrameSendStream({ cipherSuite: 6, ssrc: -1, payloadType: 99, maxPayloadLength: 1200 }), RangeError);
  assert.throws(() => new SFrameSendStream({ cipherSuite: 6, ssrc: 1, payloadType: 200, maxPayloadLength: 1200 }), (e) => e.code === 'invalid_config');
  assert.throws(() => new SFrameSendStream({ cipherSuite: 6, ssrc: 1, payloadType: 99, maxPayloadLength: 1200, mode: 'x' }), TypeError);
  // @ts-ignore
  assert.throws(() => new SFrameReceiveSession({}), TypeError);
  assert.throws(() => new SFrameReceiveSession({ cipherSuite: 6, maxStreams: 0 }), RangeError);
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 1, payloadType: 99, maxPayloadLength: 1200 });
  assert.throws(() => tx.sendFrame(new Uint8Array(1), 0), (e) => e.code === 'no_key');
  assert.equal(tx.overhead > 1 && tx.maxMediaPayloadLength === 1200 - tx.overhead, true);
});

test('js/rtp-session.js uses no Node-only API (it runs in browsers and workers)', () => {
  const src = readFileSync(new URL('../js/rtp-session.js', import.meta.url), 'utf8')
    .replace(/\/\/.*$/gm, '')
    .replace(/\/\*[\s\S]*?\*\//g, '');
  for (const nodeOnly of [/from\s+['"]node:/, /\bprocess\./, /\bBuffer\b/, /\brequire\(/, /\bimport\(['"]node:/]) {
    assert.doesNotMatch(src, nodeOnly);
  }
  const imports = [...src.matchAll(/from\s+['"]([^'"]+)['"]|import\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]);
  // The wasm module and the package's own browser modules (the CryptoKey derivations).
  assert.deepEqual(imports.sort(), ['../pkg/sframe_wasm.js', './keys.js', './ssrc-keys.js', './wasm.js', './webcrypto.js']);
});
