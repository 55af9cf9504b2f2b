// A call between two different browsers: headless Debian Chromium and headless Debian Firefox
// ESR (puppeteer-core, browsers.mjs), each on examples/browser/peer.html served by this test on
// 127.0.0.1, each sending audio + video through its own SFrame encrypters (sframe-wasm) and
// decrypting the other's: once with the W3C main-thread API (RTCRtpSFrameEncrypter /
// RTCRtpSFrameDecrypter, the package's polyfill), once with the page's own worker (?api=script:
// RTCRtpScriptTransform + SFrameTransform in worker.js, which records every frame). Node is the signalling channel (offer,
// answer and ICE candidates, loopback candidates only) and the key server (one random base key
// per sending participant, given to its page and to the other's receiver).
//
// Checked in each direction: the receiving browser decodes video frames and audio samples
// (main-thread API: every frame went through the encrypter and decrypter, none dropped); its
// worker (?api=script) sees, before decryption, only SFrame headers that parse, under exactly the sender's
// KIDs, no (KID, CTR) twice; what it decrypts equals the sender's plaintext frame for frame and
// that plaintext never appears on the wire; a wrong key gives "authentication" errors and
// decoding stops (while the other direction goes on), and the right key brings it back.
// H.264 runs only where both browsers offer it (Debian's Firefox does not: skipped, saying so).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { startServer } from '../../examples/browser/serve.mjs';
import { launch, label, openPage, videoCodecs, sleep, until } from './browsers.mjs';

const GENERATION = 1;
/** True in 50-browser.sh's network namespace: no interface but loopback. */
const LOOPBACK_ONLY_HOST = Object.values(networkInterfaces()).flat().every((i) => i.internal);
const PARTICIPANT = { chromium: 1, firefox: 2 };

let server;
let baseUrl;
const browsers = {}; // name → { browser, title, codecs }

before(async () => {
  ({ server, url: baseUrl } = await startServer(0));
  for (const name of ['chromium', 'firefox']) {
    const browser = await launch(name);
    browsers[name] = { browser, title: await label(name, browser) };
    const { page } = await openPage(browser, `${baseUrl}examples/browser/blank.html`);
    browsers[name].codecs = await videoCodecs(page);
    await page.close();
  }
});

after(async () => {
  for (const { browser } of Object.values(browsers)) await browser.close().catch(() => {});
  server?.close();
});

/** Only loopback candidates cross the signalling channel (and the end-of-candidates marker). */
function isLoopbackCandidate(c) {
  if (!c.candidate) return true;
  const address = c.candidate.split(' ')[4];
  return address?.startsWith('127.') || address === '::1';
}
function loopbackOnly(description) {
  const lines = description.sdp.split('\r\n').filter((l) => {
    if (!l.startsWith('a=candidate:')) return true;
    return isLoopbackCandidate({ candidate: l.slice(2) });
  });
  return { type: description.type, sdp: lines.join('\r\n') };
}

/** One participant's page: name, its page and helpers. */
async function openPeer(name, otherName, codec, api) {
  const me = PARTICIPANT[name];
  const other = PARTICIPANT[otherName];
  const url = `${baseUrl}examples/browser/peer.html?participant=${me}&peer=${other}&codec=${codec}&api=${api}`;
  const { page, pageErrors } = await openPage(browsers[name].browser, url, 'peer');
  const call = (fn, ...args) => page.evaluate(fn, ...args);
  return {
    name,
    title: browsers[name].title,
    page,
    pageErrors,
    participant: me,
    call,
    stats: () => call(() => window.peer.stats()),
    report: (evidence = false) => call((e) => window.peer.report(e), evidence),
  };
}

