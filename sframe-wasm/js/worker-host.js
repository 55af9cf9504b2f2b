// @ts-check
// The worker side of RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor (w3c.js): one
// SFrameEncryptorStream or SFrameDecryptorStream per main-thread object, keyed by the id the
// main thread chose, piped between the RTCRtpScriptTransformer's readable and writable.
//
// js/sframe-worker.js runs this in the package's module worker; the Node tests run it in
// process (no browser needed). The message protocol (main → worker):
//   { type: 'create', id, role, options }                  before or after the rtctransform
//   { type: 'key', op, id, req, key, keyID }               op: setEncryptionKey | addDecryptionKey
//                                                          | removeDecryptionKey; key: a CryptoKey
//                                                          or a transferred copy of key bytes,
//                                                          zero-filled here once the call settles
//   { type: 'stats', id, req }
//   { type: 'wire', id, req }                              an encryptor created with observeWire:
//                                                          the wire samples since the last call
//   { type: 'close', id }
// and the rtctransform events of the transforms w3c.js makes, whose options carry
// { sframeWasm: { id, role, options } } (role "hold": a pass-through, see guardSenders)
// and back (worker → main):
//   { type: 'reply', req, ok: true, value } | { type: 'reply', req, ok: false, error }
//   { type: 'error', id, errorType, keyID, code,           a decryptor's SFrameTransformErrorEvent
//     previousRun, frame }
//   { type: 'fatal', message }                             (sframe-worker.js: the module failed)

import { SFrameDecryptorStream, SFrameEncryptorStream } from './streams.js';
import { codecForMimeType, parseCompatibilityMode, splitProtected } from './codec.js';
import { parseHeader } from './wasm.js';

/** The key of the RTCRtpScriptTransform options that carries this package's settings. */
export const TRANSFORM_OPTION = 'sframeWasm';

/**
 * @typedef {{ frames: number, bytes: number }} ObserveWire
 * @typedef {{ id: number, role: 'encrypt' | 'decrypt',
 *   options: import('./spec.js').SpecOptions, observe?: ObserveWire | null }} TransformConfig
 * @typedef {{ name: string, message: string,
 *   cause?: { name: string, message: string, code?: string } }} WireError
 * @typedef {{ readable: ReadableStream, writable: WritableStream, options?: any }} Transformer
 * @typedef {{ stream: SFrameEncryptorStream | SFrameDecryptorStream | null,
 *   error: unknown, piped: boolean, observer: WireObserver | null }} Entry
 */

/**
 * Extension (RTCRtpSFrameEncryptor option `observeWire`, for demos and debugging): what an
 * encryptor puts on the wire, as a media server relaying the call sees it — per protected
 * frame its size, type, SFrame header (KID, counter), clear codec byte count and a copy of its
 * first `bytes` bytes (clear codec bytes, header, ciphertext: nothing secret). Bounded: the
 * last `frames` samples are kept until the main thread takes them (`wire` request); older
 * ones are dropped and counted (`missed`). Frames pass through unchanged.
 */
class WireObserver {
  /**
   * @param {ObserveWire} config
   * @param {import('./codec.js').Codec | 'auto'} mode
   */
  constructor(config, mode) {
    this.frames = config.frames;
    this.bytes = config.bytes;
    this.mode = mode;
    /** @type {object[]} */
    this.samples = [];
    this.missed = 0;
    this.seen = 0;
  }

  /** A TransformStream that records each frame and passes it on. */
  tap() {
    return new TransformStream({
      transform: (frame, controller) => {
        try {
          this.record(frame);
        } catch {
          // Never in the way of the media: a frame that cannot be sampled is passed on as is.
        }
        controller.enqueue(frame);
      },
    });
  }

  /** @param {any} frame an encoded frame the encryptor produced */
  record(frame) {
    const data = frame?.data;
    if (!(data instanceof ArrayBuffer) || data.byteLength === 0) return;
    const bytes = new Uint8Array(data);
    const metadata = typeof frame.getMetadata === 'function' ? frame.getMetadata() : {};
    const codec = this.mode === 'auto' ? codecForMimeType(metadata?.mimeType) : this.mode;
    /** @type {{ keyID: bigint | null, counter: bigint | null, headerLength: number | null, clear: number | null }} */
    let header = { keyID: null, counter: null, headerLength: null, clear: null };
    try {
      const { clear, sframe } = splitProtected(codec, bytes);
      const h = parseHeader(sframe);
      header = { keyID: h.keyId, counter: h.counter, headerLength: h.headerLength, clear: clear.length };
    } catch {
      // Not a parsable protected frame: sampled without a header.
    }
    this.seen++;
    if (this.samples.length >= this.frames) {
      this.samples.shift();
      this.missed++;
    }
    this.samples.push({
      size: bytes.length,
      type: frame.type ?? null,
      mimeType: metadata?.mimeType ?? null,
      timestamp: frame.timestamp ?? null,
      ...header,
      bytes: bytes.slice(0, this.bytes),
    });
  }

  /** The samples since the last call, oldest first, and how many were dropped unread. */
  take() {
    const out = { samples: this.samples, missed: this.missed, frames: this.seen };
    this.samples = [];
    this.missed = 0;
    return out;
  }
}

/**
 * An exception as plain data that survives postMessage (name, message, and the SFrameError
 * `cause` of an InvalidModificationError).
 * @param {unknown} e
 * @returns {WireError}
 */
export function errorToWire(e) {
  const err = /** @type {{ name?: unknown, message?: unknown, cause?: any }} */ (e ?? {});
  /** @type {WireError} */
  const out = { name: String(err.name ?? 'Error'), message: String(err.message ?? e) };
  if (err.cause && typeof err.cause === 'object') {
    out.cause = {
      name: String(err.cause.name ?? 'Error'),
      message: String(err.cause.message ?? ''),
      code: err.cause.code === undefined ? undefined : String(err.cause.code),
    };
  }
  return out;
}

