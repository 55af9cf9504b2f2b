// @ts-check
// The per-frame pipeline behind every SFrame object of the package (streams.js, and through
// the worker w3c.js): codec layout (codec.js) → sframe-core (wasm) or WebCrypto → frame out.
//
// Key hygiene: each object owns one wasm Sender (encrypt) or Receiver (decrypt) and frees it —
// zeroizing its keys in wasm memory — as soon as the stream ends (writable closed or aborted,
// readable cancelled) or close() is called. JS copies of key bytes are wiped once wasm has
// them. All objects of one JS realm share this module's wasm instance, so sframe-core's
// registry (one per instance) sees every encryptor: a second live encryptor given the key
// material and KID another one uses is refused with "key_in_use" (two Senders under one key
// would repeat every counter, i.e. every AES-GCM/CTR nonce), and one given a closed
// encryptor's key resumes its counter.
//
// Frames before their key (W3C issues #289 / #306, RFC 9605 §4.4.4): a decryptor keeps a frame
// whose KID has no key (it would fail with "unknown_key_id") in sframe-core's bounded
// KeyWaitBuffer (the wasm module's tag-only instantiation: the frame object stays here, in
// #held by its tag) and, once addDecryptionKey installs that KID's key, decrypts and enqueues
// the frames it kept, oldest first, before any frame that arrives later. The bounds and the
// order of drops are the core's; this file keeps the objects and counts.

import { ErrorRuns, KeyWaitBuffer, Sender, Receiver, parseHeader } from './wasm.js';
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
import { resolveTransformKey, wipeKey } from './keys.js';
import { frameStream } from './frame-stream.js';
import { webCryptoDecrypt, webCryptoEncrypt } from './webcrypto.js';
import { errorCodeOf, errorTypeFor, parseKeyWait } from './spec.js';

/** @typedef {import('../index.js').CipherSuiteInfo} CipherSuiteInfo */
/** @typedef {import('../index.js').SFrameStats} SFrameStats */
/** @typedef {import('../index.js').SFrameKey} SFrameKey */
/** @typedef {import('../index.js').SFrameTransformErrorEventInit} SFrameTransformErrorEventInit */
/** @typedef {import('./keys.js').TransformKey} TransformKey */
/** @typedef {import('./frame-stream.js').FrameStreamController} FrameStreamController */
/** @typedef {import('./webcrypto.js').WebCryptoSFrameKey} WebCryptoSFrameKey */
/** @typedef {{ web: WebCryptoSFrameKey, external: boolean }} WebKey */
/**
 * A frame waiting for its key (by its tag in #held): what #process needs to take it up again.
 * @typedef {{ chunk: SFrameErrorFrame, encoded: boolean, data: Uint8Array,
 *   codec: import('./codec.js').Codec }} HeldFrame
 */
/** @typedef {import('../index.js').SFrameKeyWaitDrops} KeyWaitDrops */

/** @type {() => number} */
let clock = () => performance.now();

/**
 * Internal (tests; not exported by the package index): the clock of the key-wait buffers, in
 * milliseconds (default performance.now()); undefined restores it. Returns the previous one.
 * @param {(() => number) | undefined} fn
 */
export function setKeyWaitClock(fn) {
  const before = clock;
  clock = fn ?? (() => performance.now());
  return before;
}


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
/** @typedef {import('../index.js').SFrameErrorFrame} SFrameErrorFrame */

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
 * The engine behind every object: one wasm Sender or Receiver, the stream pair (frame-stream.js), the key
 * queue and the frame counters. It reports frame errors through `report` (the owner decides
 * whether they become events) and rejects key calls with the raw errors (sframe-core's
 * SFrameError, TypeError, RangeError, or `closed()`); owners map them to what their API says.
 */
