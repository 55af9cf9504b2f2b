// RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor in Node: the main-thread objects, the message
// protocol and the worker code, with a fake RTCRtpScriptTransform and an in-process worker
// (test/fake-rtc.mjs). The real browser path is e2e/polyfill.test.mjs.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncrypter,
  RTCRtpSFrameEncryptor,
  SFrameTransform,
  SFrameTransformErrorEvent,
  parseHeader,
} from '../js/index.js';
import { _setWorkerFactory } from '../js/w3c.js';
import { TRANSFORM_OPTION } from '../js/worker-host.js';
import {
  FakeEncodedFrame,
  FakeRTCRtpScriptTransform,
  FakeWorker,
  settle,
  withFakeBrowser,
} from './fake-rtc.mjs';

const SUITE = 'AES_128_GCM_SHA256_128';
let workers;
let restore;
let seed = 0x40;
const freshBytes = () => new Uint8Array(16).fill(seed++);
const hkdf = (bytes) => crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveBits']);

/** A VP8 delta frame (frame tag bit 0 = 1): its first 3 bytes stay in clear. */
function vp8(n, fill) {
  const b = new Uint8Array(n).fill(fill);
  b[0] = 0x31;
  return new FakeEncodedFrame(b, 'video/VP8');
}
const bytesOf = (f) => new Uint8Array(f.data);

beforeEach(() => {
  workers = [];
  _setWorkerFactory(() => {
    const w = new FakeWorker();
    workers.push(w);
    return w;
  });
  restore = withFakeBrowser();
});

afterEach(() => {
  restore();
});

test('the constructor returns the RTCRtpScriptTransform, with the class prototype; one worker for all', async () => {
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_80' });
  for (const [t, Cls] of [
    [enc, RTCRtpSFrameEncryptor],
    [dec, RTCRtpSFrameDecryptor],
  ]) {
    // The object the browser gets: built by RTCRtpScriptTransform's constructor.
    assert.ok(t.fake, 'made by RTCRtpScriptTransform');
    assert.equal(Object.getPrototypeOf(t), Cls.prototype);
    assert.ok(t instanceof Cls);
    assert.equal(t.constructor, Cls);
  }
  assert.equal(enc instanceof EventTarget, false); // the encryptor is not an EventTarget
  assert.ok(dec instanceof EventTarget);
  assert.equal(enc.cipherSuite, SUITE);
  assert.equal(dec.cipherSuite, 'AES_256_CTR_HMAC_SHA512_80');
  assert.deepEqual(enc.fake.options[TRANSFORM_OPTION], {
    id: 1,
    role: 'encrypt',
    options: { cipherSuite: SUITE, type: 'per-frame' },
  });
  assert.equal(dec.fake.options[TRANSFORM_OPTION].role, 'decrypt');
  assert.equal(workers.length, 1, 'one worker serves every transform');
  // Every encryptor of the page lives in that one worker, i.e. in one wasm instance: the
  // scope of sframe-core's key registry (key_in_use between them, counters of closed ones
  // resumed; see the key_in_use test below and README "One KID per sending track").
  const video = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  assert.equal(workers.length, 1, 'a second encryptor joins the same worker');
  await settle();
  assert.equal(workers[0].host.size, 3);
  assert.deepEqual(
    workers[0].received.map((m) => [m.type, m.id, m.role]),
    [
      ['create', 1, 'encrypt'],
      ['create', 2, 'decrypt'],
      ['create', 3, 'encrypt'],
    ],
  );
  assert.equal(video.fake.options[TRANSFORM_OPTION].id, 3);
});

test('constructor errors: TypeError for options, NotSupportedError for per-packet or without RTCRtpScriptTransform', () => {
  for (const Cls of [RTCRtpSFrameEncryptor, RTCRtpSFrameDecryptor]) {
    assert.throws(() => new Cls(), TypeError);
    assert.throws(() => new Cls({ cipherSuite: 5 }), TypeError);
    assert.throws(() => new Cls({ cipherSuite: SUITE, compatibilityMode: 'AV2' }), TypeError);
    assert.throws(
      () => new Cls({ cipherSuite: SUITE, type: 'per-packet' }),
      (e) => e instanceof DOMException && e.name === 'NotSupportedError' && /packetizer/.test(e.message),
    );
  }
  assert.equal(workers.length, 0, 'nothing started for a refused transform');
  restore();
  assert.throws(
    () => new RTCRtpSFrameEncryptor({ cipherSuite: SUITE }),
    (e) => e instanceof DOMException && e.name === 'NotSupportedError' && /RTCRtpScriptTransform/.test(e.message),
  );
  restore = withFakeBrowser();
});

