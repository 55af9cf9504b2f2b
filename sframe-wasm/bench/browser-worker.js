// The measuring half of bench/browser.mjs: a dedicated module worker (where an
// RTCRtpScriptTransform runs its transforms) in headless Chromium. browser.html starts it and
// relays { type: 'run', job } messages; every job answers with { type: 'result', ... }.
//
// Jobs (µs per frame are best-of-`rounds` means over `n` frames):
//   { kind: 'case', suite, size, n, rounds, verify }
//       wasm protect / unprotect (the package's Sender / Receiver, no metadata), WebCrypto
//       encrypt / decrypt of the same bytes (one await per call; GCM suites: AES-GCM with the
//       SFrame header as AAD; CTR suites: AES-CTR then HMAC, i.e. two awaits each way), and the
//       transform round trip: one frame written to the public SFrameEncryptorStream, piped into
//       SFrameDecryptorStream (as pipeThrough/pipeTo in an RTCRtpScriptTransform worker), read
//       back, one frame in flight at a time — with the key given as bytes ("raw key": wasm key
//       + WebCrypto twin, path chosen per frame by size), as a non-extractable HKDF CryptoKey
//       with deriveKey + deriveBits ("non-extractable key": AES-GCM frames always in
//       WebCrypto), and with the raw key forced onto one path (setWebCryptoThreshold:
//       Infinity = wasm path, 0 = WebCrypto path; the crossover that picks the threshold).
//       "streams alone": two identity TransformStreams piped the same way; "streams + one
//       WebCrypto call": the same with one awaited 16-byte AES-GCM encrypt in each transform
//       (the floor of any transform that awaits WebCrypto per frame); "bare WebCrypto
//       transform": the same two streams, the first AES-GCM-encrypting each frame's whole data
//       and the second decrypting it (no SFrame: what the simplest WebCrypto-based E2EE
//       transform costs).
//   { kind: 'roundtrip', suite, size, n, keyMode, threshold }   the round trip alone (--profile).
//   { kind: 'vectors' }                      js/webcrypto.js against RFC 9605 Appendix C.
//
// Frames are objects shaped like RTCEncodedVideoFrame / RTCEncodedAudioFrame: a fresh `data`
// ArrayBuffer per frame and getMetadata() returning a new dictionary per call (what the
// browser's objects do); 64-byte frames are Opus audio (1 clear TOC byte), larger ones VP8
// delta frames (3 clear bytes) — the codec layout is part of the per-frame work.

import {
  Sender,
  Receiver,
  SFrameEncryptorStream,
  SFrameDecryptorStream,
  cipherSuiteInfo,
  parseHeader,
  clearPrefixLength,
  codecForMimeType,
} from '../js/index.js';
import { setWebCryptoThreshold } from '../js/pipeline.js';
import { frameStream } from '../js/frame-stream.js';
import { isWebCryptoSuite } from '../js/webcrypto.js';
import { checkVectors } from './webcrypto-vectors.js';

const BASE_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
let nextKid = 1;

/** Deterministic frame bytes; bit 0 of byte 0 set: a VP8 delta frame (and any Opus TOC). */
function source(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + 7) & 0xff;
  out[0] |= 1;
  return out;
}

const mimeFor = (size) => (size <= 256 ? 'audio/opus' : 'video/VP8');

