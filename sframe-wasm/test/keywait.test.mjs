// Frames that reach a decryptor before their key (W3C WebRTC Encoded Transform issues #289 /
// #306; RFC 9605 §4.4.4): joining a call, or a rotation whose key comes after the first frames
// under the new KID. The decryptors keep them in sframe-core's bounded KeyWaitBuffer (the wasm
// module's tag-only instantiation; the frame objects stay in JS) and, once addDecryptionKey
// installs the key of their KID, decrypt and enqueue them in order, before any later frame of
// that KID. Bounds (frames, bytes, age; oldest dropped first), the "keyID" failure of a frame
// dropped from the buffer, removeDecryptionKey / close, hostile KIDs, and the W3C main-thread
// decryptor (its worker's stream). Option `keyWait`, stats `buffered`, `releasedFromBuffer`,
// `droppedFromBuffer`.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  KeyWaitBuffer,
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncryptor,
  Receiver,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  SFrameTransform,
  hazmatProtectFrame,
  keyWaitCapacity,
} from '../js/index.js';
import { setKeyWaitClock } from '../js/pipeline.js';
import { _setWorkerFactory } from '../js/w3c.js';
import { FakeEncodedFrame, FakeWorker, settle, withFakeBrowser } from './fake-rtc.mjs';

const GCM = 'AES_128_GCM_SHA256_128';
let seed = 0x91;
const freshKey = () => new Uint8Array(16).fill(seed++);
/** Plaintext i: n bytes of value i (frames are told apart by their bytes). */
const plain = (n, i) => new Uint8Array(n).fill(i & 0xff);
const bytesOf = (f) => (f instanceof Uint8Array ? f : new Uint8Array(f.data ?? f));

// --- WebCrypto decrypt hooks: run code when a decrypt starts, or hold it (a frame in flight).
const subtle = globalThis.crypto.subtle;
const originalDecrypt = subtle.decrypt.bind(subtle);
/** Called (once) when the next WebCrypto decrypt starts. */
let onDecrypt = null;
/** While set, WebCrypto decrypts wait for it. */
let decryptGate = null;
subtle.decrypt = async (...a) => {
  const hook = onDecrypt;
  onDecrypt = null;
  hook?.();
  if (decryptGate) await decryptGate;
  return originalDecrypt(...a);
};

afterEach(() => {
  setKeyWaitClock(undefined);
  onDecrypt = null;
  decryptGate = null;
});

/** Reads everything a transform puts out; `write` writes chunks and lets them through. */
function open(t) {
  const out = [];
  const writer = t.writable.getWriter();
  const reader = t.readable.getReader();
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out.push(value);
    }
  })();
  return {
    out,
    writer,
    async write(...chunks) {
      for (const c of chunks) await writer.write(c);
      await ticks();
    },
  };
}
const ticks = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
};

/** Protected frames (Uint8Arrays) of `plains` under `key` / `kid`. */
async function seal(key, kid, plains) {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM });
  await enc.setEncryptionKey(key, kid);
  const e = open(enc);
  await e.write(...plains.map((p) => p.slice()));
  enc.close();
  return e.out;
}

/** The identities every decryptor's stats keep, with frames waiting for their key. */
function checkSums(s) {
  const d = s.droppedFromBuffer;
  assert.equal(s.frames, s.framesOut + s.dropped + s.buffered, 'frames = framesOut + dropped + buffered');
  assert.equal(s.dropped, s.droppedNoKey + s.replayed + s.errors + d.closed, 'dropped = … + errors + closed');
  assert.equal(s.errorEvents + s.errorsSuppressed, s.errors, 'events + suppressed = errors');
  assert.ok(d.overflow + d.expired + d.tooBig + d.removed <= s.failures.keyID, 'buffer drops are keyID failures');
}

const NONE_DROPPED = { overflow: 0, expired: 0, tooBig: 0, removed: 0, closed: 0 };

const DECRYPTORS = {
  SFrameDecryptorStream: (keyWait) => new SFrameDecryptorStream({ cipherSuite: GCM, keyWait }),
  'SFrameTransform (decrypt)': (keyWait) => new SFrameTransform({ role: 'decrypt', cipherSuite: GCM, keyWait }),
};

