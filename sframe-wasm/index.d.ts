// Types of the sframe-wasm package (RFC 9605 SFrame, sframe-core in WebAssembly).

/**
 * Cipher suite names (W3C `SFrameCipherSuite`): RFC 9605 §4.5 (IANA values 1-5) and
 * draft-barnes-sframe-iana-256 (6-8, AES-256-CTR + HMAC-SHA512; W3C PR #303).
 */
export type SFrameCipherSuite =
  | 'AES_128_CTR_HMAC_SHA256_80'
  | 'AES_128_CTR_HMAC_SHA256_64'
  | 'AES_128_CTR_HMAC_SHA256_32'
  | 'AES_128_GCM_SHA256_128'
  | 'AES_256_GCM_SHA512_128'
  | 'AES_256_CTR_HMAC_SHA512_80'
  | 'AES_256_CTR_HMAC_SHA512_64'
  | 'AES_256_CTR_HMAC_SHA512_32';

/** A cipher suite by name or IANA value (1..8). */
export type CipherSuiteLike = SFrameCipherSuite | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** Bytes the low-level API takes: any ArrayBuffer or view of one (copied into wasm). */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** W3C CryptoKeyID: a number up to 2^53-1 or a bigint up to 2^64-1. */
export type CryptoKeyID = number | bigint;

/**
 * sframe-core's stable error codes (`sframe_core::Error::code()`), in `Error::number()` order:
 * exactly what `errorCodes()` returns (test/tables.test.mjs checks this list against it).
 */
export type SFrameErrorCode =
  | 'buffer_too_small'
  | 'malformed_frame'
  | 'unknown_key_id'
  | 'authentication_failed'
  | 'unsupported_cipher_suite'
  | 'invalid_key'
  | 'counter_exhausted'
  | 'replay'
  | 'key_store_full'
  | 'key_usage_limit'
  | 'no_key'
  | 'invalid_config'
  | 'metadata_too_long'
  /**
   * A Sender refused key material (same key, KID and suite) that another live Sender of
   * this wasm instance (JS realm or worker) uses: both would count from 0 and repeat every
   * nonce. Give each sending track its own KID. Released when that Sender is freed (an
   * SFrameTransform: closed), and a Sender given it then resumes its counter.
   */
  | 'key_in_use'
  /**
   * The key may have been used before and its counter is unknown: after the keys of 16384
   * freed Senders the instance forgets the oldest, and then a key it does not know may be a
   * forgotten one. `setKeyWithCounter` (a persisted counter, or 0 for a new key) installs it.
   */
  | 'counter_unknown'
  /**
   * A key derived for one cipher suite was given to an object of another suite (only through
   * sframe-core's Rust API: this package derives every key for its object's own suite).
   */
  | 'suite_mismatch'
  /**
   * A derived key (`sframeKey`, not the suite's `keyLength` bytes) or salt (`sframeSalt`, not
   * `nonceLength` bytes) has the wrong length. A base key that is too short is `invalid_key`.
   */
  | 'invalid_length'
  | 'external_key';

/** Errors thrown by the low-level API: `code` is sframe-core's stable error code. */
export interface SFrameError extends Error {
  name: 'SFrameError';
  code: SFrameErrorCode;
}

/** What key calls on a closed SFrameTransform reject with. */
export interface SFrameClosedError extends Error {
  name: 'InvalidStateError';
  code: 'closed';
}

export interface SFrameHeader {
  keyId: bigint;
  counter: bigint;
  headerLength: number;
}

/** A suite's sizes (RFC 9605 §4.5), as sframe-core defines them. */
export interface CipherSuiteInfo {
  id: number;
  name: SFrameCipherSuite;
  /** Nk: AEAD key bytes (CTR suites: AES key ‖ HMAC key). */
  keyLength: number;
  /** Nka: the AES key's share of keyLength. */
  encKeyLength: number;
  nonceLength: number;
  tagLength: number;
  hash: 'SHA-256' | 'SHA-512';
  maxOverhead: number;
  /** AES-CTR + HMAC (§4.5.1: the AEAD is built in sframe-core); false: AES-GCM. */
  ctrHmac: boolean;
}

/**
 * Protects frames under one key at a time (RFC 9605 §4.4). Counters never restart for a key
 * this Sender used: going back to it resumes its counter, re-supplying the key in force changes
 * nothing. A key (suite, KID, key material) another live Sender of this wasm instance (JS realm
 * or worker) has used throws `key_in_use` until that Sender is freed; a Sender given a freed
 * Sender's key resumes where its counter stood. A call that throws changes nothing.
 */
