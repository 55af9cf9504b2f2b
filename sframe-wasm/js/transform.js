// @ts-check
// The stream objects of the W3C WebRTC Encoded Transform SFrame API, on top of sframe-core:
//
//   SFrameEncrypterStream  — spec (PR #282, #288, #309): readable / writable, setEncryptionKey;
//                            NOT an EventTarget (#309). Frames it cannot encrypt are dropped
//                            and counted (stats), never passed on in clear.
//   SFrameDecrypterStream  — spec: an EventTarget with addDecryptionKey, removeDecryptionKey and
//                            "error" events (SFrameTransformErrorEvent).
//   SFrameTransform        — compatibility alias of the older combined object (Safari's shape and
//                            drafts before #282): `role` option, setEncryptionKey on both roles,
//                            error events on both roles, rejections with sframe-core's errors.
//
// All are GenericTransformStreams (usable with pipeThrough). Frames may be
// RTCEncodedVideoFrame / RTCEncodedAudioFrame (their .data is replaced) or plain BufferSources.
//
// Key hygiene: each object owns one wasm Sender (encrypt) or Receiver (decrypt) and frees it —
// zeroizing its keys in wasm memory — as soon as the stream ends (writable closed or aborted,
// readable cancelled) or close() is called. JS copies of key bytes are wiped once wasm has
// them. All objects of one JS realm share this module's wasm instance, so sframe-core's
// registry (one per instance) sees every encrypter: a second live encrypter given the key
// material and KID another one uses is refused with "key_in_use" (two Senders under one key
// would repeat every counter, i.e. every AES-GCM/CTR nonce), and one given a closed
// encrypter's key resumes its counter.

import { Sender, Receiver, parseHeader, cipherSuiteInfo, cipherSuites } from './wasm.js';
import {
  aadOf,
  codecForMimeType,
  joinProtected,
  parseCompatibilityMode,
  protectFrame,
  restoreFrame,
  restoreFrameFrom,
  senderLayout,
  splitProtected,
} from './codec.js';
import { normalizeKeyId, resolveTransformKey, wipeKey } from './keys.js';
import { webCryptoDecrypt, webCryptoEncrypt } from './webcrypto.js';
import {
  SFrameTransformErrorEvent,
  closedState,
  errorCodeOf,
  errorTypeFor,
  isKeyArgument,
  keyIdArgument,
  keyRefused,
  parseSpecOptions,
} from './spec.js';

export { SFrameTransformErrorEvent };

/** @typedef {import('../index.js').CipherSuiteInfo} CipherSuiteInfo */
/** @typedef {import('../index.js').SFrameStats} SFrameStats */
/** @typedef {import('../index.js').SFrameKey} SFrameKey */
/** @typedef {import('../index.js').SFrameTransformErrorEventInit} SFrameTransformErrorEventInit */
/** @typedef {import('./keys.js').TransformKey} TransformKey */
/** @typedef {import('./webcrypto.js').WebCryptoSFrameKey} WebCryptoSFrameKey */
/** @typedef {{ web: WebCryptoSFrameKey, external: boolean }} WebKey */

/**
 * The WebCrypto fast path (AES-GCM suites): a frame of a key that also has a wasm form runs
 * its AEAD in WebCrypto when it has at least this many bytes (sender: the encoded frame;
 * receiver: its SFrame part, header ‖ ciphertext ‖ tag), and in wasm below it; a frame of an external key (non-extractable HKDF CryptoKey: no AES key in wasm)
 * always runs in WebCrypto. The crossover measured through the public transforms in headless
 * Chromium 156 (bench/README.md, `--crossover`) lies between 800 B and 1200 B: below, one
 * promise per side costs more than software AES-GCM in wasm saves; from ~1 KiB on, WebCrypto's
 * hardware AES wins (by 1.5-2x at 3-4 KiB, ~3.9x at 10 KiB).
 */
const DEFAULT_WEBCRYPTO_MIN_BYTES = 1024;
let webCryptoMinBytes = DEFAULT_WEBCRYPTO_MIN_BYTES;

/**
 * Internal (benchmarks and tests; not exported by the package index): the size threshold of
 * the WebCrypto path for keys that have both forms — 0 sends every such frame through
 * WebCrypto, Infinity none; undefined restores the default. Returns the previous value.
 * @param {number | undefined} bytes
 */
export function setWebCryptoThreshold(bytes) {
  const before = webCryptoMinBytes;
  webCryptoMinBytes = bytes === undefined ? DEFAULT_WEBCRYPTO_MIN_BYTES : bytes;
  return before;
}
/** @typedef {import('./spec.js').CompatibilityMode} CompatibilityMode */

/**
 * Safari's authenticationSize (tag bytes) → cipher suite: Safari's SFrameTransform predates
 * the cipherSuite option and only knows the SHA-256 suites (AES-128-CTR + HMAC-SHA256 with a
 * 10, 8 or 4-byte tag; AES-128-GCM with 16). Built from the core's suite list: the first
 * SHA-256 suite with that tag length.
 * @type {Map<number, string>}
 */
