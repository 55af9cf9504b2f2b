// The in-page side of the SFU end-to-end test's codec calls (examples/sfu/codecs.test.mjs),
// not a user API (the demo's page is app.js): a page loads it with
// `await import('/examples/sfu/test-call.js')` from a function the test runs through
// puppeteer's page.evaluate, which cannot call the test's own (Node-side) helpers. It holds
// what those calls share: an animated canvas source, a Janus publisher and a subscriber to it
// in one page with SFrame on both (the package's RTCRtpSFrameEncrypter / Decrypter through
// installPolyfill()), the subscriber's inbound video figures, and the transforms' stats in a
// form that can leave the page.
import { JanusSession } from './janus.js';
import { installPolyfill } from '/sframe-wasm/js/index.js';

const CIPHER_SUITE = 'AES_128_GCM_SHA256_128';

/**
 * A `width` x `height` canvas (appended to the page) redrawn 30 times a second with moving
 * content, so that every layer has something to code; returns its 30 fps video track. The
 * drawing is laid out for 640x360 and scaled to the size.
 * @param {number} width
 * @param {number} height
 * @returns {MediaStreamTrack}
 */
function canvasTrack(width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  document.body.append(canvas);
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const kx = width / 640;
  const ky = height / 360;
  setInterval(() => {
    const t = performance.now() / 1000;
    g.fillStyle = `hsl(${(t * 40) % 360} 60% 40%)`;
    g.fillRect(0, 0, width, height);
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc((320 + Math.cos(t * 2) * 200) * kx, (180 + Math.sin(t * 3) * 100) * ky, 40 * kx, 0, Math.PI * 2);
    g.fill();
    g.font = `${28 * kx}px monospace`;
    g.fillText(new Date().toISOString().slice(11, 22), 30 * kx, 330 * ky);
  }, 1000 / 30);
  return canvas.captureStream(30).getVideoTracks()[0];
}

/**
 * Resolves once `pc` has gathered its ICE candidates (Janus takes no trickled ones here).
 * @param {RTCPeerConnection} pc
 * @returns {Promise<void>}
 */
function iceGathered(pc) {
  return new Promise((r) => {
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    if (pc.iceGatheringState === 'complete') r();
  });
}

/**
 * @typedef {object} Call
 * @property {RTCPeerConnection} pc1 the publisher's connection
 * @property {RTCPeerConnection} pc2 the subscriber's connection
 * @property {any} sub the subscriber's Janus handle (janus.js JanusHandle)
 * @property {any} subJoined the videoroom's reply to the subscriber's join (its `streams`)
 * @property {() => Promise<object>} transforms the encrypter's and the decrypter's stats,
 *   bigint-safe ({ encrypter, decrypter }, decrypter null before the subscriber's track)
 */

/**
 * Publishes an animated `width` x `height` canvas into `room` (the `codec` video codec only:
 * "vp8", "vp9", "av1"; `sendEncodings` as given to addTransceiver) and subscribes to it in
 * the same page, SFrame on both with one random key under `kid`. The subscriber's video plays
 * in a muted video element. Resolves once the subscriber has started and both keys are set.
 * @param {object} o
 * @param {number} o.room
 * @param {string} o.display the publisher's display name
 * @param {string} o.codec
 * @param {number} o.width
 * @param {number} o.height
 * @param {RTCRtpEncodingParameters[]} o.sendEncodings
 * @param {number} o.kid
 * @param {(ev: any) => void} [o.onSubscriberEvent] the subscriber handle's unsolicited Janus
 *   events, from before its join
 * @returns {Promise<Call>}
 */
