// Encoded-transform worker: one per peer. Each RTCRtpScriptTransform attached to this worker
// gets its own SFrameTransform (role and track kind from the transform's options); keys come
// from the page.
//
// One KID per sending track: the page sends, per key generation, one base key and one KID per
// track kind ({ audio, video }); each encrypter uses the KID of its own track, and each
// decrypter adds the key under the KID of the track it receives. Two encrypters must never
// share a key *and* a KID: each counts from 0, so every nonce would be used twice. The package
// refuses it ("key_in_use": rejected promise + "error" event); ?kids=shared on the page
// reproduces the mistake to show that refusal.
//
// The library is imported dynamically: a static import would delay (top-level await of the
// wasm load) the assignment of onrtctransform / onmessage, and events arriving before the
// handlers exist are lost. Handlers await `lib` instead.
const lib = Promise.all([import('/sframe-wasm/js/index.js'), import('/sframe-wasm/js/codec.js')]);
let SFrameTransform, parseHeader, clearPrefixLength, codecForMimeType, splitProtected;
const loaded = lib.then(([m, codec]) => {
  ({ SFrameTransform, parseHeader, codecForMimeType } = m);
  ({ clearPrefixLength, splitProtected } = codec);
});

/** @type {{ t: SFrameTransform, kind: string }[]} */
const transforms = [];
/** Key generations as the page sent them, replayed onto transforms created later. */
const generations = new Map(); // generation → { key: CryptoKey, kids: { audio, video } }
let currentGeneration = null;

const errorLog = []; // first few error events: kind, type, code, KID
const errorCodes = {}; // "kind/code" → error events
const keyErrors = []; // rejected key calls: kind, KID, code
const SAMPLE_BYTES = 32; // plaintext bytes compared, right after the clear codec prefix
const WIRE_BYTES = 1024;
// Evidence for the e2e test, by "KID/CTR" (video only).
const plain = new Map(); // sender: KID/CTR → plaintext bytes after the clear prefix
const wire = new Map(); // receiver: KID/CTR → first bytes as received (what the SFU relays)
const decrypted = new Map(); // receiver: KID/CTR → decrypted bytes after the clear prefix
let lastWire = null; // for the "what the SFU sees" panel
const wireKids = new Set();

// Every SFrame header on the wire (all tracks), for the nonce-uniqueness check: on the sender
// as each encrypter's output leaves the worker, on the receiver before decryption.
const MAX_HEADERS = 200000;
const headers = {
  frames: 0, // protected frames seen
  unparsed: 0, // frames without a parsable SFrame header
  perKid: {}, // KID → frames
  kinds: {}, // KID → track kinds seen with it
  seen: new Map(), // "KID/CTR" → digest of the frame bytes
  duplicates: [], // (KID, CTR) seen again with different bytes: a reused nonce
  redelivered: 0, // (KID, CTR) seen again with the same bytes: the network re-sent a frame
};

// ?sei=1 (H.264): the sender inserts an SEI NAL unit (user data, like captions) before the
// first slice of each frame; the receiver counts frames whose wire bytes / decrypted bytes
// contain it. SEI payloads must never travel in clear.
const SEI_MARKER = new TextEncoder().encode('sframe-demo caption: the words said');
const SEI_UUID = new Uint8Array(16).fill(0x5f);
const sei = { inserted: 0, onWire: 0, decrypted: 0 };

/** The frame with an SEI user_data_unregistered NAL unit inserted before its first slice. */
function withSei(bytes) {
  for (let i = 0; i + 3 < bytes.length; i++) {
    const type = bytes[i + 3] & 0x1f;
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && type >= 1 && type <= 5) {
      const at = i > 0 && bytes[i - 1] === 0 ? i - 1 : i;
      const nal = [0, 0, 0, 1, 0x06, 0x05, SEI_UUID.length + SEI_MARKER.length, ...SEI_UUID, ...SEI_MARKER, 0x80];
      const out = new Uint8Array(bytes.length + nal.length);
      out.set(bytes.subarray(0, at));
      out.set(nal, at);
      out.set(bytes.subarray(at), at + nal.length);
      return out;
    }
  }
  return bytes;
}

function contains(bytes, needle) {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** FNV-1a (32 bit) of the bytes: tells a re-delivered frame from a different one. */
function digest(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16) + ':' + bytes.length;
}

