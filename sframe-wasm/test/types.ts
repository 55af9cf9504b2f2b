// Type-level test of index.d.ts, checked by `tsc --noEmit -p sframe-wasm` (never run): the
// public types accept what the README shows and reject what the spec forbids. Each
// `@ts-expect-error` fails the check if the line below it stops being an error.
import {
  CIPHER_SUITES,
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncryptor,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  RTCRtpSFrameDecrypter,
  RTCRtpSFrameEncrypter,
  SFrameDecrypterStream,
  SFrameEncrypterStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
  cipherSuites,
  derivationInfo,
  errorCodes,
  hazmatProtectFrame,
  installPolyfill,
  KeyWaitBuffer,
  keyWaitCapacity,
  Receiver,
  type KeyWaitFrame,
  type SFrameKeyWaitDrops,
  sdp,
  ssrcBaseKey,
  type CipherSuiteInfo,
  type SdpOutcome,
  type SdpOutcomeValue,
  type SdpPolicy,
  type SdpSection,
  type SFrameSdpError,
  type SFrameCipherSuite,
  type SFrameErrorCode,
  type SFrameStats,
  type SFrameDecryptorStats,
  type SFrameErrorRun,
  type RTCRtpSFrameEncryptorOptions,
  type SFrameTransformOptions,
  type SFrameEncryptorManager,
  type SFrameDecryptorManager,
  type SFrameEncrypterManager,
  type SFrameDecrypterManager,
} from '../index.js';
import { errorTypeFor } from '../js/spec.js';

declare const key: CryptoKey;
declare const sender: RTCRtpSender;
declare const receiver: RTCRtpReceiver;

export async function mainThread(): Promise<bigint | number | null> {
  const options: RTCRtpSFrameEncryptorOptions = { cipherSuite: 'AES_256_CTR_HMAC_SHA512_80', type: 'per-frame' };
  const enc = new RTCRtpSFrameEncryptor(options);
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_80' });
  sender.transform = enc; // what the browser gets is an RTCRtpScriptTransform
  receiver.transform = dec;
  await enc.setEncryptionKey(key, 1n);
  await dec.addDecryptionKey(key, 1);
  await dec.removeDecryptionKey(1);
  const stats: SFrameStats = await enc.getStats();
  let last: bigint | number | null = stats.droppedNoKey;
  dec.onerror = (e) => {
    last = e.keyID;
  };
  dec.addEventListener('error', (e) => {
    const t: 'authentication' | 'keyID' | 'syntax' = e.errorType;
    void t;
  });
  // @ts-expect-error keyID is required (W3C IDL)
  await enc.setEncryptionKey(key);
  // @ts-expect-error the cipherSuite enum takes names, not IANA numbers
  new RTCRtpSFrameEncryptor({ cipherSuite: 4 });
  // @ts-expect-error cipherSuite is required
  new RTCRtpSFrameDecryptor({});
  // @ts-expect-error type is "per-frame" | "per-packet"
  new RTCRtpSFrameEncryptor({ cipherSuite: 'AES_128_GCM_SHA256_128', type: 'per-stream' });
  // @ts-expect-error an encrypter has no decryption keys
  enc.addDecryptionKey(key, 1);
  // @ts-expect-error the encrypter is not an EventTarget (W3C PR #309 for its stream)
  enc.onerror = null;
  return last;
}

export async function worker(readable: ReadableStream, writable: WritableStream): Promise<void> {
  const options: SFrameTransformOptions = { cipherSuite: 'AES_128_GCM_SHA256_128' };
  const enc = new SFrameEncryptorStream(options);
  const dec = new SFrameDecryptorStream({ ...options, replayWindow: 0 });
  await enc.setEncryptionKey(new Uint8Array(16), 2);
  await dec.addDecryptionKey(key, 2n ** 60n);
  await readable.pipeThrough(enc).pipeThrough(dec).pipeTo(writable);
  const n: number = enc.stats.droppedNoKey + dec.stats.replayed;
  void n;
  // @ts-expect-error SFrameEncryptorStream is not an EventTarget (W3C PR #309)
  enc.addEventListener('error', () => {});
  const legacy = new SFrameTransform({ role: 'decrypt', authenticationSize: 10 });
  await legacy.setEncryptionKey(key); // keyID optional on the compatibility object
  const ev = new SFrameTransformErrorEvent('error', { errorType: 'syntax', frame: null });
  // @ts-expect-error errorType is required
  new SFrameTransformErrorEvent('error', { frame: null });
  void ev;
}

