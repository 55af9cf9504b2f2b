// The 2026 W3C stream objects: SFrameEncryptorStream (not an EventTarget, PR #309),
// SFrameDecryptorStream (EventTarget with error events), SFrameTransformErrorEvent, the
// options dictionary (required cipherSuite enum, type "per-frame" | "per-packet") and the
// exceptions of the key methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CIPHER_SUITES,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
  parseHeader,
} from '../js/index.js';

const SUITE = 'AES_128_GCM_SHA256_128';
const frame = (n, fill) => new Uint8Array(n).fill(fill);

/** Writes frames into a transform that stays open; returns what came out. */
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

/** A unique 16-byte key per call (encryptors of one realm may not share key and KID). */
let keySeed = 1;
const freshKey = () => new Uint8Array(16).fill(keySeed++);

test('options: cipherSuite is a required enum of names; type "per-frame" | "per-packet"', () => {
  for (const Cls of [SFrameEncryptorStream, SFrameDecryptorStream]) {
    assert.throws(() => new Cls(), TypeError);
    assert.throws(() => new Cls({}), { name: 'TypeError', message: /cipherSuite is required/ });
    assert.throws(() => new Cls({ cipherSuite: 4 }), TypeError); // numbers are not enum values
    assert.throws(() => new Cls({ cipherSuite: 'AES_999' }), TypeError);
    assert.throws(() => new Cls({ cipherSuite: SUITE, type: 'per-slice' }), TypeError);
    assert.throws(() => new Cls('AES_128_GCM_SHA256_128'), TypeError);
    // per-packet: a clear refusal, not a silent per-frame fallback.
    assert.throws(
      () => new Cls({ cipherSuite: SUITE, type: 'per-packet' }),
      (e) =>
        e instanceof DOMException &&
        e.name === 'NotSupportedError' &&
        /per-packet/.test(e.message) &&
        /packetizer/.test(e.message),
    );
    // Enum conversion happens before the per-packet refusal (dictionary order: cipherSuite first).
    assert.throws(() => new Cls({ cipherSuite: 'nope', type: 'per-packet' }), TypeError);
    for (const name of CIPHER_SUITES) {
      const t = new Cls({ cipherSuite: name, type: 'per-frame' });
      assert.equal(t.cipherSuite, name);
      t.close();
    }
  }
});

test('SFrameEncryptorStream is not an EventTarget (#309); SFrameDecryptorStream is', () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: SUITE });
  const dec = new SFrameDecryptorStream({ cipherSuite: SUITE });
  assert.equal(enc instanceof EventTarget, false);
  assert.equal('addEventListener' in enc, false);
  assert.equal('onerror' in enc, false);
  assert.equal('addDecryptionKey' in enc, false);
  assert.equal(dec instanceof EventTarget, true);
  assert.equal(dec.onerror, null);
  assert.equal('setEncryptionKey' in dec, false);
  assert.ok(enc.readable instanceof ReadableStream && enc.writable instanceof WritableStream);
  enc.close();
  dec.close();
});

test('frames before the first key are dropped and counted, never passed on in clear', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: SUITE });
  const plain = [frame(50, 1), frame(60, 2), frame(70, 3)];
  assert.deepEqual(await run(enc, plain.map((f) => f.slice())), []);
  assert.equal(enc.stats.droppedNoKey, 3);
  assert.equal(enc.stats.dropped, 3);
  assert.equal(enc.stats.errors, 0);
  const key = freshKey();
  await enc.setEncryptionKey(key, 9);
  const out = await run(enc, [frame(40, 4)]);
  assert.equal(out.length, 1);
  assert.equal(parseHeader(out[0]).keyId, 9n);
  assert.equal(parseHeader(out[0]).counter, 0n); // no counter was spent on the dropped frames
  assert.deepEqual(enc.stats, {
    frames: 4,
    framesOut: 1,
    bytesIn: 50 + 60 + 70 + 40,
    bytesOut: out[0].length, // 40 + header + tag
    passedThrough: 0,
    dropped: 3,
    droppedNoKey: 3,
    replayed: 0,
    errors: 0, // no key is not an error (no event either: W3C issue #306)
    failures: { authentication: 0, keyID: 0, syntax: 0 },
  });
  const dec = new SFrameDecryptorStream({ cipherSuite: SUITE });
  await dec.addDecryptionKey(key, 9);
  assert.deepEqual(await run(dec, out), [frame(40, 4)]);
  enc.close();
  dec.close();
});

