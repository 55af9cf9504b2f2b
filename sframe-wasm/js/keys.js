// Key input for SFrameTransform: WebCrypto CryptoKeys and raw bytes → what sframe-core takes.
//
// An HKDF CryptoKey with "deriveBits" usage never leaves WebCrypto: the RFC 9605 §4.4.2 key
// schedule runs there,
//   sframe_secret = HKDF-Extract("", base_key)
//   sframe_key    = HKDF-Expand(sframe_secret, info(key,  KID, suite), Nk)
//   sframe_salt   = HKDF-Expand(sframe_secret, info(salt, KID, suite), Nn)
// with the info bytes built by sframe-core (derivationInfo(), sframe_core::key::derivation_info:
// the RFC's label ‖ BE64(KID) ‖ BE16(suite); no label is typed here) and the suite's hash as
// sframe-core names it (cipherSuiteInfo().hash: HKDF-SHA-256 for suites 1-4, HKDF-SHA-512 for
// 5-8; WebCrypto's HKDF is Extract-then-Expand and a zero-length salt is the RFC's empty
// salt), and only the derived key and salt enter the wasm module. The transforms use
// resolveTransformKey (below): for AES-GCM suites and an HKDF key that also has "deriveKey"
// usage the AES key stays inside WebCrypto and only the salt enters wasm (js/webcrypto.js). Extractable keys are exported raw and
// bytes are copied: sframe-core derives from those base keys itself. Every result holds fresh
// copies that the caller wipes with wipeKey() once wasm has taken them.

// @ts-check

import { derivationInfo } from './wasm.js';
import {
  deriveWebCryptoKey,
  hkdf,
  isCryptoKey,
  isWebCryptoBaseKey,
  isWebCryptoSuite,
  webCryptoKeyFromBase,
  webCryptoKeyFromDerived,
} from './webcrypto.js';

/** @typedef {import('./webcrypto.js').WebCryptoSFrameKey} WebCryptoSFrameKey */

/**
 * What the transforms install for one key (resolveTransformKey):
 *   - `external: true` — the AES key exists only as a non-extractable WebCrypto key (`web`);
 *     wasm gets the salt alone (`wasm.sframeSalt`, Sender.setExternalKey /
 *     Receiver.addExternalKey) and every frame of the key goes through WebCrypto;
 *   - `external: false` — `wasm` is what resolveKey returns (base key bytes, or derived key and
 *     salt), installed as a full wasm key, and `web` its WebCrypto twin (AES-GCM suites) or
 *     null (CTR + HMAC suites, or a twin WebCrypto could not make): frames choose per size.
 * @typedef {{ external: true, wasm: { sframeSalt: Uint8Array }, web: WebCryptoSFrameKey }
 *   | { external: false, wasm: ResolvedKey, web: WebCryptoSFrameKey | null }} TransformKey
 */

/**
 * What resolveKey returns: the base key bytes (sframe-core derives) or the key and salt
 * WebCrypto derived.
 * @typedef {{ baseKey: Uint8Array } | { sframeKey: Uint8Array, sframeSalt: Uint8Array }} ResolvedKey
 */

const MAX_U64 = (1n << 64n) - 1n;

/**
 * A CryptoKeyID (number up to 2^53-1 or bigint up to 2^64-1) as a bigint; RangeError when out
 * of range, TypeError when not a number/bigint. `undefined` means 0 (Safari's default). Used
 * by SFrameTransform (compatibility object); the spec's objects convert as WebIDL does
 * (spec.js keyIdArgument).
 * @param {unknown} keyID
 * @returns {bigint}
 */
export function normalizeKeyId(keyID) {
  if (keyID === undefined) return 0n;
  if (typeof keyID === 'bigint') {
    if (keyID < 0n || keyID > MAX_U64) throw new RangeError('keyID must be in 0..2^64-1');
    return keyID;
  }
  if (typeof keyID === 'number') {
    if (!Number.isSafeInteger(keyID) || keyID < 0) {
      throw new RangeError('keyID must be an integer in 0..2^53-1 (or a bigint up to 2^64-1)');
    }
    return BigInt(keyID);
  }
  throw new TypeError('keyID must be a number or a bigint');
}

/**
 * The §4.4.2 HKDF-Expand info (label ‖ BE64(kid) ‖ BE16(suite)): sframe-core's
 * `derivationInfo`, under the name this package exported first.
 * @param {'key' | 'salt'} which
 * @param {bigint} kid
 * @param {number} suiteId
 * @returns {Uint8Array}
 */
export function derivationLabel(which, kid, suiteId) {
  return derivationInfo(which, kid, suiteId);
}

/**
 * Copy of the bytes of a BufferSource, or null if `v` is none.
 * @param {unknown} v
 * @returns {Uint8Array | null}
 */
export function bufferSourceBytes(v) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  return null;
}

/**
 * Overwrites with zeros the key bytes of a `resolveKey` result (`baseKey`, or `sframeKey` and
 * `sframeSalt`). SFrameTransform calls it as soon as the bytes have been copied into wasm (or
 * refused), so no JS copy of key material outlives the call. The caller's own buffer (given as
 * bytes) is never touched: resolveKey copied it.
 * @param {ResolvedKey | { sframeKey: Uint8Array | null, sframeSalt: Uint8Array | null } | null | undefined} k
 */