export class Sender {
  constructor(cipherSuite: CipherSuiteLike);
  /** Derives the key for keyId from a base key (>= 16 bytes) and makes it current. */
  setKey(keyId: CryptoKeyID, baseKey: Bytes): void;
  /**
   * Resume a persisted sender at nextCounter (a value persisted after its last frame; an
   * already used counter would repeat a nonce). A key this Sender knows never moves back.
   */
  setKeyWithCounter(keyId: CryptoKeyID, baseKey: Bytes, nextCounter: bigint): void;
  /** Installs an already derived sframe_key (Nk bytes) and sframe_salt (12 bytes). */
  setDerivedKey(keyId: CryptoKeyID, sframeKey: Bytes, sframeSalt: Bytes): void;
  /** Installs a key whose AEAD runs outside wasm (WebCrypto): its 12-byte sframe_salt only. */
  setExternalKey(keyId: CryptoKeyID, sframeSalt: Bytes): void;
  /** Uses the next counter for an external AEAD: returns nonce (12 bytes) ‖ header. */
  protectExternal(): Uint8Array;
  /** header ‖ ciphertext ‖ tag; metadata is authenticated, not included. */
  protect(frame: Bytes, metadata?: Bytes | null): Uint8Array;
  readonly keyId: bigint | undefined;
  readonly nextCounter: bigint | undefined;
  readonly cipherSuite: SFrameCipherSuite;
  /** Largest output of protecting a length-byte frame. */
  maxOutputLength(length: number): number;
  /**
   * Releases the wasm object: zeroizes its keys and releases its key_in_use claims; the
   * instance keeps the keys' counters (a new Sender given one resumes it).
   */
  free(): void;
}

/** Receiver settings, fixed at construction and validated there. */
export interface ReceiverOptions {
  /** Replay window in counter values: 0 turns replay protection off; at most 1024; default 512. */
  replayWindow?: number;
}

/** Unprotects frames; keys are looked up by the KID in each header (RFC 9605 §4.4.4, §9.3). */
export class Receiver {
  constructor(cipherSuite: CipherSuiteLike, options?: ReceiverOptions);
  addKey(keyId: CryptoKeyID, baseKey: Bytes): void;
  addDerivedKey(keyId: CryptoKeyID, sframeKey: Bytes, sframeSalt: Bytes): void;
  removeKey(keyId: CryptoKeyID): boolean;
  hasKey(keyId: CryptoKeyID): boolean;
  clear(): void;
  readonly keyCount: number;
  /** The replay window in force (see ReceiverOptions). */
  readonly replayWindow: number;
  unprotect(frame: Bytes, metadata?: Bytes | null): Uint8Array;
  /** Installs a key whose AEAD runs outside wasm (WebCrypto): its 12-byte sframe_salt only. */
  addExternalKey(keyId: CryptoKeyID, sframeSalt: Bytes): void;
  /** Parses, finds the key, checks limits and replay; changes nothing. */
  unprotectExternal(frame: Bytes): Opening;
  /** After the external AEAD verified the tag: records the frame (may throw "replay"). */
  commitExternal(opening: Opening): void;
  /** After the external AEAD rejected the tag: counts one failure. */
  rejectExternal(opening: Opening): void;
  /** Largest output of unprotecting a length-byte frame. */
  maxOutputLength(length: number): number;
  readonly cipherSuite: SFrameCipherSuite;
  free(): void;
}

/** One frame between Receiver.unprotectExternal and commitExternal / rejectExternal. */
export class Opening {
  readonly keyId: bigint;
  readonly headerLength: number;
  readonly tagLength: number;
  readonly nonce: Uint8Array;
  free(): void;
}

/** Parses the SFrame header (RFC 9605 §4.3) without a key. */
export function parseHeader(frame: Bytes): SFrameHeader;
export function cipherSuiteInfo(cipherSuite: CipherSuiteLike): CipherSuiteInfo;
/** Every suite sframe-core supports, in IANA order (ids 1..8). */
export function cipherSuites(): CipherSuiteInfo[];
/** Suite names in IANA order: CIPHER_SUITES[id - 1]. */
export const CIPHER_SUITES: readonly SFrameCipherSuite[];
/** Every error code sframe-core has (`Error::code()`), in `Error::number()` order. */
export function errorCodes(): SFrameErrorCode[];
/**
 * The RFC 9605 §4.4.2 HKDF-Expand info for `which` output of the key for `keyId` under
 * `cipherSuite` — label ‖ BE64(KID) ‖ BE16(suite) — as sframe-core builds it, for deriving in
 * WebCrypto (HKDF with the suite's `hash` and an empty salt).
 */
