// End-to-end test through a real SFU: Debian's Janus (videoroom, require_e2ee, recording on),
// headless Debian Chromium participants and a headless Debian Firefox ESR participant (never a
// downloaded browser; both driven by puppeteer-core from sframe-wasm/node_modules, Chromium over
// CDP, Firefox over WebDriver BiDi, launched by sframe-wasm/e2e/browsers.mjs with the flags and
// prefs of the other browser tests: fake devices, media permissions) and the native participant
// (examples/sfu/native: str0m + sframe-core), all in one room. Run through run.sh, which starts
// Janus and exports JANUS_URL and SFU_REC_DIR:
//
//   bash examples/sfu/run.sh -- node --test examples/sfu/e2e.test.mjs
//   (SFU_NATIVE=<binary>, default examples/sfu/native/target/debug/sframe-sfu-native;
//    CHROMIUM, FIREFOX: the browsers, default /usr/bin/chromium, /usr/bin/firefox-esr)
//
// Participants: alice and bob (Chromium, api=worker: their worker records plaintext samples and
// every SFrame header), firefox (Firefox, the page's default API: the package's main-thread
// RTCRtpSFrameEncrypter/Decrypter), the native one, then carol (Chromium, late joiner, api=rtp:
// the same main-thread API) and mallory (Chromium, a wrong room secret). Then bob is removed
// from the key group while Janus keeps forwarding to him. Finally Janus's own recordings are
// read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomBytes, createHash } from 'node:crypto';
import { startServer } from './serve.mjs';
import { readRecordings } from './mjr.mjs';
import { splitProtected, clearPrefixLength } from '../../sframe-wasm/js/codec.js';
import { parseHeader, Receiver } from '../../sframe-wasm/js/index.js';
import { launch, label, sleep } from '../../sframe-wasm/e2e/browsers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JANUS_URL = process.env.JANUS_URL;
const REC_DIR = process.env.SFU_REC_DIR;
const JANUS_LOG = `${process.env.SFU_WORK}/janus.log`; // run.sh: Janus's output
const ROOM = Number(process.env.ROOM ?? 1234);
const NATIVE = process.env.SFU_NATIVE ?? `${ROOT}examples/sfu/native/target/debug/sframe-sfu-native`;
const IVF = process.env.SFU_IVF ?? `${ROOT}test-vectors/tiny-vp8.ivf`;
const SECRET = randomBytes(16).toString('hex');
const DUMP = mkdtempSync(`${tmpdir()}/sframe-sfu-native-`); // the native participant's decrypted VP8
const KID = { track: (kid) => kid >> 10, participant: (kid) => (kid >> 4) & 63, epochBits: (kid) => kid & 15 };
const TRACK = { audio: 0, video: 1 };

const figures = [];
const figure = (line) => {
  figures.push(line);
  console.log(`# ${line}`);
};

let server;
let keys;
let baseUrl;
let browser; // Chromium: every browser participant but firefox
let firefox; // a second browser: Firefox
let firefoxLabel;
let native;
const people = {}; // name → { page, participant, api }

/** A step that must not hang the stage: fails after `ms` with what it was waiting for. */
function bounded(what, promise, ms = 30000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const stamp = (msg) => console.log(`# ${new Date().toISOString().slice(11, 19)} ${msg}`);
async function until(what, fn, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(500);
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 2000)})`);
}

before(async () => {
  assert.ok(JANUS_URL && REC_DIR && process.env.SFU_WORK, 'run through examples/sfu/run.sh (JANUS_URL, SFU_REC_DIR, SFU_WORK)');
  assert.ok(existsSync(NATIVE), `native participant not built: ${NATIVE}`);
  ({ server, url: baseUrl, keys } = await startServer({ port: 0, janus: JANUS_URL }));
  browser = await launch('chromium');
  firefox = await launch('firefox');
  firefoxLabel = await label('firefox', firefox);
  stamp(`${firefoxLabel} launched`);
});

after(async () => {
  if (native && native.proc.exitCode === null) native.proc.kill('SIGTERM');
  if (browser) {
    await bounded('closing Chromium', browser.close(), 20000).catch(() => browser.process()?.kill('SIGKILL'));
  }
  if (firefox) {
    await bounded('closing Firefox', firefox.close(), 20000).catch(() => firefox.process()?.kill('SIGKILL'));
  }
  server?.close();
  rmSync(DUMP, { recursive: true, force: true });
  console.log(`\nfigures:\n${figures.map((f) => `  ${f}`).join('\n')}`);
});

/**
 * A participant's page. `api`: null leaves the page's default (the main-thread API).
 * `engine`: 'chromium' or 'firefox'. A Chromium participant gets a browser context of its own
 * (its own storage, as a separate user would have).
 */
async function join(name, { api = 'worker', secret = SECRET, engine = 'chromium' } = {}) {
  const page = await (engine === 'firefox' ? firefox : await browser.createBrowserContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e?.message ?? e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${baseUrl}?room=${ROOM}&name=${name}${api ? `&api=${api}` : ''}#secret=${secret}`);
  const started = Date.now();
  while (!(await page.evaluate(() => window.sfu !== undefined).catch(() => false))) {
    if (Date.now() - started > 20000) throw new Error(`${name}'s page did not start: ${errors.join(' | ') || 'no window.sfu'}`);
    await sleep(250);
  }
  const participant = await bounded(`${name} joining`, page.evaluate(() => window.sfu.ready));
  const p = { name, page, participant, api: api ?? 'default', engine, errors };
  stamp(`${name} joined as participant ${participant} (${engine}, api=${p.api})`);
  people[name] = p;
  return p;
}
// The transforms' stats carry key IDs as bigints (per-key counters, error runs): as strings,
// so that the report can leave the page (puppeteer cannot return a bigint).
const report = (p, samples = false) =>
  bounded(
    `${p.name}'s report (page errors: ${p.errors.join(' | ') || 'none'})`,
    p.page.evaluate(async (s) => JSON.parse(JSON.stringify(await window.sfu.report(s), (_, v) => (typeof v === 'bigint' ? v.toString() : v))), samples),
  );

