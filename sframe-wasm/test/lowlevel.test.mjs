// Low-level API (Sender / Receiver / parseHeader / hazmatProtectFrame) against RFC 9605
// Appendix C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sender,
  Receiver,
  parseHeader,
  cipherSuiteInfo,
  hazmatProtectFrame,
  CIPHER_SUITES,
} from '../js/index.js';
import { hex, toHex, big, vectors } from './helpers.mjs';

/** Asserts fn throws an Error with .code === code; returns it. */
function throwsCode(fn, code, ctor = Error) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ctor, `expected ${ctor.name} with code ${code}, got ${err}`);
  assert.equal(err.code, code);
  return err;
}

test('RFC 9605 C.3: unprotect every vector with the base key', () => {
  assert.equal(vectors.sframe.length, 5);
  for (const v of vectors.sframe) {
    const rx = new Receiver(v.cipher_suite);
    rx.addKey(big(v.kid), hex(v.base_key));
    const pt = rx.unprotect(hex(v.ct), hex(v.metadata));
    assert.equal(toHex(pt), v.pt, `suite ${v.cipher_suite}`);
  }
});

test('RFC 9605 C.3: unprotect with pre-derived sframe_key / sframe_salt', () => {
  for (const v of vectors.sframe) {
    const rx = new Receiver(CIPHER_SUITES[v.cipher_suite - 1]);
    rx.addDerivedKey(big(v.kid), hex(v.sframe_key), hex(v.sframe_salt));
    assert.equal(toHex(rx.unprotect(hex(v.ct), hex(v.metadata))), v.pt);
  }
});

test('RFC 9605 C.3: hazmatProtectFrame makes each vector frame at its counter, again and again', () => {
  for (const v of vectors.sframe) {
    const args = [v.cipher_suite, big(v.kid), big(v.ctr), hex(v.base_key)];
    for (let i = 0; i < 2; i++) {
      assert.equal(toHex(hazmatProtectFrame(...args, hex(v.pt), hex(v.metadata))), v.ct);
    }
    assert.notEqual(toHex(hazmatProtectFrame(...args, hex(v.pt))), v.ct); // metadata is in the AAD
    const next = hazmatProtectFrame(v.cipher_suite, big(v.kid), big(v.ctr) + 1n, hex(v.base_key), hex(v.pt), hex(v.metadata));
    assert.equal(parseHeader(next).counter, big(v.ctr) + 1n);
  }
  throwsCode(() => hazmatProtectFrame(4, 1n, 0n, new Uint8Array(15), new Uint8Array(1)), 'invalid_key');
  throwsCode(() => hazmatProtectFrame(9, 1n, 0n, new Uint8Array(16), new Uint8Array(1)), 'unsupported_cipher_suite');
  throwsCode(() => hazmatProtectFrame(4, 1n, 0, new Uint8Array(16), new Uint8Array(1)), 'invalid_argument', TypeError);
});

test('RFC 9605 C.3: a Sender set at the vector counter reproduces the ciphertext', () => {
  // The first Sender of this process (test file) to use each vector's key.
  for (const v of vectors.sframe) {
    const tx = new Sender(v.cipher_suite);
    tx.setKeyWithCounter(big(v.kid), hex(v.base_key), big(v.ctr));
    assert.equal(tx.keyId, big(v.kid));
    assert.equal(tx.nextCounter, big(v.ctr));
    assert.equal(toHex(tx.protect(hex(v.pt), hex(v.metadata))), v.ct);
    assert.equal(tx.nextCounter, big(v.ctr) + 1n);
  }
});

test('RFC 9605 C.1: parseHeader decodes all 289 headers', () => {
  assert.equal(vectors.header.length, 289);
  for (const v of vectors.header) {
    const h = parseHeader(hex(v.header));
    assert.equal(h.keyId, big(v.kid));
    assert.equal(h.counter, big(v.ctr));
    assert.equal(h.headerLength, v.header.length / 2);
    assert.equal(typeof h.keyId, 'bigint');
  }
});