for (const [name, make] of Object.entries(DECRYPTORS)) {
  test(`issues #289/#306, ${name}: frames before the key wait, none lost, decrypted in order once it is added`, async () => {
    const key = freshKey();
    // Small frames (wasm AEAD) and large ones (WebCrypto AES-GCM: the key's twin), mixed.
    const plains = Array.from({ length: 40 }, (_, i) => plain(i % 3 === 0 ? 3000 : 100, i));
    const wire = await seal(key, 7, [...plains, plain(50, 200), plain(2000, 201)]);
    const dec = make(undefined); // the default keyWait
    const events = [];
    dec.addEventListener('error', (e) => events.push(e));
    const d = open(dec);
    await d.write(...wire.slice(0, 40));
    assert.equal(d.out.length, 0);
    assert.deepEqual(events, [], 'no event while they wait');
    let s = dec.stats;
    assert.deepEqual([s.buffered, s.dropped, s.errors, s.failures.keyID], [40, 0, 0, 0]);
    checkSums(s);
    await dec.addDecryptionKey(key, 7);
    await ticks();
    assert.deepEqual(d.out, plains, 'every frame, in arrival order');
    s = dec.stats;
    assert.deepEqual(
      [s.frames, s.framesOut, s.buffered, s.releasedFromBuffer, s.droppedFromBuffer, s.errors],
      [40, 40, 0, 40, NONE_DROPPED, 0],
    );
    assert.deepEqual(s.keys, [{ keyID: 7n, frames: 40, authenticationFailures: 0, highestCounter: 39n }]);
    // Later frames go straight through, after them.
    await d.write(...wire.slice(40));
    assert.deepEqual(d.out.slice(40), [plain(50, 200), plain(2000, 201)]);
    checkSums(dec.stats);
    dec.close();
  });
}

test('keyWait.maxFrames 0: no wait — a frame without its key fails at once, as before', async () => {
  const key = freshKey();
  const wire = await seal(key, 7, [plain(10, 1), plain(10, 2)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 0 } });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(wire[0]);
  await dec.addDecryptionKey(key, 7);
  await d.write(wire[1]);
  assert.deepEqual(d.out, [plain(10, 2)], 'the first frame is lost');
  assert.deepEqual(events.map((e) => [e.errorType, e.keyID]), [['keyID', 7n]]);
  const s = dec.stats;
  assert.deepEqual([s.buffered, s.releasedFromBuffer, s.failures.keyID], [0, 0, 1]);
  checkSums(s);
  dec.close();
});

test('released frames leave before any later frame of their KID, whichever path each takes', async () => {
  const key = freshKey();
  // f0..f2 large (WebCrypto after release), f3 small (wasm: synchronous), f4 large.
  const plains = [plain(3000, 0), plain(3000, 1), plain(3000, 2), plain(40, 3), plain(3000, 4)];
  const wire = await seal(key, 7, plains);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  // A key of another KID with a WebCrypto form: large frames try WebCrypto first, learn that
  // KID 7 has no key (unprotectExternal, hasKeyFor) and wait.
  await dec.addDecryptionKey(freshKey(), 8);
  const d = open(dec);
  await d.write(wire[0], wire[1], wire[2]);
  assert.equal(dec.stats.buffered, 3);
  // The first released frame is in WebCrypto when f3 and f4 arrive: the key is in force, so
  // f3 would open at once on the wasm path — it must wait for f0..f2.
  let started;
  const decryptStarted = new Promise((r) => (started = r));
  let openGate;
  decryptGate = new Promise((r) => (openGate = r));
  onDecrypt = started;
  const added = dec.addDecryptionKey(key, 7);
  await decryptStarted; // f0 is in WebCrypto
  const written = [d.writer.write(wire[3]), d.writer.write(wire[4])];
  await ticks();
  assert.deepEqual(d.out, [], 'f3 did not overtake f0');
  decryptGate = null;
  openGate();
  await Promise.all([added, ...written]);
  await ticks();
  assert.deepEqual(d.out, plains);
  dec.close();
});

