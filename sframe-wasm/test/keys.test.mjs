// WebCrypto key path: RFC 9605 §4.4.2 derived inside WebCrypto from a non-extractable HKDF key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Receiver,
  cipherSuiteInfo,
  derivationLabel,
  normalizeKeyId,
  resolveKey,
} from '../js/index.js';
import { hex, toHex, big, vectors } from './helpers.mjs';

test('derivation labels match the RFC vectors', () => {
  for (const v of vectors.sframe) {
    assert.equal(toHex(derivationLabel('key', big(v.kid), v.cipher_suite)), v.sframe_key_label);
    assert.equal(toHex(derivationLabel('salt', big(v.kid), v.cipher_suite)), v.sframe_salt_label);
  }
});

test('non-extractable HKDF CryptoKey: deriveBits gives the RFC sframe_key / sframe_salt', async () => {
  for (const v of vectors.sframe) {
    const key = await crypto.subtle.importKey('raw', hex(v.base_key), 'HKDF', false, ['deriveBits']);
    assert.equal(key.extractable, false);
    const r = await resolveKey(key, big(v.kid), cipherSuiteInfo(v.cipher_suite));
    assert.equal(r.baseKey, undefined);
    assert.equal(toHex(r.sframeKey), v.sframe_key, `suite ${v.cipher_suite}`);
    assert.equal(toHex(r.sframeSalt), v.sframe_salt);
    // ...and those open the vector's frame.
    const rx = new Receiver(v.cipher_suite);
    rx.addDerivedKey(big(v.kid), r.sframeKey, r.sframeSalt);
    assert.equal(toHex(rx.unprotect(hex(v.ct), hex(v.metadata))), v.pt);
  }
});

test('extractable keys are exported raw; bytes are copied; others refused', async () => {
  const raw = hex('000102030405060708090a0b0c0d0e0f');
  const suite = cipherSuiteInfo(4);
  const aes = await crypto.subtle.importKey('raw', raw, 'AES-GCM', true, ['encrypt']);
  assert.equal(toHex((await resolveKey(aes, 1n, suite)).baseKey), toHex(raw));
  const fromBytes = await resolveKey(raw, 1n, suite);
  raw[0] = 0xff; // the copy is independent of the caller's buffer
  assert.equal(toHex(fromBytes.baseKey), '000102030405060708090a0b0c0d0e0f');
  const locked = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  await assert.rejects(resolveKey(locked, 1n, suite), TypeError);
  await assert.rejects(resolveKey('secret', 1n, suite), TypeError);
});

test('CryptoKeyID: numbers up to 2^53-1, bigints up to 2^64-1', () => {
  assert.equal(normalizeKeyId(undefined), 0n);
  assert.equal(normalizeKeyId(7), 7n);
  assert.equal(normalizeKeyId(Number.MAX_SAFE_INTEGER), 2n ** 53n - 1n);
  assert.equal(normalizeKeyId(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.throws(() => normalizeKeyId(2 ** 53), RangeError);
  assert.throws(() => normalizeKeyId(-1), RangeError);
  assert.throws(() => normalizeKeyId(2n ** 64n), RangeError);
  assert.throws(() => normalizeKeyId(-1n), RangeError);
  assert.throws(() => normalizeKeyId('3'), TypeError);
});
