// One participant of an end-to-end encrypted Janus videoroom call: publishes camera and
// microphone through SFrame encrypters and subscribes to every other participant through
// SFrame decrypters (sframe-wasm), one KID per sending track.
// Janus forwards the frames and records them; it never has a key.
//
// URL: /?room=1234&name=alice[&participant=N][&video=320x240][&api=rtp|worker]#secret=<room secret>
// (no #secret: a random one is made and put in the address bar — share the whole URL).
//   api=rtp (default): sframe-wasm's RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter on the main
//     thread (the W3C interfaces; the package runs them in its own worker).
//   api=worker: RTCRtpScriptTransform into this example's worker.js, which runs
//     SFrameEncrypterStream / SFrameDecrypterStream and records evidence for the e2e test
//     (plaintext samples, SFrame headers, KIDs decrypted per feed).
import { JanusSession } from './janus.js';
import { DemoKeys, removeMember } from './keys.js';
import { errorsFromStats } from './stats.js';

const params = new URLSearchParams(location.search);
const room = Number(params.get('room') ?? 1234);
const name = params.get('name') ?? `guest-${Math.floor(Math.random() * 1000)}`;
const wantedParticipant = params.has('participant') ? Number(params.get('participant')) : undefined;
const [videoWidth, videoHeight] = (params.get('video') ?? '320x240').split('x').map(Number);
let secret = new URLSearchParams(location.hash.slice(1)).get('secret');
if (!secret) {
  secret = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  history.replaceState(null, '', `${location.pathname}${location.search}#secret=${secret}`);
}

/** Encrypters switch to a new epoch this long after receiving it (members add it first). */
const SWITCH_DELAY_MS = 1000;
/** Decrypters keep an old epoch's keys this long after a newer one arrived (frames in flight). */
const RETIRE_DELAY_MS = 4000;

const $ = (id) => document.getElementById(id);
const logLines = [];
function log(msg) {
  const line = `${new Date().toISOString().slice(11, 19)} ${msg}`;
  logLines.push(line);
  $('log').textContent = [...logLines].reverse().slice(0, 60).join('\n');
}

// ---- SFrame transforms --------------------------------------------------------------------
const api = params.get('api') === 'worker' ? 'worker' : 'rtp';
const CIPHER_SUITE = 'AES_128_GCM_SHA256_128';
let worker = null;
let nextId = 0;
const waiting = new Map();
if (api === 'worker') {
  worker = new Worker('/examples/sfu/worker.js', { type: 'module', name: 'sframe' });
  worker.onmessage = ({ data }) => {
    const done = waiting.get(data.id);
    waiting.delete(data.id);
    done?.(data);
  };
  worker.onerror = (e) => log(`worker error: ${e.message}`);
}
const sframe = api === 'rtp' ? await import('/sframe-wasm/js/index.js') : null;

/**
 * The transforms of api=rtp, driven from here with the same messages worker.js takes:
 * 'epoch' (decrypters add the key), 'send' (encrypters switch), 'retire', 'report'.
 */
