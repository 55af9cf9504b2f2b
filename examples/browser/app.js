// sframe browser demo: a two-peer loopback call (canvas video + synthesized audio) with SFrame
// (sframe-wasm) on each side, key rotation, and a panel showing what a media server (SFU)
// relaying the call sees.
//
// SFrame goes on the senders and receivers through the W3C main-thread API by default:
// `sender.transform = new RTCRtpSFrameEncryptor({ cipherSuite })` and RTCRtpSFrameDecryptor
// (the browser's own where it has them, else the package's polyfill from installPolyfill()).
// Their frames stay in the package's worker; the encryptors are created with the package's
// `observeWire` extension, and the "what the SFU sees" panel draws what takeWireSamples()
// returns: the first bytes of each protected frame as it left the encryptor (clear codec bytes,
// SFrame header, ciphertext: what a media server relaying the call sees). With ?api=script the
// page's own worker (worker.js, which records every frame for the e2e tests) shows the wire as
// the receiver gets it, as does ?receiver=script on the receiving side only.
//
// URL options: ?codec=VP8|H264 (default VP8), ?suite=<cipher suite name>, ?rotate=<seconds>
// (0 = no automatic rotation; default 10), ?api=sframe (default: the main-thread API),
// ?api=script (worker.js through RTCRtpScriptTransform) or ?api=streams (worker.js through
// Chromium's createEncodedStreams()), ?receiver=script (with ?api=sframe: the receiver
// decrypts in worker.js, which shows the wire the main-thread encryptors produce),
// ?kids=shared (reproduces a mistake: audio and video encryptors given the same key and KID;
// the package refuses the second one with "key_in_use" — see the log), ?sei=1 (H.264: the
// sender inserts an SEI user-data NAL unit, as captions would be, before each frame's first
// slice; its payload is encrypted like the slice data; needs the sender in worker.js).
//
// KIDs: one per sending track (common.js: track << 10 | participant << 4 | generation mod 16),
// all tracks of a generation under one base key; the key generation goes up at each rotation.
import { installPolyfill } from '/sframe-wasm/js/index.js';
import { kidOf, startSource, keepResolution, preferCodec, apiSide, workerSide, newKey, pixels, inboundStats } from './common.js';

const params = new URLSearchParams(location.search);
const codec = (params.get('codec') ?? 'VP8').toUpperCase();
const cipherSuite = params.get('suite') ?? 'AES_128_GCM_SHA256_128';
const rotateEvery = Number(params.get('rotate') ?? 10);
const api = ['script', 'streams'].includes(params.get('api')) ? params.get('api') : 'sframe';
const receiverApi = api === 'sframe' && params.get('receiver') === 'script' ? 'script' : api;
const sharedKid = params.get('kids') === 'shared';
const withSei = params.get('sei') === '1';

const PARTICIPANT = 1; // this page's sender: 0 .. 2^S - 1
/** KIDs of every track of this page's sender in a generation (the mistake: one for all). */
function kidsOf(generation) {
  const video = kidOf(generation, 'video', PARTICIPANT);
  return { audio: sharedKid ? video : kidOf(generation, 'audio', PARTICIPANT), video };
}

const $ = (id) => document.getElementById(id);
const log = (msg) => {
  const line = `${new Date().toISOString().slice(11, 19)} ${msg}`;
  $('log').textContent = `${line}\n${$('log').textContent}`.slice(0, 4000);
};

// ---- Source: an animated canvas and a synthesized tone ------------------------------------
const src = $('source');
const stream = startSource(src);

// ---- Encrypters, decryptors and keys ------------------------------------------------------
installPolyfill(); // RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor where the browser lacks them
const sideOf = (name, role, sideApi) =>
  sideApi === 'sframe'
    ? apiSide(role, { cipherSuite, observe: role === 'encrypt', log })
    : workerSide(name, role, { api: sideApi, cipherSuite, sei: withSei, log });
const senderSide = sideOf('sender', 'encrypt', api);
const receiverSide = sideOf('receiver', 'decrypt', receiverApi);
if (withSei && api === 'sframe') log('?sei=1 needs the sender in worker.js: add ?api=script');

const showKids = (k) => `audio ${k.audio}, video ${k.video}`;
let generation = 0;
const keysByGeneration = new Map();
async function installKey(newGeneration, key) {
  keysByGeneration.set(newGeneration, key);
  const kids = kidsOf(newGeneration);
  // Receiver first (it accepts the new KIDs alongside the old), then the sender switches.
  await receiverSide.key({ generation: newGeneration, kids, key });
  await senderSide.key({ generation: newGeneration, kids, key, current: true });
  const old = generation;
  generation = newGeneration;
  $('kid').textContent = showKids(kids);
  if (old !== newGeneration && keysByGeneration.has(old)) {
    // Frames under the old key may still be in flight for a moment.
    setTimeout(() => {
      keysByGeneration.delete(old);
      receiverSide.removeKey(old);
    }, 2000);
  }
}

