// Real-browser test of the drop-in polyfill, in headless Debian Chromium and headless Debian
// Firefox ESR (puppeteer-core through ./browsers.mjs, never a downloaded browser), a page that only imports the package and calls installPolyfill(), then
// a loopback call of two RTCPeerConnections in that page with
//   sender.transform   = new RTCRtpSFrameEncryptor({ cipherSuite })
//   receiver.transform = new RTCRtpSFrameDecryptor({ cipherSuite })
// — the package's own module worker does the work; the page has no worker or transform code.
// Fake camera (VP8) and microphone (Opus). Checks: no frame leaves before the key is set (the
// encryptors count what they dropped, the receiver gets nothing), video and audio decode once
// keys are set (one KID per sending track), and a wrong key at the receiver gives "error"
// events with errorType "authentication" on the main thread while decoding stops.
//   node --test e2e/polyfill.test.mjs      (after bash scripts/build.sh and npm ci)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSERS, launch, label } from './browsers.mjs';

// The page: the package and installPolyfill(), nothing else.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sframe-wasm polyfill</title>
<script type="module">
  import { installPolyfill } from '/js/index.js';
  window.installed = Object.keys(installPolyfill());
  window.ready = true;
</script>`;

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves / (the page), /js/* and /pkg/* of the package on 127.0.0.1 (a free port). */
function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const rel = normalize(path.slice(1));
    if (rel.startsWith('..') || !['js' + sep, 'pkg' + sep].some((p) => rel.startsWith(p))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(PACKAGE, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

let server;
let base;
/** @type {Record<string, { browser: any, name: string }>} */
const browsers = {};

before(async () => {
  server = await serve();
  base = `http://127.0.0.1:${server.address().port}/`;
  for (const b of BROWSERS) {
    const browser = await launch(b);
    browsers[b] = { browser, name: await label(b, browser) };
  }
});

