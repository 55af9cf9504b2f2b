// @ts-check
// sframe-wasm: RFC 9605 SFrame for browsers and Node, backed by sframe-core (WebAssembly),
// with the W3C WebRTC Encoded Transform SFrame API as a polyfill. Importing it defines nothing
// globally; installPolyfill() does, where the browser lacks the interfaces.
import { cipherSuites } from './wasm.js';

// The low-level API: Sender, Receiver, parseHeader, cipherSuiteInfo, cipherSuites,
// errorCodes, derivationInfo, ErrorRuns, errorTypeOf, KeyWaitBuffer, keyWaitCapacity; and
// hazmatProtectFrame (test vectors and interop only).
export * from './wasm.js';
// W3C names of PR #312; the #308 names (…Encrypter / …Decrypter) are the same classes.
export {
  SFrameTransform,
  SFrameEncryptorStream,
  SFrameDecryptorStream,
  SFrameEncrypterStream,
  SFrameDecrypterStream,
  SFrameTransformErrorEvent,
} from './streams.js';
export {
  RTCRtpSFrameEncryptor,
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncrypter,
  RTCRtpSFrameDecrypter,
} from './w3c.js';
export { installPolyfill } from './polyfill.js';
export {
  clearPrefixLength,
  codecForMimeType,
  escapeStartCodes,
  unescapeStartCodes,
  h264ClearLength,
} from './codec.js';
export { derivationLabel, normalizeKeyId, resolveKey, wipeKey } from './keys.js';
// a=sframe SDP negotiation (draft-ietf-avtcore-rtp-sframe §6) and per-SSRC keys (§7).
export * as sdp from './sdp.js';
export { ssrcBaseKey } from './ssrc-keys.js';

/**
 * Names of the cipher suites sframe-core supports, in IANA order (RFC 9605 §8.1 values 1-5,
 * draft-barnes-sframe-iana-256's 6-8): `CIPHER_SUITES[id - 1]`. Read from the wasm module
 * (`cipherSuites()`), not typed here.
 */
export const CIPHER_SUITES = Object.freeze(cipherSuites().map((s) => s.name));
// SFrame RTP sessions (draft-ietf-avtcore-rtp-sframe) for native endpoints and bridges.
export { SFrameSendStream, SFrameReceiveSession } from './rtp-session.js';
