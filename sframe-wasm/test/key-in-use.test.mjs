// One key per encryptor: two encryptors of one JS realm given the same key and KID would each
// count from 0 and repeat every (key, nonce) pair. sframe-core's key registry (its `std`
// feature; one per wasm instance) refuses the second live Sender ("key_in_use"); all
// transforms of the realm share one wasm instance, so it sees them all. The app learns it
// twice: a rejected setEncryptionKey promise and an "error" event on the transform — never
// silently. A closed encryptor's key, given to a new one, resumes its counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sender,
  Receiver,
  SFrameTransform,
  SFrameTransformErrorEvent,
  cipherSuiteInfo,
  parseHeader,
  resolveKey,
} from '../js/index.js';

const KEY = new Uint8Array(16).map((_, i) => 0xa0 + i);
const OTHER = new Uint8Array(16).map((_, i) => 0x50 + i);
const SUITE = 'AES_128_GCM_SHA256_128';
const KEY_IN_USE = { name: 'SFrameError', code: 'key_in_use' };

const frame = (n, fill) => new Uint8Array(n).fill(fill);

/** Writes frames into an open transform; returns what came out and the error events. */
function harness(t) {
  const writer = t.writable.getWriter();
  const reader = t.readable.getReader();
  const out = [];
  const events = [];
  t.addEventListener('error', (e) => events.push(e));
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out.push(value);
    }
  })().catch(() => {});
  return {
    out,
    events,
    async write(...frames) {
      const start = out.length;
      for (const f of frames) await writer.write(f);
      await new Promise((r) => setTimeout(r, 0));
      return out.slice(start);
    },
  };
}

const hkdfKey = (bytes) => crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveBits']);

test('a second live encryptor given the same key bytes and KID is refused', async () => {
  const first = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const second = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const a = harness(first);
  const b = harness(second);
  await first.setEncryptionKey(KEY, 7);
  // Same bytes in another buffer, same KID: refused, with a rejected promise…
  await assert.rejects(second.setEncryptionKey(KEY.slice(), 7), KEY_IN_USE);
  // …and an error event.
  assert.equal(b.events.length, 1);
  assert.ok(b.events[0] instanceof SFrameTransformErrorEvent);
  assert.equal(b.events[0].errorType, 'keyID');
  assert.equal(b.events[0].keyID, 7n);
  assert.equal(b.events[0].code, 'key_in_use');
  assert.equal(b.events[0].frame, null);
  // The refused encryptor has no key: frames are dropped, never sent in clear.
  assert.deepEqual(await b.write(frame(40, 1)), []);
  assert.deepEqual(b.events.map((e) => e.code), ['key_in_use', 'no_key']);
  // The first one is unaffected.
  const [f1] = await a.write(frame(40, 2));
  assert.equal(parseHeader(f1).keyId, 7n);
  assert.equal(parseHeader(f1).counter, 0n);
  assert.equal(a.events.length, 0);
  // One KID per sending track: the same key under another KID is another derived key.
  await second.setEncryptionKey(KEY, 8);
  const [f2] = await b.write(frame(40, 3));
  assert.equal(parseHeader(f2).keyId, 8n);
  // Both decrypt with one receiver holding the key under both KIDs.
  const rx = new Receiver(SUITE);
  rx.addKey(7, KEY);
  rx.addKey(8, KEY);
  assert.deepEqual(rx.unprotect(f1), frame(40, 2));
  assert.deepEqual(rx.unprotect(f2), frame(40, 3));
  rx.free();
  first.close();
  second.close();
});

test('non-extractable HKDF CryptoKeys are caught too (derived key fingerprint)', async () => {
  // Two CryptoKey objects of the same bytes: only the WebCrypto-derived key and salt enter
  // wasm (setDerivedKey); the registry compares derived material, so it still sees one key.
  const first = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_256_GCM_SHA512_128' });
  const second = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_256_GCM_SHA512_128' });
  const third = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_256_GCM_SHA512_128' });
  const events = [];
  second.onerror = (e) => events.push(['second', e.code, e.keyID]);
  third.onerror = (e) => events.push(['third', e.code, e.keyID]);
  await first.setEncryptionKey(await hkdfKey(KEY), 2n ** 40n);
  await assert.rejects(second.setEncryptionKey(await hkdfKey(KEY), 2n ** 40n), KEY_IN_USE);
  // Raw bytes against a CryptoKey-derived key: the same RFC 9605 derivation, the same key.
  await assert.rejects(third.setEncryptionKey(KEY, 2n ** 40n), KEY_IN_USE);
  assert.deepEqual(events, [
    ['second', 'key_in_use', 2n ** 40n],
    ['third', 'key_in_use', 2n ** 40n],
  ]);
  // Another key under that KID is fine.
  await second.setEncryptionKey(await hkdfKey(OTHER), 2n ** 40n);
  for (const t of [first, second, third]) t.close();
});