test('key methods reject as the spec says: TypeError, RangeError, InvalidModificationError, InvalidStateError', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: SUITE });
  const key = freshKey();
  // Arguments (checked before anything is installed).
  await assert.rejects(enc.setEncryptionKey(key), { name: 'TypeError', message: /keyID is required/ });
  await assert.rejects(enc.setEncryptionKey('secret', 1), TypeError);
  await assert.rejects(enc.setEncryptionKey(key, -1), TypeError); // [EnforceRange]
  await assert.rejects(enc.setEncryptionKey(key, 2 ** 53), TypeError);
  await assert.rejects(enc.setEncryptionKey(key, NaN), TypeError);
  await assert.rejects(enc.setEncryptionKey(key, 2n ** 64n), RangeError);
  await assert.rejects(enc.setEncryptionKey(key, -1n), RangeError);
  const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  await assert.rejects(enc.setEncryptionKey(aes, 1), TypeError); // not HKDF, not extractable
  // sframe-core refuses: InvalidModificationError whose cause says why.
  await assert.rejects(enc.setEncryptionKey(new Uint8Array(8), 1), (e) => {
    assert.ok(e instanceof DOMException);
    assert.equal(e.name, 'InvalidModificationError');
    assert.equal(e.cause.name, 'SFrameError');
    assert.equal(e.cause.code, 'invalid_key');
    return true;
  });
  await enc.setEncryptionKey(key, 1.9); // [EnforceRange] truncates: KID 1
  assert.equal(parseHeader((await run(enc, [frame(5, 1)]))[0]).keyId, 1n);
  // A second live encryptor with the same key and KID: key_in_use, and it keeps its old key.
  const rival = new SFrameEncryptorStream({ cipherSuite: SUITE });
  const other = freshKey();
  await rival.setEncryptionKey(other, 2);
  await assert.rejects(rival.setEncryptionKey(key, 1), (e) => {
    assert.equal(e.name, 'InvalidModificationError');
    assert.equal(e.cause.code, 'key_in_use');
    return true;
  });
  assert.equal(parseHeader((await run(rival, [frame(5, 1)]))[0]).keyId, 2n);
  // Closed: InvalidStateError DOMException; the key is released for others.
  enc.close();
  assert.equal(enc.closed, true);
  await assert.rejects(
    enc.setEncryptionKey(key, 1),
    (e) => e instanceof DOMException && e.name === 'InvalidStateError',
  );
  await rival.setEncryptionKey(key, 1); // no longer in use
  rival.close();

  const dec = new SFrameDecryptorStream({ cipherSuite: SUITE });
  await assert.rejects(dec.addDecryptionKey(key), TypeError);
  await assert.rejects(dec.removeDecryptionKey(), TypeError);
  await assert.rejects(dec.removeDecryptionKey(2n ** 64n), RangeError);
  await assert.rejects(dec.addDecryptionKey(new Uint8Array(3), 1), { name: 'InvalidModificationError' });
  await dec.removeDecryptionKey(77); // no such key: resolves
  dec.close();
  await assert.rejects(dec.addDecryptionKey(key, 1), { name: 'InvalidStateError' });
  await assert.rejects(dec.removeDecryptionKey(1), { name: 'InvalidStateError' });
});