test('tampered frames and metadata are rejected with authentication_failed', () => {
  for (const v of vectors.sframe) {
    const rx = new Receiver(v.cipher_suite, { replayWindow: 0 }); // one counter, many tries
    assert.equal(rx.replayWindow, 0);
    rx.addKey(big(v.kid), hex(v.base_key));
    const ct = hex(v.ct);
    const headerLen = parseHeader(ct).headerLength;
    for (let i = headerLen; i < ct.length; i++) {
      const bad = ct.slice();
      bad[i] ^= 0x01;
      throwsCode(() => rx.unprotect(bad, hex(v.metadata)), 'authentication_failed');
    }
    const md = hex(v.metadata);
    md[0] ^= 0x80;
    throwsCode(() => rx.unprotect(ct, md), 'authentication_failed');
    throwsCode(() => rx.unprotect(ct), 'authentication_failed'); // metadata omitted
    // The untouched frame still opens: failures changed nothing.
    assert.equal(toHex(rx.unprotect(ct, hex(v.metadata))), v.pt);
  }
});

test('round trip in every suite, 64-bit key IDs, replay rejected', () => {
  for (const name of CIPHER_SUITES) {
    const kid = (1n << 64n) - 1n;
    const tx = new Sender(name);
    const rx = new Receiver(name);
    const key = new Uint8Array(32).fill(7);
    tx.setKey(kid, key);
    rx.addKey(kid, key.buffer); // an ArrayBuffer works too
    const frame = new Uint8Array(1200).map((_, i) => i & 0xff);
    const md = new Uint8Array([0x9d, 0x01, 0x2a]);
    const ct = tx.protect(frame, md);
    assert.equal(ct.length, 1200 + parseHeader(ct).headerLength + cipherSuiteInfo(name).tagLength);
    assert.equal(parseHeader(ct).keyId, kid);
    assert.deepEqual(rx.unprotect(ct, md), frame);
    throwsCode(() => rx.unprotect(ct, md), 'replay');
  }
});

test('errors carry stable codes', () => {
  const rx = new Receiver(4);
  rx.addKey(1, new Uint8Array(16));
  const tx = new Sender(4);
  throwsCode(() => tx.protect(new Uint8Array(3)), 'no_key');
  tx.setKey(2, new Uint8Array(16));
  throwsCode(() => rx.unprotect(tx.protect(new Uint8Array(3))), 'unknown_key_id');
  throwsCode(() => rx.unprotect(new Uint8Array([0x08])), 'malformed_frame');
  throwsCode(() => rx.unprotect(new Uint8Array(0)), 'malformed_frame');
  throwsCode(() => rx.addKey(1, new Uint8Array(15)), 'invalid_key');
  throwsCode(() => new Sender(9), 'unsupported_cipher_suite');
  throwsCode(() => new Sender(0), 'unsupported_cipher_suite');
  throwsCode(() => new Sender('AES_999'), 'unsupported_cipher_suite');
  throwsCode(() => new Receiver(1, { replayWindow: 5000 }), 'invalid_config');
  throwsCode(() => new Receiver(1, { replayWindow: -1 }), 'invalid_argument', TypeError);
  assert.equal(new Receiver(1).replayWindow, 512);
  assert.equal(new Receiver(4, {}).maxOutputLength(100), 100 - 1 - 16); // GCM: 16-byte tag
  // A salt or derived key of the wrong length is invalid_length (not "invalid base key").
  throwsCode(() => rx.addDerivedKey(1, new Uint8Array(16), new Uint8Array(11)), 'invalid_length');
  throwsCode(() => rx.addDerivedKey(1, new Uint8Array(15), new Uint8Array(12)), 'invalid_length');
  throwsCode(() => tx.setDerivedKey(3, new Uint8Array(32), new Uint8Array(12)), 'invalid_length');
  const e = throwsCode(() => rx.unprotect(new Uint8Array([0x08])), 'malformed_frame');
  assert.equal(e.name, 'SFrameError');
  // Argument errors: TypeError / RangeError with code invalid_argument.
  throwsCode(() => rx.addKey(-1, new Uint8Array(16)), 'invalid_argument', RangeError);
  throwsCode(() => rx.addKey(1n << 64n, new Uint8Array(16)), 'invalid_argument', RangeError);
  throwsCode(() => rx.addKey(2 ** 53, new Uint8Array(16)), 'invalid_argument', RangeError);
  throwsCode(() => rx.addKey(1.5, new Uint8Array(16)), 'invalid_argument', RangeError);
  throwsCode(() => rx.addKey('1', new Uint8Array(16)), 'invalid_argument', TypeError);
  throwsCode(() => rx.addKey(1, 'a string key'), 'invalid_argument', TypeError);
  throwsCode(() => rx.unprotect(null), 'invalid_argument', TypeError);
  throwsCode(() => new Receiver({}), 'invalid_argument', TypeError);
});