test('once the first encryptor is closed, its key can be used by a new one', async () => {
  for (const end of ['close()', 'writable.abort()', 'readable.cancel()', 'writable.close()']) {
    const first = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
    await first.setEncryptionKey(await hkdfKey(OTHER), 11);
    const second = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
    await assert.rejects(second.setEncryptionKey(OTHER, 11), KEY_IN_USE, end);
    if (end === 'close()') first.close();
    else if (end === 'writable.abort()') await first.writable.abort(new Error('hang up'));
    else if (end === 'readable.cancel()') await first.readable.cancel();
    else {
      const reading = first.readable.getReader().read();
      await first.writable.getWriter().close();
      assert.equal((await reading).done, true);
    }
    assert.equal(first.closed, true, end);
    // The key is free again.
    await second.setEncryptionKey(OTHER, 11);
    second.close();
  }
});

// Security 2, finding 2: a new encrypter given a closed one's key and KID started at counter 0
// again and repeated its nonces. The wasm instance keeps the counter.
test('a new encrypter given a closed encrypter\'s key and KID resumes its counter', async () => {
  const key = new Uint8Array(16).map((_, i) => 0x30 + i);
  const first = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  await first.setEncryptionKey(key, 12);
  const sent = await harness(first).write(frame(20, 1), frame(20, 2));
  assert.deepEqual(sent.map((f) => parseHeader(f).counter), [0n, 1n]);
  first.close();
  const second = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  await second.setEncryptionKey(await hkdfKey(key), 12); // the same key, as a CryptoKey
  const [next] = await harness(second).write(frame(20, 3));
  assert.equal(parseHeader(next).keyId, 12n);
  assert.equal(parseHeader(next).counter, 2n, 'resumed, not restarted at 0');
  second.close();
  // The low-level Sender alike, with its usage: free() leaves the counter to the instance, and
  // a lower explicit counter does not rewind it.
  const a = new Sender(SUITE);
  a.setKey(13, key);
  a.protect(frame(4, 0));
  a.free();
  const b = new Sender(SUITE);
  b.setKey(13, key);
  assert.equal(b.nextCounter, 1n);
  b.setKeyWithCounter(13, key, 0n);
  assert.equal(parseHeader(b.protect(frame(4, 0))).counter, 1n);
  b.free();
});

test('wasm Sender: key_in_use from setKey and setDerivedKey, released by free()', async () => {
  for (const suite of ['AES_128_CTR_HMAC_SHA256_80', 'AES_128_CTR_HMAC_SHA256_32', SUITE]) {
    const info = cipherSuiteInfo(suite);
    const derived = await resolveKey(await hkdfKey(KEY), 5n, info);
    const a = new Sender(suite);
    const b = new Sender(suite);
    a.setKey(5, KEY);
    assert.throws(() => b.setKey(5, KEY), KEY_IN_USE);
    assert.throws(() => b.setKeyWithCounter(5, KEY, 1000n), KEY_IN_USE);
    assert.throws(() => b.setDerivedKey(5, derived.sframeKey, derived.sframeSalt), KEY_IN_USE);
    assert.equal(b.keyId, undefined); // nothing installed
    // Re-supplying the key in force to its own sender changes nothing.
    a.protect(frame(4, 0));
    a.setKey(5, KEY);
    a.setDerivedKey(5, derived.sframeKey, derived.sframeSalt);
    assert.equal(a.nextCounter, 1n);
    // Other KID, or other suite: other derived keys.
    b.setKey(6, KEY);
    const c = new Sender(suite === SUITE ? 'AES_256_GCM_SHA512_128' : SUITE);
    c.setKey(5, KEY);
    // A sender keeps its claim on a key it moved away from (it may go back to it).
    a.setKey(9, OTHER);
    assert.throws(() => b.setKey(5, KEY), KEY_IN_USE);
    a.free();
    b.setKey(5, KEY);
    assert.equal(b.nextCounter, 1n, "resumes where the freed Sender's counter stood");
    b.free();
    c.free();
  }
});

test('decryptors are not limited (many receivers may hold one key)', async () => {
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const decs = [0, 1, 2].map(() => new SFrameTransform({ role: 'decrypt', cipherSuite: SUITE }));
  await enc.setEncryptionKey(KEY, 3);
  for (const d of decs) {
    await d.addDecryptionKey(KEY, 3);
    await d.setEncryptionKey(KEY, 3); // Safari-style alias: adds the same key again (no-op)
  }
  const [wire] = await harness(enc).write(frame(30, 4));
  for (const d of decs) assert.deepEqual(await harness(d).write(wire.slice()), [frame(30, 4)]);
  for (const t of [enc, ...decs]) t.close();
});
