// @ts-check
// SFrame over RTP for native endpoints (a camera, a HomeKit / Matter bridge, an SFU that
// terminates SFrame): draft-ietf-avtcore-rtp-sframe §5 (packetization, depacketization), §7
// (per-SSRC keys), §8 (ratcheting with them), RFC 9605 §4.4.4 (frames waiting for their key).
//
// Thin classes over sframe-core's rtp::session (the wasm RtpSendStream / RtpReceiveSession):
// the session logic — keys, reassembly, waiting, bounds, counters — is the core's; this file
// adds an EventEmitter-like `on()` on top of `poll()`. No Node-only API: it runs in Node, in a
// browser and in a worker.
//
// Keys are raw bytes (ArrayBuffer / ArrayBufferView), installed synchronously, or a
// non-extractable HKDF CryptoKey with "deriveBits" usage, installed asynchronously (the
// method returns a Promise) and never exported. For a CryptoKey, WebCrypto runs the §7
// per-SSRC derivation (ssrcBaseKey, js/ssrc-keys.js) and the RFC 9605 §4.4.2 key schedule
// (resolveKey, js/keys.js) with the parameters the core gives; only the derived sframe_key
// and sframe_salt pass through JS memory, wiped once wasm has copied them, and the core
// installs them as an already derived key (SendStream::set_derived_key;
// ReceiveSession::add_external_key / add_stream_key). A receive session learns its SSRCs from
// the network: it lists the streams still without their key of a CryptoKey KID
// (missing_stream_keys), this file derives and installs each one, and the core holds the
// stream's frames for their key meanwhile (RFC 9605 §4.4.4), as for any late key.

import { cipherSuiteInfo } from './wasm.js'; // instantiates the module before any class is used
import { RtpSendStream, RtpReceiveSession } from '../pkg/sframe_wasm.js';
import { normalizeKeyId, resolveKey, wipeKey } from './keys.js';
import { ssrcBaseKey } from './ssrc-keys.js';
import { isCryptoKey } from './webcrypto.js';

/** @typedef {import('../index.js').SFrameSendStreamOptions} SFrameSendStreamOptions */
/** @typedef {import('../index.js').SFrameReceiveSessionOptions} SFrameReceiveSessionOptions */
/** @typedef {import('../index.js').SFrameSessionEvent} SFrameSessionEvent */
/** @typedef {import('../index.js').SFrameSessionEventType} SFrameSessionEventType */

/** @returns {number} milliseconds of a monotonic clock (Node, browsers and workers). */
const clock = () => globalThis.performance.now();

/** @typedef {import('../index.js').CipherSuiteInfo} CipherSuiteInfo */

/**
 * Throws the TypeError for a CryptoKey that cannot be a session's base key.
 * @param {CryptoKey} key
 */
function checkBaseKey(key) {
  if (key.algorithm?.name !== 'HKDF' || !key.usages.includes('deriveBits')) {
    throw new TypeError(
      'a CryptoKey base key must be an HKDF key with "deriveBits" usage ' +
        '(crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveBits", "deriveKey"]))',
    );
  }
}

/**
 * The RFC 9605 §4.4.2 key and salt of `kid` for the stream `ssrc` (per SSRC: §7 first), all
 * derived by WebCrypto from the CryptoKey `baseKey`; the caller wipes the result (wipeKey).
 * @param {CipherSuiteInfo} suite
 * @param {CryptoKey} baseKey
 * @param {bigint} kid
 * @param {number | null} ssrc the stream's SSRC with per-SSRC keys, else null
 * @returns {Promise<{ sframeKey: Uint8Array, sframeSalt: Uint8Array }>}
 */
async function deriveStreamKey(suite, baseKey, kid, ssrc) {
  const base = ssrc === null ? baseKey : await ssrcBaseKey(/** @type {import('../index.js').CipherSuiteLike} */ (suite.id), baseKey, ssrc);
  const k = await resolveKey(base, kid, suite);
  if (!('sframeKey' in k)) {
    wipeKey(k);
    throw new TypeError('the base key did not derive in WebCrypto'); // not reached for HKDF keys
  }
  return k;
}