test('keys: remove, has, replace', () => {
  const rx = new Receiver('AES_128_GCM_SHA256_128');
  assert.equal(rx.keyCount, 0);
  rx.addKey(5n, new Uint8Array(16).fill(1));
  assert.equal(rx.hasKey(5), true);
  assert.equal(rx.keyCount, 1);
  const tx = new Sender(4);
  tx.setKey(5, new Uint8Array(16).fill(2));
  const ct = tx.protect(new Uint8Array([1, 2, 3]));
  throwsCode(() => rx.unprotect(ct), 'authentication_failed');
  rx.addKey(5, new Uint8Array(16).fill(2)); // re-adding replaces
  assert.deepEqual(rx.unprotect(ct), new Uint8Array([1, 2, 3]));
  assert.equal(rx.removeKey(5n), true);
  assert.equal(rx.removeKey(5n), false);
  assert.equal(rx.hasKey(5), false);
});

test('no input traps: random and truncated frames only ever throw SFrameError', () => {
  const rx = new Receiver(1);
  rx.addKey(0, new Uint8Array(16));
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let i = 0; i < 3000; i++) {
    const buf = Uint8Array.from({ length: rand() % 64 }, () => rand() & 0xff);
    if (i % 3 === 0 && buf.length) buf[0] &= 0x07; // KID 0 often: reaches the crypto
    for (const f of [() => rx.unprotect(buf), () => parseHeader(buf)]) {
      try {
        f();
      } catch (e) {
        assert.equal(e.name, 'SFrameError', String(e));
      }
    }
  }
  // Still healthy afterwards.
  const tx = new Sender(1);
  tx.setKey(0, new Uint8Array(16));
  assert.deepEqual(rx.unprotect(tx.protect(new Uint8Array([9]))), new Uint8Array([9]));
});

test('cipherSuiteInfo gives RFC 9605 §4.5 sizes', () => {
  assert.deepEqual(cipherSuiteInfo(5), {
    id: 5,
    name: 'AES_256_GCM_SHA512_128',
    keyLength: 32,
    encKeyLength: 32,
    nonceLength: 12,
    tagLength: 16,
    hash: 'SHA-512',
    hashLength: 64,
    maxOverhead: 17 + 16,
    ctrHmac: false,
  });
  assert.equal(cipherSuiteInfo(4).hashLength, 32);
  assert.equal(cipherSuiteInfo('AES_128_CTR_HMAC_SHA256_32').ctrHmac, true);
  assert.equal(cipherSuiteInfo('AES_128_CTR_HMAC_SHA256_32').keyLength, 48);
  assert.equal(cipherSuiteInfo('AES_128_CTR_HMAC_SHA256_32').encKeyLength, 16);
});