export class SFrameEngine {
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
  /** @type {{ readable: ReadableStream, writable: WritableStream }} */
  stream;
  /** @type {FrameStreamController | null} */
  #controller = null;
  closed = false;
  /** @type {Promise<unknown>} */
  #keyQueue = Promise.resolve();
  /**
   * Encryptor: the WebCrypto form of the sender's current key, set in the same synchronous
   * step as the wasm key (null: wasm only). Read once per frame, at protectExternal.
   * @type {WebKey | null}
   */
  #txWeb = null;
  /**
   * Decryptor: the WebCrypto form of each installed key by KID, kept in step with the wasm
   * Receiver's keys (same synchronous step); `#rxExternal` counts external ones.
   * @type {Map<bigint, WebKey>}
   */
  #rxWeb = new Map();
  #rxExternal = 0;
  /**
   * Decryptor: folds its failures into one report per run of identical ones (same errorType
   * and KID; a decrypted frame ends the run) — sframe_core::report, the rule of libwebrtc's
   * native SFrame for W3C issue #307. Not freed with the Receiver: it holds no secret, and its
   * counts stay readable in stats after the stream ended (garbage-collected with the engine).
   * @type {ErrorRuns | null}
   */
  #runs = null;
  /** Whether #runs observed a failure since the last success (a run may be going on). */
  #inRun = false;
  /** @type {SFrameStats} */
  stats = {
    frames: 0,
    passedThrough: 0,
    dropped: 0,
    droppedNoKey: 0,
    replayed: 0,
    errors: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    failures: { authentication: 0, keyID: 0, syntax: 0 },
  };
  /**
   * Decryptor: the KIDs of the installed keys (what addDecryptionKey added and
   * removeDecryptionKey did not remove: as many as the application installs), for the
   * per-key statistics the wasm Receiver keeps (Receiver.usage).
   * @type {Set<bigint>}
   */
  #rxKids = new Set();
  /**
   * Decryptor: the per-key statistics as they were when the Receiver was freed.
   * @type {import('../index.js').SFrameKeyStats[] | null}
   */
  #finalKeys = null;
  /**
   * Decryptor: frames whose KID has no key yet, waiting for it (null: keyWait.maxFrames 0, an
   * encryptor, or released). The wasm buffer keeps tags, bounds and order; #held the frames.
   * @type {KeyWaitBuffer | null}
   */
  #wait = null;
  /** @type {Map<number, HeldFrame>} */
  #held = new Map();
  #nextTag = 0;
  #releasedFromBuffer = 0;
  /** @type {KeyWaitDrops} */
  #droppedFromBuffer = { overflow: 0, expired: 0, tooBig: 0, removed: 0, closed: 0 };
  /**
   * The processing in flight: a frame on the WebCrypto path, or frames released from the
   * key-wait buffer. Work that comes meanwhile (the next frame, a release) runs after it, so
   * frames leave in the order they are taken up (#serial). null: nothing in flight.
   * @type {Promise<void> | null}
   */
  #inflight = null;
  /** @type {(init: SFrameTransformErrorEventInit) => void} */
  #report;
  /** @type {() => Error} */
  #closedError;

  /**
   * @param {{ role: 'encrypt' | 'decrypt', suite: CipherSuiteInfo, compatibilityMode?: unknown,
   *   replayWindow?: number, keyWait?: unknown, report: (init: SFrameTransformErrorEventInit) => void,
   *   closedError: () => Error }} config
   */
  constructor({ role, suite, compatibilityMode, replayWindow, keyWait, report, closedError }) {
    this.role = role;
    this.suite = suite;
    this.mode = /** @type {CompatibilityMode} */ (parseCompatibilityMode(compatibilityMode));
    this.#report = report;
    this.#closedError = closedError;
    if (role === 'encrypt') this.#sender = new Sender(suite.id);
    else {
      const wait = parseKeyWait(keyWait, 'keyWait');
      this.#receiver = new Receiver(suite.id, { replayWindow });
      this.#runs = new ErrorRuns();
      if (wait.maxFrames > 0) {
        try {
          this.#wait = new KeyWaitBuffer(wait.maxFrames, wait.maxBytes, wait.maxAgeMs);
        } catch (e) {
          this.#receiver.free();
          throw e;
        }
      }
    }
    const { readable, writable, controller } = frameStream({
      transform: (chunk) => this.#serial(() => this.#transform(chunk, controller)),
      // Writable closed: no frame can come any more (frames released from the key-wait
      // buffer meanwhile are finished first; those still waiting are dropped).
      flush: () => (this.#inflight ? this.#inflight.then(() => this.release()) : this.release()),
      // Writable aborted or readable cancelled.
      cancel: () => this.release(),
    });
    this.stream = { readable, writable };
    this.#controller = controller;
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
    if (this.#receiver && this.#finalKeys === null) this.#finalKeys = this.#keyStats();
    this.closed = true;
    if (this.#wait) {
      // Frames still waiting for a key are dropped with the stream: counted, no event.
      this.#droppedFromBuffer.closed += this.#held.size;
      this.stats.dropped += this.#held.size;
      this.#held.clear();
      this.#wait.free();
      this.#wait = null;
    }
    this.#sender?.free();
    this.#receiver?.free();
    this.#sender = null;
    this.#receiver = null;
    this.#txWeb = null;
    this.#rxWeb.clear();
    this.#rxExternal = 0;
  }

  /**
   * Encryptor: makes `key` current under `kid`.
   * @param {SFrameKey} key
   * @param {bigint} kid
   */
  setEncryptionKey(key, kid) {
    return this.#enqueueKey(key, kid, (sender, _receiver, k) => {
      if (!sender) throw new TypeError('not an encryptor');
      if (k.external) sender.setExternalKey(kid, k.wasm.sframeSalt);
      else if ('baseKey' in k.wasm) sender.setKey(kid, k.wasm.baseKey);
      else sender.setDerivedKey(kid, k.wasm.sframeKey, k.wasm.sframeSalt);
      // Only once wasm took the key (a refused key leaves both forms as they were).
      this.#txWeb = k.web ? { web: k.web, external: k.external } : null;
    });
  }

