// The WebCrypto fast path of the transforms (js/webcrypto.js, js/keys.js resolveTransformKey,
// js/pipeline.js): RFC 9605 vectors through WebCrypto's key schedule and AES-GCM, then the
// public stream classes in both key modes —
//   - a non-extractable HKDF CryptoKey with deriveKey + deriveBits: the AES key exists only in
//     WebCrypto, wasm holds the salt (its protect would throw "external_key"), every frame
//     goes through WebCrypto;
//   - key bytes: wasm key and WebCrypto twin, the path chosen per frame by size —
// with tampering, replay, frame order under mixed sizes and key changes while a frame is in
// WebCrypto. Which path a frame took is observed by counting crypto.subtle.encrypt / decrypt
// calls (wrapped below), and the wasm objects the transforms create by wrapping the Sender /
// Receiver prototypes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { big, hex, toHex, vectors } from './helpers.mjs';

// Browsers have ArrayBuffer.prototype.transfer, which the WebCrypto path uses to grow
// WebCrypto's output buffer (js/codec.js prependTo); Node 20 has not. A stand-in with its semantics (new
// length, contents kept, the old buffer detached) is installed before the package loads, so
// this file runs the transforms the way browsers do (the other test files run the fallback).
const NATIVE_TRANSFER = Object.hasOwn(ArrayBuffer.prototype, 'transfer');
if (!NATIVE_TRANSFER) {
  // eslint-disable-next-line no-extend-native
  ArrayBuffer.prototype.transfer = function (length = this.byteLength) {
    const out = new ArrayBuffer(length);
    new Uint8Array(out).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
    structuredClone(this, { transfer: [this] });
    return out;
  };
}
const {
  Receiver,
  Sender,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  cipherSuiteInfo,
  parseHeader,
  resolveKey,
} = await import('../js/index.js');
const {
  deriveWebCryptoKey,
  isWebCryptoSuite,
  webCryptoDecrypt,
  webCryptoEncrypt,
  webCryptoKeyFromBase,
  webCryptoKeyFromDerived,
} = await import('../js/webcrypto.js');
const { resolveTransformKey } = await import('../js/keys.js');
const { setWebCryptoThreshold } = await import('../js/pipeline.js');

const subtle = globalThis.crypto.subtle;
const GCM = 'AES_128_GCM_SHA256_128';
const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i);
const KEY2 = Uint8Array.from({ length: 16 }, (_, i) => 0x70 + i);
const hkdf = (bytes, usages = ['deriveKey', 'deriveBits']) => subtle.importKey('raw', bytes, 'HKDF', false, usages);

// --- WebCrypto call counting and gating ---------------------------------------------------
const calls = { encrypt: 0, decrypt: 0 };
/** While set, encrypt / decrypt wait for it before running (a frame "in flight"). */
const gates = { encrypt: null, decrypt: null };
/** Resolved when an encrypt / decrypt call starts (while gated). */
const started = { encrypt: null, decrypt: null };
for (const op of ['encrypt', 'decrypt']) {
  const original = subtle[op].bind(subtle);
  subtle[op] = async (...a) => {
    calls[op]++;
    const gate = gates[op];
    if (gate) {
      started[op]?.resolve();
      await gate.promise;
    }
    return original(...a);
  };
}
const deferred = () => {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
};
const resetCalls = () => {
  calls.encrypt = 0;
  calls.decrypt = 0;
};

// --- wasm objects the transforms use -------------------------------------------------------
const installs = [];
for (const [cls, names] of [
  [Sender, ['setKey', 'setDerivedKey', 'setExternalKey']],
  [Receiver, ['addKey', 'addDerivedKey', 'addExternalKey']],
]) {
  for (const name of names) {
    const original = cls.prototype[name];
    cls.prototype[name] = function (...a) {
      installs.push({ name, target: this });
      return original.apply(this, a);
    };
  }
}

/** An RTCEncodedVideoFrame stand-in (VP8 delta frames keep 3 bytes clear, as metadata). */
class Frame {
  constructor(bytes, mimeType = 'video/VP8') {
    this.data = bytes.slice().buffer;
    this.mimeType = mimeType;
  }
  getMetadata() {
    return { mimeType: this.mimeType };
  }
}
/** Frame bytes: deterministic, byte 0 odd (a VP8 delta frame). */
const bytesOf = (n, seed = 1) => {
  const b = Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
  b[0] |= 1;
  return b;
};

