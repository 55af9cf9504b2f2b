// Browser bench: the package in headless Debian Chromium (puppeteer-core, e2e/browsers.mjs's
// launch; never a downloaded browser), measured inside a dedicated worker — where an
// RTCRtpScriptTransform runs — with the pages served by a local HTTP server on 127.0.0.1 that
// this script starts and stops. Per frame size and suite, µs per frame of:
//   wasm protect / unprotect      the package's Sender / Receiver (sframe-core in wasm)
//   WebCrypto encrypt / decrypt   crypto.subtle on the same bytes, one await per call (GCM:
//                                 AES-GCM with the SFrame header as AAD; CTR suites: AES-CTR +
//                                 HMAC, two awaits per direction)
//   transform round trip          one frame through the public SFrameEncrypterStream, piped
//                                 into SFrameDecrypterStream, read back (one frame in flight),
//                                 key as bytes (wasm + WebCrypto, path by size) and as a
//                                 non-extractable HKDF CryptoKey (AES-GCM always in WebCrypto);
//                                 the raw key forced onto each path (the threshold's crossover)
// and the ratio round trip / (WebCrypto encrypt + decrypt) that the browser goals are stated in (round trip <= 0.5x at 64 B, <= 1.0x at 1200 B, <= 1.5x from 10 KiB).
// See bench/browser-worker.js for what each figure includes.
//
//   node bench/browser.mjs                  full run, prints a Markdown table
//   node bench/browser.mjs --write-readme   ... and writes it into bench/README.md
//   node bench/browser.mjs --quick          CI: few frames; checks that it runs, that every
//                                           round trip decrypts to its input and that
//                                           js/webcrypto.js matches RFC 9605's vectors
//   node bench/browser.mjs --sizes 64,1200  only those frame sizes
//   node bench/browser.mjs --ab REV [--sizes ..] [--ctr] [--mime video/AV1]
//                                           A/B of the round trip: js/ of git revision REV
//                                           against this tree, alternating runs, one browser
//   node bench/browser.mjs --real-frames ...  first times getMetadata() and data on real
//                                           RTCEncoded*Frames (loopback call, fake devices;
//                                           run it where loopback ICE works, e.g. stage 50's
//                                           namespace)
//   node bench/browser.mjs --crossover       the raw-key round trip forced onto each path at
//                                           sizes 64 B … 4 KiB (the WebCrypto threshold's data)
//   node bench/browser.mjs --copies          what building a frame's output buffer costs (new
//                                           buffer + copy, copy + ArrayBuffer transfer)
//   node bench/browser.mjs --profile [--size 1200] [--frames 20000] [--external]
//                              [--threshold N]
//                                           CPU profile (CDP Profiler in the worker) of the
//                                           transform round trip: self time by function
//                                           (--external: non-extractable CryptoKey;
//                                           --threshold: the WebCrypto path's threshold)
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { launch } from '../e2e/browsers.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const writeReadme = args.includes('--write-readme');
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

