// ssrcBaseKey (js/ssrc-keys.js): the per-SSRC keys of draft-ietf-avtcore-rtp-sframe §7 against
// every vector of test-vectors/rtp-ssrc-keys.json (suites 1-8), through both paths — key bytes
// (sframe-core derives) and a non-extractable HKDF CryptoKey (WebCrypto derives with the
// parameters the core gives) — and each result as the base key of the RFC 9605 §4.4.2 key
// schedule (the vectors' sframe_key / sframe_salt for their KID).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CIPHER_SUITES,
  Receiver,
  Sender,
  cipherSuiteInfo,
  resolveKey,
  ssrcBaseKey,
} from '../js/index.js';
import { ssrcKeyDerivation } from '../pkg/sframe_wasm.js';
import { hex, toHex } from './helpers.mjs';

const { ssrc_keys: VECTORS } = JSON.parse(
  readFileSync(new URL('../../test-vectors/rtp-ssrc-keys.json', import.meta.url), 'utf8'),
);

const hkdfKey = (bytes, usages = ['deriveBits', 'deriveKey']) =>
  crypto.subtle.importKey('raw', bytes, 'HKDF', false, usages);

test('the vectors cover every suite the core has, each with several SSRCs', () => {
  const suites = new Set(VECTORS.map((v) => v.cipher_suite));
  assert.deepEqual([...suites].sort((a, b) => a - b), CIPHER_SUITES.map((_, i) => i + 1));
  for (const s of suites) assert.ok(VECTORS.filter((v) => v.cipher_suite === s).length >= 4, `suite ${s}`);
  assert.ok(VECTORS.some((v) => v.ssrc === 0) && VECTORS.some((v) => v.ssrc === 0xffffffff));
});

test('key bytes: every vector, incl. suites 6 and 8, is the core\'s per-SSRC key', async () => {
  for (const v of VECTORS) {
    const suite = cipherSuiteInfo(v.cipher_suite);
    const base = hex(v.base_key);
    const key = await ssrcBaseKey(v.cipher_suite, base, v.ssrc);
    assert.ok(key instanceof Uint8Array);
    assert.equal(key.length, suite.hashLength);
    assert.equal(toHex(key), v.ssrc_key, `suite ${v.cipher_suite} SSRC ${v.ssrc}`);
    assert.equal(toHex(base), v.base_key, 'the input is not touched');
    // By name too.
    assert.equal(toHex(await ssrcBaseKey(suite.name, base, v.ssrc)), v.ssrc_key);
    // As the stream's base key: a Sender on it and a Receiver given the vector's §4.4.2
    // sframe_key / sframe_salt for its KID understand each other.
    const tx = new Sender(v.cipher_suite);
    const rx = new Receiver(v.cipher_suite);
    tx.setKey(BigInt(v.kid), key);
    rx.addDerivedKey(BigInt(v.kid), hex(v.sframe_key), hex(v.sframe_salt));
    const frame = new TextEncoder().encode(`SSRC ${v.ssrc}`);
    assert.deepEqual(rx.unprotect(tx.protect(frame)), frame);
    tx.free();
    rx.free();
  }
});

test('HKDF CryptoKey: every vector, through WebCrypto, to a non-extractable HKDF key', async () => {
  for (const v of VECTORS) {
    const suite = cipherSuiteInfo(v.cipher_suite);
    const key = await ssrcBaseKey(v.cipher_suite, await hkdfKey(hex(v.base_key)), v.ssrc);
    assert.ok(key instanceof CryptoKey);
    assert.equal(key.algorithm.name, 'HKDF');
    assert.equal(key.extractable, false);
    assert.deepEqual([...key.usages].sort(), ['deriveBits', 'deriveKey']);
    // Its value: the §4.4.2 schedule on it (WebCrypto, js/keys.js) gives the vector's
    // sframe_key and sframe_salt.
    const derived = await resolveKey(key, BigInt(v.kid), suite);
    assert.equal(toHex(derived.sframeKey), v.sframe_key, `suite ${v.cipher_suite} SSRC ${v.ssrc}`);
    assert.equal(toHex(derived.sframeSalt), v.sframe_salt);
    // A deriveBits-only HKDF key is enough as input.
    const bitsOnly = await ssrcBaseKey(suite.id, await hkdfKey(hex(v.base_key), ['deriveBits']), v.ssrc);
    const again = await resolveKey(bitsOnly, BigInt(v.kid), suite);
    assert.equal(toHex(again.sframeKey), v.sframe_key);
  }
});

test("the WebCrypto parameters are the core's: salt BE32(SSRC), the §7 label, Nh", () => {
  for (const v of VECTORS) {
    const d = ssrcKeyDerivation(v.cipher_suite, v.ssrc);
    const suite = cipherSuiteInfo(v.cipher_suite);
    assert.equal(d.hash, suite.hash);
    assert.equal(toHex(d.salt), v.salt);
    assert.equal(toHex(d.info), v.info);
    assert.equal(new TextDecoder().decode(d.info), 'SFrame 1.0 RTP Stream');
    assert.equal(d.length, suite.hashLength);
    assert.equal(d.length, v.ssrc_key.length / 2);
  }
  assert.deepEqual(
    CIPHER_SUITES.map((name) => cipherSuiteInfo(name).hashLength),
    [32, 32, 32, 32, 64, 64, 64, 64],
  );
});

test('bad SSRCs, keys and suites are refused on both paths', async () => {
  const bytes = new Uint8Array(16);
  const hkdf = await hkdfKey(bytes);
  for (const key of [bytes, hkdf]) {
    for (const ssrc of [-1, 2 ** 32, 1.5, NaN]) {
      await assert.rejects(ssrcBaseKey(4, key, ssrc), (e) => e instanceof RangeError && e.code === 'invalid_argument');
    }
    for (const ssrc of ['1', 1n, undefined]) {
      await assert.rejects(ssrcBaseKey(4, key, ssrc), (e) => e instanceof TypeError && e.code === 'invalid_argument');
    }
    await assert.rejects(ssrcBaseKey(9, key, 1), (e) => e.name === 'SFrameError' && e.code === 'unsupported_cipher_suite');
  }
  await assert.rejects(ssrcBaseKey(4, new Uint8Array(15), 1), (e) => e.code === 'invalid_key');
  await assert.rejects(ssrcBaseKey(4, 'key', 1), TypeError);
  const aes = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']);
  await assert.rejects(ssrcBaseKey(4, aes, 1), TypeError);
  const deriveKeyOnly = await hkdfKey(bytes, ['deriveKey']);
  await assert.rejects(ssrcBaseKey(4, deriveKeyOnly, 1), TypeError);
});

test('distinct SSRCs give distinct keys; the same SSRC the same key', async () => {
  const base = crypto.getRandomValues(new Uint8Array(32));
  const a = await ssrcBaseKey(5, base, 1);
  const b = await ssrcBaseKey(5, base, 2);
  assert.notEqual(toHex(a), toHex(b));
  assert.equal(toHex(await ssrcBaseKey(5, base, 1)), toHex(a));
  // ArrayBuffer and other views of the same bytes.
  assert.equal(toHex(await ssrcBaseKey(5, base.buffer, 1)), toHex(a));
  assert.equal(toHex(await ssrcBaseKey(5, new DataView(base.buffer), 1)), toHex(a));
});