after(async () => {
  for (const { browser } of Object.values(browsers)) await browser.close().catch(() => {});
  await new Promise((r) => (server ? server.close(r) : r()));
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(250);
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)}; ${JSON.stringify(globalThis.lastStats)})`);
}

/**
 * Sets up the call in the page: window.call with the transforms, key helpers and stats.
 * Runs in the browser; uses only the globals installPolyfill() defined.
 */
function setUpCall(suite) {
  const log = { errors: [], keyErrors: [] };
  const kid = { audio: 1, video: 2 }; // one KID per sending track
  const call = (window.call = { log, kid });
  call.start = async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    const pc1 = new RTCPeerConnection();
    const pc2 = new RTCPeerConnection();
    pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
    pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
    call.enc = {};
    call.dec = {};
    for (const track of stream.getTracks()) {
      const tr = pc1.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      // The encryptor is in place before the first frame: no key yet, so nothing leaves.
      tr.sender.transform = call.enc[track.kind] = new RTCRtpSFrameEncryptor({ cipherSuite: suite });
      if (track.kind === 'video') {
        const vp8 = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => /vp8/i.test(c.mimeType));
        tr.setCodecPreferences(vp8);
      }
    }
    pc2.ontrack = ({ track, receiver }) => {
      const dec = (call.dec[track.kind] = new RTCRtpSFrameDecryptor({ cipherSuite: suite }));
      dec.onerror = (e) => {
        log.errors.push({
          kind: track.kind,
          errorType: e.errorType,
          keyID: e.keyID === null ? null : String(e.keyID),
          code: e.code,
          previousRun: e.previousRun && { ...e.previousRun, keyID: String(e.previousRun.keyID) },
          isEvent: e instanceof SFrameTransformErrorEvent,
          targetOk: e.target === dec,
          frame: e.frame === null ? 'null' : (e.frame?.constructor?.name ?? typeof e.frame),
        });
      };
      receiver.transform = dec;
      // Played out, so that Chromium decodes it (totalSamplesReceived counts played samples).
      const el = document.createElement(track.kind);
      el.muted = track.kind === 'video';
      el.srcObject = new MediaStream([track]);
      document.body.append(el);
      el.play().catch(() => {});
    };
    await pc1.setLocalDescription();
    await pc2.setRemoteDescription(pc1.localDescription);
    await pc2.setLocalDescription();
    await pc1.setRemoteDescription(pc2.localDescription);
    call.pc1 = pc1;
    call.pc2 = pc2;
  };
  const hkdf = (fill) => crypto.subtle.importKey('raw', new Uint8Array(16).fill(fill), 'HKDF', false, ['deriveBits']);
  call.senderKeys = async (fill) => {
    const key = await hkdf(fill);
    await Promise.all(['audio', 'video'].map((k) => call.enc[k].setEncryptionKey(key, kid[k])));
    return key.extractable;
  };
  call.receiverKeys = async (fill) => {
    const key = await hkdf(fill);
    await Promise.all(['audio', 'video'].map((k) => call.dec[k].addDecryptionKey(key, kid[k])));
  };
  call.stats = async () => {
    const out = { video: { framesDecoded: 0, packetsReceived: 0 }, audio: { totalSamplesReceived: 0, packetsReceived: 0 } };
    for (const r of (await call.pc2.getStats()).values()) {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out.video = { framesDecoded: r.framesDecoded ?? 0, packetsReceived: r.packetsReceived ?? 0 };
      }
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.audio = { totalSamplesReceived: r.totalSamplesReceived ?? 0, packetsReceived: r.packetsReceived ?? 0 };
      }
    }
    for (const side of ['enc', 'dec']) {
      out[side] = {};
      for (const k of ['audio', 'video']) out[side][k] = call[side][k] ? await call[side][k].getStats() : null;
    }
    // Key IDs in the stats are bigints: as strings, to cross page.evaluate.
    return JSON.parse(JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  };
}

for (const which of BROWSERS) {
  test(`${which}: RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor in a loopback call: no frame before the key, decoding with it, authentication errors with a wrong one`, async (t) => {
    const { browser } = browsers[which];
    t.diagnostic(browsers[which].name);
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    try {
      await page.goto(base);
      await page.waitForFunction(() => window.ready === true);
      const installed = await page.evaluate(() => window.installed);
      assert.deepEqual(
        installed.sort(),
        [
          'RTCRtpSFrameDecrypter',
          'RTCRtpSFrameDecryptor',
          'RTCRtpSFrameEncrypter',
          'RTCRtpSFrameEncryptor',
          'SFrameDecrypterStream',
          'SFrameDecryptorStream',
          'SFrameEncrypterStream',
          'SFrameEncryptorStream',
          'SFrameTransform',
          'SFrameTransformErrorEvent',
        ],
        'Chromium has none of them natively',
      );
      // The objects are real RTCRtpScriptTransforms (the browser's setter takes them, and
      // refuses anything else); per-packet is refused.
      const shape = await page.evaluate(() => {
        const e = new RTCRtpSFrameEncryptor({ cipherSuite: 'AES_128_GCM_SHA256_128' });
        const sender = new RTCPeerConnection().addTransceiver('video').sender;
        sender.transform = e;
        let plainObject;
        try {
          sender.transform = {};
        } catch (err) {
          plainObject = err.name;
        }
        let perPacket;
        try {
          new RTCRtpSFrameDecryptor({ cipherSuite: 'AES_128_GCM_SHA256_128', type: 'per-packet' });
        } catch (err) {
          perPacket = `${err.constructor.name}/${err.name}`;
        }
        return {
          accepted: sender.transform === e,
          plainObject,
          tag: Object.prototype.toString.call(e),
          isEncryptor: e instanceof RTCRtpSFrameEncryptor,
          // The #308 name installed alongside is the same class.
          isEncrypter: e instanceof RTCRtpSFrameEncrypter && RTCRtpSFrameEncrypter === RTCRtpSFrameEncryptor,
          perPacket,
        };
      });
      assert.deepEqual(shape, {
        accepted: true,
        plainObject: 'TypeError',
        tag: '[object RTCRtpSFrameEncryptor]',
        isEncryptor: true,
        isEncrypter: true,
        perPacket: 'DOMException/NotSupportedError',
      });

      await page.evaluate(setUpCall, 'AES_256_CTR_HMAC_SHA512_80');
      await page.evaluate(() => window.call.start());
      const stats = () => page.evaluate(() => window.call.stats());

      // 1. No key yet: the encoders run, the encryptors drop and count every frame, nothing
      //    reaches the receiver.
      const noKey = await until('frames dropped before the key', async () => {
        const s = await stats();
        return s.enc.video.droppedNoKey > 20 && s.enc.audio.droppedNoKey > 50 ? s : null;
      });
      await sleep(500);
      const noKey2 = await stats();
      assert.equal(noKey2.enc.video.frames, noKey2.enc.video.droppedNoKey + noKey2.enc.video.passedThrough);
      assert.equal(noKey2.enc.audio.frames, noKey2.enc.audio.droppedNoKey + noKey2.enc.audio.passedThrough);
      assert.equal(noKey2.video.framesDecoded, 0);
      assert.equal(noKey2.dec.video?.frames ?? 0, 0, 'no video frame reached the receiver');
      assert.equal(noKey2.dec.audio?.frames ?? 0, 0, 'no audio frame reached the receiver');
      t.diagnostic(`before the key: dropped ${noKey2.enc.video.droppedNoKey} video and ${noKey2.enc.audio.droppedNoKey} audio frames`);
      assert.ok(noKey.enc.video.droppedNoKey > 0);

      // 2. Keys on both sides (non-extractable HKDF CryptoKeys, posted to the worker): decoding.
      const receiverReady = await until('receivers', () => page.evaluate(() => Boolean(window.call.dec.audio && window.call.dec.video)));
      assert.ok(receiverReady);
      await page.evaluate(() => window.call.receiverKeys(0x42));
      assert.equal(await page.evaluate(() => window.call.senderKeys(0x42)), false, 'the key stays non-extractable');
      const s0 = await until('video and audio decoding', async () => {
        const s = await stats();
        return s.video.framesDecoded > 20 && s.audio.totalSamplesReceived > 48000 ? s : ((globalThis.lastStats = s), null);
      });
      await sleep(1000);
      const s1 = await stats();
      assert.ok(s1.video.framesDecoded > s0.video.framesDecoded, 'video keeps decoding');
      assert.ok(s1.dec.video.frames > 20 && s1.dec.audio.frames > 50, JSON.stringify(s1.dec));
      assert.equal(s1.dec.video.errors + s1.dec.audio.errors, 0, 'no decryption error with the right key');
      assert.deepEqual(await page.evaluate(() => window.call.log.errors), []);
      t.diagnostic(`with the key: ${s1.video.framesDecoded} video frames decoded, ${s1.dec.audio.frames} audio frames decrypted`);

      // 3. Wrong key at the receiver: every frame fails; one "authentication" error event per
      // track on the main thread (a run of identical failures, W3C issue #307), the rest
      // counted; decoding stops.
      await page.evaluate(() => window.call.receiverKeys(0x24));
      const failing = await until('authentication failures on both tracks', async () => {
        const s = await stats();
        return s.dec.video.errors > 20 && s.dec.audio.errors > 20 ? s : null;
      });
      const errors = await page.evaluate(() => window.call.log.errors);
      for (const e of errors) {
        assert.equal(e.errorType, 'authentication');
        assert.equal(e.code, 'authentication_failed');
        assert.equal(e.isEvent, true);
        assert.equal(e.targetOk, true);
        assert.equal(e.keyID, String(e.kind === 'audio' ? 1 : 2));
        assert.equal(e.previousRun, null);
      }
      assert.deepEqual(errors.map((e) => e.kind).sort(), ['audio', 'video'], 'one event per track');
      for (const k of ['audio', 'video']) {
        const d = failing.dec[k];
        assert.equal(d.errorEvents, 1, k);
        assert.equal(d.errorsSuppressed, d.errors - 1, k);
        assert.deepEqual([d.currentErrorRun.errorType, d.currentErrorRun.count], ['authentication', d.errors], k);
      }
      t.diagnostic(`error event frame on the main thread: ${[...new Set(errors.map((e) => e.frame))].join(', ')}`);
      await sleep(1000); // frames decrypted before the switch drain out
      const w0 = await stats();
      await sleep(2000);
      const w1 = await stats();
      assert.equal(w1.video.framesDecoded, w0.video.framesDecoded, 'no video decoded with a wrong key');
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });
}

