// The model-based nonce-uniqueness test, driven through the wasm `Sender` (the same class
// every SFrameTransform of a realm uses).
//
// Random sequences (seeded; the seed is printed, SFRAME_NONCE_MODEL_SEED=<seed> replays it) of
// every call the wasm Sender has — new Sender, setKey, setKeyWithCounter, setDerivedKey, going
// back to key material used earlier, protect, free, and a freed Sender replaced by a new one
// given key material used before — across up to 4 live Senders, over small pools of KIDs and
// base keys, in all eight cipher suites (two per sequence, so that the same base key and KID
// also occur under another suite). JavaScript has no threads: every Sender here is in this
// one wasm instance, the scope of its key registry.
//
// The oracle knows nothing of the Sender's internals. For every frame a call returned, it
// reads the header (parseHeader: KID, CTR) and finds which key encrypted it by trial
// decryption: a fresh wasm Receiver (replay window 0) per candidate (suite, base key) for that
// KID. It records (suite, KID, base key, CTR) — i.e. (key, nonce) — and fails if one repeats.
// It also checks that a call that throws produces no frame and changes nothing the Sender
// reports (keyId, nextCounter), that each frame is under the key the Sender was last given
// successfully, and the documented registry rule: a key (suite, KID, base key) that another
// live Sender of this instance has installed is refused with "key_in_use", and only then. Key
// material a freed Sender used comes back through any call, and a new Sender given it resumes
// past every counter used (the instance keeps the counters of freed Senders).
//
// The registry outlives a sequence: a sequence meets the counters that earlier ones left,
// including keys exhausted by u64::MAX counters. So sequences take their base keys from
// POOLS pools in turn (a pool shared by every sequence would soon be all exhausted keys, and
// fresh keys for each of many sequences would fill the registry, which then fails closed).
//
// Not covered here: the wasm Sender exposes no ratchet (RFC 9605 §5.1) or MLS (§5.2) calls,
// so those are exercised only by sframe-core's own model test (sframe-core/tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sender, Receiver, parseHeader, cipherSuiteInfo, resolveKey, CIPHER_SUITES } from '../js/index.js';

const SEQUENCES = Number(process.env.SFRAME_NONCE_MODEL_SEQUENCES ?? 400);
const SEED = Number(process.env.SFRAME_NONCE_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;

const MAX_U64 = (1n << 64n) - 1n;
const KIDS = [0n, 1n, 300n, MAX_U64];
/**
 * Base key pools; sequence `seq` uses pool `poolOf(seq)` (see above). With the default 400
 * sequences each pool serves one round of the 8 primary suites; at most 50 x 96 keys ever
 * reach the registry, far below the 16384 it remembers.
 */
const POOLS = 50;
const baseKeys = (pool) => [
  new Uint8Array(16).fill(0x01 + 2 * pool),
  new Uint8Array(16).fill(0x02 + 2 * pool),
  Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + pool) & 0xff),
];
const BASE_KEYS = baseKeys(0); // the pool shape: indices only
/** Every primary suite of a round of sequences meets the same pool, each round the next pool. */
const poolOf = (seq) => Math.floor(seq / CIPHER_SUITES.length) % POOLS;
const SHORT_KEY = new Uint8Array(8).fill(9); // invalid_key: base keys are at least 16 bytes
const ALLOWED_ERRORS = new Set(['key_in_use', 'counter_exhausted', 'key_usage_limit', 'invalid_key']);

/** mulberry32: small, seedable. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
    u64: () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32)),
  };
}

/** sframe_key / sframe_salt of every (suite, KID, base key) of `pool`, by WebCrypto HKDF. */
async function deriveAll(pool) {
  const out = new Map();
  for (const name of CIPHER_SUITES) {
    const info = cipherSuiteInfo(name);
    for (const [k, kid] of KIDS.entries()) {
      for (const [b, base] of baseKeys(pool).entries()) {
        const hkdf = await crypto.subtle.importKey('raw', base, 'HKDF', false, ['deriveBits']);
        out.set(`${name}/${k}/${b}`, await resolveKey(hkdf, kid, info));
      }
    }
  }
  return out;
}

const materialName = (suite, k, b) => `${suite}/${k}/${b}`;