/** An RTCEncoded*Frame look-alike carrying a copy of `src`. */
class BenchFrame {
  /** @param {Uint8Array} src @param {string} mimeType @param {number} i */
  constructor(src, mimeType, i) {
    this.data = src.slice().buffer;
    this.type = mimeType.startsWith('video') ? 'delta' : undefined;
    this.timestamp = i * 33000;
    this.#mimeType = mimeType;
    this.#i = i;
  }
  #mimeType;
  #i;
  getMetadata() {
    return {
      synchronizationSource: 0x1234,
      payloadType: 96,
      contributingSources: [],
      rtpTimestamp: this.#i * 3000,
      mimeType: this.#mimeType,
    };
  }
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs `body(n)` (returns ms) `rounds` times; best µs per frame. */
async function best(rounds, n, body) {
  let ms = Infinity;
  for (let r = 0; r < rounds; r++) ms = Math.min(ms, await body(n));
  return (ms * 1000) / n;
}

async function wasmCase(suite, src, n, rounds) {
  let protectUs = Infinity;
  let unprotectUs = Infinity;
  let sample = null;
  for (let r = 0; r < rounds + 1; r++) {
    const kid = nextKid++;
    const tx = new Sender(suite);
    const rx = new Receiver(suite);
    try {
      tx.setKey(kid, BASE_KEY);
      rx.addKey(kid, BASE_KEY);
      const cts = new Array(n);
      let t0 = performance.now();
      for (let i = 0; i < n; i++) cts[i] = tx.protect(src);
      const p = performance.now() - t0;
      let last = null;
      t0 = performance.now();
      for (let i = 0; i < n; i++) last = rx.unprotect(cts[i]);
      const u = performance.now() - t0;
      if (!equal(last, src)) throw new Error(`wasm round trip of ${src.length} bytes differs`);
      if (r > 0) {
        // round 0 warms up
        protectUs = Math.min(protectUs, (p * 1000) / n);
        unprotectUs = Math.min(unprotectUs, (u * 1000) / n);
      }
      sample = cts;
    } finally {
      tx.free();
      rx.free();
    }
  }
  return { protectUs, unprotectUs, sample };
}

/** WebCrypto doing the same per-frame AEAD work: nonce = salt ^ counter, header as AAD. */
async function webcryptoCase(info, src, n, rounds, headers) {
  const salt = crypto.getRandomValues(new Uint8Array(info.nonceLength));
  const gcm = info.name.includes('GCM');
  const tagBits = info.tagLength * 8;
  let encKey;
  let macKey;
  if (gcm) {
    const raw = crypto.getRandomValues(new Uint8Array(info.keyLength));
    encKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  } else {
    const raw = crypto.getRandomValues(new Uint8Array(info.encKeyLength));
    encKey = await crypto.subtle.importKey('raw', raw, 'AES-CTR', false, ['encrypt', 'decrypt']);
    const mac = crypto.getRandomValues(new Uint8Array(info.keyLength - info.encKeyLength));
    macKey = await crypto.subtle.importKey('raw', mac, { name: 'HMAC', hash: info.hash }, false, [
      'sign',
    ]);
  }
  const nonce = (i) => {
    const iv = salt.slice();
    const v = new DataView(iv.buffer);
    v.setUint32(iv.length - 4, v.getUint32(iv.length - 4) ^ i);
    return iv;
  };
  const aad = (i) => headers[i % headers.length];
  // AES-CTR + HMAC: counter block = nonce ‖ 0^32; tag = HMAC over lengths ‖ AAD ‖ CT, truncated.
  const macInput = (a, ct) => {
    const m = new Uint8Array(24 + a.length + ct.length);
    const v = new DataView(m.buffer);
    v.setBigUint64(0, BigInt(a.length));
    v.setBigUint64(8, BigInt(ct.length));
    v.setBigUint64(16, BigInt(info.tagLength));
    m.set(a, 24);
    m.set(ct, 24 + a.length);
    return m;
  };
  const ctrBlock = (iv) => {
    const c = new Uint8Array(16);
    c.set(iv);
    return c;
  };
  const cts = new Array(n);
  const encrypt = async (k) => {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) {
      const iv = nonce(i);
      if (gcm) {
        cts[i] = await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: aad(i), tagLength: tagBits },
          encKey,
          src,
        );
      } else {
        const ct = new Uint8Array(
          await crypto.subtle.encrypt({ name: 'AES-CTR', counter: ctrBlock(iv), length: 32 }, encKey, src),
        );
        const tag = await crypto.subtle.sign('HMAC', macKey, macInput(aad(i), ct));
        cts[i] = [ct, new Uint8Array(tag, 0, info.tagLength)];
      }
    }
    return performance.now() - t0;
  };
  const decrypt = async (k) => {
    const t0 = performance.now();
    let pt = null;
    for (let i = 0; i < k; i++) {
      const iv = nonce(i);
      if (gcm) {
        pt = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: aad(i), tagLength: tagBits },
          encKey,
          cts[i],
        );
      } else {
        const [ct, tag] = cts[i];
        const full = new Uint8Array(await crypto.subtle.sign('HMAC', macKey, macInput(aad(i), ct)));
        if (!equal(full.subarray(0, info.tagLength), tag)) throw new Error('HMAC mismatch');
        pt = await crypto.subtle.decrypt({ name: 'AES-CTR', counter: ctrBlock(iv), length: 32 }, encKey, ct);
      }
    }
    if (!equal(new Uint8Array(pt), src)) throw new Error('WebCrypto round trip differs');
    return performance.now() - t0;
  };
  await encrypt(Math.min(n, 50)); // warm-up
  const encUs = await best(rounds, n, encrypt);
  const decUs = await best(rounds, n, decrypt);
  return { encUs, decUs };
}

