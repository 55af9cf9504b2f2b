// sframe browser demo: a two-peer loopback call (canvas video + synthesized audio) with SFrame
// (sframe-wasm) in an RTCRtpScriptTransform worker on each side, key rotation, and a panel
// showing what a media server (SFU) relaying the call sees.
//
// URL options: ?codec=VP8|H264 (default VP8), ?suite=<cipher suite name>, ?rotate=<seconds>
// (0 = no automatic rotation; default 10), ?api=script (RTCRtpScriptTransform, default) or
// ?api=streams (Chromium's createEncodedStreams(), streams transferred to the same workers),
// ?kids=shared (reproduces a mistake: audio and video encrypters given the same key and KID;
// the package refuses the second one with "key_in_use" — see the log), ?sei=1 (H.264: the
// sender inserts an SEI user-data NAL unit, as captions would be, before each frame's first
// slice; its payload is encrypted like the slice data).
//
// KIDs: one per sending track, with the scheme of sframe-wasm/README.md (the RFC 9605 §5.2 MLS
// KID layout with the track as its context field, S = 6 participant bits, E = 4 generation bits):
//   KID = track << (S + E) | participant << E | key generation mod 2^E
// track 0 = audio, 1 = video (2 = screen share). The key generation goes up at each rotation.
// All tracks of a generation share one base key: RFC 9605 §4.4.2 derives each KID's key and
// salt from base key + KID, so every track gets its own key and its own counter space.
const params = new URLSearchParams(location.search);
const codec = (params.get('codec') ?? 'VP8').toUpperCase();
const cipherSuite = params.get('suite') ?? 'AES_128_GCM_SHA256_128';
const rotateEvery = Number(params.get('rotate') ?? 10);
const api = params.get('api') === 'streams' ? 'streams' : 'script';
const sharedKid = params.get('kids') === 'shared';
const withSei = params.get('sei') === '1';

const PARTICIPANT = 1; // this page's sender: 0 .. 2^S - 1
const TRACK = { audio: 0, video: 1, screen: 2 };
const S = 6;
const E = 4;
/** The KID of a participant's track in a key generation. */
function kidOf(generation, kind, participant = PARTICIPANT) {
  return TRACK[kind] * 2 ** (S + E) + participant * 2 ** E + (generation % 2 ** E);
}
/** KIDs of every track of this page's sender in a generation (the mistake: one for all). */
function kidsOf(generation) {
  if (sharedKid) return { audio: kidOf(generation, 'video'), video: kidOf(generation, 'video') };
  return { audio: kidOf(generation, 'audio'), video: kidOf(generation, 'video') };
}

const $ = (id) => document.getElementById(id);
const log = (msg) => {
  const line = `${new Date().toISOString().slice(11, 19)} ${msg}`;
  $('log').textContent = `${line}\n${$('log').textContent}`.slice(0, 4000);
};

// ---- Source: an animated canvas and a synthesized tone ------------------------------------
const src = $('source');
const g = src.getContext('2d');
let tick = 0;
function draw() {
  tick++;
  const t = performance.now() / 1000;
  const grad = g.createLinearGradient(0, 0, src.width, src.height);
  grad.addColorStop(0, `hsl(${(t * 40) % 360} 70% 45%)`);
  grad.addColorStop(1, `hsl(${(t * 40 + 120) % 360} 70% 30%)`);
  g.fillStyle = grad;
  g.fillRect(0, 0, src.width, src.height);
  g.fillStyle = '#fff';
  g.beginPath();
  g.arc(src.width / 2 + Math.cos(t * 2) * 200, src.height / 2 + Math.sin(t * 3) * 100, 40, 0, Math.PI * 2);
  g.fill();
  g.font = 'bold 44px sans-serif';
  g.fillText('SFrame E2EE', 30, 70);
  g.font = '28px monospace';
  g.fillText(`frame ${tick}  ${new Date().toISOString().slice(11, 22)}`, 30, src.height - 30);
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

const stream = new MediaStream([...src.captureStream(30).getVideoTracks(), ...dest.stream.getAudioTracks()]);

// ---- Workers and keys ---------------------------------------------------------------------
const senderWorker = new Worker('/examples/browser/worker.js', { type: 'module', name: 'sender' });
const receiverWorker = new Worker('/examples/browser/worker.js', { type: 'module', name: 'receiver' });
let nextId = 0;
const waiting = new Map();
for (const w of [senderWorker, receiverWorker]) {
  w.onmessage = ({ data }) => {
    const done = waiting.get(data.id);
    waiting.delete(data.id);
    done?.(data);
  };
  w.onerror = (e) => log(`worker error: ${e.message}`);
}
function ask(worker, msg) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ ...msg, id });
  });
}