export function tables(): SFrameCipherSuite[] {
  const all: CipherSuiteInfo[] = cipherSuites();
  const installed = installPolyfill();
  void installed.RTCRtpSFrameEncrypter;
  return [...CIPHER_SUITES, ...all.map((s) => s.name)];
}

export function errors(): SFrameErrorCode[] {
  const info: Uint8Array = derivationInfo('salt', 2n ** 64n - 1n, 'AES_128_GCM_SHA256_128');
  void info;
  // @ts-expect-error the §4.4.2 outputs are "key" and "salt"
  derivationInfo('nonce', 1, 4);
  const frame: Uint8Array = hazmatProtectFrame(4, 1, 17767n, new Uint8Array(16), new Uint8Array(3));
  void frame;
  // @ts-expect-error a counter is a bigint (64 bits), never a number
  hazmatProtectFrame('AES_128_GCM_SHA256_128', 1n, 0, new Uint8Array(16), new Uint8Array(3), null);
  // The codes the JS layer branches on are checked against index.d.ts's SFrameErrorCode
  // (itself checked against the core's errorCodes() by test/tables.test.mjs).
  errorTypeFor('suite_mismatch');
  // @ts-expect-error not an sframe-core error code
  errorTypeFor('authentication_fail');
  return errorCodes();
}

/** The W3C mixins, and PR #308's names: the same classes and types under both names. */
export async function mixinsAndAliases(): Promise<void> {
  const suite = { cipherSuite: 'AES_128_GCM_SHA256_128' } as const;
  // Every encryptor is an SFrameEncryptorManager, every decryptor an SFrameDecryptorManager.
  const encryptors: SFrameEncryptorManager[] = [new SFrameEncryptorStream(suite), new RTCRtpSFrameEncryptor(suite)];
  const decryptors: SFrameDecryptorManager[] = [new SFrameDecryptorStream(suite), new RTCRtpSFrameDecryptor(suite)];
  for (const e of encryptors) await e.setEncryptionKey(key, 1);
  for (const d of decryptors) {
    await d.addDecryptionKey(key, 1);
    d.onerror = (ev) => void ev.errorType;
  }
  // @ts-expect-error an encryptor is not a decryptor manager
  const wrong: SFrameDecryptorManager = new SFrameEncryptorStream(suite);
  void wrong;
  // The #308 names are the classes themselves: values, constructors and instance types.
  const sameStream: typeof SFrameEncryptorStream = SFrameEncrypterStream;
  const sameRtp: typeof RTCRtpSFrameDecryptor = RTCRtpSFrameDecrypter;
  void sameStream;
  void sameRtp;
  const old: SFrameDecrypterStream = new SFrameDecryptorStream(suite);
  const cur: SFrameDecryptorStream = new SFrameDecrypterStream(suite);
  const oldRtp: RTCRtpSFrameEncrypter = new RTCRtpSFrameEncryptor(suite);
  const curRtp: RTCRtpSFrameEncryptor = new RTCRtpSFrameEncrypter({ ...suite, type: 'per-frame' });
  void [old, cur, oldRtp, curRtp];
  const m: SFrameEncrypterManager = new SFrameEncrypterStream(suite);
  const n: SFrameDecrypterManager = new RTCRtpSFrameDecrypter(suite);
  void [m, n];
  const installed = installPolyfill();
  const a: typeof RTCRtpSFrameEncryptor | undefined = installed.RTCRtpSFrameEncrypter;
  const b: typeof SFrameDecryptorStream | undefined = installed.SFrameDecrypterStream;
  void [a, b];
}