async function rotate() {
  await installKey(generation + 1, await newKey());
  log(`rotated to generation ${generation}: KIDs ${showKids(kidsOf(generation))}`);
}

/** Test / demo hooks for the receiver's copy of the current key (all tracks' KIDs). */
async function receiverKey(mode) {
  const kids = kidsOf(generation);
  if (mode === 'wrong') {
    await receiverSide.key({ generation, kids, key: await newKey() });
    log(`receiver: WRONG key for KIDs ${showKids(kids)}`);
  } else if (mode === 'remove') {
    await receiverSide.removeKey(generation);
    log(`receiver: no key for KIDs ${showKids(kids)}`);
  } else {
    await receiverSide.key({ generation, kids, key: keysByGeneration.get(generation) });
    log(`receiver: right key for KIDs ${showKids(kids)}`);
  }
}

// ---- The call -----------------------------------------------------------------------------
const pcConfig = api === 'streams' ? { encodedInsertableStreams: true } : {};
const pc1 = new RTCPeerConnection(pcConfig);
const pc2 = new RTCPeerConnection(pcConfig);

pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);

for (const track of stream.getTracks()) {
  const sender = pc1.addTrack(track, stream);
  senderSide.attach(sender, track.kind);
}
for (const tr of pc1.getTransceivers()) {
  if (tr.sender.track?.kind !== 'video') continue;
  keepResolution(tr.sender, log);
  // Debian's Firefox, for one, has no H.264 (no OpenH264 plugin): the browser's default it is.
  if (!preferCodec(tr, codec)) log(`${codec} is not offered by this browser: the call uses its default video codec`);
}

const remote = new MediaStream();
pc2.ontrack = (e) => {
  receiverSide.attach(e.receiver, e.track.kind);
  remote.addTrack(e.track);
  $('remote').srcObject = remote;
};

const API_NAMES = {
  sframe: 'RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor',
  script: 'worker.js via RTCRtpScriptTransform',
  streams: 'worker.js via createEncodedStreams()',
};

async function connect() {
  await installKey(1, await newKey());
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  log(
    `call up: ${codec}, ${cipherSuite}, ${API_NAMES[api]}` +
      `${receiverApi !== api ? ` (receiver: ${API_NAMES[receiverApi]})` : ''}, ` +
      `KIDs ${showKids(kidsOf(generation))}${sharedKid ? ' (shared on purpose: expect "key_in_use")' : ''}`,
  );
}

// ---- Stats and the SFU panel --------------------------------------------------------------
const stats = () => inboundStats(pc2);

const sfu = $('sfu');
const sg = sfu.getContext('2d');
function drawSfu(w) {
  if (!w) return;
  // The relayed frame's bytes as pixels: ciphertext looks like noise; only the header and
  // the codec's clear bytes mean anything to the SFU.
  const img = sg.createImageData(sfu.width, sfu.height);
  const b = w.bytes;
  for (let i = 0; i < img.data.length / 4; i++) {
    const v = b.length ? b[i % b.length] : 0;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  sg.putImageData(img, 0, 0);
  const hexRow = (from, to) =>
    Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, '0')).join(' ');
  $('sfu-info').textContent =
    `${w.mimeType ?? ''} ${w.type ?? ''} frame, ${w.size} bytes\n` +
    `clear codec bytes (${w.clear ?? '?'}): ${hexRow(0, w.clear ?? 0)}\n` +
    `SFrame header: KID ${w.keyId ?? '?'}  CTR ${w.counter ?? '?'}  [${hexRow(w.clear ?? 0, (w.clear ?? 0) + (w.headerLength ?? 0))}]` +
    `  (KIDs on the wire: ${w.kids ?? '?'})\n` +
    `ciphertext: ${hexRow((w.clear ?? 0) + (w.headerLength ?? 0), (w.clear ?? 0) + (w.headerLength ?? 0) + 24)} …\n` +
    (w.source ?? '');
}

async function report(evidence = false) {
  const [s, r] = await Promise.all([senderSide.report(evidence), receiverSide.report(evidence)]);
  return { sender: s, receiver: r, stats: await stats() };
}

const run = (r) => (r ? `${r.errorType} KID ${r.keyID ?? '–'} ×${r.count}` : '–');
const sum = (list, f) => list.reduce((n, x) => n + (f(x) ?? 0), 0);