/** A fresh base key, imported as a non-extractable HKDF key: it never leaves WebCrypto. */
async function newKey() {
  const raw = crypto.getRandomValues(new Uint8Array(16));
  return crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits']);
}

const showKids = (k) => `audio ${k.audio}, video ${k.video}`;
/** Logs a worker's refusal of a key (e.g. "key_in_use"); returns the reply. */
function checked(who, reply) {
  if (reply?.error) log(`${who}: key refused: ${reply.code ?? ''} ${reply.error}`);
  return reply;
}

let generation = 0;
const keysByGeneration = new Map();
async function installKey(newGeneration, key) {
  keysByGeneration.set(newGeneration, key);
  const kids = kidsOf(newGeneration);
  // Receiver first (it accepts the new KIDs alongside the old), then the sender switches.
  checked('receiver', await ask(receiverWorker, { type: 'key', generation: newGeneration, kids, key }));
  checked('sender', await ask(senderWorker, { type: 'key', generation: newGeneration, kids, key, current: true }));
  const old = generation;
  generation = newGeneration;
  $('kid').textContent = showKids(kids);
  if (old !== newGeneration && keysByGeneration.has(old)) {
    // Frames under the old key may still be in flight for a moment.
    setTimeout(() => {
      keysByGeneration.delete(old);
      ask(receiverWorker, { type: 'removeKey', generation: old });
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
    await ask(receiverWorker, { type: 'key', generation, kids, key: await newKey() });
    log(`receiver: WRONG key for KIDs ${showKids(kids)}`);
  } else if (mode === 'remove') {
    await ask(receiverWorker, { type: 'removeKey', generation });
    log(`receiver: no key for KIDs ${showKids(kids)}`);
  } else {
    await ask(receiverWorker, { type: 'key', generation, kids, key: keysByGeneration.get(generation) });
    log(`receiver: right key for KIDs ${showKids(kids)}`);
  }
}

// ---- The call -----------------------------------------------------------------------------
const pcConfig = api === 'streams' ? { encodedInsertableStreams: true } : {};
const pc1 = new RTCPeerConnection(pcConfig);
const pc2 = new RTCPeerConnection(pcConfig);

/** Puts our SFrameTransform on a sender or receiver, through the chosen API. */
function attachTransform(senderOrReceiver, worker, options) {
  if (api === 'streams') {
    if (!senderOrReceiver.createEncodedStreams) {
      log('?api=streams: this browser has no createEncodedStreams() (Chromium only)');
      throw new Error('no createEncodedStreams()');
    }
    const { readable, writable } = senderOrReceiver.createEncodedStreams();
    worker.postMessage({ type: 'streams', readable, writable, options, id: -1 }, [readable, writable]);
  } else {
    senderOrReceiver.transform = new RTCRtpScriptTransform(worker, options);
  }
}
pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);

for (const track of stream.getTracks()) {
  const sender = pc1.addTrack(track, stream);
  attachTransform(sender, senderWorker, { role: 'encrypt', kind: track.kind, cipherSuite, sei: withSei });
  if (track.kind === 'video') keepResolution(sender);
}
/**
 * Full-size video from the first frame: Firefox otherwise starts a 640x360 canvas at 320x180
 * and scales up as its bandwidth estimate grows (over ~10 s on loopback).
 */
async function keepResolution(sender) {
  const p = sender.getParameters();
  p.degradationPreference = 'maintain-resolution';
  await sender.setParameters(p).catch((e) => log(`degradationPreference: ${e}`));
}
const wanted = `video/${codec}`;
for (const tr of pc1.getTransceivers()) {
  if (tr.sender.track?.kind !== 'video') continue;
  const codecs = RTCRtpReceiver.getCapabilities('video').codecs;
  const preferred = codecs.filter((c) => c.mimeType.toUpperCase() === wanted.toUpperCase());
  if (preferred.length) tr.setCodecPreferences([...preferred, ...codecs.filter((c) => !preferred.includes(c))]);
  // Debian's Firefox, for one, has no H.264 (no OpenH264 plugin): the browser's default it is.
  else log(`${codec} is not offered by this browser: the call uses its default video codec`);
}

const remote = new MediaStream();
pc2.ontrack = (e) => {
  attachTransform(e.receiver, receiverWorker, { role: 'decrypt', kind: e.track.kind, cipherSuite });
  remote.addTrack(e.track);
  $('remote').srcObject = remote;
};

async function connect() {
  await installKey(1, await newKey());
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription);
  log(
    `call up: ${codec}, ${cipherSuite}, ${api === 'streams' ? 'createEncodedStreams' : 'RTCRtpScriptTransform'}, ` +
      `KIDs ${showKids(kidsOf(generation))}${sharedKid ? ' (shared on purpose: expect "key_in_use")' : ''}`,
  );
}