/** The native participant: a child process answering "report" with a JSON line. */
function startNative() {
  const proc = spawn(
    NATIVE,
    // Janus's HTTP API directly (the pages go through serve.mjs's proxy); keys from serve.mjs.
    ['--server', baseUrl, '--janus', JANUS_URL, '--room', String(ROOM), '--secret', SECRET, '--name', 'native', '--ivf', IVF, '--dump', DUMP],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = [];
  const waiters = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    if (!l.startsWith('{')) return;
    const w = waiters.shift();
    if (w) w(JSON.parse(l));
    else lines.push(JSON.parse(l));
  });
  const next = () =>
    bounded(
      `the native participant's report (exit code ${proc.exitCode})`,
      lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => waiters.push(r)),
    );
  native = {
    proc,
    report: () => {
      proc.stdin.write('report\n');
      return next();
    },
    quit: () => {
      proc.stdin.end('quit\n');
      return next();
    },
  };
  return native;
}

const feedOf = (rep, p) => rep.stats.feeds[p] ?? { video: {}, audio: {} };
const decoded = (rep, p) => ({
  video: feedOf(rep, p).video.framesDecoded ?? 0,
  audio: feedOf(rep, p).audio.decodedSamples ?? 0,
  packets: (feedOf(rep, p).video.packetsReceived ?? 0) + (feedOf(rep, p).audio.packetsReceived ?? 0),
  width: feedOf(rep, p).video.frameWidth,
});
const nativeFeed = (rep, p) => rep.feeds[p] ?? { video: { decrypted: 0, frames: 0, errors: {} }, audio: { decrypted: 0, frames: 0, errors: {} } };

/**
 * Frames through a participant's decrypters of feed p's `kind` track (the page's transforms,
 * either API): in, decrypted (out, not passed through: a frame held for its key, keyWait, is
 * neither out nor dropped yet), errors.
 */
const decrypters = (rep, p, kind) =>
  rep.worker.transforms
    .filter((t) => t.role === 'decrypt' && t.participant === p && t.kind === kind)
    .reduce(
      (s, t) => ({ frames: s.frames + t.frames, decrypted: s.decrypted + t.framesOut - t.passedThrough, errors: s.errors + t.errors }),
      { frames: 0, decrypted: 0, errors: 0 },
    );
/** Failures of a participant's decrypters of feed p's `kind` track, by W3C errorType, summed
 * from their counters (`stats.failures`; the error events come one per run of failures). */
const failures = (rep, p, kind, type) =>
  rep.worker.transforms
    .filter((t) => t.role === 'decrypt' && t.participant === p && t.kind === kind)
    .reduce((s, t) => s + (t.failures?.[type] ?? 0), 0);
/** Every browser's report, at once (name → report). */
async function reportAll(list, samples = false) {
  const reps = await Promise.all(list.map((who) => report(who, samples)));
  return Object.fromEntries(list.map((who, i) => [who.name, reps[i]]));
}

