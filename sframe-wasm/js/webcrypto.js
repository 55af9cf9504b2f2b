// @ts-check
// WebCrypto keys and AEAD for the transforms' fast path (pipeline.js): the AES-GCM suites' AEAD
// runs in the browser's WebCrypto (hardware AES; with a non-extractable HKDF base key no AES
// key byte is ever in JS or wasm memory) while header, counters, nonce, AAD, KID lookup, limits
// and replay window stay in sframe-core (Sender.protectExternal, Receiver.unprotectExternal /
// commitExternal / rejectExternal).
//
// RFC 9605 §4.4.2 key schedule, run inside WebCrypto from a non-extractable HKDF base key:
//   sframe_secret = HKDF-Extract("", base_key)
//   sframe_key    = HKDF-Expand(sframe_secret, info(key,  KID, suite), Nk)
//   sframe_salt   = HKDF-Expand(sframe_secret, info(salt, KID, suite), Nn)
// WebCrypto's HKDF is Extract-then-Expand in one call, and a zero-length salt is the RFC's
// empty Extract salt (HMAC pads any key shorter than a block with zeros). The info bytes
// (label ‖ BE64(KID) ‖ BE16(suite)) come from sframe-core (`derivationInfo`), the hash and the
// lengths from `cipherSuiteInfo` — no label, length or hash is typed here.
//   - sframe_key of an AES-GCM suite is the AES key itself (its `encKeyLength` equals its
//     `keyLength`): `deriveKey` makes it a NON-extractable AES-GCM CryptoKey with usages
//     encrypt/decrypt, so its bytes never exist outside WebCrypto.
//   - sframe_salt is not secret key material (XORed with the counter it gives the nonce, which
//     is public in effect): `deriveBits` returns it as bytes, for sframe-core's nonce.
// AES-CTR + HMAC suites are not handled here. Their sframe_key splits (RFC 9605 §4.5.1) into
// enc_key = its first Nka bytes and auth_key = the rest. enc_key, a prefix of the HKDF-Expand
// output, could be a deriveKey'd AES-CTR key (an Expand to Nka bytes is that prefix); auth_key
// sits in the middle of the output, and WebCrypto cannot derive a key from there: a CTR fast
// path would need deriveBits + importKey, i.e. the HMAC key bytes in JS memory. Measured in
// Chromium 156 (bench/README.md), WebCrypto's AES-CTR + HMAC (two awaits per direction) loses
// to wasm at 1200 B and wins only ~2.5x at 10 KiB (69 vs 172 µs for encrypt + decrypt), while
// a CTR fast path would put the HMAC key bytes in JS memory: they stay in wasm.

import { derivationInfo } from './wasm.js';

/** @typedef {import('../index.js').CipherSuiteInfo} CipherSuiteInfo */

/**
 * What deriveWebCryptoKey returns for one (base key, KID, suite).
 * @typedef {{ kid: bigint, suite: CipherSuiteInfo, aesKey: CryptoKey, salt: Uint8Array }} WebCryptoSFrameKey
 */

/**
 * Whether the suite's AEAD can run in WebCrypto: AES-GCM, whose whole sframe_key is the AES
 * key (the core says which suites are CTR + HMAC; those split the key and stay in wasm).
 * @param {CipherSuiteInfo} suite
 */
export function isWebCryptoSuite(suite) {
  return !suite.ctrHmac;
}

/**
 * @param {unknown} key
 * @returns {key is CryptoKey}
 */
export function isCryptoKey(key) {
  return typeof CryptoKey !== 'undefined' && key instanceof CryptoKey;
}

/**
 * Whether `key` can be the base key of the WebCrypto path: an HKDF CryptoKey with usages
 * "deriveKey" (the AES key) and "deriveBits" (the salt). Such a key never needs exporting.
 * @param {unknown} key
 * @returns {key is CryptoKey}
 */
export function isWebCryptoBaseKey(key) {
  return (
    isCryptoKey(key) &&
    key.algorithm?.name === 'HKDF' &&
    key.usages.includes('deriveKey') &&
    key.usages.includes('deriveBits')
  );
}

/**
 * HKDF parameters of the §4.4.2 output `which` for (kid, suite).
 * @param {'key' | 'salt'} which
 * @param {bigint} kid
 * @param {{ id: number, hash: string }} suite
 * @returns {HkdfParams}
 */
export function hkdf(which, kid, suite) {
  // wasm-bindgen returns a fresh Uint8Array over its own ArrayBuffer (never shared memory).
  const info = /** @type {Uint8Array<ArrayBuffer>} */ (derivationInfo(which, kid, suite.id));
  return { name: 'HKDF', hash: suite.hash, salt: new Uint8Array(0), info };
}

/**
 * Derives, inside WebCrypto, the AES-GCM key (non-extractable, usages encrypt + decrypt) and
 * the 12-byte salt of the key `kid` under an AES-GCM `suite` from an HKDF base key (RFC 9605
 * §4.4.2). Rejects with TypeError for a CTR + HMAC suite or a base key without "deriveKey" and
 * "deriveBits" usages; WebCrypto's own errors pass through.
 *
 * `extractable` exists for tests only (comparing the derived key with RFC 9605's vectors); the
 * transforms never set it.
 * @param {CryptoKey} baseKey
 * @param {bigint} kid
 * @param {CipherSuiteInfo} suite
 * @param {{ extractable?: boolean }} [options]
 * @returns {Promise<WebCryptoSFrameKey>}
 */
