// @ts-check
// Pieces of the W3C WebRTC Encoded Transform SFrame API (2026 editor's draft) shared by the
// worker-side streams (streams.js) and the main-thread RTCRtpSFrameEncryptor /
// RTCRtpSFrameDecryptor (w3c.js): the error event, the WebIDL conversions of the options
// dictionary and of CryptoKeyID, and the exceptions the spec's methods reject with.
//
// The cipher suite names come from the wasm module (sframe-core's CipherSuite::ALL), never
// from a table typed here. Error codes are sframe-core's (Error::code, listed by the wasm
// module's errorCodes()): the few compared here are typed as index.d.ts's SFrameErrorCode, so
// tsc refuses a code the core does not have (test/tables.test.mjs checks that union against
// errorCodes()).

import { cipherSuites, errorTypeOf, keyWaitCapacity } from './wasm.js';

/** @typedef {import('../index.js').SFrameCipherSuite} SFrameCipherSuite */
/** @typedef {import('../index.js').SFrameTransformErrorEventType} SFrameTransformErrorEventType */
/** @typedef {import('../index.js').SFrameTransformErrorEventInit} SFrameTransformErrorEventInit */
/** @typedef {import('../index.js').CryptoKeyID} CryptoKeyID */
/**
 * The code of an error caught around the wasm module: sframe-core's, the codec layer's
 * "frame_too_short", the binding's "invalid_argument", or "unknown" for anything else.
 * @typedef {import('../index.js').SFrameErrorCode | 'frame_too_short' | 'invalid_argument' | 'unknown'} CaughtErrorCode
 */
/** @typedef {'auto' | import('./codec.js').Codec} CompatibilityMode */

/** The SFrameCipherSuite enum: every suite sframe-core supports (IANA order). */
export const SUITE_NAMES = Object.freeze(
  /** @type {SFrameCipherSuite[]} */ (cipherSuites().map((s) => s.name)),
);

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** SFrameTransformErrorEventType values. */
const ERROR_TYPES = Object.freeze(['authentication', 'keyID', 'syntax']);

/**
 * W3C `SFrameTransformErrorEvent`: `errorType` ("authentication" | "keyID" | "syntax"),
 * `keyID` (the frame's KID when known, else null) and `frame` (the frame that was dropped: the
 * RTCEncodedVideoFrame / RTCEncodedAudioFrame the transform received, W3C PR #313).
 * Extensions: `code`, sframe-core's error code (e.g. "authentication_failed"), and
 * `previousRun`: a decryptor fires one event per run of identical failures (W3C issue #307;
 * sframe_core::report), and this is the run before this event's, `{ errorType, keyID, count }`,
 * or null.
 */
export class SFrameTransformErrorEvent extends Event {
  /** @type {SFrameTransformErrorEventType} */
  #errorType;
  /** @type {bigint | number | null} */
  #keyID;
  /** @type {import('../index.js').SFrameErrorFrame} */
  #frame;
  /** @type {string | null} */
  #code;
  /** @type {import('../index.js').SFrameErrorRun | null} */
  #previousRun;

  /**
   * @param {string} type
   * @param {SFrameTransformErrorEventInit} eventInitDict errorType and frame are required
   */
  constructor(type, eventInitDict) {
    if (arguments.length < 2 || eventInitDict === null || typeof eventInitDict !== 'object') {
      throw new TypeError(
        "SFrameTransformErrorEvent: eventInitDict with errorType and frame is required",
      );
    }
    const { errorType, frame, keyID, code, previousRun } = eventInitDict;
    if (!ERROR_TYPES.includes(String(errorType))) {
      throw new TypeError(
        `SFrameTransformErrorEvent: errorType must be one of ${ERROR_TYPES.join(', ')} (got ${errorType})`,
      );
    }
    if (frame === undefined) {
      throw new TypeError('SFrameTransformErrorEvent: frame is required');
    }
    super(type, eventInitDict);
    this.#errorType = /** @type {SFrameTransformErrorEventType} */ (String(errorType));
    this.#frame = frame;
    this.#keyID = keyID === undefined || keyID === null ? null : keyID;
    this.#code = code === undefined || code === null ? null : String(code);
    this.#previousRun = previousRun ?? null;
  }

  /** "authentication" | "keyID" | "syntax". */
  get errorType() {
    return this.#errorType;
  }

  /** The failed frame's key ID (a bigint) when its header could be read, else null. */
  get keyID() {
    return this.#keyID;
  }

  /**
   * The frame that failed (it was dropped): the RTCEncodedVideoFrame / RTCEncodedAudioFrame
   * object the transform received (W3C PR #313), or the BufferSource chunk; null for none.
   */
  get frame() {
    return this.#frame;
  }

  /** Extension: sframe-core's error code, e.g. "authentication_failed", "unknown_key_id". */
  get code() {
    return this.#code;
  }