const SUITE_BY_AUTH_SIZE = new Map();
for (const s of cipherSuites()) {
  if (s.hash === 'SHA-256' && !SUITE_BY_AUTH_SIZE.has(s.tagLength)) {
    SUITE_BY_AUTH_SIZE.set(s.tagLength, s.name);
  }
}

/** What key calls on a closed SFrameTransform (compatibility object) reject with. */
function legacyClosedError() {
  const e = new Error('the SFrame transform is closed');
  e.name = 'InvalidStateError';
  return Object.assign(e, { code: 'closed' });
}

/**
 * The suite of an SFrameTransform (compatibility object): cipherSuite (name or IANA value),
 * else Safari's authenticationSize, else Safari's default (authenticationSize 10).
 * @param {{ cipherSuite?: unknown, authenticationSize?: unknown }} options
 * @returns {CipherSuiteInfo}
 */
function legacySuite(options) {
  if (options.cipherSuite !== undefined) {
    return cipherSuiteInfo(/** @type {string | number} */ (options.cipherSuite));
  }
  const size = options.authenticationSize === undefined ? 10 : Number(options.authenticationSize);
  const name = SUITE_BY_AUTH_SIZE.get(size);
  if (!name) throw new TypeError(`unsupported authenticationSize ${options.authenticationSize}`);
  return cipherSuiteInfo(name);
}

/**
 * @param {unknown} chunk
 * @returns {chunk is { data: ArrayBuffer, getMetadata?: () => { mimeType?: string } }}
 */
function isEncodedFrame(chunk) {
  return (
    chunk !== null &&
    typeof chunk === 'object' &&
    /** @type {{ data?: unknown }} */ (chunk).data instanceof ArrayBuffer
  );
}

/**
 * A view of a BufferSource chunk's bytes (no copy), or null for anything else.
 * @param {unknown} chunk
 * @returns {Uint8Array | null}
 */
function bufferSourceView(chunk) {
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return null;
}

/**
 * The KID of an SFrame part's header, or null when it has none (the KID of an error event).
 * @param {Uint8Array} sframe
 * @param {number} prefix bytes that hold any header (the suite's maxOverhead)
 * @returns {bigint | null}
 */
function keyIdOf(sframe, prefix) {
  try {
    return parseHeader(sframe.subarray(0, prefix)).keyId;
  } catch {
    return null; // not an SFrame header: a syntax error without key ID
  }
}

/**
 * The engine behind every object: one wasm Sender or Receiver, the TransformStream, the key
 * queue and the frame counters. It reports frame errors through `report` (the owner decides
 * whether they become events) and rejects key calls with the raw errors (sframe-core's
 * SFrameError, TypeError, RangeError, or `closed()`); owners map them to what their API says.
 */
class SFrameEngine {
  /** @type {'encrypt' | 'decrypt'} */
  role;
  /** @type {CipherSuiteInfo} */
  suite;
  /** @type {CompatibilityMode} */
  mode;
  /** @type {Sender | null} */
  #sender = null;
  /** @type {Receiver | null} */
  #receiver = null;
  /** @type {TransformStream} */
  stream;
  /** @type {TransformStreamDefaultController | null} */
  #controller = null;
  closed = false;
  /** @type {Promise<unknown>} */
  #keyQueue = Promise.resolve();
  /**
   * Encrypter: the WebCrypto form of the sender's current key, set in the same synchronous
   * step as the wasm key (null: wasm only). Read once per frame, at protectExternal.
   * @type {WebKey | null}
   */
  #txWeb = null;
  /**
   * Decrypter: the WebCrypto form of each installed key by KID, kept in step with the wasm
   * Receiver's keys (same synchronous step); `#rxExternal` counts external ones.
   * @type {Map<bigint, WebKey>}
   */
  #rxWeb = new Map();
  #rxExternal = 0;
  /** @type {SFrameStats} */
  stats = { frames: 0, passedThrough: 0, dropped: 0, droppedNoKey: 0, replayed: 0, errors: 0 };
  /** @type {(init: SFrameTransformErrorEventInit) => void} */
  #report;
  /** @type {() => Error} */
  #closedError;

  /**
   * @param {{ role: 'encrypt' | 'decrypt', suite: CipherSuiteInfo, compatibilityMode?: unknown,
   *   replayWindow?: number, report: (init: SFrameTransformErrorEventInit) => void,
   *   closedError: () => Error }} config
   */
  constructor({ role, suite, compatibilityMode, replayWindow, report, closedError }) {
    this.role = role;
    this.suite = suite;
    this.mode = /** @type {CompatibilityMode} */ (parseCompatibilityMode(compatibilityMode));
    this.#report = report;
    this.#closedError = closedError;
    if (role === 'encrypt') this.#sender = new Sender(suite.id);
    else this.#receiver = new Receiver(suite.id, { replayWindow });
    this.stream = new TransformStream({
      start: (controller) => {
        this.#controller = controller;
      },
      transform: (chunk, controller) => this.#transform(chunk, controller),
      // Writable closed: no frame can come any more.
      flush: () => this.release(),
      // Writable aborted or readable cancelled (Streams "transformer.cancel"; engines without
      // it free at close() or when the object is garbage-collected).
      // @ts-ignore: `cancel` is newer than TypeScript's Transformer type.
      cancel: () => this.release(),
    });
  }

