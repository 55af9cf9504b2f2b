// Encoded-transform worker of the Janus demo page with ?api=worker (the e2e test's mode: it
// records evidence; the page's default, ?api=rtp, uses sframe-wasm's main-thread
// RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter instead). Every RTCRtpScriptTransform of the
// page lands here: the encrypters of our own audio and video (options.role = "encrypt") and one
// decrypter per track of every remote feed (role "decrypt", with the feed's participant
// number): sframe-wasm's SFrameEncrypterStream / SFrameDecrypterStream (W3C stream objects).
//
// KIDs (sframe-wasm/README.md, RFC 9605 §5.2 layout with the track as context):
//   KID = track << 10 | participant << 4 | epoch mod 16        (audio = 0, video = 1)
// The page hands us one base key per epoch — the epoch secret of the demo key service, the
// same for every member, as an MLS exporter secret would be — and RFC 9605 §4.4.2 derives a
// distinct key and salt per KID, i.e. per participant and track.
//
// Evidence for the e2e test: samples of the plaintext each encrypter saw (by KID/CTR), every
// SFrame header leaving our encrypters, and per feed the KIDs decrypted and error events.
import { errorsFromStats } from './stats.js';

const lib = Promise.all([import('/sframe-wasm/js/index.js'), import('/sframe-wasm/js/codec.js')]);
let SFrameEncrypterStream, SFrameDecrypterStream, parseHeader, codecForMimeType, clearPrefixLength, splitProtected;
const loaded = lib.then(([m, codec]) => {
  ({ SFrameEncrypterStream, SFrameDecrypterStream, parseHeader, codecForMimeType } = m);
  ({ clearPrefixLength, splitProtected } = codec);
});

const TRACK = { audio: 0, video: 1 };
const kidOf = (kind, participant, epoch) => TRACK[kind] * 2 ** 10 + participant * 2 ** 4 + (epoch % 16);

/** @type {{ t: SFrameEncrypterStream | SFrameDecrypterStream, role: string, kind: string, participant: number }[]} */
const transforms = [];
const epochs = new Map(); // epoch → CryptoKey (kept epochs only)
let sendEpoch = null;

// ---- evidence ----------------------------------------------------------------------------
const SAMPLE = { video: 32, audio: 16 }; // plaintext bytes kept per frame, after the clear part
const MAX_SAMPLES = 1500; // per track kind
const samples = { video: new Map(), audio: new Map() }; // "KID/CTR" → hex
const sent = { frames: 0, perKid: {}, seen: new Set(), duplicates: [], unparsed: 0 };
const feeds = {}; // participant → { frames, decrypted: {KID: n}, errors: {type: n}, codes: {code: n}, wire: {KID: n} }
const keyErrors = [];

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const codecOf = (frame) => codecForMimeType(frame.getMetadata?.().mimeType);
function feed(p) {
  return (feeds[p] ??= { frames: 0, decrypted: {}, errors: {}, codes: {}, wire: {} });
}
function headerOf(frame) {
  try {
    const { sframe } = splitProtected(codecOf(frame), new Uint8Array(frame.data));
    return parseHeader(sframe);
  } catch {
    return null;
  }
}

async function applyKeys(entry) {
  const { t, role, kind, participant } = entry;
  try {
    if (role === 'encrypt') {
      if (sendEpoch !== null && epochs.has(sendEpoch)) {
        await t.setEncryptionKey(epochs.get(sendEpoch), kidOf(kind, participant, sendEpoch));
      }
    } else {
      for (const [epoch, key] of epochs) await t.addDecryptionKey(key, kidOf(kind, participant, epoch));
    }
  } catch (e) {
    keyErrors.push({ role, kind, participant, code: e?.code ?? String(e) });
  }
}