function codecOf(frame) {
  return codecForMimeType(frame.getMetadata?.().mimeType);
}

/** SFrame header of a protected frame (after its clear codec part), or null. */
function headerOf(frame) {
  try {
    const { clear, sframe } = splitProtected(codecOf(frame), new Uint8Array(frame.data));
    return { ...parseHeader(sframe), clear: clear.length };
  } catch {
    return null;
  }
}

/** Records the SFrame header of a frame on the wire. */
function recordHeader(frame, kind) {
  if (frame.data.byteLength === 0) return null;
  headers.frames++;
  const h = headerOf(frame);
  if (!h) {
    headers.unparsed++;
    return null;
  }
  const kid = String(h.keyId);
  const id = `${kid}/${h.counter}`;
  headers.perKid[kid] = (headers.perKid[kid] ?? 0) + 1;
  (headers.kinds[kid] ??= []).includes(kind) || headers.kinds[kid].push(kind);
  const d = digest(new Uint8Array(frame.data));
  const before = headers.seen.get(id);
  if (before === undefined) {
    if (headers.seen.size < MAX_HEADERS) headers.seen.set(id, d);
  } else if (before === d) {
    headers.redelivered++;
  } else if (headers.duplicates.length < 50) {
    headers.duplicates.push({ kid, counter: String(h.counter), kind });
  }
  return h;
}

/** SAMPLE_BYTES of a plaintext frame, right after its clear codec part. */
function body(frame) {
  const bytes = new Uint8Array(frame.data);
  const clear = clearPrefixLength(codecOf(frame), bytes);
  return bytes.slice(clear, clear + SAMPLE_BYTES);
}

/** Gives transform `t` (of track `kind`) the key of `generation`, under its track's KID. */
async function applyKey(t, kind, generation) {
  const g = generations.get(generation);
  const kid = g?.kids[kind];
  if (kid === undefined) return;
  try {
    if (t.role === 'encrypt') {
      if (generation === currentGeneration) await t.setEncryptionKey(g.key, kid);
    } else {
      await t.addDecryptionKey(g.key, kid);
    }
  } catch (e) {
    keyErrors.push({ kind, role: t.role, kid: String(kid), code: e?.code ?? String(e) });
    throw e;
  }
}

// RTCRtpScriptTransform: the browser hands us the sender's / receiver's encoded streams.
onrtctransform = async (event) => {
  await loaded;
  const { readable, writable, options } = event.transformer;
  attach(readable, writable, options);
};

/** Sets up one SFrameTransform between a readable and a writable of encoded frames. */
function attach(readable, writable, options) {
  const kind = options.kind;
  const t = new SFrameTransform({ role: options.role, cipherSuite: options.cipherSuite });
  // Decrypters fire one event per run of identical failures (sframe-wasm README, "Error
  // events: one per run"): frames are counted in their stats (report's `errors`).
  t.onerror = (e) => {
    errorCodes[`${kind}/${e.code}`] = (errorCodes[`${kind}/${e.code}`] ?? 0) + 1;
    if (errorLog.length < 20) {
      errorLog.push({ kind, errorType: e.errorType, code: e.code, keyID: String(e.keyID) });
    }
  };
  transforms.push({ t, kind });
  for (const generation of generations.keys()) applyKey(t, kind, generation).catch(() => {});

  const pending = new WeakMap(); // frame → evidence, across the SFrame step
  if (t.role === 'encrypt') {
    const before = new TransformStream({
      transform(frame, c) {
        if (options.sei && kind === 'video' && codecOf(frame) === 'h264' && frame.data.byteLength > 0) {
          const bytes = withSei(new Uint8Array(frame.data));
          if (bytes.length !== frame.data.byteLength) sei.inserted++;
          frame.data = bytes.buffer;
        }
        if (kind === 'video' && frame.data.byteLength > 0) {
          pending.set(frame, body(frame));
        }
        c.enqueue(frame);
      },
    });
    const after = new TransformStream({
      transform(frame, c) {
        const h = recordHeader(frame, kind);
        const p = pending.get(frame);
        if (h && p && plain.size < 400) plain.set(`${h.keyId}/${h.counter}`, hex(p));
        c.enqueue(frame);
      },
    });
    readable.pipeThrough(before).pipeThrough(t).pipeThrough(after).pipeTo(writable);
  } else {
    const before = new TransformStream({
      transform(frame, c) {
        const h = recordHeader(frame, kind);
        if (kind === 'video' && frame.data.byteLength > 0) {
          const bytes = new Uint8Array(frame.data);
          if (contains(bytes, SEI_MARKER)) sei.onWire++;
          if (h) {
            const id = `${h.keyId}/${h.counter}`;
            wireKids.add(String(h.keyId));
            pending.set(frame, id);
            if (wire.size < 400) wire.set(id, hex(bytes.subarray(0, WIRE_BYTES)));
          }
          lastWire = {
            size: bytes.length,
            type: frame.type,
            keyId: h ? String(h.keyId) : null,
            counter: h ? String(h.counter) : null,
            headerLength: h ? h.headerLength : null,
            clear: h ? h.clear : null,
            bytes: bytes.slice(0, 4096),
          };
        }
        c.enqueue(frame);
      },
    });
    const after = new TransformStream({
      transform(frame, c) {
        const id = pending.get(frame);
        if (kind === 'video' && contains(new Uint8Array(frame.data), SEI_MARKER)) sei.decrypted++;
        if (id !== undefined && decrypted.size < 400) {
          decrypted.set(id, hex(body(frame)));
        }
        c.enqueue(frame);
      },
    });
    readable.pipeThrough(before).pipeThrough(t).pipeThrough(after).pipeTo(writable);
  }
}