test('a key installed while another KID\'s frame is in WebCrypto: its frames leave after that one', async () => {
  const k7 = freshKey();
  const k8 = freshKey();
  const held = [plain(30, 1), plain(30, 2)];
  const wire7 = await seal(k7, 7, held);
  const [big8] = await seal(k8, 8, [plain(5000, 9)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  await dec.addDecryptionKey(k8, 8);
  const d = open(dec);
  await d.write(...wire7); // no key for 7: they wait
  let open8;
  decryptGate = new Promise((r) => (open8 = r));
  const inFlight = d.writer.write(big8); // KID 8's frame: held in WebCrypto
  await ticks();
  const added = dec.addDecryptionKey(k7, 7); // 7's key arrives meanwhile
  await ticks();
  assert.deepEqual(d.out, [], 'nothing overtakes the frame in flight');
  open8();
  decryptGate = null;
  await Promise.all([inFlight, added]);
  await ticks();
  assert.deepEqual(d.out, [plain(5000, 9), ...held], 'in the order they were taken up');
  dec.close();
});

test('maxFrames: the oldest frames are dropped first, counted, and fail as "keyID" (one event per run)', async () => {
  const key = freshKey();
  const plains = Array.from({ length: 5 }, (_, i) => plain(20, i));
  const wire = await seal(key, 7, plains);
  // Encoded frames of a codec without a clear prefix (VP9 here: the layout "none").
  const written = wire.map((b) => new FakeEncodedFrame(b, 'video/VP9'));
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 3 } });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(...written);
  let s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.overflow, s.errors, s.failures.keyID], [3, 2, 2, 2]);
  assert.equal(events.length, 1, 'two identical failures in a row: one event');
  assert.deepEqual([events[0].errorType, events[0].keyID, events[0].code], ['keyID', 7n, 'unknown_key_id']);
  assert.equal(events[0].frame, written[0], 'the oldest frame, the object written');
  assert.deepEqual(new Uint8Array(events[0].frame.data), wire[0], 'its data as it came');
  await dec.addDecryptionKey(key, 7);
  await ticks();
  assert.deepEqual(d.out.map(bytesOf), plains.slice(2), 'the three newest');
  s = dec.stats;
  assert.deepEqual([s.releasedFromBuffer, s.buffered, s.framesOut], [3, 0, 3]);
  checkSums(s);
  dec.close();
});

test('maxBytes: oldest dropped to make room; a frame over maxBytes is never kept ("tooBig")', async () => {
  const key = freshKey();
  const plains = [plain(100, 0), plain(100, 1), plain(100, 2), plain(300, 3)];
  const wire = await seal(key, 7, plains);
  const size = wire[0].length; // header + 100 + tag
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxBytes: 2 * size + 10 } });
  const d = open(dec);
  await d.write(wire[0], wire[1]);
  assert.equal(dec.stats.buffered, 2);
  await d.write(wire[2]); // 3 × size > maxBytes: the oldest goes
  assert.deepEqual([dec.stats.buffered, dec.stats.droppedFromBuffer.overflow], [2, 1]);
  await d.write(wire[3]); // alone larger than maxBytes
  let s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.tooBig, s.failures.keyID], [2, 1, 2]);
  await dec.addDecryptionKey(key, 7);
  await ticks();
  assert.deepEqual(d.out, [plains[1], plains[2]]);
  s = dec.stats;
  assert.deepEqual(s.droppedFromBuffer, { ...NONE_DROPPED, overflow: 1, tooBig: 1 });
  checkSums(s);
  dec.close();
});

test('maxAgeMs: frames that waited too long are dropped as time goes by and never delivered', async () => {
  let now = 1000;
  setKeyWaitClock(() => now);
  const k7 = freshKey();
  const k8 = freshKey();
  const plains = [plain(10, 0), plain(10, 1), plain(10, 2)];
  const wire = await seal(k7, 7, plains);
  const [x8] = await seal(k8, 8, [plain(10, 8)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxAgeMs: 100 } });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(wire[0]); // at 1000
  now = 1060;
  await d.write(wire[1]); // at 1060
  now = 1150;
  await d.write(wire[2]); // at 1150: the first has waited 150 ms > 100
  let s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.expired], [2, 1]);
  assert.deepEqual(events.map((e) => [e.errorType, e.keyID]), [['keyID', 7n]]);
  now = 1200; // the key comes: the second has waited 140 ms, the third 50 ms
  await dec.addDecryptionKey(k7, 7);
  await ticks();
  assert.deepEqual(d.out, [plains[2]], 'only the frame still within maxAgeMs');
  assert.deepEqual(dec.stats.droppedFromBuffer.expired, 2);
  // A frame under a KID whose key never comes is given up when frames of other KIDs arrive.
  await dec.addDecryptionKey(k8, 8);
  const [y9] = await seal(freshKey(), 9, [plain(10, 9)]);
  await d.write(y9); // at 1200: waits
  assert.equal(dec.stats.buffered, 1);
  now = 1400;
  await d.write(x8); // decrypts; 9's frame has waited 200 ms
  s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.expired, s.framesOut], [0, 3, 2]);
  assert.deepEqual(events.at(-1).keyID, 9n);
  checkSums(s);
  dec.close();
});

