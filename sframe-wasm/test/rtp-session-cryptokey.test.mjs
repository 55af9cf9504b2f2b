// SFrameSendStream / SFrameReceiveSession with a non-extractable HKDF CryptoKey as base key
// (js/rtp-session.js): WebCrypto runs the §7 per-SSRC derivation and the RFC 9605 §4.4.2 key
// schedule, the core installs the derived keys (SendStream::set_derived_key,
// ReceiveSession::add_external_key / add_stream_key). The key is never exported.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SFrameSendStream, SFrameReceiveSession, Receiver, hazmatProtectFrame, cipherSuiteInfo } from '../js/index.js';
import { hex, toHex } from './helpers.mjs';

const ssrcVectors = JSON.parse(
  readFileSync(new URL('../../test-vectors/rtp-ssrc-keys.json', import.meta.url), 'utf8'),
).ssrc_keys;

const frameOf = (i, len) => Uint8Array.from({ length: len }, (_, j) => (i * 31 + j) & 0xff);

/** Raw bytes as a non-extractable HKDF CryptoKey, usages deriveBits + deriveKey. */
const hkdfKey = (bytes) =>
  crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveBits', 'deriveKey']);

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

// No code path may export a key: every exportKey call of a test fails it.
let exportCalls = 0;
const realExportKey = crypto.subtle.exportKey;
beforeEach(() => {
  exportCalls = 0;
  crypto.subtle.exportKey = function (...args) {
    exportCalls++;
    return realExportKey.apply(this, args);
  };
});
afterEach(() => {
  crypto.subtle.exportKey = realExportKey;
  assert.equal(exportCalls, 0, 'crypto.subtle.exportKey was called');
});

test('per-SSRC vectors (suites 6 and 8) through both classes with a CryptoKey base key', async () => {
  const vs = ssrcVectors.filter((v) => v.cipher_suite === 6 || v.cipher_suite === 8);
  assert.equal(vs.length, 16);
  for (const v of vs) {
    const kid = BigInt(v.kid);
    const media = frameOf(v.kid, 300);
    const base = await hkdfKey(hex(v.base_key));
    const what = `suite ${v.cipher_suite} ssrc ${v.ssrc}`;

    // Receive: a frame made with the vector's per-SSRC key, the session given the CryptoKey.
    const frame = hazmatProtectFrame(v.cipher_suite, kid, 5n, hex(v.ssrc_key), media);
    const rx = new SFrameReceiveSession({ cipherSuite: v.cipher_suite, perSsrcKeys: true, maxStreams: 1 });
    const added = rx.addKey(kid, base);
    assert.ok(added instanceof Promise, 'a CryptoKey is installed asynchronously');
    await added;
    assert.ok(rx.hasKey(kid));
    const waits = rx.receive(rtpPacket(100, 1, 1234, v.ssrc, frame), 0);
    assert.deepEqual(waits.map((e) => e.type), ['awaitingkey'], what);
    await rx.keysReady(); // the new SSRC's key, derived in WebCrypto
    const ev = rx.drain(1);
    assert.deepEqual(ev.map((e) => e.type), ['frame', 'keyauthenticated'], what);
    assert.deepEqual(ev[0].data, media, what);
    assert.equal(ev[0].ssrc, v.ssrc);
    rx.close();

    // Send: the stream's frame opens with the vector's per-SSRC key and derived key.
    const tx = new SFrameSendStream({ cipherSuite: v.cipher_suite, ssrc: v.ssrc, payloadType: 100, maxPayloadLength: 1400, perSsrcKeys: true });
    const set = tx.setKey(kid, base);
    assert.ok(set instanceof Promise);
    assert.equal(tx.keyId, undefined, 'installed when the Promise resolves');
    await set;
    assert.equal(tx.keyId, kid);
    const [packet] = tx.sendFrame(media, 1);
    const low = new Receiver(v.cipher_suite);
    low.addKey(kid, hex(v.ssrc_key));
    assert.equal(toHex(low.unprotect(packet.subarray(13))), toHex(media), what);
    const derived = new Receiver(v.cipher_suite);
    derived.addDerivedKey(kid, hex(v.sframe_key), hex(v.sframe_salt));
    assert.equal(toHex(derived.unprotect(packet.subarray(13))), toHex(media), what);
    tx.close();

    assert.equal(base.extractable, false);
    assert.deepEqual([...base.usages].sort(), ['deriveBits', 'deriveKey']);
  }
});