const mainThread = {
  transforms: [], // { t, role, kind, participant }
  epochs: new Map(),
  sendEpoch: null,
  feeds: {}, // participant → { errors, codes }
  keyErrors: [],
  feed(p) {
    return (this.feeds[p] ??= { errors: {}, codes: {}, decrypted: {}, wire: {} });
  },
  async apply(entry) {
    const { t, role, kind, participant } = entry;
    try {
      if (role === 'encrypt') {
        if (this.epochs.has(this.sendEpoch)) await t.setEncryptionKey(this.epochs.get(this.sendEpoch), kidOf(kind, participant, this.sendEpoch));
      } else {
        for (const [e, key] of this.epochs) await t.addDecryptionKey(key, kidOf(kind, participant, e));
      }
    } catch (e) {
      this.keyErrors.push({ role, kind, participant, code: e?.cause?.code ?? e?.name ?? String(e) });
    }
  },
  add(role, kind, participant) {
    const t = role === 'encrypt'
      ? new sframe.RTCRtpSFrameEncrypter({ cipherSuite: CIPHER_SUITE })
      : new sframe.RTCRtpSFrameDecrypter({ cipherSuite: CIPHER_SUITE });
    const entry = { t, role, kind, participant };
    if (role === 'decrypt') {
      t.onerror = (e) => {
        const f = this.feed(participant);
        f.errors[e.errorType] = (f.errors[e.errorType] ?? 0) + 1;
        f.codes[`${kind}/${e.code}`] = (f.codes[`${kind}/${e.code}`] ?? 0) + 1;
      };
    }
    this.transforms.push(entry);
    this.apply(entry);
    return t;
  },
  async handle(msg) {
    switch (msg.type) {
      case 'epoch':
        this.epochs.set(msg.epoch, msg.key);
        await Promise.all(this.transforms.filter((e) => e.role === 'decrypt').map((e) => this.apply(e)));
        return {};
      case 'send':
        this.sendEpoch = msg.epoch;
        await Promise.all(this.transforms.filter((e) => e.role === 'encrypt').map((e) => this.apply(e)));
        return {};
      case 'retire':
        this.epochs.delete(msg.epoch);
        await Promise.all(
          this.transforms
            .filter((e) => e.role === 'decrypt')
            .map((e) => e.t.removeDecryptionKey(kidOf(e.kind, e.participant, msg.epoch)).catch(() => {})),
        );
        return {};
      case 'report': {
        const transforms = await Promise.all(
          this.transforms.map(async ({ t, role, kind, participant }) => ({ role, kind, participant, ...(await t.getStats()) })),
        );
        return {
          sent: null, // the package's worker has the frames; see e2e (api=worker) for wire evidence
          feeds: errorsFromStats(this.feeds, transforms),
          keyErrors: this.keyErrors,
          epochs: [...this.epochs.keys()],
          sendEpoch: this.sendEpoch,
          transforms,
        };
      }
      default:
        throw new Error(`unknown message ${msg.type}`);
    }
  },
};

/** A message to whichever runs the transforms (worker.js, or mainThread). */
function ask(msg) {
  if (api === 'rtp') return mainThread.handle(msg);
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ ...msg, id });
  });
}

/** An encrypter (our track) or decrypter (a remote feed's track) of the chosen API. */
function transformFor(role, kind, participant) {
  if (api === 'rtp') return mainThread.add(role, kind, participant);
  return new RTCRtpScriptTransform(worker, { role, kind, participant });
}

// ---- keys ---------------------------------------------------------------------------------
const keys = new DemoKeys({ room, secret, name, participant: wantedParticipant });
let me = null;
let latestEpoch = 0;
const keptEpochs = new Set();
let members = [];

keys.onepoch = async ({ epoch, key, members: list }) => {
  latestEpoch = epoch;
  members = list;
  keptEpochs.add(epoch);
  await ask({ type: 'epoch', epoch, key });
  log(`epoch ${epoch}: members ${list.map((m) => `${m.participant} ${m.name}`).join(', ')}`);
  setTimeout(async () => {
    if (epoch !== latestEpoch) return;
    await ask({ type: 'send', epoch });
    $('epoch').textContent = `epoch ${epoch}, my KIDs: audio ${kidOf('audio', me, epoch)}, video ${kidOf('video', me, epoch)}`;
  }, SWITCH_DELAY_MS);
  for (const old of [...keptEpochs]) {
    if (old >= epoch) continue;
    setTimeout(() => {
      keptEpochs.delete(old);
      ask({ type: 'retire', epoch: old });
    }, RETIRE_DELAY_MS);
  }
  renderMembers();
};
keys.onremoved = () => {
  log('removed from the key group: no more keys (the others rotated without us)');
  $('epoch').textContent = 'removed from the key group';
};

const TRACK = { audio: 0, video: 1 };
function kidOf(kind, participant, epoch) {
  return TRACK[kind] * 2 ** 10 + participant * 2 ** 4 + (epoch % 16);
}

// ---- Janus --------------------------------------------------------------------------------
let session;
let publisher;
let localStream;
const feeds = new Map(); // participant → { handle, pc, video, display, audioEl }
let publisherPc;