/** A transform with its own writer and a reader collecting everything it emits. */
function open(t) {
  const out = [];
  const writer = t.writable.getWriter();
  const reader = t.readable.getReader();
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      out.push(value);
    }
  })();
  return { t, out, writer, done };
}
const settle = () => new Promise((r) => setTimeout(r, 20));
const errorsOf = (t) => {
  const events = [];
  t.addEventListener('error', (e) => events.push({ errorType: e.errorType, keyID: e.keyID, code: e.code }));
  return events;
};

// --- js/webcrypto.js against RFC 9605 -------------------------------------------------------
test('webcrypto.js: RFC 9605 key schedule, nonce and AES-GCM for every GCM vector', async () => {
  let n = 0;
  for (const v of vectors.sframe) {
    const suite = cipherSuiteInfo(v.cipher_suite);
    const base = await hkdf(hex(v.base_key));
    if (!isWebCryptoSuite(suite)) {
      await assert.rejects(deriveWebCryptoKey(base, big(v.kid), suite), TypeError);
      continue;
    }
    // An extractable twin (tests only) shows the derived AES key; the transforms' is not.
    const twin = await deriveWebCryptoKey(base, big(v.kid), suite, { extractable: true });
    assert.equal(toHex(new Uint8Array(await subtle.exportKey('raw', twin.aesKey))), v.sframe_key);
    assert.equal(toHex(twin.salt), v.sframe_salt);
    const key = await deriveWebCryptoKey(base, big(v.kid), suite);
    assert.equal(key.aesKey.extractable, false);
    assert.deepEqual([...key.aesKey.usages].sort(), ['decrypt', 'encrypt']);
    // The other two ways the transforms make a WebCrypto key give the same key and salt.
    const fromBase = await webCryptoKeyFromBase(hex(v.base_key), big(v.kid), suite);
    const fromDerived = await webCryptoKeyFromDerived(hex(v.sframe_key), hex(v.sframe_salt), big(v.kid), suite);
    // nonce = salt XOR counter (the vector's), AAD = header ‖ metadata, as sframe-core builds.
    const ct = hex(v.ct);
    const { headerLength, counter } = parseHeader(ct);
    assert.equal(counter, big(v.ctr));
    const nonce = hex(v.nonce);
    const aad = hex(v.aad);
    assert.equal(toHex(aad), toHex(new Uint8Array([...ct.subarray(0, headerLength), ...hex(v.metadata)])));
    for (const k of [key, fromBase, fromDerived]) {
      assert.equal(toHex(k.salt), v.sframe_salt);
      const sealed = new Uint8Array(await webCryptoEncrypt(k, nonce, aad, hex(v.pt)));
      assert.equal(toHex(sealed), toHex(ct.subarray(headerLength)));
      assert.equal(toHex(new Uint8Array(await webCryptoDecrypt(k, nonce, aad, ct.subarray(headerLength)))), v.pt);
      const bad = ct.slice(headerLength);
      bad[0] ^= 1;
      await assert.rejects(webCryptoDecrypt(k, nonce, aad, bad));
    }
    n++;
  }
  assert.equal(n, 2); // AES_128_GCM_SHA256_128 and AES_256_GCM_SHA512_128
  // A key without deriveKey cannot make a WebCrypto AES key without exposing it.
  await assert.rejects(deriveWebCryptoKey(await hkdf(KEY, ['deriveBits']), 1n, cipherSuiteInfo(GCM)), TypeError);
});