/** Statistics: the encryptors' SFrameStats, the decryptors' SFrameDecryptorStats. */
export async function statistics(): Promise<number> {
  const suite = { cipherSuite: 'AES_128_GCM_SHA256_128' } as const;
  const rtp: SFrameDecryptorStats = await new RTCRtpSFrameDecryptor(suite).getStats();
  const stream: SFrameDecryptorStats = new SFrameDecryptorStream(suite).stats;
  const run: SFrameErrorRun | null = rtp.currentErrorRun ?? stream.lastErrorRun;
  const kid: bigint | undefined = rtp.keys[0]?.keyID;
  void [run, kid];
  const enc: SFrameStats = await new RTCRtpSFrameEncryptor(suite).getStats();
  // @ts-expect-error encryptors have no per-key entries
  void enc.keys;
  // @ts-expect-error nor error runs
  void new SFrameEncryptorStream(suite).stats.errorEvents;
  const ev = new SFrameTransformErrorEvent('error', { errorType: 'keyID', frame: null, previousRun: run });
  const n: number | undefined = ev.previousRun?.count;
  // @ts-expect-error nor a key-wait buffer
  void enc.buffered;
  return enc.bytesIn + enc.failures.syntax + rtp.errorsSuppressed + (n ?? 0);
}

/** Frames before their key: the decryptors' keyWait option and its counters. */
export async function keyWait(): Promise<number> {
  const cipherSuite = 'AES_128_GCM_SHA256_128';
  const dec = new RTCRtpSFrameDecryptor({ cipherSuite, keyWait: { maxFrames: 64, maxAgeMs: 1500 } });
  const stream = new SFrameDecryptorStream({ cipherSuite, keyWait: { maxFrames: 0 } });
  new SFrameTransform({ role: 'decrypt', cipherSuite, keyWait: {} }).close();
  // @ts-expect-error members are numbers
  void new SFrameDecryptorStream({ cipherSuite, keyWait: { maxFrames: '8' } });
  const s = await dec.getStats();
  const d: SFrameKeyWaitDrops = s.droppedFromBuffer;
  const low = new KeyWaitBuffer(keyWaitCapacity(), 1 << 20, 2000);
  const dropped: KeyWaitFrame[] = low.hold(7n, 0, 1200, performance.now());
  const released: KeyWaitFrame | null = low.release(7n);
  const reason: 'released' | 'overflow' | 'expired' | 'tooBig' | 'removed' | undefined = released?.reason;
  void [dropped, reason, new Receiver('AES_128_GCM_SHA256_128').hasKeyFor(7n)];
  return s.buffered + s.releasedFromBuffer + d.overflow + d.expired + d.tooBig + d.removed + d.closed + stream.stats.buffered;
}

/** a=sframe negotiation (`sdp`) and per-SSRC keys (`ssrcBaseKey`). */
export async function sdpAndSsrcKeys(offerSdp: string, answerSdp: string): Promise<string> {
  const audioOnly = (s: SdpSection): SdpPolicy => (s.media === 'audio' ? 'required' : 'off');
  const offer = sdp.prepareOffer(offerSdp, audioOnly);
  const plan: SdpOutcome[] = sdp.answerForOffer(offer, 'preferred');
  const answer = sdp.applyAnswer(answerSdp, plan);
  // Outcomes built by hand: no index or mid needed.
  const byHand: SdpOutcomeValue[] = [{ outcome: 'negotiated' }, { outcome: 'stopped', reason: 'peer-lacks-sframe' }];
  sdp.applyAnswer(answerSdp, byHand);
  for (const o of sdp.checkAnswer(offer, answer, 'required')) {
    // The union narrows: a conflict only on a BUNDLE rejection, a stop reason only when stopped.
    if (o.outcome === 'rejected' && o.reason === 'bundle-payload-type-reuse') void o.conflict.payloadType;
    if (o.outcome === 'stopped') {
      const r: 'stopped-in-offer' | 'rejected-by-answerer' | 'peer-lacks-sframe' | 'sframe-not-offered' = o.reason;
      void r;
    }
    // @ts-expect-error a negotiated section has no reason
    void (o.outcome === 'negotiated' && o.reason);
  }
  const has: boolean = sdp.hasSframe(answer, 0) && sdp.hasSframe(answer, 'mid0');
  void has;
  void sdp.removeSframe(sdp.addSframe(offer, '0'), 0) + sdp.stripSframe(offer) + sdp.sections(offer)[0]?.mid;
  // @ts-expect-error policies are lower case
  sdp.prepareOffer(offerSdp, 'Required');
  // @ts-expect-error a policy function returns a policy
  sdp.checkAnswer(offer, answer, () => true);
  // @ts-expect-error a stopped outcome needs its reason
  sdp.applyAnswer(answerSdp, [{ outcome: 'stopped' }]);
  try {
    sdp.addSframe(offerSdp, 5);
  } catch (e) {
    const err = e as SFrameSdpError;
    if (err.code === 'malformed_line') void err.line;
    // @ts-expect-error not an SdpError code
    void (err.code === 'bad_sdp');
  }
  // ssrcBaseKey gives what it is given: bytes for bytes, a CryptoKey for a CryptoKey.
  const bytes: Uint8Array = await ssrcBaseKey('AES_256_CTR_HMAC_SHA512_80', new Uint8Array(32), 0x1234);
  const web: CryptoKey = await ssrcBaseKey(8, key, 0xffffffff);
  void web;
  // @ts-expect-error bytes in, bytes out
  const wrong: CryptoKey = await ssrcBaseKey(4, new Uint8Array(16), 1);
  void wrong;
  // @ts-expect-error an SSRC is a number
  await ssrcBaseKey(4, key, 1n);
  return String(bytes.length);
}

