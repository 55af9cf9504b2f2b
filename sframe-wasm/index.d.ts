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
  | 'external_key'
  /**
   * An MLS epoch the receiver dropped, or older than the epochs it keeps, was refused
   * (only through sframe-core's Rust and C APIs: this package has no MLS calls).
   */
  | 'stale_epoch';

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
  /** Nh: the hash's output size in bytes (32 or 64), e.g. of a §7 per-SSRC key. */
  hashLength: number;
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

/** What Receiver.usage(keyId) returns for an installed key. */
export interface ReceiverKeyUsage {
  /** Frames opened with this key. */
  frames: number;
  /** Frames that failed authentication under this key (they count towards its limit). */
  authenticationFailures: number;
  /** The highest counter authenticated under this key; null before the first frame. */
  highestCounter: bigint | null;
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
  /**
   * Whether a frame under `keyId` finds a key, without decrypting (sframe-core's
   * `Receiver::has_key_for`): false means `unprotect` would throw "unknown_key_id" and change
   * nothing — the frame can wait for its key (KeyWaitBuffer).
   */
  hasKeyFor(keyId: CryptoKeyID): boolean;
  /** Counters of the key installed for `keyId` (null: none), sframe-core's `Receiver::usage`. */
  usage(keyId: CryptoKeyID): ReceiverKeyUsage | null;
  clear(): void;
  readonly keyCount: number;
  /** The replay window in force (see ReceiverOptions). */
  readonly replayWindow: number;
  unprotect(frame: Bytes, metadata?: Bytes | null): Uint8Array;
  /** Installs a key whose AEAD runs outside wasm (WebCrypto): its 12-byte sframe_salt only. */
  addExternalKey(keyId: CryptoKeyID, sframeSalt: Bytes): void;
  /**
   * Parses, finds the key, checks limits and replay; changes nothing. A failure counts against
   * the forgery limit at rejectExternal: with k openings of one key outstanding at a time, up
   * to limit + k − 1 forged frames are verified; finish each frame before opening the next
   * (as SFrameTransform does) or bound k.
   */
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

/** A run of identical consecutive failures: same errorType, same keyID (sframe_core::report). */
export interface SFrameErrorRun {
  errorType: SFrameTransformErrorEventType;
  /** The frames' key ID; null when their header did not parse. */
  keyID: bigint | null;
  /** Frames in the run, the reported first one included. */
  count: number;
}

/** ErrorRuns.observe's answer for a failure that starts a run: report it. */
export interface ErrorRunReport {
  errorType: SFrameTransformErrorEventType;
  keyID: bigint | null;
  /** The complete run before this one (if no report carried it yet), else null. */
  previousRun: SFrameErrorRun | null;
}

/**
 * One report per run of identical consecutive failures (same errorType and key ID), reset
 * by a success: `sframe_core::report::ErrorRuns`, the rule of libwebrtc's native SFrame for
 * W3C issue #307. The decryptors of this package use it for their "error" events.
 */
export class ErrorRuns {
  constructor();
  /** A frame failed: the report to make when it starts a run, else null (run one longer). */
  observe(errorType: SFrameTransformErrorEventType, keyId: CryptoKeyID | null | undefined): ErrorRunReport | null;
  /** A frame succeeded: ends the run going on and returns it (null: none was going on). */
  success(): SFrameErrorRun | null;
  /** The run going on (the last frame failed), or null. */
  readonly current: SFrameErrorRun | null;
  /** The run that ended last, or null. */
  readonly lastEnded: SFrameErrorRun | null;
  /** Failures reported (each started a run). */
  readonly reported: number;
  /** Failures folded into a run without a report. */
  readonly suppressed: number;
  free(): void;
}

/** A frame a KeyWaitBuffer released or dropped (tag and size as given to `hold`). */
export interface KeyWaitFrame {
  /** The caller's tag. */
  tag: number;
  /** The KID it waited for. */
  keyId: bigint;
  /**
   * "released" (`release`), or why it was dropped: "overflow" (pushed out, oldest first, to
   * make room within maxFrames / maxBytes), "expired" (waited longer than maxAge), "tooBig"
   * (larger than maxBytes: never held), "removed" (`dropKeyId`, `dropAll`).
   */
  reason: 'released' | 'overflow' | 'expired' | 'tooBig' | 'removed';
  /** Its size in bytes. */
  size: number;
  /** The `now` it was held at (whole units). */
  arrival: number;
}

/** A KeyWaitBuffer's limits. */
export interface KeyWaitLimits {
  maxFrames: number;
  maxBytes: number;
  /** In the unit of the `now` values given to the buffer. */
  maxAge: number;
}

/**
 * A KeyWaitBuffer's counters since it was made (sframe-core's `KeyWaitStats`): every frame
 * held leaves once, so held = released + droppedOverflow + droppedExpired + droppedRemoved +
 * waiting; refused frames are only in droppedTooBig.
 */
export interface KeyWaitStats {
  held: number;
  released: number;
  droppedOverflow: number;
  droppedExpired: number;
  droppedTooBig: number;
  droppedRemoved: number;
  waiting: number;
  waitingBytes: number;
}

/**
 * Frames whose KID has no key yet, held until the key arrives (RFC 9605 §4.4.4; W3C issues
 * #289 / #306): sframe-core's `keywait::KeyWaitBuffer`, bounded by frame count, bytes and age,
 * the oldest dropped first. Tag-only: the buffer keeps each frame's tag, KID, size and
 * arrival; the caller keeps the frame (e.g. in a `Map` by tag) and frees exactly the ones
 * every call returns as dropped. The decryptors of this package use one each (`keyWait`).
 */
export class KeyWaitBuffer {
  /**
   * At most maxFrames (1..keyWaitCapacity(), else SFrameError "invalid_config") frames and
   * maxBytes bytes, each waiting at most maxAge (the unit of `now`, e.g. milliseconds).
   * Non-negative integers, else TypeError.
   */
  constructor(maxFrames: number, maxBytes: number, maxAge: number);
  /**
   * Holds the frame kept under `tag` (a non-negative safe integer) for `keyId`: expires what
   * waited too long at `now`, then drops the oldest frames until this one fits. Returns the
   * frames dropped, oldest first — this one, as "tooBig", if it is larger than maxBytes.
   */
  hold(keyId: CryptoKeyID, tag: number, size: number, now: number): KeyWaitFrame[];
  /** The oldest frame waiting for `keyId` ("released"), or null. Call expire() first. */
  release(keyId: CryptoKeyID): KeyWaitFrame | null;
  /** Drops the frames that waited longer than maxAge at `now` ("expired"). */
  expire(now: number): KeyWaitFrame[];
  /** Drops the frames waiting for `keyId` ("removed"): its key will not come. */
  dropKeyId(keyId: CryptoKeyID): KeyWaitFrame[];
  /** Drops every frame ("removed"). */
  dropAll(): KeyWaitFrame[];
  /** Frames waiting for `keyId`. */
  waitingFor(keyId: CryptoKeyID): number;
  /** Frames waiting. */
  readonly length: number;
  /** Bytes waiting (sum of the sizes given). */
  readonly waitingBytes: number;
  readonly limits: KeyWaitLimits;
  readonly stats: KeyWaitStats;
  free(): void;
}

/** A KeyWaitBuffer's fixed capacity in frames (the largest maxFrames): 256. */
export function keyWaitCapacity(): number;

/**
 * The W3C errorType of a frame a receiver refused with this error code
 * (`sframe_core::report::FailureKind::of`): "keyID" (unknown_key_id), "authentication"
 * (authentication_failed, key_usage_limit), null for "replay" (no event), "syntax" otherwise —
 * also for codes that are not sframe-core's (e.g. "frame_too_short").
 */
export function errorTypeOf(code: string): SFrameTransformErrorEventType | null;

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
/**
 * HAZMAT — NOT FOR SENDING MEDIA. The frame (`header ‖ ciphertext ‖ tag`) of `frame` at an
 * explicit base key, KID and counter (RFC 9605 §4.4.2, §4.4.3; sframe-core's
 * `hazmat::protect_frame`), with no state: nothing remembers the counter, no `Sender` learns of
 * the key. For test vectors and byte-for-byte interop checks, which must make the same
 * (key, KID, counter) frame again. Calling it twice with the same key, KID and counter on two
 * plaintexts reuses a nonce (for the AES-GCM suites that also allows forgeries): protect media
 * with a `Sender`, which never hands out a counter twice.
 */
export function hazmatProtectFrame(
  cipherSuite: CipherSuiteLike,
  keyId: CryptoKeyID,
  counter: bigint,
  baseKey: Bytes,
  frame: Bytes,
  metadata?: Bytes | null,
): Uint8Array;

/**
 * "auto" (default: from the encoded frame's mimeType), "none", "VP8", "VP9", "AV1", "H264",
 * "H265" (or "HEVC"), "opus" (README, "Wire layout").
 */
export type SFrameCompatibilityMode =
  | 'auto'
  | 'none'
  | 'VP8'
  | 'VP9'
  | 'AV1'
  | 'H264'
  | 'H265'
  | 'HEVC'
  | 'opus'
  | 'vp8'
  | 'vp9'
  | 'av1'
  | 'h264'
  | 'h265'
  | 'hevc';

/**
 * The §7 per-SSRC base key (draft-ietf-avtcore-rtp-sframe): `HKDF-Expand(HKDF-Extract(BE32(ssrc),
 * baseKey), "SFrame 1.0 RTP Stream", Nh)` with the suite's hash, to use as that RTP stream's
 * base key (e.g. `setEncryptionKey(await ssrcBaseKey(suite, key, ssrc), kid)`). Key bytes (at
 * least 16) give a new `Uint8Array` of `hashLength` bytes (wipe it when done); an HKDF CryptoKey
 * with "deriveBits" usage gives a non-extractable HKDF CryptoKey with usages "deriveBits" and
 * "deriveKey" (derived in WebCrypto; its bytes pass through JS memory for an instant, as
 * WebCrypto cannot derive an HKDF key directly). `ssrc` is an integer 0..2^32-1.
 */
export function ssrcBaseKey(cipherSuite: CipherSuiteLike, baseKey: CryptoKey, ssrc: number): Promise<CryptoKey>;
export function ssrcBaseKey(cipherSuite: CipherSuiteLike, baseKey: Bytes, ssrc: number): Promise<Uint8Array>;

/**
 * What the local endpoint wants for a media section (a=sframe, draft-ietf-avtcore-rtp-sframe
 * §6): "required" — SFrame or nothing (offer a=sframe, stop the section when the peer lacks
 * it); "preferred" — SFrame when the peer has it, clear media otherwise; "off" — no a=sframe.
 */
export type SdpPolicy = 'required' | 'preferred' | 'off';

/** A media section: its index (0 for the first m= line) or its mid. */
export type SdpSectionRef = number | string;

/** The facts of one media section (`sdp.sections`, and what a policy function is given). */
export interface SdpSection {
  index: number;
  /** The a=mid value, or null. */
  mid: string | null;
  /** "audio", "video", "application", ... */
  media: string;
  port: number;
  /** e.g. "UDP/TLS/RTP/SAVPF". */
  proto: string;
  /** Whether it carries RTP (the only sections SFrame applies to). */
  rtp: boolean;
  /** Port 0, not a=bundle-only and not in a BUNDLE group. */
  stopped: boolean;
  /** Its mid is in an a=group:BUNDLE. */
  bundled: boolean;
  bundleOnly: boolean;
  hasSframe: boolean;
}

/** One policy for every section, or a function choosing per section. */
export type SdpPolicyArg = SdpPolicy | ((section: SdpSection) => SdpPolicy);

/** A payload type one BUNDLE group uses in a section with a=sframe and in one without (§6). */
export interface SdpBundleConflict {
  payloadType: number;
  /** Index of the section with SFrame. */
  sframeSection: number;
  /** Index of the section without SFrame. */
  clearSection: number;
}

/** Why a section is "stopped" (stop its transceiver). */
export type SdpStopReason =
  /** The offer has port 0 for it (and it is not bundled). */
  | 'stopped-in-offer'
  /** The answer has port 0 for it. */
  | 'rejected-by-answerer'
  /** Policy "required", and the peer's description lacks a=sframe (§6). */
  | 'peer-lacks-sframe'
  /** Policy "required", and the local offer lacks a=sframe. */
  | 'sframe-not-offered';

/**
 * The outcome of negotiation for a section: "negotiated" (send and receive SFrame), "clear"
 * (no SFrame, the policy allows it), "stopped" (port 0: stop the transceiver), "rejected" (a
 * rule is broken: reject the whole description), "not-rtp" (SFrame does not apply).
 */
export type SdpOutcomeValue =
  | { outcome: 'negotiated' | 'clear' | 'not-rtp' }
  | { outcome: 'stopped'; reason: SdpStopReason }
  /** The answer has a=sframe where the offer did not. */
  | { outcome: 'rejected'; reason: 'answer-added-sframe' }
  /** §6's BUNDLE rule is broken. */
  | { outcome: 'rejected'; reason: 'bundle-payload-type-reuse'; conflict: SdpBundleConflict };

/** An outcome with the section it is for. */
export type SdpOutcome = { index: number; mid: string | null } & SdpOutcomeValue;

/** sframe-core's `SdpError::code()`s, in order (test/sdp.test.mjs checks them). */
export type SdpErrorCode =
  | 'not_sdp'
  | 'malformed_line'
  | 'malformed_media_line'
  | 'session_level_sframe'
  | 'sframe_with_value'
  | 'duplicate_mid'
  | 'no_such_section'
  | 'not_rtp'
  | 'section_count_mismatch'
  | 'bundle_payload_type_reuse'
  | 'rejected';

/** What the `sdp` functions throw for SDP they cannot read or an edit that breaks a rule. */
export interface SFrameSdpError extends Error {
  name: 'SFrameSdpError';
  code: SdpErrorCode;
  /** The line, from 1 (malformed_line, malformed_media_line, session_level_sframe, sframe_with_value, duplicate_mid). */
  line?: number;
  /** The section (not_rtp, rejected). */
  index?: number;
  /** section_count_mismatch: sections (or outcomes) expected and found. */
  expected?: number;
  found?: number;
  /** rejected: why. */
  reason?: 'answer-added-sframe' | 'bundle-payload-type-reuse';
  /** bundle_payload_type_reuse, and rejected for that reason. */
  conflict?: SdpBundleConflict;
}

/**
 * a=sframe SDP negotiation (draft-ietf-avtcore-rtp-sframe §6) over sframe-core's `sdp` module.
 * Edits keep every other byte of the SDP. With a browser, send edited SDP over signalling,
 * never to setLocalDescription, and stop the transceiver of each "stopped" section.
 */
export declare namespace sdp {
  /** The facts of every media section, in m= line order. */
  function sections(sdp: string): SdpSection[];
  function hasSframe(sdp: string, section: SdpSectionRef): boolean;
  /** a=sframe added to an RTP section, after its m=/i=/c=/b=/k= lines; idempotent. */
  function addSframe(sdp: string, section: SdpSectionRef): string;
  /** Every a=sframe line of the section removed. */
  function removeSframe(sdp: string, section: SdpSectionRef): string;
  /** a=sframe removed from every section. */
  function stripSframe(sdp: string): string;
  /** Offerer: a=sframe where the policy is "required" or "preferred", none where "off". */
  function prepareOffer(offer: string, policy: SdpPolicyArg): string;
  /** Answerer: the outcome of each section of a received offer. */
  function answerForOffer(offer: string, policy: SdpPolicyArg): SdpOutcome[];
  /** Answerer: its answer text edited to express answerForOffer's outcomes. */
  function applyAnswer(answer: string, outcomes: readonly SdpOutcomeValue[]): string;
  /** Offerer: the outcome of each section, given the answer to its offer. */
  function checkAnswer(offer: string, answer: string, policy: SdpPolicyArg): SdpOutcome[];
}

/**
 * W3C SFrame type (PR #293): "per-frame" (default) encrypts each encoded frame;
 * "per-packet" encrypts each RTP packet inside the browser's packetizer — not supported by
 * this polyfill (constructors throw a NotSupportedError DOMException).
 */
export type SFrameType = 'per-frame' | 'per-packet';

/**
 * W3C `SFrameTransformOptions` of RTCRtpSFrameDecryptor / SFrameEncryptorStream /
 * SFrameDecryptorStream (and the base of RTCRtpSFrameEncryptorOptions). `cipherSuite` is
 * required and is a suite name (the IDL enum; a number is a TypeError).
 */
export interface SFrameTransformOptions {
  cipherSuite: SFrameCipherSuite;
  /**
   * Before W3C PR #312 every constructor read `type`; now RTCRtpSFrameEncryptorOptions has it.
   * Still read here: "per-packet" throws NotSupportedError on every constructor of this package.
   */
  type?: SFrameType;
  /** Extension: which bytes stay clear for the codec (see README, "Wire layout"). */
  compatibilityMode?: SFrameCompatibilityMode;
  /** Extension (decryptors): replay window in counter values (default 512, 0 = off). */
  replayWindow?: number;
  /**
   * Extension (decryptors): frames that arrive before their key wait for it (see
   * SFrameKeyWaitOptions). Encryptors ignore it.
   */
  keyWait?: SFrameKeyWaitOptions;
}

/**
 * A decryptor's wait for late keys (W3C issues #289 / #306, RFC 9605 §4.4.4): a frame whose
 * KID has no key — joining a call, a key rotation whose key comes after the first frames under
 * the new KID — is kept, not dropped, and once `addDecryptionKey` installs a key for that KID
 * the frames that waited for it are decrypted and enqueued, oldest first, before any frame that
 * arrives later; the promise resolves once they are. Video then starts (or goes on) from the
 * key frame that came early instead of waiting for the next one.
 *
 * Bounded: at most `maxFrames` frames and `maxBytes` bytes wait, each at most `maxAgeMs`;
 * to make room the oldest frames are dropped first; a frame over `maxBytes` is not kept.
 * A dropped frame fails then: a "keyID" failure (stats, error runs, one "error" event per run)
 * — while it waits, no event. `removeDecryptionKey(keyID)` drops the frames waiting for that
 * KID; frames still waiting when the decryptor closes are dropped without an event. Age is
 * checked as frames arrive and when a key is added. Members: non-negative integers (WebIDL
 * `[EnforceRange] unsigned long long`: fractions truncated).
 */
export interface SFrameKeyWaitOptions {
  /** Most frames waiting, at most keyWaitCapacity() (256); default 256; 0 turns waiting off. */
  maxFrames?: number;
  /** Most bytes waiting (their encoded frames' `data`); default 4194304 (4 MiB). */
  maxBytes?: number;
  /** Longest wait in milliseconds; default 2000. */
  maxAgeMs?: number;
}

/** Frames a decryptor dropped from its key-wait buffer, by reason (SFrameDecryptorStats). */
export interface SFrameKeyWaitDrops {
  /** Pushed out, oldest first, to make room within maxFrames / maxBytes. */
  overflow: number;
  /** Waited longer than maxAgeMs. */
  expired: number;
  /** Larger than maxBytes (never kept). */
  tooBig: number;
  /** removeDecryptionKey for their KID. */
  removed: number;
  /** Still waiting when the decryptor closed (no event; not in `errors`). */
  closed: number;
}

/**
 * W3C `RTCRtpSFrameEncryptorOptions` (PR #312; the #293 `type` member):
 * `new RTCRtpSFrameEncryptor({ cipherSuite, type })`.
 */
export interface RTCRtpSFrameEncryptorOptions extends SFrameTransformOptions {
  /** "per-frame" (default); "per-packet" throws NotSupportedError (see SFrameType). */
  type?: SFrameType;
  /**
   * Extension (the polyfill; demos and debugging): keep samples of the protected frames for
   * `takeWireSamples()` — what a media server relaying the call sees. `true` = the defaults.
   */
  observeWire?: boolean | SFrameObserveWireOptions;
}

/** RTCRtpSFrameEncryptorOptions.observeWire. */
export interface SFrameObserveWireOptions {
  /** Samples kept until taken, 1..256 (default 16); older ones are dropped (`missed`). */
  frames?: number;
  /** Bytes copied from the start of each protected frame, 0..4096 (default 256). */
  bytes?: number;
}

/** One protected frame as it left an encryptor (RTCRtpSFrameEncryptor.takeWireSamples). */
export interface SFrameWireSample {
  /** Bytes of the whole protected frame. */
  size: number;
  /** The encoded frame's type ("key", "delta", "empty"; null for audio). */
  type: string | null;
  mimeType: string | null;
  timestamp: number | null;
  /** The SFrame header's KID and counter; null when the frame did not parse. */
  keyID: bigint | null;
  counter: bigint | null;
  /** The SFrame header's length in bytes (it starts after the clear codec bytes). */
  headerLength: number | null;
  /** Clear codec bytes before the SFrame header (null when the frame did not parse). */
  clear: number | null;
  /** The first `observeWire.bytes` bytes of the protected frame (a copy). */
  bytes: Uint8Array;
}

/** What RTCRtpSFrameEncryptor.takeWireSamples() resolves to. */
export interface SFrameWireSamples {
  /** Samples since the last call, oldest first. */
  samples: SFrameWireSample[];
  /** Samples dropped since the last call because more than `frames` came. */
  missed: number;
  /** Frames sampled since the encryptor started. */
  frames: number;
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
  /** Decryptor: frames that arrive before their key wait for it (SFrameKeyWaitOptions). */
  keyWait?: SFrameKeyWaitOptions;
}

export type SFrameTransformErrorEventType = 'authentication' | 'keyID' | 'syntax';

/**
 * What an SFrameTransformErrorEvent's `frame` holds. W3C PR #313 typed it
 * `(RTCEncodedVideoFrame or RTCEncodedAudioFrame)`; this package's transforms also take
 * BufferSources, so a failed BufferSource chunk is reported as itself, and `null` stands for no
 * frame (see SFrameTransformErrorEvent.frame). The constructor does not check the type.
 */
export type SFrameErrorFrame = RTCEncodedVideoFrame | RTCEncodedAudioFrame | BufferSource | null;

/** W3C `SFrameTransformErrorEventInit` (errorType and frame required), plus `code`. */
export interface SFrameTransformErrorEventInit extends EventInit {
  errorType: SFrameTransformErrorEventType;
  frame: SFrameErrorFrame;
  keyID?: CryptoKeyID | null;
  /** Extension: sframe-core's error code. */
  code?: string | null;
  /** Extension: the run of identical failures before this event's (see the event). */
  previousRun?: SFrameErrorRun | null;
}

/** W3C `SFrameTransformErrorEvent` ("error" on decryptors; on SFrameTransform both roles). */
export class SFrameTransformErrorEvent extends Event {
  constructor(type: string, eventInitDict: SFrameTransformErrorEventInit);
  readonly errorType: SFrameTransformErrorEventType;
  /** The frame's key ID when its SFrame header could be read (a bigint), else null. */
  readonly keyID: CryptoKeyID | null;
  /**
   * The frame that failed and was dropped (W3C PR #313): the very RTCEncodedVideoFrame /
   * RTCEncodedAudioFrame object written to the transform, its `data` as it arrived (a
   * decryptor: the protected bytes) — or the BufferSource chunk itself. A decryptor's event is
   * about the first frame of a run (see previousRun). On RTCRtpSFrameDecryptor (main thread)
   * a structured clone of the frame the worker's transform received (the original stays in
   * the worker), or null where the browser cannot clone it. null also for a chunk that is
   * neither an encoded frame nor a BufferSource, and for SFrameTransform's refused keys.
   */
  readonly frame: SFrameErrorFrame;
  /**
   * Extension: sframe-core's error code, e.g. "authentication_failed", "unknown_key_id",
   * "malformed_frame", the layout's "frame_too_short", or "key_in_use" (SFrameTransform: a
   * refused key, errorType "keyID", frame null).
   */
  readonly code: SFrameErrorCode | 'frame_too_short' | 'invalid_argument' | (string & {}) | null;
  /**
   * Extension, this package's behaviour pending W3C issue #307 (as libwebrtc's native SFrame
   * does): a decryptor fires one "error" event per run of identical consecutive failures (same
   * errorType, same keyID), the first frame of the run; a decrypted frame ends the run. This is
   * the run before this event's: the previous event's failure and how many frames in a row
   * failed like it (`count`, that event's frame included). null for the first event, and
   * on events that are not about a frame run (SFrameTransform's refused keys, encryptors).
   */
  readonly previousRun: SFrameErrorRun | null;
}

/** A key: a CryptoKey (the IDL type) or, as this package's extension, the base key bytes. */
export type SFrameKey = CryptoKey | BufferSource;
type Frame = RTCEncodedVideoFrame | RTCEncodedAudioFrame | BufferSource;

/**
 * Frame counters (extension) of every encryptor and decryptor: `stats` on the streams and
 * SFrameTransform, `getStats()` on RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor (from the
 * worker). Counts since the object was made; a copy, taken when read.
 * frames = framesOut + dropped (+ a decryptor's `buffered`: frames waiting for their key);
 * dropped = droppedNoKey + replayed + errors, and — decryptors — `droppedFromBuffer.closed`
 * (frames still waiting for their key when the decryptor closed) and, rarely, frames that
 * authenticated under a key the application replaced or removed while WebCrypto was opening
 * them. New fields may be added; none of these will change meaning.
 */
export interface SFrameStats {
  /** Frames written to the transform. */
  frames: number;
  /** Frames enqueued on `readable` (encrypted, decrypted, or passed through). */
  framesOut: number;
  /** Bytes of the frames written (their `data`, or the BufferSource). */
  bytesIn: number;
  /** Bytes of the frames enqueued on `readable`. */
  bytesOut: number;
  /** 0-byte frames passed on unchanged (counted in framesOut too). */
  passedThrough: number;
  /** Frames written and not enqueued. */
  dropped: number;
  /** Encryptor: frames dropped because no key was set yet (never sent in clear). */
  droppedNoKey: number;
  /** Decryptor: authentic frames seen before (dropped without an event). */
  replayed: number;
  /** Frames dropped for any other error (decryptors: one "error" event per run of them). */
  errors: number;
  /**
   * `errors` by W3C errorType (they add up to `errors`). Decryptors: "keyID" no key for the
   * frame's KID, "authentication" wrong key or altered frame, "syntax" not an SFrame frame.
   * Encryptors: "syntax" a frame too short for its codec's layout, "keyID" the key refused it
   * (counter or usage limit spent).
   */
  failures: { authentication: number; keyID: number; syntax: number };
}

/** One installed decryption key's counters (SFrameDecryptorStats.keys). */
export interface SFrameKeyStats extends ReceiverKeyUsage {
  /** The key's KID. */
  keyID: bigint;
}

/**
 * A decryptor's counters (SFrameDecryptorStream.stats, RTCRtpSFrameDecryptor.getStats(), a
 * decrypting SFrameTransform): SFrameStats plus its error runs (one "error" event per run of
 * identical consecutive failures: W3C issue #307, see SFrameTransformErrorEvent.previousRun).
 */
export interface SFrameDecryptorStats extends SFrameStats {
  /** "error" events fired for frames: the first failure of each run. */
  errorEvents: number;
  /** Failures folded into a run without an event: errorEvents + errorsSuppressed = errors. */
  errorsSuppressed: number;
  /** The run going on (the last frame failed), else null. */
  currentErrorRun: SFrameErrorRun | null;
  /** The run that ended last (by a decrypted frame or a different failure), else null. */
  lastErrorRun: SFrameErrorRun | null;
  /**
   * One entry per installed key (added and not removed), in the order they were first added:
   * frames it opened, frames that failed authentication under it (they count towards its
   * usage limit), the highest counter it authenticated. Another key under the same KID starts
   * again from 0; the same key added again keeps its counts. Frames for KIDs without a key are in failures.keyID and the error
   * runs, not here (no table grows with the KIDs the network sends). Once the stream ended:
   * as they were then.
   */
  keys: SFrameKeyStats[];
  /** Frames waiting for their key now (keyWait; not yet in framesOut or dropped). */
  buffered: number;
  /**
   * Frames that waited for their key and were taken up when it was added (then decrypted as
   * any frame: in framesOut, or failed and counted as such).
   */
  releasedFromBuffer: number;
  /**
   * Frames that waited for their key and were dropped, by reason; all but `closed` are also
   * "keyID" failures (in `errors`, `failures.keyID` and the error runs).
   */
  droppedFromBuffer: SFrameKeyWaitDrops;
}

/**
 * Rejections of the W3C key methods (RTCRtpSFrame*, SFrame*Stream): TypeError (a key that is
 * neither a CryptoKey nor bytes, a missing or non-integral keyID, or a number outside
 * 0..2^53-1), RangeError (a bigint outside 0..2^64-1), this DOMException when sframe-core
 * refuses the key — `cause.code` says why: "key_in_use" (another live encryptor of the realm
 * uses this key and KID), "invalid_key" (e.g. a base key under 16 bytes) — and
 * DOMException "InvalidStateError" once closed, "OperationError" if the worker failed.
 */
export interface SFrameKeyRefusedError extends DOMException {
  name: 'InvalidModificationError';
  cause: SFrameError;
}

/**
 * W3C mixin `SFrameEncryptorManager` (PR #312; `SFrameEncrypterManager` before): the key method
 * of SFrameEncryptorStream and RTCRtpSFrameEncryptor.
 */
export interface SFrameEncryptorManager {
  /**
   * Makes `key` current under `keyID` (required). Resolves once frames are encrypted with it;
   * rejects as described at SFrameKeyRefusedError (the encryptor keeps the key it had).
   */
  setEncryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
}

/**
 * W3C mixin `SFrameDecryptorManager` (PR #312; `SFrameDecrypterManager` before): the key methods
 * and `onerror` of SFrameDecryptorStream and RTCRtpSFrameDecryptor.
 */
export interface SFrameDecryptorManager {
  /** Installs (or replaces) the key for `keyID` (required); resolves once in force. */
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Removes the key for `keyID`; resolves whether or not there was one. */
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  /** "error" events: SFrameTransformErrorEvent, one per run of identical failures (README). */
  onerror: ((this: any, event: SFrameTransformErrorEvent) => unknown) | null;
}

/** The mixin's name before W3C PR #312. */
export type SFrameEncrypterManager = SFrameEncryptorManager;
/** The mixin's name before W3C PR #312. */
export type SFrameDecrypterManager = SFrameDecryptorManager;

/**
 * W3C `SFrameEncryptorStream` (workers and Window; `SFrameEncrypterStream` before PR #312,
 * still exported under that name): a GenericTransformStream that encrypts frames. Not an EventTarget (W3C PR #309): frames it cannot encrypt are dropped and counted
 * in `stats` — before the first key: `stats.droppedNoKey`; nothing is ever passed on in clear.
 */
export class SFrameEncryptorStream implements SFrameEncryptorManager {
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
   * usable by another encryptor of this wasm instance, which resumes their counter), closes
   * `readable`, errors `writable`. Done automatically when the stream ends.
   */
  close(): void;
  readonly closed: boolean;
}