/**
 * One SSRC's sender: protects each frame (or, per-packet, each media RTP payload) and returns
 * its RTP packets, sequence numbers managed.
 */
export class SFrameSendStream {
  /** @type {RtpSendStream} */
  #inner;
  /** @type {CipherSuiteInfo} */
  #suite;
  /** @type {boolean} */
  #perSsrc;

  /** @param {SFrameSendStreamOptions} options */
  constructor(options) {
    this.#inner = new RtpSendStream(options);
    this.#suite = cipherSuiteInfo(options.cipherSuite);
    this.#perSsrc = options.perSsrcKeys === true;
  }

  /**
   * Makes `keyId` with `baseKey` the current key (per SSRC if `perSsrcKeys`). Key bytes are
   * installed at once; an HKDF CryptoKey (non-extractable, "deriveBits" usage) is derived
   * with WebCrypto and installed when the returned Promise resolves (the previous key stays
   * current until then).
   * @overload
   * @param {bigint | number} keyId
   * @param {CryptoKey} baseKey
   * @returns {Promise<void>}
   */
  /**
   * @overload
   * @param {bigint | number} keyId
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   * @returns {void}
   */
  /**
   * @param {bigint | number} keyId
   * @param {CryptoKey | ArrayBuffer | ArrayBufferView} baseKey
   * @returns {Promise<void> | void}
   */
  setKey(keyId, baseKey) {
    if (isCryptoKey(baseKey)) return this.#setCryptoKey(keyId, baseKey);
    this.#inner.setKey(keyId, baseKey);
  }

  /**
   * @param {bigint | number} keyId
   * @param {CryptoKey} baseKey
   */
  async #setCryptoKey(keyId, baseKey) {
    checkBaseKey(baseKey);
    const kid = normalizeKeyId(keyId);
    const ssrc = this.#perSsrc ? this.#inner.ssrc : null;
    const k = await deriveStreamKey(this.#suite, baseKey, kid, ssrc);
    try {
      this.#inner.setDerivedKey(kid, k.sframeKey, k.sframeSalt);
    } finally {
      wipeKey(k);
    }
  }

  /**
   * Starts a ratchet chain (RFC 9605 §5.1) at `generation` and returns its first KID.
   * @param {number} ratchetBits
   * @param {bigint | number} generation
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   * @returns {bigint}
   */
  setRatchetingKey(ratchetBits, generation, baseKey) {
    return this.#inner.setRatchetingKey(ratchetBits, generation, baseKey);
  }

  /** Ratchets one step; returns the new KID. @returns {bigint} */
  ratchet() {
    return this.#inner.ratchet();
  }

  /**
   * Protects `media` and returns its RTP packets, in order.
   * @param {ArrayBuffer | ArrayBufferView} media
   * @param {number} timestamp RTP timestamp
   * @param {boolean} [marker] the marker bit of the last packet (default true)
   * @returns {Uint8Array[]}
   */
  sendFrame(media, timestamp, marker = true) {
    return this.#inner.sendFrame(media, timestamp >>> 0, marker);
  }

  /** The current KID, `undefined` without a key. @returns {bigint | undefined} */
  get keyId() {
    return this.#inner.keyId;
  }

  /** @returns {number} */
  get ssrc() {
    return this.#inner.ssrc;
  }

  /** @returns {number} */
  get nextSequence() {
    return this.#inner.nextSequence;
  }

  /** Per-packet SFrame overhead: descriptor, largest header, tag. @returns {number} */
  get overhead() {
    return this.#inner.overhead;
  }

  /** Largest media payload that fits one RTP payload protected per packet. @returns {number} */
  get maxMediaPayloadLength() {
    return this.#inner.maxMediaPayloadLength;
  }

  /** @returns {import('../index.js').SFrameSendStreamStats} */
  stats() {
    return this.#inner.stats();
  }

  /** Frees the wasm memory now (otherwise when garbage-collected). */
  close() {
    this.#inner.free();
  }
}

/**
 * RTP packets of any SSRC in, decrypted frames and events out. Push packets with
 * `pushPacket`, then `poll()` until `null` (or `drain()`, which also calls the `on()`
 * listeners).
 */