test('browsers (Chromium and Firefox) and a native participant decode each other through Janus', async () => {
  const alice = await join('alice');
  const bob = await join('bob');
  // Firefox with the page's default API (what a user opening the demo in Firefox gets): the
  // package's main-thread RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter.
  const fox = await join('firefox', { api: null, engine: 'firefox' });
  const nat = startNative();
  const first = await nat.report();
  stamp(`native participant ${first.participant} started`);
  const n = first.participant;
  people.native = { participant: n };
  const browsers = [alice, bob, fox];
  assert.equal((await report(fox)).api, 'rtp', "Firefox's page runs the main-thread API by default");
  // Every browser decodes every other browser and the native participant.
  const pairs = browsers.flatMap((who) => browsers.filter((o) => o !== who).map((o) => [who, o.participant]).concat([[who, n]]));
  await until('every browser decoding every other feed (video and audio)', async () => {
    const reps = await reportAll(browsers);
    return pairs.every(([who, p]) => decoded(reps[who.name], p).video > 0 && decoded(reps[who.name], p).audio > 0);
  });
  await until('the native participant decrypting every browser', async () => {
    const r = await nat.report();
    return browsers.every((b) => nativeFeed(r, b.participant).video.decrypted > 0 && nativeFeed(r, b.participant).audio.decrypted > 0) && r;
  });
  // Everyone keeps decoding everyone: a window of at least 6 s that lasts until every receiver
  // has decoded more video frames and audio samples of every feed and its decrypters have taken
  // 100 more audio frames of it (a loaded machine slows the pages; the window waits for them).
  const before = await reportAll(browsers);
  const natBefore = await nat.report();
  const windowStart = Date.now();
  await sleep(6000);
  let after;
  let natAfter;
  await until('every receiver decoding more of every feed (and the native participant decrypting more)', async () => {
    after = await reportAll(browsers);
    natAfter = await nat.report();
    const browsersMoved = pairs.every(([who, p]) => {
      const [d, b] = [decoded(after[who.name], p), decoded(before[who.name], p)];
      const audio = decrypters(after[who.name], p, 'audio').frames - decrypters(before[who.name], p, 'audio').frames;
      return d.video > b.video && d.audio > b.audio && audio > 100;
    });
    const nativeMoved = browsers.every((b) =>
      ['video', 'audio'].every((kind) => nativeFeed(natAfter, b.participant)[kind].frames - nativeFeed(natBefore, b.participant)[kind].frames > 20),
    );
    return browsersMoved && nativeMoved;
  }, 90000);
  const secs = ((Date.now() - windowStart) / 1000).toFixed(1);
  const hostAddresses = new Set(Object.values(networkInterfaces()).flat().map((i) => i.address));
  for (const [who, p] of pairs) {
    const rep = after[who.name];
    const d = decoded(rep, p);
    const b = decoded(before[who.name], p);
    assert.ok(d.video > b.video, `${who.name} decodes video of participant ${p}: ${b.video} → ${d.video}`);
    assert.ok(d.audio > b.audio, `${who.name} decodes audio of participant ${p}: ${b.audio} → ${d.audio}`);
    // Media went through Janus on this host (Janus gathers the host's own addresses).
    const path = feedOf(rep, p).path;
    assert.ok(path && hostAddresses.has(path.remote), `${who.name}: feed ${p} from ${JSON.stringify(path)}`);
    if (p === n) assert.equal(d.width, 64, `${who.name} decodes the native participant's 64x48 VP8`);
    // The audio decoder's sample count is getStats' view; the decrypters' own counters say
    // the frames behind it arrived and decrypted (Firefox and Chromium alike).
    const [x, y] = [decrypters(before[who.name], p, 'audio'), decrypters(after[who.name], p, 'audio')];
    const ratio = (y.decrypted - x.decrypted) / Math.max(1, y.frames - x.frames);
    assert.ok(y.frames - x.frames > 100 && ratio > 0.9, `${who.name}'s audio decrypter of ${p}: ${JSON.stringify([x, y])}`);
    const v = [decrypters(before[who.name], p, 'video'), decrypters(after[who.name], p, 'video')];
    const from = browsers.find((o) => o.participant === p)?.name ?? 'native';
    figure(
      `${who.name} (${who.engine === 'firefox' ? firefoxLabel : 'Chromium'}) decodes ${from} (participant ${p}): ${d.video} video frames (+${d.video - b.video} in ${secs} s), ` +
        `${d.audio} audio samples (+${d.audio - b.audio}); its decrypters in those ${secs} s: video ${v[1].decrypted - v[0].decrypted}/${v[1].frames - v[0].frames}, audio ${y.decrypted - x.decrypted}/${y.frames - x.frames}`,
    );
  }
  for (const b of browsers) {
    const f0 = nativeFeed(natBefore, b.participant);
    const f1 = nativeFeed(natAfter, b.participant);
    for (const kind of ['video', 'audio']) {
      const [x, y] = [f0[kind], f1[kind]];
      assert.ok(y.decrypted > x.decrypted, `native decrypts ${b.name}'s ${kind}`);
      const ratio = (y.decrypted - x.decrypted) / Math.max(1, y.frames - x.frames);
      assert.ok(ratio > 0.9, `native decrypts ${(100 * ratio).toFixed(1)}% of ${b.name}'s ${kind} frames (want > 90%)`);
      assert.equal(y.invalid, 0, `native: decrypted ${b.name} ${kind} frames with a bad codec header`);
      assert.equal(y.valid, y.decrypted, `native: every decrypted ${kind} frame of ${b.name} checks out`);
      figure(`native decrypts ${b.name}'s ${kind}: ${y.decrypted} of ${y.frames} frames (${(100 * ratio).toFixed(1)}% in the last ${secs} s), all valid ${kind === 'video' ? `VP8 (${y.width}x${y.height}, ${y.keyFrames} key frames)` : 'Opus'}`);
      // Only the sender's own KIDs, for this track.
      for (const kid of Object.keys(y.kids).map(Number)) {
        assert.equal(KID.participant(kid), b.participant, `KID ${kid} on ${b.name}'s feed`);
        assert.equal(KID.track(kid), TRACK[kind], `KID ${kid} on ${b.name}'s ${kind}`);
      }
    }
  }
  const pub = natAfter.publisher;
  assert.equal(pub.video.duplicates + pub.audio.duplicates, 0, 'native sender: a (KID, CTR) pair twice');
  figure(`native sends ${pub.video.sent} VP8 and ${pub.audio.sent} Opus frames, KIDs ${JSON.stringify({ ...pub.video.kids, ...pub.audio.kids })}`);
});