/**
 * W3C `SFrameDecryptorStream` (workers and Window; `SFrameDecrypterStream` before PR #312,
 * still exported under that name): a GenericTransformStream and EventTarget
 * that decrypts frames with the key their KID names; failures fire "error".
 */
export class SFrameDecryptorStream extends EventTarget implements SFrameDecryptorManager {
  constructor(options: SFrameTransformOptions);
  readonly readable: ReadableStream<Frame>;
  readonly writable: WritableStream<Frame>;
  /** Installs (or replaces) the key for `keyID` (required); resolves once in force. */
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Removes the key for `keyID`; resolves whether or not there was one. */
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  onerror: ((this: SFrameDecryptorStream, event: SFrameTransformErrorEvent) => unknown) | null;
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
  readonly stats: SFrameDecryptorStats;
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
  readonly compatibilityMode: 'auto' | Codec;
  readonly stats: SFrameStats | SFrameDecryptorStats;
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
   * On a decryptor: adds a decryption key.
   * An encryptor refuses a key and KID another live encryptor of this wasm instance uses: the
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
   * encryptor's key becomes usable by another encryptor again), closes `readable`, errors
   * `writable`; afterwards key calls reject and no frame is processed. Done automatically
   * when the writable is closed or aborted or the readable is cancelled. A new encryptor of
   * this wasm instance given the key and KID a closed one used resumes its counter; one in
   * another instance (worker, tab) would start at 0: never give it that key and KID.
   */
  close(): void;
  /** Whether close() was called or the stream ended (extension). */
  readonly closed: boolean;
}