  /** Frees the wasm object (zeroizing its keys), closes readable, errors writable. */
  close() {
    if (this.closed) return;
    this.release();
    try {
      this.#controller?.terminate();
    } catch {
      // Already closed or errored.
    }
  }

  release() {
    this.closed = true;
    this.#sender?.free();
    this.#receiver?.free();
    this.#sender = null;
    this.#receiver = null;
    this.#txWeb = null;
    this.#rxWeb.clear();
    this.#rxExternal = 0;
  }

  /**
   * Encrypter: makes `key` current under `kid`.
   * @param {SFrameKey} key
   * @param {bigint} kid
   */
  setEncryptionKey(key, kid) {
    return this.#enqueueKey(key, kid, (sender, _receiver, k) => {
      if (!sender) throw new TypeError('not an encrypter');
      if (k.external) sender.setExternalKey(kid, k.wasm.sframeSalt);
      else if ('baseKey' in k.wasm) sender.setKey(kid, k.wasm.baseKey);
      else sender.setDerivedKey(kid, k.wasm.sframeKey, k.wasm.sframeSalt);
      // Only once wasm took the key (a refused key leaves both forms as they were).
      this.#txWeb = k.web ? { web: k.web, external: k.external } : null;
    });
  }

  /**
   * Decrypter: installs (or replaces) the key for `kid`.
   * @param {SFrameKey} key
   * @param {bigint} kid
   */
  addDecryptionKey(key, kid) {
    return this.#enqueueKey(key, kid, (_sender, receiver, k) => {
      if (!receiver) throw new TypeError('not a decrypter');
      if (k.external) receiver.addExternalKey(kid, k.wasm.sframeSalt);
      else if ('baseKey' in k.wasm) receiver.addKey(kid, k.wasm.baseKey);
      else receiver.addDerivedKey(kid, k.wasm.sframeKey, k.wasm.sframeSalt);
      this.#setRxWeb(kid, k.web ? { web: k.web, external: k.external } : null);
    });
  }

  /**
   * Decrypter: removes the key for `kid` once earlier key changes have applied.
   * @param {bigint} kid
   * @returns {Promise<void>}
   */
  removeDecryptionKey(kid) {
    if (this.closed) return Promise.reject(this.#closedError());
    const done = this.#keyQueue.then(() => {
      if (this.closed || !this.#receiver) throw this.#closedError();
      this.#receiver.removeKey(kid);
      this.#setRxWeb(kid, null);
    });
    this.#keyQueue = done.catch(() => {});
    return done;
  }

  /**
   * Decrypter: the WebCrypto form of `kid`'s key (null: none, wasm only).
   * @param {bigint} kid
   * @param {WebKey | null} entry
   */
  #setRxWeb(kid, entry) {
    if (this.#rxWeb.get(kid)?.external) this.#rxExternal--;
    if (entry) this.#rxWeb.set(kid, entry);
    else this.#rxWeb.delete(kid);
    if (entry?.external) this.#rxExternal++;
  }

  /**
   * @param {SFrameKey} key
   * @param {bigint} kid
   * @param {(sender: Sender | null, receiver: Receiver | null, k: TransformKey) => void} apply
   * @returns {Promise<void>}
   */
  #enqueueKey(key, kid, apply) {
    if (this.closed) return Promise.reject(this.#closedError());
    // Derivation may run concurrently; installation follows call order.
    const derived = resolveTransformKey(key, kid, this.suite);
    const done = this.#keyQueue
      .then(() => derived)
      .then((k) => {
        try {
          if (this.closed) throw this.#closedError();
          apply(this.#sender, this.#receiver, k);
        } finally {
          // wasm copied the bytes (and zeroizes its copy); wipe the JS ones now.
          wipeKey(/** @type {import('./keys.js').ResolvedKey} */ (k.wasm));
        }
      });
    this.#keyQueue = done.catch(() => {});
    return done;
  }

  /**
   * The codec layout of a frame: the mode, or in "auto" the frame's MIME type.
   * @param {unknown} chunk
   * @param {boolean} encoded whether `chunk` is an encoded frame (isEncodedFrame)
   * @returns {import('./codec.js').Codec}
   */
  #codecFor(chunk, encoded) {
    if (this.mode !== 'auto') return this.mode;
    const frame = /** @type {{ getMetadata?: () => { mimeType?: string } }} */ (chunk);
    if (encoded && typeof frame.getMetadata === 'function') {
      return codecForMimeType(frame.getMetadata().mimeType);
    }
    return 'none';
  }

  /**
   * @param {unknown} chunk
   * @param {import('../index.js').SFrameTransformErrorEventType} errorType
   * @param {string} code
   * @param {bigint | null} keyID
   */
  #fail(chunk, errorType, code, keyID) {
    this.stats.dropped++;
    this.stats.errors++;
    this.#report({ errorType, keyID, frame: chunk, code });
  }

  /**
   * One frame. The cipher work is chosen per frame in #encrypt / #decrypt: the synchronous
   * wasm path, or the WebCrypto path (AES-GCM keys with a WebCrypto form: every frame of an
   * external key, frames of at least webCryptoMinBytes of a key with both forms), which
   * returns a Promise. #transform then returns that promise and the TransformStream awaits it
   * before it takes the next frame, so frames leave in the order they came, whichever path
   * each one took. That path settles with null for a dropped frame (after counting and
   * reporting it, as the wasm path does), never rejects: a rejected transform promise errors
   * the whole stream.
   * @param {unknown} chunk
   * @param {TransformStreamDefaultController} controller
   * @returns {void | Promise<void>}
   */
  #transform(chunk, controller) {
    // Closed (close() races a frame already queued): drop it, never pass it on unprocessed.
    if (this.closed) return;
    this.stats.frames++;
    const encoded = isEncodedFrame(chunk);
    const data = encoded ? new Uint8Array(chunk.data) : bufferSourceView(chunk);
    if (data === null) {
      this.#fail(chunk, 'syntax', 'invalid_argument', null);
      return;
    }
    // Empty frames (Chromium emits some 0-byte audio frames) carry nothing to protect.
    if (data.length === 0) {
      this.stats.passedThrough++;
      controller.enqueue(chunk);
      return;
    }
    const codec = this.#codecFor(chunk, encoded);
    /** @type {Uint8Array | null | Promise<Uint8Array | null>} */
    const out = this.#sender
      ? this.#encrypt(this.#sender, chunk, data, codec)
      : this.#decrypt(/** @type {Receiver} */ (this.#receiver), chunk, data, codec);
    if (out instanceof Promise) {
      return out.then((o) => {
        if (o !== null && !this.closed) this.#deliver(chunk, encoded, o, controller);
      });
    }
    if (out !== null) this.#deliver(chunk, encoded, out, controller);
  }

  /**
   * Encrypts one frame: the protected frame (or a promise of it), or null when the frame is
   * dropped (counted, and reported where the API reports). The WebCrypto form of the current
   * key is read here, in the same synchronous step as protectExternal takes the counter: a
   * key change between frames can never pair one key's nonce with another's AES key.
   * @param {Sender} sender
   * @param {unknown} chunk
   * @param {Uint8Array} data
   * @param {import('./codec.js').Codec} codec
   * @returns {Uint8Array | null | Promise<Uint8Array | null>}
   */
  #encrypt(sender, chunk, data, codec) {
    const tx = this.#txWeb;
    if (tx === null || (!tx.external && data.length < webCryptoMinBytes)) {
      return this.#encryptWasm(sender, chunk, data, codec);
    }
    /** @type {{ clear: Uint8Array, plaintext: Uint8Array }} */
    let layout;
    /** @type {Uint8Array} */
    let sealed;
    try {
      // As on the wasm path: the layout first (frame_too_short uses no counter), then the
      // counter — protectExternal has protect's counters, limits and errors.
      layout = senderLayout(codec, data);
      sealed = sender.protectExternal();
    } catch (e) {
      this.#encryptFailed(sender, chunk, e);
      return null;
    }
    const nonceLength = tx.web.suite.nonceLength;
    const nonce = sealed.subarray(0, nonceLength);
    const header = sealed.subarray(nonceLength);
    const { clear, plaintext } = layout;
    // AAD = header ‖ metadata (RFC 9605 §4.4.3), the codec's clear bytes being the metadata.
    const aad = aadOf(header, clear);
    return webCryptoEncrypt(tx.web, nonce, aad, plaintext).then(
      (ct) => {
        try {
          return joinProtected(codec, clear, header, ct);
        } catch {
          return this.#encryptLost(chunk, tx.web.kid);
        }
      },
      () => this.#encryptLost(chunk, tx.web.kid),
    );
  }

  /**
   * A frame WebCrypto failed to encrypt (not expected for a valid key and input): dropped and
   * counted like a frame wasm refuses; its counter stays used.
   * @param {unknown} chunk
   * @param {bigint} kid
   * @returns {null}
   */
  #encryptLost(chunk, kid) {
    this.#fail(chunk, 'keyID', 'invalid_key', kid);
    return null;
  }

  /**
   * Encrypts with the wasm Sender: the protected frame, or null when the frame is dropped.
   * @param {Sender} sender
   * @param {unknown} chunk
   * @param {Uint8Array} data
   * @param {import('./codec.js').Codec} codec
   * @returns {Uint8Array | null}
   */
  #encryptWasm(sender, chunk, data, codec) {
    try {
      // codec.js lays the frame out (clear part = SFrame metadata) and refuses frames too
      // short for their codec's layout before any counter is used.
      return protectFrame(codec, data, (plaintext, clear) => sender.protect(plaintext, clear));
    } catch (e) {
      this.#encryptFailed(sender, chunk, e);
      return null;
    }
  }

  /**
   * Counts and reports a frame the sender refused (either path).
   * @param {Sender} sender
   * @param {unknown} chunk
   * @param {unknown} e
   */
  #encryptFailed(sender, chunk, e) {
    const code = errorCodeOf(e);
    if (code === 'no_key') {
      // Before the first key (W3C issue #306): dropped and counted, never sent in clear.
      this.stats.dropped++;
      this.stats.droppedNoKey++;
      this.#report({ errorType: 'keyID', keyID: null, frame: chunk, code });
    } else if (code === 'frame_too_short') {
      this.#fail(chunk, 'syntax', code, null);
    } else {
      // counter_exhausted, key_usage_limit: the frame is never sent in clear.
      this.#fail(chunk, 'keyID', code, sender.keyId ?? null);
    }
  }

  /**
   * Decrypts one frame: the frame as sent (or a promise of it), or null when it is dropped.
   * Frames go to the wasm Receiver unless their key has a WebCrypto form and (external key, or
   * size ≥ webCryptoMinBytes); the KID is learnt from unprotectExternal, which parses, looks
   * up, checks limits and replay and changes nothing. It gets only the first maxOverhead
   * bytes of the SFrame part (or all of a shorter one): the header is at most maxOverhead −
   * tagLength bytes and the only other thing it reads is whether the part holds header and
   * tag, which that prefix answers exactly as the whole part — so a large frame is not copied
   * into wasm just to be parsed.
   * @param {Receiver} receiver
   * @param {unknown} chunk
   * @param {Uint8Array} data
   * @param {import('./codec.js').Codec} codec
   * @returns {Uint8Array | null | Promise<Uint8Array | null>}
   */
  #decrypt(receiver, chunk, data, codec) {
    /** @type {Uint8Array} */
    let clear;
    /** @type {Uint8Array} */
    let sframe;
    try {
      ({ clear, sframe } = splitProtected(codec, data));
    } catch (e) {
      this.#fail(chunk, 'syntax', errorCodeOf(e, 'malformed_frame'), null);
      return null;
    }
    const small = sframe.length < webCryptoMinBytes;
    if (this.#rxWeb.size === 0 || (small && this.#rxExternal === 0)) {
      return this.#decryptWasm(receiver, chunk, clear, sframe, codec);
    }
    /** @type {import('../pkg/sframe_wasm.js').Opening} */
    let opening;
    try {
      opening = receiver.unprotectExternal(sframe.subarray(0, this.suite.maxOverhead));
    } catch (e) {
      // unknown_key_id: no installed key — or a KID the receiver derives itself (ratchet,
      // MLS): the wasm path handles it (and reports an unknown KID exactly as before).
      if (errorCodeOf(e) === 'unknown_key_id') return this.#decryptWasm(receiver, chunk, clear, sframe, codec);
      this.#decryptFailed(chunk, e, () => keyIdOf(sframe, this.suite.maxOverhead));
      return null;
    }
    const kid = opening.keyId;
    const entry = this.#rxWeb.get(kid);
    if (entry === undefined || (small && !entry.external)) {
      opening.free();
      return this.#decryptWasm(receiver, chunk, clear, sframe, codec);
    }
    const web = entry.web; // captured now: a key replaced meanwhile fails commitExternal
    const headerLength = opening.headerLength;
    const header = sframe.subarray(0, headerLength);
    const aad = aadOf(header, clear);
    return webCryptoDecrypt(web, opening.nonce, aad, sframe.subarray(headerLength)).then(
      (pt) => {
        const rx = this.#receiver;
        try {
          if (rx === null) return null; // closed meanwhile: the frame is dropped
          // The tag verified: now the frame counts (replay window, usage); throws "replay"
          // for a copy committed meanwhile, "unknown_key_id" if the key was removed or
          // replaced while WebCrypto ran.
          rx.commitExternal(opening);
          return restoreFrameFrom(codec, clear, pt);
        } catch (e) {
          if (errorCodeOf(e) === 'unknown_key_id') {
            // The frame authenticated under the key its KID had when it arrived, and the
            // application replaced or removed that key while WebCrypto ran. On the
            // synchronous path the frame would have been done before the key call; here it
            // cannot be recorded under the new key, so it is dropped and counted — not
            // reported as a frame without a key, which it was not.
            this.stats.dropped++;
            return null;
          }
          this.#decryptFailed(chunk, e, () => kid);
          return null;
        } finally {
          opening.free();
        }
      },
      () => {
        // The tag did not verify: one authentication failure on the key; nothing else changes.
        const rx = this.#receiver;
        rx?.rejectExternal(opening);
        opening.free();
        if (rx !== null) this.#decryptFailed(chunk, { code: 'authentication_failed' }, () => kid);
        return null;
      },
    );
  }
  /**
   * Decrypts with the wasm Receiver: the frame as sent, or null when it is dropped.
   * @param {Receiver} receiver
   * @param {unknown} chunk
   * @param {Uint8Array} clear
   * @param {Uint8Array} sframe
   * @param {import('./codec.js').Codec} codec
   * @returns {Uint8Array | null}
   */
  #decryptWasm(receiver, chunk, clear, sframe, codec) {
    try {
      return restoreFrame(codec, clear, receiver.unprotect(sframe, clear));
    } catch (e) {
      this.#decryptFailed(chunk, e, () => keyIdOf(sframe, this.suite.maxOverhead));
      return null;
    }
  }

  /**
   * Counts and reports a frame the receiver refused (either path).
   * @param {unknown} chunk
   * @param {unknown} e
   * @param {() => bigint | null} keyID the frame's KID, if it has a header
   */
  #decryptFailed(chunk, e, keyID) {
    const code = errorCodeOf(e);
    if (code === 'replay') {
      // An authentic frame seen before (RFC 9605 §9): dropped, counted, no error event —
      // the network re-delivers frames now and then (seen in Chromium on video).
      this.stats.dropped++;
      this.stats.replayed++;
      return;
    }
    this.#fail(chunk, errorTypeFor(code), code, keyID());
  }

  /**
   * Passes the processed frame on: an encoded frame gets `out` as its data, a BufferSource
   * chunk is replaced (an ArrayBuffer by one, a view by a Uint8Array).
   * @param {unknown} chunk
   * @param {boolean} encoded
   * @param {Uint8Array} out
   * @param {TransformStreamDefaultController} controller
   */
  #deliver(chunk, encoded, out, controller) {
    // Hand over a buffer holding exactly the frame (codec.js and sframe-core return exact
    // fresh buffers except for H.264 escaping, which returns a view into a larger one).
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    if (encoded) {
      /** @type {{ data: ArrayBuffer }} */ (chunk).data = /** @type {ArrayBuffer} */ (out.buffer);
      controller.enqueue(chunk);
    } else {
      controller.enqueue(chunk instanceof ArrayBuffer ? out.buffer : out);
    }
  }
}