test('a late joiner decodes after the keys rotate; a wrong room secret decodes nothing', async () => {
  const { alice, bob, firefox: fox } = people;
  const n = people.native.participant;
  const epochBefore = keys.snapshot(String(ROOM)).epoch;
  const carol = await join('carol', { api: 'rtp' });
  const joinEpoch = keys.snapshot(String(ROOM)).history.find((h) => h.why.includes(`participant ${carol.participant} (carol) joined`)).epoch;
  assert.ok(joinEpoch > epochBefore, 'joining rotated the keys');
  const mallory = await join('mallory', { secret: randomBytes(16).toString('hex') });
  const members = [alice, bob, fox];
  const others = members.map((x) => x.participant).concat(n);
  await until('carol decoding alice, bob, firefox and the native participant', async () => {
    const r = await report(carol);
    return others.every((p) => decoded(r, p).video > 0 && decoded(r, p).audio > 0);
  });
  await until('alice, bob, firefox and the native participant decoding carol', async () => {
    const reps = await reportAll(members);
    for (const who of members) {
      const d = decoded(reps[who.name], carol.participant);
      if (!(d.video > 0 && d.audio > 0)) return false;
    }
    const f = nativeFeed(await native.report(), carol.participant);
    return f.video.decrypted > 0 && f.audio.decrypted > 0;
  });
  // Everyone else rotates to carol's epoch (encrypters switch 1 s after they learn it; a
  // loaded machine delays that timer).
  const reps = await until("the others encrypting under carol's epoch or a later one", async () => {
    const r = await reportAll(members);
    return members.every((who) => r[who.name].worker.sendEpoch >= joinEpoch) && r;
  });
  const rc = await report(carol);
  // carol's key service only ever gave her epochs from her own join on.
  assert.ok(rc.worker.epochs.every((e) => e >= joinEpoch), `carol holds epochs ${rc.worker.epochs} (joined at ${joinEpoch})`);
  for (const p of others) {
    const d = decoded(rc, p);
    figure(`carol (late joiner, RTCRtpSFrameDecrypter) decodes participant ${p}: ${d.video} video frames, ${d.audio} audio samples`);
  }
  // Everyone else rotated: their encrypters use carol's epoch or a later one.
  for (const who of members) {
    assert.ok(reps[who.name].worker.sendEpoch >= joinEpoch, `${who.name} sends under epoch ${reps[who.name].worker.sendEpoch}`);
  }
  const fc = decoded(reps.firefox, carol.participant);
  figure(`firefox decodes the late joiner carol: ${fc.video} video frames, ${fc.audio} audio samples`);

  // mallory: nothing decodes, either way, and the failures are authentication failures. The
  // checks below are about frames that arrived: first wait until they have — until mallory
  // receives every feed and her decrypters count authentication failures in each track of
  // each, every other browser's decrypters count them in both of her tracks, and so does the
  // native participant (failures from the decrypters' counters, never from error events).
  const victims = [alice, bob, carol, fox].map((x) => x.participant).concat(n);
  const kinds = ['video', 'audio'];
  const rm = await until("mallory's decrypters failing authentication in every track of every feed", async () => {
    const r = await report(mallory);
    return victims.every((p) => decoded(r, p).packets > 0 && kinds.every((kind) => failures(r, p, kind, 'authentication') > 0)) && r;
  }, 90000);
  const rOthers = await until("everyone's decrypters failing authentication in both of mallory's tracks", async () => {
    const r = await reportAll([alice, bob, carol, fox]);
    const nm = nativeFeed(await native.report(), mallory.participant);
    const ok =
      [alice, bob, carol, fox].every((who) => kinds.every((kind) => failures(r[who.name], mallory.participant, kind, 'authentication') > 0)) &&
      (nm.video.errors.authentication_failed ?? 0) > 0;
    return ok && r;
  }, 90000);
  for (const p of victims) {
    const d = decoded(rm, p);
    assert.equal(d.video, 0, `mallory decoded video of ${p}`);
    assert.equal(d.audio, 0, `mallory decoded audio samples of ${p}`);
    assert.ok(d.packets > 0, `mallory receives participant ${p}'s packets`);
    for (const kind of ['video', 'audio']) assert.equal(decrypters(rm, p, kind).decrypted, 0, `mallory decrypted ${kind} of ${p}`);
  }
  const mErr = Object.values(rm.worker.feeds).reduce((s, f) => s + (f.errors.authentication ?? 0), 0);
  assert.ok(mErr > 0, `mallory reports authentication errors: ${JSON.stringify(rm.worker.feeds)}`);
  const theirs = [];
  for (const who of [alice, bob, carol, fox]) {
    const r = rOthers[who.name];
    const d = decoded(r, mallory.participant);
    assert.equal(d.video, 0, `${who.name} decoded mallory's video`);
    for (const kind of ['video', 'audio']) {
      const x = decrypters(r, mallory.participant, kind);
      assert.ok(x.frames > 0 && x.decrypted === 0, `${who.name} decrypted mallory's ${kind}: ${JSON.stringify(x)}`);
    }
    const e = r.worker.feeds[mallory.participant]?.errors ?? {};
    assert.ok((e.authentication ?? 0) > 0, `${who.name} reports authentication errors for mallory: ${JSON.stringify(e)}`);
    // getStats' audio count (total − concealed samples) stays at 0 without a decrypted frame,
    // in Firefox as in Chromium: it is what the positive cases' audio checks rest on.
    assert.equal(d.audio, 0, `${who.name} decoded audio samples of mallory`);
    theirs.push(`${who.name} ${e.authentication}`);
  }
  const nm = nativeFeed(await native.report(), mallory.participant);
  assert.equal(nm.video.decrypted + nm.audio.decrypted, 0, 'native decrypted mallory');
  assert.ok((nm.video.errors.authentication_failed ?? 0) > 0, `native: ${JSON.stringify(nm.video.errors)}`);
  figure(`mallory (wrong room secret): 0 frames decoded of ${victims.length} feeds, ${mErr} authentication errors; the others: 0 of hers, authentication errors ${theirs.join(', ')}, native ${nm.video.errors.authentication_failed} authentication failures`);
});