/**
 * W3C `RTCRtpSFrameEncryptor` (main thread; `RTCRtpSFrameEncrypter` before PR #312, still
 * exported under that name): `sender.transform = new RTCRtpSFrameEncryptor({
 * cipherSuite })`. The object is an `RTCRtpScriptTransform` backed by the package's module
 * worker (one per page). Frames encoded before the first key is in force are dropped and
 * counted (`getStats().droppedNoKey`), never sent in clear. Not an EventTarget.
 * Throws TypeError for bad options, NotSupportedError for `type: "per-packet"` or where
 * RTCRtpScriptTransform does not exist.
 */
export class RTCRtpSFrameEncryptor implements SFrameEncryptorManager {
  constructor(options: RTCRtpSFrameEncryptorOptions);
  /**
   * Posts the key to the worker (a CryptoKey is structured-cloned and stays
   * non-extractable; bytes are copied and transferred, and that copy is zero-filled before the
   * promise settles, the caller's buffer left as it is); resolves once the worker encrypts
   * with it. Rejections: see SFrameKeyRefusedError.
   */
  setEncryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  /** Extension: the worker's frame counters for this transform. */
  /**
   * Extension: the protected frames sampled since the last call (option `observeWire`;
   * InvalidStateError without it).
   */
  takeWireSamples(): Promise<SFrameWireSamples>;
  getStats(): Promise<SFrameStats>;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
}