test('loopback: frames before the key are dropped and counted; a non-extractable key reaches the worker as is', async () => {
  const raw = freshBytes();
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE });
  // The encoder produces frames before the application has a key: none leaves.
  await enc.fake.push(vp8(100, 1), vp8(100, 2));
  assert.deepEqual(enc.fake.sent, []);
  assert.equal((await enc.getStats()).droppedNoKey, 2);
  const key = await hkdf(raw);
  await enc.setEncryptionKey(key, 17);
  // The worker got a CryptoKey (structured clone), still non-extractable.
  const msg = workers[0].received.find((m) => m.op === 'setEncryptionKey');
  assert.ok(msg.key instanceof CryptoKey);
  assert.equal(msg.key.extractable, false);
  assert.equal(msg.keyID, 17n);
  // In force as soon as the promise resolved.
  const plain = [vp8(300, 3), vp8(40, 4)];
  await enc.fake.push(...plain.map((f) => new FakeEncodedFrame(bytesOf(f), 'video/VP8')));
  assert.equal(enc.fake.sent.length, 2);
  for (const [i, f] of enc.fake.sent.entries()) {
    const b = bytesOf(f);
    assert.deepEqual(b.subarray(0, 3), bytesOf(plain[i]).subarray(0, 3), 'VP8 frame tag in clear');
    const h = parseHeader(b.subarray(3));
    assert.deepEqual([h.keyId, h.counter], [17n, BigInt(i)]);
  }
  const wire = enc.fake.sent.map(bytesOf).reduce((n, b) => n + b.length, 0);
  const none = { authentication: 0, keyID: 0, syntax: 0 };
  assert.deepEqual(await enc.getStats(), {
    frames: 4,
    framesOut: 2,
    bytesIn: 100 + 100 + 300 + 40,
    bytesOut: wire,
    passedThrough: 0,
    dropped: 2,
    droppedNoKey: 2,
    replayed: 0,
    errors: 0,
    failures: none,
  });
  // The receiver decrypts them (the other side's key as bytes: same RFC 9605 derivation).
  await dec.addDecryptionKey(raw, 17);
  await dec.fake.push(...enc.fake.sent);
  assert.deepEqual(dec.fake.sent.map(bytesOf), plain.map(bytesOf));
  // The decryptor's getStats(): the same counters, its error runs, its key's counters.
  assert.deepEqual(await dec.getStats(), {
    frames: 2,
    framesOut: 2,
    bytesIn: wire,
    bytesOut: 300 + 40,
    passedThrough: 0,
    dropped: 0,
    droppedNoKey: 0,
    replayed: 0,
    errors: 0,
    failures: none,
    errorEvents: 0,
    errorsSuppressed: 0,
    currentErrorRun: null,
    lastErrorRun: null,
    keys: [{ keyID: 17n, frames: 2, authenticationFailures: 0, highestCounter: 1n }],
    buffered: 0,
    releasedFromBuffer: 0,
    droppedFromBuffer: { overflow: 0, expired: 0, tooBig: 0, removed: 0, closed: 0 },
  });
});

test('same wire layout as SFrameTransform: an old-style decryptor opens what RTCRtpSFrameEncryptor sends', async () => {
  const raw = freshBytes();
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: 'AES_128_CTR_HMAC_SHA256_80' });
  await enc.setEncryptionKey(raw, 5);
  const key = new Uint8Array(200).fill(7);
  key[0] = 0x50; // VP8 key frame: 10 clear bytes
  const opus = new Uint8Array(60).fill(9);
  opus[0] = 0x78;
  await enc.fake.push(new FakeEncodedFrame(key, 'video/VP8'), new FakeEncodedFrame(opus, 'audio/opus'));
  const [k, o] = enc.fake.sent.map(bytesOf);
  assert.deepEqual(k.subarray(0, 10), key.subarray(0, 10));
  assert.equal(o[0], 0x78);
  const legacy = new SFrameTransform({ role: 'decrypt', cipherSuite: 'AES_128_CTR_HMAC_SHA256_80' });
  await legacy.addDecryptionKey(raw, 5);
  const out = [];
  const w = legacy.writable.getWriter();
  const r = legacy.readable.getReader();
  for (const f of enc.fake.sent) {
    const written = w.write(new FakeEncodedFrame(bytesOf(f), f.mimeType));
    out.push(bytesOf((await r.read()).value));
    await written;
  }
  assert.deepEqual(out, [key, opus]);
  legacy.close();
});