export function derivationInfo(which: 'key' | 'salt', keyId: CryptoKeyID, cipherSuite: CipherSuiteLike): Uint8Array;

/** "auto" (default: from the encoded frame's mimeType), "none", "VP8", "H264", "opus". */
export type SFrameCompatibilityMode = 'auto' | 'none' | 'VP8' | 'H264' | 'opus' | 'vp8' | 'h264';

/**
 * W3C SFrame type (PR #293): "per-frame" (default) encrypts each encoded frame;
 * "per-packet" encrypts each RTP packet inside the browser's packetizer — not supported by
 * this polyfill (constructors throw a NotSupportedError DOMException).
 */
export type SFrameType = 'per-frame' | 'per-packet';

/**
 * W3C `SFrameTransformOptions` of RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter /
 * SFrameEncrypterStream / SFrameDecrypterStream. `cipherSuite` is required and is a suite
 * name (the IDL enum; a number is a TypeError).
 */
export interface SFrameTransformOptions {
  cipherSuite: SFrameCipherSuite;
  type?: SFrameType;
  /** Extension: which bytes stay clear for the codec (see README, "Wire layout"). */
  compatibilityMode?: SFrameCompatibilityMode;
  /** Extension (decrypters): replay window in counter values (default 512, 0 = off). */
  replayWindow?: number;
}

/** Options of SFrameTransform, the compatibility object (Safari's and pre-2026 drafts'). */
export interface SFrameTransformLegacyOptions {
  /** A suite name or IANA value; default: from authenticationSize. */
  cipherSuite?: CipherSuiteLike;
  /** Safari: "encrypt" (default) or "decrypt". */
  role?: 'encrypt' | 'decrypt';
  /** Safari: tag size 10 (default), 8, 4 (AES-128-CTR+HMAC) or 16 (AES-128-GCM). */
  authenticationSize?: 4 | 8 | 10 | 16 | '4' | '8' | '10' | '16';
  compatibilityMode?: SFrameCompatibilityMode;
  /** Receiver replay window (default 512, 0 = off). */
  replayWindow?: number;
}

export type SFrameTransformErrorEventType = 'authentication' | 'keyID' | 'syntax';

/** W3C `SFrameTransformErrorEventInit` (errorType and frame required), plus `code`. */
export interface SFrameTransformErrorEventInit extends EventInit {
  errorType: SFrameTransformErrorEventType;
  frame: unknown;
  keyID?: CryptoKeyID | null;
  /** Extension: sframe-core's error code. */
  code?: string | null;
}

/** W3C `SFrameTransformErrorEvent` ("error" on decrypters; on SFrameTransform both roles). */
export class SFrameTransformErrorEvent extends Event {
  constructor(type: string, eventInitDict: SFrameTransformErrorEventInit);
  readonly errorType: SFrameTransformErrorEventType;
  /** The frame's key ID when its SFrame header could be read (a bigint), else null. */
  readonly keyID: CryptoKeyID | null;
  /**
   * The frame that failed (it was dropped): the RTCEncodedVideoFrame / RTCEncodedAudioFrame
   * or BufferSource. On RTCRtpSFrameDecrypter (main thread) a structured clone of the
   * worker's frame, or null where the browser cannot clone encoded frames.
   */
  readonly frame: unknown;
  /**
   * Extension: sframe-core's error code, e.g. "authentication_failed", "unknown_key_id",
   * "malformed_frame", the layout's "frame_too_short", or "key_in_use" (SFrameTransform: a
   * refused key, errorType "keyID", frame null).
   */
  readonly code: SFrameErrorCode | 'frame_too_short' | 'invalid_argument' | (string & {}) | null;
}

/** A key: a CryptoKey (the IDL type) or, as this package's extension, the base key bytes. */
export type SFrameKey = CryptoKey | BufferSource;
type Frame = RTCEncodedVideoFrame | RTCEncodedAudioFrame | BufferSource;

/** Frame counters (extension): dropped = droppedNoKey + replayed + errors. */
export interface SFrameStats {
  /** Frames written to the transform. */
  frames: number;
  /** 0-byte frames passed on unchanged. */
  passedThrough: number;
  dropped: number;
  /** Encrypter: frames dropped because no key was set yet (never sent in clear). */
  droppedNoKey: number;
  /** Decrypter: authentic frames seen before (dropped without an event). */
  replayed: number;
  /** Frames dropped for any other error (decrypters fire an "error" event for each). */
  errors: number;
}

