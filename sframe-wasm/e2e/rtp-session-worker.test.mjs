// SFrameSendStream / SFrameReceiveSession (js/rtp-session.js, SFrame over RTP:
// draft-ietf-avtcore-rtp-sframe §5 packetization, §7 per-SSRC keys; RFC 9605 §4.4.4 frames
// waiting for their key) in a dedicated module Worker of a real browser: headless Debian
// Chromium and headless Debian Firefox ESR (puppeteer-core through ./browsers.mjs). The Node
// tests (test/rtp-session*.test.mjs) cover the logic; this one shows the classes run in a
// browser worker, where there is no Node API and the wasm module is fetched.
//
// A page that imports the package starts a module Worker, which imports the package too and:
// sends 40 frames on one SSRC (suite 6, per-SSRC keys, raw key bytes); drops ~6% of the
// packets and shuffles them within windows of 8; gives them to a receive session that has no
// key yet (its frames wait: one "awaitingkey" per complete frame); then adds the key — once
// as raw bytes, once as a non-extractable HKDF CryptoKey (deriveBits + deriveKey) imported in
// the worker, whose per-SSRC and RFC 9605 §4.4.2 derivations WebCrypto runs — and polls: the
// complete frames come out in order, then 4 more frames pass straight through. The worker
// posts the events to the page; the test checks them here against the frames it regenerates.
//   node --test e2e/rtp-session-worker.test.mjs     (after bash scripts/build.sh and npm ci)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../examples/browser/serve.mjs';
import { BROWSERS, launch, label, openPage } from './browsers.mjs';

/** The frame the worker sends as number `i` (the same formula in the worker). */
const frameOf = (i, len) => Uint8Array.from({ length: len }, (_, j) => (i * 31 + j) & 0xff);
const toHex = (b) => Buffer.from(b).toString('hex');

const FRAMES = 40;
const LIVE = 4;
const KID = 5;
const SSRC = 0x5eed0001;

/**
 * The worker's message handler (serialized into the worker's source). `data`: { base (the
 * server's URL), keyKind ('bytes' | 'cryptokey'), frames, live, kid, ssrc, seed }. Posts
 * { result } or { error }.
 */