/**
 * The public transform classes, driven as an RTCRtpScriptTransform worker drives them:
 * encrypter.readable piped into decrypter.writable; each frame is written, then read back
 * decrypted before the next one is written. µs per frame.
 * `keyMode`: "raw" (BASE_KEY bytes) or "external" (a non-extractable HKDF CryptoKey with
 * deriveKey + deriveBits); `threshold`: the WebCrypto path's size threshold for the run
 * (undefined: the package's default; only this tree's js/ has the knob).
 */
async function roundTrip(
  suite,
  src,
  n,
  verifyAll,
  {
    api = { SFrameEncryptorStream, SFrameDecryptorStream },
    pipelined = false,
    mimeType = undefined,
    keyMode = 'raw',
    threshold = undefined,
  } = {},
) {
  const kid = nextKid++;
    // The current names (W3C PR #312); an older revision (--ab) may have only PR #308's.
  const Enc = api.SFrameEncryptorStream ?? api.SFrameEncrypterStream;
  const Dec = api.SFrameDecryptorStream ?? api.SFrameDecrypterStream;
  const enc = new Enc({ cipherSuite: suite });
  const dec = new Dec({ cipherSuite: suite });
  const errors = [];
  dec.addEventListener('error', (e) => errors.push(e.errorType));
  const key =
    keyMode === 'external'
      ? await crypto.subtle.importKey('raw', BASE_KEY, 'HKDF', false, ['deriveKey', 'deriveBits'])
      : BASE_KEY;
  await enc.setEncryptionKey(key, kid);
  await dec.addDecryptionKey(key, kid);
  setWebCryptoThreshold(threshold);
  const piped = enc.readable.pipeTo(dec.writable).catch(() => {});
  const writer = enc.writable.getWriter();
  const reader = dec.readable.getReader();
  const mime = mimeType ?? mimeFor(src.length);
  const frames = Array.from({ length: n }, (_, i) => new BenchFrame(src, mime, i));
  const outputs = verifyAll ? new Array(n) : null;
  let last = null;
  const t0 = performance.now();
  if (pipelined) {
    // All frames written at once (queued in the writable), then read: throughput, not latency.
    for (let i = 0; i < n; i++) writer.write(frames[i]).catch(() => {});
    for (let i = 0; i < n; i++) {
      const { value } = await reader.read();
      last = value;
      if (outputs) outputs[i] = value;
    }
  } else {
    for (let i = 0; i < n; i++) {
      writer.write(frames[i]).catch(() => {});
      const { value } = await reader.read();
      last = value;
      if (outputs) outputs[i] = value;
    }
  }
  const ms = performance.now() - t0;
  let bad = 0;
  for (const f of outputs ?? [last]) {
    if (!f || f.constructor !== BenchFrame || !equal(new Uint8Array(f.data), src)) bad++;
  }
  if (bad || errors.length) {
    throw new Error(`transform round trip of ${src.length} bytes: ${bad} frames differ, errors ${errors}`);
  }
  setWebCryptoThreshold(undefined);
  await writer.close();
  await piped;
  enc.close();
  dec.close();
  return (ms * 1000) / n;
}