onmessage = async ({ data: msg }) => {
  try {
    await loaded;
    switch (msg.type) {
      case 'key': {
        // { generation, key, kids: { audio, video }, current }: decrypters add the key under
        // their track's KID; encrypters switch to it when current.
        generations.set(msg.generation, { key: msg.key, kids: msg.kids });
        if (msg.current) currentGeneration = msg.generation;
        await Promise.all(transforms.map(({ t, kind }) => applyKey(t, kind, msg.generation)));
        break;
      }
      case 'streams':
        // createEncodedStreams(): the page transferred the streams to this worker.
        attach(msg.readable, msg.writable, msg.options);
        break;
      case 'removeKey': {
        // { generation }: decrypters forget the generation's KIDs.
        const g = generations.get(msg.generation);
        generations.delete(msg.generation);
        if (g) {
          await Promise.all(
            transforms
              .filter(({ t, kind }) => t.role === 'decrypt' && g.kids[kind] !== undefined)
              .map(({ t, kind }) => t.removeDecryptionKey(g.kids[kind])),
          );
        }
        break;
      }
      case 'report': {
        const wireSample = lastWire;
        postMessage({
          type: 'report',
          id: msg.id,
          errors: failuresOf(transforms.map(({ t }) => t.stats)),
          errorLog,
          errorCodes: { ...errorCodes },
          keyErrors,
          sei: { ...sei },
          // Key IDs in the stats are bigints: strings, for the page's JSON consumers.
          transforms: JSON.parse(
            JSON.stringify(
              transforms.map(({ t, kind }) => ({ kind, role: t.role, ...t.stats })),
              (_, v) => (typeof v === 'bigint' ? String(v) : v),
            ),
          ),
          plain: msg.evidence ? Object.fromEntries(plain) : undefined,
          wire: msg.evidence ? Object.fromEntries(wire) : undefined,
          decrypted: msg.evidence ? Object.fromEntries(decrypted) : undefined,
          headers: {
            frames: headers.frames,
            unparsed: headers.unparsed,
            unique: headers.seen.size,
            perKid: { ...headers.perKid },
            kinds: structuredClone(headers.kinds),
            duplicates: headers.duplicates,
            redelivered: headers.redelivered,
          },
          wireKids: [...wireKids],
          lastWire: wireSample,
        });
        return;
      }
      case 'resetEvidence':
        plain.clear();
        wire.clear();
        decrypted.clear();
        wireKids.clear();
        break;
      default:
        throw new Error(`unknown message ${msg.type}`);
    }
    postMessage({ type: 'ack', id: msg.id });
  } catch (e) {
    postMessage({ type: 'ack', id: msg.id, error: String(e), code: e?.code });
  }
};

/** Failed frames by errorType, summed over the transforms' stats. */
function failuresOf(stats) {
  const sum = { authentication: 0, keyID: 0, syntax: 0 };
  for (const s of stats) for (const k of Object.keys(sum)) sum[k] += s.failures[k];
  return sum;
}