export async function deriveWebCryptoKey(baseKey, kid, suite, { extractable = false } = {}) {
  if (!isWebCryptoSuite(suite)) {
    throw new TypeError(`${suite.name}: only AES-GCM suites run their AEAD in WebCrypto`);
  }
  if (!isWebCryptoBaseKey(baseKey)) {
    throw new TypeError('the base key must be an HKDF CryptoKey with "deriveKey" and "deriveBits" usages');
  }
  const [aesKey, salt] = await Promise.all([
    crypto.subtle.deriveKey(
      hkdf('key', kid, suite),
      baseKey,
      { name: 'AES-GCM', length: suite.keyLength * 8 },
      extractable,
      ['encrypt', 'decrypt'],
    ),
    crypto.subtle.deriveBits(hkdf('salt', kid, suite), baseKey, suite.nonceLength * 8),
  ]);
  return { kid, suite, aesKey, salt: new Uint8Array(salt) };
}

/**
 * The WebCrypto twin of a key whose bytes the package already holds (rule: the transforms keep
 * the wasm key too and choose per frame): the base key is imported as a NON-extractable HKDF
 * key (usages deriveKey + deriveBits) and `deriveWebCryptoKey` runs on it. The caller still
 * owns and wipes `baseKey`; WebCrypto keeps its own copy inside the CryptoKey.
 * @param {Uint8Array} baseKey
 * @param {bigint} kid
 * @param {CipherSuiteInfo} suite
 * @returns {Promise<WebCryptoSFrameKey>}
 */
export async function webCryptoKeyFromBase(baseKey, kid, suite) {
  const hkdfKey = await crypto.subtle.importKey(
    'raw',
    /** @type {Uint8Array<ArrayBuffer>} */ (baseKey),
    'HKDF',
    false,
    ['deriveKey', 'deriveBits'],
  );
  return deriveWebCryptoKey(hkdfKey, kid, suite);
}

/**
 * The WebCrypto twin of an already derived key (`sframe_key`, `sframe_salt` as bytes: the
 * path of HKDF CryptoKeys that have "deriveBits" but not "deriveKey" usage): `sframe_key` is
 * imported as a NON-extractable AES-GCM key. The caller still owns and wipes both arrays (the
 * salt is copied).
 * @param {Uint8Array} sframeKey
 * @param {Uint8Array} sframeSalt
 * @param {bigint} kid
 * @param {CipherSuiteInfo} suite
 * @returns {Promise<WebCryptoSFrameKey>}
 */
export async function webCryptoKeyFromDerived(sframeKey, sframeSalt, kid, suite) {
  if (!isWebCryptoSuite(suite)) {
    throw new TypeError(`${suite.name}: only AES-GCM suites run their AEAD in WebCrypto`);
  }
  const aesKey = await crypto.subtle.importKey(
    'raw',
    /** @type {Uint8Array<ArrayBuffer>} */ (sframeKey),
    { name: 'AES-GCM', length: suite.keyLength * 8 },
    false,
    ['encrypt', 'decrypt'],
  );
  return { kid, suite, aesKey, salt: sframeSalt.slice() };
}

/**
 * AES-GCM parameters: nonce, AAD (header ‖ metadata, RFC 9605 §4.4.3) and the suite's tag.
 * @param {CipherSuiteInfo} suite
 * @param {BufferSource | Uint8Array} nonce
 * @param {BufferSource | Uint8Array} aad
 * @returns {AesGcmParams}
 */
function gcm(suite, nonce, aad) {
  /** @type {AesGcmParams} */
  const params = {
    name: 'AES-GCM',
    iv: /** @type {BufferSource} */ (nonce),
    additionalData: /** @type {BufferSource} */ (aad),
  };
  // WebCrypto's default tag is 128 bits (every AES-GCM suite's): one dictionary member fewer
  // to convert per frame.
  if (suite.tagLength !== 16) params.tagLength = suite.tagLength * 8;
  return params;
}

/**
 * AES-GCM encryption in WebCrypto: resolves to ciphertext ‖ tag (a new ArrayBuffer).
 * @param {WebCryptoSFrameKey} key
 * @param {BufferSource | Uint8Array} nonce
 * @param {BufferSource | Uint8Array} aad
 * @param {BufferSource | Uint8Array} plaintext (a view: WebCrypto copies its bytes at the call)
 * @returns {Promise<ArrayBuffer>}
 */
export function webCryptoEncrypt(key, nonce, aad, plaintext) {
  return crypto.subtle.encrypt(gcm(key.suite, nonce, aad), key.aesKey, /** @type {BufferSource} */ (plaintext));
}

/**
 * AES-GCM decryption in WebCrypto of ciphertext ‖ tag: resolves to the plaintext; rejects
 * (WebCrypto's OperationError) when the tag does not verify — the caller then commits nothing.
 * @param {WebCryptoSFrameKey} key
 * @param {BufferSource | Uint8Array} nonce
 * @param {BufferSource | Uint8Array} aad
 * @param {BufferSource | Uint8Array} ciphertext (a view, as for webCryptoEncrypt)
 * @returns {Promise<ArrayBuffer>}
 */
export function webCryptoDecrypt(key, nonce, aad, ciphertext) {
  return crypto.subtle.decrypt(gcm(key.suite, nonce, aad), key.aesKey, /** @type {BufferSource} */ (ciphertext));
}