/**
 * Runs a spec key call: the key and keyID arguments are converted and checked first (a bad one
 * rejects with TypeError / RangeError), then sframe-core's refusal becomes an
 * InvalidModificationError DOMException (cause: the SFrameError).
 * @param {string} what
 * @param {unknown} key
 * @param {unknown} keyID
 * @param {(key: SFrameKey, kid: bigint) => Promise<void>} call
 * @returns {Promise<void>}
 */
function specKeyCall(what, key, keyID, call) {
  /** @type {bigint} */
  let kid;
  try {
    if (!isKeyArgument(key)) {
      throw new TypeError(`${what}: key must be a CryptoKey (or, as an extension, the key bytes)`);
    }
    kid = keyIdArgument(keyID, what);
  } catch (e) {
    return Promise.reject(e);
  }
  return call(/** @type {SFrameKey} */ (key), kid).catch((e) => {
    throw e?.name === 'SFrameError' ? keyRefused(what, e) : e;
  });
}

/**
 * W3C `SFrameEncrypterStream` (`new SFrameEncrypterStream({ cipherSuite })`): encrypts the
 * frames written to `writable` under the key of the last `setEncryptionKey` call and enqueues
 * them on `readable`. Not an EventTarget (W3C PR #309): frames it cannot encrypt — before the
 * first key, or too short for their codec's layout — are dropped and counted in `stats`.
 */