/**
 * Rejections of the W3C key methods (RTCRtpSFrame*, SFrame*Stream): TypeError (a key that is
 * neither a CryptoKey nor bytes, a missing or non-integral keyID, or a number outside
 * 0..2^53-1), RangeError (a bigint outside 0..2^64-1), this DOMException when sframe-core
 * refuses the key — `cause.code` says why: "key_in_use" (another live encrypter of the realm
 * uses this key and KID), "invalid_key" (e.g. a base key under 16 bytes) — and
 * DOMException "InvalidStateError" once closed, "OperationError" if the worker failed.
 */
export interface SFrameKeyRefusedError extends DOMException {
  name: 'InvalidModificationError';
  cause: SFrameError;
}

/**
 * W3C `SFrameEncrypterStream` (workers and Window): a GenericTransformStream that encrypts
 * frames. Not an EventTarget (W3C PR #309): frames it cannot encrypt are dropped and counted
 * in `stats` — before the first key: `stats.droppedNoKey`; nothing is ever passed on in clear.
 */
export class SFrameEncrypterStream {
  constructor(options: SFrameTransformOptions);
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame>;
  /**
   * Makes `key` current under `keyID` (required). Resolves once frames are encrypted with it;
   * rejects as described at SFrameKeyRefusedError (the stream keeps the key it had).
   */
  setEncryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
  /** Extension: frame counters. */
  readonly stats: SFrameStats;
  /**
   * Extension, idempotent: frees the wasm Sender (zeroizing its keys; its key and KID become
   * usable by another encrypter of this wasm instance, which resumes their counter), closes
   * `readable`, errors `writable`. Done automatically when the stream ends.
   */
  close(): void;
  readonly closed: boolean;
}

/**
 * W3C `SFrameDecrypterStream` (workers and Window): a GenericTransformStream and EventTarget
 * that decrypts frames with the key their KID names; failures fire "error".
 */
export class SFrameDecrypterStream extends EventTarget {
  constructor(options: SFrameTransformOptions);
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame>;
  /** Installs (or replaces) the key for `keyID` (required); resolves once in force. */
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Removes the key for `keyID`; resolves whether or not there was one. */
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  onerror: ((this: SFrameDecrypterStream, event: SFrameTransformErrorEvent) => unknown) | null;
  addEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
  /** Extension: frame counters. */
  readonly stats: SFrameStats;
  /** Extension, idempotent: frees the wasm Receiver (zeroizing its keys). */
  close(): void;
  readonly closed: boolean;
}

/**
 * Compatibility alias of the older combined SFrame object (Safari's `SFrameTransform` and
 * drafts before W3C PR #282): one class for both roles, `keyID` optional (0), errors on both
 * roles as events, key rejections are sframe-core's SFrameError (with `code`).
 */