const PKG = fileURLToPath(new URL('../', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const GCM = 'AES_128_GCM_SHA256_128';
const CTR = 'AES_128_CTR_HMAC_SHA256_80';
const CASES = [
  [GCM, 64],
  [GCM, 1200],
  [GCM, 2 * 1024],
  [GCM, 4 * 1024],
  [GCM, 10 * 1024],
  [GCM, 100 * 1024],
  [CTR, 1200],
  [CTR, 10 * 1024],
];

/** Frames per measurement: about 0.2-0.5 s of work each (2 shared cores), fewer in --quick. */
function framesFor(size) {
  if (quick) return 20;
  if (size <= 1200) return 1500;
  if (size <= 4096) return 800;
  if (size <= 10240) return 500;
  return 80;
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
const ALLOWED = ['bench/', 'js/', 'pkg/'];

/** Static files of sframe-wasm/{bench,js,pkg} on 127.0.0.1 (any free port). */
function startServer() {
  const server = createServer(async (req, res) => {
    let rel = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1));
    let root = PKG;
    if (abDir && rel.startsWith(`ab${sep}`)) {
      // --ab: /ab/js/ is the other revision's js/, /ab/pkg/ this tree's pkg/.
      rel = rel.slice(3);
      if (rel.startsWith(`js${sep}`)) root = abDir;
    }
    if (rel === 'favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (rel.startsWith('..') || !ALLOWED.some((p) => rel.startsWith(p.replaceAll('/', sep)))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(root, rel));
      // Cross-origin isolated: performance.now() at 5 µs instead of 100 µs resolution.
      res.writeHead(200, {
        'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function cpuModel() {
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? 'unknown CPU';
    const n = info.match(/^processor\s*:/gm)?.length ?? '?';
    return `${model} (${n} logical CPUs visible)`;
  } catch {
    return 'unknown CPU';
  }
}

const f1 = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const sizeLabel = (n) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

function table(rows) {
  // The floor (W3C issue's goal): the bare WebCrypto transform of the same size, same run.
  const ratio = (x, r) => (x === null || r.bareUs === null ? '–' : `${(x / r.bareUs).toFixed(2)}×`);
  const us = (x) => (x === null ? '–' : f1(x));
  const out = [
    '| suite | frame | wasm protect | wasm unprotect | WebCrypto encrypt | WebCrypto decrypt | bare WebCrypto transform (no SFrame): the floor | transform round trip, raw key | / floor | transform round trip, non-extractable key | / floor | raw key, wasm path only | raw key, WebCrypto path only | streams alone (TransformStream) | the package\'s stream pair alone | streams + one WebCrypto call each |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.suite} | ${sizeLabel(r.size)} | ${f1(r.protectUs)} | ${f1(r.unprotectUs)} | ${f1(r.encUs)} | ${f1(r.decUs)} | ${us(r.bareUs)} | ${f1(r.roundTripUs)} | ${ratio(r.roundTripUs, r)} | ${f1(r.externalUs)} | ${ratio(r.externalUs, r)} | ${f1(r.wasmPathUs)} | ${us(r.webPathUs)} | ${f1(r.streamsUs)} | ${f1(r.pairUs)} | ${f1(r.streamsAsyncUs)} |`,
    );
  }
  return out.join('\n');
}

/** Self time per function of a CDP Profiler profile, top `limit`. */
function selfTimes(prof, limit = 30) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of prof.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = prof.samples.length;
  const agg = new Map();
  for (const [id, c] of counts) {
    const cf = byId.get(id).callFrame;
    const file = cf.url ? cf.url.replace(/^.*\/(bench|js|pkg)\//, '$1/') : '';
    const key = `${cf.functionName || '(anonymous)'} ${file}${file ? `:${cf.lineNumber + 1}` : ''}`;
    agg.set(key, (agg.get(key) ?? 0) + c);
  }
  const rows = [...agg].sort((a, b) => b[1] - a[1]).slice(0, limit);
  const cats = new Map();
  for (const [k, c] of agg) {
    const cat = k.includes('.wasm:')
      ? 'wasm (sframe-core)'
      : k.includes(' pkg/')
        ? 'wasm-bindgen glue (pkg/sframe_wasm.js)'
        : k.includes(' js/')
          ? 'package JS (js/)'
          : k.includes(' bench/')
            ? 'bench harness'
            : /^\((garbage collector|program|idle)\)/.test(k)
              ? k.split(' ')[0]
              : 'V8 builtins / streams (no script)';
    cats.set(cat, (cats.get(cat) ?? 0) + c);
  }
  return { total, rows, cats: [...cats].sort((a, b) => b[1] - a[1]) };
}

/** --ab REV: REV's sframe-wasm/js/ in a temporary directory (git archive). */
let abDir = null;
const abRev = args.includes('--ab') ? args[args.indexOf('--ab') + 1] : null;
if (abRev) {
  abDir = await mkdtemp(join(tmpdir(), 'sframe-ab-'));
  execFileSync('sh', ['-c', `git -C "${PKG}" archive "${abRev}" js | tar -x -C "${abDir}"`]);
}

const server = await startServer();
const origin = `http://127.0.0.1:${server.address().port}`;
const url = `${origin}/bench/browser.html`;
const browser = await launch('chromium');
let failed = false;
try {
  const version = (await browser.version()).replace(/^(Headless)?Chrome\//, 'Chromium ');
  if (args.includes('--real-frames')) {
    // Real RTCEncoded*Frames (loopback call, fake devices): µs per getMetadata() / data call.
    const rf = await browser.newPage();
    await rf.goto(`${origin}/bench/real-frames.html`);
    await rf.waitForFunction(() => window.result !== undefined);
    const r = await rf.evaluate(() => window.result);
    console.log(`real encoded frames in an RTCRtpScriptTransform worker, µs per call (${version})`);
    console.log('| frame | bytes | getMetadata() | data (get) | data (set) |\n|---|---:|---:|---:|---:|');
    for (const [kind, v] of Object.entries(r)) {
      console.log(`| ${kind} | ${v.bytes} | ${v.getMetadataUs.toFixed(2)} | ${v.dataGetUs.toFixed(2)} | ${v.dataSetUs.toFixed(2)} |`);
    }
    await rf.close();
  }
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.message ?? e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  const workerP = new Promise((resolve) => page.once('workercreated', resolve));
  await page.goto(url);
  await page.waitForFunction(() => window.bench !== undefined);
  await page.evaluate(() => window.bench.ready);
  const worker = await workerP;
  const run = (job) => page.evaluate((j) => window.bench.run(j), job);

  if (args.includes('--crossover')) {
    // Where the WebCrypto path overtakes the wasm path (raw key): the threshold's data.
    const sizes = [64, 256, 512, 800, 1200, 1600, 2048, 3000, 4096];
    const r = await run({ kind: 'crossover', suite: GCM, sizes, n: quick ? 20 : 600, rounds: quick ? 1 : 12 });
    console.log(`transform round trip by path, raw key, ${GCM}, µs per frame, best of 12 alternating runs (${version})`);
    console.log('| frame | wasm path | WebCrypto path | WebCrypto / wasm |\n|---|---:|---:|---:|');
    for (const x of r) console.log(`| ${sizeLabel(x.size)} | ${f1(x.wasmUs)} | ${f1(x.webUs)} | ${(x.webUs / x.wasmUs).toFixed(2)} |`);
  } else if (args.includes('--plumbing')) {
    // The stream plumbing alone: two identity TransformStreams against two of the package's
    // stream pairs (js/frame-stream.js), piped the same way, 15 alternating runs, best of each.
    console.log(`stream plumbing alone, µs per frame, best of 15 alternating runs (${version})`);
    console.log('| frame | two TransformStreams | two frame-stream.js pairs |\n|---|---:|---:|');
    for (const size of [64, 1200]) {
      const r = await run({ kind: 'plumbing', size, n: 2000, rounds: 15 });
      console.log(`| ${sizeLabel(size)} | ${f1(r.transformStream)} | ${f1(r.pair)} |`);
    }
  } else if (args.includes('--copies')) {
    // What one output buffer costs: new + copy vs copy into a touched buffer (+ transfer).
    console.log(`building a frame's output buffer, µs per frame (${version})`);
    console.log('| frame | new buffer + copy | new buffer alone | copy into a touched buffer | copy + transfer(shorter) | transfer(longer) + shift |\n|---|---:|---:|---:|---:|---:|');
    for (const size of [1200, 10240, 102400]) {
      const r = await run({ kind: 'copies', size, n: size > 20000 ? 300 : 2000 });
      console.log(`| ${sizeLabel(size)} | ${f1(r.allocCopyUs)} | ${f1(r.allocUs)} | ${f1(r.copyUs)} | ${f1(r.copyTransferUs)} | ${f1(r.growShiftUs)} |`);
    }
  } else if (abRev) {
    const sizes = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1].split(',').map(Number) : [64, 1200, 10240];
    const mimeNote = args.includes('--mime') ? `, frames of ${args[args.indexOf('--mime') + 1]}` : '';
    console.log(`transform round trip${mimeNote}, µs per frame, best of 45 alternating runs: ${abRev} vs this tree (${version})`);
    console.log(`| suite | frame | ${abRev} | this tree | change |\n|---|---:|---:|---:|---:|`);
    for (const suite of args.includes('--ctr') ? [GCM, CTR] : [GCM]) {
      for (const size of sizes) {
        const mime = args.includes('--mime') ? args[args.indexOf('--mime') + 1] : undefined;
        const r = await run({ kind: 'ab', suite, size, n: size > 20000 ? 100 : 1000, rounds: 15, mime });
        console.log(`| ${suite} | ${sizeLabel(size)} | ${f1(r.other)} | ${f1(r.current)} | ${(((r.current - r.other) / r.other) * 100).toFixed(0)} % |`);
      }
    }
  } else if (profile) {
    const size = opt('--size', 1200);
    const n = opt('--frames', 20000);
    const suite = args.includes('--ctr') ? CTR : GCM;
    const keyMode = args.includes('--external') ? 'external' : 'raw';
    const threshold = args.includes('--threshold') ? opt('--threshold', undefined) : undefined;
    await run({ kind: 'roundtrip', suite, size, n: 2000, keyMode, threshold }); // warm-up (JIT)
    const cdp = worker.client;
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
    const us = await run({ kind: 'roundtrip', suite, size, n, keyMode, threshold });
    const { profile: prof } = await cdp.send('Profiler.stop');
    const { total, rows, cats } = selfTimes(prof);
    console.log(`transform round trip, ${suite}, ${size}-byte frames, ${keyMode} key${threshold === undefined ? '' : `, threshold ${threshold}`}, ${n} frames: ${us.toFixed(1)} µs per frame (${version})`);
    console.log(`self time (${total} samples at 50 µs; µs per frame = share × ${us.toFixed(1)}):`);
    for (const [k, c] of cats) {
      console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${((us * c) / total).toFixed(2).padStart(6)} µs  [${k}]`);
    }
    console.log('');
    for (const [k, c] of rows) {
      console.log(`${((100 * c) / total).toFixed(1).padStart(5)}%  ${((us * c) / total).toFixed(2).padStart(6)} µs  ${k}`);
    }
    const file = join(tmpdir(), 'sframe-browser-bench.cpuprofile');
    await writeFile(file, JSON.stringify(prof));
    console.log(`full profile (DevTools → Performance → load): ${file}`);
  } else {
    const vectors = JSON.parse(await readFile(join(REPO, 'test-vectors', 'rfc9605.json'), 'utf8')).sframe;
    const v = await run({ kind: 'vectors', vectors });
    console.log(`js/webcrypto.js: ${v.gcm} AES-GCM vectors of RFC 9605 match (non-extractable key), ${v.refused} CTR vectors refused`);
    const rounds = quick ? 1 : 9;
    const rows = [];
    const only = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1].split(',').map(Number) : null;
    for (const [suite, size] of CASES.filter(([, size]) => !only || only.includes(size))) {
      const r = await run({ kind: 'case', suite, size, n: framesFor(size), rounds, verify: quick });
      rows.push(r);
      if (!quick) console.error(`  ${suite} ${sizeLabel(size)}: round trip ${f1(r.roundTripUs)} µs`);
    }
    const date = new Date().toISOString().slice(0, 10);
    const cpu = await cpuModel();
    const md = table(rows);
    console.log(`\n${version}, dedicated worker, ${cpu}, ${date}${quick ? ' (--quick: not a measurement)' : ''}; µs per frame, best of ${rounds}\n`);
    console.log(md);
    if (writeReadme && !quick) await updateReadme({ md, version, cpu, date, rows });
  }
  if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join('; ')}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  server.close();
  if (abDir) await rm(abDir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

/** Replaces the "current figures" block of bench/README.md (between the markers). */
async function updateReadme({ md, version, cpu, date, rows }) {
  const path = join(PKG, 'bench', 'README.md');
  const readme = await readFile(path, 'utf8');
  const begin = '<!-- browser-bench:begin -->';
  const end = '<!-- browser-bench:end -->';
  const frames = [...new Set(rows.map((r) => `${sizeLabel(r.size)}: ${r.n}`))].join(', ');
  const block = [
    begin,
    `Measured ${date}: \`node bench/browser.mjs --write-readme\`, ${version} (headless, Debian package),`,
    `dedicated worker; ${cpu}; best of 9 runs of (frames per run) ${frames}; µs per frame.`,
    '',
    md,
    end,
  ].join('\n');
  const i = readme.indexOf(begin);
  const j = readme.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`bench/README.md has no ${begin} … ${end} block`);
  await writeFile(path, readme.slice(0, i) + block + readme.slice(j + end.length));
  console.log('\nbench/README.md updated');
}