export class SFrameReceiveSession {
  /** @type {RtpReceiveSession} */
  #inner;
  /** @type {Map<string, Set<(event: any) => void>>} */
  #listeners = new Map();
  /** @type {CipherSuiteInfo} */
  #suite;
  /** @type {boolean} */
  #perSsrc;
  /** The CryptoKey base keys by KID, each with the number of its `addKey`. */
  /** @type {Map<bigint, { key: CryptoKey, n: number }>} */
  #external = new Map();
  #added = 0;
  /** Derivations under way, by `ssrc:kid:n`. */
  /** @type {Map<string, Promise<void>>} */
  #deriving = new Map();

  /** @param {SFrameReceiveSessionOptions} options */
  constructor(options) {
    this.#inner = new RtpReceiveSession(options);
    this.#suite = cipherSuiteInfo(options.cipherSuite);
    this.#perSsrc = options.perSsrcKeys === true;
  }

  /**
   * Adds the base key of `keyId` (per SSRC if `perSsrcKeys`). Frames waiting for it come out
   * of the next polls. Key bytes are installed at once. An HKDF CryptoKey (non-extractable,
   * "deriveBits" usage) stays in WebCrypto, which derives the keys: without `perSsrcKeys`
   * one, installed when the returned Promise resolves; with them each stream's own, for the
   * streams present now before the Promise resolves, and for streams that appear later as
   * their first packet is pushed (their frames wait meanwhile; see `keysReady`).
   * @overload
   * @param {bigint | number} keyId
   * @param {CryptoKey} baseKey
   * @returns {Promise<void>}
   */
  /**
   * @overload
   * @param {bigint | number} keyId
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   * @returns {void}
   */
  /**
   * @param {bigint | number} keyId
   * @param {CryptoKey | ArrayBuffer | ArrayBufferView} baseKey
   * @returns {Promise<void> | void}
   */
  addKey(keyId, baseKey) {
    if (isCryptoKey(baseKey)) return this.#addCryptoKey(keyId, baseKey);
    this.#inner.addKey(keyId, baseKey);
    this.#external.delete(normalizeKeyId(keyId));
  }

  /**
   * @param {bigint | number} keyId
   * @param {CryptoKey} baseKey
   */
  async #addCryptoKey(keyId, baseKey) {
    checkBaseKey(baseKey);
    const kid = normalizeKeyId(keyId);
    if (!this.#perSsrc) {
      const k = await deriveStreamKey(this.#suite, baseKey, kid, null);
      try {
        this.#inner.addDerivedKey(kid, k.sframeKey, k.sframeSalt);
      } finally {
        wipeKey(k);
      }
      this.#external.delete(kid);
      return;
    }
    // The same CryptoKey again changes nothing (as the same bytes again do).
    if (this.#external.get(kid)?.key !== baseKey || !this.#inner.hasKey(kid)) {
      this.#inner.addExternalKey(kid);
      this.#external.set(kid, { key: baseKey, n: ++this.#added });
    }
    await this.#installMissing();
  }

  /**
   * Derives and installs every stream key the core lists as missing; resolves when they are
   * installed (rejects with the first failure).
   * @returns {Promise<void>}
   */
  #installMissing() {
    if (this.#external.size === 0) return Promise.resolve();
    /** @type {Promise<void>[]} */
    const jobs = [];
    for (const { ssrc, keyId } of this.#inner.missingStreamKeys()) {
      const entry = this.#external.get(keyId);
      if (!entry) continue; // not reached: every external KID of the core is here
      const id = `${ssrc}:${keyId}:${entry.n}`;
      let job = this.#deriving.get(id);
      if (!job) {
        job = this.#installStreamKey(ssrc, keyId, entry).finally(() => this.#deriving.delete(id));
        this.#deriving.set(id, job);
      }
      jobs.push(job);
    }
    return Promise.all(jobs).then(() => {});
  }

