// @ts-check
// The stream objects of the W3C WebRTC Encoded Transform SFrame API, on top of sframe-core:
//
//   SFrameEncryptorStream  — spec (PR #282, #288, #309; named by #312): readable / writable,
//                            setEncryptionKey; NOT an EventTarget (#309). Frames it cannot
//                            encrypt are dropped and counted (stats), never passed on in clear.
//   SFrameDecryptorStream  — spec: an EventTarget with addDecryptionKey, removeDecryptionKey and
//                            "error" events (SFrameTransformErrorEvent).
//   SFrameTransform        — compatibility alias of the older combined object (Safari's shape and
//                            drafts before #282): `role` option, setEncryptionKey on both roles,
//                            error events on both roles, rejections with sframe-core's errors.
//
// All are GenericTransformStreams (usable with pipeThrough). Frames may be
// RTCEncodedVideoFrame / RTCEncodedAudioFrame (their .data is replaced) or plain BufferSources.
//
// The #308 names SFrameEncrypterStream / SFrameDecrypterStream are aliases: the same classes.
//
// The per-frame work is pipeline.js (SFrameEngine); these classes are its W3C shells.

import { cipherSuiteInfo, cipherSuites } from './wasm.js';
import { normalizeKeyId } from './keys.js';
import {
  SFrameTransformErrorEvent,
  closedState,
  isKeyArgument,
  keyIdArgument,
  keyRefused,
  parseSpecOptions,
} from './spec.js';
import { SFrameEngine } from './pipeline.js';

export { SFrameTransformErrorEvent };

/** @typedef {import('../index.js').CipherSuiteInfo} CipherSuiteInfo */
/** @typedef {import('../index.js').SFrameKey} SFrameKey */

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
 * W3C `SFrameEncryptorStream` (`new SFrameEncryptorStream({ cipherSuite })`): encrypts the
 * frames written to `writable` under the key of the last `setEncryptionKey` call and enqueues
 * them on `readable`. Not an EventTarget (W3C PR #309): frames it cannot encrypt — before the
 * first key, or too short for their codec's layout — are dropped and counted in `stats`.
 */
export class SFrameEncryptorStream {
  /** @type {SFrameEngine} */
  #engine;

  /** @param {import('../index.js').SFrameTransformOptions} options */
  constructor(options) {
    const o = parseSpecOptions(options, 'SFrameEncryptorStream');
    this.#engine = new SFrameEngine({
      role: 'encrypt',
      suite: cipherSuiteInfo(o.cipherSuite),
      compatibilityMode: o.compatibilityMode,
      report: () => {},
      closedError: () => closedState('SFrameEncryptorStream'),
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
   * "key_in_use" — another live encryptor of this realm uses this key and KID — or
   * "invalid_key"; the stream keeps the key it had), InvalidStateError once closed.
   * @param {CryptoKey | BufferSource} key
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  setEncryptionKey(key, keyID) {
    return specKeyCall('SFrameEncryptorStream.setEncryptionKey', key, keyID, (k, kid) =>
      this.#engine.setEncryptionKey(k, kid),
    );
  }

  /** Extension: the cipher suite name. */
  get cipherSuite() {
    return this.#engine.suite.name;
  }

  /** Extension: frame counters (droppedNoKey: frames dropped before the first key). */
  get stats() {
    return this.#engine.snapshot();
  }

  /**
   * Extension, idempotent: frees the wasm Sender (zeroizing its keys; its key and KID become
   * usable by another encryptor of this realm, which resumes their counter), closes
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
 * W3C `SFrameDecryptorStream` (`new SFrameDecryptorStream({ cipherSuite })`): decrypts the
 * frames written to `writable` with the key their KID names and enqueues them on `readable`.
 * A frame that fails is dropped and an "error" event (SFrameTransformErrorEvent) is fired:
 * errorType "authentication" (wrong key or altered frame), "keyID" (no key for its KID) or
 * "syntax" (not an SFrame frame). Replayed frames are dropped silently (stats.replayed).
 * Extension `keyWait` (W3C issues #289 / #306): a frame whose KID has no key yet waits for it
 * (bounded: `{ maxFrames, maxBytes, maxAgeMs }`, oldest dropped first) and is decrypted and
 * enqueued, in order, once addDecryptionKey installs that key; its "keyID" failure (event)
 * comes only if it is dropped from the buffer instead. `keyWait: { maxFrames: 0 }`: no wait.
 */
export class SFrameDecryptorStream extends EventTarget {
  /** @type {SFrameEngine} */
  #engine;
  /** @type {{ handler: ((e: Event) => unknown) | null }} */
  #onerror = { handler: null };

  /** @param {import('../index.js').SFrameTransformOptions} options */
  constructor(options) {
    const o = parseSpecOptions(options, 'SFrameDecryptorStream');
    super();
    this.#engine = new SFrameEngine({
      role: 'decrypt',
      suite: cipherSuiteInfo(o.cipherSuite),
      compatibilityMode: o.compatibilityMode,
      replayWindow: o.replayWindow,
      keyWait: o.keyWait,
      report: (init) => this.dispatchEvent(new SFrameTransformErrorEvent('error', init)),
      closedError: () => closedState('SFrameDecryptorStream'),
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
    return specKeyCall('SFrameDecryptorStream.addDecryptionKey', key, keyID, (k, kid) =>
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
      kid = keyIdArgument(keyID, 'SFrameDecryptorStream.removeDecryptionKey');
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
    return this.#engine.snapshot();
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
 * `keyID` may be omitted (0). On a decryptor `setEncryptionKey` adds a decryption key.
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
      keyWait: options.keyWait,
      report: (init) => this.dispatchEvent(new SFrameTransformErrorEvent('error', init)),
      closedError: legacyClosedError,
    });
  }

  /**
   * Frees the wasm Sender/Receiver (extension; idempotent): zeroizes its keys, closes
   * `readable` and errors `writable`. After it, key calls reject with code "closed". An
   * encryptor's key material becomes usable by another encryptor of this realm again, which
   * resumes its counter (an encryptor in another realm or worker would start at 0: give that
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

  /** The codec-compatibility mode in force: "auto" or a codec.js Codec ("none", "vp8", "h264", …). */
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
    return this.#engine.snapshot();
  }

  get onerror() {
    return this.#onerror.handler;
  }

  set onerror(handler) {
    setOnerror(this, this.#onerror, handler);
  }

  /**
   * Encryptor: makes `key` current under `keyID`. Decryptor (Safari / older drafts): adds it
   * as a decryption key. Keys apply in call order; the promise settles once applied. A key
   * sframe-core refuses (e.g. "key_in_use": another live encryptor of this realm uses this
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
   * Decryptor: installs (or replaces) the key for `keyID`.
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
   * Decryptor: removes the key for `keyID` (after earlier key changes have applied).
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
      // goes on with the key it had (an encryptor without one sends nothing).
      if (e?.name === 'SFrameError') {
        this.dispatchEvent(
          new SFrameTransformErrorEvent('error', { errorType: 'keyID', keyID: kid, frame: null, code: e.code }),
        );
      }
      throw e;
    });
  }
}

/** W3C PR #308's name of SFrameEncryptorStream (renamed by PR #312): the same class. */
export const SFrameEncrypterStream = SFrameEncryptorStream;
/** W3C PR #308's name of SFrameDecryptorStream (renamed by PR #312): the same class. */
export const SFrameDecrypterStream = SFrameDecryptorStream;
