// The measuring half of bench/browser.mjs: a dedicated module worker (where an
// RTCRtpScriptTransform runs its transforms) in headless Chromium. browser.html starts it and
// relays { type: 'run', job } messages; every job answers with { type: 'result', ... }.
//
// Jobs (µs per frame are best-of-`rounds` means over `n` frames):
//   { kind: 'case', suite, size, n, rounds, verify }
//       wasm protect / unprotect (the package's Sender / Receiver, no metadata), WebCrypto
//       encrypt / decrypt of the same bytes (one await per call; GCM suites: AES-GCM with the
//       SFrame header as AAD; CTR suites: AES-CTR then HMAC, i.e. two awaits each way), and the
//       transform round trip: one frame written to the public SFrameEncrypterStream, piped into
//       SFrameDecrypterStream (as pipeThrough/pipeTo in an RTCRtpScriptTransform worker), read
//       back, one frame in flight at a time; and "pipelined": all frames written, then read.
//       "streams alone": two identity TransformStreams piped the same way.
//   { kind: 'roundtrip', suite, size, n }   the round trip alone (the --profile run).
//   { kind: 'vectors' }                      js/webcrypto.js against RFC 9605 Appendix C.
//
// Frames are objects shaped like RTCEncodedVideoFrame / RTCEncodedAudioFrame: a fresh `data`
// ArrayBuffer per frame and getMetadata() returning a new dictionary per call (what the
// browser's objects do); 64-byte frames are Opus audio (1 clear TOC byte), larger ones VP8
// delta frames (3 clear bytes) — the codec layout is part of the per-frame work.

import {
  Sender,
  Receiver,
  SFrameEncrypterStream,
  SFrameDecrypterStream,
  cipherSuiteInfo,
  parseHeader,
  clearPrefixLength,
  codecForMimeType,
} from '../js/index.js';
import { deriveWebCryptoKey, isWebCryptoSuite, webCryptoDecrypt, webCryptoEncrypt } from '../js/webcrypto.js';
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
 * decrypted before the next one is written. Returns { us, outputs-ok }.
 */
