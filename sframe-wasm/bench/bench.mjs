// Node bench: protect + unprotect of 1200-byte frames, sframe-wasm (sframe-core in WASM) vs
// WebCrypto AES-GCM (crypto.subtle, awaited per call) doing the same per-frame work:
// build the nonce (salt XOR counter), encrypt with the header as AAD, then decrypt/verify.
//   node bench/bench.mjs            full run (prints a Markdown table)
//   node bench/bench.mjs --quick    a few hundred frames, only to keep the bench working
// Not a test: CI runs it once with --quick and checks nothing about the numbers.
import { Sender, Receiver } from '../js/index.js';

const quick = process.argv.includes('--quick');
const FRAME = 1200;
const frames = quick ? 300 : 20000;
const rounds = quick ? 1 : 3;
const frame = new Uint8Array(FRAME).map((_, i) => (i * 7) & 0xff);
const base = new Uint8Array(16).fill(0x42);

function wasmRun(suite, n) {
  const tx = new Sender(suite);
  const rx = new Receiver(suite);
  tx.setKey(1, base);
  rx.addKey(1, base);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const ct = tx.protect(frame);
    const pt = rx.unprotect(ct);
    if (pt.length !== FRAME) throw new Error('round trip failed');
  }
  const ms = performance.now() - t0;
  // Free both: a live Sender keeps its claim on the key (a second one would be key_in_use).
  tx.free();
  rx.free();
  return ms;
}

async function webcryptoRun(bits, n) {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(bits / 8).fill(7), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  const salt = new Uint8Array(12).fill(0x5a);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    // SFrame header for KID 1 and a counter (at most 8 bytes here), and nonce = salt ^ ctr.
    const header = new Uint8Array([0x10 | 7, 0, 0, 0, 0, 0, 0, 0, i & 0xff]);
    header[1] = 1;
    const iv = salt.slice();
    const view = new DataView(iv.buffer);
    view.setUint32(8, view.getUint32(8) ^ i);
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, key, frame);
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: header }, key, ct);
    if (pt.byteLength !== FRAME) throw new Error('round trip failed');
  }
  return performance.now() - t0;
}

const cases = [
  ['sframe-wasm', 'AES_128_GCM_SHA256_128', () => wasmRun('AES_128_GCM_SHA256_128', frames)],
  ['sframe-wasm', 'AES_256_GCM_SHA512_128', () => wasmRun('AES_256_GCM_SHA512_128', frames)],
  ['sframe-wasm', 'AES_128_CTR_HMAC_SHA256_80', () => wasmRun('AES_128_CTR_HMAC_SHA256_80', frames)],
  ['WebCrypto (await per call)', 'AES-128-GCM', () => webcryptoRun(128, frames)],
  ['WebCrypto (await per call)', 'AES-256-GCM', () => webcryptoRun(256, frames)],
];

console.log(`protect + unprotect of ${FRAME}-byte frames, ${frames} frames, best of ${rounds}; node ${process.version}`);
console.log('');
console.log('| implementation | suite / cipher | µs per frame (protect+unprotect) | frames/s | MB/s (one direction) |');
console.log('|---|---|---:|---:|---:|');
for (const [impl, suite, fn] of cases) {
  await fn(); // warm-up (JIT, key schedules)
  let best = Infinity;
  for (let r = 0; r < rounds; r++) best = Math.min(best, await fn());
  const us = (best * 1000) / frames;
  const fps = 1e6 / us;
  console.log(
    `| ${impl} | ${suite} | ${us.toFixed(2)} | ${Math.round(fps)} | ${((fps * FRAME) / 1e6).toFixed(1)} |`,
  );
}