/**
 * Zero-fills key bytes (an ArrayBuffer or a view of one; a detached buffer has nothing left to
 * wipe). Anything else — a CryptoKey, undefined — is left alone.
 * @param {unknown} key
 */
export function wipeKeyBytes(key) {
  if (key instanceof ArrayBuffer) {
    if (key.byteLength) new Uint8Array(key).fill(0);
  } else if (ArrayBuffer.isView(key)) {
    if (key.byteLength) new Uint8Array(key.buffer, key.byteOffset, key.byteLength).fill(0);
  }
}

/**
 * @param {(message: object) => void} post sends a message to the main thread (may throw a
 *   DataCloneError for a frame the browser cannot serialize)
 */
export function createWorkerHost(post) {
  /** @type {Map<number, Entry>} */
  const entries = new Map();

  /**
   * @param {TransformConfig} config
   * @returns {Entry}
   */
  function entryFor(config) {
    let entry = entries.get(config.id);
    if (entry) return entry;
    entry = { stream: null, error: null, piped: false, observer: null };
    entries.set(config.id, entry);
    try {
      if (config.role === 'encrypt') {
        entry.stream = new SFrameEncryptorStream(config.options);
        if (config.observe) {
          entry.observer = new WireObserver(config.observe, parseCompatibilityMode(config.options.compatibilityMode));
        }
      } else {
        const dec = new SFrameDecryptorStream(config.options);
        dec.addEventListener('error', (event) => forwardError(config.id, /** @type {any} */ (event)));
        entry.stream = dec;
      }
    } catch (e) {
      // Creation failed (e.g. a replayWindow sframe-core refuses): key calls reject with the
      // error, and frames are never piped — a sender with a failed encryptor sends nothing.
      entry.error = e;
    }
    return entry;
  }

  /**
   * @param {number} id
   * @param {import('./spec.js').SFrameTransformErrorEvent} event
   */
  function forwardError(id, event) {
    const message = {
      type: 'error',
      id,
      errorType: event.errorType,
      keyID: event.keyID,
      code: event.code,
      previousRun: event.previousRun,
      frame: event.frame,
    };
    try {
      post(message);
    } catch {
      // The frame could not be cloned to the main thread: the event goes without it.
      post({ ...message, frame: null });
    }
  }

  /**
   * @param {number} req
   * @param {() => unknown} fn
   */
  async function reply(req, fn) {
    try {
      const value = await fn();
      post({ type: 'reply', req, ok: true, value });
    } catch (e) {
      post({ type: 'reply', req, ok: false, error: errorToWire(e) });
    }
  }

  /** @param {number} id */
  function existing(id) {
    const entry = entries.get(id);
    if (!entry) throw new DOMException(`no SFrame transform ${id} in this worker`, 'InvalidStateError');
    if (!entry.stream) throw entry.error;
    return entry.stream;
  }

  return {
    /**
     * A message from the main thread.
     * @param {any} data
     */
    message(data) {
      if (!data || typeof data !== 'object') return;
      switch (data.type) {
        case 'create':
          entryFor(data);
          return;
        case 'key':
          reply(data.req, async () => {
            try {
              const stream = /** @type {any} */ (existing(data.id));
              if (typeof stream[data.op] !== 'function') {
                throw new TypeError(`${data.op} is not a method of this transform`);
              }
              return await (data.op === 'removeDecryptionKey'
                ? stream.removeDecryptionKey(data.keyID)
                : stream[data.op](data.key, data.keyID));
            } finally {
              // Key bytes are the copy w3c.js transferred: the package's own. The stream made
              // its own copy for wasm (and WebCrypto imported its own), which it wipes; this
              // one is wiped here, whether the key is in force or the call failed, before the
              // reply settles the main thread's promise.
              wipeKeyBytes(data.key);
            }
          });
          return;
        case 'stats':
          reply(data.req, () => existing(data.id).stats);
          return;
        case 'wire':
          reply(data.req, () => {
            existing(data.id);
            const observer = entries.get(data.id)?.observer;
            if (!observer) {
              throw new DOMException('this encryptor was not created with observeWire', 'InvalidStateError');
            }
            return observer.take();
          });
          return;
        case 'close': {
          entries.get(data.id)?.stream?.close();
          return;
        }
        default:
      }
    },

    /**
     * The RTCRtpScriptTransformer of an rtctransform event: pipes its frames through the
     * transform's stream. Transformers of other code (no `sframeWasm` option) are left alone.
     * @param {Transformer} transformer
     */
    rtctransform(transformer) {
      const config = transformer?.options?.[TRANSFORM_OPTION];
      if (!config || typeof config !== 'object') return;
      if (config.role === 'hold') {
        // w3c.js's guard on a new Chromium sender (see guardSenders there): frames pass
        // unchanged until the application assigns its own transform, which replaces this one.
        transformer.readable.pipeTo(transformer.writable).catch(() => {});
        return;
      }
      const entry = entryFor(config);
      if (!entry.stream || entry.piped) return;
      entry.piped = true;
      const out = transformer.readable.pipeThrough(entry.stream);
      (entry.observer ? out.pipeThrough(entry.observer.tap()) : out)
        .pipeTo(transformer.writable)
        .catch(() => {
          // The sender or receiver went away (track stopped, transform replaced): the stream
          // already released its wasm object.
        });
    },

    /** Number of transforms this worker knows (tests). */
    get size() {
      return entries.size;
    },
  };
}