async function workerMain({ data }) {
  try {
    const { base, keyKind, frames, live, kid, ssrc, seed } = data;
    const { SFrameSendStream, SFrameReceiveSession } = await import(`${base}sframe-wasm/js/index.js`);
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const frameOf = (i, len) => Uint8Array.from({ length: len }, (_, j) => (i * 31 + j) & 0xff);
    let a = seed >>> 0; // mulberry32
    const random = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const KEY = new Uint8Array(32).fill(0x3c);
    const tx = new SFrameSendStream({ cipherSuite: 6, ssrc, payloadType: 99, maxPayloadLength: 1000, perSsrcKeys: true, firstSequence: 65530 });
    tx.setKey(kid, KEY);
    const rx = new SFrameReceiveSession({ cipherSuite: 6, perSsrcKeys: true, maxStreams: 2, maxWaitMs: 600_000 });

    // The wire: every frame's packets, ~6% dropped, shuffled within windows of 8.
    const sent = [];
    let wire = [];
    for (let i = 0; i < frames; i++) {
      const len = 100 + Math.floor(random() * 2900);
      const packets = tx.sendFrame(frameOf(i, len), i * 3000);
      const kept = packets.filter(() => random() >= 0.06);
      sent.push({ index: i, len, timestamp: i * 3000, packets: packets.length, dropped: packets.length - kept.length });
      wire.push(...kept);
    }
    const windows = [];
    for (let i = 0; i < wire.length; i += 8) {
      const w = wire.slice(i, i + 8);
      for (let j = w.length - 1; j > 0; j--) {
        const k = Math.floor(random() * (j + 1));
        [w[j], w[k]] = [w[k], w[j]];
      }
      windows.push(w);
    }
    const plain = (e) => ({
      type: e.type,
      ssrc: e.ssrc,
      keyId: e.keyId === undefined ? undefined : String(e.keyId),
      counter: e.counter === undefined ? undefined : String(e.counter),
      timestamp: e.timestamp,
      fromBuffer: e.fromBuffer,
      first: e.first,
      code: e.code,
      data: e.data === undefined ? undefined : hex(e.data),
    });

    // Before the key: the packets of each window in, then poll.
    let now = 0;
    const beforeKey = [];
    for (const w of windows) {
      for (const p of w) rx.pushPacket(p, now++);
      beforeKey.push(...rx.drain(now).map(plain));
    }
    const waitingAtKey = rx.stats().streams.find((s) => s.ssrc === ssrc)?.waiting ?? null;

    // The key.
    let cryptoKey = null;
    if (keyKind === 'cryptokey') {
      const key = await crypto.subtle.importKey('raw', KEY, 'HKDF', false, ['deriveBits', 'deriveKey']);
      const added = rx.addKey(kid, key);
      if (!(added instanceof Promise)) throw new Error('addKey(CryptoKey) did not return a Promise');
      await added;
      await rx.keysReady();
      cryptoKey = { extractable: key.extractable, usages: [...key.usages].sort(), algorithm: key.algorithm.name };
    } else {
      const r = rx.addKey(kid, KEY);
      if (r !== undefined) throw new Error('addKey(bytes) returned a value');
    }
    const afterKey = rx.drain(now).map(plain);

    // Then live frames, straight through.
    const liveEvents = [];
    for (let i = frames; i < frames + live; i++) {
      for (const p of tx.sendFrame(frameOf(i, 500 + i), i * 3000)) liveEvents.push(...rx.receive(p, now++).map(plain));
    }
    const result = {
      inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && typeof window === 'undefined',
      sent,
      wirePackets: wire.length,
      beforeKey,
      waitingAtKey,
      afterKey,
      liveEvents,
      cryptoKey,
      txFrames: tx.stats().frames,
      framesOut: rx.stats().streams.find((s) => s.ssrc === ssrc)?.framesOut ?? null,
    };
    tx.close();
    rx.close();
    self.postMessage({ result });
  } catch (e) {
    self.postMessage({ error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` });
  }
}

const WORKER_SOURCE = `self.onmessage = ${workerMain.toString()};\n`;

let server;
let baseUrl;
/** @type {Record<string, { browser: any, name: string }>} */
const browsers = {};

before(async () => {
  ({ server, url: baseUrl } = await startServer(0));
  for (const b of BROWSERS) {
    const browser = await launch(b);
    browsers[b] = { browser, name: await label(b, browser) };
  }
});

after(async () => {
  for (const { browser } of Object.values(browsers)) await browser.close().catch(() => {});
  server?.close();
});

/** In the page: imports the package, runs the worker once; resolves to its result. */
async function runInWorker(source, message) {
  const pkg = await import('/sframe-wasm/js/index.js');
  if (typeof pkg.SFrameSendStream !== 'function' || typeof pkg.SFrameReceiveSession !== 'function') {
    throw new Error('the page does not see the classes');
  }
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module' });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the worker did not answer in 60 s')), 60000);
      worker.onerror = (e) => {
        clearTimeout(timer);
        reject(new Error(`worker error: ${e.message ?? 'the module failed to load'}`));
      };
      worker.onmessage = ({ data }) => {
        clearTimeout(timer);
        if (data.error) reject(new Error(`in the worker: ${data.error}`));
        else resolve(data.result);
      };
      worker.postMessage(message);
    });
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
}

for (const which of BROWSERS) {
  for (const keyKind of ['bytes', 'cryptokey']) {
    test(`${which}: SFrameSendStream -> lossy, reordered RTP -> SFrameReceiveSession in a module Worker, late key as ${keyKind}`, async (t) => {
      const { browser, name } = browsers[which];
      const { page, pageErrors } = await openPage(browser, `${baseUrl}examples/browser/blank.html`);
      try {
        const r = await page.evaluate(runInWorker, WORKER_SOURCE, {
          base: baseUrl,
          keyKind,
          frames: FRAMES,
          live: LIVE,
          kid: KID,
          ssrc: SSRC,
          seed: 7,
        });
        assert.equal(r.inWorker, true, 'ran in a dedicated worker');
        assert.equal(r.sent.length, FRAMES);
        assert.equal(r.txFrames, FRAMES + LIVE);
        const complete = r.sent.filter((s) => s.dropped === 0);
        const droppedPackets = r.sent.reduce((n, s) => n + s.dropped, 0);
        const totalPackets = r.sent.reduce((n, s) => n + s.packets, 0);
        assert.ok(droppedPackets > 0 && complete.length >= 20 && complete.length < FRAMES, `dropped ${droppedPackets}, complete ${complete.length}`);
        assert.ok(r.sent.some((s) => s.packets > 1), 'frames span several packets');

        // Without the key: each complete frame waits, in order; nothing else happens.
        assert.deepEqual(
          r.beforeKey.map((e) => [e.type, e.keyId, e.ssrc, e.counter]),
          complete.map((s) => ['awaitingkey', String(KID), SSRC, String(s.index)]),
        );
        assert.equal(r.waitingAtKey, complete.length);

        // With it: the waiting frames in order, byte-identical; keyauthenticated once, first.
        const types = r.afterKey.map((e) => e.type);
        assert.deepEqual(types, ['frame', 'keyauthenticated', ...Array(complete.length - 1).fill('frame')]);
        const auth = r.afterKey[1];
        assert.deepEqual([auth.keyId, auth.ssrc, auth.first], [String(KID), SSRC, true]);
        const frames = r.afterKey.filter((e) => e.type === 'frame');
        assert.deepEqual(
          frames.map((e) => [e.counter, e.timestamp, e.ssrc, e.keyId, e.fromBuffer]),
          complete.map((s) => [String(s.index), s.timestamp, SSRC, String(KID), true]),
        );
        frames.forEach((e, k) => assert.equal(e.data, toHex(frameOf(complete[k].index, complete[k].len)), `frame ${complete[k].index}`));

        // Then live frames straight through; no second keyauthenticated, no failure anywhere.
        assert.deepEqual(
          r.liveEvents.map((e) => [e.type, e.counter, e.fromBuffer]),
          Array.from({ length: LIVE }, (_, k) => ['frame', String(FRAMES + k), false]),
        );
        r.liveEvents.forEach((e, k) => assert.equal(e.data, toHex(frameOf(FRAMES + k, 500 + FRAMES + k))));
        const all = [...r.beforeKey, ...r.afterKey, ...r.liveEvents];
        assert.equal(all.filter((e) => e.type === 'keyauthenticated').length, 1);
        assert.deepEqual(all.filter((e) => e.type === 'failed'), []);
        assert.equal(r.framesOut, complete.length + LIVE);

        if (keyKind === 'cryptokey') {
          assert.deepEqual(r.cryptoKey, { extractable: false, usages: ['deriveBits', 'deriveKey'], algorithm: 'HKDF' });
        } else {
          assert.equal(r.cryptoKey, null);
        }
        assert.deepEqual(pageErrors, []);
        t.diagnostic(
          `${name}, key as ${keyKind}: sent ${FRAMES} frames in ${totalPackets} packets, dropped ${droppedPackets} packets ` +
            `(${FRAMES - complete.length} frames incomplete), ${complete.length} awaited the key and came out after it, ` +
            `then ${LIVE} live frames; received ${frames.length + r.liveEvents.length} of ${FRAMES + LIVE}`,
        );
      } finally {
        await page.close().catch(() => {});
      }
    });
  }
}