/**
 * W3C `RTCRtpSFrameDecryptor` (main thread; `RTCRtpSFrameDecrypter` before PR #312, still
 * exported under that name): `receiver.transform = new
 * RTCRtpSFrameDecryptor({ cipherSuite })`. An `RTCRtpScriptTransform` backed by the package's
 * worker, with EventTarget methods: frames that fail to decrypt fire "error"
 * (SFrameTransformErrorEvent) here, on the main thread.
 */
export class RTCRtpSFrameDecryptor extends EventTarget implements SFrameDecryptorManager {
  constructor(options: SFrameTransformOptions);
  /** As RTCRtpSFrameEncryptor.setEncryptionKey (the same copy, zero-filled the same way). */
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  onerror: ((this: RTCRtpSFrameDecryptor, event: SFrameTransformErrorEvent) => unknown) | null;
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
  getStats(): Promise<SFrameDecryptorStats>;
  /** Extension. */
  readonly cipherSuite: SFrameCipherSuite;
}

/**
 * W3C PR #308's names of the classes PR #312 renamed: the same class objects (`instanceof`
 * holds under either name), kept for code written against them (e.g. WPT of May 2026).
 */
export {
  RTCRtpSFrameEncryptor as RTCRtpSFrameEncrypter,
  RTCRtpSFrameDecryptor as RTCRtpSFrameDecrypter,
  SFrameEncryptorStream as SFrameEncrypterStream,
  SFrameDecryptorStream as SFrameDecrypterStream,
};