export class SFrameTransform extends EventTarget {
  constructor(options?: SFrameTransformLegacyOptions);
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame>;
  readonly role: 'encrypt' | 'decrypt';
  readonly cipherSuite: SFrameCipherSuite;
  readonly compatibilityMode: 'auto' | 'none' | 'vp8' | 'h264' | 'opus';
  readonly stats: SFrameStats;
  onerror: ((this: SFrameTransform, event: SFrameTransformErrorEvent) => unknown) | null;
  addEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * key: an HKDF CryptoKey (stays non-extractable) with "deriveBits" usage — add "deriveKey"
   * too and, for the AES-GCM suites, the AES key is derived inside WebCrypto and never enters
   * JS or wasm memory (every frame then uses WebCrypto's AES-GCM) — or an extractable CryptoKey
   * (exported raw) or the base key bytes (small frames in wasm, from 1 KiB WebCrypto).
   * On a decrypter: adds a decryption key.
   * An encrypter refuses a key and KID another live encrypter of this wasm instance uses: the
   * promise rejects with an SFrameError `key_in_use` and an "error" event is dispatched
   * (errorType "keyID"). Other key errors (e.g. `invalid_key`) are reported the same way.
   * The package's copies of the key bytes are wiped once wasm has them. After close():
   * rejects with SFrameClosedError.
   */
  setEncryptionKey(key: SFrameKey, keyID?: CryptoKeyID): Promise<void>;
  addDecryptionKey(key: SFrameKey, keyID?: CryptoKeyID): Promise<void>;
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  /**
   * Extension, idempotent: frees the wasm Sender/Receiver (zeroizing its keys; an
   * encrypter's key becomes usable by another encrypter again), closes `readable`, errors
   * `writable`; afterwards key calls reject and no frame is processed. Done automatically
   * when the writable is closed or aborted or the readable is cancelled. A new encrypter of
   * this wasm instance given the key and KID a closed one used resumes its counter; one in
   * another instance (worker, tab) would start at 0: never give it that key and KID.
   */
  close(): void;
  /** Whether close() was called or the stream ended (extension). */
  readonly closed: boolean;
}

/**
 * W3C `RTCRtpSFrameEncrypter` (main thread): `sender.transform = new RTCRtpSFrameEncrypter({
 * cipherSuite })`. The object is an `RTCRtpScriptTransform` backed by the package's module
 * worker (one per page). Frames encoded before the first key is in force are dropped and
 * counted (`getStats().droppedNoKey`), never sent in clear. Not an EventTarget.
 * Throws TypeError for bad options, NotSupportedError for `type: "per-packet"` or where
 * RTCRtpScriptTransform does not exist.
 */
export class RTCRtpSFrameEncrypter {
  constructor(options: SFrameTransformOptions);
  /**
   * Posts the key to the worker (a CryptoKey is structured-cloned and stays
   * non-extractable; bytes are copied and transferred); resolves once the worker encrypts
   * with it. Rejections: see SFrameKeyRefusedError.
   */
  setEncryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Extension: the worker's frame counters for this transform. */
  getStats(): Promise<SFrameStats>;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
}

/**
 * W3C `RTCRtpSFrameDecrypter` (main thread): `receiver.transform = new
 * RTCRtpSFrameDecrypter({ cipherSuite })`. An `RTCRtpScriptTransform` backed by the package's
 * worker, with EventTarget methods: frames that fail to decrypt fire "error"
 * (SFrameTransformErrorEvent) here, on the main thread.
 */
export class RTCRtpSFrameDecrypter extends EventTarget {
  constructor(options: SFrameTransformOptions);
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  onerror: ((this: RTCRtpSFrameDecrypter, event: SFrameTransformErrorEvent) => unknown) | null;
  addEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener(
    type: 'error',
    listener: (this: this, event: SFrameTransformErrorEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Extension: the worker's frame counters for this transform. */
  getStats(): Promise<SFrameStats>;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
}

/** What installPolyfill() defined, by name. */
export interface InstalledInterfaces {
  RTCRtpSFrameEncrypter?: typeof RTCRtpSFrameEncrypter;
  RTCRtpSFrameDecrypter?: typeof RTCRtpSFrameDecrypter;
  SFrameEncrypterStream?: typeof SFrameEncrypterStream;
  SFrameDecrypterStream?: typeof SFrameDecrypterStream;
  SFrameTransform?: typeof SFrameTransform;
  SFrameTransformErrorEvent?: typeof SFrameTransformErrorEvent;
}

/**
 * Defines on `target` (default globalThis) each interface it lacks: the streams, SFrameTransform
 * and SFrameTransformErrorEvent everywhere; RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter only
 * where RTCRtpScriptTransform and Worker exist. Native ones are kept. Importing the package
 * defines nothing.
 */
export function installPolyfill(target?: object): InstalledInterfaces;

export type Codec = 'none' | 'vp8' | 'opus' | 'h264';
export function clearPrefixLength(codec: Codec, data: Uint8Array): number;
export function codecForMimeType(mimeType: string | undefined): Codec;
export function h264ClearLength(data: Uint8Array): number;
export function escapeStartCodes(src: Uint8Array, zeros?: number): Uint8Array;
export function unescapeStartCodes(src: Uint8Array, zeros?: number): Uint8Array;
/** `derivationInfo(which, kid, suiteId)` (the name this package exported first). */
export function derivationLabel(which: 'key' | 'salt', kid: bigint, suiteId: number): Uint8Array;
export function normalizeKeyId(keyID: CryptoKeyID | undefined): bigint;
export type ResolvedKey = { baseKey: Uint8Array } | { sframeKey: Uint8Array; sframeSalt: Uint8Array };
/** Fresh copies of the key bytes (or WebCrypto-derived key and salt); wipe them with wipeKey. */
export function resolveKey(key: SFrameKey, kid: bigint, suite: CipherSuiteInfo): Promise<ResolvedKey>;
/** Overwrites the bytes of a resolveKey result with zeros. */
export function wipeKey(key: ResolvedKey | null | undefined): void;