// ---- Stats and the SFU panel --------------------------------------------------------------
async function stats() {
  const out = { video: {}, audio: {} };
  for (const s of (await pc2.getStats()).values()) {
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
  for (const s of (await pc2.getStats()).values()) {
    if (s.type === 'codec' && s.id === out.video.codecId) out.video.codec = s.mimeType;
  }
  return out;
}

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
    `${w.type ?? ''} frame, ${w.size} bytes\n` +
    `clear codec bytes (${w.clear ?? '?'}): ${hexRow(0, w.clear ?? 0)}\n` +
    `SFrame header: KID ${w.keyId ?? '?'}  CTR ${w.counter ?? '?'}  (KIDs on the wire: ${w.kids ?? '?'})\n` +
    `ciphertext: ${hexRow(w.clear ?? 0, (w.clear ?? 0) + 24)} …`;
}

async function report(evidence = false) {
  const [s, r] = await Promise.all([
    ask(senderWorker, { type: 'report', evidence }),
    ask(receiverWorker, { type: 'report', evidence }),
  ]);
  return { sender: s, receiver: r, stats: await stats() };
}

async function refresh() {
  try {
    const { receiver, stats: st } = await report();
    if (receiver.lastWire) {
      receiver.lastWire.kids = Object.entries(receiver.headers.perKid)
        .map(([k, n]) => `${k} ×${n} ${receiver.headers.kinds[k].join('+')}`)
        .join(', ');
    }
    drawSfu(receiver.lastWire);
    $('stats').textContent =
      `video ${st.video.codec ?? ''}: framesDecoded ${st.video.framesDecoded ?? 0}, ` +
      `keyFrames ${st.video.keyFramesDecoded ?? 0}, PLIs ${st.video.pliCount ?? 0}\n` +
      `audio: decoded samples ${st.audio.decodedSamples ?? 0}, concealed ${st.audio.concealedSamples ?? 0}\n` +
      `receiver errors: authentication ${receiver.errors.authentication}, keyID ${receiver.errors.keyID}, ` +
      `syntax ${receiver.errors.syntax}\n` +
      `wire: ${receiver.headers.frames} SFrame headers, ${receiver.headers.duplicates.length} reused (KID, CTR)`;
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

/** Mean and spread of an element's pixels (a blank or black video has spread ~0). */
function pixels(el) {
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

// Hooks for the e2e test (sframe-wasm/e2e) and the console.
window.demo = {
  ready: connect().then(() => true),
  stats,
  report,
  rotate,
  receiverKey,
  resetEvidence: () =>
    Promise.all([ask(senderWorker, { type: 'resetEvidence' }), ask(receiverWorker, { type: 'resetEvidence' })]),
  /** The current key generation and its KIDs by track kind. */
  get generation() {
    return generation;
  },
  get kids() {
    return kidsOf(generation);
  },
  kidOf,
  pictures: () => ({ source: pixels(src), remote: pixels($('remote')) }),
  state: () => ({ pc1: pc1.connectionState, pc2: pc2.connectionState, log: $('log').textContent }),
};