/**
 * What installPolyfill() defined, by name. Both names of a renamed interface hold one class:
 * this package's, or the one the environment had under the other name.
 */
export interface InstalledInterfaces {
  RTCRtpSFrameEncryptor?: typeof RTCRtpSFrameEncryptor;
  RTCRtpSFrameDecryptor?: typeof RTCRtpSFrameDecryptor;
  RTCRtpSFrameEncrypter?: typeof RTCRtpSFrameEncryptor;
  RTCRtpSFrameDecrypter?: typeof RTCRtpSFrameDecryptor;
  SFrameEncryptorStream?: typeof SFrameEncryptorStream;
  SFrameDecryptorStream?: typeof SFrameDecryptorStream;
  SFrameEncrypterStream?: typeof SFrameEncryptorStream;
  SFrameDecrypterStream?: typeof SFrameDecryptorStream;
  SFrameTransform?: typeof SFrameTransform;
  SFrameTransformErrorEvent?: typeof SFrameTransformErrorEvent;
}

/**
 * Defines on `target` (default globalThis) each interface it lacks: the streams (both names),
 * SFrameTransform and SFrameTransformErrorEvent everywhere; RTCRtpSFrameEncryptor /
 * RTCRtpSFrameDecryptor (and their #308 names) only where RTCRtpScriptTransform and Worker
 * exist. Native ones are kept; a class the environment has under one name of a renamed
 * interface is also defined under the other. Importing the package defines nothing.
 */
