// SFrameTransform / SFrameEncryptorStream / SFrameDecryptorStream with synthetic frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SFrameTransform,
  SFrameEncryptorStream,
  SFrameDecryptorStream,
  SFrameTransformErrorEvent,
  parseHeader,
} from '../js/index.js';

const KEY = new Uint8Array(16).fill(0x42);
const OTHER = new Uint8Array(16).fill(0x24);

/** Pipes frames through a transform with pipeThrough (closes it); returns the output. */
async function runOnce(transform, frames) {
  const out = [];
  const source = new ReadableStream({
    start(c) {
      for (const f of frames) c.enqueue(f);
      c.close();
    },
  });
  await source.pipeThrough(transform).pipeTo(
    new WritableStream({
      write(f) {
        out.push(f);
      },
    }),
  );
  return out;
}

/** Writes frames into a transform that stays open (as in a call); returns what came out. */
const pipes = new WeakMap();
async function run(transform, frames) {
  let p = pipes.get(transform);
  if (!p) {
    p = { writer: transform.writable.getWriter(), out: [] };
    const reader = transform.readable.getReader();
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        p.out.push(value);
      }
    })();
    pipes.set(transform, p);
  }
  const start = p.out.length;
  for (const f of frames) await p.writer.write(f);
  await new Promise((r) => setTimeout(r, 0));
  return p.out.slice(start);
}

const frame = (n, fill) => new Uint8Array(n).fill(fill);

/** A stand-in for RTCEncodedVideoFrame: .data (ArrayBuffer), .type and getMetadata(). */
class FakeEncodedFrame {
  constructor(bytes, mimeType, type = 'delta') {
    this.data = bytes.slice().buffer;
    this.type = type;
    this.mimeType = mimeType;
  }
  getMetadata() {
    return { mimeType: this.mimeType, synchronizationSource: 1 };
  }
}

test('round trip through encrypt and decrypt transforms (pipeThrough)', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_128_GCM_SHA256_128' });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 'AES_128_GCM_SHA256_128' });
  await enc.setEncryptionKey(KEY, 3);
  await dec.setEncryptionKey(KEY, 3); // Safari-style alias on the decryptor
  const input = [frame(100, 1), frame(1200, 2), frame(5, 3)];
  const encrypted = await runOnce(enc, input.map((f) => f.slice()));
  assert.equal(encrypted.length, 3);
  for (const [i, e] of encrypted.entries()) {
    assert.equal(parseHeader(e).keyId, 3n);
    assert.equal(parseHeader(e).counter, BigInt(i));
    assert.notDeepEqual(e.subarray(1, 1 + input[i].length), input[i]);
  }
  const decrypted = await runOnce(dec, encrypted);
  assert.deepEqual(decrypted, input);
});

test('wrong key → "authentication" event, frame dropped, stream keeps flowing', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: 'AES_128_CTR_HMAC_SHA256_80' });
  const good = new SFrameEncryptorStream({ cipherSuite: 'AES_128_CTR_HMAC_SHA256_80' });
  const dec = new SFrameDecryptorStream({ cipherSuite: 'AES_128_CTR_HMAC_SHA256_80' });
  await enc.setEncryptionKey(OTHER, 1);
  await good.setEncryptionKey(KEY, 2);
  await dec.addDecryptionKey(KEY, 1);
  await dec.addDecryptionKey(KEY, 2);
  const [bad] = await run(enc, [frame(50, 9)]);
  const [ok1, ok2] = await run(good, [frame(50, 7), frame(60, 8)]);
  const events = [];
  const viaOnerror = [];
  dec.addEventListener('error', (e) => events.push(e));
  dec.onerror = (e) => viaOnerror.push(e);
  const out = await run(dec, [ok1, bad, ok2]);
  assert.deepEqual(out, [frame(50, 7), frame(60, 8)]);
  assert.equal(events.length, 1);
  assert.equal(viaOnerror.length, 1);
  assert.ok(events[0] instanceof SFrameTransformErrorEvent);
  assert.equal(events[0].errorType, 'authentication');
  assert.equal(events[0].keyID, 1n);
  assert.equal(events[0].code, 'authentication_failed');
  assert.equal(events[0].frame, bad);
  assert.deepEqual(dec.stats, {
    frames: 3,
    framesOut: 2,
    bytesIn: ok1.length + bad.length + ok2.length,
    bytesOut: 50 + 60,
    passedThrough: 0,
    dropped: 1,
    droppedNoKey: 0,
    replayed: 0,
    errors: 1,
    failures: { authentication: 1, keyID: 0, syntax: 0 },
    errorEvents: 1,
    errorsSuppressed: 0,
    currentErrorRun: null, // ok2 decrypted: the run of one failure ended
    lastErrorRun: { errorType: 'authentication', keyID: 1n, count: 1 },
    // Per installed key: KID 1 saw the forgery, KID 2 opened ok1 and ok2.
    keys: [
      { keyID: 1n, frames: 0, authenticationFailures: 1, highestCounter: null },
      { keyID: 2n, frames: 2, authenticationFailures: 0, highestCounter: 1n },
    ],
    // Nothing waited for its key.
    buffered: 0,
    releasedFromBuffer: 0,
    droppedFromBuffer: { overflow: 0, expired: 0, tooBig: 0, removed: 0, closed: 0 },
  });
});