test('decryptor errors arrive on the main thread as SFrameTransformErrorEvents', async () => {
  const raw = freshBytes();
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  // keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's); the option reaches the worker's decryptor.
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE, keyWait: { maxFrames: 0 } });
  await enc.setEncryptionKey(raw, 3);
  await dec.addDecryptionKey(freshBytes(), 3); // the wrong key
  await enc.fake.push(vp8(80, 1), vp8(80, 2));
  const viaOnerror = [];
  const viaListener = [];
  let thisInHandler;
  dec.onerror = function (e) {
    thisInHandler = this;
    viaOnerror.push(e);
  };
  const listener = (e) => viaListener.push(e);
  dec.addEventListener('error', listener);
  await dec.fake.push(...enc.fake.sent);
  await settle();
  assert.deepEqual(dec.fake.sent, [], 'frames that fail are dropped');
  // Two identical failures (same errorType, same KID): one event, for the first frame (W3C
  // issue #307; sframe_core::report).
  assert.equal(viaOnerror.length, 1);
  assert.deepEqual(viaListener, viaOnerror);
  const [e] = viaOnerror;
  assert.ok(e instanceof SFrameTransformErrorEvent);
  assert.equal(e.type, 'error');
  assert.equal(e.errorType, 'authentication');
  assert.equal(e.keyID, 3n);
  assert.equal(e.code, 'authentication_failed');
  assert.equal(e.previousRun, null);
  assert.equal(e.target, dec);
  assert.equal(e.currentTarget, dec);
  // The frame, cloned from the worker: the protected bytes that failed first.
  assert.deepEqual(new Uint8Array(e.frame.data), bytesOf(enc.fake.sent[0]));
  assert.ok(thisInHandler !== undefined);
  const st = await dec.getStats();
  assert.deepEqual(
    [st.errors, st.errorEvents, st.errorsSuppressed, st.currentErrorRun],
    [2, 1, 1, { errorType: 'authentication', keyID: 3n, count: 2 }],
  );
  // Unknown KID → "keyID", a new run: its event carries the run before; listeners can be
  // removed; onerror can be cleared.
  dec.removeEventListener('error', listener);
  await dec.removeDecryptionKey(3);
  await enc.fake.push(vp8(80, 3));
  await dec.fake.push(enc.fake.sent[2]);
  await settle();
  assert.equal(viaListener.length, 1);
  assert.equal(viaOnerror.length, 2);
  assert.deepEqual([viaOnerror[1].errorType, viaOnerror[1].keyID], ['keyID', 3n]);
  assert.deepEqual(viaOnerror[1].previousRun, { errorType: 'authentication', keyID: 3n, count: 2 });
  dec.onerror = null;
  assert.equal(dec.onerror, null);
  // A frame the browser cannot clone to the main thread: the event comes without it.
  const late = [];
  dec.addEventListener('error', (e) => late.push(e));
  const odd = vp8(80, 4);
  odd.callback = () => {}; // functions are not cloneable
  await dec.fake.push(odd, Object.assign(vp8(80, 5), { callback: () => {} }));
  await settle();
  assert.equal(late.length, 1, 'the second frame fails like the first: no event');
  assert.equal(late[0].frame, null);
  // Its bytes after the VP8 tag (0x04 ...) read as an SFrame header with KID 0: no such key.
  assert.deepEqual([late[0].errorType, late[0].keyID], ['keyID', 0n]);
  assert.deepEqual(late[0].previousRun, { errorType: 'keyID', keyID: 3n, count: 1 });
});

test('key calls: argument errors reject before posting; refusals come back as the spec exceptions', async () => {
  const raw = freshBytes();
  const a = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  const b = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE });
  await settle();
  const posted = () => workers[0].received.filter((m) => m.type === 'key').length;
  await assert.rejects(a.setEncryptionKey(raw), { name: 'TypeError', message: /keyID is required/ });
  await assert.rejects(a.setEncryptionKey(raw, -5), TypeError);
  await assert.rejects(a.setEncryptionKey(raw, 2n ** 64n), RangeError);
  await assert.rejects(a.setEncryptionKey({ not: 'a key' }, 1), TypeError);
  await assert.rejects(dec.removeDecryptionKey(undefined), TypeError);
  assert.equal(posted(), 0, 'nothing posted for bad arguments');
  // One encryptor per key and KID in the worker's realm: key_in_use, as the spec's
  // InvalidModificationError with the SFrameError as cause.
  const bytes = raw.slice();
  await a.setEncryptionKey(bytes, 1);
  assert.deepEqual(bytes, raw, "the caller's bytes are copied, not transferred away");
  await assert.rejects(b.setEncryptionKey(await hkdf(raw), 1), (e) => {
    assert.ok(e instanceof DOMException);
    assert.equal(e.name, 'InvalidModificationError');
    assert.equal(e.cause.code, 'key_in_use');
    return true;
  });
  await assert.rejects(dec.addDecryptionKey(new Uint8Array(4), 1), (e) => {
    assert.equal(e.name, 'InvalidModificationError');
    assert.equal(e.cause.code, 'invalid_key');
    return true;
  });
  // A key that is neither HKDF nor extractable is refused by the worker with TypeError.
  const aes = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  await assert.rejects(b.setEncryptionKey(aes, 2), TypeError);
  // Methods check their receiver.
  await assert.rejects(RTCRtpSFrameEncryptor.prototype.setEncryptionKey.call({}, raw, 1), TypeError);
  await assert.rejects(RTCRtpSFrameDecryptor.prototype.addDecryptionKey.call(a, raw, 1), TypeError);
  assert.throws(() => RTCRtpSFrameDecryptor.prototype.addEventListener.call(a, 'error', () => {}), TypeError);
});