test('resolveTransformKey: which form each key takes', async () => {
  const gcm = cipherSuiteInfo(GCM);
  const ctr = cipherSuiteInfo('AES_128_CTR_HMAC_SHA256_80');
  const ext = await resolveTransformKey(await hkdf(KEY), 5n, gcm);
  assert.equal(ext.external, true);
  assert.deepEqual(Object.keys(ext.wasm), ['sframeSalt']); // no key bytes for wasm
  assert.equal(ext.web.aesKey.extractable, false);
  const raw = await resolveTransformKey(KEY, 5n, gcm);
  assert.equal(raw.external, false);
  assert.equal(toHex(raw.wasm.baseKey), toHex(KEY));
  assert.equal(toHex(raw.web.salt), toHex(ext.wasm.sframeSalt));
  const bitsOnly = await resolveTransformKey(await hkdf(KEY, ['deriveBits']), 5n, gcm);
  assert.equal(bitsOnly.external, false);
  assert.ok(bitsOnly.wasm.sframeKey && bitsOnly.web); // today's path plus a twin
  // An extractable CryptoKey (HKDF keys never are) is exported: bytes available, both forms.
  const aes = await subtle.importKey('raw', KEY, 'AES-GCM', true, ['encrypt']);
  const extractable = await resolveTransformKey(aes, 5n, gcm);
  assert.equal(extractable.external, false);
  assert.equal(toHex(extractable.wasm.baseKey), toHex(KEY));
  assert.ok(extractable.web);
  for (const k of [await hkdf(KEY), KEY]) {
    const c = await resolveTransformKey(k, 5n, ctr);
    assert.equal(c.web, null); // CTR + HMAC: wasm only
    assert.equal(c.external, false);
  }
  // resolveKey (public) is unchanged: derived bytes for a deriveBits key.
  assert.ok((await resolveKey(await hkdf(KEY), 5n, gcm)).sframeKey);
});

// --- the transforms -------------------------------------------------------------------------
async function pair(key, kid = 1, dkey = key, decOptions = {}) {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM });
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, ...decOptions });
  await enc.setEncryptionKey(key, kid);
  await dec.addDecryptionKey(dkey, kid);
  return { enc, dec, e: open(enc), d: open(dec), events: errorsOf(dec) };
}
const sizes = [3, 40, 200, 1300, 2047, 2048, 5000, 40000];

test('non-extractable key: no AES key in wasm, every frame through WebCrypto', async () => {
  installs.length = 0;
  const { enc, dec, e, d, events } = await pair(await hkdf(KEY), 9);
  assert.deepEqual(installs.map((i) => i.name), ['setExternalKey', 'addExternalKey']);
  // The transforms' own wasm objects cannot protect / unprotect: they hold no AES key.
  const [tx, rx] = installs.map((i) => i.target);
  assert.throws(() => tx.protect(new Uint8Array(8)), { code: 'external_key' });
  resetCalls();
  const input = sizes.map((n, i) => bytesOf(n, i));
  for (const b of input) await e.writer.write(new Frame(b));
  await settle();
  assert.equal(calls.encrypt, sizes.length);
  const wire = e.out.map((f) => new Uint8Array(f.data));
  assert.throws(() => rx.unprotect(wire[0].subarray(3), wire[0].subarray(0, 3)), { code: 'external_key' });
  // The wire format is RFC 9605's: a wasm Receiver with the base key opens every frame.
  const check = new Receiver(GCM);
  check.addKey(9, KEY);
  for (const [i, w] of wire.entries()) {
    assert.equal(parseHeader(w.subarray(3)).counter, BigInt(i));
    assert.deepEqual(new Uint8Array([...w.subarray(0, 3), ...check.unprotect(w.subarray(3), w.subarray(0, 3))]), input[i]);
  }
  check.free();
  for (const f of e.out) await d.writer.write(f);
  await settle();
  assert.equal(calls.decrypt, sizes.length);
  assert.deepEqual(d.out.map((f) => toHex(new Uint8Array(f.data))), input.map(toHex));
  assert.deepEqual(events, []);
  assert.equal(dec.stats.frames, sizes.length);
  enc.close();
  dec.close();
});

test('raw key: wasm below the threshold, WebCrypto from it on; both interoperate', async () => {
  const { enc, dec, e, d, events } = await pair(KEY, 4);
  resetCalls();
  const input = sizes.map((n, i) => bytesOf(n, i));
  for (const b of input) await e.writer.write(new Frame(b));
  await settle();
  // Sender: frames of at least the threshold's bytes → WebCrypto, the others wasm.
  const threshold = setWebCryptoThreshold(undefined); // (returns the value in force: the default)
  assert.equal(threshold, 1024); // the documented default (README, CHANGELOG)
  assert.equal(calls.encrypt, sizes.filter((n) => n >= threshold).length);
  // Receiver: SFrame parts (after the 3 clear bytes) of at least the threshold's bytes.
  const parts = e.out.map((f) => f.data.byteLength - 3);
  for (const f of e.out) await d.writer.write(f);
  await settle();
  assert.equal(calls.decrypt, parts.filter((n) => n >= threshold).length);
  assert.ok(calls.decrypt > 0 && calls.decrypt < sizes.length);
  assert.deepEqual(d.out.map((f) => toHex(new Uint8Array(f.data))), input.map(toHex));
  assert.deepEqual(events, []);
  // Forced to one path or the other, the same frames still round-trip.
  for (const threshold of [0, Infinity]) {
    setWebCryptoThreshold(threshold);
    resetCalls();
    const before = d.out.length;
    for (const b of input) await e.writer.write(new Frame(b));
    await settle();
    for (const f of e.out.slice(before)) await d.writer.write(f);
    await settle();
    assert.equal(calls.encrypt + calls.decrypt, threshold === 0 ? 2 * sizes.length : 0);
    assert.deepEqual(d.out.slice(before).map((f) => toHex(new Uint8Array(f.data))), input.map(toHex));
  }
  setWebCryptoThreshold(undefined);
  assert.deepEqual(events, []);
  enc.close();
  dec.close();
});

