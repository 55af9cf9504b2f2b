// Every video codec the browser offers, and Opus with RED, decoding through the package's
// transforms with SFrame on: a loopback call (two RTCPeerConnections in one page) with the
// package's RTCRtpSFrameEncrypter on every sender, and on every receiver its
// RTCRtpSFrameDecrypter or — where the test looks at the wire or injects loss — its
// SFrameDecrypterStream in an RTCRtpScriptTransform worker. The codec layout is the package's
// default ("auto": from each frame's mimeType). Headless Debian Chromium and Firefox ESR,
// driven by puppeteer-core (see browsers.mjs; never a downloaded browser). A case the browser
// cannot run is skipped with the reason named: the codec is not in
// RTCRtpSender/RTCRtpReceiver.getCapabilities('video') (H.265 in both: no hardware codec), the
// scalability mode is not applied (Firefox), there is no audio/red (Firefox).
//
// What is checked comes from the browser, not from the package: getStats() of the receiving
// RTCPeerConnection (inbound-rtp framesDecoded / keyFramesDecoded, totalSamplesReceived /
// concealedSamples, the codec's mimeType), the decoded picture (not blank, like the source),
// the SDP. The transforms' own counters must show every frame of the measured span encrypted
// and decrypted with no error, so the media did travel as SFrame.
//
// AV1 with SVC (L1T3, L2T2): the receiving worker also keeps the first bytes of protected and
// decrypted frames, and the test parses them here: every protected frame is the OBU sequence
// the package promises (sequence header OBUs whole, then one OBU carrying the SFrame, with the
// frame's temporal / spatial IDs in its extension), every decrypted frame is the encoder's
// (a temporal delimiter first: it travelled encrypted, the packetizer never saw it).
//
// Opus + RED: with audio/red first in setCodecPreferences Chromium sends RFC 2198 RED; the
// encrypter sees each RED payload (the current Opus frame and the previous ones) as one frame.
// Under loss of every DROP_EVERY-th audio packet NetEq rebuilds the lost frames from the next
// packets' redundancy: the concealed share of the samples must be far lower than in the same
// call without RED. The loss is made two ways:
// - at the receiver: its worker drops every DROP_EVERY-th audio frame before the
//   SFrameDecrypterStream (a dropped frame never reaches NetEq; the RTP stack saw it arrive);
// - in transit: a UDP relay in the test's process (node:dgram on 127.0.0.1) is the peers' only
//   path — each is given the relay's port as the other's one ICE candidate — and drops every
//   DROP_EVERY-th audio RTP packet from sender to receiver (told apart by the first byte,
//   RFC 7983, and the payload type; STUN, DTLS, RTCP and video all pass). The receiver's own
//   RTP stack (inbound-rtp packetsLost), jitter buffer and RED depacketizer face real lost
//   packets, and its SFrame decrypter decrypts every packet the relay forwarded, with no error.
//   Opus in-band FEC is off in these calls (with the loss reported by RTCP, Chromium's Opus
//   encoder adds redundancy of its own: RED is what is compared).
// (Not netem: the container's kernel has no netem qdisc, and both peers share one loopback.)
//   npm ci && node --test e2e/codecs.test.mjs      (after bash scripts/build.sh)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startServer } from '../../examples/browser/serve.mjs';
import { BROWSERS, launch, label, openPage, videoCodecs, sleep, until } from './browsers.mjs';

let server;
let baseUrl;

before(async () => {
  ({ server, url: baseUrl } = await startServer(0));
});

after(() => server?.close());

/** Frames decoded that a video case waits for (~4 s of the 30 fps source). */
const MIN_FRAMES = 120;
/** Receiver-side loss of the RED case: every DROP_EVERY-th audio frame (20 %). */
const DROP_EVERY = 5;

/**
 * Runs in the page: a loopback call with SFrame on every track. `video`: the MIME subtype to
 * prefer ("VP9", "AV1", …), `scalabilityMode` optional; `red`: audio/red first; `workers`: the
 * kinds whose receiver decrypts in this page's own worker (SFrameDecrypterStream) instead of
 * an RTCRtpSFrameDecrypter — the worker counts payload types / MIME types, keeps the first
 * bytes of a few protected and decrypted frames, and with `dropEvery` drops every
 * dropEvery-th non-empty frame before decrypting. `shortStartCodes`: the video sender
 * encrypts in this page's worker (SFrameEncrypterStream) after rewriting every 4-byte start
 * code of the encoder's frames to 00 00 01 (as x264 / x265 write them). `relay`: the ports of a
 * UDP relay on 127.0.0.1 (startRelay) that is to be the only path between the peers — each
 * side is given the relay's port as the other's one candidate, and no candidate of its own
 * reaches the other; ICE starts only with window.call.connect(). `opusFec` false: the
 * receiver's answer asks for no Opus in-band FEC (useinbandfec=0). Sets window.call.
 */
