// @ts-check
// RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor (W3C WebRTC Encoded Transform: PR #288 split
// the sending and receiving sides, PR #308 named them RTCRtpSFrameEncrypter / -Decrypter, PR #312
// renamed them -Encryptor / -Decryptor) for browsers without native SFrame. The #308 names are
// exported as aliases: the same class objects, so `instanceof` holds under either name.
//
//   sender.transform   = new RTCRtpSFrameEncryptor({ cipherSuite: 'AES_128_GCM_SHA256_128' });
//   receiver.transform = new RTCRtpSFrameDecryptor({ cipherSuite: 'AES_128_GCM_SHA256_128' });
//
// The constructor returns a real RTCRtpScriptTransform (so the browser accepts it as
// sender.transform / receiver.transform) whose prototype is this class's: it carries the
// spec's methods. The frames go to the package's module worker (js/sframe-worker.js), where an
// SFrameEncryptorStream / SFrameDecryptorStream does the work; key calls post the CryptoKey
// (structured clone: a non-extractable key stays non-extractable) and settle when the worker
// has the key in force; a decryptor's error events come back as SFrameTransformErrorEvents.
//
// One worker serves every transform of the page (created on first use, never terminated):
// all encryptors then share one wasm instance, whose key registry refuses a second live
// encryptor with the key and KID another one uses ("key_in_use").

import { parseCompatibilityMode } from './codec.js';
import { SFrameTransformErrorEvent, isKeyArgument, keyIdArgument, parseSpecOptions } from './spec.js';
import { TRANSFORM_OPTION, wipeKeyBytes } from './worker-host.js';

/** @typedef {import('./spec.js').SpecOptions} SpecOptions */
/** @typedef {import('./worker-host.js').WireError} WireError */
/** @typedef {import('../index.js').SFrameStats} SFrameStats */

/**
 * @typedef {{ postMessage(message: unknown, transfer?: Transferable[]): void,
 *   addEventListener(type: string, listener: (event: any) => void): void }} WorkerLike
 */

/** @type {() => WorkerLike} */
let workerFactory = () =>
  new Worker(new URL('./sframe-worker.js', import.meta.url), { type: 'module' });

/** @type {WorkerClient | null} */
let sharedClient = null;

/**
 * Test hook (not part of the public API): where the worker comes from. Resets the shared one.
 * @param {() => WorkerLike} factory
 */
export function _setWorkerFactory(factory) {
  workerFactory = factory;
  sharedClient = null;
}

/**
 * A worker's error message as the exception the spec says: TypeError and RangeError as such,
 * anything else as a DOMException of that name (InvalidModificationError with its SFrameError
 * `cause`, InvalidStateError, …); a plain Error becomes an OperationError.
 * @param {WireError} w
 * @returns {Error}
 */
function errorFromWire(w) {
  if (w.name === 'TypeError') return new TypeError(w.message);
  if (w.name === 'RangeError') return new RangeError(w.message);
  const e = new DOMException(w.message, w.name === 'Error' ? 'OperationError' : w.name);
  if (w.cause) {
    const cause = Object.assign(new Error(w.cause.message), { name: w.cause.name, code: w.cause.code });
    Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  }
  return e;
}

/** Talks to the shared worker: requests with replies, and error events per decryptor. */
class WorkerClient {
  /** @type {WorkerLike} */
  worker;
  #nextId = 1;
  #nextReq = 1;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: unknown) => void }>} */
  #pending = new Map();
  /** @type {Map<number, (data: any) => void>} */
  #listeners = new Map();
  /** @type {Error | null} */
  #fatal = null;

  /** @param {WorkerLike} worker */
  constructor(worker) {
    this.worker = worker;
    worker.addEventListener('message', (event) => this.#onMessage(event.data));
    worker.addEventListener('error', (event) => {
      event?.preventDefault?.();
      this.#fail(`sframe-wasm worker error: ${event?.message ?? 'failed to start'}`);
    });
  }

  /** @param {string} message */
  #fail(message) {
    this.#fatal = new DOMException(message, 'OperationError');
    for (const { reject } of this.#pending.values()) reject(this.#fatal);
    this.#pending.clear();
  }

  /** @param {any} data */
  #onMessage(data) {
    if (!data || typeof data !== 'object') return;
    if (data.type === 'reply') {
      const p = this.#pending.get(data.req);
      if (!p) return;
      this.#pending.delete(data.req);
      if (data.ok) p.resolve(data.value);
      else p.reject(errorFromWire(data.error));
    } else if (data.type === 'error') {
      this.#listeners.get(data.id)?.(data);
    } else if (data.type === 'fatal') {
      this.#fail(String(data.message));
    }
  }