function runSequence(seq, pools, stats) {
  const rand = prng((SEED + Math.imul(seq, 0x9e3779b1)) >>> 0);
  const derived = pools[poolOf(seq)];
  const BASE_KEYS = baseKeys(poolOf(seq));
  const primary = CIPHER_SUITES[seq % CIPHER_SUITES.length];
  const suites = [primary, rand.pick(CIPHER_SUITES)];
  const trace = [];
  const where = () =>
    `seed ${SEED} (SFRAME_NONCE_MODEL_SEED=${SEED}), sequence ${seq}; last calls:\n  ${trace.slice(-(Number(process.env.SFRAME_NONCE_MODEL_TRACE) || 25)).join('\n  ')}`;

  // The model: application-visible facts only.
  let nextId = 0;
  const live = []; // { id, sender, suite, installed: Set<material>, current: material | null }
  const ledger = new Map(); // material → Set of counters (as strings) seen on frames
  const persistedNext = (m) => {
    const used = ledger.get(m);
    if (!used || used.size === 0) return 0n;
    let max = 0n;
    for (const c of used) if (BigInt(c) > max) max = BigInt(c);
    return max === MAX_U64 ? null : max + 1n; // null: used up, cannot be resumed
  };
  const inUseByOther = (s, m) => live.some((o) => o !== s && o.installed.has(m));

  /** Runs a key call; checks the registry rule and that a refused call changes nothing. */
  function keyCall(s, m, label, call) {
    trace.push(`#${s.id} ${label}`);
    const before = [s.sender.keyId, s.sender.nextCounter];
    const expectInUse = m !== null && inUseByOther(s, m);
    try {
      call();
    } catch (e) {
      trace.push(`  -> ${e.code}`);
      assert.equal(e.name, 'SFrameError', `${label}: ${e}\n${where()}`);
      assert.ok(ALLOWED_ERRORS.has(e.code), `${label}: unexpected ${e.code}\n${where()}`);
      assert.equal(e.code === 'key_in_use', expectInUse, `${label}: ${e.code}\n${where()}`);
      assert.deepEqual([s.sender.keyId, s.sender.nextCounter], before, `${label} failed yet changed the sender\n${where()}`);
      stats[e.code] = (stats[e.code] ?? 0) + 1;
      return false;
    }
    assert.ok(!expectInUse, `${label}: a key another live Sender uses was accepted\n${where()}`);
    s.installed.add(m);
    s.current = m;
    stats.keys++;
    return true;
  }

  /** Which key encrypted `frame`: trial decryption with a fresh Receiver per candidate. */
  function attribute(frame, metadata, plaintext) {
    const { keyId, counter } = parseHeader(frame);
    const k = KIDS.indexOf(keyId);
    assert.ok(k >= 0, `frame with KID ${keyId} outside the pool\n${where()}`);
    const hits = [];
    for (const suite of new Set(suites)) {
      for (const b of BASE_KEYS.keys()) {
        const d = derived.get(materialName(suite, k, b));
        const rx = new Receiver(suite, { replayWindow: 0 });
        try {
          rx.addDerivedKey(keyId, d.sframeKey, d.sframeSalt);
          const pt = rx.unprotect(frame, metadata);
          assert.deepEqual(pt, plaintext, `decrypts to other bytes\n${where()}`);
          hits.push(materialName(suite, k, b));
        } catch (e) {
          // Not this key (a frame shorter than another suite's tag is malformed for it).
          if (e.code !== 'authentication_failed' && e.code !== 'malformed_frame') throw e;
        } finally {
          rx.free();
        }
      }
    }
    assert.equal(hits.length, 1, `frame opened by ${hits.length} candidate keys\n${where()}`);
    return { material: hits[0], counter };
  }

  const ops = 30 + rand.int(50);
  for (let i = 0; i < ops; i++) {
    const roll = rand.int(100);
    if (live.length === 0 || (roll < 8 && live.length < 4)) {
      const suite = rand.chance(0.75) ? suites[0] : suites[1];
      const s = { id: nextId++, sender: new Sender(suite), suite, installed: new Set(), current: null };
      live.push(s);
      trace.push(`#${s.id} = new Sender(${suite})`);
      continue;
    }
    const s = rand.pick(live);
    if (roll < 12) {
      trace.push(`#${s.id}.free()`);
      s.sender.free();
      live.splice(live.indexOf(s), 1);
      continue;
    }
    if (roll < 16) {
      // A Sender freed and a new one given key material some Sender used (maybe the freed
      // one): refused if another live Sender has it, else it resumes past every counter used.
      const used = [...ledger.keys()].filter((m) => m.startsWith(`${s.suite}/`));
      if (used.length === 0) continue;
      const m = rand.pick(used);
      const [, k, b] = m.split('/').map(Number);
      trace.push(`#${s.id}.free()`);
      s.sender.free();
      live.splice(live.indexOf(s), 1);
      const t = { id: nextId++, sender: new Sender(s.suite), suite: s.suite, installed: new Set(), current: null };
      live.push(t);
      trace.push(`#${t.id} = new Sender(${t.suite})`);
      if (keyCall(t, m, `setKey(${k}, base ${b}) used before`, () => t.sender.setKey(KIDS[k], BASE_KEYS[b]))) {
        let max = 0n;
        for (const c of ledger.get(m)) if (BigInt(c) > max) max = BigInt(c);
        const next = t.sender.nextCounter;
        assert.ok(
          next === undefined ? max === MAX_U64 : next > max,
          `a new Sender given ${m} restarts at ${next}, ${max} was used\n${where()}`,
        );
        stats.resumed++;
      }
      continue;
    }
    if (roll < 52) {
      // A key call: a fresh pick, or back to key material this Sender used before.
      let k = rand.int(KIDS.length);
      let b = rand.int(BASE_KEYS.length);
      if (roll < 22 && s.installed.size > 0) {
        [, k, b] = rand.pick([...s.installed]).split('/').map(Number);
        stats.back++;
      }
      const m = materialName(s.suite, k, b);
      const kid = rand.chance(0.5) ? KIDS[k] : KIDS[k] <= 2n ** 53n - 1n ? Number(KIDS[k]) : KIDS[k];
      const how = rand.int(10);
      if (how === 0) {
        keyCall(s, null, `setKey(${k}, short key)`, () => s.sender.setKey(kid, SHORT_KEY));
      } else if (how < 4) {
        keyCall(s, m, `setKey(${k}, base ${b})`, () => s.sender.setKey(kid, BASE_KEYS[b]));
      } else if (how < 6) {
        const d = derived.get(m);
        keyCall(s, m, `setDerivedKey(${k}, base ${b})`, () =>
          s.sender.setDerivedKey(kid, d.sframeKey.slice(), d.sframeSalt.slice()),
        );
      } else {
        const ctr = rand.pick([0n, 1n, BigInt(rand.int(20)), persistedNext(m) ?? 0n, MAX_U64, MAX_U64 - 1n, rand.u64()]);
        keyCall(s, m, `setKeyWithCounter(${k}, base ${b}, ${ctr})`, () =>
          s.sender.setKeyWithCounter(kid, BASE_KEYS[b], ctr),
        );
      }
      continue;
    }
    // protect
    const plaintext = rand.bytes(1 + rand.int(40));
    const metadata = rand.chance(0.5) ? rand.bytes(rand.int(8)) : undefined;
    const before = [s.sender.keyId, s.sender.nextCounter];
    trace.push(`#${s.id}.protect()`);
    let frame;
    try {
      frame = s.sender.protect(plaintext, metadata);
    } catch (e) {
      trace.push(`  -> ${e.code}`);
      assert.ok(['no_key', 'counter_exhausted', 'key_usage_limit'].includes(e.code), `protect: ${e}\n${where()}`);
      assert.equal(e.code === 'no_key', s.current === null, `protect: ${e.code}\n${where()}`);
      assert.deepEqual([s.sender.keyId, s.sender.nextCounter], before, `failed protect changed the sender\n${where()}`);
      stats[`protect:${e.code}`] = (stats[`protect:${e.code}`] ?? 0) + 1;
      continue;
    }
    assert.ok(frame instanceof Uint8Array && frame.length > plaintext.length, `protect returned no frame\n${where()}`);
    const { material, counter } = attribute(frame, metadata ?? new Uint8Array(0), plaintext);
    trace.push(`  -> ${material} ctr ${counter}`);
    assert.equal(material, s.current, `frame not under the key last given to #${s.id}\n${where()}`);
    if (!ledger.has(material)) ledger.set(material, new Set());
    const used = ledger.get(material);
    assert.ok(!used.has(String(counter)), `NONCE REUSE: ${material} counter ${counter} twice\n${where()}`);
    used.add(String(counter));
    stats.frames++;
  }
  for (const s of live) s.sender.free();
}