test('a key for another KID releases nothing', async () => {
  const k7 = freshKey();
  const wire = await seal(k7, 7, [plain(10, 0), plain(10, 1)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  const d = open(dec);
  await d.write(...wire);
  await dec.addDecryptionKey(freshKey(), 8);
  await dec.addDecryptionKey(freshKey(), 70);
  await ticks();
  assert.deepEqual(d.out, []);
  let s = dec.stats;
  assert.deepEqual([s.buffered, s.releasedFromBuffer, s.errors], [2, 0, 0]);
  await dec.addDecryptionKey(k7, 7);
  await ticks();
  assert.deepEqual(d.out, [plain(10, 0), plain(10, 1)]);
  s = dec.stats;
  assert.deepEqual([s.buffered, s.releasedFromBuffer], [0, 2]);
  dec.close();
});

test('a wrong key for the KID: the frames are released and fail "authentication", counted as such', async () => {
  const wire = await seal(freshKey(), 7, [plain(10, 0), plain(10, 1)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(...wire);
  await dec.addDecryptionKey(freshKey(), 7);
  await ticks();
  assert.deepEqual(d.out, []);
  const s = dec.stats;
  assert.deepEqual([s.releasedFromBuffer, s.failures.authentication, s.buffered], [2, 2, 0]);
  assert.deepEqual(events.map((e) => [e.errorType, e.frame]), [['authentication', wire[0]]]);
  checkSums(s);
  dec.close();
});

test('removeDecryptionKey drops the frames waiting for that KID; close drops the rest without events', async () => {
  const wire7 = await seal(freshKey(), 7, [plain(10, 0), plain(10, 1)]);
  const wire8 = await seal(freshKey(), 8, [plain(10, 2), plain(10, 3)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(wire7[0], wire8[0], wire7[1], wire8[1]);
  assert.equal(dec.stats.buffered, 4);
  await dec.removeDecryptionKey(7); // no key for 7 was ever added: its key is not coming
  let s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.removed, s.failures.keyID], [2, 2, 2]);
  assert.deepEqual(events.map((e) => [e.errorType, e.keyID, e.frame]), [['keyID', 7n, wire7[0]]]);
  dec.close();
  s = dec.stats;
  assert.deepEqual([s.buffered, s.droppedFromBuffer.closed, s.dropped, s.errors], [0, 2, 4, 2]);
  assert.equal(events.length, 1, 'no event for the frames dropped at close');
  checkSums(s);
  // Closing the writable (the stream's end) drops what waits the same way.
  const dec2 = new SFrameDecryptorStream({ cipherSuite: GCM });
  const d2 = open(dec2);
  await d2.write(wire8[0]);
  await d2.writer.close();
  assert.deepEqual([dec2.stats.buffered, dec2.stats.droppedFromBuffer.closed, dec2.closed], [0, 1, true]);
});

test('frames dropped from the buffer are freed (the JS objects are garbage-collected)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const key = freshKey();
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 2 } });
  const d = open(dec);
  const refs = [];
  // No variable of this async function may hold a frame (its context would keep it alive).
  const writeOne = (b) => {
    const f = new FakeEncodedFrame(b, 'video/VP9');
    refs.push(new WeakRef(f));
    return d.writer.write(f);
  };
  for (const b of await seal(key, 7, Array.from({ length: 10 }, (_, i) => plain(20_000, i)))) {
    await writeOne(b);
  }
  // The event of the run holds its first frame until the listener is done; none here.
  await ticks();
  gc();
  await ticks();
  gc();
  const alive = refs.map((r) => r.deref() !== undefined);
  assert.deepEqual(alive.slice(8), [true, true], 'the two waiting are kept');
  assert.deepEqual(alive.slice(0, 8), Array(8).fill(false), 'the eight dropped are freed');
  assert.equal(dec.stats.droppedFromBuffer.overflow, 8);
  dec.close();
  await ticks();
  gc();
  await ticks();
  gc();
  assert.deepEqual(refs.map((r) => r.deref() !== undefined), Array(10).fill(false), 'close frees them all');
});

