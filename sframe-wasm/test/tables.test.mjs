// One copy of the protocol tables: suites, error codes and the §4.4.2 HKDF info
// come from sframe-core through the wasm module; the copies the package must keep (the
// TypeScript unions of suite names, suite ids and error codes) are checked against it here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Receiver,
  Sender,
  cipherSuites,
  derivationInfo,
  derivationLabel,
  errorCodes,
  resolveKey,
} from '../js/index.js';
import { errorCodeOf, errorTypeFor } from '../js/spec.js';
import { allSuiteVectors, big, toHex } from './helpers.mjs';

/** The string literals of `export type <name> = 'a' | 'b' ...;` in index.d.ts, in order. */
function unionOf(name) {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  const m = dts.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(m, `index.d.ts declares ${name}`);
  const withoutComments = m[1].replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...withoutComments.matchAll(/'([^']*)'/g)].map((x) => x[1]);
}

/** Codes the JS layer adds to sframe-core's: they must never collide with a core code. */
const PACKAGE_CODES = ['frame_too_short', 'invalid_argument', 'closed', 'unknown'];

test("index.d.ts's SFrameCipherSuite and CipherSuiteLike are cipherSuites()'s names and ids", () => {
  const suites = cipherSuites();
  assert.deepEqual(unionOf('SFrameCipherSuite'), suites.map((s) => s.name));
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  const like = dts.match(/export type CipherSuiteLike = SFrameCipherSuite((?: \| \d+)+);/);
  assert.ok(like, 'index.d.ts declares CipherSuiteLike as SFrameCipherSuite | ids');
  assert.deepEqual([...like[1].matchAll(/\d+/g)].map((x) => Number(x[0])), suites.map((s) => s.id));
});

test("errorCodes() is sframe-core's list; index.d.ts's SFrameErrorCode is exactly that list", () => {
  const codes = errorCodes();
  assert.ok(codes.length >= 17, `${codes.length} codes`);
  assert.equal(new Set(codes).size, codes.length, 'codes are distinct');
  for (const c of codes) assert.match(c, /^[a-z]+(_[a-z]+)*$/);
  assert.deepEqual(unionOf('SFrameErrorCode'), codes);
  // Stable numbers: a code never moves (the C status of code i is i + 1).
  assert.equal(codes[3], 'authentication_failed');
  assert.equal(codes[13], 'key_in_use');
  assert.deepEqual(codes.slice(15, 19), ['suite_mismatch', 'invalid_length', 'external_key', 'stale_epoch']);
  for (const c of PACKAGE_CODES) assert.ok(!codes.includes(c), `${c} is the package's own code`);
});

test('thrown SFrameErrors carry one of errorCodes(); a wrong salt length is invalid_length', () => {
  const codes = new Set(errorCodes());
  const rx = new Receiver(4);
  const thrown = [];
  for (const call of [
    () => rx.addKey(1, new Uint8Array(15)),
    () => rx.addDerivedKey(1, new Uint8Array(16), new Uint8Array(13)),
    () => rx.unprotect(new Uint8Array([0x08])),
    () => new Receiver(4, { replayWindow: 1 << 20 }),
    () => new Sender(9),
  ]) {
    assert.throws(call, (e) => {
      thrown.push(e.code);
      return e.name === 'SFrameError' && codes.has(e.code);
    });
  }
  assert.deepEqual(thrown, [
    'invalid_key',
    'invalid_length',
    'malformed_frame',
    'invalid_config',
    'unsupported_cipher_suite',
  ]);
});

test('errorCodeOf / errorTypeFor: core codes to the W3C errorType', () => {
  assert.equal(errorCodeOf({ code: 'replay' }), 'replay');
  assert.equal(errorCodeOf(new Error('x')), 'unknown');
  assert.equal(errorCodeOf(null, 'malformed_frame'), 'malformed_frame');
  assert.equal(errorTypeFor('unknown_key_id'), 'keyID');
  assert.equal(errorTypeFor('authentication_failed'), 'authentication');
  assert.equal(errorTypeFor('key_usage_limit'), 'authentication');
  assert.equal(errorTypeFor('malformed_frame'), 'syntax');
  // The codes errorTypeFor singles out exist in the core (tsc checks the literals too).
  for (const c of ['unknown_key_id', 'authentication_failed', 'key_usage_limit']) {
    assert.ok(errorCodes().includes(c), c);
  }
});

test('derivationInfo: the RFC / iana-256 labels for suites 1-8; derivationLabel is the same function', () => {
  for (const v of allSuiteVectors) {
    for (const [which, label] of [['key', v.sframe_key_label], ['salt', v.sframe_salt_label]]) {
      assert.equal(toHex(derivationInfo(which, big(v.kid), v.cipher_suite)), label);
      assert.equal(toHex(derivationLabel(which, big(v.kid), v.cipher_suite)), label);
    }
  }
  assert.throws(() => derivationInfo('nonce', 1n, 4), { code: 'invalid_argument' });
  assert.throws(() => derivationInfo('key', 1n, 9), { code: 'unsupported_cipher_suite' });
});

test("WebCrypto's HKDF with derivationInfo derives the core's keys, for every suite and KIDs up to 2^64-1", async () => {
  const kids = [0n, 1n, 0x1234n, 2n ** 53n + 1n, 2n ** 64n - 1n];
  for (const suite of cipherSuites()) {
    const base = crypto.getRandomValues(new Uint8Array(suite.hash === 'SHA-512' ? 64 : 32));
    const hkdf = await crypto.subtle.importKey('raw', base, 'HKDF', false, ['deriveBits']);
    for (const kid of kids) {
      const info = derivationInfo('salt', kid, suite.id);
      assert.equal(info.length, 33);
      assert.equal(new DataView(info.buffer, info.byteOffset).getBigUint64(23), kid);
      assert.equal(new DataView(info.buffer, info.byteOffset).getUint16(31), suite.id);
      const d = /** @type {{ sframeKey: Uint8Array, sframeSalt: Uint8Array }} */ (
        await resolveKey(hkdf, kid, suite)
      );
      // The sender uses the WebCrypto-derived key and salt, the receiver derives in the core
      // from the base key: the frame opens only if both are the same.
      const tx = new Sender(suite.id);
      tx.setDerivedKey(kid, d.sframeKey, d.sframeSalt);
      const rx = new Receiver(suite.id);
      rx.addKey(kid, base);
      const pt = Uint8Array.of(1, 2, 3, Number(kid & 0xffn));
      assert.deepEqual(rx.unprotect(tx.protect(pt, info), info), pt, `${suite.name} KID ${kid}`);
      tx.free();
      rx.free();
    }
  }
});