onrtctransform = async ({ transformer }) => {
  await loaded;
  const { readable, writable, options } = transformer;
  const { role, kind, participant } = options;
  const cipherSuite = 'AES_128_GCM_SHA256_128';
  const t = role === 'encrypt' ? new SFrameEncrypterStream({ cipherSuite }) : new SFrameDecrypterStream({ cipherSuite });
  const entry = { t, role, kind, participant };
  transforms.push(entry);
  if (role === 'decrypt') {
    // Frames that fail are dropped; each fires an error event (W3C errorType + core code).
    t.onerror = (e) => {
      const f = feed(participant);
      f.errors[e.errorType] = (f.errors[e.errorType] ?? 0) + 1;
      f.codes[`${kind}/${e.code}`] = (f.codes[`${kind}/${e.code}`] ?? 0) + 1;
    };
  }
  applyKeys(entry);

  const pending = new WeakMap();
  let before;
  let after;
  if (role === 'encrypt') {
    before = new TransformStream({
      transform(frame, c) {
        if (frame.data.byteLength > 0) {
          const bytes = new Uint8Array(frame.data);
          const clear = clearPrefixLength(codecOf(frame), bytes);
          pending.set(frame, bytes.slice(clear, clear + SAMPLE[kind]));
        }
        c.enqueue(frame);
      },
    });
    after = new TransformStream({
      transform(frame, c) {
        if (frame.data.byteLength > 0) {
          sent.frames++;
          const h = headerOf(frame);
          if (!h) sent.unparsed++;
          else {
            const id = `${h.keyId}/${h.counter}`;
            sent.perKid[h.keyId] = (sent.perKid[h.keyId] ?? 0) + 1;
            if (sent.seen.has(id)) sent.duplicates.push(id);
            else sent.seen.add(id);
            const p = pending.get(frame);
            if (p && p.length === SAMPLE[kind] && samples[kind].size < MAX_SAMPLES) samples[kind].set(id, hex(p));
          }
        }
        c.enqueue(frame);
      },
    });
  } else {
    const f = feed(participant);
    before = new TransformStream({
      transform(frame, c) {
        if (frame.data.byteLength > 0) {
          f.frames++;
          const h = headerOf(frame);
          if (h) {
            pending.set(frame, String(h.keyId));
            f.wire[h.keyId] = (f.wire[h.keyId] ?? 0) + 1;
          }
        }
        c.enqueue(frame);
      },
    });
    after = new TransformStream({
      transform(frame, c) {
        const kid = pending.get(frame);
        if (kid !== undefined) f.decrypted[kid] = (f.decrypted[kid] ?? 0) + 1;
        c.enqueue(frame);
      },
    });
  }
  readable.pipeThrough(before).pipeThrough(t).pipeThrough(after).pipeTo(writable).catch(() => {});
};

onmessage = async ({ data: msg }) => {
  let reply = {};
  try {
    await loaded; // a failed load of the package is reported to the page, not swallowed
    switch (msg.type) {
      case 'epoch':
        // A new epoch's base key: decrypters accept it at once.
        epochs.set(msg.epoch, msg.key);
        await Promise.all(transforms.filter((e) => e.role === 'decrypt').map(applyKeys));
        break;
      case 'send':
        // Encrypters switch to an epoch (the page waits a moment after 'epoch' so that
        // every member has added the key before frames under it arrive).
        sendEpoch = msg.epoch;
        await Promise.all(transforms.filter((e) => e.role === 'encrypt').map(applyKeys));
        break;
      case 'retire': {
        // Decrypters forget an old epoch.
        epochs.delete(msg.epoch);
        await Promise.all(
          transforms
            .filter((e) => e.role === 'decrypt')
            .map((e) => e.t.removeDecryptionKey(kidOf(e.kind, e.participant, msg.epoch)).catch(() => {})),
        );
        break;
      }
      case 'report':
        reply = {
          sent: { ...sent, seen: sent.seen.size, perKid: { ...sent.perKid } },
          feeds: errorsFromStats(feeds, transforms.map(({ t, role, participant }) => ({ role, participant, ...t.stats }))),
          keyErrors,
          epochs: [...epochs.keys()],
          sendEpoch,
          transforms: transforms.map(({ t, role, kind, participant }) => ({ role, kind, participant, ...t.stats })),
          samples: msg.samples
            ? { video: Object.fromEntries(samples.video), audio: Object.fromEntries(samples.audio) }
            : undefined,
        };
        break;
      default:
        throw new Error(`unknown message ${msg.type}`);
    }
    postMessage({ id: msg.id, ...reply });
  } catch (e) {
    postMessage({ id: msg.id, error: String(e), code: e?.code });
  }
};