test('hostile KIDs: frames under KIDs that never get a key cannot grow the buffer beyond its bounds', async () => {
  const maxBytes = 64 * 1024;
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxBytes } });
  const d = open(dec);
  const key = freshKey();
  const [genuine] = await seal(key, 7, [plain(900, 7)]);
  await d.write(genuine);
  let maxBuffered = 0;
  const n = 3000;
  let sizes = 0;
  for (let i = 0; i < n; i++) {
    // A fresh random 64-bit KID each time, frames of 900..1100 bytes.
    const kid = BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 52)) * 4099n + BigInt(i));
    const f = hazmatProtectFrame(GCM, kid, 0n, key, plain(900 + (i % 200), i));
    sizes += f.length;
    await d.writer.write(f);
    maxBuffered = Math.max(maxBuffered, dec.stats.buffered);
  }
  await ticks();
  const s = dec.stats;
  // At most maxBytes of frames of ≥ 900 bytes wait (and never more than maxFrames).
  assert.ok(maxBuffered <= Math.floor(maxBytes / 900), `buffered up to ${maxBuffered}`);
  assert.ok(maxBuffered > 50, 'the buffer did fill');
  assert.equal(s.buffered + s.droppedFromBuffer.overflow, n + 1);
  // Oldest first: the genuine frame was pushed out long ago (documented: no fairness between
  // KIDs — one buffer per decryptor, i.e. per received track, bounds what a sender can do).
  await dec.addDecryptionKey(key, 7);
  assert.deepEqual(d.out, []);
  assert.ok(sizes > 40 * maxBytes);
  checkSums(dec.stats);
  dec.close();
});

test('keyWait option: WebIDL-style conversion, defaults, bounds', () => {
  for (const keyWait of [{ maxFrames: -1 }, { maxBytes: NaN }, { maxAgeMs: Infinity }, { maxFrames: 'x' }, 5]) {
    assert.throws(() => new SFrameDecryptorStream({ cipherSuite: GCM, keyWait }), TypeError, JSON.stringify(keyWait));
    assert.throws(() => new SFrameTransform({ role: 'decrypt', cipherSuite: GCM, keyWait }), TypeError);
  }
  assert.equal(keyWaitCapacity(), 256);
  assert.throws(() => new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 257 } }), RangeError);
  // Accepted: fractions truncated, strings converted, 0 turns waiting off, capacity allowed.
  for (const keyWait of [{ maxFrames: 2.7 }, { maxFrames: '3', maxAgeMs: 0 }, { maxFrames: 0 }, { maxFrames: 256 }, {}]) {
    new SFrameDecryptorStream({ cipherSuite: GCM, keyWait }).close();
  }
  // Encryptors ignore it (a bad one is still refused by the spec's options conversion).
  new SFrameEncryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 1 } }).close();
});

test('RTCRtpSFrameDecryptor (main thread → worker): frames before the key reach the decoder once it is added', async () => {
  const restore = withFakeBrowser();
  _setWorkerFactory(() => new FakeWorker());
  try {
    const raw = freshKey();
    const vp8 = (n, fill) => {
      const b = plain(n, fill);
      b[0] = 0x31; // VP8 delta frame: 3 clear bytes
      return new FakeEncodedFrame(b, 'video/VP8');
    };
    const enc = new RTCRtpSFrameEncryptor({ cipherSuite: GCM });
    await enc.setEncryptionKey(raw, 5);
    const frames = [vp8(100, 1), vp8(3000, 2), vp8(100, 3)];
    await enc.fake.push(...frames);
    const dec = new RTCRtpSFrameDecryptor({ cipherSuite: GCM, keyWait: { maxAgeMs: 5000 } });
    assert.deepEqual(dec.fake.options.sframeWasm.options.keyWait, { maxFrames: 256, maxBytes: 4194304, maxAgeMs: 5000 });
    const events = [];
    dec.onerror = (e) => events.push(e);
    await dec.fake.push(...enc.fake.sent);
    await settle();
    assert.deepEqual(dec.fake.sent, []);
    assert.equal((await dec.getStats()).buffered, 3);
    await dec.addDecryptionKey(raw, 5);
    await settle();
    assert.deepEqual(dec.fake.sent.map(bytesOf), frames.map(bytesOf));
    const s = await dec.getStats();
    assert.deepEqual([s.releasedFromBuffer, s.buffered, s.framesOut, s.droppedFromBuffer], [3, 0, 3, NONE_DROPPED]);
    assert.deepEqual(events, []);
    // A bad keyWait throws from the constructor, on the main thread.
    assert.throws(() => new RTCRtpSFrameDecryptor({ cipherSuite: GCM, keyWait: { maxFrames: 1000 } }), RangeError);
  } finally {
    restore();
  }
});