export class SFrameEncrypterStream {
  /** @type {SFrameEngine} */
  #engine;

  /** @param {import('../index.js').SFrameTransformOptions} options */
  constructor(options) {
    const o = parseSpecOptions(options, 'SFrameEncrypterStream');
    this.#engine = new SFrameEngine({
      role: 'encrypt',
      suite: cipherSuiteInfo(o.cipherSuite),
      compatibilityMode: o.compatibilityMode,
      report: () => {},
      closedError: () => closedState('SFrameEncrypterStream'),
    });
  }

  /** @returns {ReadableStream} */
  get readable() {
    return this.#engine.stream.readable;
  }

  /** @returns {WritableStream} */
  get writable() {
    return this.#engine.stream.writable;
  }

  /**
   * Makes `key` the encryption key under `keyID` (both required). Resolves once frames are
   * encrypted with it. Rejects with TypeError / RangeError for bad arguments, with an
   * InvalidModificationError DOMException when sframe-core refuses the key (its `cause.code`:
   * "key_in_use" — another live encrypter of this realm uses this key and KID — or
   * "invalid_key"; the stream keeps the key it had), InvalidStateError once closed.
   * @param {CryptoKey | BufferSource} key
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  setEncryptionKey(key, keyID) {
    return specKeyCall('SFrameEncrypterStream.setEncryptionKey', key, keyID, (k, kid) =>
      this.#engine.setEncryptionKey(k, kid),
    );
  }

  /** Extension: the cipher suite name. */
  get cipherSuite() {
    return this.#engine.suite.name;
  }

  /** Extension: frame counters (droppedNoKey: frames dropped before the first key). */
  get stats() {
    return { ...this.#engine.stats };
  }

  /**
   * Extension, idempotent: frees the wasm Sender (zeroizing its keys; its key and KID become
   * usable by another encrypter of this realm, which resumes their counter), closes
   * `readable`, errors `writable`. Done automatically when the stream ends.
   */
  close() {
    this.#engine.close();
  }

  /** Extension: whether close() was called or the stream ended. */
  get closed() {
    return this.#engine.closed;
  }
}