test('round trip with a late CryptoKey on the receiver: frames wait, then come out in order', async () => {
  const bytes = new Uint8Array(32).fill(0x42);
  const [txKey, rxKey] = [await hkdfKey(bytes), await hkdfKey(bytes)];
  const video = new SFrameSendStream({ cipherSuite: 6, ssrc: 0x1111, payloadType: 99, maxPayloadLength: 1100, perSsrcKeys: true });
  const audio = new SFrameSendStream({ cipherSuite: 6, ssrc: 0x2222, payloadType: 110, maxPayloadLength: 1100, perSsrcKeys: true });
  await video.setKey(3n, txKey);
  await audio.setKey(3n, txKey);
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true, maxStreams: 4, maxWaitMs: 10_000 });
  const media = [0, 1, 2].map((i) => frameOf(i, 2500 + i));
  const waiting = [];
  for (let i = 0; i < 3; i++) {
    for (const p of video.sendFrame(media[i], i * 3000)) waiting.push(...rx.receive(p, i));
  }
  assert.deepEqual(waiting.map((e) => [e.type, e.counter]), [['awaitingkey', 0n], ['awaitingkey', 1n], ['awaitingkey', 2n]]);

  await rx.addKey(3n, rxKey); // the existing stream's key is installed when this resolves
  const out = rx.drain(10);
  const frames = out.filter((e) => e.type === 'frame');
  assert.deepEqual(frames.map((e) => [e.counter, e.fromBuffer]), [[0n, true], [1n, true], [2n, true]]);
  frames.forEach((e, i) => assert.deepEqual(e.data, media[i]));
  assert.equal(out.filter((e) => e.type === 'keyauthenticated').length, 1);

  // A stream that appears later gets its own key, derived in the background.
  const a = frameOf(9, 700);
  const first = rx.receive(audio.sendFrame(a, 0)[0], 20);
  assert.deepEqual(first.map((e) => e.type), ['awaitingkey']);
  await rx.keysReady();
  const late = rx.drain(21).filter((e) => e.type === 'frame');
  assert.equal(late.length, 1);
  assert.equal(late[0].ssrc, 0x2222);
  assert.deepEqual(late[0].data, a);

  // Then frames go straight through; the same CryptoKey again changes nothing.
  await rx.addKey(3n, rxKey);
  const next = video.sendFrame(media[0], 9000).flatMap((p) => rx.receive(p, 30));
  assert.deepEqual(next.map((e) => [e.type, e.fromBuffer]), [['frame', false]]);
  assert.equal(rx.stats().session.keyInstallFailures, 0);
  // Removed: its frames fail, and no key is derived for it any more.
  assert.equal(rx.removeKey(3n), true);
  const gone = video.sendFrame(media[1], 12000).flatMap((p) => rx.receive(p, 40));
  assert.deepEqual(gone.map((e) => [e.type, e.code]), [['failed', 'unknown_key_id']]);
  await rx.keysReady();
  assert.equal(rxKey.extractable, false);
  video.close();
  audio.close();
  rx.close();
});

test('CryptoKey errors: wrong kinds refused, the key stays usable only as installed', async () => {
  const base = await hkdfKey(new Uint8Array(32).fill(7));
  const aes = await crypto.subtle.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt']);
  const noBits = await crypto.subtle.importKey('raw', new Uint8Array(32), 'HKDF', false, ['deriveKey']);
  const tx = new SFrameSendStream({ cipherSuite: 6, ssrc: 5, payloadType: 99, maxPayloadLength: 1100, perSsrcKeys: true });
  await assert.rejects(tx.setKey(1, aes), TypeError);
  await assert.rejects(tx.setKey(1, noBits), TypeError);
  assert.equal(tx.keyId, undefined);
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true });
  await assert.rejects(rx.addKey(1, aes), TypeError);
  assert.equal(rx.hasKey(1), false);
  // Without per-SSRC keys a session takes CryptoKeys too: one derivation for every stream.
  const plain = new SFrameReceiveSession({ cipherSuite: 6 });
  await plain.addKey(1, base);
  assert.equal(plain.hasKey(1), true);
  const ptx = new SFrameSendStream({ cipherSuite: 6, ssrc: 5, payloadType: 99, maxPayloadLength: 1100 });
  await ptx.setKey(1, base);
  const ev = plain.receive(ptx.sendFrame(frameOf(1, 50), 0)[0], 0);
  assert.deepEqual(ev.map((e) => e.type), ['frame', 'keyauthenticated']);
  // Bytes stay synchronous; bytes for a CryptoKey's KID replace it.
  assert.equal(rx.addKey(2, new Uint8Array(32).fill(1)), undefined);
  await rx.addKey(2, base);
  rx.addKey(2, new Uint8Array(32).fill(1));
  await rx.keysReady();
  for (const c of [tx, rx, plain, ptx]) c.close();
});

test('low level: hasMissingStreamKeys() (asked per packet) agrees with missingStreamKeys()', async () => {
  // The wasm class behind SFrameReceiveSession (the module is initialised by js/index.js).
  const { RtpReceiveSession } = await import('../pkg/sframe_wasm.js');
  const rx = new RtpReceiveSession({ cipherSuite: 6, perSsrcKeys: true, maxStreams: 4 });
  const agree = (what) =>
    assert.equal(rx.hasMissingStreamKeys(), rx.missingStreamKeys().length > 0, `${what}: ${JSON.stringify(rx.missingStreamKeys(), (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
  agree('empty session');
  rx.addExternalKey(5n);
  agree('an external key, no stream');
  rx.pushPacket(rtpPacket(99, 1, 0, 0x1111, new Uint8Array(40).fill(1)), 0);
  agree('a stream without its key');
  assert.equal(rx.hasMissingStreamKeys(), true);
  const [{ ssrc, keyId }] = rx.missingStreamKeys();
  const info = cipherSuiteInfo(6);
  rx.addStreamKey(ssrc, keyId, new Uint8Array(info.keyLength).fill(2), new Uint8Array(info.nonceLength).fill(3));
  agree('the stream given its key');
  assert.equal(rx.hasMissingStreamKeys(), false);
  rx.pushPacket(rtpPacket(99, 1, 0, 0x2222, new Uint8Array(40).fill(1)), 1);
  agree('a second stream');
  assert.equal(rx.hasMissingStreamKeys(), true);
  rx.free();
});