test('mixed key modes: a raw-key sender, a non-extractable-key receiver, and back', async () => {
  // Same material as bytes on one side and as a non-extractable CryptoKey on the other.
  for (const [ek, dk] of [
    [KEY, await hkdf(KEY)],
    [await hkdf(KEY), KEY],
    [await hkdf(KEY, ['deriveBits']), await hkdf(KEY)],
  ]) {
    const { enc, dec, e, d, events } = await pair(ek, 6, dk);
    const input = sizes.map((n, i) => bytesOf(n, i + 3));
    for (const b of input) await e.writer.write(new Frame(b));
    await settle();
    for (const f of e.out) await d.writer.write(f);
    await settle();
    assert.deepEqual(d.out.map((f) => toHex(new Uint8Array(f.data))), input.map(toHex));
    assert.deepEqual(events, []);
    enc.close();
    dec.close();
  }
});

for (const mode of ['non-extractable', 'raw']) {
  test(`${mode} key: tampering → authentication error, counted; the genuine frame still opens`, async () => {
    const key = mode === 'raw' ? KEY : await hkdf(KEY);
    // keyWait off: the frame of an unknown KID below fails at once (the wait is
    // test/keywait.test.mjs's).
    const { enc, dec, e, d, events } = await pair(key, 2, key, { keyWait: { maxFrames: 0 } });
    const input = bytesOf(6000);
    await e.writer.write(new Frame(input));
    await settle();
    const wire = new Uint8Array(e.out[0].data);
    const tamper = (i) => {
      const b = wire.slice();
      b[i] ^= 0x10;
      return b;
    };
    resetCalls();
    // clear byte (authenticated metadata), ciphertext, tag
    for (const i of [1, 40, wire.length - 1]) await d.writer.write(new Frame(tamper(i)));
    await settle();
    assert.equal(calls.decrypt, 3); // all three went through WebCrypto
    // One run of three identical failures: one event (W3C issue #307), all three counted.
    assert.deepEqual(events, [{ errorType: 'authentication', keyID: 2n, code: 'authentication_failed' }]);
    assert.deepEqual(dec.stats.currentErrorRun, { errorType: 'authentication', keyID: 2n, count: 3 });
    assert.equal(d.out.length, 0);
    await d.writer.write(new Frame(wire));
    await settle();
    assert.equal(toHex(new Uint8Array(d.out[0].data)), toHex(input));
    assert.deepEqual(
      { dropped: dec.stats.dropped, errors: dec.stats.errors, replayed: dec.stats.replayed },
      { dropped: 3, errors: 3, replayed: 0 },
    );
    // Replay: the same frame again is dropped and counted, without an event.
    await d.writer.write(new Frame(wire));
    await settle();
    assert.equal(d.out.length, 1);
    assert.equal(dec.stats.replayed, 1);
    assert.equal(events.length, 1);
    // Unknown KID, large frame: the same "keyID" event as the wasm path gives.
    const other = await pair(KEY2, 77);
    await other.e.writer.write(new Frame(bytesOf(6000)));
    await settle();
    await d.writer.write(other.e.out[0]);
    await settle();
    assert.deepEqual(events[1], { errorType: 'keyID', keyID: 77n, code: 'unknown_key_id' });
    assert.deepEqual([dec.stats.errorEvents, dec.stats.errorsSuppressed], [2, 2]);
    for (const x of [enc, dec, other.enc, other.dec]) x.close();
  });
}

