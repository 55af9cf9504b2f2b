// Real-browser end-to-end test, in headless Debian Chromium and headless Debian Firefox ESR
// (both driven by puppeteer-core, see browsers.mjs; never a downloaded browser): the demo page
// (examples/browser) served on 127.0.0.1. Two RTCPeerConnections in loopback, sframe-wasm's
// SFrameTransform in an RTCRtpScriptTransform worker on both sides. The page sends audio and
// video, each track through its own encrypter with its own KID (one KID per sending track); the
// workers record every SFrame header on the wire (sender: as each encrypter's output leaves;
// receiver: before decryption). The demo's default, the W3C main-thread API
// (RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter from the package's installPolyfill()), keeps its
// frames in the package's worker: those cases check what the main thread sees (decoding, key
// refusals, decrypter "error" events, getStats(), the encryptors' wire through the package's
// observeWire extension as the page's SFU panel draws it) and, with the receiver in worker.js
// (?receiver=script), the wire the main-thread encrypters produce; ?api=script puts both sides
// in worker.js for the byte-level evidence. Every case runs in both browsers, except where one lacks
// the feature: createEncodedStreams() is Chromium's, and H.264 runs where the browser offers it
// (Debian's Firefox has no OpenH264: the case is skipped with the codecs it has).
//   npm ci && node --test e2e/      (after bash scripts/build.sh)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../examples/browser/serve.mjs';
import { BROWSERS, launch, label, openPage, videoCodecs, sleep, until } from './browsers.mjs';

let server;
let baseUrl;

before(async () => {
  ({ server, url: baseUrl } = await startServer(0));
});

after(() => server?.close());