  /**
   * Registers a transform with the worker; returns its id.
   * @param {'encrypt' | 'decrypt'} role
   * @param {SpecOptions} options
   * @param {{ frames: number, bytes: number } | null} [observe] encryptors: observeWire
   */
  create(role, options, observe = null) {
    const id = this.#nextId++;
    this.worker.postMessage({ type: 'create', id, role, options, ...(observe ? { observe } : {}) });
    return id;
  }

  /** @param {number} id */
  close(id) {
    this.#listeners.delete(id);
    this.worker.postMessage({ type: 'close', id });
  }

  /**
   * @param {number} id
   * @param {(data: any) => void} listener
   */
  listen(id, listener) {
    this.#listeners.set(id, listener);
  }

  /**
   * Sends a request; resolves or rejects with the worker's reply.
   * @param {object} message
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  request(message, transfer = []) {
    if (this.#fatal) return Promise.reject(this.#fatal);
    const req = this.#nextReq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      try {
        this.worker.postMessage({ ...message, req }, transfer);
      } catch (e) {
        this.#pending.delete(req);
        reject(e);
      }
    });
  }
}

function client() {
  sharedClient ??= new WorkerClient(workerFactory());
  return sharedClient;
}

/** The pass-through transforms guardSenders put on new senders (the getter hides them). */
/** @type {WeakSet<object>} */
const HOLDS = new WeakSet();
const GUARDED = Symbol.for('sframe-wasm.guardSenders');
/** Connections whose "track" events guard the senders a remote offer creates. */
/** @type {WeakSet<object>} */
const TRACKED = new WeakSet();

/**
 * Chromium (finding "late transform"): when a sender is created (addTransceiver, addTrack),
 * Chromium posts a task that, if the sender has no transform by then, short-circuits its
 * encoded-frame pipeline for good (blink RTCRtpSender::MaybeShortCircuitEncodedStreams). A
 * transform assigned in any later task is accepted — `sender.transform` reads it back — and
 * silently never called: the frames go out UNTRANSFORMED, in clear. `const enc = new
 * RTCRtpSFrameEncryptor(…); await enc.setEncryptionKey(…); sender.transform = enc` is such an
 * assignment (measured with Chromium 156: e2e/late-transform.test.mjs; Firefox 153 has no
 * short circuit).
 *
 * The guard: RTCPeerConnection's addTransceiver and addTrack (and, for the transceivers a
 * remote offer creates, the connection's "track" event, which Chromium fires in their creation
 * task) give each new sender, in its
 * creation task, a pass-through RTCRtpScriptTransform over the package's worker, so that the
 * short circuit never happens; the application's later `sender.transform = encryptor`
 * replaces it and takes effect. Frames pass unchanged until then — what a sender without a
 * transform sends anyway — and `sender.transform` reads null while the pass-through is there.
 * Applied only where the short circuit exists (a browser with Chromium's
 * RTCRtpSender.prototype.createEncodedStreams), not to connections created with
 * `encodedInsertableStreams: true` (no short circuit there), once per global. Senders it
 * cannot see — created before the package was imported, or by a remote offer that does not
 * send on that m-line (no "track" event) — are not guarded: assign their encryptor in the task
 * that created them (README: "Chromium: a transform assigned after the sender's creation task
 * is ignored").
 * @param {any} g the global (a browser window)
 */
export function guardSenders(g) {
  const PC = g?.RTCPeerConnection;
  const Sender = g?.RTCRtpSender;
  if (typeof PC !== 'function' || typeof Sender !== 'function') return;
  if (typeof g.RTCRtpScriptTransform !== 'function' || typeof g.Worker !== 'function') return;
  if (typeof Sender.prototype.createEncodedStreams !== 'function' || PC.prototype[GUARDED]) return;
  const d = Object.getOwnPropertyDescriptor(Sender.prototype, 'transform');
  const addTransceiver = PC.prototype.addTransceiver;
  const addTrack = PC.prototype.addTrack;
  const setRemoteDescription = PC.prototype.setRemoteDescription;
  if (
    !d?.get ||
    !d.set ||
    !d.configurable ||
    typeof addTransceiver !== 'function' ||
    typeof addTrack !== 'function' ||
    typeof setRemoteDescription !== 'function'
  ) {
    return;
  }
  const nativeGet = d.get;
  const nativeSet = d.set;
  /**
   * @param {RTCPeerConnection} pc
   * @param {RTCRtpSender} sender
   */
  const hold = (pc, sender) => {
    try {
      if (/** @type {any} */ (pc.getConfiguration()).encodedInsertableStreams) return;
      if (nativeGet.call(sender) != null) return;
      const t = new g.RTCRtpScriptTransform(client().worker, { [TRANSFORM_OPTION]: { role: 'hold' } });
      nativeSet.call(sender, t);
      HOLDS.add(t);
    } catch {
      // No guard (e.g. the worker cannot start): the sender is as the browser made it.
    }
  };
  Object.defineProperties(PC.prototype, {
    [GUARDED]: { value: true },
    addTransceiver: {
      value: {
        /** @this {RTCPeerConnection} @param {any[]} args */
        addTransceiver(...args) {
          const tr = addTransceiver.apply(this, /** @type {any} */ (args));
          hold(this, tr.sender);
          return tr;
        },
      }.addTransceiver,
      writable: true,
      configurable: true,
      enumerable: true,
    },
    // The transceivers a remote offer creates: their "track" event fires in the task that
    // created them (before the short circuit), so the guard goes on their senders there.
    setRemoteDescription: {
      value: {
        /** @this {RTCPeerConnection} @param {any[]} args */
        setRemoteDescription(...args) {
          if (!TRACKED.has(this)) {
            TRACKED.add(this);
            this.addEventListener('track', (e) => {
              const sender = /** @type {RTCTrackEvent} */ (e).transceiver?.sender;
              if (sender) hold(this, sender);
            });
          }
          return setRemoteDescription.apply(this, /** @type {any} */ (args));
        },
      }.setRemoteDescription,
      writable: true,
      configurable: true,
      enumerable: true,
    },
    addTrack: {
      value: {
        /** @this {RTCPeerConnection} @param {any[]} args */
        addTrack(...args) {
          const sender = addTrack.apply(this, /** @type {any} */ (args));
          hold(this, sender);
          return sender;
        },
      }.addTrack,
      writable: true,
      configurable: true,
      enumerable: true,
    },
  });
  Object.defineProperty(Sender.prototype, 'transform', {
    get: {
      /** @this {RTCRtpSender} */
      transform() {
        const v = nativeGet.call(this);
        return v != null && HOLDS.has(v) ? null : v;
      },
    }.transform,
    set: nativeSet,
    enumerable: d.enumerable,
    configurable: true,
  });
}

// At import, in a browser's main thread: a sender created before the first encryptor (the
// usual order) must already be guarded. Defines no global; patches only the members above.
guardSenders(globalThis);

/**
 * @typedef {{ id: number, role: 'encrypt' | 'decrypt', client: WorkerClient,
 *   cipherSuite: string, events: EventTarget | null,
 *   onerror: ((e: Event) => unknown) | null, self: WeakRef<object> | null }} State
 */

/** @type {WeakMap<object, State>} */
const STATES = new WeakMap();

/**
 * @param {unknown} self
 * @param {'encrypt' | 'decrypt'} role
 * @param {string} what
 * @returns {State}
 */
function stateOf(self, role, what) {
  const st = STATES.get(/** @type {object} */ (self));
  if (!st || st.role !== role) throw new TypeError(`${what}: illegal invocation`);
  return st;
}

/** Bounds of the observeWire extension option (samples kept, bytes copied per sample). */
export const OBSERVE_WIRE_LIMITS = { frames: { default: 16, max: 256 }, bytes: { default: 256, max: 4096 } };

/**
 * The encryptor's extension option `observeWire` (true, or { frames, bytes }): null when
 * absent or false; out-of-range or non-integer values are a TypeError / RangeError.
 * @param {unknown} value
 * @param {string} what
 * @returns {{ frames: number, bytes: number } | null}
 */
export function parseObserveWire(value, what) {
  if (value === undefined || value === null || value === false) return null;
  if (value !== true && typeof value !== 'object') {
    throw new TypeError(`${what}: observeWire must be true or { frames, bytes }`);
  }
  const o = /** @type {Record<string, unknown>} */ (value === true ? {} : value);
  /** @param {'frames' | 'bytes'} name */
  const field = (name) => {
    const { default: d, max } = OBSERVE_WIRE_LIMITS[name];
    if (o[name] === undefined) return d;
    const n = Number(o[name]);
    if (!Number.isInteger(n)) throw new TypeError(`${what}: observeWire.${name} must be an integer`);
    if (n < (name === 'frames' ? 1 : 0) || n > max) {
      throw new RangeError(`${what}: observeWire.${name} must be in ${name === 'frames' ? 1 : 0}..${max}`);
    }
    return n;
  };
  return { frames: field('frames'), bytes: field('bytes') };
}

/**
 * Builds the RTCRtpScriptTransform for a new encryptor or decryptor.
 * @param {'encrypt' | 'decrypt'} role
 * @param {unknown} options
 * @param {object} proto the prototype it gets (new.target.prototype)
 * @param {string} what
 */
function createTransform(role, options, proto, what) {
  const o = parseSpecOptions(options, what);
  const observe =
    role === 'encrypt' ? parseObserveWire(/** @type {any} */ (options)?.observeWire, what) : null;
  // Checked here too, so a bad value throws from the constructor (the worker checks again).
  if (o.compatibilityMode !== undefined) parseCompatibilityMode(o.compatibilityMode);
  if (typeof RTCRtpScriptTransform !== 'function') {
    throw new DOMException(
      `${what} needs RTCRtpScriptTransform (the main thread of a browser with WebRTC Encoded Transform)`,
      'NotSupportedError',
    );
  }
  const c = client();
  const id = c.create(role, o, observe);
  let transform;
  try {
    transform = new RTCRtpScriptTransform(/** @type {Worker} */ (c.worker), {
      // The settings go both ways (create message, transformer options): whichever the worker
      // sees first makes the stream.
      [TRANSFORM_OPTION]: { id, role, options: o, ...(observe ? { observe } : {}) },
    });
  } catch (e) {
    c.close(id);
    throw e;
  }
  Object.setPrototypeOf(transform, proto);
  /** @type {State} */
  const st = { id, role, client: c, cipherSuite: o.cipherSuite, events: null, onerror: null, self: null };
  STATES.set(transform, st);
  return { transform, st };
}

/**
 * A key call of the spec: arguments converted and checked here (a bad one rejects with
 * TypeError / RangeError before anything is posted, or copied); key bytes (extension) are
 * copied and the copy transferred; a CryptoKey is structured-cloned (it stays
 * non-extractable). The copy is the package's: the worker zero-fills the buffer it received
 * once the call settled (worker-host.js), and here it is zero-filled if it was not
 * transferred (the worker had failed, or postMessage threw). The caller's buffer is untouched.
 * @param {State} st
 * @param {'setEncryptionKey' | 'addDecryptionKey' | 'removeDecryptionKey'} op
 * @param {string} what
 * @param {unknown} key
 * @param {unknown} keyID
 * @returns {Promise<void>}
 */
function keyCall(st, op, what, key, keyID) {
  /** @type {bigint} */
  let kid;
  try {
    if (op !== 'removeDecryptionKey' && !isKeyArgument(key)) {
      throw new TypeError(`${what}: key must be a CryptoKey (or, as an extension, the key bytes)`);
    }
    kid = keyIdArgument(keyID, what);
  } catch (e) {
    return Promise.reject(e);
  }
  if (op === 'removeDecryptionKey' || !(key instanceof ArrayBuffer || ArrayBuffer.isView(key))) {
    return st.client.request({ type: 'key', op, id: st.id, key, keyID: kid }).then(() => undefined);
  }
  const view = ArrayBuffer.isView(key)
    ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
    : new Uint8Array(key);
  const copy = view.slice();
  // Once transferred, `copy` is detached here and wiping it does nothing: the worker wipes
  // the buffer it received. Not transferred, it is the last copy: wiped now the call is over.
  return st.client.request({ type: 'key', op, id: st.id, key: copy, keyID: kid }, [copy.buffer]).then(
    () => wipeKeyBytes(copy),
    (e) => {
      wipeKeyBytes(copy);
      throw e;
    },
  );
}

/**
 * W3C `RTCRtpSFrameEncryptor`: `sender.transform = new RTCRtpSFrameEncryptor({ cipherSuite })`.
 * Frames the sender encodes before the first `setEncryptionKey` has taken effect are dropped
 * (never sent in clear; W3C issue #306) and counted: `(await getStats()).droppedNoKey`.
 * Not an EventTarget.
 */
export class RTCRtpSFrameEncryptor {
  /** @param {import('../index.js').RTCRtpSFrameEncryptorOptions} options */
  constructor(options) {
    const { transform } = createTransform('encrypt', options, new.target.prototype, 'RTCRtpSFrameEncryptor');
    return /** @type {any} */ (transform);
  }