test('decryptor error events: SFrameTransformErrorEvent with errorType, keyID, frame; onerror and listeners', async () => {
  const key = freshKey();
  const enc = new SFrameEncryptorStream({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_32' });
  // keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's).
  const dec = new SFrameDecryptorStream({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_32', keyWait: { maxFrames: 0 } });
  await enc.setEncryptionKey(key, 300);
  const [a, b, c] = await run(enc, [frame(20, 1), frame(20, 2), frame(20, 3)]);
  const viaListener = [];
  const viaOnerror = [];
  dec.addEventListener('error', (e) => viaListener.push(e));
  dec.onerror = (e) => viaOnerror.push(e);
  // No key yet → "keyID" with the frame's KID.
  assert.deepEqual(await run(dec, [a]), []);
  await dec.addDecryptionKey(freshKey(), 300); // wrong key → "authentication"
  assert.deepEqual(await run(dec, [b]), []);
  await dec.addDecryptionKey(key, 300);
  assert.deepEqual(await run(dec, [Uint8Array.of(0xff, 0xff), c]), [frame(20, 3)]); // garbage → "syntax"
  assert.equal(viaListener.length, 3);
  assert.deepEqual(viaOnerror, viaListener);
  const [k, auth, syntax] = viaListener;
  for (const e of viaListener) {
    assert.ok(e instanceof SFrameTransformErrorEvent);
    assert.equal(e.type, 'error');
    assert.equal(e.target, dec);
  }
  assert.deepEqual([k.errorType, k.keyID, k.code, k.frame], ['keyID', 300n, 'unknown_key_id', a]);
  assert.deepEqual([auth.errorType, auth.keyID, auth.code, auth.frame], ['authentication', 300n, 'authentication_failed', b]);
  assert.deepEqual([syntax.errorType, syntax.keyID, syntax.code], ['syntax', null, 'malformed_frame']);
  // onerror replaced / cleared.
  dec.onerror = null;
  assert.equal(dec.onerror, null);
  enc.close();
  dec.close();
});

test('SFrameTransformErrorEvent: required init members, read-only attributes', () => {
  const frameObj = { data: new ArrayBuffer(1) };
  const e = new SFrameTransformErrorEvent('error', { errorType: 'keyID', keyID: 5n, frame: frameObj, code: 'unknown_key_id' });
  assert.ok(e instanceof Event);
  assert.deepEqual([e.type, e.errorType, e.keyID, e.frame, e.code], ['error', 'keyID', 5n, frameObj, 'unknown_key_id']);
  const bare = new SFrameTransformErrorEvent('error', { errorType: 'syntax', frame: null });
  assert.equal(bare.keyID, null);
  assert.equal(bare.code, null);
  assert.throws(() => new SFrameTransformErrorEvent('error'), TypeError);
  assert.throws(() => new SFrameTransformErrorEvent('error', { frame: null }), TypeError);
  assert.throws(() => new SFrameTransformErrorEvent('error', { errorType: 'oops', frame: null }), TypeError);
  assert.throws(() => new SFrameTransformErrorEvent('error', { errorType: 'syntax' }), TypeError);
  assert.throws(() => {
    'use strict';
    e.errorType = 'syntax';
  }, TypeError);
  assert.equal(e.errorType, 'keyID');
  // EventInit members still work.
  assert.equal(new SFrameTransformErrorEvent('x', { errorType: 'syntax', frame: 1, bubbles: true }).bubbles, true);
});

test('W3C PR #313: an error event\'s frame is the encoded frame object written, its data as it came', async () => {
  const { FakeEncodedFrame } = await import('./fake-rtc.mjs');
  const key = freshKey();
  const enc = new SFrameEncryptorStream({ cipherSuite: SUITE });
  await enc.setEncryptionKey(key, 12);
  // VP8 delta frames (3 clear bytes): one small (wasm path), one large (WebCrypto path: the key
  // given as bytes has both forms, frames from 1 KiB on go through WebCrypto).
  const delta = (n) => Object.assign(frame(n, 0x31), { 0: 0x01 });
  const sealed = await run(enc, [new FakeEncodedFrame(delta(200), 'video/VP8'), new FakeEncodedFrame(delta(4000), 'video/VP8')]);
  const wire = sealed.map((f) => new Uint8Array(f.data).slice());
  const cases = [
    // No key for the KID: always found out on the wasm path, small frame or large.
    ['keyID, small frame', null, 0, 'keyID'],
    ['keyID, large frame', null, 1, 'keyID'],
    ['authentication, wasm path', freshKey(), 0, 'authentication'],
    ['authentication, WebCrypto path', freshKey(), 1, 'authentication'],
  ];
  for (const [what, decKey, i, errorType] of cases) {
    // keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's).
    const dec = new SFrameDecryptorStream({ cipherSuite: SUITE, keyWait: { maxFrames: 0 } });
    if (decKey) await dec.addDecryptionKey(decKey, 12);
    const events = [];
    dec.onerror = (e) => events.push(e);
    const written = new FakeEncodedFrame(wire[i], 'video/VP8');
    assert.deepEqual(await run(dec, [written]), [], what);
    assert.equal(events.length, 1, what);
    assert.equal(events[0].errorType, errorType, what);
    assert.equal(events[0].frame, written, `${what}: the object written, not a copy`);
    assert.deepEqual(new Uint8Array(events[0].frame.data), wire[i], `${what}: its data untouched`);
    dec.close();
  }
  // Not an SFrame frame: "syntax", the frame itself.
  const dec = new SFrameDecryptorStream({ cipherSuite: SUITE });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const garbage = new FakeEncodedFrame(Uint8Array.of(0x01, 2, 3, 0xff), 'video/VP8');
  const notAFrame = { data: 'no ArrayBuffer' };
  await run(dec, [garbage, new Uint8Array(5).fill(0xff).slice(0, 4), notAFrame]);
  assert.deepEqual(events.map((e) => e.errorType), ['syntax']); // one run: all three fail alike
  assert.equal(events[0].frame, garbage);
  // A chunk that is neither an encoded frame nor a BufferSource has no frame to report.
  const lone = new SFrameDecryptorStream({ cipherSuite: SUITE });
  const loneEvents = [];
  lone.onerror = (e) => loneEvents.push(e);
  await run(lone, [notAFrame]);
  assert.deepEqual(loneEvents.map((e) => [e.errorType, e.code, e.frame]), [['syntax', 'invalid_argument', null]]);
  // The compatibility object's encryptor reports frames too (before its first key): the same
  // object, still in clear — it was dropped, never sent.
  const legacy = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const legacyEvents = [];
  legacy.onerror = (e) => legacyEvents.push(e);
  const plain = new FakeEncodedFrame(delta(50), 'video/VP8');
  assert.deepEqual(await run(legacy, [plain]), []);
  assert.equal(legacyEvents[0].frame, plain);
  assert.deepEqual(new Uint8Array(plain.data), delta(50));
  for (const x of [enc, dec, lone, legacy]) x.close();
});