test('a participant removed from the key group stops decoding (Janus still forwards to it)', async () => {
  const { alice, bob, carol, firefox: fox } = people;
  const n = people.native.participant;
  const before = keys.snapshot(String(ROOM)).epoch;
  assert.ok(await bounded('the remove request', alice.page.evaluate((p) => window.sfu.removeMember(p), bob.participant)), 'remove request');
  stamp(`bob (participant ${bob.participant}) removed from the key group`);
  await until('bob learning that he was removed', async () => (await report(bob)).removed);
  const epoch = keys.snapshot(String(ROOM)).epoch;
  assert.ok(epoch > before, 'removal rotated the keys');
  const stayed = [alice, carol, fox];
  // Encrypters switch 1 s after they learn an epoch (a loaded machine delays that timer): wait
  // for the switch itself, in every page and the native participant, then for the old epochs
  // to be retired (4 s after the new one) in every page.
  await until('the others encrypting under the new epoch', async () => {
    const r = await reportAll(stayed);
    return stayed.every((x) => r[x.name].worker.sendEpoch === epoch) && (await native.report()).epoch === epoch;
  }, 90000);
  await until('the others retiring every epoch bob holds', async () => {
    const r = await reportAll(stayed);
    return stayed.every((x) => r[x.name].worker.epochs.every((e) => e >= epoch));
  }, 90000);
  const feeds = stayed.map((x) => x.participant).concat(n);
  const all = [bob, ...stayed];
  // A starved page works through a backlog of frames sent before the switch, and a frame
  // without its key is held up to 2 s (keyWait) before it fails: measure once every receiver
  // is past it — bob's decrypters have failed frames of the new epoch ("keyID", from their
  // counters) in every track of every feed, and across two polls in a row every decrypter on
  // either side of the removal (bob's of the others, the others' and the native participant's
  // of bob) took frames and decrypted none, and no decoder produced a frame of them.
  const bobBefore = await report(bob);
  const still = (a, b) =>
    feeds.every((p) =>
      decoded(b.bob, p).video === decoded(a.bob, p).video &&
      ['video', 'audio'].every((kind) => {
        const [u, v] = [decrypters(a.bob, p, kind), decrypters(b.bob, p, kind)];
        return v.frames > u.frames && v.decrypted === u.decrypted && failures(b.bob, p, kind, 'keyID') > failures(bobBefore, p, kind, 'keyID');
      }),
    ) &&
    stayed.every(
      (x) =>
        decoded(b[x.name], bob.participant).video === decoded(a[x.name], bob.participant).video &&
        ['video', 'audio'].every((kind) => {
          const [u, v] = [decrypters(a[x.name], bob.participant, kind), decrypters(b[x.name], bob.participant, kind)];
          return v.frames > u.frames && v.decrypted === u.decrypted;
        }),
    ) &&
    ['video', 'audio'].every((kind) => {
      const [u, v] = [nativeFeed(a.native, bob.participant)[kind], nativeFeed(b.native, bob.participant)[kind]];
      return v.frames > u.frames && v.decrypted === u.decrypted;
    });
  const polls = [];
  await until('no receiver decrypting across the removal any more (two polls in a row)', async () => {
    polls.push({ ...(await reportAll(all)), native: await native.report() });
    const [a, b, c] = polls.slice(-3);
    return c !== undefined && still(a, b) && still(b, c);
  }, 90000);
  // The window: at least 5 s, and until every counter the checks below expect to move has
  // moved (the others still decode each other, Janus still forwards bob and to bob).
  const r0 = polls[polls.length - 1];
  const n0 = r0.native;
  const windowStart = Date.now();
  await sleep(5000);
  let r1;
  let n1;
  await until('the window: traffic on every feed', async () => {
    r1 = await reportAll(all);
    n1 = await native.report();
    const moved = (x, p) => decoded(r1[x.name], p).packets > decoded(r0[x.name], p).packets;
    return (
      feeds.every((p) => moved(bob, p) && ['video', 'audio'].every((kind) => decrypters(r1.bob, p, kind).frames > decrypters(r0.bob, p, kind).frames)) &&
      stayed.every(
        (x) =>
          moved(x, bob.participant) &&
          ['video', 'audio'].every((kind) => decrypters(r1[x.name], bob.participant, kind).frames > decrypters(r0[x.name], bob.participant, kind).frames) &&
          feeds.filter((q) => q !== x.participant).every((p) => decoded(r1[x.name], p).video > decoded(r0[x.name], p).video),
      ) &&
      nativeFeed(n1, bob.participant).video.frames > nativeFeed(n0, bob.participant).video.frames &&
      Object.values(r1.bob.worker.feeds).reduce((s, f) => s + (f.errors.keyID ?? 0), 0) >
        Object.values(r0.bob.worker.feeds).reduce((s, f) => s + (f.errors.keyID ?? 0), 0)
    );
  }, 90000);
  const secs = ((Date.now() - windowStart) / 1000).toFixed(1);
  const [b0, b1] = [r0.bob, r1.bob];
  // alice's worker sees every frame it sends: none under an older epoch's KIDs any more.
  const oldKids = Object.entries(r1.alice.worker.sent.perKid)
    .filter(([kid, c]) => KID.epochBits(Number(kid)) !== epoch % 16 && c > (r0.alice.worker.sent.perKid[kid] ?? 0))
    .map(([kid]) => kid);
  assert.deepEqual(oldKids, [], `alice still sends under old KIDs (send epoch ${r1.alice.worker.sendEpoch}, key errors ${JSON.stringify(r1.alice.worker.keyErrors)})`);
  // What removal is for, whatever the timing: bob never decrypts a frame under the new epoch.
  for (const [p, f] of Object.entries(b1.worker.feeds)) {
    const newer = Object.entries(f.decrypted).filter(([kid, c]) => KID.epochBits(Number(kid)) === epoch % 16 && c > 0);
    assert.deepEqual(newer, [], `removed bob decrypted frames of ${p} under the epoch made without him`);
  }
  for (const p of feeds) {
    const [x, y] = [decoded(b0, p), decoded(b1, p)];
    const bobKids = JSON.stringify(b1.worker.feeds[p]?.decrypted ?? {});
    assert.equal(y.video - x.video, 0, `removed bob still decodes video of ${p} (his decrypted frames per KID: ${bobKids}, epochs he keeps: ${b1.worker.epochs})`);
    assert.ok(y.packets > x.packets, `Janus still forwards participant ${p} to bob`);
    for (const kind of ['video', 'audio']) {
      const [u, v] = [decrypters(b0, p, kind), decrypters(b1, p, kind)];
      assert.ok(v.frames > u.frames && v.decrypted === u.decrypted, `removed bob's ${kind} decrypter of ${p}: ${JSON.stringify([u, v])}`);
    }
  }
  const keyIdErrors = (r) => Object.values(r.worker.feeds).reduce((s, f) => s + (f.errors.keyID ?? 0), 0);
  assert.ok(keyIdErrors(b1) > keyIdErrors(b0), 'bob: "keyID" errors for the frames he cannot decrypt');
  for (const who of stayed) {
    const [x, y] = [decoded(r0[who.name], bob.participant), decoded(r1[who.name], bob.participant)];
    assert.equal(y.video - x.video, 0, `${who.name} still decodes removed bob`);
    assert.ok(y.packets > x.packets, `Janus still forwards bob to ${who.name}`);
    for (const kind of ['video', 'audio']) {
      const [u, v] = [decrypters(r0[who.name], bob.participant, kind), decrypters(r1[who.name], bob.participant, kind)];
      assert.ok(v.frames > u.frames && v.decrypted === u.decrypted, `${who.name}'s ${kind} decrypter of removed bob: ${JSON.stringify([u, v])}`);
    }
    // The ones who stayed still decode each other and the native participant.
    for (const p of feeds.filter((q) => q !== who.participant)) {
      assert.ok(decoded(r1[who.name], p).video > decoded(r0[who.name], p).video, `${who.name} still decodes ${p}`);
    }
  }
  const [x, y] = [nativeFeed(n0, bob.participant), nativeFeed(n1, bob.participant)];
  assert.equal(y.video.decrypted - x.video.decrypted, 0, 'native still decrypts removed bob');
  assert.ok(y.video.frames > x.video.frames, 'Janus still forwards bob to the native participant');
  // No uncaught error or console error in any page — but bob's: the key service answers his
  // poll with 403 Forbidden now (that is how he learns it), which Chromium logs.
  const expected = (who, e) => who === bob && /status of 403/.test(e);
  for (const who of all.concat(people.mallory)) assert.deepEqual(who.errors.filter((e) => !expected(who, e)), [], `${who.name}'s page errors`);
  figure(`bob removed: in ${secs} s he decoded 0 frames of ${feeds.length} feeds while receiving ${feeds.reduce((s, p) => s + decoded(b1, p).packets - decoded(b0, p).packets, 0)} packets (keyID errors ${keyIdErrors(b0)} → ${keyIdErrors(b1)}); alice, carol, firefox and native decoded 0 of his`);
});