/** Chromium offers, Firefox answers; ICE candidates trickle through node until connected. */
async function connect(a, b) {
  const offer = await a.call(() => window.peer.offer());
  const answer = await b.call((o) => window.peer.answer(o), loopbackOnly(offer));
  await a.call((d) => window.peer.accept(d), loopbackOnly(answer));
  const seen = { passed: 0, dropped: 0 };
  await until(
    'both peers connected',
    async () => {
      for (const [from, to] of [[a, b], [b, a]]) {
        const list = await from.call(() => window.peer.takeCandidates());
        const keep = list.filter(isLoopbackCandidate);
        seen.passed += keep.length;
        seen.dropped += list.length - keep.length;
        if (keep.length) await to.call((l) => window.peer.addCandidates(l), keep);
      }
      const states = await Promise.all([a, b].map((p) => p.call(() => window.peer.state().connection)));
      assert.ok(!states.includes('failed'), `connection failed: ${states}`);
      return states.every((s) => s === 'connected');
    },
    30000,
  );
  return seen;
}

/** worker.js on both ends (?api=script): the wire and the plaintext, frame for frame. */
function checkEvidence(sent, got, kids, from) {
  // The receiver's worker, before decryption: SFrame headers only, under the sender's KIDs.
  const h = got.receiver.headers;
  assert.ok(h.frames > 100, `${h.frames} frames at the receiver`);
  assert.equal(h.unparsed, 0, 'frames without an SFrame header reached the receiver');
  assert.deepEqual(h.kinds, { [String(kids.audio)]: ['audio'], [String(kids.video)]: ['video'] }, `KIDs on the wire: ${JSON.stringify(h.perKid)}`);
  assert.deepEqual(h.duplicates, [], 'a (KID, CTR) pair arrived twice with different bytes');
  const hs = sent.sender.headers;
  assert.equal(hs.unique, hs.frames, 'sender: every header is a distinct (KID, CTR)');

  // Frame for frame: decrypted == the sender's plaintext, which never travels in clear.
  const { plain } = sent.sender;
  const { wire, decrypted } = got.receiver;
  const ids = Object.keys(decrypted).filter((id) => plain[id] && wire[id]);
  assert.ok(ids.length >= 10, `only ${ids.length} frames with evidence from both browsers`);
  const wireAll = Object.values(wire).join('|');
  for (const id of ids) {
    assert.equal(decrypted[id], plain[id], `frame ${id} decrypts to what ${from.title} sent`);
    assert.ok(!wireAll.includes(plain[id]), `plaintext of frame ${id} seen on the wire`);
  }
  return `${h.frames} SFrame frames at the receiver under KIDs ${JSON.stringify(h.perKid)}; ${ids.length} frames compared byte for byte`;
}

