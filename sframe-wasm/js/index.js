// sframe-wasm: RFC 9605 SFrame for browsers and Node, backed by sframe-core (WebAssembly).
export { Sender, Receiver, parseHeader, cipherSuiteInfo } from './wasm.js';
export {
  SFrameTransform,
  SFrameEncrypterStream,
  SFrameDecrypterStream,
  SFrameTransformErrorEvent,
} from './transform.js';
export {
  clearPrefixLength,
  codecForMimeType,
  escapeStartCodes,
  unescapeStartCodes,
  h264ClearLength,
} from './codec.js';
export { derivationLabel, normalizeKeyId, resolveKey, wipeKey } from './keys.js';

/** RFC 9605 §4.5 cipher suite names, by value (1..5). */
export const CIPHER_SUITES = Object.freeze([
  'AES_128_CTR_HMAC_SHA256_80',
  'AES_128_CTR_HMAC_SHA256_64',
  'AES_128_CTR_HMAC_SHA256_32',
  'AES_128_GCM_SHA256_128',
  'AES_256_GCM_SHA512_128',
]);
