// SFrameTransform, SFrameEncrypterStream, SFrameDecrypterStream: the W3C WebRTC Encoded
// Transform interfaces (and Safari's older SFrameTransform shape) on top of sframe-core.
//
// They are GenericTransformStreams (readable / writable, usable with pipeThrough) and
// EventTargets ("error" events, onerror). Frames may be RTCEncodedVideoFrame /
// RTCEncodedAudioFrame (their .data is replaced) or plain BufferSources.
//
// Key hygiene: each transform owns one wasm Sender (encrypt) or Receiver (decrypt) and frees
// it — zeroizing its keys in wasm memory — as soon as the stream ends (writable closed or
// aborted, readable cancelled) or close() is called. JS copies of key bytes are wiped once
// wasm has taken them. All transforms of one JS realm share this module's wasm instance, so
// sframe-core's per-thread registry sees every encrypter: a second live encrypter given the
// key material and KID another one uses is refused with "key_in_use" (two Senders under one key
// would repeat every counter, i.e. every AES-GCM/CTR nonce).

import { Sender, Receiver, parseHeader, cipherSuiteInfo, cipherSuites } from './wasm.js';
import {
  codecForMimeType,
  parseCompatibilityMode,
  protectFrame,
  restoreFrame,
  splitProtected,
} from './codec.js';
import { normalizeKeyId, resolveKey, wipeKey } from './keys.js';

/**
 * Safari's authenticationSize (tag bytes) → cipher suite: Safari's SFrameTransform predates
 * the cipherSuite option and only knows the SHA-256 suites (AES-128-CTR + HMAC-SHA256 with a
 * 10, 8 or 4-byte tag; AES-128-GCM with 16). Built from the core's suite list: the first
 * SHA-256 suite with that tag length.
 */
const SUITE_BY_AUTH_SIZE = new Map();
for (const s of cipherSuites()) {
  if (s.hash === 'SHA-256' && !SUITE_BY_AUTH_SIZE.has(s.tagLength)) {
    SUITE_BY_AUTH_SIZE.set(s.tagLength, s.name);
  }
}

/** W3C SFrameTransformErrorEvent: errorType "authentication" | "keyID" | "syntax". */
export class SFrameTransformErrorEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    /** @type {'authentication' | 'keyID' | 'syntax'} */
    this.errorType = init.errorType;
    /** The frame's key ID (bigint) when known, else null. */
    this.keyID = init.keyID ?? null;
    /** The frame that failed (it was dropped). */
    this.frame = init.frame ?? null;
    /** sframe-core's error code, e.g. "authentication_failed" (extension). */
    this.code = init.code ?? null;
  }
}

/** Decrypt-side core error codes → W3C errorType. */
function errorTypeFor(code) {
  switch (code) {
    case 'unknown_key_id':
      return 'keyID';
    case 'authentication_failed':
    case 'key_usage_limit':
      return 'authentication';
    default:
      return 'syntax';
  }
}

/** What key calls on a closed transform reject with. */
function closedError() {
  const e = new Error('the SFrame transform is closed');
  e.name = 'InvalidStateError';
  e.code = 'closed';
  return e;
}

function resolveSuite(options) {
  if (options.cipherSuite !== undefined) return cipherSuiteInfo(options.cipherSuite);
  if (options.authenticationSize !== undefined) {
    const name = SUITE_BY_AUTH_SIZE.get(Number(options.authenticationSize));
    if (!name) throw new TypeError(`unsupported authenticationSize ${options.authenticationSize}`);
    return cipherSuiteInfo(name);
  }
  // Safari's default: authenticationSize 10.
  return cipherSuiteInfo(/** @type {string} */ (SUITE_BY_AUTH_SIZE.get(10)));
}

function isEncodedFrame(chunk) {
  return chunk !== null && typeof chunk === 'object' && chunk.data instanceof ArrayBuffer;
}

function frameBytes(chunk) {
  if (isEncodedFrame(chunk)) return new Uint8Array(chunk.data);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return null;
}

/**
 * The shared implementation. `role` is "encrypt" or "decrypt".
 */
class SFrameStream extends EventTarget {
  #role;
  #suite;
  #mode;
  #sender = null;
  #receiver = null;
  #stream;
  #controller = null;
  #closed = false;
  #onerror = null;
  #keyQueue = Promise.resolve();
  #stats = { frames: 0, passedThrough: 0, dropped: 0, replayed: 0, errors: 0 };