test('unknown KID → "keyID" with keyID; garbage → "syntax"; removeDecryptionKey', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: 'AES_128_GCM_SHA256_128' });
  // keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's).
  const dec = new SFrameDecryptorStream({ cipherSuite: 'AES_128_GCM_SHA256_128', keyWait: { maxFrames: 0 } });
  await enc.setEncryptionKey(KEY, 2n ** 60n);
  await dec.addDecryptionKey(KEY, 2n ** 60n);
  const [a, b, c] = await run(enc, [frame(10, 1), frame(10, 2), frame(10, 3)]);
  const events = [];
  dec.onerror = (e) => events.push(e);
  let out = await run(dec, [a, new Uint8Array([0xff, 0xff]), b]);
  assert.deepEqual(out, [frame(10, 1), frame(10, 2)]);
  assert.equal(events.length, 1);
  assert.equal(events[0].errorType, 'syntax');
  assert.equal(events[0].keyID, null);
  await dec.removeDecryptionKey(2n ** 60n);
  out = await run(dec, [c]);
  assert.deepEqual(out, []);
  assert.equal(events.length, 2);
  assert.equal(events[1].errorType, 'keyID');
  assert.equal(events[1].keyID, 2n ** 60n);
  assert.equal(events[1].code, 'unknown_key_id');
});

test('a replayed frame is dropped without an error event', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 4 });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 4 });
  await enc.setEncryptionKey(KEY, 1);
  await dec.addDecryptionKey(KEY, 1);
  const [a, b] = await run(enc, [frame(10, 1), frame(10, 2)]);
  const events = [];
  dec.onerror = (e) => events.push(e);
  const out = await run(dec, [a, a.slice(), b]);
  assert.deepEqual(out, [frame(10, 1), frame(10, 2)]);
  assert.equal(events.length, 0);
  assert.equal(dec.stats.replayed, 1);
  assert.equal(dec.stats.dropped, 1);
  // With the replay window off, the same frame opens again.
  const noReplay = new SFrameTransform({ role: 'decrypt', cipherSuite: 4, replayWindow: 0 });
  await noReplay.addDecryptionKey(KEY, 1);
  assert.equal((await run(noReplay, [a.slice(), a.slice()])).length, 2);
});

test('0-byte frames pass through both ways; no key → frame never sent in clear', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 4 });
  const events = [];
  enc.onerror = (e) => events.push(e);
  const empty = new Uint8Array(0);
  let out = await run(enc, [empty, frame(10, 1)]);
  assert.deepEqual(out, [empty]);
  assert.equal(events.length, 1);
  assert.equal(events[0].code, 'no_key');
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 4 });
  out = await run(dec, [new ArrayBuffer(0)]);
  assert.equal(out.length, 1);
  assert.equal(out[0].byteLength, 0);
});

test('key rotation: decryptor holds old and new keys; encryptor switches', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 5 });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 5 });
  await Promise.all([enc.setEncryptionKey(KEY, 1), dec.addDecryptionKey(KEY, 1)]);
  const first = await run(enc, [frame(20, 1)]);
  await dec.addDecryptionKey(OTHER, 2);
  await enc.setEncryptionKey(OTHER, 2);
  const second = await run(enc, [frame(20, 2)]);
  assert.equal(parseHeader(second[0]).keyId, 2n);
  assert.deepEqual(await run(dec, [...second, ...first]), [frame(20, 2), frame(20, 1)]);
});

test('non-extractable HKDF CryptoKey on both sides', async () => {
  const key = await crypto.subtle.importKey('raw', KEY, 'HKDF', false, ['deriveBits']);
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_256_GCM_SHA512_128' });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 'AES_256_GCM_SHA512_128' });
  await enc.setEncryptionKey(key, 9);
  // The other side uses raw bytes: same RFC 9605 derivation, so it interoperates.
  await dec.addDecryptionKey(KEY, 9);
  assert.deepEqual(await run(dec, await run(enc, [frame(30, 5)])), [frame(30, 5)]);
});

