// What the demo page (app.js) and the cross-browser call page (peer.js) share: the media source
// (an animated canvas and a synthesized tone), the KID scheme, a small request/reply channel to
// the transform workers (worker.js), and a picture probe for the e2e tests.

// ---- KIDs ---------------------------------------------------------------------------------
// One per sending track, with the scheme of sframe-wasm/README.md (the RFC 9605 §5.2 MLS KID
// layout with the track as its context field, S = 6 participant bits, E = 4 generation bits):
//   KID = track << (S + E) | participant << E | key generation mod 2^E
// track 0 = audio, 1 = video (2 = screen share). The key generation goes up at each rotation.
// All tracks of a participant's generation share one base key: RFC 9605 §4.4.2 derives each
// KID's key and salt from base key + KID, so every track gets its own key and counter space.
export const TRACK = { audio: 0, video: 1, screen: 2 };
const S = 6;
const E = 4;

/** The KID of a participant's track in a key generation. */
export function kidOf(generation, kind, participant) {
  return TRACK[kind] * 2 ** (S + E) + participant * 2 ** E + (generation % 2 ** E);
}

// ---- Source: an animated canvas and a synthesized tone ------------------------------------
/** Starts drawing on `canvas` and a 440 Hz tone; returns their MediaStream (video + audio). */
export function startSource(canvas, title = 'SFrame E2EE') {
  const g = canvas.getContext('2d');
  let tick = 0;
  function draw() {
    tick++;
    const t = performance.now() / 1000;
    const grad = g.createLinearGradient(0, 0, canvas.width, canvas.height);
    grad.addColorStop(0, `hsl(${(t * 40) % 360} 70% 45%)`);
    grad.addColorStop(1, `hsl(${(t * 40 + 120) % 360} 70% 30%)`);
    g.fillStyle = grad;
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(canvas.width / 2 + Math.cos(t * 2) * 200, canvas.height / 2 + Math.sin(t * 3) * 100, 40, 0, Math.PI * 2);
    g.fill();
    g.font = 'bold 44px sans-serif';
    g.fillText(title, 30, 70);
    g.font = '28px monospace';
    g.fillText(`frame ${tick}  ${new Date().toISOString().slice(11, 22)}`, 30, canvas.height - 30);
  }
  setInterval(draw, 1000 / 30);
  draw();

  const audioCtx = new AudioContext();
  const osc = audioCtx.createOscillator();
  const lfo = audioCtx.createOscillator();
  const gain = audioCtx.createGain();
  osc.frequency.value = 440;
  lfo.frequency.value = 2;
  lfo.connect(gain.gain);
  osc.connect(gain);
  const dest = audioCtx.createMediaStreamDestination();
  gain.connect(dest);
  osc.start();
  lfo.start();

  return new MediaStream([...canvas.captureStream(30).getVideoTracks(), ...dest.stream.getAudioTracks()]);
}

/**
 * Full-size video from the first frame: Firefox otherwise starts a 640x360 canvas at 320x180
 * and scales up as its bandwidth estimate grows (over ~10 s on loopback).
 */
export async function keepResolution(sender, log = console.warn) {
  const p = sender.getParameters();
  p.degradationPreference = 'maintain-resolution';
  await sender.setParameters(p).catch((e) => log(`degradationPreference: ${e}`));
}

/** Puts `codec` ("VP8", "H264") first on a video transceiver; false if the browser lacks it. */
export function preferCodec(transceiver, codec) {
  const codecs = RTCRtpReceiver.getCapabilities('video').codecs;
  const wanted = `video/${codec}`.toUpperCase();
  const preferred = codecs.filter((c) => c.mimeType.toUpperCase() === wanted);
  if (!preferred.length) return false;
  transceiver.setCodecPreferences([...preferred, ...codecs.filter((c) => !preferred.includes(c))]);
  return true;
}

// ---- Workers ------------------------------------------------------------------------------
/**
 * A transform worker (worker.js) and ask(msg) → its reply. `onError` gets worker errors.
 */