async function startCall({ video, scalabilityMode, red = false, workers = [], dropEvery = 0, shortStartCodes = false, relay = null, opusFec = true }) {
  const { installPolyfill } = await import('/sframe-wasm/js/index.js');
  const { startSource, newKey, pixels } = await import('/examples/browser/common.js');
  installPolyfill();
  const cipherSuite = 'AES_128_GCM_SHA256_128';
  const KID = { audio: 1, video: 2 };
  const key = await newKey();

  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  document.body.append(canvas);
  const stream = startSource(canvas, `SFrame ${video}`);
  const remote = document.createElement('video');
  remote.autoplay = true;
  remote.muted = true;
  remote.playsInline = true;
  document.body.append(remote);

  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  if (!relay) {
    pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
    pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
  }

  /** Puts the codecs `mimes` first, in that order. */
  const prefer = (tr, kind, mimes) => {
    const all = RTCRtpReceiver.getCapabilities(kind).codecs;
    const first = mimes.flatMap((m) => all.filter((c) => c.mimeType.toLowerCase() === m));
    tr.setCodecPreferences([...first, ...all.filter((c) => !first.includes(c))]);
  };

  // The handlers are set before the package is imported: it loads its wasm with a top-level
  // await, and an rtctransform event that arrives before a handler exists is lost.
  const workerSource = `
    const lib = import('${location.origin}/sframe-wasm/js/index.js');
    const SAMPLES = 200;
    const seen = { frames: 0, lost: 0, payloadTypes: {}, mimeTypes: {}, wire: [], plain: [] };
    const hex = (b) => Array.from(new Uint8Array(b).subarray(0, 24), (x) => x.toString(16).padStart(2, '0')).join('');
    let stats = () => ({});
    onmessage = () => postMessage({ ...seen, decrypter: stats() }); // (an encrypter's stats too)
    onrtctransform = async ({ transformer }) => {
      const { SFrameDecrypterStream, SFrameEncrypterStream } = await lib;
      const { role, cipherSuite, key, kid, dropEvery, shortStartCodes } = transformer.options;
      if (role === 'encrypt') {
        const enc = new SFrameEncrypterStream({ cipherSuite });
        await enc.setEncryptionKey(key, kid);
        stats = () => ({ ...enc.stats });
        const shorten = new TransformStream({
          transform(frame, c) {
            seen.frames++;
            const d = new Uint8Array(frame.data);
            const out = [];
            for (let i = 0; i < d.length; i++) {
              // 00 00 00 01 → 00 00 01 (drop the first zero)
              if (shortStartCodes && d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0 && d[i + 3] === 1) continue;
              out.push(d[i]);
            }
            if (out.length < d.length) seen.lost++; // counts rewritten frames here
            if (seen.plain.length < SAMPLES) seen.plain.push(hex(out));
            frame.data = Uint8Array.from(out).buffer;
            c.enqueue(frame);
          },
        });
        transformer.readable.pipeThrough(shorten).pipeThrough(enc).pipeTo(transformer.writable);
        return;
      }
      const dec = new SFrameDecrypterStream({ cipherSuite });
      await dec.addDecryptionKey(key, kid);
      stats = () => ({ ...dec.stats });
      let n = 0;
      const tap = new TransformStream({
        transform(frame, c) {
          seen.frames++;
          const { payloadType, mimeType } = frame.getMetadata();
          seen.payloadTypes[payloadType] = (seen.payloadTypes[payloadType] ?? 0) + 1;
          seen.mimeTypes[mimeType] = (seen.mimeTypes[mimeType] ?? 0) + 1;
          // Empty frames (Chromium emits some) are no packets: never count them as loss.
          if (dropEvery && frame.data.byteLength > 0 && ++n % dropEvery === 0) {
            seen.lost++;
            return;
          }
          if (seen.wire.length < SAMPLES) seen.wire.push(hex(frame.data));
          c.enqueue(frame);
        },
      });
      const keep = new TransformStream({
        transform(frame, c) {
          if (seen.plain.length < SAMPLES) seen.plain.push(hex(frame.data));
          c.enqueue(frame);
        },
      });
      transformer.readable.pipeThrough(tap).pipeThrough(dec).pipeThrough(keep).pipeTo(transformer.writable);
    };`;
  const workerUrl = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));

  // Chromium 156 ignores an RTCRtpScriptTransform assigned in a later task than the one that
  // constructed it (its frames then bypass the transform: measured). So each transform is
  // assigned right after it is made, and the keys are set afterwards (awaited before the
  // call starts; frames before that are dropped by the package, "droppedNoKey").
  const encrypters = [];
  const keyCalls = [];
  const senderWorkers = [];
  for (const track of stream.getTracks()) {
    const init = { streams: [stream], direction: 'sendonly' };
    if (track.kind === 'video' && scalabilityMode) init.sendEncodings = [{ scalabilityMode }];
    const tr = pc1.addTransceiver(track, init);
    if (track.kind === 'video' && shortStartCodes) {
      const worker = new Worker(workerUrl, { type: 'module' });
      tr.sender.transform = new RTCRtpScriptTransform(worker, { role: 'encrypt', cipherSuite, key, kid: KID.video, shortStartCodes });
      senderWorkers.push({ kind: 'video', worker });
    } else {
      const enc = new RTCRtpSFrameEncrypter({ cipherSuite });
      tr.sender.transform = enc;
      encrypters.push({ kind: track.kind, t: enc });
      keyCalls.push(enc.setEncryptionKey(key, KID[track.kind]));
    }
    if (track.kind === 'video') {
      prefer(tr, 'video', [`video/${video.toLowerCase()}`]);
      const p = tr.sender.getParameters();
      p.degradationPreference = 'maintain-resolution';
      keyCalls.push(tr.sender.setParameters(p).catch(() => {}));
    } else {
      prefer(tr, 'audio', red ? ['audio/red', 'audio/opus'] : ['audio/opus']);
    }
  }

  const decrypters = [];
  const receiverWorkers = [];
  const remoteStream = new MediaStream();
  pc2.ontrack = (e) => {
    const kind = e.track.kind;
    if (workers.includes(kind)) {
      const worker = new Worker(workerUrl, { type: 'module' });
      e.receiver.transform = new RTCRtpScriptTransform(worker, { role: 'decrypt', cipherSuite, key, kid: KID[kind], dropEvery: kind === 'audio' ? dropEvery : 0 });
      receiverWorkers.push({ kind, worker });
    } else {
      const dec = new RTCRtpSFrameDecrypter({ cipherSuite });
      e.receiver.transform = dec;
      decrypters.push({ kind, t: dec });
      keyCalls.push(dec.addDecryptionKey(key, KID[kind]));
    }
    // Audio plays through the (muted) video element too: Chromium decodes the audio of a
    // played track only.
    remoteStream.addTrack(e.track);
    remote.srcObject = remoteStream;
  };

  // Through a relay, the other side's host candidates (gathered by now, some of them, and in
  // the description) are taken out: the relay's port is all each side knows of the other.
  /** @param {RTCSessionDescription} d */
  const passed = (d) => {
    let sdp = d.sdp;
    if (relay) sdp = sdp.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '');
    if (!opusFec) sdp = sdp.replaceAll('useinbandfec=1', 'useinbandfec=0');
    return { type: d.type, sdp };
  };
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(passed(pc1.localDescription));
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(passed(pc2.localDescription));
  await Promise.all(keyCalls);

  const ask = (worker) =>
    new Promise((resolve) => {
      worker.onmessage = (m) => resolve(m.data);
      worker.postMessage('report');
    });
  /** An m-section of an SDP, from its m= line. */
  const section = (sdp, kind) => sdp.split('\nm=').find((x) => x.startsWith(kind)) ?? '';
  /** The first payload type of an m-section in an SDP, and its rtpmap name. */
  const firstCodec = (sdp, kind) => {
    const m = section(sdp, kind);
    const pt = m.split('\n')[0].split(' ')[3];
    return new RegExp(`a=rtpmap:${pt} ([^/]+)`).exec(m)?.[1] ?? null;
  };
  /** The payload types of an m-section whose rtpmap names one of `names` (all: no names). */
  const payloadTypes = (sdp, kind, names) =>
    [...section(sdp, kind).matchAll(/a=rtpmap:(\d+) ([^/]+)/g)].filter((m) => !names || names.includes(m[2].toLowerCase())).map((m) => Number(m[1]));
  /** The remote candidate (address:port) of a connection's selected candidate pair. */
  const route = async (pc) => {
    const report = await pc.getStats();
    for (const t of report.values()) {
      if (t.type !== 'transport' || !t.selectedCandidatePairId) continue;
      const remote = report.get(report.get(t.selectedCandidatePairId)?.remoteCandidateId);
      if (remote) return `${remote.address}:${remote.port}`;
    }
    return null;
  };

  window.call = {
    /** inbound-rtp of the receiving side by kind, with the codec's mimeType. */
    async stats() {
      const out = { video: {}, audio: {} };
      const report = await pc2.getStats();
      const codecs = new Map();
      for (const s of report.values()) if (s.type === 'codec') codecs.set(s.id, s.mimeType);
      for (const s of report.values()) {
        if (s.type !== 'inbound-rtp') continue;
        out[s.kind] = {
          codec: codecs.get(s.codecId),
          framesDecoded: s.framesDecoded,
          keyFramesDecoded: s.keyFramesDecoded,
          frameWidth: s.frameWidth,
          packetsReceived: s.packetsReceived,
          bytesReceived: s.bytesReceived,
          totalSamplesReceived: s.totalSamplesReceived,
          concealedSamples: s.concealedSamples,
          packetsLost: s.packetsLost,
        };
      }
      return out;
    },
    /** Every transform's counters: encrypters' and decrypters' getStats(), the workers' reports. */
    async transforms() {
      const all = [];
      for (const { kind, t } of encrypters) all.push({ role: 'encrypt', kind, ...(await t.getStats()) });
      for (const { kind, t } of decrypters) all.push({ role: 'decrypt', kind, ...(await t.getStats()) });
      for (const { kind, worker } of senderWorkers) {
        const r = await ask(worker);
        all.push({ role: 'encrypt', kind, worker: r, ...r.decrypter });
      }
      for (const { kind, worker } of receiverWorkers) {
        const r = await ask(worker);
        all.push({ role: 'decrypt', kind, worker: r, ...r.decrypter });
      }
      // Decryptor stats carry key IDs as bigints (per-key counters, error runs): as strings,
      // so that the report can leave the page (structured clone to puppeteer, JSON).
      return JSON.parse(JSON.stringify(all, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
    },
    /** What the video sender applied, and the first codec of each side's audio m-section. */
    params() {
      const s = pc1.getSenders().find((x) => x.track?.kind === 'video');
      const p = s.getParameters();
      return {
        scalabilityMode: p.encodings?.[0]?.scalabilityMode ?? null,
        audioOffer: firstCodec(pc1.localDescription.sdp, 'audio'),
        audioAnswer: firstCodec(pc2.localDescription.sdp, 'audio'),
        // The answer's: what both sides send with.
        audioPayloadTypes: payloadTypes(pc2.localDescription.sdp, 'audio', ['red', 'opus']),
        videoPayloadTypes: payloadTypes(pc2.localDescription.sdp, 'video'),
        /** The Opus parameters the sender was given (the answer's a=fmtp, as passed). */
        opusFmtp: /a=fmtp:\d+ (.*useinbandfec.*)/.exec(section(pc1.remoteDescription.sdp, 'audio'))?.[1] ?? null,
      };
    },
    /** Through a relay: gives each side the relay's port as the other's only candidate. */
    async connect() {
      // One host candidate on the first (BUNDLE) m-section; no usernameFragment: the current
      // ICE generation's.
      const at = (pc, port) => ({
        candidate: `candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
        sdpMid: pc.getTransceivers()[0].mid,
        sdpMLineIndex: 0,
      });
      await pc1.addIceCandidate(at(pc1, relay.sender));
      await pc2.addIceCandidate(at(pc2, relay.receiver));
    },
    /** The remote end of each side's selected candidate pair (address:port). */
    route: async () => ({ sender: await route(pc1), receiver: await route(pc2) }),
    pictures: () => ({ remote: pixels(remote), source: pixels(canvas) }),
  };
}

/** Opens a call page; call.stats() etc. run in the page. */
async function openCall(browser, opts) {
  const { page, pageErrors } = await openPage(browser, `${baseUrl}examples/browser/blank.html`);
  await page.evaluate(startCall, opts);
  const call = {
    stats: () => page.evaluate(() => window.call.stats()),
    transforms: () => page.evaluate(() => window.call.transforms()),
    params: () => page.evaluate(() => window.call.params()),
    pictures: () => page.evaluate(() => window.call.pictures()),
    connect: () => page.evaluate(() => window.call.connect()),
    route: () => page.evaluate(() => window.call.route()),
  };
  return { page, pageErrors, call };
}

/**
 * Between two snapshots of the transforms' counters: every transform handled frames
 * (`min` or more), with no error and nothing dropped — except, at a decrypter, re-delivered
 * frames (replays: no error) and, at a lossy worker, the frames it dropped on purpose.
 */
function checkTransforms(before, after, min = 20) {
  for (const x of after) {
    const b = before.find((y) => y.role === x.role && y.kind === x.kind) ?? {};
    const d = (k) => (x[k] ?? 0) - (b[k] ?? 0);
    const what = `${x.role} ${x.kind}: ${JSON.stringify({ ...x, worker: undefined })} (before: ${JSON.stringify({ ...b, worker: undefined })})`;
    assert.ok(d('frames') >= min, what);
    assert.equal(d('errors'), 0, what);
    assert.equal(d('droppedNoKey'), 0, what);
    assert.equal(d('dropped'), d('replayed'), what);
  }
}

// ---- A UDP relay between the two peers, lossy for the audio only -------------------------
/**
 * What a datagram of the call is: RFC 7983 §7 demultiplexes STUN (first byte 0..3), DTLS
 * (20..63) and RTP / RTCP (128..191) on one port; RFC 5761 §4 tells RTCP (packet types
 * 192..223: the second byte without its marker bit is 64..95) from RTP. SRTP and SRTCP keep
 * these headers in clear.
 * @param {Buffer} b
 * @returns {'stun' | 'dtls' | 'rtcp' | 'rtp' | 'other'}
 */
function classify(b) {
  if (b.length < 2) return 'other';
  if (b[0] <= 3) return 'stun';
  if (b[0] >= 20 && b[0] <= 63) return 'dtls';
  if (b[0] < 128 || b[0] > 191) return 'other';
  const pt = b[1] & 0x7f;
  return pt >= 64 && pt <= 95 ? 'rtcp' : 'rtp';
}

/**
 * A UDP relay on 127.0.0.1, the only path between the sending and the receiving
 * RTCPeerConnection of a call (startCall's `relay`): `ports.sender` is the port the sender is
 * told the receiver has, `ports.receiver` the port the receiver is told the sender has. A
 * datagram from the sender goes out of the receiver's port to the receiver, and the other way
 * round (each side sees its peer at the one address it was given; their own addresses are
 * learnt from what they send). Everything is forwarded — STUN, DTLS, RTCP, video — except
 * every `dropEvery`-th RTP packet of the audio (payload types `audioPayloadTypes`, set
 * before ICE starts) from the sender to the receiver: lost in transit, before any of the
 * receiver's RTP stack saw it. `hold()` stops the sender's audio from then on (not counted as
 * loss: the end of the measured span).
 * @param {number} dropEvery
 */
async function startRelay(dropEvery) {
  /** @param {dgram.Socket} socket */
  const bound = (socket) => new Promise((resolve, reject) => socket.once('error', reject).bind(0, '127.0.0.1', () => resolve(socket)));
  const toSender = await bound(dgram.createSocket('udp4'));
  const toReceiver = await bound(dgram.createSocket('udp4'));
  /** @type {{ sender: dgram.RemoteInfo | null, receiver: dgram.RemoteInfo | null }} */
  const peer = { sender: null, receiver: null };
  /** @type {Set<number>} */
  let audio = new Set();
  let holding = false;
  const counts = {
    /** Datagrams forwarded, each way. */
    forwarded: { toReceiver: 0, toSender: 0 },
    /** Sender → receiver once the receiver is known, by class (forwarded or not). */
    kinds: { stun: 0, dtls: 0, rtcp: 0, rtp: 0, other: 0 },
    /** Audio RTP packets from the sender: seen, forwarded, dropped (loss), held (after hold()). */
    audio: { seen: 0, forwarded: 0, dropped: 0, held: 0 },
  };
  toSender.on('message', (msg, from) => {
    peer.sender = from;
    if (!peer.receiver) return; // ICE retransmits its checks
    const kind = classify(msg);
    counts.kinds[kind]++;
    if (kind === 'rtp' && audio.has(msg[1] & 0x7f)) {
      if (holding) {
        counts.audio.held++;
        return;
      }
      if (++counts.audio.seen % dropEvery === 0) {
        counts.audio.dropped++;
        return;
      }
      counts.audio.forwarded++;
    }
    counts.forwarded.toReceiver++;
    toReceiver.send(msg, peer.receiver.port, peer.receiver.address);
  });
  toReceiver.on('message', (msg, from) => {
    peer.receiver = from;
    if (!peer.sender) return; // ICE retransmits its checks
    counts.forwarded.toSender++;
    toSender.send(msg, peer.sender.port, peer.sender.address);
  });
  return {
    ports: { sender: toSender.address().port, receiver: toReceiver.address().port },
    /** @param {number[]} payloadTypes */
    audioPayloadTypes(payloadTypes) {
      audio = new Set(payloadTypes);
    },
    hold() {
      holding = true;
    },
    /** A copy of the counters. */
    counts: () => structuredClone(counts),
    close() {
      toSender.close();
      toReceiver.close();
    },
  };
}

// ---- AV1 OBUs (AV1 §5.3), to check what the worker saw -------------------------------------
/** The OBUs at the start of hex-encoded bytes (the worker keeps 24): { type, ext, size }. */
function obusOf(hexBytes) {
  const b = Buffer.from(hexBytes, 'hex');
  const out = [];
  let pos = 0;
  while (pos < b.length) {
    const h = b[pos];
    const ext = h & 4 ? b[pos + 1] : null;
    let p = pos + (h & 4 ? 2 : 1);
    let size = null;
    if (h & 2) {
      size = 0;
      for (let i = 0, scale = 1; i < 8 && p < b.length; i++, scale *= 128) {
        size += (b[p] & 0x7f) * scale;
        if ((b[p++] & 0x80) === 0) break;
      }
    }
    out.push({ type: (h >> 3) & 15, hasSize: Boolean(h & 2), ext, size, at: pos });
    if (size === null) break;
    pos = p + size;
  }
  return out;
}

for (const name of BROWSERS) describe(name, () => cases(name));

function cases(name) {
  let browser;
  let title;
  let codecs;
  let audioCodecs;
  before(async () => {
    browser = await launch(name);
    title = await label(name, browser);
    const { page } = await openPage(browser, `${baseUrl}examples/browser/blank.html`);
    codecs = await videoCodecs(page);
    audioCodecs = await page.evaluate(() => [...new Set(RTCRtpSender.getCapabilities('audio').codecs.map((c) => c.mimeType.toLowerCase()))]);
    await page.close();
  });
  after(async () => {
    await browser?.close();
  });

  /** Skips t (returns true) when this browser cannot send and receive `codec`. */
  function skipWithout(t, codec) {
    if (codecs.includes(codec)) return false;
    t.skip(`${title} offers no ${codec} in RTCRtpSender/RTCRtpReceiver.getCapabilities('video') (it has ${codecs.join(', ')})`);
    return true;
  }

  /**
   * One video call: waits for MIN_FRAMES decoded frames, then checks the codec, the picture and
   * the transforms over two more seconds; returns the workers' reports (if any).
   */
  async function videoCall(t, codec, { scalabilityMode, workers = [], shortStartCodes = false } = {}) {
    const { page, pageErrors, call } = await openCall(browser, { video: codec, scalabilityMode, workers, shortStartCodes });
    try {
      if (scalabilityMode) {
        const p = await call.params();
        if (p.scalabilityMode !== scalabilityMode) {
          t.skip(`${title} did not apply scalabilityMode ${scalabilityMode} to ${codec} (getParameters: ${p.scalabilityMode})`);
          return null;
        }
      }
      await until(
        `${MIN_FRAMES} ${codec} frames decoded`,
        async () => {
          const s = await call.stats();
          return s.video.framesDecoded > MIN_FRAMES && s.audio.totalSamplesReceived > 0;
        },
        30000,
      ).catch(async (e) => {
        e.message += `; transforms ${JSON.stringify(await call.transforms())}`;
        throw e;
      });
      const s = await call.stats();
      const x0 = await call.transforms();
      assert.match(s.video.codec ?? '', new RegExp(`^video/${codec}$`, 'i'));
      assert.ok(s.video.keyFramesDecoded >= 1, JSON.stringify(s.video));
      // Two more seconds (the e2e files run side by side on a small machine: ~8 fps or more).
      await sleep(2000);
      const s2 = await call.stats();
      const x1 = await call.transforms();
      assert.ok(s2.video.framesDecoded > s.video.framesDecoded + 15, `${codec} keeps decoding: ${JSON.stringify(s2.video)}`);
      checkTransforms(x0, x1);
      // The picture is the source's, not a blank or garbage frame. The source is animated and
      // the remote picture lags it (more on a loaded machine): compared until they agree.
      /** @type {any} */
      let pic = null;
      const like = async () => {
        pic = await call.pictures();
        return pic.remote.width > 0 && pic.remote.spread > 10 && Math.abs(pic.remote.mean - pic.source.mean) < 25;
      };
      await until('the remote picture to look like the source', like, 10000).catch((e) => {
        throw new Error(`${e.message}; last pictures: ${JSON.stringify(pic)}`);
      });
      const dec = x1.find((x) => x.role === 'decrypt' && x.kind === 'video');
      t.diagnostic(
        `${title} ${codec}${scalabilityMode ? ` ${scalabilityMode}` : ''}: ${s2.video.framesDecoded} frames decoded ` +
          `(${s2.video.keyFramesDecoded} key), ${s2.video.frameWidth} px wide; ${dec.frames} frames decrypted ` +
          `(${dec.errors} errors); audio ${s2.audio.totalSamplesReceived} samples (${s2.audio.concealedSamples} concealed)`,
      );
      assert.deepEqual(pageErrors, []);
      return { receiver: dec.worker ?? null, sender: x1.find((x) => x.role === 'encrypt' && x.kind === 'video').worker ?? null };
    } finally {
      await page.close();
    }
  }

  for (const codec of ['VP8', 'VP9', 'AV1', 'H264', 'H265']) {
    test(`${codec} + Opus decode through RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter`, async (t) => {
      if (skipWithout(t, codec)) return;
      await videoCall(t, codec);
    });
  }

  // SVC in one stream: temporal layers (AV1 OBU extension headers, VP9 layer indices in the
  // payload descriptor) and spatial layers (one encoded frame per spatial layer, each its own
  // SFrame). The receiver decodes every layer.
  for (const [codec, mode] of [
    ['VP9', 'L1T3'],
    ['VP9', 'L3T3_KEY'],
    ['AV1', 'L1T3'],
    ['AV1', 'L2T2'],
  ]) {
    test(`${codec} ${mode} (SVC) decodes through the transform`, async (t) => {
      if (skipWithout(t, codec)) return;
      const seen = (await videoCall(t, codec, { scalabilityMode: mode, workers: codec === 'AV1' ? ['video'] : [] }))?.receiver;
      if (!seen || codec !== 'AV1') return;
      // What the packetizer and depacketizer passed, parsed here.
      const tids = new Set();
      const sids = new Set();
      let keyFrames = 0;
      for (const w of seen.wire) {
        const obus = obusOf(w);
        assert.ok(obus.length >= 1, w);
        // Sequence headers (whole, in clear), then the carrier OBU — nothing else.
        const carrier = obus.findIndex((o) => o.type !== 1);
        assert.ok(carrier >= 0 && obus.slice(0, carrier).every((o) => o.type === 1), `wire ${w}`);
        if (carrier > 0) keyFrames++;
        const c = obus[carrier];
        assert.ok([3, 4, 5, 6, 7].includes(c.type) && c.hasSize, `carrier OBU type ${c.type}: ${w}`);
        assert.notEqual(c.ext, null, `no OBU extension (temporal / spatial IDs) on the wire: ${w}`);
        tids.add(c.ext >> 5);
        sids.add((c.ext >> 3) & 3);
      }
      const layers = { L1T3: [3, 1], L2T2: [2, 2] }[mode];
      assert.equal(tids.size, layers[0], `temporal IDs on the wire: ${[...tids]}`);
      assert.equal(sids.size, layers[1], `spatial IDs on the wire: ${[...sids]}`);
      assert.ok(keyFrames >= 1, 'no key frame (sequence header in clear) among the samples');
      // Decrypted: the encoder's frames, a temporal delimiter (12 00) first.
      const withTd = seen.plain.filter((p) => p.startsWith('1200'));
      assert.ok(withTd.length >= seen.plain.length / 2, `decrypted frames without a temporal delimiter: ${seen.plain.slice(0, 3)}`);
      t.diagnostic(
        `AV1 ${mode} wire: ${seen.wire.length} frames parsed, temporal IDs ${[...tids].sort()}, spatial IDs ${[...sids].sort()}, ` +
          `${keyFrames} with a clear sequence header; ${withTd.length}/${seen.plain.length} decrypted frames start with a temporal delimiter`,
      );
    });
  }

  // x264 and x265 write 00 00 01 before SEI and slices; libwebrtc's depacketizer writes every
  // NAL unit back after 00 00 00 01. The package writes the clear part's start codes as
  // 00 00 00 01 (before: kept as they were, and every such frame failed authentication).
  test('H264 with 3-byte start codes (as x264 writes them) decodes through the transform', async (t) => {
    if (skipWithout(t, 'H264')) return;
    const r = await videoCall(t, 'H264', { shortStartCodes: true });
    assert.ok(r.sender.lost > 50, `frames rewritten to 3-byte start codes: ${r.sender.lost}`);
    // What the encrypter got (first 24 bytes of each frame): 3-byte start codes only.
    const starts = (p) => Buffer.from(p, 'hex');
    assert.ok(r.sender.plain.every((p) => p.startsWith('000001') && starts(p).indexOf(Buffer.from([0, 0, 0, 1])) < 0), r.sender.plain.slice(0, 3).join(' '));
    t.diagnostic(`${r.sender.lost} of ${r.sender.frames} H.264 frames sent with 3-byte start codes only`);
  });

  // ---- Opus with RED -----------------------------------------------------------------------
  /** Skips t when the browser has no audio/red to send. */
  function skipWithoutRed(t) {
    if (audioCodecs.includes('audio/red')) return false;
    t.skip(`${title} has no audio/red in RTCRtpSender.getCapabilities('audio') (it has ${audioCodecs.join(', ')})`);
    return true;
  }

  /**
   * An audio call (VP8 video) whose audio receiver is the page's worker; RED on or off,
   * `dropEvery` and `opusFec` as in startCall. Measures `ms` after audio is flowing. With
   * `relay` (a startRelay) the call goes through it; at the end of the span the relay holds the
   * audio back, and once the receiver's transform has had every audio packet the relay
   * forwarded, `relay` reports its counters over the span and at the end, the route, and the
   * audio transforms' counters at the end.
   */
  async function audioCall({ red, dropEvery = 0, ms, relay = null, opusFec = true }) {
    const { page, pageErrors, call } = await openCall(browser, { video: 'VP8', red, workers: ['audio'], dropEvery, relay: relay?.ports ?? null, opusFec });
    try {
      const p = await call.params();
      if (relay) {
        // Before ICE can start: the relay knows the audio before its first packet.
        relay.audioPayloadTypes(p.audioPayloadTypes);
        await call.connect();
      }
      await until('audio decoded', async () => (await call.stats()).audio.totalSamplesReceived > 48000, 30000);
      const s0 = await call.stats();
      const x0 = await call.transforms();
      const r0 = relay?.counts();
      await sleep(ms);
      const s1 = await call.stats();
      const x1 = await call.transforms();
      const r1 = relay?.counts();
      checkTransforms(x0, x1);
      assert.deepEqual(pageErrors, []);
      const w0 = x0.find((x) => x.worker).worker;
      const w1 = x1.find((x) => x.worker).worker;
      const received = s1.audio.totalSamplesReceived - s0.audio.totalSamplesReceived;
      const concealed = s1.audio.concealedSamples - s0.audio.concealedSamples;
      const packetsReceived = s1.audio.packetsReceived - s0.audio.packetsReceived;
      const out = {
        sdp: p,
        worker: w1,
        received,
        concealed,
        share: concealed / received,
        lost: w1.lost - w0.lost,
        frames: w1.frames - w0.frames,
        bytesPerPacket: (s1.audio.bytesReceived - s0.audio.bytesReceived) / packetsReceived,
        packetsReceived,
        /** inbound-rtp packetsLost: what the receiver's RTP stack counted as lost. */
        packetsLost: s1.audio.packetsLost - s0.audio.packetsLost,
        relay: null,
      };
      if (relay) {
        const route = await call.route();
        relay.hold();
        const { forwarded } = relay.counts().audio;
        const audio = (/** @type {any[]} */ x, /** @type {string} */ role) => x.find((y) => y.role === role && y.kind === 'audio');
        await until(`the ${forwarded} audio packets forwarded at the receiver's transform`, async () => audio(await call.transforms(), 'decrypt').frames >= forwarded, 15000);
        const x2 = await call.transforms();
        /** b − a, field by field (nested). */
        const diff = (/** @type {any} */ a, /** @type {any} */ b) =>
          Object.fromEntries(Object.entries(b).map(([k, v]) => [k, typeof v === 'number' ? v - a[k] : diff(a[k], v)]));
        out.relay = {
          ports: relay.ports,
          route,
          span: diff(r0, r1),
          end: relay.counts(),
          decrypter: audio(x2, 'decrypt'),
          encrypter: audio(x2, 'encrypt'),
        };
      }
      return out;
    } finally {
      await page.close();
    }
  }

  test('Opus with RED (audio/red preferred) decodes with SFrame on', async (t) => {
    if (skipWithoutRed(t)) return;
    const r = await audioCall({ red: true, ms: 2000 });
    // RED is what was negotiated and sent: first in offer and answer, and the frames the
    // receiving transform got carried RED's payload type.
    assert.deepEqual([r.sdp.audioOffer, r.sdp.audioAnswer], ['red', 'red']);
    assert.deepEqual(Object.keys(r.worker.mimeTypes), ['audio/red'], JSON.stringify(r.worker));
    // 2 s at 48 kHz, almost nothing concealed.
    assert.ok(r.received > 48000 * 1.5, `${r.received} samples in 2 s`);
    assert.ok(r.concealed < r.received * 0.05, `${r.concealed} of ${r.received} samples concealed`);
    t.diagnostic(
      `${title} audio/red: ${r.received} samples in 2 s, ${r.concealed} concealed; ${r.frames} RED frames decrypted ` +
        `(payload types ${JSON.stringify(r.worker.payloadTypes)}), ${r.bytesPerPacket.toFixed(0)} bytes per packet`,
    );
  });

  test(`Opus with RED recovers receiver-side loss (every ${DROP_EVERY}th frame dropped) with SFrame on`, async (t) => {
    if (skipWithoutRed(t)) return;
    const plain = await audioCall({ red: false, dropEvery: DROP_EVERY, ms: 6000 });
    const withRed = await audioCall({ red: true, dropEvery: DROP_EVERY, ms: 6000 });
    assert.deepEqual(Object.keys(plain.worker.mimeTypes), ['audio/opus']);
    assert.deepEqual(Object.keys(withRed.worker.mimeTypes), ['audio/red']);
    for (const r of [plain, withRed]) assert.ok(r.lost >= r.frames / DROP_EVERY - 2, `dropped ${r.lost} of ${r.frames}`);
    const fmt = (r) =>
      `${r.concealed}/${r.received} samples concealed (${(100 * r.share).toFixed(1)} %), ${r.lost} of ${r.frames} frames dropped`;
    t.diagnostic(`${title}, every ${DROP_EVERY}th audio frame dropped: Opus ${fmt(plain)}; Opus+RED ${fmt(withRed)}`);
    // Without RED the dropped fifth is concealed; RED brings most of it back.
    assert.ok(plain.share > 0.1, `without RED: ${fmt(plain)}`);
    assert.ok(withRed.share < plain.share / 3, `RED does not recover: ${fmt(withRed)} vs ${fmt(plain)}`);
  });

  // The loss in transit: a UDP relay is the peers' only path and drops every DROP_EVERY-th
  // audio packet from the sender, so the receiver's own RTP stack, jitter buffer (NetEq) and
  // RED depacketizer face real lost packets — with the RTCP, STUN and DTLS around them intact.
  // Opus in-band FEC is off in both calls: the receiver's RTCP reports the loss, and with FEC
  // on, Chromium's Opus encoder answers it with in-band FEC (measured: Opus alone then
  // conceals 6–7 % of the samples instead of 18–20 %); off, the redundancy compared is RED's.
  test(`Opus with RED recovers network loss (every ${DROP_EVERY}th audio packet dropped by a UDP relay) with SFrame on`, async (t) => {
    if (skipWithoutRed(t)) return;
    /** @param {boolean} red */
    const relayed = async (red) => {
      const relay = await startRelay(DROP_EVERY);
      try {
        return await audioCall({ red, ms: 6000, relay, opusFec: false });
      } finally {
        relay.close();
      }
    };
    const plain = await relayed(false);
    const withRed = await relayed(true);
    /** @param {any} r */
    const fmt = (r) => {
      const { span, end, decrypter, encrypter } = r.relay;
      return (
        `${r.concealed}/${r.received} samples concealed (${(100 * r.share).toFixed(1)} %), ` +
        `${span.audio.dropped} of ${span.audio.seen} audio packets dropped (inbound-rtp packetsLost ${r.packetsLost}); whole call: ` +
        `${end.forwarded.toReceiver + end.forwarded.toSender} datagrams relayed (${end.forwarded.toReceiver} to the receiver: ` +
        `${end.kinds.stun} STUN, ${end.kinds.dtls} DTLS, ${end.kinds.rtcp} RTCP, ${end.kinds.rtp - end.audio.seen - end.audio.held} video RTP, ` +
        `${end.audio.forwarded} audio RTP), ${end.audio.dropped} audio packets dropped, ${encrypter.frames} audio frames encrypted, ` +
        `${decrypter.frames} decrypted (${decrypter.errors} errors)`
      );
    };
    t.diagnostic(`${title}, every ${DROP_EVERY}th audio packet dropped in transit: Opus ${fmt(plain)}`);
    t.diagnostic(`${title}, every ${DROP_EVERY}th audio packet dropped in transit: Opus+RED ${fmt(withRed)}`);
    for (const [r, codec] of [
      [plain, 'opus'],
      [withRed, 'red'],
    ]) {
      const { ports, route, span, end, decrypter, encrypter } = r.relay;
      const what = `${codec}: ${fmt(r)}`;
      // What was negotiated and sent; the relay told the audio apart from the video.
      assert.equal(r.sdp.audioAnswer, codec);
      assert.deepEqual(Object.keys(r.worker.mimeTypes), [`audio/${codec}`]);
      assert.match(r.sdp.opusFmtp, /useinbandfec=0/);
      assert.ok(!r.sdp.audioPayloadTypes.some((pt) => r.sdp.videoPayloadTypes.includes(pt)), JSON.stringify(r.sdp));
      // The relay was the path: each side's selected pair ends at its port, and everything
      // but the dropped audio went through (ICE, DTLS, RTCP, video).
      assert.deepEqual(route, { sender: `127.0.0.1:${ports.sender}`, receiver: `127.0.0.1:${ports.receiver}` });
      assert.ok(end.kinds.stun > 0 && end.kinds.dtls > 0 && end.kinds.rtcp > 0 && end.kinds.other === 0, what);
      assert.ok(end.kinds.rtp > end.audio.seen + end.audio.held + 100, `video through the relay: ${what}`);
      assert.ok(end.forwarded.toSender > 0, what);
      // The loss: every DROP_EVERY-th audio packet, and the receiver's RTP stack saw it as loss.
      assert.equal(end.audio.dropped, Math.floor(end.audio.seen / DROP_EVERY), what);
      assert.ok(Math.abs(span.audio.dropped - span.audio.seen / DROP_EVERY) < 1, what);
      assert.ok(span.audio.seen > 150, `audio packets in the span: ${what}`);
      assert.ok(Math.abs(r.packetsLost - span.audio.dropped) <= 3, what);
      assert.ok(Math.abs(r.packetsReceived - span.audio.forwarded) <= 5, what);
      // SFrame: every frame that arrived decrypted, with no error; the lost ones never came
      // (encrypted = on the wire: forwarded + dropped, and the ones held back at the end).
      assert.equal(decrypter.frames, end.audio.forwarded, what);
      assert.equal(decrypter.framesOut, decrypter.frames, what);
      assert.equal(decrypter.errors, 0, what);
      assert.deepEqual(decrypter.failures, { authentication: 0, keyID: 0, syntax: 0 }, what);
      assert.equal(encrypter.errors, 0, what);
      assert.ok(Math.abs(encrypter.frames - (end.audio.seen + end.audio.held)) <= 10, what);
    }
    // Without RED NetEq conceals the lost fifth; with RED it rebuilds it from the next packet.
    assert.ok(plain.share > 0.1, `without RED: ${fmt(plain)}`);
    assert.ok(withRed.share < plain.share / 4, `RED does not recover: ${fmt(withRed)} vs ${fmt(plain)}`);
  });
}
