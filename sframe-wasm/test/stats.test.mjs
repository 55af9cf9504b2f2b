// The frame counters of encryptors and decryptors (SFrameStats / SFrameDecryptorStats in
// index.d.ts): frames and bytes in and out, failures by errorType, replays, the error runs,
// and per installed key the wasm Receiver's counters. RTCRtpSFrameDecryptor.getStats() is the
// same object from the worker (test/w3c.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SFrameDecryptorStream, SFrameEncryptorStream, SFrameTransform } from '../js/index.js';

const GCM = 'AES_128_GCM_SHA256_128';
let seed = 0x71;
const freshKey = () => new Uint8Array(16).fill(seed++);
const frame = (n, fill) => new Uint8Array(n).fill(fill);
const sum = (frames) => frames.reduce((n, f) => n + f.byteLength, 0);

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
    async write(...frames) {
      for (const f of frames) await writer.write(f);
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
    },
  };
}

/** Protected frames under `key` / `kid`. */
async function seal(key, kid, plains) {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM });
  await enc.setEncryptionKey(key, kid);
  const e = open(enc);
  await e.write(...plains.map((p) => p.slice()));
  enc.close();
  return e.out;
}

/** The identities every SFrameStats keeps. */
function checkSums(s) {
  assert.equal(s.frames, s.framesOut + s.dropped + (s.buffered ?? 0), 'frames = framesOut + dropped + buffered');
  assert.equal(s.dropped, s.droppedNoKey + s.replayed + s.errors, 'dropped = droppedNoKey + replayed + errors');
  assert.equal(s.failures.authentication + s.failures.keyID + s.failures.syntax, s.errors, 'failures add up to errors');
  if ('errorEvents' in s) assert.equal(s.errorEvents + s.errorsSuppressed, s.errors, 'events + suppressed = errors');
}

test('decryptor: frames and bytes in and out, failures by type, replays, runs, per key', async () => {
  const k1 = freshKey();
  const plains = [frame(100, 1), frame(200, 2), frame(300, 3)];
  const [a, b, c] = await seal(k1, 1, plains);
  const [x] = await seal(freshKey(), 2, [frame(50, 4)]); // KID 2: no key for it here
  // keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's).
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: { maxFrames: 0 } });
  await dec.addDecryptionKey(k1, 1);
  const d = open(dec);
  const tampered = b.slice();
  tampered[tampered.length - 1] ^= 1;
  // a, tampered b (authentication), b, replayed a, an empty frame, x (keyID), garbage (syntax),
  // a chunk that is no frame at all (syntax), c.
  const written = [a, tampered, b, a, new Uint8Array(0), x, Uint8Array.of(0xff), 'not a frame', c];
  await d.write(...written);
  assert.deepEqual(d.out.map((f) => f.length), [100, 200, 0, 300]);
  const s = dec.stats;
  checkSums(s);
  assert.deepEqual(
    {
      frames: s.frames,
      framesOut: s.framesOut,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      passedThrough: s.passedThrough,
      dropped: s.dropped,
      replayed: s.replayed,
      errors: s.errors,
      failures: s.failures,
    },
    {
      frames: 9,
      framesOut: 4,
      bytesIn: sum(written.filter((f) => typeof f !== 'string')), // a non-frame has no bytes
      bytesOut: 100 + 200 + 300,
      passedThrough: 1,
      dropped: 5,
      replayed: 1,
      errors: 4,
      failures: { authentication: 1, keyID: 1, syntax: 2 },
    },
  );
  // Runs: the auth failure (ended by b), then keyID (KID 2), then syntax twice in a row — the
  // non-frame chunk has no KID either: the same run.
  assert.deepEqual([s.errorEvents, s.errorsSuppressed], [3, 1]);
  assert.equal(s.currentErrorRun, null, 'c decrypted');
  assert.deepEqual(s.lastErrorRun, { errorType: 'syntax', keyID: null, count: 2 });
  assert.deepEqual(s.keys, [{ keyID: 1n, frames: 3, authenticationFailures: 1, highestCounter: 2n }]);
  dec.close();
});

test('decryptor keys: one entry per installed key; removal, a new key under a KID, the same key again', async () => {
  const k1 = freshKey();
  const k3 = freshKey();
  const [a1, a2] = await seal(k1, 1, [frame(10, 1), frame(10, 2)]);
  const [c1] = await seal(k3, 3, [frame(10, 3)]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  assert.deepEqual(dec.stats.keys, []);
  await dec.addDecryptionKey(k3, 3);
  await dec.addDecryptionKey(k1, 1);
  const d = open(dec);
  await d.write(a1, c1);
  const none = { authenticationFailures: 0 };
  assert.deepEqual(dec.stats.keys, [
    { keyID: 3n, frames: 1, ...none, highestCounter: 0n },
    { keyID: 1n, frames: 1, ...none, highestCounter: 0n },
  ]);
  // The same key again keeps its counts (and replay window); another key under KID 3 starts
  // from 0; a removed key is gone.
  await dec.addDecryptionKey(k1, 1);
  await dec.addDecryptionKey(freshKey(), 3);
  await d.write(a2);
  assert.deepEqual(dec.stats.keys, [
    { keyID: 3n, frames: 0, ...none, highestCounter: null },
    { keyID: 1n, frames: 2, ...none, highestCounter: 1n },
  ]);
  await dec.removeDecryptionKey(3);
  await dec.removeDecryptionKey(99); // never installed: nothing changes
  const before = dec.stats.keys;
  assert.deepEqual(before, [{ keyID: 1n, frames: 2, ...none, highestCounter: 1n }]);
  // A refused key adds no entry.
  await assert.rejects(dec.addDecryptionKey(new Uint8Array(4), 4), { name: 'InvalidModificationError' });
  assert.deepEqual(dec.stats.keys, before);
  // Closed: the Receiver is freed (keys zeroized); its counts stay readable.
  dec.close();
  assert.deepEqual(dec.stats.keys, before);
  assert.equal(dec.stats.frames, 3);
});

test('encryptor: bytes in and out, failures by type ("syntax": too short for its codec layout)', async () => {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM, compatibilityMode: 'vp8' });
  const e = open(enc);
  await e.write(frame(30, 0)); // before the key: droppedNoKey, not an error
  await enc.setEncryptionKey(freshKey(), 8);
  // A VP8 key frame (tag bit 0 = 0) keeps 10 bytes clear: 5 bytes are too short.
  await e.write(frame(5, 0), frame(64, 0), frame(40, 1));
  const s = enc.stats;
  checkSums(s);
  assert.deepEqual(
    [s.frames, s.framesOut, s.bytesIn, s.bytesOut, s.droppedNoKey, s.errors, s.failures],
    [4, 2, 30 + 5 + 64 + 40, sum(e.out), 1, 1, { authentication: 0, keyID: 0, syntax: 1 }],
  );
  assert.equal('keys' in s, false, 'encryptors have no per-key entries');
  assert.equal('errorEvents' in s, false, 'nor error runs (they fire no events)');
  enc.close();
});

test('stats are a copy: changing one changes nothing', async () => {
  const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: GCM });
  const s = dec.stats;
  s.frames = 99;
  s.failures.syntax = 99;
  assert.equal(dec.stats.frames, 0);
  assert.equal(dec.stats.failures.syntax, 0);
  checkSums(dec.stats);
  dec.close();
});
