// One participant of a two-party SFrame call, for calls between two browsers (the e2e test runs
// Chromium ⇄ Firefox with it). The page sends an animated canvas and a tone, each track through
// its own SFrame encrypter under its own KID, and decrypts what the other participant sends:
// with the W3C main-thread API by default (RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor, the
// package's polyfill where the browser has none), or with ?api=script in the page's own worker
// (worker.js via RTCRtpScriptTransform), which records every frame — plaintext, wire bytes and
// SFrame headers — for the e2e test. Signalling and keys come from outside through window.peer — in the test, node passes
// offer / answer / ICE candidates and key bytes between the two pages; a real app would use its
// signalling server and its key exchange (e.g. MLS) instead.
//
// URL: ?participant=<0..63> (this sender, default 1) &peer=<0..63> (the other one, default 2)
//      &codec=VP8|H264 (video codec to prefer; default VP8) &suite=<cipher suite name>
//      &api=sframe|script (default sframe, see above)
//
// Keys: one base key per sending participant and key generation (16 bytes, given as hex and
// imported non-extractable); KIDs by the scheme of common.js, so the two participants' KIDs
// never collide (participant 1: audio 17, video 1041; participant 2: audio 33, video 1057 in
// generation 1).
import { installPolyfill } from '/sframe-wasm/js/index.js';
import {
  apiSide,
  workerSide,
  kidOf,
  startSource,
  keepResolution,
  preferCodec,
  importKey,
  pixels,
  inboundStats,
} from './common.js';

const params = new URLSearchParams(location.search);
const me = Number(params.get('participant') ?? 1);
const other = Number(params.get('peer') ?? 2);
const codec = (params.get('codec') ?? 'VP8').toUpperCase();
const cipherSuite = params.get('suite') ?? 'AES_128_GCM_SHA256_128';
const api = params.get('api') === 'script' ? 'script' : 'sframe';

const $ = (id) => document.getElementById(id);
const log = (msg) => {
  const line = `${new Date().toISOString().slice(11, 19)} ${msg}`;
  $('log').textContent = `${line}\n${$('log').textContent}`.slice(0, 4000);
};
$('me').textContent = String(me);

const kidsOf = (generation, participant) => ({
  audio: kidOf(generation, 'audio', participant),
  video: kidOf(generation, 'video', participant),
});
const fromHex = (hex) => Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));

const src = $('source');
const stream = startSource(src, `participant ${me}`);
installPolyfill(); // RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor where the browser lacks them
const sideOf = (name, role) =>
  api === 'sframe' ? apiSide(role, { cipherSuite, log }) : workerSide(name, role, { api, cipherSuite, log });
const sender = sideOf('sender', 'encrypt');
const receiver = sideOf('receiver', 'decrypt');

/** This participant's key of a generation: its encrypters switch to it. */
async function setSendKey(generation, hex) {
  const kids = kidsOf(generation, me);
  const r = await sender.key({ generation, kids, key: await importKey(fromHex(hex)), current: true });
  $('kids').textContent = `sending under KIDs audio ${kids.audio}, video ${kids.video}`;
  log(`send key, generation ${generation}: KIDs audio ${kids.audio}, video ${kids.video}${r.error ? ` REFUSED ${r.code}` : ''}`);
  return { error: r?.error, code: r?.code };
}

/** The other participant's key of a generation: the decrypters add it under its KIDs. */
async function setReceiveKey(generation, hex) {
  const kids = kidsOf(generation, other);
  const r = await receiver.key({ generation, kids, key: await importKey(fromHex(hex)) });
  log(`receive key, generation ${generation}: KIDs audio ${kids.audio}, video ${kids.video}${r.error ? ` REFUSED ${r.code}` : ''}`);
  return { error: r?.error, code: r?.code };
}

// ---- The call -----------------------------------------------------------------------------
const pc = new RTCPeerConnection();
let candidates = [];
pc.onicecandidate = (e) => e.candidate && candidates.push(e.candidate.toJSON());
pc.onconnectionstatechange = () => log(`connection ${pc.connectionState}`);

