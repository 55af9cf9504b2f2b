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

/** W3C CryptoKeyID: a number up to 2^53-1 or a bigint up to 2^64-1. */
export type CryptoKeyID = number | bigint;

/** sframe-core's stable error codes (`sframe_core::Error::code()`). */
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
   * this JS realm uses: both would count from 0 and repeat every nonce. Give each sending
   * track its own KID. Released when that Sender is freed (an SFrameTransform: closed).
   */
  | 'key_in_use'
  /** Only in builds of sframe-core without `alloc` (not this package). */
  | 'counter_unknown';

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
}

/**
 * Protects frames under one key at a time (RFC 9605 §4.4). Counters never restart for a key
 * this Sender used: going back to it resumes its counter, re-supplying the key in force changes
 * nothing. A key (suite, KID, key material) another live Sender of this JS realm has used
 * throws `key_in_use` until that Sender is freed. A call that throws changes nothing.
 */
export class Sender {
  constructor(cipherSuite: CipherSuiteLike);
  /** Derives the key for keyId from a base key (>= 16 bytes) and makes it current. */
  setKey(keyId: CryptoKeyID, baseKey: BufferSource): void;
  /**
   * Resume a persisted sender at nextCounter (a value persisted after its last frame; an
   * already used counter would repeat a nonce). A key this Sender knows never moves back.
   */
  setKeyWithCounter(keyId: CryptoKeyID, baseKey: BufferSource, nextCounter: bigint): void;
  /** Installs an already derived sframe_key (Nk bytes) and sframe_salt (12 bytes). */
  setDerivedKey(keyId: CryptoKeyID, sframeKey: BufferSource, sframeSalt: BufferSource): void;
  /** header ‖ ciphertext ‖ tag; metadata is authenticated, not included. */
  protect(frame: BufferSource, metadata?: BufferSource | null): Uint8Array;
  readonly keyId: bigint | undefined;
  readonly nextCounter: bigint | undefined;
  readonly cipherSuite: SFrameCipherSuite;
  maxProtectedLength(length: number): number;
  /** Releases the wasm object: zeroizes its keys and releases its key_in_use claims. */
  free(): void;
}

/** Unprotects frames; keys are looked up by the KID in each header (RFC 9605 §4.4, §9). */
export class Receiver {
  constructor(cipherSuite: CipherSuiteLike);
  addKey(keyId: CryptoKeyID, baseKey: BufferSource): void;
  addDerivedKey(keyId: CryptoKeyID, sframeKey: BufferSource, sframeSalt: BufferSource): void;
  removeKey(keyId: CryptoKeyID): boolean;
  hasKey(keyId: CryptoKeyID): boolean;
  clear(): void;
  readonly keyCount: number;
  /** 0 turns replay protection off; at most 1024; default 512. */
  setReplayWindow(size: number): void;
  unprotect(frame: BufferSource, metadata?: BufferSource | null): Uint8Array;
  readonly cipherSuite: SFrameCipherSuite;
  free(): void;
}

/** Parses the SFrame header (RFC 9605 §4.3) without a key. */
export function parseHeader(frame: BufferSource): SFrameHeader;
export function cipherSuiteInfo(cipherSuite: CipherSuiteLike): CipherSuiteInfo;
/** Every suite sframe-core supports, in IANA order (ids 1..8). */
export function cipherSuites(): CipherSuiteInfo[];
/** Suite names in IANA order: CIPHER_SUITES[id - 1]. */
export const CIPHER_SUITES: readonly SFrameCipherSuite[];

/** "auto" (default: from the encoded frame's mimeType), "none", "VP8", "H264", "opus". */
export type SFrameCompatibilityMode = 'auto' | 'none' | 'VP8' | 'H264' | 'opus' | 'vp8' | 'h264';