test('model-based nonce uniqueness through the wasm Sender (random call sequences, all suites)', async (t) => {
  t.diagnostic(`seed ${SEED} (replay: SFRAME_NONCE_MODEL_SEED=${SEED}), ${SEQUENCES} sequences`);
  console.log(`nonce model: seed ${SEED}, ${SEQUENCES} sequences`);
  const pools = [];
  for (let p = 0; p < Math.min(POOLS, Math.ceil(SEQUENCES / CIPHER_SUITES.length)); p++) {
    pools.push(await deriveAll(p));
  }
  const stats = { frames: 0, keys: 0, back: 0, resumed: 0 };
  for (let seq = 0; seq < SEQUENCES; seq++) runSequence(seq, pools, stats);
  t.diagnostic(JSON.stringify(stats));
  console.log('nonce model:', JSON.stringify(stats));
  // The sequences must have reached the interesting cases, not only errors.
  if (SEQUENCES >= 100) {
    assert.ok(stats.frames > SEQUENCES * 5, `frames: ${stats.frames}`);
    assert.ok(stats.key_in_use > 0, 'no key_in_use refusal reached');
    assert.ok(stats['protect:counter_exhausted'] > 0, 'no counter exhaustion reached');
    assert.ok(stats.back > 0);
    assert.ok(stats.resumed > 0, 'no freed key given to a new Sender resumed');
  }
});