/**
 * The stream plumbing alone: the same loop through two identity TransformStreams piped like
 * the encrypter and decrypter (what any TransformStream-based transform pays per frame).
 */
async function identityRoundTrip(size, n, hwm = 0, webCryptoCall = false) {
  const src = source(size);
  /** @type {(f: any, c: TransformStreamDefaultController) => void | Promise<void>} */
  let transform = (f, c) => c.enqueue(f);
  let transform2 = null;
  if (webCryptoCall === 'gcm') {
    // The barest WebCrypto transform: AES-GCM of the whole frame data (fixed IV, no header,
    // no AAD, no layout) in the first stream, decryption in the second.
    const key = await crypto.subtle.importKey('raw', BASE_KEY, 'AES-GCM', false, ['encrypt', 'decrypt']);
    const iv = new Uint8Array(12);
    transform = async (f, c) => {
      f.data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, f.data);
      c.enqueue(f);
    };
    transform2 = async (f, c) => {
      f.data = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, f.data);
      c.enqueue(f);
    };
  } else if (webCryptoCall) {
    // One awaited 16-byte AES-GCM encrypt per transform: what awaiting WebCrypto costs in a
    // transform, with (almost) no bytes to encrypt.
    const key = await crypto.subtle.importKey('raw', BASE_KEY, 'AES-GCM', false, ['encrypt']);
    const iv = new Uint8Array(12);
    const block = new Uint8Array(16);
    transform = async (f, c) => {
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, block);
      c.enqueue(f);
    };
  }
  const a = new TransformStream({ transform }, undefined, { highWaterMark: hwm });
  const b = new TransformStream({ transform: transform2 ?? transform }, undefined, { highWaterMark: hwm });
  const piped = a.readable.pipeTo(b.writable).catch(() => {});
  const writer = a.writable.getWriter();
  const reader = b.readable.getReader();
  const mime = mimeFor(size);
  const frames = Array.from({ length: n }, (_, i) => new BenchFrame(src, mime, i));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    writer.write(frames[i]).catch(() => {});
    await reader.read();
  }
  const ms = performance.now() - t0;
  await writer.close();
  await piped;
  return (ms * 1000) / n;
}