  constructor(options = {}, role = undefined) {
    super();
    const r = role ?? options.role ?? 'encrypt';
    if (r !== 'encrypt' && r !== 'decrypt') {
      throw new TypeError(`role must be "encrypt" or "decrypt" (got ${r})`);
    }
    this.#role = r;
    this.#suite = resolveSuite(options);
    this.#mode = parseCompatibilityMode(options.compatibilityMode);
    if (r === 'encrypt') this.#sender = new Sender(this.#suite.id);
    else this.#receiver = new Receiver(this.#suite.id);
    if (options.replayWindow !== undefined && this.#receiver) {
      try {
        this.#receiver.setReplayWindow(options.replayWindow);
      } catch (e) {
        this.#release(); // a constructor that throws must not leave a wasm object behind
        throw e;
      }
    }
    this.#stream = new TransformStream({
      start: (controller) => {
        this.#controller = controller;
      },
      transform: (chunk, controller) => this.#transform(chunk, controller),
      // Writable closed: no frame can come any more.
      flush: () => this.#release(),
      // Writable aborted or readable cancelled (Streams "transformer.cancel"; engines without
      // it free at close() or when the object is garbage-collected).
      cancel: () => this.#release(),
    });
  }

  /**
   * Ends the transform (extension; idempotent): frees the wasm Sender/Receiver, which
   * zeroizes its keys, closes `readable` and errors `writable` (a pipe into it stops). After
   * it, key calls reject with code "closed" and no frame is processed. An encrypter's key
   * material becomes usable by another encrypter of this realm again — which then starts at
   * counter 0: give the new one a new key or a new KID, never the pair used before.
   */
  close() {
    if (this.#closed) return;
    this.#release();
    try {
      this.#controller?.terminate();
    } catch {
      // Already closed or errored.
    }
  }

  /** Whether close() was called or the stream ended (extension). */
  get closed() {
    return this.#closed;
  }

  #release() {
    this.#closed = true;
    this.#sender?.free();
    this.#receiver?.free();
    this.#sender = null;
    this.#receiver = null;
  }

  /** "encrypt" or "decrypt". */
  get role() {
    return this.#role;
  }

  /** The cipher suite name, e.g. "AES_128_GCM_SHA256_128". */
  get cipherSuite() {
    return this.#suite.name;
  }

  /** The codec-compatibility mode in force ("auto", "none", "vp8", "h264", "opus"). */
  get compatibilityMode() {
    return this.#mode;
  }

  get readable() {
    return this.#stream.readable;
  }

  get writable() {
    return this.#stream.writable;
  }

  /**
   * Frame counters (extension): frames seen, 0-byte frames passed through, frames dropped,
   * of which replays (dropped silently) and errors (each with an "error" event).
   */
  get stats() {
    return { ...this.#stats };
  }

  get onerror() {
    return this.#onerror;
  }

  set onerror(handler) {
    if (this.#onerror) this.removeEventListener('error', this.#onerror);
    this.#onerror = typeof handler === 'function' ? handler : null;
    if (this.#onerror) this.addEventListener('error', this.#onerror);
  }

  /**
   * Encrypter: makes `key` current under `keyID`. Decrypter (Safari / older drafts): adds
   * it as a decryption key. Keys apply in call order; the promise settles once applied.
   * An encrypter refuses key material and KID that another live encrypter of this realm uses
   * (code "key_in_use"): the promise rejects and an "error" event is dispatched.
   */
  setEncryptionKey(key, keyID) {
    if (this.#role === 'decrypt') return this.addDecryptionKey(key, keyID);
    return this.#enqueueKey(key, keyID, (kid, k) =>
      k.baseKey
        ? this.#sender.setKey(kid, k.baseKey)
        : this.#sender.setDerivedKey(kid, k.sframeKey, k.sframeSalt),
    );
  }

  /** Decrypter: installs (or replaces) the key for `keyID`. */
  addDecryptionKey(key, keyID) {
    if (this.#role !== 'decrypt') {
      return Promise.reject(new TypeError('addDecryptionKey needs role "decrypt"'));
    }
    return this.#enqueueKey(key, keyID, (kid, k) =>
      k.baseKey
        ? this.#receiver.addKey(kid, k.baseKey)
        : this.#receiver.addDerivedKey(kid, k.sframeKey, k.sframeSalt),
    );
  }

  /** Decrypter: removes the key for `keyID` (after earlier key changes have applied). */
  removeDecryptionKey(keyID) {
    if (this.#role !== 'decrypt') {
      return Promise.reject(new TypeError('removeDecryptionKey needs role "decrypt"'));
    }
    if (this.#closed) return Promise.reject(closedError());
    let kid;
    try {
      kid = normalizeKeyId(keyID);
    } catch (e) {
      return Promise.reject(e);
    }
    const done = this.#keyQueue.then(() => {
      if (this.#closed) throw closedError();
      this.#receiver.removeKey(kid);
    });
    this.#keyQueue = done.catch(() => {});
    return done;
  }

  #enqueueKey(key, keyID, apply) {
    if (this.#closed) return Promise.reject(closedError());
    let kid;
    try {
      kid = normalizeKeyId(keyID);
    } catch (e) {
      return Promise.reject(e);
    }
    // Derivation may run concurrently; installation follows call order.
    const derived = resolveKey(key, kid, this.#suite);
    const done = this.#keyQueue
      .then(() => derived)
      .then((k) => {
        try {
          if (this.#closed) throw closedError();
          apply(kid, k);
        } catch (e) {
          // Refused by sframe-core (key_in_use, invalid_key, …): the app learns it from the
          // rejected promise and from an "error" event, so it is never silent — the
          // transform goes on with the key it had (an encrypter without one sends nothing).
          if (e?.name === 'SFrameError') {
            this.dispatchEvent(
              new SFrameTransformErrorEvent('error', { errorType: 'keyID', keyID: kid, code: e.code }),
            );
          }
          throw e;
        } finally {
          // wasm copied the bytes (and zeroizes its copy); wipe the JS ones now.
          wipeKey(k);
        }
      });
    this.#keyQueue = done.catch(() => {});
    return done;
  }

  #codecFor(chunk) {
    if (this.#mode !== 'auto') return this.#mode;
    if (isEncodedFrame(chunk) && typeof chunk.getMetadata === 'function') {
      return codecForMimeType(chunk.getMetadata().mimeType);
    }
    return 'none';
  }

  #fail(chunk, errorType, code, keyID) {
    this.#stats.dropped++;
    this.#stats.errors++;
    this.dispatchEvent(
      new SFrameTransformErrorEvent('error', { errorType, keyID, frame: chunk, code }),
    );
  }

  #transform(chunk, controller) {
    // Closed (close() races a frame already queued): drop it, never pass it on unprocessed.
    if (this.#closed) return;
    this.#stats.frames++;
    const data = frameBytes(chunk);
    if (data === null) {
      this.#fail(chunk, 'syntax', 'invalid_argument', null);
      return;
    }
    // Empty frames (Chromium emits some 0-byte audio frames) carry nothing to protect.
    if (data.length === 0) {
      this.#stats.passedThrough++;
      controller.enqueue(chunk);
      return;
    }
    const codec = this.#codecFor(chunk);
    let out;
    if (this.#role === 'encrypt') {
      try {
        // codec.js lays the frame out (clear part = SFrame metadata) and refuses frames too
        // short for their codec's layout before any counter is used.
        out = protectFrame(codec, data, (plaintext, clear) => this.#sender.protect(plaintext, clear));
      } catch (e) {
        const code = e?.code ?? 'unknown';
        if (code === 'frame_too_short') this.#fail(chunk, 'syntax', code, null);
        // no_key, counter_exhausted, key_usage_limit: the frame is never sent in clear.
        else this.#fail(chunk, 'keyID', code, this.#sender.keyId ?? null);
        return;
      }
    } else {
      let clear;
      let sframe;
      try {
        ({ clear, sframe } = splitProtected(codec, data));
      } catch (e) {
        this.#fail(chunk, 'syntax', e?.code ?? 'malformed_frame', null);
        return;
      }
      let keyID = null;
      try {
        out = restoreFrame(codec, clear, this.#receiver.unprotect(sframe, clear));
      } catch (e) {
        const code = e?.code ?? 'unknown';
        if (code === 'replay') {
          // An authentic frame seen before (RFC 9605 §9): dropped, counted, no error event —
          // the network re-delivers frames now and then (seen in Chromium on video).
          this.#stats.dropped++;
          this.#stats.replayed++;
          return;
        }
        try {
          keyID = parseHeader(sframe).keyId;
        } catch {
          // Not an SFrame header: a syntax error without key ID.
        }
        this.#fail(chunk, errorTypeFor(code), code, keyID);
        return;
      }
    }
    // Hand over a buffer holding exactly the frame.
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    if (isEncodedFrame(chunk)) {
      chunk.data = out.buffer;
      controller.enqueue(chunk);
    } else {
      controller.enqueue(chunk instanceof ArrayBuffer ? out.buffer : out);
    }
  }
}

/**
 * `new SFrameTransform({ role, cipherSuite | authenticationSize, compatibilityMode })`: the
 * W3C interface with Safari's options accepted. `role` defaults to "encrypt".
 */
export class SFrameTransform extends SFrameStream {
  constructor(options = {}) {
    super(options);
  }
}

/** W3C SFrameEncrypterStream. */
export class SFrameEncrypterStream extends SFrameStream {
  constructor(options = {}) {
    super(options, 'encrypt');
  }
}

/** W3C SFrameDecrypterStream (keys via addDecryptionKey / removeDecryptionKey). */
export class SFrameDecrypterStream extends SFrameStream {
  constructor(options = {}) {
    super(options, 'decrypt');
  }
}