test('frame order is kept with sizes (and so paths) mixed, all frames written at once', async () => {
  const { enc, dec, e, d, events } = await pair(KEY, 8);
  const order = [40, 30000, 100, 5000, 3, 9000, 64, 64, 20000, 2500, 3, 1200];
  const input = order.map((n, i) => bytesOf(n, i + 20));
  const writes = input.map((b) => e.writer.write(new Frame(b)));
  await Promise.all(writes);
  await settle();
  assert.equal(e.out.length, order.length);
  e.out.forEach((f, i) => assert.equal(parseHeader(new Uint8Array(f.data).subarray(3)).counter, BigInt(i)));
  const dwrites = e.out.map((f) => d.writer.write(f));
  await Promise.all(dwrites);
  await settle();
  assert.deepEqual(d.out.map((f) => toHex(new Uint8Array(f.data))), input.map(toHex));
  assert.deepEqual(events, []);
  enc.close();
  dec.close();
});

test('sender key change while a frame is in WebCrypto: nonce and AES key stay paired', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM });
  await enc.setEncryptionKey(await hkdf(KEY), 1);
  const e = open(enc);
  gates.encrypt = deferred();
  started.encrypt = deferred();
  const w1 = e.writer.write(new Frame(bytesOf(5000, 1)));
  await started.encrypt.promise; // frame 1 has its counter and key, and waits in WebCrypto
  await enc.setEncryptionKey(await hkdf(KEY2), 2); // the key changes meanwhile
  gates.encrypt.resolve();
  gates.encrypt = null;
  await w1;
  await e.writer.write(new Frame(bytesOf(5000, 2)));
  await settle();
  const rx = new Receiver(GCM);
  rx.addKey(1, KEY);
  rx.addKey(2, KEY2);
  const [f1, f2] = e.out.map((f) => new Uint8Array(f.data));
  assert.equal(parseHeader(f1.subarray(3)).keyId, 1n);
  assert.equal(parseHeader(f2.subarray(3)).keyId, 2n);
  assert.equal(toHex(rx.unprotect(f1.subarray(3), f1.subarray(0, 3))), toHex(bytesOf(5000, 1).subarray(3)));
  assert.equal(toHex(rx.unprotect(f2.subarray(3), f2.subarray(0, 3))), toHex(bytesOf(5000, 2).subarray(3)));
  rx.free();
  enc.close();
});

test('receiver key replaced while a frame is in WebCrypto: dropped and counted (no error event), never accepted', async () => {
  const { enc, dec, e, d, events } = await pair(await hkdf(KEY), 3);
  await e.writer.write(new Frame(bytesOf(5000, 1)));
  await e.writer.write(new Frame(bytesOf(5000, 2)));
  await settle();
  gates.decrypt = deferred();
  started.decrypt = deferred();
  const w = d.writer.write(e.out[0]);
  await started.decrypt.promise; // opened under the old key, tag being checked
  await dec.addDecryptionKey(await hkdf(KEY2), 3); // KID 3 is now another key
  gates.decrypt.resolve();
  gates.decrypt = null;
  await w;
  await settle();
  assert.equal(d.out.length, 0);
  // It authenticated under the key KID 3 had when it arrived: not "a frame without a key".
  assert.deepEqual(events, []);
  assert.equal(dec.stats.dropped, 1);
  // Under the new key the old key's next frame fails authentication, as on the wasm path.
  await d.writer.write(e.out[1]);
  await settle();
  assert.deepEqual(events[0], { errorType: 'authentication', keyID: 3n, code: 'authentication_failed' });
  // Removing a key while a frame is in flight drops it the same way.
  await dec.addDecryptionKey(await hkdf(KEY), 3);
  gates.decrypt = deferred();
  started.decrypt = deferred();
  const w2 = d.writer.write(new Frame(new Uint8Array(e.out[1].data)));
  await started.decrypt.promise;
  await dec.removeDecryptionKey(3);
  gates.decrypt.resolve();
  gates.decrypt = null;
  await w2;
  await settle();
  assert.equal(d.out.length, 0);
  assert.equal(events.length, 1);
  assert.equal(dec.stats.dropped, 3);
  enc.close();
  dec.close();
});