async function caseJob({ suite, size, n, rounds, verify }) {
  const info = cipherSuiteInfo(suite);
  const src = source(size);
  const gcm = isWebCryptoSuite(info);
  // Warm-up (JIT, key schedules); the round trips check every frame here.
  const warm = await wasmCase(suite, src, Math.min(n, 100), 1);
  const headers = warm.sample.slice(0, 256).map((ct) => ct.slice(0, parseHeader(ct).headerLength));
  await webcryptoCase(info, src, Math.min(n, 100), 1, headers);
  /** The round trips measured, by column. */
  const variants = {
    roundTripUs: { keyMode: 'raw' },
    externalUs: { keyMode: 'external' },
    wasmPathUs: { keyMode: 'raw', threshold: Infinity },
    webPathUs: gcm ? { keyMode: 'raw', threshold: 0 } : null,
  };
  for (const v of Object.values(variants)) if (v) await roundTrip(suite, src, Math.min(n, 50), true, v);
  await identityRoundTrip(size, Math.min(n, 200));
  await identityRoundTrip(size, Math.min(n, 200), 0, true);
  await identityRoundTrip(size, Math.min(n, 200), 0, 'gcm');
  await pairRoundTrip(size, Math.min(n, 200));
  // Rounds interleave every figure: a burst of load from other jobs on the machine then
  // spoils one round of each rather than every round of one.
  const best = {
    protectUs: Infinity,
    unprotectUs: Infinity,
    encUs: Infinity,
    decUs: Infinity,
    roundTripUs: Infinity,
    externalUs: Infinity,
    wasmPathUs: Infinity,
    webPathUs: gcm ? Infinity : null,
    streamsUs: Infinity,
    streamsAsyncUs: Infinity,
    bareUs: Infinity,
    pairUs: Infinity,
  };
  const min = (k, v) => (best[k] = Math.min(best[k], v));
  for (let r = 0; r < rounds; r++) {
    const w = await wasmCase(suite, src, n, 1);
    const wc = await webcryptoCase(info, src, n, 1, headers);
    min('protectUs', w.protectUs);
    min('unprotectUs', w.unprotectUs);
    min('encUs', wc.encUs);
    min('decUs', wc.decUs);
    for (const [k, v] of Object.entries(variants)) if (v) min(k, await roundTrip(suite, src, n, verify, v));
    min('streamsUs', await identityRoundTrip(size, n));
    min('streamsAsyncUs', await identityRoundTrip(size, n, 0, true));
    min('bareUs', await identityRoundTrip(size, n, 0, 'gcm'));
    min('pairUs', await pairRoundTrip(size, n));
  }
  return { suite, size, mime: mimeFor(size), n, ...best };
}

/**
 * What building a frame's output costs in this browser, µs per frame of `size` bytes: a new
 * buffer + copy (the join each WebCrypto-path side does: clear ‖ header ‖ WebCrypto's
 * output, clear ‖ plaintext), a new buffer alone, a copy into a buffer already touched, and
 * that copy followed by ArrayBuffer.prototype.transfer to a shorter length (reusing the
 * received frame's buffer for its plaintext).
 */
async function copiesJob({ size, n }) {
  const src = new Uint8Array(size).fill(7);
  const time = (body) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) body(i);
    return ((performance.now() - t0) * 1000) / n;
  };
  let keep = null;
  const out = {};
  for (let r = 0; r < 3; r++) {
    const bufs = Array.from({ length: n }, () => new Uint8Array(size + 40).fill(1));
    const bufs2 = Array.from({ length: n }, () => new Uint8Array(size + 40).fill(1));
    const m = {
      allocCopyUs: time(() => {
        const o = new Uint8Array(size + 3);
        o.set(src, 3);
        keep = o;
      }),
      allocUs: time(() => (keep = new ArrayBuffer(size + 3))),
      copyUs: time((i) => {
        bufs2[i].set(src, 3);
        keep = bufs2[i];
      }),
      copyTransferUs: time((i) => {
        bufs[i].set(src, 3);
        keep = bufs[i].buffer.transfer(size + 3);
      }),
    };
    const bufs3 = Array.from({ length: n }, () => new Uint8Array(size).fill(1));
    m.growShiftUs = time((i) => {
      const o = new Uint8Array(bufs3[i].buffer.transfer(size + 20));
      o.copyWithin(20, 0, size);
      keep = o;
    });
    for (const [k, v] of Object.entries(m)) out[k] = Math.min(out[k] ?? Infinity, v);
  }
  void keep;
  return out;
}

/**
 * The crossover of the two paths for a key given as bytes: the transform round trip forced
 * onto the wasm path (threshold Infinity) and onto the WebCrypto path (threshold 0),
 * alternating, `rounds` times per size; best of each.
 */
async function crossoverJob({ suite, sizes, n, rounds }) {
  const out = [];
  for (const size of sizes) {
    const src = source(size);
    const best = { size, wasmUs: Infinity, webUs: Infinity };
    await roundTrip(suite, src, 100, true, { threshold: Infinity });
    await roundTrip(suite, src, 100, true, { threshold: 0 });
    for (let r = 0; r < rounds; r++) {
      for (const [k, threshold] of r % 2 ? [['webUs', 0], ['wasmUs', Infinity]] : [['wasmUs', Infinity], ['webUs', 0]]) {
        best[k] = Math.min(best[k], await roundTrip(suite, src, n, false, { threshold }));
      }
    }
    out.push(best);
  }
  return out;
}