/** sender → receiver, right key: decoding, KIDs on the wire, plaintext equality. */
async function checkDirection(t, from, to, codec, api) {
  const kids = await from.call((g) => window.peer.kids(g, window.peer.participant), GENERATION);
  // 1. The receiving browser decodes video frames and audio samples.
  const s0 = await until(`${to.title} decoding ${from.title}'s media`, async () => {
    const s = await to.stats();
    return s.video.framesDecoded > 20 && s.audio.decodedSamples > 48000 ? s : null;
  });
  assert.match(s0.video.codec, new RegExp(`video/${codec}`, 'i'));
  await to.call(() => window.peer.resetEvidence());
  await from.call(() => window.peer.resetEvidence());
  await sleep(2000);
  const s1 = await to.stats();
  assert.ok(s1.video.framesDecoded > s0.video.framesDecoded + 10, `video keeps decoding: ${s0.video.framesDecoded} → ${s1.video.framesDecoded}`);
  assert.ok(s1.audio.decodedSamples > s0.audio.decodedSamples + 24000, `audio keeps decoding: ${s0.audio.decodedSamples} → ${s1.audio.decodedSamples}`);
  assert.ok(s1.audio.packetsReceived > 50, JSON.stringify(s1.audio));
  // The decrypted picture is the sender's canvas at full size, not blank.
  const [srcPic, dstPic] = await Promise.all([from.call(() => window.peer.pictures().source), to.call(() => window.peer.pictures().remote)]);
  assert.equal(dstPic.width, srcPic.width, JSON.stringify({ srcPic, dstPic }));
  assert.ok(dstPic.spread > 10, `remote video looks blank: ${JSON.stringify(dstPic)}`);
  assert.ok(Math.abs(dstPic.mean - srcPic.mean) < 25, `remote differs from source: ${JSON.stringify({ srcPic, dstPic })}`);

  const [sent, got] = await Promise.all([from.report(true), to.report(true)]);
  assert.deepEqual(got.receiver.errors, { authentication: 0, keyID: 0, syntax: 0 }, JSON.stringify(got.receiver.errorLog));
  assert.deepEqual(sent.sender.keyErrors, []);
  let evidence;
  if (api === 'sframe') {
    // Main-thread API: getStats() of both ends — every frame went through, none failed or
    // waited for a key (a decrypter drops re-delivered frames as "replayed": not an error).
    for (const [side, rep] of [['sender', sent.sender], ['receiver', got.receiver]]) {
      assert.deepEqual(rep.transforms.map((x) => x.kind).sort(), ['audio', 'video'], side);
      for (const x of rep.transforms) {
        assert.ok(x.frames > 50, `${side} ${x.kind}: ${JSON.stringify(x)}`);
        assert.equal(x.errors, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
        assert.equal(x.droppedNoKey, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
        if (side === 'sender') assert.equal(x.dropped, 0, `${side} ${x.kind}: ${JSON.stringify(x)}`);
      }
    }
    evidence = `decrypters: ${got.receiver.transforms.map((x) => `${x.kind} ${x.frames} frames (${x.replayed} replayed)`).join(', ')}, no errors`;
  } else {
    evidence = checkEvidence(sent, got, kids, from);
  }

  // 2. The media flows over loopback (in 50-browser.sh's namespace, loopback is all there is;
  // on a host with other interfaces a browser may pair its other addresses with them).
  const pairs = [];
  for (const p of [from, to]) {
    const selected = await p.call(() => window.peer.selectedPair());
    assert.ok(selected.length > 0, `${p.title}: no selected candidate pair`);
    for (const { local, remote } of selected) {
      pairs.push(`${p.title} ${local} ⇄ ${remote}`);
      if (!LOOPBACK_ONLY_HOST) continue;
      assert.match(`${local} ${remote}`, /^(127\.[\d.]+|::1):\d+\/\w+ (127\.[\d.]+|::1):\d+\/\w+$/, `${p.title}: pair ${local} ⇄ ${remote}`);
    }
  }
  t.diagnostic(
    `${from.title} → ${to.title}, ${s1.video.codec}: ${s1.video.framesDecoded} video frames decoded ` +
      `(${s1.video.keyFramesDecoded} key), ${s1.audio.decodedSamples} audio samples decoded; ${evidence}; ` +
      `ICE: ${pairs.join(', ')}${LOOPBACK_ONLY_HOST ? '' : ' (host has other interfaces: loopback not asserted)'}`,
  );
}

/** A wrong key at `to`: "authentication" errors, its decoding stops, the other way goes on. */
async function checkWrongKey(t, from, to, keys) {
  const kids = await from.call((g) => window.peer.kids(g, window.peer.participant), GENERATION);
  const before = (await to.report()).receiver.errors.authentication;
  await to.call((g, k) => window.peer.setReceiveKey(g, k), GENERATION, randomBytes(16).toString('hex'));
  const rep = await until(`"authentication" errors at ${to.title}`, async () => {
    const r = await to.report();
    return r.receiver.errors.authentication > before + 20 ? r : null;
  });
  for (const e of rep.receiver.errorLog.filter((x) => x.errorType === 'authentication')) {
    assert.ok([String(kids.audio), String(kids.video)].includes(e.keyID), `error for KID ${e.keyID}`);
  }
  await sleep(1000); // frames decrypted before the switch drain out
  const [w0, o0] = await Promise.all([to.stats(), from.stats()]);
  await sleep(2500);
  const [w1, o1] = await Promise.all([to.stats(), from.stats()]);
  assert.equal(w1.video.framesDecoded, w0.video.framesDecoded, `${to.title} decoded video with a wrong key`);
  assert.ok(
    w1.audio.decodedSamples - w0.audio.decodedSamples < 4800,
    `${to.title} decoded audio with a wrong key (${w1.audio.decodedSamples - w0.audio.decodedSamples} samples)`,
  );
  assert.ok(o1.video.framesDecoded > o0.video.framesDecoded + 10, `${from.title} (right key) stopped decoding too`);
  const errors = (await to.report()).receiver.errors;
  assert.equal(errors.keyID, 0);
  assert.equal(errors.syntax, 0);

  // The right key again: decoding resumes (after a key-frame request).
  await to.call((g, k) => window.peer.setReceiveKey(g, k), GENERATION, keys[from.name]);
  await until(`${to.title} decoding again`, async () => (await to.stats()).video.framesDecoded > w1.video.framesDecoded + 10);
  t.diagnostic(`${to.title} with a wrong key: ${errors.authentication} "authentication" errors, video frozen at ${w1.video.framesDecoded} frames; right key: decoding again`);
}

const API = {
  sframe: 'RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter (main thread)',
  script: 'SFrameTransform in the page\'s worker (RTCRtpScriptTransform)',
};

for (const api of ['sframe', 'script']) for (const codec of ['VP8', 'H264']) {
  describe(`Chromium ⇄ Firefox call, ${codec} + Opus, SFrame both ways via ${API[api]}`, () => {
    let peers; // { chromium, firefox }
    let keys; // name → hex of the base key that participant sends under
    let skip = null;

    before(async () => {
      const missing = Object.values(browsers).filter((b) => !b.codecs.includes(codec));
      if (missing.length) {
        skip = missing.map((b) => `${b.title} offers no ${codec} for WebRTC (its video codecs: ${b.codecs.join(', ')})`).join('; ');
        return;
      }
      keys = { chromium: randomBytes(16).toString('hex'), firefox: randomBytes(16).toString('hex') };
      peers = {
        chromium: await openPeer('chromium', 'firefox', codec, api),
        firefox: await openPeer('firefox', 'chromium', codec, api),
      };
      for (const [name, otherName] of [['chromium', 'firefox'], ['firefox', 'chromium']]) {
        const p = peers[name];
        assert.equal((await p.call((g, k) => window.peer.setSendKey(g, k), GENERATION, keys[name])).error, undefined);
        assert.equal((await p.call((g, k) => window.peer.setReceiveKey(g, k), GENERATION, keys[otherName])).error, undefined);
      }
      const candidates = await connect(peers.chromium, peers.firefox);
      assert.ok(candidates.passed > 0, JSON.stringify(candidates));
    });

    after(async () => {
      for (const p of Object.values(peers ?? {})) await p.page.close().catch(() => {});
    });

    test('Chromium → Firefox: Firefox decodes what Chromium encrypted', async (t) => {
      if (skip) return t.skip(skip);
      await checkDirection(t, peers.chromium, peers.firefox, codec, api);
    });

    test('Firefox → Chromium: Chromium decodes what Firefox encrypted', async (t) => {
      if (skip) return t.skip(skip);
      await checkDirection(t, peers.firefox, peers.chromium, codec, api);
    });

    test('wrong key at Firefox: "authentication" errors, Firefox stops decoding Chromium', async (t) => {
      if (skip) return t.skip(skip);
      await checkWrongKey(t, peers.chromium, peers.firefox, keys);
    });

    test('wrong key at Chromium: "authentication" errors, Chromium stops decoding Firefox', async (t) => {
      if (skip) return t.skip(skip);
      await checkWrongKey(t, peers.firefox, peers.chromium, keys);
      for (const p of Object.values(peers)) assert.deepEqual(p.pageErrors, [], p.title);
    });
  });
}