  /**
   * Extension (this package's behaviour pending W3C issue #307): the run of identical
   * failures (same errorType and keyID) before this event's — the previous event's failure
   * and how many frames in a row failed like it (`count`, that event's frame included) — or
   * null (the first event, or none since the last one carried it).
   */
  get previousRun() {
    return this.#previousRun;
  }
}

/**
 * The `code` of a caught error (`fallback` when it has none).
 * @param {unknown} e
 * @param {CaughtErrorCode} [fallback]
 * @returns {CaughtErrorCode}
 */
export function errorCodeOf(e, fallback = 'unknown') {
  const code = /** @type {{ code?: unknown } | null | undefined} */ (e)?.code;
  return typeof code === 'string' ? /** @type {CaughtErrorCode} */ (code) : fallback;
}

/**
 * sframe-core's error code of a frame that failed to decrypt → the spec's errorType, by the
 * core's mapping (wasm `errorTypeOf`, `sframe_core::report::FailureKind::of`): "keyID",
 * "authentication", else "syntax" (also for the codes of the JS layer; "replay", which the
 * core maps to no event, is never reported and reads "syntax" here).
 * @param {CaughtErrorCode} code
 * @returns {SFrameTransformErrorEventType}
 */
export function errorTypeFor(code) {
  return errorTypeOf(code) ?? 'syntax';
}

/**
 * The options of the spec's constructors after WebIDL conversion: SFrameTransformOptions
 * `{ required SFrameCipherSuite cipherSuite }` and RTCRtpSFrameEncryptorOptions, which adds
 * `type = "per-frame"` (W3C PR #312; before it every constructor read `type`, and this package
 * still reads it on every one), plus this package's extensions (`compatibilityMode`, `replayWindow`), which are passed through unchecked (the
 * transform checks them), and `keyWait`, converted here (parseKeyWait).
 * @typedef {{ cipherSuite: SFrameCipherSuite, type: 'per-frame',
 *   compatibilityMode?: import('../index.js').SFrameCompatibilityMode,
 *   replayWindow?: number, keyWait?: KeyWaitOptions }} SpecOptions
 */
/** @typedef {Required<import('../index.js').SFrameKeyWaitOptions>} KeyWaitOptions */

/**
 * The defaults of a decryptor's `keyWait` option (frames that arrive before their key wait
 * for it; W3C issues #289 / #306, RFC 9605 §4.4.4). The age limit is the one that normally
 * binds: 2 s covers a key exchange on joining a call or a rotation whose key is late (the
 * application's key management decides the real figure), and a frame later than that is of
 * little use. 256 frames (the wasm buffer's capacity) are more than 2 s of 50 fps audio or
 * 60 fps video; 4 MiB hold 2 s of video up to ~16 Mbit/s, and bound what frames the network
 * sends under KIDs that never get a key can pin in memory.
 * @type {Readonly<KeyWaitOptions>}
 */
export const KEY_WAIT_DEFAULTS = Object.freeze({ maxFrames: 256, maxBytes: 4 * 1024 * 1024, maxAgeMs: 2000 });

/**
 * A decryptor's `keyWait` option with its defaults filled in: each member converted as WebIDL
 * does for an `[EnforceRange] unsigned long long` (ToNumber; NaN, ±Infinity, negative or above
 * 2^53-1 → TypeError; fractions truncated), `maxFrames` at most the wasm buffer's capacity
 * (`keyWaitCapacity()`, RangeError above). `maxFrames: 0` turns holding off.
 * @param {unknown} v
 * @param {string} what
 * @returns {KeyWaitOptions}
 */
export function parseKeyWait(v, what) {
  if (v === undefined || v === null) return { ...KEY_WAIT_DEFAULTS };
  if (typeof v !== 'object') throw new TypeError(`${what}: keyWait must be an object`);
  const o = /** @type {Record<string, unknown>} */ (v);
  /** @param {'maxAgeMs' | 'maxBytes' | 'maxFrames'} name */
  const member = (name) => {
    if (o[name] === undefined) return KEY_WAIT_DEFAULTS[name];
    const n = Math.trunc(Number(o[name]));
    if (!Number.isFinite(n) || n < 0 || n > MAX_SAFE) {
      throw new TypeError(`${what}: keyWait.${name} must be a non-negative integer`);
    }
    return n;
  };
  // Dictionary members in lexicographic order.
  const maxAgeMs = member('maxAgeMs');
  const maxBytes = member('maxBytes');
  const maxFrames = member('maxFrames');
  if (maxFrames > keyWaitCapacity()) {
    throw new RangeError(`${what}: keyWait.maxFrames must be at most ${keyWaitCapacity()}`);
  }
  return { maxFrames, maxBytes, maxAgeMs };
}

/**
 * Converts the constructor argument as WebIDL does, then applies the constructor steps this
 * polyfill can take: TypeError for a missing or unknown cipherSuite or type (enum values are
 * strings: a number is not a suite here), DOMException "NotSupportedError" for
 * type "per-packet" (see below).
 * @param {unknown} options
 * @param {string} what the interface name, for messages
 * @returns {SpecOptions}
 */