  /**
   * Makes `key` the encryption key under `keyID` (required) in the worker; resolves once
   * frames are encrypted with it. Rejects with TypeError / RangeError (arguments),
   * InvalidModificationError (sframe-core refused the key; `cause.code` e.g. "key_in_use"),
   * OperationError (the worker failed).
   * @param {CryptoKey | BufferSource} key
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  setEncryptionKey(key, keyID) {
    const what = 'RTCRtpSFrameEncryptor.setEncryptionKey';
    try {
      return keyCall(stateOf(this, 'encrypt', what), 'setEncryptionKey', what, key, keyID);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Extension: the worker's frame counters for this transform (`droppedNoKey`: frames dropped
   * because no key was set yet).
   * @returns {Promise<SFrameStats>}
   */
  getStats() {
    try {
      const st = stateOf(this, 'encrypt', 'RTCRtpSFrameEncryptor.getStats');
      return st.client.request({ type: 'stats', id: st.id });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Extension (option `observeWire`, for demos and debugging): what this encryptor put on the
   * wire since the last call — what a media server relaying it sees — as `{ samples, missed,
   * frames }`: per protected frame (oldest first, at most `observeWire.frames`) its size,
   * type, mimeType, timestamp, SFrame header (`keyID`, `counter`: bigints, `headerLength`;
   * null if it did not parse), `clear` (clear codec bytes before the header) and `bytes` (a copy of its first
   * `observeWire.bytes` bytes); `missed`: samples dropped because the page did not take them
   * in time; `frames`: frames sampled in all. Rejects with InvalidStateError without
   * `observeWire`.
   * @returns {Promise<import('../index.js').SFrameWireSamples>}
   */
  takeWireSamples() {
    try {
      const st = stateOf(this, 'encrypt', 'RTCRtpSFrameEncryptor.takeWireSamples');
      return st.client.request({ type: 'wire', id: st.id });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Extension: the cipher suite name. */
  get cipherSuite() {
    return stateOf(this, 'encrypt', 'RTCRtpSFrameEncryptor.cipherSuite').cipherSuite;
  }

  get [Symbol.toStringTag]() {
    return 'RTCRtpSFrameEncryptor';
  }
}

/**
 * W3C `RTCRtpSFrameDecryptor`: `receiver.transform = new RTCRtpSFrameDecryptor({ cipherSuite })`.
 * An EventTarget: frames that fail to decrypt are dropped and fire "error"
 * (SFrameTransformErrorEvent: errorType "authentication", "keyID" or "syntax", keyID, frame).
 * Frames that arrive before their key wait for it in the worker (extension option `keyWait`,
 * see SFrameDecryptorStream).
 */
export class RTCRtpSFrameDecryptor extends EventTarget {
  /** @param {import('../index.js').SFrameTransformOptions} options */
  // @ts-ignore: returns another object (the RTCRtpScriptTransform), so it calls no super().
  constructor(options) {
    const { transform, st } = createTransform('decrypt', options, new.target.prototype, 'RTCRtpSFrameDecryptor');
    // The returned object is an RTCRtpScriptTransform, not an EventTarget of the browser:
    // its listeners live on a private EventTarget (see addEventListener below).
    st.events = new EventTarget();
    st.self = new WeakRef(transform);
    st.client.listen(st.id, (data) => {
      const self = st.self?.deref();
      if (!self) {
        st.client.close(st.id);
        return;
      }
      const event = new SFrameTransformErrorEvent('error', {
        errorType: data.errorType,
        keyID: data.keyID,
        frame: data.frame,
        code: data.code,
        previousRun: data.previousRun ?? null,
      });
      dispatchAs(self, st, event);
    });
    return /** @type {any} */ (transform);
  }

  /**
   * Installs (or replaces) the key for `keyID` (required) in the worker; resolves once it is
   * in force. Rejections as for RTCRtpSFrameEncryptor.setEncryptionKey.
   * @param {CryptoKey | BufferSource} key
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  addDecryptionKey(key, keyID) {
    const what = 'RTCRtpSFrameDecryptor.addDecryptionKey';
    try {
      return keyCall(stateOf(this, 'decrypt', what), 'addDecryptionKey', what, key, keyID);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Removes the key for `keyID` (resolves whether or not there was one).
   * @param {bigint | number} keyID
   * @returns {Promise<void>}
   */
  removeDecryptionKey(keyID) {
    const what = 'RTCRtpSFrameDecryptor.removeDecryptionKey';
    try {
      return keyCall(stateOf(this, 'decrypt', what), 'removeDecryptionKey', what, undefined, keyID);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** @returns {((e: Event) => unknown) | null} */
  get onerror() {
    return stateOf(this, 'decrypt', 'RTCRtpSFrameDecryptor.onerror').onerror;
  }

  set onerror(handler) {
    const st = stateOf(this, 'decrypt', 'RTCRtpSFrameDecryptor.onerror');
    const events = /** @type {EventTarget} */ (st.events);
    if (st.onerror) events.removeEventListener('error', st.onerror);
    st.onerror = typeof handler === 'function' ? handler : null;
    if (st.onerror) events.addEventListener('error', st.onerror);
  }

  /**
   * @override
   * @param {string} type
   * @param {EventListenerOrEventListenerObject | null} listener
   * @param {boolean | AddEventListenerOptions} [options]
   */
  addEventListener(type, listener, options) {
    const st = stateOf(this, 'decrypt', 'addEventListener');
    /** @type {EventTarget} */ (st.events).addEventListener(type, listener, options);
  }

  /**
   * @override
   * @param {string} type
   * @param {EventListenerOrEventListenerObject | null} listener
   * @param {boolean | EventListenerOptions} [options]
   */
  removeEventListener(type, listener, options) {
    const st = stateOf(this, 'decrypt', 'removeEventListener');
    /** @type {EventTarget} */ (st.events).removeEventListener(type, listener, options);
  }

  /**
   * @override
   * @param {Event} event
   */
  dispatchEvent(event) {
    return dispatchAs(this, stateOf(this, 'decrypt', 'dispatchEvent'), event);
  }

  /**
   * Extension: the worker's frame counters for this transform.
   * @returns {Promise<SFrameStats>}
   */
  getStats() {
    try {
      const st = stateOf(this, 'decrypt', 'RTCRtpSFrameDecryptor.getStats');
      return st.client.request({ type: 'stats', id: st.id });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Extension: the cipher suite name. */
  get cipherSuite() {
    return stateOf(this, 'decrypt', 'RTCRtpSFrameDecryptor.cipherSuite').cipherSuite;
  }

  get [Symbol.toStringTag]() {
    return 'RTCRtpSFrameDecryptor';
  }
}

/**
 * Dispatches `event` on the decryptor's private EventTarget, with `target` and `currentTarget`
 * reading as the decryptor itself (the object the application holds).
 * @param {object} self
 * @param {State} st
 * @param {Event} event
 */
function dispatchAs(self, st, event) {
  for (const name of ['target', 'currentTarget', 'srcElement']) {
    Object.defineProperty(event, name, { get: () => self, configurable: true });
  }
  return /** @type {EventTarget} */ (st.events).dispatchEvent(event);
}

/** W3C PR #308's name of RTCRtpSFrameEncryptor (renamed by PR #312): the same class. */
export const RTCRtpSFrameEncrypter = RTCRtpSFrameEncryptor;
/** W3C PR #308's name of RTCRtpSFrameDecryptor (renamed by PR #312): the same class. */
export const RTCRtpSFrameDecrypter = RTCRtpSFrameDecryptor;