// --- SFrame RTP sessions (js/rtp-session.js) ----------------------------------------------
import {
  SFrameSendStream,
  SFrameReceiveSession,
  type SFrameSessionEvent,
  type SFrameReceiveSessionStats,
} from '../index.js';

export function rtpSessions(media: Uint8Array): number {
  const video = new SFrameSendStream({ cipherSuite: 6, ssrc: 0x1234, payloadType: 99, maxPayloadLength: 1200, perSsrcKeys: true });
  video.setKey(1n, new Uint8Array(32));
  const packets: Uint8Array[] = video.sendFrame(media, 90_000, true);
  const kid: bigint = video.ratchet();
  const rx = new SFrameReceiveSession({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_80', perSsrcKeys: true, maxStreams: 2, maxWaitMs: 2000 });
  rx.addKey(kid, new Uint8Array(32));
  rx.on('frame', (e) => {
    const data: Uint8Array = e.data; // narrowed to the frame event
    const counter: bigint = e.counter;
    void data, counter;
  });
  rx.on('failed', (e) => {
    const code: SFrameErrorCode = e.code;
    // @ts-expect-error a failed event has no data
    void e.data, code;
  });
  // @ts-expect-error no such event
  rx.on('keyreceived', () => {});
  for (const p of packets) rx.pushPacket(p, 0);
  const e: SFrameSessionEvent | null = rx.poll();
  if (e?.type === 'awaitingkey') {
    const k: bigint = e.keyId;
    void k;
  }
  const stats: SFrameReceiveSessionStats = rx.stats();
  // @ts-expect-error mode is 'per-frame' | 'per-packet'
  new SFrameSendStream({ cipherSuite: 6, ssrc: 1, payloadType: 96, maxPayloadLength: 1200, mode: 'frame' });
  // @ts-expect-error ssrc is required
  new SFrameSendStream({ cipherSuite: 6, payloadType: 96, maxPayloadLength: 1200 });
  return stats.streams.length + video.overhead + video.maxMediaPayloadLength + rx.drain().length;
}

// A non-extractable HKDF CryptoKey as a session's base key: the methods return Promises;
// key bytes stay synchronous.
export async function rtpSessionsWithCryptoKey(base: CryptoKey, media: Uint8Array): Promise<number> {
  const video = new SFrameSendStream({ cipherSuite: 6, ssrc: 7, payloadType: 99, maxPayloadLength: 1200, perSsrcKeys: true });
  const sent: Promise<void> = video.setKey(1n, base);
  await sent;
  const sync: void = video.setKey(2n, new Uint8Array(32));
  void sync;
  const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true });
  const added: Promise<void> = rx.addKey(1n, base);
  await added;
  // @ts-expect-error bytes are added synchronously: no Promise
  const notAPromise: Promise<void> = rx.addKey(2n, new Uint8Array(32));
  void notAPromise;
  for (const p of video.sendFrame(media, 0)) rx.pushPacket(p, 0);
  const ready: Promise<void> = rx.keysReady();
  await ready;
  return rx.drain().length;
}