export function transformWorker(name, onError = console.error) {
  const worker = new Worker('/examples/browser/worker.js', { type: 'module', name });
  let nextId = 0;
  const waiting = new Map();
  worker.onmessage = ({ data }) => {
    const done = waiting.get(data.id);
    waiting.delete(data.id);
    done?.(data);
  };
  worker.onerror = (e) => onError(`${name} worker error: ${e.message}`);
  function ask(msg, transfer = []) {
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      worker.postMessage({ ...msg, id }, transfer);
    });
  }
  return { worker, ask };
}

// ---- The two ways of putting SFrame on a sender / receiver --------------------------------
// A "side" is every encryptor (role "encrypt") or every decryptor ("decrypt") of one peer, with
// one interface for the page: attach(senderOrReceiver, kind) (→ promise: keys in force), key({ generation, kids, key,
// current }) → { error?, code? }, removeKey(generation), report(evidence), resetEvidence().
// Keys arrive per generation with one KID per track kind; an encryptor uses the current
// generation's KID of its kind, a decryptor adds every generation's key under its kind's KID.

/**
 * The W3C main-thread API: `sender.transform = new RTCRtpSFrameEncryptor({ cipherSuite })`,
 * `receiver.transform = new RTCRtpSFrameDecryptor({ cipherSuite })` (the browser's own, or the
 * package's polyfill: installPolyfill() first). The frames go through the package's worker,
 * out of the page's reach: report() has what the main thread sees — key refusals, decryptor
 * "error" events (one per run of identical failures, with `previousRun`), getStats().
 * With `observe` (encryptors), each is created with the package's `observeWire` extension and
 * report() also has the wire as the SFU sees it, from `takeWireSamples()`: `headers` (SFrame
 * headers per KID, counters that did not increase) and `lastWire` (the last video frame's
 * first bytes), as workerSide reports them.
 */