  /**
   * @param {number} ssrc
   * @param {bigint} kid
   * @param {{ key: CryptoKey, n: number }} entry
   */
  async #installStreamKey(ssrc, kid, entry) {
    const k = await deriveStreamKey(this.#suite, entry.key, kid, ssrc);
    try {
      // Replaced or removed meanwhile: the key is no longer wanted.
      if (this.#external.get(kid) !== entry) return;
      this.#inner.addStreamKey(ssrc, kid, k.sframeKey, k.sframeSalt);
    } finally {
      wipeKey(k);
    }
  }

  /**
   * Resolves once every stream has its key of every CryptoKey base key (derivations started
   * by `pushPacket` for new streams included); rejects with a derivation's error. Frames
   * that waited come out of the next polls.
   * @returns {Promise<void>}
   */
  keysReady() {
    return this.#installMissing();
  }

  /**
   * Adds a ratcheting sender's key (its KID built with `ratchetBits` step bits).
   * @param {number} ratchetBits
   * @param {bigint | number} keyId
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   */
  addRatchetingKey(ratchetBits, keyId, baseKey) {
    this.#inner.addRatchetingKey(ratchetBits, keyId, baseKey);
  }

  /**
   * Removes `keyId`'s key from every stream: its frames then fail. Returns whether it was in use.
   * @param {bigint | number} keyId
   * @returns {boolean}
   */
  removeKey(keyId) {
    const removed = this.#inner.removeKey(keyId);
    this.#external.delete(normalizeKeyId(keyId));
    return removed;
  }

  /** @param {bigint | number} keyId @returns {boolean} */
  hasKey(keyId) {
    return this.#inner.hasKey(keyId);
  }

  /** @param {number} ssrc @returns {boolean} */
  removeStream(ssrc) {
    return this.#inner.removeStream(ssrc);
  }

  /**
   * Takes one RTP packet; `nowMs` defaults to `performance.now()`.
   * @param {ArrayBuffer | ArrayBufferView} packet
   * @param {number} [nowMs]
   * @returns {import('../index.js').SFramePushResult}
   */
  pushPacket(packet, nowMs = clock()) {
    const result = /** @type {import('../index.js').SFramePushResult} */ (
      this.#inner.pushPacket(packet, nowMs)
    );
    // A new stream needs its keys of the CryptoKey base keys: derived in the background
    // (failures surface through keysReady()). Asked of the core per packet without building
    // the list: almost every packet belongs to a stream that has its keys.
    if (this.#external.size > 0 && this.#inner.hasMissingStreamKeys()) this.#installMissing().catch(() => {});
    return result;
  }

  /**
   * The next event, or `null` when there is nothing to do.
   * @param {number} [nowMs]
   * @returns {SFrameSessionEvent | null}
   */
  poll(nowMs = clock()) {
    return this.#inner.poll(nowMs);
  }

  /**
   * Polls until `null`; calls the listeners of each event and returns them all.
   * @param {number} [nowMs]
   * @returns {SFrameSessionEvent[]}
   */
  drain(nowMs = clock()) {
    /** @type {SFrameSessionEvent[]} */
    const events = [];
    for (let e = this.poll(nowMs); e !== null; e = this.poll(nowMs)) {
      events.push(e);
      for (const fn of this.#listeners.get(e.type) ?? []) fn(e);
    }
    return events;
  }

  /**
   * `pushPacket` then `drain`: the events the packet led to.
   * @param {ArrayBuffer | ArrayBufferView} packet
   * @param {number} [nowMs]
   * @returns {SFrameSessionEvent[]}
   */
  receive(packet, nowMs = clock()) {
    this.pushPacket(packet, nowMs);
    return this.drain(nowMs);
  }

  /**
   * Calls `listener` for every event of `type` that `drain` / `receive` reports.
   * @template {SFrameSessionEventType} T
   * @param {T} type
   * @param {(event: Extract<SFrameSessionEvent, { type: T }>) => void} listener
   * @returns {this}
   */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return this;
  }

  /**
   * @template {SFrameSessionEventType} T
   * @param {T} type
   * @param {(event: Extract<SFrameSessionEvent, { type: T }>) => void} listener
   * @returns {this}
   */
  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
    return this;
  }

  /** @returns {import('../index.js').SFrameReceiveSessionStats} */
  stats() {
    return this.#inner.stats();
  }

  /** The largest frame a stream reassembles, in bytes. @returns {number} */
  get maxFrameLength() {
    return this.#inner.maxFrameLength;
  }

  /** Frees the wasm memory now (otherwise when garbage-collected). */
  close() {
    this.#inner.free();
  }
}