/** The receiver's decryptors' getStats(): frames / bytes, failures, error runs, key wait, keys. */
function decryptorStats(receiver) {
  return receiver.transforms
    .filter((t) => t.role === 'decrypt')
    .map((t) => {
      const drops = t.droppedFromBuffer ?? {};
      const keys = (t.keys ?? []).map((k) => `${k.keyID}: ${k.frames} ok, ${k.authenticationFailures} auth ✗, CTR ≤ ${k.highestCounter ?? '–'}`);
      return (
        `${t.kind} decryptor: frames ${t.frames} in / ${t.framesOut} out, ${t.bytesIn} / ${t.bytesOut} bytes, replayed ${t.replayed}\n` +
        `  failures: authentication ${t.failures.authentication}, keyID ${t.failures.keyID}, syntax ${t.failures.syntax}` +
        ` — error events ${t.errorEvents ?? '–'} (+${t.errorsSuppressed ?? '–'} folded into runs)\n` +
        `  error run now: ${run(t.currentErrorRun)}; last ended: ${run(t.lastErrorRun)}\n` +
        `  keyWait: buffered ${t.buffered ?? 0}, released ${t.releasedFromBuffer ?? 0}, dropped ` +
        `${sum(Object.keys(drops), (k) => drops[k])} (${Object.entries(drops).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})\n` +
        `  keys: ${keys.join('; ') || 'none'}`
      );
    })
    .join('\n');
}

async function refresh() {
  try {
    const { sender, receiver, stats: st } = await report();
    // The wire: as the receiver's worker got it (?api=script, ?receiver=script), else as the
    // encryptors put it out (observeWire).
    const wireSide = receiver.headers ? receiver : sender.headers ? sender : null;
    const w = wireSide?.lastWire;
    if (w) {
      w.kids = Object.entries(wireSide.headers.perKid)
        .map(([k, n]) => `${k} ×${n} ${wireSide.headers.kinds[k].join('+')}`)
        .join(', ');
      w.source =
        wireSide === receiver
          ? `(as received, in worker.js: ${receiver.headers.frames} SFrame headers, ${receiver.headers.duplicates.length} reused (KID, CTR))`
          : `(as sent: RTCRtpSFrameEncryptor observeWire, ${sender.headers.frames} frames sampled, ` +
            `${sender.headers.unparsed} without a header, ${sender.headers.notIncreasing} counters not increasing)`;
      drawSfu(w);
    } else if (!wireSide) {
      $('sfu-info').textContent = 'no wire view on this path';
    }
    const recent = (receiver.recentErrors ?? receiver.errorLog?.slice(-4).reverse() ?? [])
      .map((e) => `  ${e.kind} ${e.errorType} (${e.code}) KID ${e.keyID}; run before: ${run(e.previousRun)}`)
      .join('\n');
    $('stats').textContent =
      `codec: ${st.video.codec ?? w?.mimeType ?? '?'} + ${st.audio.codec ?? '?'}, ${cipherSuite}\n` +
      `video: framesDecoded ${st.video.framesDecoded ?? 0}, ` +
      `keyFrames ${st.video.keyFramesDecoded ?? 0}, PLIs ${st.video.pliCount ?? 0}\n` +
      `audio: decoded samples ${st.audio.decodedSamples ?? 0}, concealed ${st.audio.concealedSamples ?? 0}\n` +
      `error events (one per run of identical failures):\n${recent || '  none'}\n` +
      decryptorStats(receiver);
  } catch (e) {
    log(`stats: ${e}`);
  }
}
setInterval(refresh, 500);

$('rotate').onclick = rotate;
$('wrong').onclick = () => receiverKey('wrong');
$('remove').onclick = () => receiverKey('remove');
$('restore').onclick = () => receiverKey('right');
if (rotateEvery > 0) setInterval(rotate, rotateEvery * 1000);

// Hooks for the e2e test (sframe-wasm/e2e) and the console.
window.demo = {
  ready: connect().then(() => true),
  stats,
  report,
  rotate,
  receiverKey,
  resetEvidence: () => Promise.all([senderSide.resetEvidence(), receiverSide.resetEvidence()]),
  api: { sender: api, receiver: receiverApi },
  /** The current key generation and its KIDs by track kind. */
  get generation() {
    return generation;
  },
  get kids() {
    return kidsOf(generation);
  },
  kidOf: (generation, kind, participant = PARTICIPANT) => kidOf(generation, kind, participant),
  pictures: () => ({ source: pixels(src), remote: pixels($('remote')), sfu: pixels(sfu) }),
  /** The text of the SFU panel and of the receiver's statistics, as shown. */
  panels: () => ({ sfu: $('sfu-info').textContent, stats: $('stats').textContent }),
  state: () => ({ pc1: pc1.connectionState, pc2: pc2.connectionState, log: $('log').textContent }),
};
