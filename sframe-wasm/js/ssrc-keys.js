// @ts-check
// Per-SSRC keys (draft-ietf-avtcore-rtp-sframe §7):
//   ssrc_key = HKDF-Expand(HKDF-Extract(BE32(SSRC), base_key), "SFrame 1.0 RTP Stream", Nh)
// with the suite's hash, used as the RTP stream's base key for the RFC 9605 §4.4.2 key schedule
// (and the first key of a §5.1 ratchet: each SSRC then ratchets on its own, with the same KIDs).
//
// Two inputs, the two kinds of base key the rest of the package takes (js/keys.js):
//   - key bytes: sframe-core derives (ssrcBaseKeyBytes); the result is Nh bytes.
//   - an HKDF CryptoKey with "deriveBits" usage (non-extractable: WebCrypto refuses extractable
//     HKDF keys): WebCrypto derives, with the parameters sframe-core gives (ssrcKeyDerivation:
//     the hash, the 4-byte big-endian SSRC as salt, the core's label as info, Nh; nothing is
//     typed here). The result is again a non-extractable HKDF CryptoKey, with usages
//     "deriveBits" and "deriveKey": what SFrameTransform, the W3C objects and resolveKey take,
//     incl. the WebCrypto AES-GCM path that keeps the AES key out of JS and wasm memory.
//     WebCrypto cannot derive an HKDF key from an HKDF key (deriveKey needs a key length, and
//     HKDF has none), so the Nh bytes pass through JS memory between deriveBits and importKey
//     and are overwritten right after the import.

import './wasm.js'; // instantiates the module before anything below is called
import { ssrcBaseKeyBytes, ssrcKeyDerivation } from '../pkg/sframe_wasm.js';
import { isCryptoKey } from './webcrypto.js';

/**
 * The §7 per-SSRC base key of `baseKey` for `ssrc` (an integer 0..2^32-1) under
 * `cipherSuite`: for key bytes (at least 16), a new `Uint8Array` of Nh bytes (32 for suites
 * 1-4, 64 for 5-8; wipe it when done); for an HKDF CryptoKey with "deriveBits" usage, a
 * non-extractable HKDF CryptoKey with usages "deriveBits" and "deriveKey". Rejects with a
 * TypeError for any other key, a RangeError for a bad SSRC, an SFrameError
 * ("unsupported_cipher_suite", "invalid_key": bytes shorter than 16) from sframe-core. WebCrypto
 * does not reveal the length of an HKDF key, so the 16-byte minimum is not checked for one.
 * @overload
 * @param {import('../index.js').CipherSuiteLike} cipherSuite
 * @param {CryptoKey} baseKey
 * @param {number} ssrc
 * @returns {Promise<CryptoKey>}
 */
/**
 * @overload
 * @param {import('../index.js').CipherSuiteLike} cipherSuite
 * @param {import('../index.js').Bytes} baseKey
 * @param {number} ssrc
 * @returns {Promise<Uint8Array>}
 */
/**
 * @param {import('../index.js').CipherSuiteLike} cipherSuite
 * @param {CryptoKey | import('../index.js').Bytes} baseKey
 * @param {number} ssrc
 * @returns {Promise<CryptoKey | Uint8Array>}
 */
export async function ssrcBaseKey(cipherSuite, baseKey, ssrc) {
  if (!isCryptoKey(baseKey)) return ssrcBaseKeyBytes(cipherSuite, baseKey, ssrc);
  if (baseKey.algorithm?.name !== 'HKDF' || !baseKey.usages.includes('deriveBits')) {
    throw new TypeError(
      'ssrcBaseKey takes key bytes or an HKDF CryptoKey with "deriveBits" usage ' +
        '(crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey", "deriveBits"]))',
    );
  }
  const { hash, salt, info, length } = ssrcKeyDerivation(cipherSuite, ssrc);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'HKDF', hash, salt, info }, baseKey, length * 8),
  );
  try {
    return await crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveBits', 'deriveKey']);
  } finally {
    bits.fill(0);
  }
}
