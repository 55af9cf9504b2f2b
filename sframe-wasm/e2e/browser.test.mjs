// Real-browser end-to-end test: headless Debian Chromium (driven by playwright-core, never a
// downloaded browser) opens the demo page (examples/browser) served on localhost. Two
// RTCPeerConnections in loopback, sframe-wasm's SFrameTransform in an RTCRtpScriptTransform
// worker on both sides.
//   npm ci && node --test e2e/      (after bash scripts/build.sh)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer } from '../../examples/browser/serve.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let server;
let browser;
let baseUrl;

before(async () => {
  ({ server, url: baseUrl } = await startServer(0));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (or fails after timeoutMs). */
async function until(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(250);
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function openCall(query) {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(`${baseUrl}?${query}`);
  await page.waitForFunction(() => window.demo !== undefined);
  await page.evaluate(() => window.demo.ready);
  const stats = () => page.evaluate(() => window.demo.stats());
  const report = (evidence = false) => page.evaluate((e) => window.demo.report(e), evidence);
  return { page, stats, report, pageErrors };
}

/** What the two workers recorded, by SFrame counter, for video frames. */
function checkEvidence(rep) {
  const { plain } = rep.sender;
  const { wire, decrypted } = rep.receiver;
  const counters = Object.keys(decrypted).filter((c) => plain[c] && wire[c]);
  assert.ok(counters.length >= 10, `only ${counters.length} frames with full evidence`);
  for (const c of counters) {
    // Decryption restores exactly what the sender's encoder produced...
    assert.equal(decrypted[c], plain[c], `frame ${c} decrypts to the sent plaintext`);
    // ...and the bytes between the peers do not contain that plaintext.
    assert.ok(!wire[c].includes(plain[c]), `frame ${c} travels encrypted`);
  }
  // No plaintext (past the clear codec header) shows up anywhere on the wire.
  const wireAll = Object.values(wire).join('|');
  for (const c of counters) {
    assert.ok(!wireAll.includes(plain[c]), `plaintext of frame ${c} seen on the wire`);
  }
  return counters.length;
}

const CASES = [
  { codec: 'VP8', api: 'script', via: 'RTCRtpScriptTransform' },
  { codec: 'H264', api: 'script', via: 'RTCRtpScriptTransform' },
  { codec: 'VP8', api: 'streams', via: 'createEncodedStreams()' },
];

for (const { codec, api, via } of CASES) {
  test(`${codec} + Opus loopback via ${via}: decodes with the right key, stops with a wrong one`, async (t) => {
    const { page, stats, report, pageErrors } = await openCall(`codec=${codec}&api=${api}&rotate=0`);
    try {
      // 1. Right key: video frames decode and audio samples come from decoding.
      const s0 = await until('video frames decoded', async () => {
        const s = await stats();
        return s.video.framesDecoded > 20 && s.audio.decodedSamples > 48000 ? s : null;
      });
      assert.match(s0.video.codec, new RegExp(`video/${codec}`, 'i'));
      await sleep(1000);
      const s1 = await stats();
      assert.ok(s1.video.framesDecoded > s0.video.framesDecoded, 'video keeps decoding');
      assert.ok(s1.audio.decodedSamples > s0.audio.decodedSamples, 'audio keeps decoding');
      // The decrypted video is shown: full size, with the source's picture (not black/blank).
      const pic = await page.evaluate(() => window.demo.pictures());
      assert.equal(pic.remote.width, 640, JSON.stringify(pic));
      assert.ok(pic.remote.spread > 10, `remote video looks blank: ${JSON.stringify(pic)}`);
      assert.ok(Math.abs(pic.remote.mean - pic.source.mean) < 25, `remote differs from source: ${JSON.stringify(pic)}`);
      const rep = await report(true);
      const n = checkEvidence(rep);
      t.diagnostic(
        `${codec}: ${s1.video.framesDecoded} frames decoded, ${n} frames compared, ` +
          `picture mean ${pic.remote.mean.toFixed(0)} (source ${pic.source.mean.toFixed(0)}), spread ${pic.remote.spread.toFixed(0)}`,
      );
      assert.deepEqual(rep.receiver.errors, { authentication: 0, keyID: 0, syntax: 0 }, JSON.stringify(rep.receiver.errorLog));

      // 2. Key rotation: the wire carries the new KID and decoding goes on.
      await page.evaluate(() => window.demo.rotate());
      await page.evaluate(() => window.demo.resetEvidence());
      const kid = await page.evaluate(() => window.demo.kid);
      await until('frames under the new KID', async () => (await report()).receiver.wireKids.includes(String(kid)));
      const r0 = await stats();
      await sleep(1500);
      const r1 = await stats();
      assert.ok(r1.video.framesDecoded > r0.video.framesDecoded + 10, 'video decodes after rotation');
      checkEvidence(await report(true));

      // 3. Wrong key at the receiver: "authentication" errors, decoding stops.
      await page.evaluate(() => window.demo.receiverKey('wrong'));
      await until('authentication errors', async () => (await report()).receiver.errors.authentication > 20);
      await sleep(1000); // frames decrypted before the switch drain out
      const w0 = await stats();
      await sleep(2500);
      const w1 = await stats();
      assert.equal(w1.video.framesDecoded, w0.video.framesDecoded, 'no video decoded with a wrong key');
      assert.ok(
        w1.audio.decodedSamples - w0.audio.decodedSamples < 4800,
        `audio not decoded with a wrong key (${w1.audio.decodedSamples - w0.audio.decodedSamples} samples)`,
      );

      // 4. No key for the KID: "keyID" errors.
      await page.evaluate(() => window.demo.receiverKey('remove'));
      await until('keyID errors', async () => (await report()).receiver.errors.keyID > 20);

      // 5. Right key again: decoding resumes (after a key-frame request).
      await page.evaluate(() => window.demo.receiverKey('right'));
      const back = await stats();
      await until('video decoding again', async () => (await stats()).video.framesDecoded > back.video.framesDecoded + 10);
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });
}
