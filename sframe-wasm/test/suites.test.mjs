// Cipher suites 1-8 (RFC 9605 §4.5 and draft-barnes-sframe-iana-256's AES-256-CTR +
// HMAC-SHA512 suites 6-8) through every layer of the package: the suite tables come from the
// wasm module, the vectors open through the low-level API and through WebCrypto's HKDF with a
// non-extractable key, and every suite round-trips through Sender/Receiver and the streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CIPHER_SUITES,
  Receiver,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  SFrameTransform,
  Sender,
  cipherSuiteInfo,
  cipherSuites,
  derivationLabel,
  hazmatProtectFrame,
  parseHeader,
  resolveKey,
} from '../js/index.js';
import { allSuiteVectors, big, hex, iana256, toHex } from './helpers.mjs';

test('suite list comes from the core: 8 suites, HKDF hash and sizes per suite', () => {
  const list = cipherSuites();
  assert.deepEqual(list.map((s) => s.id), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(CIPHER_SUITES, list.map((s) => s.name));
  assert.ok(Object.isFrozen(CIPHER_SUITES));
  const byName = Object.fromEntries(list.map((s) => [s.name, s]));
  for (const n of [6, 7, 8]) {
    const s = list[n - 1];
    assert.match(s.name, /^AES_256_CTR_HMAC_SHA512_(80|64|32)$/);
    assert.equal(s.hash, 'SHA-512');
    assert.equal(s.keyLength, 96); // 32-byte AES key ‖ 64-byte HMAC key
    assert.equal(s.encKeyLength, 32);
    assert.equal(s.tagLength, { 6: 10, 7: 8, 8: 4 }[n]);
  }
  assert.equal(byName.AES_256_GCM_SHA512_128.hash, 'SHA-512');
  for (const n of [1, 2, 3, 4]) assert.equal(list[n - 1].hash, 'SHA-256');
  for (const s of list) {
    assert.deepEqual(cipherSuiteInfo(s.name), s);
    assert.deepEqual(cipherSuiteInfo(s.id), s);
  }
  assert.throws(() => cipherSuiteInfo(9), { code: 'unsupported_cipher_suite' });
});

test('iana-256 vectors (suites 6-8): unprotect with base key and with derived key; protect at the counter', () => {
  assert.deepEqual(iana256.sframe.map((v) => v.cipher_suite), [6, 7, 8]);
  for (const v of iana256.sframe) {
    const rx = new Receiver(v.cipher_suite);
    rx.addKey(big(v.kid), hex(v.base_key));
    // A flipped tag bit fails (checked first: once the frame opened, its counter is a replay).
    const bad = hex(v.ct);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => rx.unprotect(bad, hex(v.metadata)), { code: 'authentication_failed' });
    assert.equal(toHex(rx.unprotect(hex(v.ct), hex(v.metadata))), v.pt, `suite ${v.cipher_suite}`);
    const derived = new Receiver(CIPHER_SUITES[v.cipher_suite - 1]);
    derived.addDerivedKey(big(v.kid), hex(v.sframe_key), hex(v.sframe_salt));
    assert.equal(toHex(derived.unprotect(hex(v.ct), hex(v.metadata))), v.pt);
    // The frame at the vector's counter, with no state (again: the same bytes).
    for (let i = 0; i < 2; i++) {
      const ct = hazmatProtectFrame(v.cipher_suite, big(v.kid), big(v.ctr), hex(v.base_key), hex(v.pt), hex(v.metadata));
      assert.equal(toHex(ct), v.ct);
    }
  }
});