test('encoded frames: VP8 keeps 10/3 bytes clear (authenticated), Opus its TOC byte', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 1 });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 1 });
  await enc.setEncryptionKey(KEY, 0);
  await dec.addDecryptionKey(KEY, 0);
  const keyFrame = frame(300, 0x55);
  keyFrame[0] = 0x50; // P bit clear: key frame
  const deltaFrame = frame(300, 0x66);
  deltaFrame[0] = 0x31;
  const opus = frame(80, 0x77);
  opus[0] = 0x78;
  const fk = new FakeEncodedFrame(keyFrame, 'video/VP8', 'key');
  const fd = new FakeEncodedFrame(deltaFrame, 'video/VP8');
  const fo = new FakeEncodedFrame(opus, 'audio/opus');
  const encrypted = await run(enc, [fk, fd, fo]);
  assert.deepEqual(encrypted, [fk, fd, fo]); // same objects, .data replaced
  const k = new Uint8Array(fk.data);
  assert.deepEqual(k.subarray(0, 10), keyFrame.subarray(0, 10));
  assert.equal(parseHeader(k.subarray(10)).counter, 0n);
  assert.deepEqual(new Uint8Array(fd.data).subarray(0, 3), deltaFrame.subarray(0, 3));
  assert.equal(parseHeader(new Uint8Array(fd.data).subarray(3)).counter, 1n);
  assert.equal(new Uint8Array(fo.data)[0], 0x78);
  assert.equal(parseHeader(new Uint8Array(fo.data).subarray(1)).counter, 2n);
  // A modified clear byte fails authentication (it is SFrame metadata).
  const tampered = new FakeEncodedFrame(new Uint8Array(fd.data), 'video/VP8');
  new Uint8Array(tampered.data)[1] ^= 1;
  const events = [];
  dec.onerror = (e) => events.push(e.errorType);
  const out = await run(dec, [tampered, fk, fd, fo]);
  assert.deepEqual(events, ['authentication']);
  assert.deepEqual(
    out.map((f) => new Uint8Array(f.data)),
    [keyFrame, deltaFrame, opus],
  );
});

test('encoded frames: H.264 keeps NAL structure, ciphertext has no start code', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 4, compatibilityMode: 'H264' });
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 4, compatibilityMode: 'H264' });
  await enc.setEncryptionKey(KEY, 0);
  await dec.addDecryptionKey(KEY, 0);
  const sps = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e];
  // (4-byte start codes up to the first slice, as the clear part writes them all: the frame
  // comes back byte-identical.)
  const slice = [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0x00, ...new Array(2000).fill(0)];
  const plain = Uint8Array.from([...sps, ...slice, 0, 0, 1, 0x41, 0x9a, 1, 2, 3, 4, 5, 0, 0]);
  const frames = [];
  for (let i = 0; i < 20; i++) frames.push(new FakeEncodedFrame(plain, 'video/H264'));
  const encrypted = await run(enc, frames);
  const clearLen = sps.length + 4 + 1 + 4;
  for (const f of encrypted) {
    const b = new Uint8Array(f.data);
    assert.deepEqual(b.subarray(0, clearLen), plain.subarray(0, clearLen));
    for (let j = clearLen - 2; j + 2 < b.length; j++) {
      assert.ok(!(b[j] === 0 && b[j + 1] === 0 && b[j + 2] <= 1), 'start code in ciphertext');
    }
  }
  const decrypted = await run(dec, encrypted);
  assert.equal(decrypted.length, 20);
  for (const f of decrypted) assert.deepEqual(new Uint8Array(f.data), plain);
});

test('options: Safari authenticationSize, bad role / mode / keyID', async () => {
  assert.equal(new SFrameTransform({ authenticationSize: 4 }).cipherSuite, 'AES_128_CTR_HMAC_SHA256_32');
  assert.equal(new SFrameTransform().cipherSuite, 'AES_128_CTR_HMAC_SHA256_80');
  assert.equal(new SFrameTransform().role, 'encrypt');
  assert.equal(new SFrameTransform({ compatibilityMode: 'VP8' }).compatibilityMode, 'vp8');
  assert.throws(() => new SFrameTransform({ role: 'both' }), TypeError);
  assert.throws(() => new SFrameTransform({ compatibilityMode: 'AV2' }), TypeError);
  assert.throws(() => new SFrameTransform({ cipherSuite: 'nope' }), { code: 'unsupported_cipher_suite' });
  const enc = new SFrameTransform({ cipherSuite: 4 });
  await assert.rejects(enc.setEncryptionKey(KEY, -1), RangeError);
  await assert.rejects(enc.setEncryptionKey(KEY, 2n ** 64n), RangeError);
  await assert.rejects(enc.setEncryptionKey(new Uint8Array(8), 1), { code: 'invalid_key' });
  await assert.rejects(enc.addDecryptionKey(KEY, 1), TypeError);
  await assert.rejects(enc.removeDecryptionKey(1), TypeError);
  // keyID may be omitted on the compatibility object (Safari: 0).
  await enc.setEncryptionKey(new Uint8Array(16).fill(0x77));
  assert.equal(parseHeader((await run(enc, [frame(4, 1)]))[0]).keyId, 0n);
});