export function apiSide(role, { cipherSuite, observe = false, log = console.warn }) {
  const transforms = []; // { t, kind }
  const generations = new Map(); // generation → { key, kids }
  let current = null;
  const errorLog = []; // first few decryptor error events: kind, errorType, code, KID
  const errorCodes = {}; // "kind/code" → events
  const keyErrors = []; // refused key calls: kind, role, KID, code (the SFrameError's)
  const recentErrors = []; // the last few error events, newest first, with their previousRun
  // The wire, from the encryptors' observeWire samples (observe only).
  const headers = { frames: 0, unparsed: 0, missed: 0, perKid: {}, kinds: {}, lastCounter: {}, notIncreasing: 0 };
  let lastWire = null;
  const runOf = (r) => (r ? { errorType: r.errorType, keyID: r.keyID === null ? null : String(r.keyID), count: r.count } : null);

  /** Takes an encryptor's wire samples into `headers` / `lastWire`. */
  async function takeWire(t, kind) {
    const { samples, missed } = await t.takeWireSamples();
    headers.missed += missed;
    for (const w of samples) {
      headers.frames++;
      if (w.keyID === null) {
        headers.unparsed++;
        continue;
      }
      const kid = String(w.keyID);
      headers.perKid[kid] = (headers.perKid[kid] ?? 0) + 1;
      (headers.kinds[kid] ??= []).includes(kind) || headers.kinds[kid].push(kind);
      // Each encryptor's counter goes up frame by frame under a KID: never down, never twice.
      const before = headers.lastCounter[kid];
      if (before !== undefined && BigInt(before) >= w.counter) headers.notIncreasing++;
      headers.lastCounter[kid] = String(w.counter);
      if (kind === 'video') {
        lastWire = {
          size: w.size,
          type: w.type,
          mimeType: w.mimeType,
          keyId: kid,
          counter: String(w.counter),
          headerLength: w.headerLength,
          clear: w.clear,
          bytes: w.bytes,
        };
      }
    }
  }

  async function apply(t, kind, generation) {
    const g = generations.get(generation);
    const kid = g?.kids[kind];
    if (kid === undefined) return;
    try {
      if (role === 'encrypt') {
        if (generation === current) await t.setEncryptionKey(g.key, kid);
      } else {
        await t.addDecryptionKey(g.key, kid);
      }
    } catch (e) {
      // InvalidModificationError whose cause is the SFrameError (e.g. code "key_in_use").
      keyErrors.push({ kind, role, kid: String(kid), name: e?.name, code: e?.cause?.code ?? e?.name });
      throw e;
    }
  }

  return {
    api: 'sframe',
    attach(senderOrReceiver, kind) {
      const t =
        role === 'encrypt'
          ? new RTCRtpSFrameEncryptor({ cipherSuite, ...(observe ? { observeWire: { frames: 64, bytes: 4096 } } : {}) })
          : new RTCRtpSFrameDecryptor({ cipherSuite });
      if (role === 'decrypt') {
        // One event per run of identical failures: frames are counted in getStats().
        t.onerror = (e) => {
          errorCodes[`${kind}/${e.code}`] = (errorCodes[`${kind}/${e.code}`] ?? 0) + 1;
          const entry = { kind, errorType: e.errorType, code: e.code, keyID: String(e.keyID), previousRun: runOf(e.previousRun) };
          if (errorLog.length < 20) errorLog.push(entry);
          recentErrors.unshift(entry);
          recentErrors.length = Math.min(recentErrors.length, 4);
        };
      }
      senderOrReceiver.transform = t;
      transforms.push({ t, kind });
      // Resolves when the keys given so far are in force (a frame that reaches the transform
      // earlier: an encryptor drops it, counted as droppedNoKey; a decryptor keeps it until
      // the key comes, within its keyWait bounds).
      return Promise.all([...generations.keys()].map((g) => apply(t, kind, g).catch(() => {})));
    },
    async key({ generation, kids, key, current: isCurrent }) {
      generations.set(generation, { key, kids });
      if (isCurrent) current = generation;
      try {
        await Promise.all(transforms.map(({ t, kind }) => apply(t, kind, generation)));
        return {};
      } catch (e) {
        log(`${role}: key refused: ${e?.cause?.code ?? ''} ${e}`);
        return { error: String(e), code: e?.cause?.code ?? e?.name };
      }
    },
    async removeKey(generation) {
      const g = generations.get(generation);
      generations.delete(generation);
      if (!g || role !== 'decrypt') return;
      await Promise.all(
        transforms.filter(({ kind }) => g.kids[kind] !== undefined).map(({ t, kind }) => t.removeDecryptionKey(g.kids[kind])),
      );
    },
    async report() {
      const stats = await Promise.all(transforms.map(async ({ t, kind }) => ({ kind, role, ...(await t.getStats()) })));
      if (observe && role === 'encrypt') await Promise.all(transforms.map(({ t, kind }) => takeWire(t, kind)));
      const errors = { authentication: 0, keyID: 0, syntax: 0 };
      for (const s of stats) for (const k of Object.keys(errors)) errors[k] += s.failures[k];
      return {
        api: 'sframe',
        errors,
        errorLog,
        recentErrors,
        ...(observe && role === 'encrypt'
          ? { headers: structuredClone(headers), lastWire, wireKids: Object.keys(headers.perKid) }
          : {}),
        errorCodes: { ...errorCodes },
        keyErrors,
        // Key IDs in the stats are bigints: strings, for postMessage-free JSON consumers.
        transforms: JSON.parse(JSON.stringify(stats, (_, v) => (typeof v === 'bigint' ? String(v) : v))),
      };
    },
    async resetEvidence() {},
  };
}

/**
 * The page's own worker (worker.js), through RTCRtpScriptTransform (api "script") or
 * Chromium's createEncodedStreams() (api "streams"): SFrameTransform there, plus the evidence
 * the e2e tests check — every SFrame header on the wire, plaintext / wire / decrypted bytes by
 * (KID, CTR), H.264 SEI insertion (options.sei) — in report().
 */