export function installPolyfill(target?: object): InstalledInterfaces;

export type Codec = 'none' | 'vp8' | 'vp9' | 'av1' | 'opus' | 'h264' | 'h265';
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

// ---------------------------------------------------------------------------------------------
// SFrame RTP sessions (draft-ietf-avtcore-rtp-sframe §5, §7, §8; js/rtp-session.js) for native
// endpoints and bridges (HomeKit, Matter): sframe-core's rtp::session through wasm.
// ---------------------------------------------------------------------------------------------

/** Options of `new SFrameSendStream(...)`. */
export interface SFrameSendStreamOptions {
  /** IANA value (1..8) or name. HomeKit: 6 for video, 8 for audio. */
  cipherSuite: number | SFrameCipherSuite;
  /** The stream's SSRC (0..2^32-1): in every packet, and the §7 HKDF salt. */
  ssrc: number;
  /** RTP payload type, 0..127. */
  payloadType: number;
  /** Largest RTP payload, SFrame descriptor included (MTU minus RTP header and transport). */
  maxPayloadLength: number;
  /** Per-frame (default, §5.1.1) or per-packet (§5.1.2) SFrame. */
  mode?: 'per-frame' | 'per-packet';
  /** Keys are session base keys from which the stream derives its own (§7). Default false. */
  perSsrcKeys?: boolean;
  /** Sequence number of the first packet (RFC 3550: random). Default 0. */
  firstSequence?: number;
}