async function openCall(browser, query) {
  const { page, pageErrors } = await openPage(browser, `${baseUrl}?${query}`, 'demo');
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

/**
 * No nonce reuse: every SFrame header on the wire, on both sides, is a distinct (KID, CTR)
 * — no nonce is used twice — and both tracks were seen, each under its own KIDs.
 * `generations`: [[kids, minAudio, minVideo], ...] with kids = { audio, video }. `sides`: the
 * sides whose transforms are worker.js's (the main-thread API's record nothing).
 */
function checkHeaders(rep, generations, sides = ['sender', 'receiver']) {
  const out = [];
  for (const side of sides) {
    const h = rep[side].headers;
    assert.deepEqual(h.duplicates, [], `${side}: a (KID, CTR) pair appeared twice with different bytes`);
    assert.equal(h.unparsed, 0, `${side}: frames without an SFrame header`);
    if (side === 'sender') {
      // Each frame leaves its encrypter once: not even identical repeats.
      assert.equal(h.redelivered, 0, 'sender: a (KID, CTR) pair appeared twice');
      assert.equal(h.unique, h.frames, 'sender: every header is a distinct (KID, CTR)');
    }
    for (const [kids, minAudio, minVideo] of generations) {
      assert.notEqual(kids.audio, kids.video, 'one KID per sending track');
      for (const [kind, min] of [['audio', minAudio], ['video', minVideo]]) {
        const kid = String(kids[kind]);
        assert.ok((h.perKid[kid] ?? 0) >= min, `${side}: ${h.perKid[kid] ?? 0} ${kind} frames under KID ${kid} (want >= ${min}): ${JSON.stringify(h.perKid)}`);
        assert.deepEqual(h.kinds[kid], [kind], `${side}: KID ${kid} used by ${h.kinds[kid]}`);
      }
    }
    out.push(`${side}: ${h.frames} headers, ${h.unique} distinct (KID, CTR), ${h.redelivered} re-delivered, per KID ${JSON.stringify(h.perKid)}`);
  }
  return out.join('; ');
}

for (const name of BROWSERS) describe(name, () => cases(name));

/** Every case, in one browser. */
function cases(name) {
  let browser;
  let title;
  let codecs;
  before(async () => {
    browser = await launch(name);
    title = await label(name, browser);
    const { page } = await openPage(browser, `${baseUrl}examples/browser/blank.html`);
    codecs = await videoCodecs(page);
    await page.close();
  });
  after(async () => {
    await browser?.close();
  });

  /** Skips test t (returns true) when this browser cannot send and receive the video codec. */
  function skipWithout(t, codec) {
    if (codecs.includes(codec)) return false;
    t.skip(`${title} offers no ${codec} for WebRTC (its video codecs: ${codecs.join(', ')})`);
    return true;
  }

  const CASES = [
    { codec: 'VP8', api: 'script', via: 'RTCRtpScriptTransform' },
    { codec: 'H264', api: 'script', via: 'RTCRtpScriptTransform' },
    { codec: 'VP8', api: 'streams', via: 'createEncodedStreams()', only: 'chromium' },
  ];

  for (const { codec, api, via, only } of CASES) {
    const skip = only && only !== name && `${via} is Chromium's API: ${name} has RTCRtpScriptTransform only`;
    test(`${codec} + Opus loopback via ${via}: decodes with the right key, stops with a wrong one`, { skip }, async (t) => {
      if (skipWithout(t, codec)) return;
      const { page, stats, report, pageErrors } = await openCall(browser, `codec=${codec}&api=${api}&rotate=0`);
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
        assert.deepEqual(rep.sender.keyErrors, []);
        const kids1 = await page.evaluate(() => window.demo.kids);

        // 2. Key rotation: the wire carries the new KIDs and decoding goes on.
        await page.evaluate(() => window.demo.rotate());
        await page.evaluate(() => window.demo.resetEvidence());
        const kids2 = await page.evaluate(() => window.demo.kids);
        await until('frames under the new KID', async () => (await report()).receiver.wireKids.includes(String(kids2.video)));
        const r0 = await stats();
        await sleep(1500);
        const r1 = await stats();
        assert.ok(r1.video.framesDecoded > r0.video.framesDecoded + 10, 'video decodes after rotation');
        const rep2 = await report(true);
        checkEvidence(rep2);
        // Every header so far (both tracks, both key generations): no (KID, CTR) twice.
        t.diagnostic(`${codec} wire: ${checkHeaders(rep2, [[kids1, 50, 20], [kids2, 20, 10]])}`);

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
        const repEnd = await report();
        checkHeaders(repEnd, [[kids1, 50, 20], [kids2, 20, 10]]);
        assert.deepEqual(repEnd.sender.keyErrors, []);
        assert.deepEqual(pageErrors, []);
      } finally {
        await page.close();
      }
    });
  }

  // The demo's old nonce-reuse mistake: audio and video encrypters in one worker given the
  // same key and the same KID (each would count from 0: every nonce used twice). The package
  // refuses the second one — rejected setEncryptionKey and an "error" event with code
  // "key_in_use" — and the wire still carries no (KID, CTR) twice.
  test('same key + same KID on two encrypters in one worker: refused with "key_in_use"', async (t) => {
    const { page, report, pageErrors } = await openCall(browser, 'codec=VP8&api=script&rotate=0&kids=shared');
    try {
      const kids = await page.evaluate(() => window.demo.kids);
      assert.equal(kids.audio, kids.video, 'the page reproduces the mistake');
      const rep = await until('the refusal and frames from the other encrypter', async () => {
        const r = await report();
        return r.sender.keyErrors.length > 0 && r.sender.headers.frames > 50 ? r : null;
      });
      // Exactly one of the two encrypters was refused: by a rejected promise...
      assert.equal(rep.sender.keyErrors.length, 1, JSON.stringify(rep.sender.keyErrors));
      const [refused] = rep.sender.keyErrors;
      assert.equal(refused.code, 'key_in_use');
      assert.equal(refused.role, 'encrypt');
      assert.equal(refused.kid, String(kids.video));
      // ...and by an "error" event from that encrypter.
      assert.equal(rep.sender.errorCodes[`${refused.kind}/key_in_use`], 1, JSON.stringify(rep.sender.errorCodes));
      const event = rep.sender.errorLog.find((e) => e.code === 'key_in_use');
      if (event) assert.equal(event.keyID, String(kids.video));
      // The refused encrypter has no key: it sends nothing (its frames fail with "no_key"), so
      // the shared KID carries only the other track, and no (KID, CTR) pair twice.
      const other = refused.kind === 'audio' ? 'video' : 'audio';
      const h = rep.sender.headers;
      assert.deepEqual(h.duplicates, []);
      assert.equal(h.unique, h.frames);
      assert.deepEqual(h.kinds, { [String(kids.video)]: [other] });
      assert.ok(rep.sender.errorCodes[`${refused.kind}/no_key`] > 0, JSON.stringify(rep.sender.errorCodes));
      assert.equal(Object.keys(rep.sender.errorCodes).filter((c) => c.startsWith(other)).length, 0, JSON.stringify(rep.sender.errorCodes));
      t.diagnostic(`refused: ${refused.kind} encrypter (${refused.code}); ${h.frames} ${other} frames sent under KID ${kids.video}`);
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });

  // H.264 SEI (captions, user data) must not reach the SFU. With ?sei=1 the
  // sender inserts an SEI user-data NAL unit before each frame's first slice; it must never show
  // on the wire, come back after decryption, and the browser must still packetize and decode the
  // frames (only the SEI's start code, NAL header and a placeholder byte stay clear).
  test(
    'H.264 with SEI user data: the SEI payload never travels in clear, video still decodes',
    async (t) => {
      if (skipWithout(t, 'H264')) return;
      const { page, stats, report, pageErrors } = await openCall(browser, 'codec=H264&api=script&rotate=0&sei=1');
      try {
        const s0 = await until('video frames decoded', async () => {
          const s = await stats();
          return s.video.framesDecoded > 20 ? s : null;
        });
        assert.match(s0.video.codec, /video\/H264/i);
        const rep = await until('frames with SEI', async () => {
          const r = await report();
          return r.receiver.sei.decrypted > 20 ? r : null;
        });
        assert.ok(rep.sender.sei.inserted >= rep.receiver.sei.decrypted);
        assert.equal(rep.receiver.sei.onWire, 0, 'SEI payload seen on the wire');
        assert.deepEqual(rep.receiver.errors, { authentication: 0, keyID: 0, syntax: 0 }, JSON.stringify(rep.receiver.errorLog));
        await sleep(1000);
        assert.ok((await stats()).video.framesDecoded > s0.video.framesDecoded, 'video keeps decoding');
        checkEvidence(await report(true));
        t.diagnostic(`SEI inserted in ${rep.sender.sei.inserted} frames, restored in ${rep.receiver.sei.decrypted}, on the wire in ${rep.receiver.sei.onWire}`);
        assert.deepEqual(pageErrors, []);
      } finally {
        await page.close();
      }
    },
  );

  // The W3C main-thread API (the demo's default): RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter,
  // here the package's polyfill (neither browser has them natively). Decrypter "error" events
  // reach the main thread; a wrong key stops decoding; the right one brings it back.
  test('VP8 + Opus loopback via RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter (main thread): decodes, "error" events with a wrong key', async (t) => {
    const { page, stats, report, pageErrors } = await openCall(browser, 'codec=VP8&rotate=0');
    try {
      const polyfilled = await page.evaluate(() => ({
        api: window.demo.api,
        encrypter: typeof RTCRtpSFrameEncrypter,
        decrypter: typeof RTCRtpSFrameDecrypter,
      }));
      assert.deepEqual(polyfilled, { api: { sender: 'sframe', receiver: 'sframe' }, encrypter: 'function', decrypter: 'function' });
      const s0 = await until('video frames decoded', async () => {
        const s = await stats();
        return s.video.framesDecoded > 20 && s.audio.decodedSamples > 48000 ? s : null;
      });
      assert.match(s0.video.codec, /video\/VP8/i);
      await sleep(1000);
      const s1 = await stats();
      assert.ok(s1.video.framesDecoded > s0.video.framesDecoded, 'video keeps decoding');
      assert.ok(s1.audio.decodedSamples > s0.audio.decodedSamples, 'audio keeps decoding');
      const pic = await page.evaluate(() => window.demo.pictures());
      assert.equal(pic.remote.width, 640, JSON.stringify(pic));
      assert.ok(pic.remote.spread > 10, `remote video looks blank: ${JSON.stringify(pic)}`);
      assert.ok(Math.abs(pic.remote.mean - pic.source.mean) < 25, `remote differs from source: ${JSON.stringify(pic)}`);
      const rep = await report();
      assert.deepEqual(rep.receiver.errors, { authentication: 0, keyID: 0, syntax: 0 }, JSON.stringify(rep.receiver.errorLog));
      assert.deepEqual(rep.sender.keyErrors, []);
      // getStats() (extension): every frame went through an encrypter / decrypter, none failed
      // or waited for a key (a decrypter drops re-delivered frames as "replayed": no error).
      for (const side of ['sender', 'receiver']) {
        const kinds = rep[side].transforms.map((x) => x.kind).sort();
        assert.deepEqual(kinds, ['audio', 'video'], side);
        for (const x of rep[side].transforms) {
          assert.ok(x.frames > 20, `${side} ${x.kind}: ${JSON.stringify(x)}`);
          assert.equal(x.errors, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
          assert.equal(x.droppedNoKey, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
          if (side === 'sender') assert.equal(x.dropped, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
        }
      }

      // Rotation: decoding goes on under the new KIDs.
      await page.evaluate(() => window.demo.rotate());
      const r0 = await stats();
      await sleep(1500);
      assert.ok((await stats()).video.framesDecoded > r0.video.framesDecoded + 10, 'video decodes after rotation');
      const kids = await page.evaluate(() => window.demo.kids);

      // Wrong key: "authentication" events from the decrypters, for the current KIDs; no decoding.
      await page.evaluate(() => window.demo.receiverKey('wrong'));
      const bad = await until('authentication errors', async () => {
        const r = await report();
        return r.receiver.errors.authentication > 20 ? r : null;
      });
      const kidsSeen = new Set(bad.receiver.errorLog.filter((e) => e.errorType === 'authentication').map((e) => e.keyID));
      for (const k of kidsSeen) assert.ok([String(kids.audio), String(kids.video)].includes(k), `error for KID ${k}`);
      await sleep(1000);
      const w0 = await stats();
      await sleep(2500);
      const w1 = await stats();
      assert.equal(w1.video.framesDecoded, w0.video.framesDecoded, 'no video decoded with a wrong key');
      assert.ok(w1.audio.decodedSamples - w0.audio.decodedSamples < 4800, 'no audio decoded with a wrong key');

      // No key: "keyID" events. Right key: decoding again.
      await page.evaluate(() => window.demo.receiverKey('remove'));
      await until('keyID errors', async () => (await report()).receiver.errors.keyID > 20);
      await page.evaluate(() => window.demo.receiverKey('right'));
      const back = await stats();
      await until('video decoding again', async () => (await stats()).video.framesDecoded > back.video.framesDecoded + 10);
      const end = await report();
      assert.deepEqual(end.sender.keyErrors, []);
      t.diagnostic(
        `${title}: ${s1.video.framesDecoded} frames decoded; wrong key: ${bad.receiver.errors.authentication}+ "authentication" ` +
          `events (KIDs ${[...kidsSeen].join(', ')}), video frozen at ${w1.video.framesDecoded}; then ${end.receiver.errors.keyID} "keyID" events`,
      );
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });

  // The demo as a newcomer opens it (no options: main-thread RTCRtpSFrameEncryptor /
  // Decryptor, whose frames live in the package's worker): the "what the SFU sees" panel draws
  // the encryptors' wire through the package's observeWire extension — SFrame headers that
  // parse, one KID per track, counters going up — and is not black; the statistics panel shows
  // the codec, the decryptors' getStats() and, with a wrong key, error runs. A screenshot of the
  // page goes to $E2E_SCREENSHOTS (default: the system's temporary directory).
  test('default page: the SFU panel shows the encryptors\' wire (observeWire), codec, error runs and decryptor stats', async (t) => {
    const { page, report, pageErrors } = await openCall(browser, 'rotate=0');
    try {
      assert.deepEqual(await page.evaluate(() => window.demo.api), { sender: 'sframe', receiver: 'sframe' });
      const kids = await page.evaluate(() => window.demo.kids);
      const video = String(kids.video);
      const audio = String(kids.audio);
      const r0 = await until('wire frames sampled', async () => {
        const r = await report();
        return (r.sender.headers?.perKid[video] ?? 0) >= 30 && (r.sender.headers?.perKid[audio] ?? 0) >= 30 ? r : null;
      });
      const h0 = r0.sender.headers;
      assert.equal(h0.unparsed, 0, 'every sampled frame has an SFrame header');
      assert.equal(h0.notIncreasing, 0, 'each KID\'s counter goes up frame by frame');
      assert.deepEqual(h0.kinds[video], ['video']);
      assert.deepEqual(h0.kinds[audio], ['audio']);
      assert.deepEqual(Object.keys(h0.perKid).sort(), [audio, video].sort(), 'only this generation\'s KIDs');
      const w = r0.sender.lastWire;
      assert.equal(w.keyId, video);
      assert.match(w.mimeType, /video\/VP8/i);
      assert.ok([3, 10].includes(w.clear), `VP8 clear bytes: ${w.clear}`);
      await sleep(1000);
      const r1 = await report();
      assert.ok(BigInt(r1.sender.headers.lastCounter[video]) > BigInt(h0.lastCounter[video]), 'video counter goes on');
      assert.ok(BigInt(r1.sender.headers.lastCounter[audio]) > BigInt(h0.lastCounter[audio]), 'audio counter goes on');
      assert.equal(r1.sender.headers.notIncreasing, 0);
      // The panel as drawn: noise (the frame's bytes as pixels), not black; its text the header.
      const pic = await until('SFU panel drawn', async () => {
        const p = await page.evaluate(() => window.demo.pictures());
        return p.sfu.spread > 20 ? p : null;
      });
      assert.ok(pic.sfu.mean > 20, `SFU panel nearly black: ${JSON.stringify(pic.sfu)}`);
      let panels = await page.evaluate(() => window.demo.panels());
      assert.match(panels.sfu, new RegExp(`SFrame header: KID ${video}  CTR \\d+`));
      assert.match(panels.sfu, /as sent: RTCRtpSFrameEncryptor observeWire/);
      assert.match(panels.stats, /codec: video\/VP8 \+ audio\/opus/i);
      assert.match(panels.stats, /video decryptor: frames \d+ in \/ \d+ out/);
      assert.match(panels.stats, /keyWait: buffered \d+, released \d+, dropped \d+/);
      assert.match(panels.stats, new RegExp(`keys: ${video}: \\d+ ok`));
      const dir = process.env.E2E_SCREENSHOTS ?? tmpdir();
      const shot = join(dir, `sframe-demo-${name}.png`);
      await page.setViewport({ width: 1300, height: 900 });
      await sleep(600); // a redraw at the new size
      await page.screenshot({ path: shot, fullPage: true });

      // A wrong key: error runs, one event per run, the run going on in getStats().
      await page.evaluate(() => window.demo.receiverKey('wrong'));
      await until('an authentication run in the stats panel', async () => {
        const p = await page.evaluate(() => window.demo.panels());
        return /error run now: authentication KID \d+ ×([2-9]|\d\d+)/.test(p.stats) ? p : null;
      });
      await page.evaluate(() => window.demo.receiverKey('right'));
      panels = await until('the run ended by a decrypted frame', async () => {
        const p = await page.evaluate(() => window.demo.panels());
        return new RegExp(`video decryptor:[^]*last ended: authentication KID ${video} ×\\d+`).test(p.stats) ? p : null;
      });
      assert.match(panels.stats, /video authentication \(authentication_failed\) KID \d+/);
      const shot2 = join(dir, `sframe-demo-${name}-errors.png`);
      await page.screenshot({ path: shot2, fullPage: true });
      t.diagnostic(
        `${title}: ${r1.sender.headers.frames} wire frames sampled (${JSON.stringify(r1.sender.headers.perKid)}), ` +
          `SFU panel mean ${pic.sfu.mean.toFixed(0)} spread ${pic.sfu.spread.toFixed(0)}; screenshots ${shot}, ${shot2}`,
      );
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });

  // What the main-thread encrypters put on the wire, seen by decrypters in the page's worker
  // (an independent decryption path that records every frame before decrypting it).
  for (const codec of ['VP8', 'H264']) {
    test(`${codec}: RTCRtpSFrameEncrypter's wire (decrypted in worker.js): SFrame under one KID per track, no (KID, CTR) twice, no plaintext`, async (t) => {
      if (skipWithout(t, codec)) return;
      const { page, stats, report, pageErrors } = await openCall(browser, `codec=${codec}&rotate=0&receiver=script`);
      try {
        assert.deepEqual(await page.evaluate(() => window.demo.api), { sender: 'sframe', receiver: 'script' });
        await until('video frames decoded', async () => {
          const s = await stats();
          return s.video.framesDecoded > 20 && s.audio.decodedSamples > 48000 ? s : null;
        });
        const kids1 = await page.evaluate(() => window.demo.kids);
        await page.evaluate(() => window.demo.rotate());
        const kids2 = await page.evaluate(() => window.demo.kids);
        await until('frames under the new KIDs', async () => (await report()).receiver.wireKids.includes(String(kids2.video)));
        const s0 = await stats();
        await sleep(1500);
        const s1 = await stats();
        assert.match(s1.video.codec, new RegExp(`video/${codec}`, 'i'));
        assert.ok(s1.video.framesDecoded > s0.video.framesDecoded + 10, 'video decodes after rotation');
        const rep = await report(true);
        const wireCheck = checkHeaders(rep, [[kids1, 50, 20], [kids2, 20, 10]], ['receiver']);
        assert.deepEqual(rep.receiver.errors, { authentication: 0, keyID: 0, syntax: 0 }, JSON.stringify(rep.receiver.errorLog));
        assert.deepEqual(rep.sender.keyErrors, []);
        // The plaintext the worker decrypted never appears in what arrived.
        const { wire, decrypted } = rep.receiver;
        const ids = Object.keys(decrypted).filter((id) => wire[id]);
        assert.ok(ids.length >= 10, `only ${ids.length} frames with evidence`);
        const wireAll = Object.values(wire).join('|');
        for (const id of ids) assert.ok(!wireAll.includes(decrypted[id]), `plaintext of frame ${id} seen on the wire`);
        t.diagnostic(`${title} ${codec}: ${ids.length} frames compared; ${wireCheck}`);
        assert.deepEqual(pageErrors, []);
      } finally {
        await page.close();
      }
    });
  }

  // The main-thread API refuses the demo's old mistake too: both encrypters share the package's
  // one worker (one wasm instance), so the second setEncryptionKey with the same key and KID
  // rejects with an InvalidModificationError whose cause is the SFrameError "key_in_use".
  test('RTCRtpSFrameEncrypter: same key + same KID on two encrypters refused with "key_in_use"', async (t) => {
    const { page, report, pageErrors } = await openCall(browser, 'codec=VP8&rotate=0&kids=shared&receiver=script');
    try {
      const kids = await page.evaluate(() => window.demo.kids);
      assert.equal(kids.audio, kids.video, 'the page reproduces the mistake');
      const rep = await until('the refusal and frames from the other encrypter', async () => {
        const r = await report();
        return r.sender.keyErrors.length > 0 && r.receiver.headers.frames > 50 ? r : null;
      });
      assert.equal(rep.sender.keyErrors.length, 1, JSON.stringify(rep.sender.keyErrors));
      const [refused] = rep.sender.keyErrors;
      assert.equal(refused.name, 'InvalidModificationError');
      assert.equal(refused.code, 'key_in_use');
      assert.equal(refused.kid, String(kids.video));
      const other = refused.kind === 'audio' ? 'video' : 'audio';
      // The refused encrypter has no key: it drops every frame (getStats().droppedNoKey), sends nothing.
      const byKind = Object.fromEntries(rep.sender.transforms.map((x) => [x.kind, x]));
      assert.ok(byKind[refused.kind].droppedNoKey > 0, JSON.stringify(byKind));
      assert.equal(byKind[refused.kind].droppedNoKey, byKind[refused.kind].frames, JSON.stringify(byKind));
      assert.equal(byKind[other].dropped, 0, JSON.stringify(byKind));
      // On the wire: the shared KID carries the other track only, no (KID, CTR) twice.
      const h = rep.receiver.headers;
      assert.deepEqual(h.kinds, { [String(kids.video)]: [other] });
      assert.deepEqual(h.duplicates, []);
      assert.equal(h.unparsed, 0);
      t.diagnostic(`refused: ${refused.kind} encrypter (${refused.name}, ${refused.code}), ${byKind[refused.kind].droppedNoKey} frames dropped; ${h.frames} ${other} frames on the wire under KID ${kids.video}`);
      assert.deepEqual(pageErrors, []);
    } finally {
      await page.close();
    }
  });
}