let sending = false;
/**
 * Adds the local tracks (reusing the offer's transceivers when answering), encrypted, and
 * decrypters on the receivers; resolves when the keys given so far are in force in all of them,
 * so no frame of this call meets a transform still waiting for its key.
 */
async function addTracks() {
  if (sending) return;
  sending = true;
  const attached = [];
  for (const track of stream.getTracks()) {
    const s = pc.addTrack(track, stream);
    attached.push(sender.attach(s, track.kind));
    if (track.kind !== 'video') continue;
    keepResolution(s, log);
    const tr = pc.getTransceivers().find((t) => t.sender === s);
    if (!preferCodec(tr, codec)) log(`${codec} is not offered by this browser: its default video codec is used`);
  }
  attached.push(...decryptReceivers());
  await Promise.all(attached);
}

/**
 * Puts a decrypter on every receiver, as soon as its transceiver exists: Chromium, as the
 * offerer, passes received frames around a transform set only in "track" (fired by the answer).
 */
const decrypting = new WeakSet();
function decryptReceivers() {
  const attached = [];
  for (const { receiver: r } of pc.getTransceivers()) {
    if (decrypting.has(r)) continue;
    decrypting.add(r);
    attached.push(receiver.attach(r, r.track.kind));
  }
  return attached;
}

const remote = new MediaStream();
pc.ontrack = (e) => {
  decryptReceivers();
  remote.addTrack(e.track);
  $('remote').srcObject = remote;
};

async function offer() {
  await addTracks();
  await pc.setLocalDescription();
  return pc.localDescription.toJSON();
}

async function answer(description) {
  await pc.setRemoteDescription(description);
  await addTracks();
  await pc.setLocalDescription();
  return pc.localDescription.toJSON();
}

async function accept(description) {
  await pc.setRemoteDescription(description);
}

/** The local ICE candidates gathered since the last call. */
function takeCandidates() {
  const out = candidates;
  candidates = [];
  return out;
}

async function addCandidates(list) {
  for (const c of list) await pc.addIceCandidate(c);
}

// ---- State, statistics and evidence -------------------------------------------------------
/** Addresses of the candidate pair in use (Chromium: the transport's; Firefox: "selected"). */
async function selectedPair() {
  const report = await pc.getStats();
  const byId = new Map([...report.values()].map((s) => [s.id, s]));
  const ids = new Set();
  for (const s of report.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) ids.add(s.selectedCandidatePairId);
    if (s.type === 'candidate-pair' && s.selected) ids.add(s.id);
  }
  const addr = (c) => (c ? `${c.address ?? c.ip}:${c.port}/${c.protocol}` : null);
  return [...ids].map((id) => {
    const p = byId.get(id);
    return { local: addr(byId.get(p?.localCandidateId)), remote: addr(byId.get(p?.remoteCandidateId)) };
  });
}

async function stats() {
  const out = await inboundStats(pc);
  for (const s of (await pc.getStats()).values()) {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.video.framesEncoded = s.framesEncoded;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audio.packetsSent = s.packetsSent;
  }
  $('stats').textContent =
    `video ${out.video.codec ?? ''}: framesDecoded ${out.video.framesDecoded ?? 0}\n` +
    `audio: decoded samples ${out.audio.decodedSamples ?? 0}`;
  return out;
}

async function report(evidence = false) {
  const [s, r] = await Promise.all([sender.report(evidence), receiver.report(evidence)]);
  return { sender: s, receiver: r };
}

window.peer = {
  ready: Promise.resolve(true),
  participant: me,
  peer: other,
  kids: kidsOf,
  setSendKey,
  setReceiveKey,
  api,
  removeReceiveKey: (generation) => receiver.removeKey(generation),
  offer,
  answer,
  accept,
  takeCandidates,
  addCandidates,
  stats,
  report,
  resetEvidence: () => Promise.all([sender.resetEvidence(), receiver.resetEvidence()]),
  selectedPair,
  pictures: () => ({ source: pixels(src), remote: pixels($('remote')) }),
  state: () => ({ connection: pc.connectionState, ice: pc.iceConnectionState, log: $('log').textContent }),
  browser: navigator.userAgent,
};