test('a worker that fails to load rejects pending and later key calls with OperationError', async () => {
  _setWorkerFactory(() => {
    const w = new FakeWorker();
    w.postMessage = () => {}; // never answers...
    setTimeout(() => w.dispatchEvent(new MessageEvent('message', { data: { type: 'fatal', message: 'no wasm' } })), 5);
    workers.push(w);
    return w;
  });
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  const pending = enc.setEncryptionKey(freshBytes(), 1);
  await assert.rejects(pending, (e) => e instanceof DOMException && e.name === 'OperationError' && /no wasm/.test(e.message));
  await assert.rejects(enc.getStats(), { name: 'OperationError' });
});

test('FakeRTCRtpScriptTransform is only a stand-in: the polyfill does not depend on its class', () => {
  // The prototype swap keeps the object the browser made (its identity is what
  // sender.transform checks); only methods come from the polyfill's classes.
  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  assert.equal(enc instanceof FakeRTCRtpScriptTransform, false);
  assert.equal(typeof enc.setEncryptionKey, 'function');
  assert.equal(Object.prototype.hasOwnProperty.call(enc, 'setEncryptionKey'), false);
});

test('observeWire (extension): the encryptor samples what it puts on the wire, bounded, frames unchanged', async () => {
  const raw = freshBytes();
  const plainEnc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
  await assert.rejects(plainEnc.takeWireSamples(), { name: 'InvalidStateError' });
  assert.throws(() => new RTCRtpSFrameEncryptor({ cipherSuite: SUITE, observeWire: { frames: 0 } }), RangeError);
  assert.throws(() => new RTCRtpSFrameEncryptor({ cipherSuite: SUITE, observeWire: { bytes: 4097 } }), RangeError);
  assert.throws(() => new RTCRtpSFrameEncryptor({ cipherSuite: SUITE, observeWire: { bytes: 1.5 } }), TypeError);
  assert.throws(() => new RTCRtpSFrameEncryptor({ cipherSuite: SUITE, observeWire: 'yes' }), TypeError);

  const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE, observeWire: { frames: 3, bytes: 8 } });
  assert.deepEqual(enc.fake.options[TRANSFORM_OPTION].observe, { frames: 3, bytes: 8 });
  // Frames dropped for want of a key never reach the wire: nothing sampled.
  await enc.fake.push(vp8(50, 1));
  assert.deepEqual(await enc.takeWireSamples(), { samples: [], missed: 0, frames: 0 });
  await enc.setEncryptionKey(raw, 1041);
  await enc.fake.push(vp8(100, 2), vp8(120, 3));
  const first = await enc.takeWireSamples();
  assert.equal(first.missed, 0);
  assert.equal(first.frames, 2);
  assert.deepEqual(
    first.samples.map((s) => [s.size, s.mimeType, s.keyID, s.counter, s.headerLength, s.clear]),
    // Config byte + 2 KID bytes (1041); counters below 8 fit in the config byte (RFC 9605 §4.3).
    enc.fake.sent.map((f, i) => [bytesOf(f).length, 'video/VP8', 1041n, BigInt(i), 3, 3]),
  );
  // A copy of the first `bytes` bytes of what was sent, the frames themselves untouched.
  for (const [i, s] of first.samples.entries()) assert.deepEqual(s.bytes, bytesOf(enc.fake.sent[i]).slice(0, 8));
  assert.equal(enc.fake.sent.length, 2);
  // Taken samples are gone; the oldest go first when the page does not take them in time.
  await enc.fake.push(vp8(60, 4), vp8(60, 5), vp8(60, 6), vp8(60, 7), vp8(60, 8));
  const second = await enc.takeWireSamples();
  assert.deepEqual(second.samples.map((s) => s.counter), [4n, 5n, 6n]);
  assert.equal(second.missed, 2);
  assert.equal(second.frames, 7);
  assert.equal(enc.fake.sent.length, 7);
  // Decryptors have no such option (what a receiver gets is what the sender sent).
  assert.equal(typeof RTCRtpSFrameDecryptor.prototype.takeWireSamples, 'undefined');
});