export interface SFrameSendStreamStats {
  frames: number;
  packets: number;
  mediaBytes: number;
  rtpBytes: number;
}

/** One SSRC's SFrame sender: frames in, RTP packets out. */
export class SFrameSendStream {
  constructor(options: SFrameSendStreamOptions);
  /**
   * Makes `keyId` the current key (per SSRC if `perSsrcKeys`). Key bytes: at once. A
   * non-extractable HKDF CryptoKey with "deriveBits" usage: WebCrypto derives the stream's
   * key (§7, then RFC 9605 §4.4.2) and it becomes current when the Promise resolves; the
   * CryptoKey is never exported. Rejects with TypeError for another kind of CryptoKey.
   */
  setKey(keyId: CryptoKeyID, baseKey: CryptoKey): Promise<void>;
  setKey(keyId: CryptoKeyID, baseKey: ArrayBuffer | ArrayBufferView): void;
  /** Starts a §5.1 ratchet chain at `generation`; returns its first KID. */
  setRatchetingKey(ratchetBits: number, generation: bigint | number, baseKey: ArrayBuffer | ArrayBufferView): bigint;
  /** One ratchet step; returns the new KID. */
  ratchet(): bigint;
  /** The frame's RTP packets, in order; `marker` (default true) on the last. */
  sendFrame(media: ArrayBuffer | ArrayBufferView, timestamp: number, marker?: boolean): Uint8Array[];
  readonly keyId: bigint | undefined;
  readonly ssrc: number;
  readonly nextSequence: number;
  /** Per-packet SFrame overhead: descriptor, largest SFrame header, tag. */
  readonly overhead: number;
  /** Largest media payload that, protected per packet, fits one RTP payload. */
  readonly maxMediaPayloadLength: number;
  stats(): SFrameSendStreamStats;
  close(): void;
}

/** Options of `new SFrameReceiveSession(...)`. */
export interface SFrameReceiveSessionOptions {
  cipherSuite: number | SFrameCipherSuite;
  /** Each stream derives its own key from each session key (§7). Default false. */
  perSsrcKeys?: boolean;
  /** Stream (SSRC) slots, 1..64 (default 4); about 1 MiB of wasm memory each. */
  maxStreams?: number;
  /** Longest wait of a frame for its key, in the unit of `nowMs`. Default: no age limit. */
  maxWaitMs?: number;
  /** Replay window in counter values (default 512, at most 1024, 0 = off). */
  replayWindow?: number;
}