export interface SFrameTransformOptions {
  /** W3C: the cipher suite. */
  cipherSuite?: CipherSuiteLike;
  /** Safari: "encrypt" (default) or "decrypt". */
  role?: 'encrypt' | 'decrypt';
  /** Safari: tag size 10, 8, 4 (AES-CTR+HMAC) or 16 (AES-128-GCM); used without cipherSuite. */
  authenticationSize?: 4 | 8 | 10 | 16;
  compatibilityMode?: SFrameCompatibilityMode;
  /** Receiver replay window (default 512, 0 = off). */
  replayWindow?: number;
}

export type SFrameTransformErrorEventType = 'authentication' | 'keyID' | 'syntax';

export class SFrameTransformErrorEvent extends Event {
  readonly errorType: SFrameTransformErrorEventType;
  readonly keyID: bigint | null;
  /** The frame that failed (dropped); null for a refused key (setEncryptionKey). */
  readonly frame: unknown;
  /**
   * Error code (extension): sframe-core's, e.g. "authentication_failed", "key_in_use" (a key
   * refused: errorType "keyID", frame null), or the codec layout's "frame_too_short".
   */
  readonly code: SFrameErrorCode | 'frame_too_short' | 'invalid_argument' | (string & {}) | null;
}

export type SFrameKey = CryptoKey | BufferSource;
type Frame = RTCEncodedVideoFrame | RTCEncodedAudioFrame | BufferSource;

declare class SFrameStream extends EventTarget {
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame>;
  readonly role: 'encrypt' | 'decrypt';
  readonly cipherSuite: SFrameCipherSuite;
  readonly compatibilityMode: 'auto' | 'none' | 'vp8' | 'h264' | 'opus';
  readonly stats: {
    frames: number;
    passedThrough: number;
    dropped: number;
    replayed: number;
    errors: number;
  };
  onerror: ((event: SFrameTransformErrorEvent) => void) | null;
  /**
   * key: an HKDF CryptoKey with "deriveBits" usage (stays non-extractable), an extractable
   * CryptoKey (exported raw) or the base key bytes. On a decrypter: adds a decryption key.
   * An encrypter refuses a key and KID another live encrypter of this JS realm uses: the
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
   * when the writable is closed or aborted or the readable is cancelled. A new encrypter
   * starts at counter 0: never give it the key and KID a closed one used.
   */
  close(): void;
  /** Whether close() was called or the stream ended (extension). */
  readonly closed: boolean;
  addEventListener(
    type: 'error',
    listener: (event: SFrameTransformErrorEvent) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

export class SFrameTransform extends SFrameStream {
  constructor(options?: SFrameTransformOptions);
}
export class SFrameEncrypterStream extends SFrameStream {
  constructor(options?: SFrameTransformOptions);
}
export class SFrameDecrypterStream extends SFrameStream {
  constructor(options?: SFrameTransformOptions);
}

export type Codec = 'none' | 'vp8' | 'opus' | 'h264';
export function clearPrefixLength(codec: Codec, data: Uint8Array): number;
export function codecForMimeType(mimeType: string | undefined): Codec;
export function h264ClearLength(data: Uint8Array): number;
export function escapeStartCodes(src: Uint8Array, zeros?: number): Uint8Array;
export function unescapeStartCodes(src: Uint8Array, zeros?: number): Uint8Array;
export function derivationLabel(which: 'key' | 'salt', kid: bigint, suiteId: number): Uint8Array;
export function normalizeKeyId(keyID: CryptoKeyID | undefined): bigint;
export type ResolvedKey = { baseKey: Uint8Array } | { sframeKey: Uint8Array; sframeSalt: Uint8Array };
/** Fresh copies of the key bytes (or WebCrypto-derived key and salt); wipe them with wipeKey. */
export function resolveKey(key: SFrameKey, kid: bigint, suite: CipherSuiteInfo): Promise<ResolvedKey>;
/** Overwrites the bytes of a resolveKey result with zeros. */
export function wipeKey(key: ResolvedKey | null | undefined): void;