/** Resolves when ICE gathering is done (we send complete SDPs: no trickle needed). */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => pc.iceGatheringState === 'complete' && resolve();
    pc.addEventListener('icegatheringstatechange', check);
    setTimeout(resolve, 3000);
  });
}

async function publish() {
  localStream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: videoWidth, height: videoHeight, frameRate: 15 },
  });
  $('local').srcObject = localStream;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  publisherPc = pc;
  for (const track of localStream.getTracks()) {
    const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [localStream] });
    tr.sender.transform = transformFor('encrypt', track.kind, me);
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { jsep } = await publisher.request(
    { request: 'publish', audio: true, video: true, display: name },
    { type: 'offer', sdp: pc.localDescription.sdp, e2ee: true },
  );
  await pc.setRemoteDescription(jsep);
  log(`publishing as participant ${me} (audio + video, SFrame)`);
}

async function subscribe(p) {
  const id = p.id;
  if (id === me || feeds.has(id)) return;
  const entry = { display: p.display, pc: null, handle: null };
  feeds.set(id, entry);
  renderFeed(id);
  try {
    const handle = await session.attach();
    entry.handle = handle;
    const { jsep } = await handle.request({ request: 'join', ptype: 'subscriber', room, streams: [{ feed: id }] });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    entry.pc = pc;
    const stream = new MediaStream();
    pc.ontrack = (e) => {
      e.receiver.transform = transformFor('decrypt', e.track.kind, id);
      stream.addTrack(e.track);
      const v = document.querySelector(`#feed-${id} video`);
      if (v) v.srcObject = stream;
    };
    await pc.setRemoteDescription(jsep);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await handle.request({ request: 'start', room }, { type: 'answer', sdp: pc.localDescription.sdp, e2ee: true });
    log(`subscribed to participant ${id} (${p.display ?? ''})`);
  } catch (e) {
    log(`subscribe to ${id} failed: ${e.message}`);
    feeds.delete(id);
    document.getElementById(`feed-${id}`)?.remove();
  }
}

function unsubscribe(id) {
  const f = feeds.get(id);
  if (!f) return;
  feeds.delete(id);
  f.pc?.close();
  f.handle?.detach();
  document.getElementById(`feed-${id}`)?.remove();
  log(`participant ${id} left`);
}

function onPublisherEvent(ev) {
  const d = ev.plugindata?.data;
  if (!d) return;
  for (const p of d.publishers ?? []) subscribe(p);
  if (d.unpublished !== undefined && d.unpublished !== 'ok') unsubscribe(d.unpublished);
  if (d.leaving !== undefined && d.leaving !== 'ok') unsubscribe(d.leaving);
}

async function start() {
  me = await keys.join();
  $('me').textContent = `${name} — participant ${me}, room ${room} (${api === 'rtp' ? 'RTCRtpSFrameEncrypter/Decrypter' : 'SFrame streams in worker.js'})`;
  session = await JanusSession.create('/janus');
  publisher = await session.attach();
  publisher.onevent = onPublisherEvent;
  const { data } = await publisher.request({ request: 'join', ptype: 'publisher', room, id: me, display: name });
  log(`joined room ${room} on Janus as feed ${me}`);
  await publish();
  for (const p of data.publishers ?? []) subscribe(p);
  return me;
}

// ---- UI -----------------------------------------------------------------------------------
function renderFeed(id) {
  const div = document.createElement('div');
  div.className = 'panel';
  div.id = `feed-${id}`;
  div.innerHTML = `<h2></h2><video autoplay playsinline></video><pre class="stats">waiting…</pre>
    <button>remove from key group</button>`;
  div.querySelector('h2').textContent = `participant ${id} — ${feeds.get(id)?.display ?? ''}`;
  div.querySelector('button').onclick = async () => {
    log(`asking the key service to remove participant ${id}`);
    await removeMember(room, id);
  };
  $('feeds').append(div);
}

function renderMembers() {
  $('members').textContent = members.map((m) => `${m.participant}${m.participant === me ? ' (me)' : ''} ${m.name}`).join(' · ');
}

