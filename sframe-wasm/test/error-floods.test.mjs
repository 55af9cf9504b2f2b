// W3C issue #307 (error-event floods): a receiver without the key, or with a wrong one, fails
// every frame the same way. The decryptors report each run of identical consecutive failures
// (same errorType, same keyID) once — its first frame — and a decrypted frame ends the run,
// as libwebrtc's native SFrame does (sframe_core::report). The run's length goes into stats
// and, as `previousRun`, onto the next event. (The main-thread RTCRtpSFrameDecryptor gets the
// same from its worker: test/w3c.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SFrameDecryptorStream, SFrameEncryptorStream, SFrameTransform } from '../js/index.js';

const GCM = 'AES_128_GCM_SHA256_128';
let seed = 0x31;
const freshKey = () => new Uint8Array(16).fill(seed++);
const frame = (n, fill) => new Uint8Array(n).fill(fill);

/** Reads everything a transform puts out; `write` writes frames and lets them through. */
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

/** `n` frames protected under `key` / `kid`, sizes cycling through `sizes`. */
async function protectedFrames(key, kid, n, sizes = [60]) {
  const enc = new SFrameEncryptorStream({ cipherSuite: GCM });
  await enc.setEncryptionKey(key, kid);
  const e = open(enc);
  await e.write(...Array.from({ length: n }, (_, i) => frame(sizes[i % sizes.length], i & 0xff)));
  enc.close();
  return e.out;
}

// keyWait off: frames without their key fail at once (the wait is test/keywait.test.mjs's).
const NO_WAIT = { maxFrames: 0 };
const DECRYPTORS = {
  SFrameDecryptorStream: () => new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: NO_WAIT }),
  'SFrameTransform (decrypt)': () => new SFrameTransform({ role: 'decrypt', cipherSuite: GCM, keyWait: NO_WAIT }),
};

for (const [name, make] of Object.entries(DECRYPTORS)) {
  test(`issue #307, ${name}: 60 frames without their key fire one "keyID" event, not 60`, async () => {
    const frames = await protectedFrames(freshKey(), 21, 60);
    const dec = make();
    const events = [];
    dec.addEventListener('error', (e) => events.push(e));
    const d = open(dec);
    await d.write(...frames);
    assert.equal(d.out.length, 0, 'every frame dropped');
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].errorType, events[0].keyID, events[0].previousRun], ['keyID', 21n, null]);
    assert.equal(events[0].frame, frames[0], "the run's first frame, the object written");
    const s = dec.stats;
    assert.deepEqual(
      [s.errors, s.errorEvents, s.errorsSuppressed, s.currentErrorRun, s.lastErrorRun],
      [60, 1, 59, { errorType: 'keyID', keyID: 21n, count: 60 }, null],
    );
    dec.close();
  });
}

test('issue #307: a decrypted frame ends the run; each new run fires once and carries the one before', async () => {
  const key = freshKey();
  const [early, good, ...later] = await protectedFrames(key, 5, 8);
  const [otherKid] = await protectedFrames(freshKey(), 6, 1);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM, keyWait: NO_WAIT });
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  // No key yet: a run of 1.
  await d.write(early);
  await dec.addDecryptionKey(key, 5);
  await d.write(good); // decrypts: the run ends
  assert.equal(d.out.length, 1);
  // The same failure again after a success: reported again.
  await dec.removeDecryptionKey(5);
  await d.write(later[0], later[1]);
  // Wrong key for KID 5: another kind, a new run.
  await dec.addDecryptionKey(freshKey(), 5);
  await d.write(later[2], later[3], later[4]);
  // Another KID without a key: a new run (its truncated copy still names KID 6: the same
  // failure); then garbage (no KID): a new run.
  await d.write(otherKid, otherKid.slice(0, 3), Uint8Array.of(0xff, 0xff), Uint8Array.of(0xff));
  const seen = events.map((e) => [e.errorType, e.keyID, e.previousRun]);
  assert.deepEqual(seen, [
    ['keyID', 5n, null],
    ['keyID', 5n, { errorType: 'keyID', keyID: 5n, count: 1 }],
    ['authentication', 5n, { errorType: 'keyID', keyID: 5n, count: 2 }],
    ['keyID', 6n, { errorType: 'authentication', keyID: 5n, count: 3 }],
    ['syntax', null, { errorType: 'keyID', keyID: 6n, count: 2 }],
  ]);
  const s = dec.stats;
  assert.equal(s.errors, s.errorEvents + s.errorsSuppressed);
  assert.deepEqual([s.errors, s.errorEvents, s.errorsSuppressed], [10, 5, 5]);
  assert.deepEqual(s.currentErrorRun, { errorType: 'syntax', keyID: null, count: 2 });
  assert.deepEqual(s.lastErrorRun, { errorType: 'keyID', keyID: 6n, count: 2 });
  dec.close();
  // Counts stay readable once the stream is closed.
  assert.equal(dec.stats.errorEvents, 5);
});

test('issue #307: one run across the wasm and the WebCrypto paths (small and large frames)', async () => {
  // A key given as bytes has both forms: frames from 1 KiB on are opened by WebCrypto.
  const frames = await protectedFrames(freshKey(), 9, 12, [100, 3000, 40, 5000]);
  const dec = new SFrameDecryptorStream({ cipherSuite: GCM });
  await dec.addDecryptionKey(freshKey(), 9); // the wrong key
  const events = [];
  dec.onerror = (e) => events.push(e);
  const d = open(dec);
  await d.write(...frames);
  assert.equal(events.length, 1);
  assert.deepEqual([events[0].errorType, events[0].keyID], ['authentication', 9n]);
  assert.deepEqual(dec.stats.currentErrorRun, { errorType: 'authentication', keyID: 9n, count: 12 });
  dec.close();
});