test('low level: KeyWaitBuffer (sframe-core keywait, tag-only) and Receiver.hasKeyFor', () => {
  assert.throws(() => new KeyWaitBuffer(0, 100, 10), { name: 'SFrameError', code: 'invalid_config' });
  assert.throws(() => new KeyWaitBuffer(257, 100, 10), { code: 'invalid_config' });
  assert.throws(() => new KeyWaitBuffer(1.5, 100, 10), TypeError);
  const b = new KeyWaitBuffer(3, 100, 50);
  assert.deepEqual(b.limits, { maxFrames: 3, maxBytes: 100, maxAge: 50 });
  assert.deepEqual(b.hold(7n, 0, 30, 0), []);
  assert.deepEqual(b.hold(8, 1, 30, 10), []);
  assert.deepEqual(b.hold(7n, 2, 30, 20), []);
  // Over maxBytes (120 > 100): the oldest goes.
  assert.deepEqual(b.hold(9n, 3, 30, 30), [{ tag: 0, keyId: 7n, reason: 'overflow', size: 30, arrival: 0 }]);
  assert.deepEqual(b.hold(9n, 4, 101, 30), [{ tag: 4, keyId: 9n, reason: 'tooBig', size: 101, arrival: 30 }]);
  assert.deepEqual([b.length, b.waitingBytes, b.waitingFor(7n), b.waitingFor(9n)], [3, 90, 1, 1]);
  assert.deepEqual(b.expire(65), [{ tag: 1, keyId: 8n, reason: 'expired', size: 30, arrival: 10 }]);
  assert.deepEqual(b.release(7n), { tag: 2, keyId: 7n, reason: 'released', size: 30, arrival: 20 });
  assert.equal(b.release(7n), null);
  assert.deepEqual(b.dropKeyId(9n).map((f) => [f.tag, f.reason]), [[3, 'removed']]);
  b.hold(1n, 5, 1, 70);
  assert.deepEqual(b.dropAll().map((f) => f.tag), [5]);
  assert.deepEqual(b.stats, {
    held: 5,
    released: 1,
    droppedOverflow: 1,
    droppedExpired: 1,
    droppedTooBig: 1,
    droppedRemoved: 2,
    waiting: 0,
    waitingBytes: 0,
  });
  assert.throws(() => b.hold(1n, -1, 1, 0), TypeError);
  assert.throws(() => b.hold(1n, 1, 1, NaN), TypeError);
  b.free();
  const rx = new Receiver(GCM);
  assert.equal(rx.hasKeyFor(4), false);
  rx.addKey(4, freshKey());
  assert.equal(rx.hasKeyFor(4n), true);
  rx.free();
});

test('low level: random holds, releases, expiries under hostile KIDs — the bounds hold, every tag comes back once', () => {
  const maxFrames = 16;
  const maxBytes = 5000;
  const b = new KeyWaitBuffer(maxFrames, maxBytes, 40);
  const outstanding = new Set();
  const back = (frames) => {
    for (const f of frames) {
      assert.ok(outstanding.delete(f.tag), `tag ${f.tag} reported twice or never held`);
    }
  };
  let now = 0;
  for (let tag = 0; tag < 20000; tag++) {
    now += Math.floor(Math.random() * 3);
    const r = Math.random();
    if (r < 0.7) {
      outstanding.add(tag);
      const kid = r < 0.5 ? BigInt(Math.floor(Math.random() * 2 ** 53)) : BigInt(tag % 4);
      back(b.hold(kid, tag, Math.floor(Math.random() * 1200), now));
    } else if (r < 0.85) {
      const f = b.release(BigInt(tag % 4));
      if (f) back([f]);
    } else if (r < 0.95) {
      back(b.expire(now));
    } else {
      back(b.dropKeyId(BigInt(tag % 4)));
    }
    assert.ok(b.length <= maxFrames && b.waitingBytes <= maxBytes);
    assert.equal(b.length, outstanding.size);
  }
  back(b.dropAll());
  assert.equal(outstanding.size, 0);
  b.free();
});
