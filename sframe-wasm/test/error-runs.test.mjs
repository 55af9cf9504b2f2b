// The wasm layer's ErrorRuns / errorTypeOf (sframe_core::report) and Receiver.usage: argument
// conversion and the shape of what they return. The run logic itself is the core's (unit and
// property tests in sframe-core/src/report.rs); what the decryptors do with it is in
// test/spec-streams.test.mjs and test/w3c.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorRuns, Receiver, Sender, errorCodes, errorTypeOf } from '../js/index.js';

test('ErrorRuns: one report per run of identical failures, the run before carried by the next report', () => {
  const runs = new ErrorRuns();
  assert.deepEqual(runs.observe('keyID', 7n), { errorType: 'keyID', keyID: 7n, previousRun: null });
  assert.equal(runs.observe('keyID', 7), null, 'a number KID is the same KID');
  assert.equal(runs.observe('keyID', 7n), null);
  assert.deepEqual(runs.current, { errorType: 'keyID', keyID: 7n, count: 3 });
  // Another KID starts a run; the report carries the one before.
  assert.deepEqual(runs.observe('keyID', 2n ** 64n - 1n), {
    errorType: 'keyID',
    keyID: 2n ** 64n - 1n,
    previousRun: { errorType: 'keyID', keyID: 7n, count: 3 },
  });
  // A success ends the run; the same failure is then reported again.
  assert.deepEqual(runs.success(), { errorType: 'keyID', keyID: 2n ** 64n - 1n, count: 1 });
  assert.equal(runs.success(), null);
  assert.equal(runs.current, null);
  assert.deepEqual(runs.lastEnded, { errorType: 'keyID', keyID: 2n ** 64n - 1n, count: 1 });
  assert.deepEqual(runs.observe('syntax', null), {
    errorType: 'syntax',
    keyID: null,
    previousRun: { errorType: 'keyID', keyID: 2n ** 64n - 1n, count: 1 },
  });
  assert.equal(runs.observe('syntax', undefined), null, 'undefined and null: no KID');
  assert.deepEqual([runs.reported, runs.suppressed], [3, 3]);
  runs.free();
});

test('ErrorRuns: arguments are checked (W3C errorType names, CryptoKeyID range)', () => {
  const runs = new ErrorRuns();
  assert.throws(() => runs.observe('keyId', 1n), { name: 'TypeError', code: 'invalid_argument' });
  assert.throws(() => runs.observe('replay', 1n), TypeError);
  assert.throws(() => runs.observe(1, 1n), TypeError);
  assert.throws(() => runs.observe('keyID', -1), { name: 'RangeError' });
  assert.throws(() => runs.observe('keyID', 2n ** 64n), { name: 'RangeError' });
  assert.throws(() => runs.observe('keyID', 'seven'), TypeError);
  // A refused call changes nothing.
  assert.deepEqual([runs.reported, runs.suppressed, runs.current], [0, 0, null]);
  runs.free();
});

test("errorTypeOf: every core code through the core's mapping; other codes are syntax", () => {
  const want = {
    unknown_key_id: 'keyID',
    authentication_failed: 'authentication',
    key_usage_limit: 'authentication',
    replay: null,
  };
  for (const code of errorCodes()) {
    assert.equal(errorTypeOf(code), code in want ? want[code] : 'syntax', code);
  }
  for (const code of ['frame_too_short', 'invalid_argument', 'unknown', '']) {
    assert.equal(errorTypeOf(code), 'syntax', code);
  }
});

test("Receiver.usage: the core's per-key counters, null for a KID without a key", () => {
  const key = new Uint8Array(16).fill(0x42);
  const tx = new Sender('AES_128_GCM_SHA256_128');
  const rx = new Receiver('AES_128_GCM_SHA256_128');
  tx.setKey(5, key);
  rx.addKey(5, key);
  assert.deepEqual(rx.usage(5n), { frames: 0, authenticationFailures: 0, highestCounter: null });
  const frames = [0, 1, 2].map(() => tx.protect(new Uint8Array([1, 2, 3])));
  for (const f of frames) rx.unprotect(f);
  const bad = tx.protect(new Uint8Array([4]));
  bad[bad.length - 1] ^= 1;
  assert.throws(() => rx.unprotect(bad), { code: 'authentication_failed' });
  assert.deepEqual(rx.usage(5), { frames: 3, authenticationFailures: 1, highestCounter: 2n });
  assert.equal(rx.usage(6n), null);
  assert.throws(() => rx.usage(-1), RangeError);
  tx.free();
  rx.free();
});
