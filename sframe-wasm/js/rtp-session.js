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
// Keys are raw bytes (ArrayBuffer / ArrayBufferView). A receive session derives each SSRC's
// §7 key inside the core when the SSRC first appears, which needs the base key's bytes, so a
// non-extractable CryptoKey cannot be a session's base key.

import './wasm.js'; // instantiates the module (top-level await) before any class is used
import { RtpSendStream, RtpReceiveSession } from '../pkg/sframe_wasm.js';

/** @typedef {import('../index.js').SFrameSendStreamOptions} SFrameSendStreamOptions */
/** @typedef {import('../index.js').SFrameReceiveSessionOptions} SFrameReceiveSessionOptions */
/** @typedef {import('../index.js').SFrameSessionEvent} SFrameSessionEvent */
/** @typedef {import('../index.js').SFrameSessionEventType} SFrameSessionEventType */

/** @returns {number} milliseconds of a monotonic clock (Node, browsers and workers). */
const clock = () => globalThis.performance.now();

/**
 * One SSRC's sender: protects each frame (or, per-packet, each media RTP payload) and returns
 * its RTP packets, sequence numbers managed.
 */
export class SFrameSendStream {
  /** @type {RtpSendStream} */
  #inner;

  /** @param {SFrameSendStreamOptions} options */
  constructor(options) {
    this.#inner = new RtpSendStream(options);
  }

  /**
   * Makes `keyId` with `baseKey` the current key (per SSRC if `perSsrcKeys`).
   * @param {bigint | number} keyId
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   */
  setKey(keyId, baseKey) {
    this.#inner.setKey(keyId, baseKey);
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

  /** @param {SFrameReceiveSessionOptions} options */
  constructor(options) {
    this.#inner = new RtpReceiveSession(options);
  }

  /**
   * Adds the base key of `keyId` (per SSRC if `perSsrcKeys`). Frames waiting for it come out
   * of the next polls.
   * @param {bigint | number} keyId
   * @param {ArrayBuffer | ArrayBufferView} baseKey
   */
  addKey(keyId, baseKey) {
    this.#inner.addKey(keyId, baseKey);
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
    return this.#inner.removeKey(keyId);
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
    return /** @type {import('../index.js').SFramePushResult} */ (
      this.#inner.pushPacket(packet, nowMs)
    );
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