test('WebCrypto path, suites 1-8: a non-extractable HKDF key derives sframe_key / sframe_salt (SHA-512 for 5-8)', async () => {
  for (const v of allSuiteVectors) {
    const suite = cipherSuiteInfo(v.cipher_suite);
    assert.equal(toHex(derivationLabel('key', big(v.kid), v.cipher_suite)), v.sframe_key_label);
    assert.equal(toHex(derivationLabel('salt', big(v.kid), v.cipher_suite)), v.sframe_salt_label);
    const key = await crypto.subtle.importKey('raw', hex(v.base_key), 'HKDF', false, ['deriveBits']);
    const r = /** @type {{ sframeKey: Uint8Array, sframeSalt: Uint8Array }} */ (
      await resolveKey(key, big(v.kid), suite)
    );
    assert.equal(r.sframeKey.length, suite.keyLength);
    assert.equal(toHex(r.sframeKey), v.sframe_key, `suite ${v.cipher_suite} sframe_key`);
    assert.equal(toHex(r.sframeSalt), v.sframe_salt, `suite ${v.cipher_suite} sframe_salt`);
    const rx = new Receiver(v.cipher_suite);
    rx.addDerivedKey(big(v.kid), r.sframeKey, r.sframeSalt);
    assert.equal(toHex(rx.unprotect(hex(v.ct), hex(v.metadata))), v.pt);
    rx.free();
  }
});

test('every suite round-trips through Sender / Receiver, with metadata; tampering fails', () => {
  for (const { id, name, tagLength } of cipherSuites()) {
    const base = crypto.getRandomValues(new Uint8Array(32));
    const tx = new Sender(name);
    const rx = new Receiver(id);
    tx.setKey(1000 + id, base);
    rx.addKey(1000 + id, base);
    for (const len of [0, 1, 15, 16, 17, 1200]) {
      const pt = crypto.getRandomValues(new Uint8Array(len));
      const meta = Uint8Array.of(id, len & 0xff);
      const ct = tx.protect(pt, meta);
      const { headerLength } = parseHeader(ct);
      assert.equal(ct.length, headerLength + len + tagLength, `${name} overhead`);
      const bad = ct.slice();
      bad[bad.length - 1] ^= 0x80;
      assert.throws(() => rx.unprotect(bad, meta), { code: 'authentication_failed' });
      assert.throws(() => rx.unprotect(ct, meta.subarray(1)), { code: 'authentication_failed' });
      assert.deepEqual(rx.unprotect(ct, meta), pt, `${name} length ${len}`);
    }
    tx.free();
    rx.free();
  }
});

/** Pipes frames through a transform (and closes it); returns what came out. */
async function pipe(transform, frames) {
  const out = [];
  await new ReadableStream({
    start(c) {
      for (const f of frames) c.enqueue(f);
      c.close();
    },
  })
    .pipeThrough(transform)
    .pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
  return out;
}

test('every suite round-trips through SFrameTransform and the encryptor/decryptor streams', async () => {
  for (const { id, name } of cipherSuites()) {
    const raw = crypto.getRandomValues(new Uint8Array(16));
    const frames = [100, 1, 700].map((n) => crypto.getRandomValues(new Uint8Array(n)));
    // SFrameTransform (compat object), raw key bytes on both sides.
    const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: name });
    const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: id });
    await enc.setEncryptionKey(raw, 5);
    await dec.setEncryptionKey(raw, 5);
    const encrypted = await pipe(enc, frames.map((f) => f.slice()));
    assert.equal(encrypted.length, 3);
    assert.deepEqual(await pipe(dec, encrypted), frames, `${name} via SFrameTransform`);
    // Streams: the encryptor holds a non-extractable HKDF CryptoKey (derived in WebCrypto,
    // SHA-512 for suites 5-8), the decryptor the raw bytes (derived by sframe-core).
    const hkdf = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits']);
    const sEnc = new SFrameEncryptorStream({ cipherSuite: name });
    const sDec = new SFrameDecryptorStream({ cipherSuite: name });
    await sEnc.setEncryptionKey(hkdf, 6);
    await sDec.addDecryptionKey(raw, 6);
    const out = await pipe(sDec, await pipe(sEnc, frames.map((f) => f.slice())));
    assert.deepEqual(out, frames, `${name} via SFrameEncryptorStream / SFrameDecryptorStream`);
  }
});
