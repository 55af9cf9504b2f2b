// Types of the sframe-wasm package (RFC 9605 SFrame, sframe-core in WebAssembly).

/** RFC 9605 §4.5 cipher suite names (W3C `SFrameCipherSuite`). */
export type SFrameCipherSuite =
  | 'AES_128_CTR_HMAC_SHA256_80'
  | 'AES_128_CTR_HMAC_SHA256_64'
  | 'AES_128_CTR_HMAC_SHA256_32'
  | 'AES_128_GCM_SHA256_128'
  | 'AES_256_GCM_SHA512_128';

/** A cipher suite by name or RFC 9605 value (1..5). */
export type CipherSuiteLike = SFrameCipherSuite | 1 | 2 | 3 | 4 | 5;

/** W3C CryptoKeyID: a number up to 2^53-1 or a bigint up to 2^64-1. */
export type CryptoKeyID = number | bigint;

/** Errors thrown by the low-level API: `code` is sframe-core's stable error code. */
export interface SFrameError extends Error {
  name: 'SFrameError';
  code:
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
    | 'metadata_too_long';
}

export interface SFrameHeader {
  keyId: bigint;
  counter: bigint;
  headerLength: number;
}

export interface CipherSuiteInfo {
  id: number;
  name: SFrameCipherSuite;
  keyLength: number;
  nonceLength: number;
  tagLength: number;
  hash: 'SHA-256' | 'SHA-512';
  maxOverhead: number;
}

/** Protects frames under one key at a time (RFC 9605 §4.4). */
export class Sender {
  constructor(cipherSuite: CipherSuiteLike);
  /** Derives the key for keyId from a base key (>= 16 bytes) and makes it current. */
  setKey(keyId: CryptoKeyID, baseKey: BufferSource): void;
  /** Resume a persisted sender at nextCounter (never reuse a counter). */
  setKeyWithCounter(keyId: CryptoKeyID, baseKey: BufferSource, nextCounter: bigint): void;
  /** Installs an already derived sframe_key (Nk bytes) and sframe_salt (12 bytes). */
  setDerivedKey(keyId: CryptoKeyID, sframeKey: BufferSource, sframeSalt: BufferSource): void;
  /** header ‖ ciphertext ‖ tag; metadata is authenticated, not included. */
  protect(frame: BufferSource, metadata?: BufferSource | null): Uint8Array;
  readonly keyId: bigint | undefined;
  readonly nextCounter: bigint | undefined;
  readonly cipherSuite: SFrameCipherSuite;
  maxProtectedLength(length: number): number;
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
  readonly frame: unknown;
  /** sframe-core's error code (extension), e.g. "authentication_failed". */
  readonly code: string | null;
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
   */
  setEncryptionKey(key: SFrameKey, keyID?: CryptoKeyID): Promise<void>;
  addDecryptionKey(key: SFrameKey, keyID?: CryptoKeyID): Promise<void>;
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
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
export function resolveKey(
  key: SFrameKey,
  kid: bigint,
  suite: CipherSuiteInfo,
): Promise<{ baseKey: Uint8Array } | { sframeKey: Uint8Array; sframeSalt: Uint8Array }>;