export function parseSpecOptions(options, what) {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new TypeError(`${what}: options must be an SFrameTransformOptions dictionary`);
  }
  const o = /** @type {Record<string, unknown>} */ (options ?? {});
  // Dictionary members are converted in lexicographic order: cipherSuite, then type.
  if (o.cipherSuite === undefined) {
    throw new TypeError(`${what}: options.cipherSuite is required`);
  }
  const cipherSuite = String(o.cipherSuite);
  if (!SUITE_NAMES.includes(/** @type {SFrameCipherSuite} */ (cipherSuite))) {
    throw new TypeError(
      `${what}: cipherSuite "${cipherSuite}" is not a valid SFrameCipherSuite (${SUITE_NAMES.join(', ')})`,
    );
  }
  const type = o.type === undefined ? 'per-frame' : String(o.type);
  if (type !== 'per-frame' && type !== 'per-packet') {
    throw new TypeError(`${what}: type must be "per-frame" or "per-packet" (got "${type}")`);
  }
  if (type === 'per-packet') {
    // W3C PR #293: "per-packet" encrypts each RTP packet payload (draft-ietf-avtcore-rtp-sframe)
    // inside the browser's packetizer. A JavaScript transform only ever sees whole encoded
    // frames, before packetization: it cannot do that, and must not silently fall back to
    // per-frame (the receiver would expect per-packet SFrame).
    throw new DOMException(
      `${what}: type "per-packet" is not supported by this polyfill: per-packet SFrame runs in ` +
        "the browser's RTP packetizer, which a JavaScript transform cannot reach. Use " +
        'type "per-frame" (the default), or a browser with native SFrame support.',
      'NotSupportedError',
    );
  }
  /** @type {SpecOptions} */
  const out = { cipherSuite: /** @type {SFrameCipherSuite} */ (cipherSuite), type };
  if (o.compatibilityMode !== undefined) {
    // Checked by the transform (codec.js parseCompatibilityMode).
    out.compatibilityMode = /** @type {import('../index.js').SFrameCompatibilityMode} */ (
      String(o.compatibilityMode)
    );
  }
  if (o.replayWindow !== undefined) out.replayWindow = Number(o.replayWindow);
  if (o.keyWait !== undefined) out.keyWait = parseKeyWait(o.keyWait, what);
  return out;
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * A `CryptoKeyID` argument converted as WebIDL does for `(SmallCryptoKeyID or bigint)` with
 * `SmallCryptoKeyID = [EnforceRange] unsigned long long`, then the spec's range check:
 * a bigint outside 0..2^64-1 → RangeError; anything else goes through ToNumber and
 * [EnforceRange] (NaN, ±Infinity or outside 0..2^53-1 → TypeError; fractions truncated).
 * A missing argument (undefined) → TypeError: keyID is not optional in the current IDL.
 * @param {unknown} keyID
 * @param {string} what
 * @returns {bigint}
 */
export function keyIdArgument(keyID, what) {
  if (keyID === undefined) throw new TypeError(`${what}: keyID is required`);
  if (typeof keyID === 'bigint') {
    if (keyID < 0n || keyID > MAX_U64) {
      throw new RangeError(`${what}: keyID must be in 0..2^64-1`);
    }
    return keyID;
  }
  const n = Number(keyID);
  if (!Number.isFinite(n)) throw new TypeError(`${what}: keyID is not a finite number`);
  const i = Math.trunc(n);
  if (i < 0 || i > MAX_SAFE) {
    throw new TypeError(
      `${what}: keyID must be in 0..2^53-1 as a number (use a bigint for larger key IDs)`,
    );
  }
  return BigInt(i);
}

/**
 * Whether `key` is a `CryptoKey` (the IDL type) or — this package's extension — the bytes of a
 * base key (a BufferSource).
 * @param {unknown} key
 */
export function isKeyArgument(key) {
  return (
    (typeof CryptoKey !== 'undefined' && key instanceof CryptoKey) ||
    key instanceof ArrayBuffer ||
    ArrayBuffer.isView(key)
  );
}

/**
 * What a key call rejects with when sframe-core refuses the key (spec: "If setting the key
 * material fails, reject with an InvalidModificationError"): a DOMException named
 * "InvalidModificationError" whose `cause` is the SFrameError (its `code`, e.g.
 * "key_in_use", "invalid_key", says why).
 * @param {string} what
 * @param {{ message?: string, code?: string }} sframeError
 */
export function keyRefused(what, sframeError) {
  const code = sframeError?.code ?? 'unknown';
  const e = new DOMException(
    `${what}: the key was refused (${code}): ${sframeError?.message ?? ''}`.trim(),
    'InvalidModificationError',
  );
  const cause = Object.assign(new Error(sframeError?.message ?? code), {
    name: 'SFrameError',
    code,
  });
  Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  return e;
}

/**
 * What calls on a closed object reject with: DOMException "InvalidStateError".
 * @param {string} what
 */
export function closedState(what) {
  return new DOMException(`${what} is closed`, 'InvalidStateError');
}