export async function startCall({ room, display, codec, width, height, sendEncodings, kid, onSubscriberEvent }) {
  installPolyfill();
  const cipherSuite = CIPHER_SUITE;
  const key = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(16)), 'HKDF', false, ['deriveBits', 'deriveKey']);
  const track = canvasTrack(width, height);

  const session = await JanusSession.create('/janus');
  // Publisher. Transforms are assigned in the task that makes them (Chromium 156 bypasses a
  // transform assigned later); keys are set right after.
  const pub = await session.attach();
  const { data: joined } = await pub.request({ request: 'join', ptype: 'publisher', room, display });
  const pc1 = new RTCPeerConnection();
  const tr = pc1.addTransceiver(track, { direction: 'sendonly', sendEncodings });
  // One encrypter for the sender: every layer's frames go through it (one SFrame counter).
  const enc = new RTCRtpSFrameEncrypter({ cipherSuite });
  tr.sender.transform = enc;
  const keyCalls = [enc.setEncryptionKey(key, kid)];
  // The codec first, in its first profile (VP9 profile 0, AV1 main; VP8 has no profiles).
  const all = RTCRtpReceiver.getCapabilities('video').codecs;
  const first = all.filter((c) => c.mimeType.toLowerCase() === `video/${codec}` && !/profile(-id)?=[12]/.test(c.sdpFmtpLine ?? ''));
  tr.setCodecPreferences([...first, ...all.filter((c) => !first.includes(c))]);
  await pc1.setLocalDescription();
  await iceGathered(pc1);
  const { jsep: pubAnswer } = await pub.request(
    { request: 'publish', audio: false, video: true, videocodec: codec },
    { type: 'offer', sdp: pc1.localDescription.sdp, e2ee: true },
  );
  await pc1.setRemoteDescription(pubAnswer);

  // Subscriber, once Janus has the publisher's media ("No such feed" until then).
  const sub = await session.attach();
  if (onSubscriberEvent) sub.onevent = onSubscriberEvent;
  let subOffer;
  let subJoined;
  for (let tries = 0; ; tries++) {
    try {
      ({ data: subJoined, jsep: subOffer } = await sub.request({ request: 'join', ptype: 'subscriber', room, streams: [{ feed: joined.id }] }));
      break;
    } catch (e) {
      if (tries > 60) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const pc2 = new RTCPeerConnection();
  let dec = null;
  const remote = document.createElement('video');
  remote.muted = true;
  remote.autoplay = true;
  document.body.append(remote);
  pc2.ontrack = (e) => {
    dec = new RTCRtpSFrameDecrypter({ cipherSuite });
    e.receiver.transform = dec;
    keyCalls.push(dec.addDecryptionKey(key, kid));
    remote.srcObject = new MediaStream([e.track]);
  };
  await pc2.setRemoteDescription(subOffer);
  await pc2.setLocalDescription();
  await iceGathered(pc2);
  await sub.request({ request: 'start', room }, { type: 'answer', sdp: pc2.localDescription.sdp, e2ee: true });
  await Promise.all(keyCalls);

  return {
    pc1,
    pc2,
    sub,
    subJoined,
    async transforms() {
      const out = { encrypter: await enc.getStats(), decrypter: dec ? await dec.getStats() : null };
      // Decryptor stats carry key IDs as bigints (per-key counters, error runs): as strings,
      // so that the report can leave the page (puppeteer cannot return a bigint).
      return JSON.parse(JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
    },
  };
}

/**
 * The subscriber's inbound video figures from `pc`'s stats: codec (MIME type), frames and key
 * frames decoded, the decoded size and frame rate (0 before any); {} without inbound video.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<object>}
 */
export async function inboundVideo(pc) {
  const out = {};
  const report = await pc.getStats();
  const codecs = new Map();
  for (const s of report.values()) if (s.type === 'codec') codecs.set(s.id, s.mimeType);
  for (const s of report.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      Object.assign(out, {
        codec: codecs.get(s.codecId),
        framesDecoded: s.framesDecoded ?? 0,
        keyFramesDecoded: s.keyFramesDecoded ?? 0,
        frameWidth: s.frameWidth ?? 0,
        frameHeight: s.frameHeight ?? 0,
        framesPerSecond: s.framesPerSecond ?? 0,
      });
    }
  }
  return out;
}

/**
 * The publisher's outbound video stats in `pc`'s report, one per encoding.
 * @param {RTCPeerConnection} pc
 * @returns {Promise<any[]>}
 */
export async function outboundVideo(pc) {
  return [...(await pc.getStats()).values()].filter((s) => s.type === 'outbound-rtp' && s.kind === 'video');
}