/** The epoch secrets of the test's room, as every member derived them (keys.js, keys.rs). */
async function epochSecrets() {
  const snap = keys.snapshot(String(ROOM));
  const ikm = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), 'HKDF', false, ['deriveBits']);
  const out = new Map();
  for (const [e, nonce] of Object.entries(snap.nonces)) {
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: Buffer.from(nonce, 'hex'), info: new TextEncoder().encode(`sframe-sfu-demo epoch ${e}`) },
      ikm,
      128,
    );
    out.set(Number(e), new Uint8Array(bits));
  }
  return out;
}

function ivfFrames(path) {
  const b = readFileSync(path);
  const frames = [];
  for (let at = b.readUInt16LE(6); at + 12 <= b.length; ) {
    const size = b.readUInt32LE(at);
    frames.push(b.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

/**
 * Feeds VP8 frames to Chromium's decoder (WebCodecs), from a key frame on and again from the
 * next key frame after a gap (null: frames missing from the recording); counts pictures out.
 */
async function decodeVp8(page, frames) {
  const chunks = [];
  let waitKey = true;
  for (const f of frames) {
    if (f === null) {
      waitKey = true;
      continue;
    }
    const key = (f[0] & 1) === 0;
    if (waitKey && !key) continue;
    waitKey = false;
    chunks.push({ key, b64: Buffer.from(f).toString('base64') });
  }
  return bounded('the VP8 decoder', page.evaluate(async (chunks) => {
    const out = { pictures: 0, errors: [], fed: 0 };
    const dec = new VideoDecoder({ output: (f) => (out.pictures++, f.close()), error: (e) => out.errors.push(String(e)) });
    dec.configure({ codec: 'vp8' });
    for (let i = 0; i < chunks.length && dec.state === 'configured'; i++) {
      const data = Uint8Array.from(atob(chunks[i].b64), (c) => c.charCodeAt(0));
      dec.decode(new EncodedVideoChunk({ type: chunks[i].key ? 'key' : 'delta', timestamp: i * 33333, data }));
      out.fed++;
    }
    try {
      await dec.flush();
    } catch (e) {
      out.errors.push(`flush: ${e}`);
    }
    return out;
  }, chunks));
}

test("Janus's recordings hold SFrame ciphertext only: headers parse, payloads don't decode, no (KID, CTR) twice", async () => {
  const { alice, bob, carol, mallory, firefox: fox } = people;
  const n = people.native.participant;
  // What the worker-mode senders' encrypters saw (plaintext samples by KID/CTR).
  const evidence = {};
  for (const who of [alice, bob, mallory]) evidence[who.participant] = (await report(who, true)).worker;
  const nat = await native.quit();
  assert.equal(nat.publisher.video.duplicates + nat.publisher.audio.duplicates, 0);
  for (const who of [alice, bob, carol, mallory, fox]) await bounded(`${who.name} hanging up`, who.page.evaluate(() => window.sfu.hangup()));
  stamp('everyone hung up; reading the recordings');
  // Janus closes a publisher's recordings when it leaves, and logs it ("Closed video recording
  // <file>", at its default level 4): read them once every recording is closed.
  const closed = await until('Janus closing every recording', async () => {
    const names = readdirSync(REC_DIR).filter((f) => f.endsWith('.mjr'));
    const log = readFileSync(JANUS_LOG, 'utf8');
    const base = (f) => f.split('/').pop().replace(/\.mjr$/, '');
    const done = new Set([...log.matchAll(/Closed (?:audio|video|data) recording (\S+)/g)].map((m) => base(m[1])));
    const open = names.filter((f) => !done.has(base(f)));
    return names.length > 0 && open.length === 0 ? names : false;
  }, 60000);
  stamp(`Janus closed all ${closed.length} recordings`);

  const files = readdirSync(REC_DIR).filter((f) => f.endsWith('.mjr')).map((f) => `${REC_DIR}/${f}`);
  const recs = readRecordings(files);
  const byWho = new Map();
  for (const r of recs) {
    assert.ok(r.participant !== null && r.kind, `unexpected recording ${r.path}`);
    assert.equal(r.header.c, r.kind === 'video' ? 'vp8' : 'opus', `${r.path}: codec ${r.header.c}`);
    (byWho.get(r.participant) ?? byWho.set(r.participant, []).get(r.participant)).push(r);
  }
  // Janus's own post-processor reads the same packets (a check of mjr.mjs).
  let ppChecked = 0;
  for (const r of recs) {
    const pp = spawnSync('janus-pp-rec', ['-p', r.path], { encoding: 'utf8' });
    if (pp.error) break; // janus-tools not installed
    const counted = Number(`${pp.stdout}${pp.stderr}`.match(/Counted (\d+) RTP packets/)?.[1]);
    assert.equal(counted, r.packets.length, `janus-pp-rec counts ${counted} packets in ${r.path}, mjr.mjs ${r.packets.length}`);
    ppChecked++;
  }
  if (ppChecked) figure(`janus-pp-rec (janus-tools) counts the same RTP packets as mjr.mjs in ${ppChecked} recordings`);
  const everyone = [alice, bob, carol, mallory, fox].map((x) => x.participant).concat(n);
  assert.deepEqual([...byWho.keys()].sort((a, b) => a - b), [...everyone].sort((a, b) => a - b), 'recorded participants');
  for (const p of everyone) {
    const kinds = (byWho.get(p) ?? []).map((r) => r.kind).sort();
    assert.ok(kinds.includes('audio') && kinds.includes('video'), `participant ${p}: recordings ${kinds}`);
  }

  // Every frame's SFrame header, across all recordings: parses, names its sender and track,
  // and no (KID, CTR) pair comes twice with different bytes.
  const seen = new Map();
  let headers = 0;
  let redelivered = 0;
  let incomplete = 0;
  const duplicates = [];
  for (const r of recs) {
    const codec = r.kind === 'video' ? 'vp8' : 'opus';
    for (const f of r.frames) {
      if (r.kind === 'video' && !f.starts) {
        incomplete++;
        continue; // its first packet is missing: no header to read
      }
      const { clear, sframe } = splitProtected(codec, f.data);
      const h = parseHeader(sframe); // throws on a frame that is not SFrame
      headers++;
      const kid = Number(h.keyId);
      assert.equal(KID.participant(kid), r.participant, `${r.path}: KID ${kid}`);
      assert.equal(KID.track(kid), TRACK[r.kind], `${r.path}: KID ${kid}`);
      f.kid = kid;
      f.ctr = h.counter;
      f.clear = clear;
      f.sframe = sframe;
      const id = `${kid}/${h.counter}`;
      const digest = createHash('sha256').update(f.data).digest('hex');
      const had = seen.get(id);
      if (had === undefined) seen.set(id, digest);
      else if (had === digest) redelivered++;
      else duplicates.push(id);
    }
  }
  assert.deepEqual(duplicates, [], 'a (KID, CTR) pair carried two different frames: a reused nonce');
  assert.ok(headers > 2000, `only ${headers} SFrame headers in the recordings`);
  figure(`recordings: ${recs.length} files of ${everyone.length} participants, ${headers} SFrame headers parsed, ${seen.size} distinct (KID, CTR), 0 reused (${redelivered} frames stored twice, ${incomplete} video frames without their first packet)`);
  const foxFrames = byWho.get(fox.participant).map((r) => `${r.kind} ${r.frames.filter((f) => f.kid !== undefined).length}`);
  figure(`firefox's recordings: SFrame headers of ${foxFrames.join(', ')} frames, all under its own KIDs`);

  // None of the plaintext the senders' encrypters saw is in what Janus stored: every sample
  // (and the start of every IVF frame after its clear bytes) searched at every stored offset.
  const stored = Buffer.concat(recs.flatMap((r) => r.frames.map((f) => f.data)));
  const wanted = new Map(); // first 8 bytes → [{ bytes, what }]
  const want = (bytes, what) => {
    const k = bytes.readBigUInt64LE(0);
    (wanted.get(k) ?? wanted.set(k, []).get(k)).push({ bytes, what });
  };
  let samples = 0;
  for (const [p, ev] of Object.entries(evidence)) {
    for (const kind of ['video', 'audio']) {
      for (const [id, hex] of Object.entries(ev.samples[kind])) {
        samples++;
        want(Buffer.from(hex, 'hex'), `participant ${p}'s ${kind} plaintext (${id})`);
      }
    }
  }
  const ivf = ivfFrames(IVF);
  for (const [i, f] of ivf.entries()) {
    const c = clearPrefixLength('vp8', f);
    want(Buffer.from(f.subarray(c, c + 32)), `native IVF frame ${i}`);
  }
  assert.ok(samples > 1000, `only ${samples} plaintext samples`);
  // carol and firefox (the main-thread API) keep no samples; the native participant's
  // decrypted copies of every browser's video (--dump) are their plaintext too.
  const dumps = new Map(); // participant → the native participant's decrypted VP8 frames
  let dumped = 0;
  for (const who of [alice, bob, carol, fox]) {
    const frames = ivfFrames(`${DUMP}/feed-${who.participant}.ivf`);
    dumps.set(who.participant, new Set(frames.map((f) => f.toString('hex'))));
    for (const [i, f] of frames.entries()) {
      const c = clearPrefixLength('vp8', f);
      if (f.length < c + 16) continue;
      want(Buffer.from(f.subarray(c, c + 32)), `${who.name}'s VP8 as the native participant decrypted it (frame ${i})`);
      dumped++;
    }
  }
  assert.ok(dumps.get(fox.participant).size > 50, `native decrypted only ${dumps.get(fox.participant).size} of firefox's frames`);
  const found = [];
  for (let i = 0; i + 8 <= stored.length; i++) {
    const list = wanted.get(stored.readBigUInt64LE(i));
    if (!list) continue;
    for (const { bytes, what } of list) {
      if (stored.compare(bytes, 0, bytes.length, i, i + bytes.length) === 0) found.push(what);
    }
  }
  assert.deepEqual(found, [], 'plaintext stored by Janus');
  figure(`no plaintext in the recordings: ${samples} browser plaintext samples, ${dumped} browser VP8 frames the native participant decrypted and ${ivf.length} native VP8 frames searched in ${stored.length} stored bytes`);

  // With the room's keys the recordings decrypt — to exactly what the encrypters saw — except
  // mallory's, made with keys derived from another room secret.
  const secrets = await epochSecrets();
  assert.ok(secrets.size <= 16, 'more epochs than the 4 KID epoch bits tell apart');
  const epochOf = (kid) => [...secrets.keys()].find((e) => e % 16 === KID.epochBits(kid));
  const ivfSet = new Set(ivf.map((f) => f.toString('hex')));
  const decrypted = new Map(); // participant → decrypted complete video frames
  for (const r of recs) {
    const rx = new Receiver('AES_128_GCM_SHA256_128', { replayWindow: 0 });
    const kids = new Set();
    let ok = 0;
    let failed = 0;
    let matched = 0;
    const frames = [];
    for (const f of r.frames) {
      if (f.kid === undefined || !f.complete) {
        if (frames.length && frames[frames.length - 1] !== null) frames.push(null); // a gap
        continue;
      }
      if (!kids.has(f.kid)) {
        kids.add(f.kid);
        rx.addKey(f.kid, secrets.get(epochOf(f.kid)));
      }
      let plain;
      try {
        plain = Buffer.concat([f.clear, rx.unprotect(f.sframe, f.clear)]);
        ok++;
      } catch (e) {
        failed++;
        assert.equal(e.code, 'authentication_failed', `${r.path}: ${e.code}`);
        continue;
      }
      frames.push(plain);
      const sample = evidence[r.participant]?.samples[r.kind][`${f.kid}/${f.ctr}`];
      if (sample) {
        const c = clearPrefixLength(r.kind === 'video' ? 'vp8' : 'opus', plain);
        assert.equal(plain.subarray(c, c + sample.length / 2).toString('hex'), sample, `${r.path}: ${f.kid}/${f.ctr}`);
        matched++;
      }
      if (r.participant === n && r.kind === 'video') {
        assert.ok(ivfSet.has(plain.toString('hex')), 'a native frame that is not one of the IVF frames');
      }
      if (!sample && r.kind === 'video' && dumps.get(r.participant)?.has(plain.toString('hex'))) matched++;
    }
    rx.free();
    if (r.participant === mallory.participant) {
      assert.equal(ok, 0, `${r.path}: mallory's frames decrypted with the room's keys`);
      assert.ok(failed > 0);
    } else {
      assert.equal(failed, 0, `${r.path}: ${failed} frames do not decrypt with the room's keys`);
      assert.ok(ok > 20, `${r.path}: ${ok} frames decrypted`);
      if (evidence[r.participant] || (r.kind === 'video' && dumps.has(r.participant))) {
        assert.ok(matched > 20, `${r.path}: only ${matched} frames matched the sender's samples or the native participant's decrypted copy`);
      }
    }
    if (r.kind === 'video') decrypted.set(r.participant, frames);
    figure(`recording ${r.path.split('/').pop()}: ${r.frames.length} frames, ${ok} decrypt with the room's epoch keys, ${failed} do not${matched ? `, ${matched} equal the sender's plaintext sample or the native participant's decrypted frame` : ''}`);
  }

  // A real VP8 decoder (Chromium's, via WebCodecs) on what Janus stored: the stored frames
  // fail to decode; the same frames decrypted decode, one picture each.
  const page = await browser.newPage();
  await page.goto(`${baseUrl}blank`);
  for (const p of [alice.participant, fox.participant, n]) {
    const r = recs.find((x) => x.participant === p && x.kind === 'video');
    const storedFrames = r.frames.map((f) => (f.complete && f.kid !== undefined ? f.data : null));
    const asStored = await decodeVp8(page, storedFrames);
    const plain = await decodeVp8(page, decrypted.get(p));
    // libvpx is lenient: random bytes behind a valid frame tag occasionally come out as a
    // (garbage) picture before it reports an error and the decoder closes.
    assert.ok(asStored.errors.length > 0, `participant ${p}: the decoder took every stored frame: ${JSON.stringify(asStored)}`);
    assert.ok(asStored.pictures <= 0.01 * plain.pictures, `participant ${p}: ${asStored.pictures} pictures from stored frames`);
    assert.ok(plain.pictures >= 0.9 * plain.fed && plain.errors.length === 0, `participant ${p}: decrypted frames: ${JSON.stringify(plain)}`);
    figure(`VP8 decoder on participant ${p}'s recording: stored frames → ${asStored.pictures} pictures (${asStored.errors[0]}); decrypted → ${plain.pictures} pictures of ${plain.fed} frames`);
  }
  // What the native participant decrypted from the browsers (dumped as IVF) is VP8 a real
  // decoder plays: one picture per frame.
  for (const who of [alice, bob, carol, fox]) {
    const frames = ivfFrames(`${DUMP}/feed-${who.participant}.ivf`);
    const res = await decodeVp8(page, frames);
    assert.ok(res.fed > 50 && res.errors.length === 0 && res.pictures === res.fed, `native's decrypted VP8 of ${who.name}: ${JSON.stringify(res)}`);
    figure(`VP8 decoder on the native participant's decrypted copy of ${who.name}'s video: ${res.pictures} pictures of ${res.fed} frames`);
  }
  await page.close();
  const nativeErrors = nat.errors;
  assert.deepEqual(nativeErrors, [], 'native participant errors');
});