/** The ICE candidate pair in use: "local address → remote address" (remote = Janus). */
function selectedPath(report) {
  for (const t of report.values()) {
    if (t.type !== 'transport' || !t.selectedCandidatePairId) continue;
    const pair = report.get(t.selectedCandidatePairId);
    const l = pair && report.get(pair.localCandidateId);
    const r = pair && report.get(pair.remoteCandidateId);
    if (l && r) return { local: l.address, remote: r.address, remotePort: r.port, remoteType: r.candidateType };
  }
  return null;
}

/** Per remote feed: decoded video frames and audio samples (from getStats); `path`: the ICE
 * path of our own (publishing) connection. */
async function stats() {
  const out = { path: publisherPc ? selectedPath(await publisherPc.getStats()) : null, feeds: {} };
  for (const [id, f] of feeds) {
    const s = { video: {}, audio: {} };
    if (f.pc) {
      const report = await f.pc.getStats();
      s.path = selectedPath(report);
      for (const r of report.values()) {
        if (r.type !== 'inbound-rtp') continue;
        s[r.kind] = {
          framesDecoded: r.framesDecoded,
          framesReceived: r.framesReceived,
          packetsReceived: r.packetsReceived,
          keyFramesDecoded: r.keyFramesDecoded,
          frameWidth: r.frameWidth,
          totalSamplesReceived: r.totalSamplesReceived,
          concealedSamples: r.concealedSamples,
          decodedSamples:
            r.totalSamplesReceived !== undefined ? r.totalSamplesReceived - (r.concealedSamples ?? 0) : undefined,
        };
      }
      s.connectionState = f.pc.connectionState;
    }
    out.feeds[id] = s;
  }
  return out;
}

async function report(samples = false) {
  const w = await ask({ type: 'report', samples });
  if (w.error) throw new Error(`transforms: ${w.error}`);
  return { participant: me, api, epoch: latestEpoch, removed: keys.removed, stats: await stats(), worker: w };
}

async function refresh() {
  try {
    const { stats: st, worker: w } = await report();
    for (const [id, s] of Object.entries(st.feeds)) {
      const el = document.querySelector(`#feed-${id} .stats`);
      if (!el) continue;
      const f = w.feeds[id] ?? { errors: {}, wire: {}, decrypted: {} };
      const dec = w.transforms.filter((t) => t.role === 'decrypt' && String(t.participant) === id);
      const kids =
        api === 'worker'
          ? `KIDs on the wire: ${Object.keys(f.wire).join(', ') || '–'}; decrypted: ${Object.keys(f.decrypted).join(', ') || '–'}`
          : `decrypters: ${dec.reduce((n, t) => n + t.frames, 0)} frames in, ${dec.reduce((n, t) => n + t.dropped, 0)} dropped`;
      el.textContent =
        `video: ${s.video.framesDecoded ?? 0} frames decoded; audio: ${s.audio.decodedSamples ?? 0} samples\n` +
        `${kids}\nerrors: ${Object.entries(f.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`;
    }
    if (w.sent) $('sent').textContent = `sent ${w.sent.frames} SFrame frames, ${w.sent.duplicates.length} reused (KID, CTR)`;
  } catch (e) {
    log(`stats: ${e}`);
  }
}
setInterval(refresh, 1000);

addEventListener('pagehide', () => {
  keys.leave();
  session?.destroy();
});

// Hooks for the e2e test (examples/sfu/e2e.test.mjs) and the console.
window.sfu = {
  ready: start(),
  report,
  stats,
  get participant() {
    return me;
  },
  get epoch() {
    return latestEpoch;
  },
  removeMember: (p) => removeMember(room, p),
  /** Leaves Janus and the key group (as closing the tab would). */
  async hangup() {
    keys.leave();
    publisherPc?.close();
    for (const id of [...feeds.keys()]) unsubscribe(id);
    await session?.destroy();
  },
  log: () => logLines.join('\n'),
};
window.sfu.ready.catch((e) => log(`start failed: ${e.message}`));