/**
 * A/B of the round trip: the package as served at /js/ (this tree) against /ab/js/ (another
 * revision, see browser.mjs --ab), `rounds` alternating runs of `n` frames; best of each.
 */
async function abJob({ suite, size, n, rounds, mime }) {
  const a = await import('../js/index.js');
  const b = await import('../ab/js/index.js');
  const src = source(size);
  const best = { current: Infinity, other: Infinity };
  rounds = rounds * 3;
  n = Math.max(50, Math.floor(n / 3));
  await roundTrip(suite, src, 200, true, { api: a, mimeType: mime });
  await roundTrip(suite, src, 200, true, { api: b, mimeType: mime });
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first: the second run of a pair collects the first one's garbage.
    const first = r % 2 === 0 ? 'other' : 'current';
    for (const which of first === 'other' ? ['other', 'current'] : ['current', 'other']) {
      const us = await roundTrip(suite, src, n, false, { api: which === 'other' ? b : a, mimeType: mime });
      best[which] = Math.min(best[which], us);
    }
  }
  return best;
}

self.onmessage = async ({ data }) => {
  const { id, job } = data;
  try {
    let value;
    if (job.kind === 'case') value = await caseJob(job);
    else if (job.kind === 'roundtrip') {
      value = await roundTrip(job.suite, source(job.size), job.n, false, { keyMode: job.keyMode, threshold: job.threshold });
    }
    else if (job.kind === 'ab') value = await abJob(job);
    else if (job.kind === 'identity') value = await identityRoundTrip(job.size, job.n, job.hwm, job.webCryptoCall);
    else if (job.kind === 'copies') value = await copiesJob(job);
    else if (job.kind === 'plumbing') value = await plumbingJob(job);
    else if (job.kind === 'crossover') value = await crossoverJob(job);
    else if (job.kind === 'vectors') value = await checkVectors(job.vectors);
    else throw new Error(`unknown job ${job.kind}`);
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, error: String(e?.stack ?? e) });
  }
};
self.postMessage({ id: 0, ok: true, value: 'ready' });

/** An identity frame-stream.js pair (the package's plumbing without SFrame). */
function identityPair() {
  /** @type {import('../js/frame-stream.js').FrameStreamController} */
  let controller;
  const p = frameStream({ transform: (f) => controller.enqueue(f), flush: () => {}, cancel: () => {} });
  controller = p.controller;
  return p;
}

/** The same loop as identityRoundTrip through two of the package's stream pairs. */
async function pairRoundTrip(size, n) {
  const src = source(size);
  const a = identityPair();
  const b = identityPair();
  const piped = a.readable.pipeTo(b.writable).catch(() => {});
  const writer = a.writable.getWriter();
  const reader = b.readable.getReader();
  const frames = Array.from({ length: n }, (_, i) => new BenchFrame(src, mimeFor(size), i));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    writer.write(frames[i]).catch(() => {});
    const { value } = await reader.read();
    if (value !== frames[i]) throw new Error('pair lost a frame');
  }
  const ms = performance.now() - t0;
  await writer.close();
  await piped;
  return (ms * 1000) / n;
}

async function plumbingJob({ size, n, rounds }) {
  const best = { transformStream: Infinity, pair: Infinity };
  await pairRoundTrip(size, 200);
  await identityRoundTrip(size, 200);
  for (let r = 0; r < rounds; r++) {
    best.pair = Math.min(best.pair, await pairRoundTrip(size, n));
    best.transformStream = Math.min(best.transformStream, await identityRoundTrip(size, n));
  }
  return best;
}