export type SFramePushResult =
  | 'buffered'
  | 'frame-ready'
  | 'duplicate'
  | 'late'
  | 'too-far-ahead'
  | 'stream-refused';

export interface SFrameSessionFrameEvent {
  type: 'frame';
  ssrc: number;
  payloadType: number;
  timestamp: number;
  marker: boolean;
  mode: 'per-frame' | 'per-packet';
  firstSequence: number;
  keyId: bigint;
  counter: bigint;
  /** It waited for its key. */
  fromBuffer: boolean;
  /** The plaintext (per-packet: a media RTP payload). */
  data: Uint8Array;
}
/** The first frame of stream `ssrc` under the key added as `keyId`; `first`: first stream. */
export interface SFrameSessionKeyAuthenticatedEvent {
  type: 'keyauthenticated';
  keyId: bigint;
  ssrc: number;
  first: boolean;
}
/** A frame waits for a key (unauthenticated KID and counter). */
export interface SFrameSessionAwaitingKeyEvent {
  type: 'awaitingkey';
  ssrc: number;
  keyId: bigint;
  counter: bigint;
}
export interface SFrameSessionFailedEvent {
  type: 'failed';
  ssrc: number;
  keyId: bigint | null;
  code: SFrameErrorCode;
}
export type SFrameSessionEvent =
  | SFrameSessionFrameEvent
  | SFrameSessionKeyAuthenticatedEvent
  | SFrameSessionAwaitingKeyEvent
  | SFrameSessionFailedEvent;
export type SFrameSessionEventType = SFrameSessionEvent['type'];

export interface SFrameSessionFailures {
  authentication: number;
  replay: number;
  unknownKey: number;
  malformed: number;
  usageLimit: number;
  other: number;
  total: number;
}
export interface SFrameSessionKidCounters {
  framesIn: number;
  bytesIn: number;
  frames: number;
  bytes: number;
  failures: SFrameSessionFailures;
  waited: number;
  released: number;
  dropped: number;
}
export interface SFrameSessionKeyStats {
  keyId: bigint;
  active: boolean;
  ratchetBits: number | null;
  authenticated: boolean;
  streamsAuthenticated: number;
  waiting: number;
  counters: SFrameSessionKidCounters;
}
export interface SFrameSessionStreamStats {
  ssrc: number;
  authenticated: boolean;
  packets: {
    packets: number;
    duplicates: number;
    late: number;
    evicted: number;
    frames: number;
    droppedFrames: number;
    tooFarAhead: number;
    resyncs: number;
  };
  storedPackets: number;
  storedBytes: number;
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  failures: SFrameSessionFailures;
  waited: number;
  released: number;
  droppedOverflow: number;
  droppedExpired: number;
  droppedTooBig: number;
  droppedRemoved: number;
  waiting: number;
  waitingBytes: number;
  keys: number;
}
export interface SFrameReceiveSessionStats {
  session: {
    streams: number;
    capacity: number;
    keysActive: number;
    keysRemoved: number;
    ssrcsRefused: number;
    streamsEvicted: number;
    packetsMalformed: number;
    keyInstallFailures: number;
    unknownKids: SFrameSessionKidCounters;
  };
  streams: SFrameSessionStreamStats[];
  keys: SFrameSessionKeyStats[];
}

/** RTP packets of any SSRC in; decrypted frames and events out. */
export class SFrameReceiveSession {
  constructor(options: SFrameReceiveSessionOptions);
  /**
   * Adds `keyId`'s base key (per SSRC if `perSsrcKeys`). Key bytes: at once. A
   * non-extractable HKDF CryptoKey with "deriveBits" usage stays in WebCrypto, which derives
   * the keys (never exported): without `perSsrcKeys` one key, added when the Promise
   * resolves; with them each stream's own, for the present streams before the Promise
   * resolves and for new streams when their first packet is pushed (frames wait meanwhile;
   * `keysReady()`). Rejects with TypeError for another kind of CryptoKey, with the errors of
   * the bytes form otherwise.
   */
  addKey(keyId: CryptoKeyID, baseKey: CryptoKey): Promise<void>;
  addKey(keyId: CryptoKeyID, baseKey: ArrayBuffer | ArrayBufferView): void;
  /**
   * Resolves once every stream has its keys of the CryptoKey base keys (derivations started
   * for new streams included); rejects with a derivation's error. Then poll/drain: frames
   * that waited come out.
   */
  keysReady(): Promise<void>;
  addRatchetingKey(ratchetBits: number, keyId: CryptoKeyID, baseKey: ArrayBuffer | ArrayBufferView): void;
  removeKey(keyId: CryptoKeyID): boolean;
  hasKey(keyId: CryptoKeyID): boolean;
  removeStream(ssrc: number): boolean;
  /** `nowMs` defaults to `performance.now()`. */
  pushPacket(packet: ArrayBuffer | ArrayBufferView, nowMs?: number): SFramePushResult;
  poll(nowMs?: number): SFrameSessionEvent | null;
  /** Polls until null, calling the `on()` listeners; returns the events. */
  drain(nowMs?: number): SFrameSessionEvent[];
  /** `pushPacket` then `drain`. */
  receive(packet: ArrayBuffer | ArrayBufferView, nowMs?: number): SFrameSessionEvent[];
  on<T extends SFrameSessionEventType>(type: T, listener: (event: Extract<SFrameSessionEvent, { type: T }>) => void): this;
  off<T extends SFrameSessionEventType>(type: T, listener: (event: Extract<SFrameSessionEvent, { type: T }>) => void): this;
  stats(): SFrameReceiveSessionStats;
  readonly maxFrameLength: number;
  close(): void;
}
