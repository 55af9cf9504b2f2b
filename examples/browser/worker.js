// Encoded-transform worker: one per peer. Each RTCRtpScriptTransform attached to this worker
// gets its own SFrameTransform (role from the transform's options); keys come from the page.
//
// The library is imported dynamically: a static import would delay (top-level await of the
// wasm load) the assignment of onrtctransform / onmessage, and events arriving before the
// handlers exist are lost. Handlers await `lib` instead.
const lib = import('/sframe-wasm/js/index.js');
let SFrameTransform, parseHeader, clearPrefixLength, codecForMimeType;
const loaded = lib.then((m) => {
  ({ SFrameTransform, parseHeader, clearPrefixLength, codecForMimeType } = m);
});

/** @type {{ t: SFrameTransform, kind: string }[]} */
const transforms = [];
/** Keys as the page sent them, replayed onto transforms created later: kid → CryptoKey. */
const keys = new Map();
let currentKid = null;

const errors = { authentication: 0, keyID: 0, syntax: 0 };
const errorLog = []; // first few errors: kind, type, code
const SAMPLE_BYTES = 32; // plaintext bytes compared, right after the clear codec prefix
const WIRE_BYTES = 1024;
// Evidence for the e2e test, by SFrame counter (video only).
const plain = new Map(); // sender: counter → plaintext bytes after the clear prefix
const wire = new Map(); // receiver: counter → first bytes as received (what the SFU relays)
const decrypted = new Map(); // receiver: counter → decrypted bytes after the clear prefix
let lastWire = null; // for the "what the SFU sees" panel
const wireKids = new Set();

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function codecOf(frame) {
  return codecForMimeType(frame.getMetadata?.().mimeType);
}

/** SFrame header of a protected frame (after its clear codec prefix), or null. */
function headerOf(frame) {
  const bytes = new Uint8Array(frame.data);
  const clear = clearPrefixLength(codecOf(frame), bytes);
  try {
    return { ...parseHeader(bytes.subarray(clear)), clear };
  } catch {
    return null;
  }
}

/** SAMPLE_BYTES of a plaintext frame, right after its clear codec prefix. */
function body(frame) {
  const bytes = new Uint8Array(frame.data);
  const clear = clearPrefixLength(codecOf(frame), bytes);
  return bytes.slice(clear, clear + SAMPLE_BYTES);
}

async function applyKey(t, kid, key) {
  if (t.role === 'encrypt') {
    if (kid === currentKid) await t.setEncryptionKey(key, kid);
  } else {
    await t.addDecryptionKey(key, kid);
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
  t.onerror = (e) => {
    errors[e.errorType]++;
    if (errorLog.length < 20) {
      errorLog.push({ kind, errorType: e.errorType, code: e.code, keyID: String(e.keyID) });
    }
  };
  transforms.push({ t, kind });
  for (const [kid, key] of keys) applyKey(t, kid, key);

  const pending = new WeakMap(); // frame → counter, across the decrypt step
  if (t.role === 'encrypt') {
    const before = new TransformStream({
      transform(frame, c) {
        if (kind === 'video' && frame.data.byteLength > 0) {
          pending.set(frame, body(frame));
        }
        c.enqueue(frame);
      },
    });
    const after = new TransformStream({
      transform(frame, c) {
        const p = pending.get(frame);
        const h = p && headerOf(frame);
        if (h && plain.size < 400) plain.set(String(h.counter), hex(p));
        c.enqueue(frame);
      },
    });
    readable.pipeThrough(before).pipeThrough(t).pipeThrough(after).pipeTo(writable);
  } else {
    const before = new TransformStream({
      transform(frame, c) {
        if (kind === 'video' && frame.data.byteLength > 0) {
          const h = headerOf(frame);
          const bytes = new Uint8Array(frame.data);
          if (h) {
            wireKids.add(String(h.keyId));
            pending.set(frame, String(h.counter));
            if (wire.size < 400) wire.set(String(h.counter), hex(bytes.subarray(0, WIRE_BYTES)));
          }
          lastWire = {
            size: bytes.length,
            type: frame.type,
            keyId: h ? String(h.keyId) : null,
            counter: h ? String(h.counter) : null,
            clear: h ? h.clear : null,
            bytes: bytes.slice(0, 4096),
          };
        }
        c.enqueue(frame);
      },
    });
    const after = new TransformStream({
      transform(frame, c) {
        const ctr = pending.get(frame);
        if (ctr !== undefined && decrypted.size < 400) {
          decrypted.set(ctr, hex(body(frame)));
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
        // { kid, key, current }: receivers add it; senders switch to it when current.
        keys.set(msg.kid, msg.key);
        if (msg.current) currentKid = msg.kid;
        await Promise.all(transforms.map(({ t }) => applyKey(t, msg.kid, msg.key)));
        break;
      }
      case 'streams':
        // createEncodedStreams(): the page transferred the streams to this worker.
        attach(msg.readable, msg.writable, msg.options);
        break;
      case 'removeKey': {
        keys.delete(msg.kid);
        await Promise.all(
          transforms.filter(({ t }) => t.role === 'decrypt').map(({ t }) => t.removeDecryptionKey(msg.kid)),
        );
        break;
      }
      case 'report': {
        const wireSample = lastWire;
        postMessage(
          {
            type: 'report',
            id: msg.id,
            errors: { ...errors },
            errorLog,
            transforms: transforms.map(({ t, kind }) => ({ kind, role: t.role, ...t.stats })),
            plain: msg.evidence ? Object.fromEntries(plain) : undefined,
            wire: msg.evidence ? Object.fromEntries(wire) : undefined,
            decrypted: msg.evidence ? Object.fromEntries(decrypted) : undefined,
            wireKids: [...wireKids],
            lastWire: wireSample,
          },
        );
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
    postMessage({ type: 'ack', id: msg.id, error: String(e) });
  }
};