async function roundTrip(
  suite,
  src,
  n,
  verifyAll,
  api = { SFrameEncrypterStream, SFrameDecrypterStream },
  pipelined = false,
  mimeType = undefined,
) {
  const kid = nextKid++;
  const enc = new api.SFrameEncrypterStream({ cipherSuite: suite });
  const dec = new api.SFrameDecrypterStream({ cipherSuite: suite });
  const errors = [];
  dec.addEventListener('error', (e) => errors.push(e.errorType));
  await enc.setEncryptionKey(BASE_KEY, kid);
  await dec.addDecryptionKey(BASE_KEY, kid);
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
async function identityRoundTrip(size, n, hwm = 0) {
  const src = source(size);
  const a = new TransformStream({ transform: (f, c) => c.enqueue(f) }, undefined, { highWaterMark: hwm });
  const b = new TransformStream({ transform: (f, c) => c.enqueue(f) }, undefined, { highWaterMark: hwm });
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

/**
 * A projection of the WebCrypto fast path (issue 16) before the core has its split API: the
 * same round trip through two piped TransformStreams with async transforms that do what the
 * transform will do around the core's calls — codec clear part, AAD = header ‖ clear, AES-GCM
 * in WebCrypto under a key from js/webcrypto.js (deriveKey, non-extractable), one join per
 * side. The core's calls are stood in for: the sender's "reserve counter, give header and
 * nonce" by a header of an earlier wasm run and a JS nonce, the receiver's "parse, look up,
 * replay-check" by parseHeader (a real wasm call) and a JS nonce; no commit call.
 */
async function projectedRoundTrip(info, src, n, headers) {
  const base = await crypto.subtle.importKey('raw', BASE_KEY, 'HKDF', false, ['deriveKey', 'deriveBits']);
  const key = await deriveWebCryptoKey(base, 1n, info);
  const nonceFor = (/** @type {number} */ ctr) => {
    const iv = key.salt.slice();
    const v = new DataView(iv.buffer);
    v.setUint32(8, v.getUint32(8) ^ ctr);
    return iv;
  };
  const aadOf = (header, clear) => {
    const a = new Uint8Array(header.length + clear.length);
    a.set(header);
    a.set(clear, header.length);
    return a;
  };
  const headerMax = info.maxOverhead - info.tagLength;
  let i = 0;
  const enc = new TransformStream({
    async transform(frame, c) {
      const data = new Uint8Array(frame.data);
      const cl = clearPrefixLength(codecForMimeType(frame.getMetadata().mimeType), data);
      const clear = data.subarray(0, cl);
      const k = i++ % headers.length;
      const header = headers[k];
      const ct = await webCryptoEncrypt(key, nonceFor(k), aadOf(header, clear), data.subarray(cl));
      const out = new Uint8Array(cl + header.length + ct.byteLength);
      out.set(clear);
      out.set(header, cl);
      out.set(new Uint8Array(ct), cl + header.length);
      frame.data = out.buffer;
      c.enqueue(frame);
    },
  });
  const dec = new TransformStream({
    async transform(frame, c) {
      const data = new Uint8Array(frame.data);
      const cl = clearPrefixLength(codecForMimeType(frame.getMetadata().mimeType), data);
      const clear = data.subarray(0, cl);
      // Only the bytes a header can span go into wasm (maxOverhead - tagLength).
      const { counter, headerLength } = parseHeader(data.subarray(cl, cl + headerMax));
      const header = data.subarray(cl, cl + headerLength);
      const pt = await webCryptoDecrypt(key, nonceFor(Number(counter)), aadOf(header, clear), data.subarray(cl + headerLength));
      const out = new Uint8Array(cl + pt.byteLength);
      out.set(clear);
      out.set(new Uint8Array(pt), cl);
      frame.data = out.buffer;
      c.enqueue(frame);
    },
  });
  const piped = enc.readable.pipeTo(dec.writable).catch(() => {});
  const writer = enc.writable.getWriter();
  const reader = dec.readable.getReader();
  const mime = mimeFor(src.length);
  const frames = Array.from({ length: n }, (_, j) => new BenchFrame(src, mime, j));
  let last = null;
  const t0 = performance.now();
  for (let j = 0; j < n; j++) {
    writer.write(frames[j]).catch(() => {});
    last = (await reader.read()).value;
  }
  const ms = performance.now() - t0;
  if (!equal(new Uint8Array(last.data), src)) throw new Error('projected WebCrypto path: round trip differs');
  await writer.close();
  await piped;
  return (ms * 1000) / n;
}

async function caseJob({ suite, size, n, rounds, verify }) {
  const info = cipherSuiteInfo(suite);
  const src = source(size);
  const api = { SFrameEncrypterStream, SFrameDecrypterStream };
  // Warm-up (JIT, key schedules); the round trip checks every frame here.
  const warm = await wasmCase(suite, src, Math.min(n, 100), 1);
  const headers = warm.sample.slice(0, 256).map((ct) => ct.slice(0, parseHeader(ct).headerLength));
  await webcryptoCase(info, src, Math.min(n, 100), 1, headers);
  await roundTrip(suite, src, Math.min(n, 50), true);
  await identityRoundTrip(size, Math.min(n, 200));
  const projected = isWebCryptoSuite(info);
  if (projected) await projectedRoundTrip(info, src, Math.min(n, 100), headers);
  // Rounds interleave every figure: a burst of load from other jobs on the machine then
  // spoils one round of each rather than every round of one.
  const best = { protectUs: Infinity, unprotectUs: Infinity, encUs: Infinity, decUs: Infinity };
  let [roundTripUs, pipelinedUs, streamsUs, projectedUs] = [Infinity, Infinity, Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    const w = await wasmCase(suite, src, n, 1);
    const wc = await webcryptoCase(info, src, n, 1, headers);
    best.protectUs = Math.min(best.protectUs, w.protectUs);
    best.unprotectUs = Math.min(best.unprotectUs, w.unprotectUs);
    best.encUs = Math.min(best.encUs, wc.encUs);
    best.decUs = Math.min(best.decUs, wc.decUs);
    roundTripUs = Math.min(roundTripUs, await roundTrip(suite, src, n, verify));
    pipelinedUs = Math.min(pipelinedUs, await roundTrip(suite, src, n, verify, api, true));
    streamsUs = Math.min(streamsUs, await identityRoundTrip(size, n));
    if (projected) projectedUs = Math.min(projectedUs, await projectedRoundTrip(info, src, n, headers));
  }
  return {
    suite,
    size,
    mime: mimeFor(size),
    n,
    ...best,
    roundTripUs,
    pipelinedUs,
    streamsUs,
    projectedUs: projected ? projectedUs : null,
  };
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
  await roundTrip(suite, src, 200, true, a, false, mime);
  await roundTrip(suite, src, 200, true, b, false, mime);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first: the second run of a pair collects the first one's garbage.
    const first = r % 2 === 0 ? 'other' : 'current';
    for (const which of first === 'other' ? ['other', 'current'] : ['current', 'other']) {
      const us = await roundTrip(suite, src, n, false, which === 'other' ? b : a, false, mime);
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
    else if (job.kind === 'roundtrip') value = await roundTrip(job.suite, source(job.size), job.n, false);
    else if (job.kind === 'ab') value = await abJob(job);
    else if (job.kind === 'identity') value = await identityRoundTrip(job.size, job.n, job.hwm);
    else if (job.kind === 'vectors') value = await checkVectors(job.vectors);
    else throw new Error(`unknown job ${job.kind}`);
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, error: String(e?.stack ?? e) });
  }
};
self.postMessage({ id: 0, ok: true, value: 'ready' });