/**
 * `onerror` as an EventHandler attribute on an EventTarget.
 * @param {EventTarget} target
 * @param {{ handler: ((e: Event) => unknown) | null }} slot
 * @param {unknown} handler
 */
function setOnerror(target, slot, handler) {
  if (slot.handler) target.removeEventListener('error', slot.handler);
  slot.handler = typeof handler === 'function' ? /** @type {(e: Event) => unknown} */ (handler) : null;
  if (slot.handler) target.addEventListener('error', slot.handler);
}

/**
 * W3C `SFrameDecrypterStream` (`new SFrameDecrypterStream({ cipherSuite })`): decrypts the
 * frames written to `writable` with the key their KID names and enqueues them on `readable`.
 * A frame that fails is dropped and an "error" event (SFrameTransformErrorEvent) is fired:
 * errorType "authentication" (wrong key or altered frame), "keyID" (no key for its KID) or
 * "syntax" (not an SFrame frame). Replayed frames are dropped silently (stats.replayed).
 */
export class SFrameDecrypterStream extends EventTarget {
  /** @type {SFrameEngine} */
  #engine;
  /** @type {{ handler: ((e: Event) => unknown) | null }} */
  #onerror = { handler: null };

  /** @param {import('../index.js').SFrameTransformOptions} options */
  constructor(options) {
    const o = parseSpecOptions(options, 'SFrameDecrypterStream');
    super();
    this.#engine = new SFrameEngine({
      role: 'decrypt',
      suite: cipherSuiteInfo(o.cipherSuite),
      compatibilityMode: o.compatibilityMode,
      replayWindow: o.replayWindow,
      report: (init) => this.dispatchEvent(new SFrameTransformErrorEvent('error', init)),
      closedError: () => closedState('SFrameDecrypterStream'),
    });
  }

  /** @returns {ReadableStream} */
  get readable() {
    return this.#engine.stream.readable;
  }

  /** @returns {WritableStream} */
  get writable() {
    return this.#engine.stream.writable;
  }

  get onerror() {
    return this.#onerror.handler;
  }

  set onerror(handler) {
    setOnerror(this, this.#onerror, handler);
  }

  /**
   * Installs (or replaces) the key for `keyID` (both required). Keys apply in call order;
   * the promise resolves once the key is in force. Rejections as for setEncryptionKey.
   * @param {CryptoKey | BufferSource} key
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  addDecryptionKey(key, keyID) {
    return specKeyCall('SFrameDecrypterStream.addDecryptionKey', key, keyID, (k, kid) =>
      this.#engine.addDecryptionKey(k, kid),
    );
  }

  /**
   * Removes the key for `keyID` (resolves whether or not there was one), after earlier key
   * calls have applied.
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  removeDecryptionKey(keyID) {
    let kid;
    try {
      kid = keyIdArgument(keyID, 'SFrameDecrypterStream.removeDecryptionKey');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#engine.removeDecryptionKey(kid);
  }

  /** Extension: the cipher suite name. */
  get cipherSuite() {
    return this.#engine.suite.name;
  }

  /** Extension: frame counters. */
  get stats() {
    return { ...this.#engine.stats };
  }

  /** Extension, idempotent: frees the wasm Receiver (zeroizing its keys); see close(). */
  close() {
    this.#engine.close();
  }

  /** Extension: whether close() was called or the stream ended. */
  get closed() {
    return this.#engine.closed;
  }
}

/**
 * `new SFrameTransform({ role, cipherSuite | authenticationSize, compatibilityMode,
 * replayWindow })`: compatibility alias of the older combined SFrame object (Safari's shape,
 * drafts before W3C PR #282). `role` defaults to "encrypt"; `cipherSuite` may be a name or an
 * IANA value; without it Safari's `authenticationSize` picks the suite (default 10). Both roles
 * fire "error" events, key calls reject with sframe-core's SFrameError (with `code`) and
 * `keyID` may be omitted (0). On a decrypter `setEncryptionKey` adds a decryption key.
 */
export class SFrameTransform extends EventTarget {
  /** @type {SFrameEngine} */
  #engine;
  /** @type {{ handler: ((e: Event) => unknown) | null }} */
  #onerror = { handler: null };

  /** @param {import('../index.js').SFrameTransformLegacyOptions} [options] */
  constructor(options = {}) {
    super();
    const r = options.role ?? 'encrypt';
    if (r !== 'encrypt' && r !== 'decrypt') {
      throw new TypeError(`role must be "encrypt" or "decrypt" (got ${r})`);
    }
    this.#engine = new SFrameEngine({
      role: r,
      suite: legacySuite(options),
      compatibilityMode: options.compatibilityMode,
      replayWindow: options.replayWindow,
      report: (init) => this.dispatchEvent(new SFrameTransformErrorEvent('error', init)),
      closedError: legacyClosedError,
    });
  }

  /**
   * Frees the wasm Sender/Receiver (extension; idempotent): zeroizes its keys, closes
   * `readable` and errors `writable`. After it, key calls reject with code "closed". An
   * encrypter's key material becomes usable by another encrypter of this realm again, which
   * resumes its counter (an encrypter in another realm or worker would start at 0: give that
   * one a new key or a new KID).
   */
  close() {
    this.#engine.close();
  }

  /** Whether close() was called or the stream ended (extension). */
  get closed() {
    return this.#engine.closed;
  }

  /** "encrypt" or "decrypt". */
  get role() {
    return this.#engine.role;
  }

  /** The cipher suite name, e.g. "AES_128_GCM_SHA256_128". */
  get cipherSuite() {
    return this.#engine.suite.name;
  }

  /** The codec-compatibility mode in force ("auto", "none", "vp8", "h264", "opus"). */
  get compatibilityMode() {
    return this.#engine.mode;
  }

  /** @returns {ReadableStream} */
  get readable() {
    return this.#engine.stream.readable;
  }

  /** @returns {WritableStream} */
  get writable() {
    return this.#engine.stream.writable;
  }

  /** Frame counters (extension). */
  get stats() {
    return { ...this.#engine.stats };
  }

  get onerror() {
    return this.#onerror.handler;
  }

  set onerror(handler) {
    setOnerror(this, this.#onerror, handler);
  }

  /**
   * Encrypter: makes `key` current under `keyID`. Decrypter (Safari / older drafts): adds it
   * as a decryption key. Keys apply in call order; the promise settles once applied. A key
   * sframe-core refuses (e.g. "key_in_use": another live encrypter of this realm uses this
   * key and KID) rejects with its SFrameError and fires an "error" event (errorType "keyID").
   * @param {SFrameKey} key
   * @param {bigint | number} [keyID]
   * @returns {Promise<void>}
   */
  setEncryptionKey(key, keyID) {
    if (this.#engine.role === 'decrypt') return this.addDecryptionKey(key, keyID);
    return this.#legacyKeyCall(keyID, (kid) => this.#engine.setEncryptionKey(key, kid));
  }

  /**
   * Decrypter: installs (or replaces) the key for `keyID`.
   * @param {SFrameKey} key
   * @param {bigint | number} [keyID]
   * @returns {Promise<void>}
   */
  addDecryptionKey(key, keyID) {
    if (this.#engine.role !== 'decrypt') {
      return Promise.reject(new TypeError('addDecryptionKey needs role "decrypt"'));
    }
    return this.#legacyKeyCall(keyID, (kid) => this.#engine.addDecryptionKey(key, kid));
  }

  /**
   * Decrypter: removes the key for `keyID` (after earlier key changes have applied).
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  removeDecryptionKey(keyID) {
    if (this.#engine.role !== 'decrypt') {
      return Promise.reject(new TypeError('removeDecryptionKey needs role "decrypt"'));
    }
    if (this.#engine.closed) return Promise.reject(legacyClosedError());
    let kid;
    try {
      kid = normalizeKeyId(keyID);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#engine.removeDecryptionKey(kid);
  }

  /**
   * @param {bigint | number | undefined} keyID
   * @param {(kid: bigint) => Promise<void>} call
   * @returns {Promise<void>}
   */
  #legacyKeyCall(keyID, call) {
    if (this.#engine.closed) return Promise.reject(legacyClosedError());
    /** @type {bigint} */
    let kid;
    try {
      kid = normalizeKeyId(keyID);
    } catch (e) {
      return Promise.reject(e);
    }
    return call(kid).catch((e) => {
      // Refused by sframe-core (key_in_use, invalid_key, …): the app learns it from the
      // rejected promise and from an "error" event, so it is never silent — the transform
      // goes on with the key it had (an encrypter without one sends nothing).
      if (e?.name === 'SFrameError') {
        this.dispatchEvent(
          new SFrameTransformErrorEvent('error', { errorType: 'keyID', keyID: kid, frame: null, code: e.code }),
        );
      }
      throw e;
    });
  }
}