export function wipeKey(k) {
  const any = /** @type {{ baseKey?: unknown, sframeKey?: unknown, sframeSalt?: unknown }} */ (k ?? {});
  for (const bytes of [any.baseKey, any.sframeKey, any.sframeSalt]) {
    if (bytes instanceof Uint8Array) bytes.fill(0);
  }
}

/**
 * Resolves `key` for (kid, suite) to either `{ baseKey }` (bytes; sframe-core derives) or
 * `{ sframeKey, sframeSalt }` (derived inside WebCrypto).
 * @param {CryptoKey | BufferSource} key
 * @param {bigint} kid
 * @param {{ id: number, keyLength: number, nonceLength: number, hash: string }} suite
 * @returns {Promise<ResolvedKey>}
 */
export async function resolveKey(key, kid, suite) {
  if (isCryptoKey(key)) {
    if (key.algorithm?.name === 'HKDF' && key.usages.includes('deriveBits')) {
      const [k, s] = await Promise.allSettled([
        crypto.subtle.deriveBits(hkdf('key', kid, suite), key, suite.keyLength * 8),
        crypto.subtle.deriveBits(hkdf('salt', kid, suite), key, suite.nonceLength * 8),
      ]);
      // The Uint8Arrays view the ArrayBuffers WebCrypto returned: wiping them (wipeKey) wipes
      // the only JS copies. If one derivation failed, the other's bytes are wiped at once.
      const out = {
        sframeKey: k.status === 'fulfilled' ? new Uint8Array(k.value) : null,
        sframeSalt: s.status === 'fulfilled' ? new Uint8Array(s.value) : null,
      };
      if (k.status === 'rejected' || s.status === 'rejected') {
        wipeKey(out);
        throw k.status === 'rejected' ? k.reason : /** @type {PromiseRejectedResult} */ (s).reason;
      }
      return /** @type {ResolvedKey} */ (out);
    }
    if (key.extractable) {
      // A view of the ArrayBuffer exportKey returned (the only JS copy; wiped by wipeKey).
      return { baseKey: new Uint8Array(await crypto.subtle.exportKey('raw', key)) };
    }
    throw new TypeError(
      'a non-extractable CryptoKey must be an HKDF key with "deriveBits" usage, and ' +
        '"deriveKey" too for the WebCrypto AES-GCM path ' +
        '(crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey", "deriveBits"]))',
    );
  }
  const bytes = bufferSourceBytes(key);
  if (bytes) return { baseKey: bytes };
  throw new TypeError('key must be a CryptoKey or a BufferSource (ArrayBuffer / typed array)');
}

/**
 * resolveKey for the transforms (js/pipeline.js), adding the WebCrypto side of AES-GCM suites:
 *   - a NON-extractable HKDF CryptoKey with usages "deriveKey" and "deriveBits" (what
 *     `crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey", "deriveBits"])`
 *     gives): the AES key is derived inside WebCrypto (deriveKey, non-extractable) and the salt
 *     with deriveBits — `{ external: true }`, no AES key byte in JS or wasm memory;
 *   - key bytes, or an extractable CryptoKey (exported raw): the wasm key as today plus a
 *     WebCrypto twin derived from a non-extractable HKDF import of the same bytes;
 *   - an HKDF CryptoKey with "deriveBits" but without "deriveKey" (the package's documented
 *     usage before the fast path): today's path — WebCrypto derives sframe_key and sframe_salt
 *     as bytes for wasm — plus a twin imported from those bytes (they are in JS memory on this
 *     path anyway, until wipeKey). Give such keys "deriveKey" too to keep the AES key out of
 *     JS and wasm memory.
 * CTR + HMAC suites get `web: null` (their AEAD stays in wasm, see js/webcrypto.js). A twin
 * WebCrypto refuses (e.g. an empty base key) also gives `web: null`: the wasm key then decides
 * (and refuses it with sframe-core's error, as before). The byte forms are fresh copies the
 * caller wipes (wipeKey(result.wasm)).
 * @param {CryptoKey | BufferSource} key
 * @param {bigint} kid
 * @param {import('../index.js').CipherSuiteInfo} suite
 * @returns {Promise<TransformKey>}
 */
export async function resolveTransformKey(key, kid, suite) {
  const gcm = isWebCryptoSuite(suite);
  if (gcm && isWebCryptoBaseKey(key) && !key.extractable) {
    const web = await deriveWebCryptoKey(key, kid, suite);
    return { external: true, wasm: { sframeSalt: web.salt.slice() }, web };
  }
  const wasm = await resolveKey(key, kid, suite);
  if (!gcm) return { external: false, wasm, web: null };
  /** @type {WebCryptoSFrameKey | null} */
  let web = null;
  try {
    web =
      'baseKey' in wasm
        ? await webCryptoKeyFromBase(wasm.baseKey, kid, suite)
        : await webCryptoKeyFromDerived(wasm.sframeKey, wasm.sframeSalt, kid, suite);
  } catch {
    // No twin: frames of this key stay on the wasm path.
  }
  return { external: false, wasm, web };
}