  /**
   * Decryptor: installs (or replaces) the key for `kid`.
   * @param {SFrameKey} key
   * @param {bigint} kid
   */
  addDecryptionKey(key, kid) {
    return this.#enqueueKey(key, kid, (_sender, receiver, k) => {
      if (!receiver) throw new TypeError('not a decryptor');
      if (k.external) receiver.addExternalKey(kid, k.wasm.sframeSalt);
      else if ('baseKey' in k.wasm) receiver.addKey(kid, k.wasm.baseKey);
      else receiver.addDerivedKey(kid, k.wasm.sframeKey, k.wasm.sframeSalt);
      this.#setRxWeb(kid, k.web ? { web: k.web, external: k.external } : null);
      this.#rxKids.add(kid);
      // Frames that waited for this key: decrypted and enqueued now (or after the frame in
      // flight), before any frame taken up later; the call resolves once they are.
      if (this.#wait?.waitingFor(kid)) return this.#serial(() => this.#releaseKeyId(kid));
    });
  }

  /**
   * Decryptor: removes the key for `kid` once earlier key changes have applied.
   * @param {bigint} kid
   * @returns {Promise<void>}
   */
  removeDecryptionKey(kid) {
    if (this.closed) return Promise.reject(this.#closedError());
    const done = this.#keyQueue.then(() => {
      if (this.closed || !this.#receiver) throw this.#closedError();
      this.#receiver.removeKey(kid);
      this.#setRxWeb(kid, null);
      this.#rxKids.delete(kid);
      // Frames waiting for this KID: its key is not coming (dropped, "keyID" failures).
      if (this.#wait) this.#dropFromBuffer(this.#wait.dropKeyId(kid));
    });
    this.#keyQueue = done.catch(() => {});
    return done;
  }

  /**
   * Decryptor: the WebCrypto form of `kid`'s key (null: none, wasm only).
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
   * @param {(sender: Sender | null, receiver: Receiver | null, k: TransformKey) => void | Promise<void>} apply
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
          return apply(this.#sender, this.#receiver, k);
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
   * Counts a dropped frame and reports it: an encryptor every one (to owners that report:
   * SFrameTransform), a decryptor the first of each run of identical failures, with the run
   * before it (`previousRun`).
   * @param {SFrameErrorFrame} chunk
   * @param {import('../index.js').SFrameTransformErrorEventType} errorType
   * @param {string} code
   * @param {bigint | null} keyID
   */
  #fail(chunk, errorType, code, keyID) {
    this.stats.dropped++;
    this.stats.errors++;
    this.stats.failures[errorType]++;
    if (this.#runs === null) {
      this.#report({ errorType, keyID, frame: chunk, code });
      return;
    }
    this.#inRun = true;
    const report = this.#runs.observe(errorType, keyID);
    if (report !== null) {
      this.#report({ errorType, keyID, frame: chunk, code, previousRun: report.previousRun });
    }
  }

  /**
   * The frame counters (a copy): `stats`, plus for a decryptor its error runs (reported =
   * events, suppressed, the run going on, the one that ended last) and its installed keys'
   * counters (by KID, from the wasm Receiver; as they were at release once it is freed).
   * @returns {SFrameStats | import('../index.js').SFrameDecryptorStats}
   */
  snapshot() {
    const stats = { ...this.stats, failures: { ...this.stats.failures } };
    const runs = this.#runs;
    if (runs === null) return stats;
    return {
      ...stats,
      errorEvents: runs.reported,
      errorsSuppressed: runs.suppressed,
      currentErrorRun: runs.current,
      lastErrorRun: runs.lastEnded,
      keys: this.#finalKeys ?? this.#keyStats(),
      buffered: this.#held.size,
      releasedFromBuffer: this.#releasedFromBuffer,
      droppedFromBuffer: { ...this.#droppedFromBuffer },
    };
  }

  /**
   * Decryptor: the installed keys' counters, by KID in installation order.
   * @returns {import('../index.js').SFrameKeyStats[]}
   */
  #keyStats() {
    const rx = this.#receiver;
    if (rx === null) return [];
    /** @type {import('../index.js').SFrameKeyStats[]} */
    const out = [];
    for (const keyID of this.#rxKids) {
      const usage = rx.usage(keyID);
      if (usage !== null) out.push({ keyID, ...usage });
    }
    return out;
  }

  /**
   * One frame. The cipher work is chosen per frame in #encrypt / #decrypt: the synchronous
   * wasm path, or the WebCrypto path (AES-GCM keys with a WebCrypto form: every frame of an
   * external key, frames of at least webCryptoMinBytes of a key with both forms), which
   * returns a Promise. #transform then returns that promise and the stream pair awaits it
   * before it takes the next frame, so frames leave in the order they came, whichever path
   * each one took. That path settles with null for a dropped frame (after counting and
   * reporting it, as the wasm path does), never rejects: a rejected transform promise errors
   * the whole stream. The stream calls it through #serial: frames released from the key-wait
   * buffer (addDecryptionKey) are processed the same way between two frames, and a frame
   * that comes meanwhile waits for them — released frames of a KID leave before any later
   * frame of that KID.
   * @param {unknown} chunk
   * @param {FrameStreamController} controller
   * @returns {void | Promise<void>}
   */
  #transform(chunk, controller) {
    // Closed (close() races a frame already queued): drop it, never pass it on unprocessed.
    if (this.closed) return;
    this.stats.frames++;
    const encoded = isEncodedFrame(chunk);
    const data = encoded ? new Uint8Array(chunk.data) : bufferSourceView(chunk);
    if (data === null) {
      // Neither an encoded frame nor a BufferSource: no frame to report (the event's `frame`
      // is typed RTCEncodedVideoFrame or RTCEncodedAudioFrame, W3C PR #313).
      this.#fail(null, 'syntax', 'invalid_argument', null);
      return;
    }
    this.stats.bytesIn += data.length;
    // Empty frames (Chromium emits some 0-byte audio frames) carry nothing to protect.
    if (data.length === 0) {
      this.stats.passedThrough++;
      this.stats.framesOut++;
      controller.enqueue(chunk);
      return;
    }
    // Frames that waited longer than keyWait.maxAgeMs for their key are given up as time
    // goes by (their "keyID" failures reported now), not only when the next frame is held.
    if (this.#held.size > 0) this.#expire();
    const codec = this.#codecFor(chunk, encoded);
    // The object written, whichever it is: what an error event reports as its `frame`.
    const frame = /** @type {SFrameErrorFrame} */ (chunk);
    return this.#process({ chunk: frame, encoded, data, codec }, controller, true);
  }

  /**
   * Encrypts or decrypts one frame and enqueues the result (a promise of that on the WebCrypto
   * path; it never rejects). `mayWait`: a decryptor holds the frame in the key-wait buffer if
   * its KID has no key (false for a frame released from it).
   * @param {HeldFrame} item
   * @param {FrameStreamController} controller
   * @param {boolean} mayWait
   * @returns {void | Promise<void>}
   */
  #process(item, controller, mayWait) {
    const { chunk, encoded, data, codec } = item;
    /** @type {Uint8Array | null | Promise<Uint8Array | null>} */
    const out = this.#sender
      ? this.#encrypt(this.#sender, chunk, data, codec)
      : this.#decrypt(/** @type {Receiver} */ (this.#receiver), chunk, data, codec, mayWait ? item : null, encoded);
    if (out instanceof Promise) {
      return out.then((o) => {
        if (o !== null && !this.closed) this.#deliver(chunk, encoded, o, controller);
      });
    }
    if (out !== null && !this.closed) this.#deliver(chunk, encoded, out, controller);
  }

  /**
   * Runs `work` now, or — when processing is in flight (a frame on the WebCrypto path, frames
   * released from the key-wait buffer) — after it: frames are enqueued in the order they are
   * taken up. Returns what `work` returns, or the promise of its end.
   * @param {() => void | Promise<void>} work never rejects
   * @returns {void | Promise<void>}
   */
  #serial(work) {
    const prev = this.#inflight;
    const r = prev === null ? work() : prev.then(work);
    if (!(r instanceof Promise)) return r;
    /** @type {Promise<void>} */
    const tracked = r.then(() => {
      if (this.#inflight === tracked) this.#inflight = null;
    });
    this.#inflight = tracked;
    return tracked;
  }

  /**
   * Keeps a frame that failed only for want of its key (RFC 9605 §4.4.4) until the key comes.
   * false: the decryptor holds nothing (keyWait.maxFrames 0); the frame fails as before.
   * @param {HeldFrame} item
   * @param {bigint | null} kid the KID of its header
   * @returns {boolean}
   */
  #hold(item, kid) {
    const wait = this.#wait;
    if (wait === null || kid === null) return false;
    const tag = this.#nextTag++;
    this.#held.set(tag, item);
    // The frames this pushes out (oldest first), or this frame if it alone is over maxBytes.
    this.#dropFromBuffer(wait.hold(kid, tag, item.data.length, clock()));
    return true;
  }

  /** Gives up the frames that waited longer than keyWait.maxAgeMs. */
  #expire() {
    if (this.#wait) this.#dropFromBuffer(this.#wait.expire(clock()));
  }

  /**
   * Frames the key-wait buffer dropped (pushed out, too old, too big, or their KID's key
   * removed): freed, counted by reason, and failed as the "keyID" failures they were — one
   * "error" event per run, as for any failure.
   * @param {import('../index.js').KeyWaitFrame[]} dropped
   */
  #dropFromBuffer(dropped) {
    for (const d of dropped) {
      const item = this.#held.get(d.tag);
      if (item === undefined) continue;
      this.#held.delete(d.tag);
      this.#droppedFromBuffer[/** @type {keyof KeyWaitDrops} */ (d.reason)]++;
      this.#fail(item.chunk, 'keyID', 'unknown_key_id', d.keyId);
    }
  }

  /**
   * Decrypts and enqueues, oldest first, the frames that waited for the key of `kid` (just
   * installed); each is finished before the next is taken up. Runs through #serial.
   * @param {bigint} kid
   * @returns {void | Promise<void>}
   */
  #releaseKeyId(kid) {
    const wait = this.#wait;
    const rx = this.#receiver;
    const controller = this.#controller;
    if (wait === null || rx === null || controller === null) return;
    this.#expire(); // none older than maxAgeMs is delivered
    /** @returns {void | Promise<void>} */
    const next = () => {
      // Stops if the engine was released meanwhile (#wait null; rx freed with it).
      while (this.#wait === wait && rx.hasKeyFor(kid)) {
        const h = wait.release(kid);
        if (h === null) return;
        const item = this.#held.get(h.tag);
        if (item === undefined) continue;
        this.#held.delete(h.tag);
        this.#releasedFromBuffer++;
        const done = this.#process(item, controller, false);
        if (done instanceof Promise) return done.then(next);
      }
    };
    return next();
  }

  /**
   * Encrypts one frame: the protected frame (or a promise of it), or null when the frame is
   * dropped (counted, and reported where the API reports). The WebCrypto form of the current
   * key is read here, in the same synchronous step as protectExternal takes the counter: a
   * key change between frames can never pair one key's nonce with another's AES key.
   * @param {Sender} sender
   * @param {SFrameErrorFrame} chunk
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
   * @param {SFrameErrorFrame} chunk
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
   * @param {SFrameErrorFrame} chunk
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
   * @param {SFrameErrorFrame} chunk
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
   * A frame whose KID has no key is held (`wait`: the frame to keep; null: fail it) and null
   * returned: the wasm path is the one that finds out (unknown_key_id changes nothing).
   * @param {Receiver} receiver
   * @param {SFrameErrorFrame} chunk
   * @param {Uint8Array} data
   * @param {import('./codec.js').Codec} codec
   * @param {HeldFrame | null} wait
   * @param {boolean} encoded whether `data` is an encoded frame's whole data buffer
   * @returns {Uint8Array | null | Promise<Uint8Array | null>}
   */
  #decrypt(receiver, chunk, data, codec, wait, encoded) {
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
      return this.#decryptWasm(receiver, chunk, clear, sframe, codec, wait);
    }
    /** @type {import('../pkg/sframe_wasm.js').Opening} */
    let opening;
    try {
      opening = receiver.unprotectExternal(sframe.subarray(0, this.suite.maxOverhead));
    } catch (e) {
      // unknown_key_id: no installed key — or a KID the receiver derives itself (ratchet,
      // MLS): the wasm path handles it (and reports an unknown KID exactly as before). A KID
      // with no key at all (hasKeyFor) waits for it here, without copying the frame to wasm.
      if (errorCodeOf(e) === 'unknown_key_id') {
        const kid = wait === null ? null : keyIdOf(sframe, this.suite.maxOverhead);
        if (wait !== null && kid !== null && !receiver.hasKeyFor(kid) && this.#hold(wait, kid)) return null;
        return this.#decryptWasm(receiver, chunk, clear, sframe, codec, wait);
      }
      this.#decryptFailed(chunk, e, () => keyIdOf(sframe, this.suite.maxOverhead));
      return null;
    }
    const kid = opening.keyId;
    const entry = this.#rxWeb.get(kid);
    if (entry === undefined || (small && !entry.external)) {
      opening.free();
      return this.#decryptWasm(receiver, chunk, clear, sframe, codec, wait);
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
          // An encoded frame's own buffer takes its plaintext (its data is replaced anyway);
          // a BufferSource chunk is the caller's and stays as it is.
          return restoreFrameFrom(codec, clear, pt, encoded ? data : null);
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
   * @param {SFrameErrorFrame} chunk
   * @param {Uint8Array} clear
   * @param {Uint8Array} sframe
   * @param {import('./codec.js').Codec} codec
   * @param {HeldFrame | null} wait the frame to hold if its KID has no key
   * @returns {Uint8Array | null}
   */
  #decryptWasm(receiver, chunk, clear, sframe, codec, wait) {
    try {
      return restoreFrame(codec, clear, receiver.unprotect(sframe, clear));
    } catch (e) {
      // No key for its KID (nothing changed in the receiver): the frame waits for it.
      if (wait !== null && errorCodeOf(e) === 'unknown_key_id') {
        if (this.#hold(wait, keyIdOf(sframe, this.suite.maxOverhead))) return null;
      }
      this.#decryptFailed(chunk, e, () => keyIdOf(sframe, this.suite.maxOverhead));
      return null;
    }
  }

  /**
   * Counts and reports a frame the receiver refused (either path).
   * @param {SFrameErrorFrame} chunk
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
   * @param {SFrameErrorFrame} chunk
   * @param {boolean} encoded
   * @param {Uint8Array} out
   * @param {FrameStreamController} controller
   */
  #deliver(chunk, encoded, out, controller) {
    // A decrypted frame ends the decryptor's run of failures (the next one is reported).
    // (Only when a failure came since the last one: no wasm call per frame otherwise.)
    if (this.#inRun) {
      this.#inRun = false;
      this.#runs?.success();
    }
    // Hand over a buffer holding exactly the frame (codec.js and sframe-core return exact
    // fresh buffers except for H.264 escaping, which returns a view into a larger one).
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    this.stats.framesOut++;
    this.stats.bytesOut += out.byteLength;
    if (encoded) {
      /** @type {{ data: ArrayBuffer }} */ (chunk).data = /** @type {ArrayBuffer} */ (out.buffer);
      controller.enqueue(chunk);
    } else {
      controller.enqueue(chunk instanceof ArrayBuffer ? out.buffer : out);
    }
  }
}
