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
// KIDs: one per sending track (common.js: track << 10 | participant << 4 | generation mod 16),
// all tracks of a generation under one base key; the key generation goes up at each rotation.
import { kidOf, startSource, keepResolution, preferCodec, transformWorker, newKey, pixels, inboundStats } from './common.js';

const params = new URLSearchParams(location.search);
const codec = (params.get('codec') ?? 'VP8').toUpperCase();
const cipherSuite = params.get('suite') ?? 'AES_128_GCM_SHA256_128';
const rotateEvery = Number(params.get('rotate') ?? 10);
const api = params.get('api') === 'streams' ? 'streams' : 'script';
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

// ---- Workers and keys ---------------------------------------------------------------------
const senderW = transformWorker('sender', log);
const receiverW = transformWorker('receiver', log);

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
  checked('receiver', await receiverW.ask({ type: 'key', generation: newGeneration, kids, key }));
  checked('sender', await senderW.ask({ type: 'key', generation: newGeneration, kids, key, current: true }));
  const old = generation;
  generation = newGeneration;
  $('kid').textContent = showKids(kids);
  if (old !== newGeneration && keysByGeneration.has(old)) {
    // Frames under the old key may still be in flight for a moment.
    setTimeout(() => {
      keysByGeneration.delete(old);
      receiverW.ask({ type: 'removeKey', generation: old });
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
    await receiverW.ask({ type: 'key', generation, kids, key: await newKey() });
    log(`receiver: WRONG key for KIDs ${showKids(kids)}`);
  } else if (mode === 'remove') {
    await receiverW.ask({ type: 'removeKey', generation });
    log(`receiver: no key for KIDs ${showKids(kids)}`);
  } else {
    await receiverW.ask({ type: 'key', generation, kids, key: keysByGeneration.get(generation) });
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
  attachTransform(sender, senderW.worker, { role: 'encrypt', kind: track.kind, cipherSuite, sei: withSei });
}
for (const tr of pc1.getTransceivers()) {
  if (tr.sender.track?.kind !== 'video') continue;
  keepResolution(tr.sender, log);
  // Debian's Firefox, for one, has no H.264 (no OpenH264 plugin): the browser's default it is.
  if (!preferCodec(tr, codec)) log(`${codec} is not offered by this browser: the call uses its default video codec`);
}

const remote = new MediaStream();
pc2.ontrack = (e) => {
  attachTransform(e.receiver, receiverW.worker, { role: 'decrypt', kind: e.track.kind, cipherSuite });
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
    `${w.type ?? ''} frame, ${w.size} bytes\n` +
    `clear codec bytes (${w.clear ?? '?'}): ${hexRow(0, w.clear ?? 0)}\n` +
    `SFrame header: KID ${w.keyId ?? '?'}  CTR ${w.counter ?? '?'}  (KIDs on the wire: ${w.kids ?? '?'})\n` +
    `ciphertext: ${hexRow(w.clear ?? 0, (w.clear ?? 0) + 24)} …`;
}

async function report(evidence = false) {
  const [s, r] = await Promise.all([
    senderW.ask({ type: 'report', evidence }),
    receiverW.ask({ type: 'report', evidence }),
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

// Hooks for the e2e test (sframe-wasm/e2e) and the console.
window.demo = {
  ready: connect().then(() => true),
  stats,
  report,
  rotate,
  receiverKey,
  resetEvidence: () =>
    Promise.all([senderW.ask({ type: 'resetEvidence' }), receiverW.ask({ type: 'resetEvidence' })]),
  /** The current key generation and its KIDs by track kind. */
  get generation() {
    return generation;
  },
  get kids() {
    return kidsOf(generation);
  },
  kidOf: (generation, kind, participant = PARTICIPANT) => kidOf(generation, kind, participant),
  pictures: () => ({ source: pixels(src), remote: pixels($('remote')) }),
  state: () => ({ pc1: pc1.connectionState, pc2: pc2.connectionState, log: $('log').textContent }),
};