export function workerSide(name, role, { api = 'script', cipherSuite, sei = false, log = console.warn }) {
  const w = transformWorker(name, log);
  return {
    api,
    worker: w.worker,
    attach(senderOrReceiver, kind) {
      const options = { role, kind, cipherSuite, sei };
      if (api === 'streams') {
        if (!senderOrReceiver.createEncodedStreams) {
          log('?api=streams: this browser has no createEncodedStreams() (Chromium only)');
          throw new Error('no createEncodedStreams()');
        }
        const { readable, writable } = senderOrReceiver.createEncodedStreams();
        w.worker.postMessage({ type: 'streams', readable, writable, options, id: -1 }, [readable, writable]);
      } else {
        senderOrReceiver.transform = new RTCRtpScriptTransform(w.worker, options);
      }
    },
    async key(msg) {
      const r = await w.ask({ type: 'key', ...msg });
      if (r?.error) log(`${name}: key refused: ${r.code ?? ''} ${r.error}`);
      return r;
    },
    removeKey: (generation) => w.ask({ type: 'removeKey', generation }),
    report: (evidence = false) => w.ask({ type: 'report', evidence }),
    resetEvidence: () => w.ask({ type: 'resetEvidence' }),
  };
}

/**
 * A base key imported as a non-extractable HKDF key: it never leaves WebCrypto. With
 * "deriveKey" too, the AES-GCM key is derived inside WebCrypto as well (no AES key byte in JS
 * or wasm memory; every frame through WebCrypto's AES-GCM).
 */
export function importKey(raw) {
  return crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits', 'deriveKey']);
}

/** A fresh random base key (16 bytes), non-extractable. */
export function newKey() {
  return importKey(crypto.getRandomValues(new Uint8Array(16)));
}

// ---- Probes for the e2e tests -------------------------------------------------------------
/** Mean and spread of an element's pixels (a blank or black video has spread ~0). */
export function pixels(el) {
  const w = el.videoWidth ?? el.width;
  const h = el.videoHeight ?? el.height;
  if (!w || !h) return { width: 0, height: 0, mean: 0, spread: 0 };
  const c = new OffscreenCanvas(64, 36);
  const cx = c.getContext('2d');
  cx.drawImage(el, 0, 0, 64, 36);
  const d = cx.getImageData(0, 0, 64, 36).data;
  let sum = 0;
  let sq = 0;
  const n = d.length / 4;
  for (let i = 0; i < d.length; i += 4) {
    const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
    sum += y;
    sq += y * y;
  }
  const mean = sum / n;
  return { width: w, height: h, mean, spread: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

/** The receiving side's RTP statistics by track kind, with the video codec's MIME type. */
export async function inboundStats(pc) {
  const out = { video: {}, audio: {} };
  const report = await pc.getStats();
  for (const s of report.values()) {
    if (s.type === 'inbound-rtp') {
      out[s.kind] = {
        framesDecoded: s.framesDecoded,
        keyFramesDecoded: s.keyFramesDecoded,
        framesReceived: s.framesReceived,
        packetsReceived: s.packetsReceived,
        totalSamplesReceived: s.totalSamplesReceived,
        concealedSamples: s.concealedSamples,
        // Samples that came from decoded audio rather than concealment.
        decodedSamples:
          s.totalSamplesReceived !== undefined ? s.totalSamplesReceived - (s.concealedSamples ?? 0) : undefined,
        pliCount: s.pliCount,
        codecId: s.codecId,
      };
    }
  }
  for (const s of report.values()) {
    if (s.type === 'codec' && s.id === out.video.codecId) out.video.codec = s.mimeType;
    if (s.type === 'codec' && s.id === out.audio.codecId) out.audio.codec = s.mimeType;
  }
  return out;
}