test('close() while a frame is in WebCrypto: the frame is dropped, the stream does not error', async () => {
  const { enc, dec, e, d, events } = await pair(await hkdf(KEY), 4);
  await e.writer.write(new Frame(bytesOf(5000)));
  await settle();
  gates.decrypt = deferred();
  started.decrypt = deferred();
  const w = d.writer.write(e.out[0]);
  await started.decrypt.promise;
  dec.close();
  gates.decrypt.resolve();
  gates.decrypt = null;
  await w.catch(() => {}); // close() terminates the stream: the pending write may reject
  await d.done; // the readable ends, not errored (an errored one rejects here)
  await settle();
  assert.equal(d.out.length, 0);
  assert.deepEqual(events, []);
  enc.close();
});

test('H.264 frames (escaped SFrame part) and Opus frames through WebCrypto, both key modes', async () => {
  const nal = (type, n) => [0, 0, 0, 1, type, ...Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i & 0xff))];
  const h264 = Uint8Array.from([...nal(0x67, 12), ...nal(0x68, 4), ...nal(0x06, 30), ...nal(0x65, 9000)]);
  const opus = Uint8Array.from({ length: 120 }, (_, i) => (i * 7) & 0xff);
  for (const key of [KEY, await hkdf(KEY)]) {
    const { enc, dec, e, d, events } = await pair(key, 12);
    setWebCryptoThreshold(0); // raw key: every frame through WebCrypto too
    resetCalls();
    await e.writer.write(new Frame(h264, 'video/H264'));
    await e.writer.write(new Frame(opus, 'audio/opus'));
    await settle();
    // (The decryptor replaces the same frame objects' data: keep the wire bytes first.)
    const wire = new Uint8Array(e.out[0].data);
    for (const f of e.out) await d.writer.write(f);
    await settle();
    setWebCryptoThreshold(undefined);
    assert.deepEqual(calls, { encrypt: 2, decrypt: 2 });
    assert.deepEqual(events, []);
    assert.equal(toHex(new Uint8Array(d.out[0].data)), toHex(h264));
    assert.equal(toHex(new Uint8Array(d.out[1].data)), toHex(opus));
    // No start code after the clear part of the protected H.264 frame.
    assert.ok(wire.length > h264.length);
    const tail = toHex(wire.subarray(wire.length - 9000));
    const at = /^(?:..)*?000001/.exec(tail);
    assert.equal(at, null, `start code at ${at?.[0].length / 2} of the last 9000 of ${wire.length}: ${tail.slice(Math.max(0, (at?.[0].length ?? 0) - 20), (at?.[0].length ?? 0) + 8)}`);
    enc.close();
    dec.close();
  }
});

test('prependTo: clear ‖ header ‖ WebCrypto output, with and without ArrayBuffer transfer', async () => {
  const withTransfer = await import('../js/codec.js');
  // A fresh instance of codec.js loaded while transfer is missing takes the fallback.
  const saved = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
  delete ArrayBuffer.prototype.transfer;
  let without;
  try {
    without = await import(`../js/codec.js?no-transfer=${Date.now()}`);
  } finally {
    Object.defineProperty(ArrayBuffer.prototype, 'transfer', saved);
  }
  for (const { prependTo } of [withTransfer, without]) {
    for (const [a, b, n] of [[3, 5, 100], [0, 9, 10], [1, 0, 0], [0, 0, 4], [10, 17, 5000]]) {
      const A = bytesOf(a, 1);
      const B = bytesOf(b, 2);
      const body = bytesOf(n, 3);
      const buf = body.slice().buffer;
      const out = prependTo(A, B, buf);
      assert.equal(toHex(out), toHex(new Uint8Array([...A, ...B, ...body])));
      assert.equal(out.byteOffset, 0);
      assert.equal(out.byteLength, out.buffer.byteLength); // exact: handed over as frame data
    }
  }
});

test('the WebCrypto path leaves the caller\'s BufferSource chunks alone', async () => {
  // A plain ArrayBuffer chunk belongs to the caller: left as it was.
  const enc2 = new SFrameEncryptorStream({ cipherSuite: GCM, compatibilityMode: 'none' });
  await enc2.setEncryptionKey(await hkdf(KEY), 14);
  const e2 = open(enc2);
  const chunk = bytesOf(5000).buffer;
  await e2.writer.write(chunk);
  await settle();
  assert.equal(chunk.byteLength, 5000);
  assert.equal(toHex(new Uint8Array(chunk)), toHex(bytesOf(5000)));
  assert.ok(e2.out[0] instanceof ArrayBuffer);
  assert.equal(e2.out[0].byteLength, 5000 + 2 + 16); // header (KID 14, counter 0) and tag
  enc2.close();
});
