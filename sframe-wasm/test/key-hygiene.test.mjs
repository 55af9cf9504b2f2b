// Key hygiene: transforms free their wasm Sender/Receiver (which zeroizes the keys in
// wasm memory) when the stream ends or close() is called, and wipe the package's JS copies of
// key bytes as soon as wasm has them.
//
// The wasm objects a transform creates are private; the tests see them by wrapping the shared
// prototype methods the transform calls (this module and transform.js import the same class).
// A wasm-bindgen object whose `__wbg_ptr` is 0 has been freed (its Rust value dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sender,
  Receiver,
  SFrameTransform,
  SFrameDecrypterStream,
  cipherSuiteInfo,
  resolveKey,
  wipeKey,
} from '../js/index.js';

const KEY = new Uint8Array(16).map((_, i) => 0x11 * (i + 1));
const SUITE = 'AES_128_GCM_SHA256_128';
const CLOSED = { name: 'InvalidStateError', code: 'closed' };

/**
 * Calls `body` while Sender/Receiver key methods record (this, arguments). Restores them.
 * @returns {Promise<Array<{ self: object, method: string, args: unknown[] }>>}
 */
async function recordingKeyCalls(body) {
  const calls = [];
  const saved = [];
  for (const cls of [Sender, Receiver]) {
    for (const method of ['setKey', 'setDerivedKey', 'addKey', 'addDerivedKey']) {
      const orig = cls.prototype[method];
      if (typeof orig !== 'function') continue;
      saved.push([cls, method, orig]);
      cls.prototype[method] = function (...args) {
        calls.push({ self: this, method, args });
        return orig.apply(this, args);
      };
    }
  }
  try {
    await body(calls);
  } finally {
    for (const [cls, method, orig] of saved) cls.prototype[method] = orig;
  }
  return calls;
}

const isZero = (b) => b instanceof Uint8Array && b.length > 0 && b.every((x) => x === 0);
const freed = (obj) => obj.__wbg_ptr === 0;

/** The wasm object of a transform, found by giving it a throwaway key. */
async function wasmObjectOf(t, kid = 1) {
  const [call] = await recordingKeyCalls(() => t.setEncryptionKey(KEY, kid));
  assert.ok(call && !freed(call.self));
  return call.self;
}

test('close() frees the wasm Sender/Receiver; then key calls reject, frames are refused', async () => {
  for (const role of ['encrypt', 'decrypt']) {
    const t = new SFrameTransform({ role, cipherSuite: SUITE });
    const obj = await wasmObjectOf(t, role === 'encrypt' ? 31 : 32);
    assert.ok(obj instanceof (role === 'encrypt' ? Sender : Receiver));
    assert.equal(t.closed, false);
    t.close();
    assert.ok(freed(obj), `${role}: wasm object freed`);
    assert.equal(t.closed, true);
    t.close(); // idempotent
    await assert.rejects(t.setEncryptionKey(KEY, 1), CLOSED);
    if (role === 'decrypt') {
      await assert.rejects(t.addDecryptionKey(KEY, 1), CLOSED);
      await assert.rejects(t.removeDecryptionKey(1), CLOSED);
    }
    // The stream is over: the readable is closed and writes are refused (not processed).
    assert.equal((await t.readable.getReader().read()).done, true);
    await assert.rejects(t.writable.getWriter().write(new Uint8Array(10)));
    assert.equal(t.stats.frames, 0);
  }
});

test('the wasm object is freed when the writable closes, is aborted, or the readable is cancelled', async () => {
  for (const role of ['encrypt', 'decrypt']) {
    for (const end of ['writable close', 'writable abort', 'readable cancel', 'pipe ends']) {
      const t = new SFrameTransform({ role, cipherSuite: SUITE });
      const obj = await wasmObjectOf(t, 40);
      if (end === 'writable close') {
        const reading = t.readable.getReader().read();
        await t.writable.getWriter().close();
        assert.equal((await reading).done, true);
      } else if (end === 'writable abort') {
        await t.writable.abort(new Error('track stopped'));
      } else if (end === 'readable cancel') {
        await t.readable.cancel();
      } else {
        const source = new ReadableStream({
          start(c) {
            c.enqueue(new Uint8Array(0));
            c.close();
          },
        });
        await source.pipeThrough(t).pipeTo(new WritableStream());
      }
      assert.ok(freed(obj), `${role}, ${end}: wasm object freed`);
      assert.equal(t.closed, true);
      await assert.rejects(t.setEncryptionKey(KEY, 2), CLOSED, `${role}, ${end}`);
      t.close(); // still fine
    }
  }
});

test('a key call queued before close() rejects and installs nothing', async () => {
  const t = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const calls = await recordingKeyCalls(async () => {
    const pending = t.setEncryptionKey(await crypto.subtle.importKey('raw', KEY, 'HKDF', false, ['deriveBits']), 3);
    t.close();
    await assert.rejects(pending, CLOSED);
  });
  assert.deepEqual(calls, []);
});

test("the package's JS copies of key bytes are wiped once wasm has them", async () => {
  const suite = cipherSuiteInfo(SUITE);
  const callerBytes = KEY.slice();
  const hkdf = await crypto.subtle.importKey('raw', KEY, 'HKDF', false, ['deriveBits']);
  const extractable = await crypto.subtle.importKey('raw', KEY, 'AES-GCM', true, ['encrypt']);
  const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  const dec = new SFrameDecrypterStream({ cipherSuite: SUITE });
  const rival = new SFrameTransform({ role: 'encrypt', cipherSuite: SUITE });
  rival.onerror = () => {};
  const calls = await recordingKeyCalls(async () => {
    await enc.setEncryptionKey(callerBytes, 1); // bytes → setKey(copy)
    await enc.setEncryptionKey(hkdf, 2); // HKDF CryptoKey → setDerivedKey(key, salt)
    await enc.setEncryptionKey(extractable, 3); // extractable → setKey(exported raw)
    await dec.addDecryptionKey(callerBytes.buffer, 1); // ArrayBuffer → addKey(copy)
    await dec.addDecryptionKey(hkdf, 2); // → addDerivedKey
    // Refused by wasm (key_in_use): the copies are wiped all the same.
    await assert.rejects(rival.setEncryptionKey(callerBytes, 1), { code: 'key_in_use' });
    await assert.rejects(rival.setEncryptionKey(hkdf, 2), { code: 'key_in_use' });
  });
  assert.deepEqual(
    calls.map((c) => c.method),
    ['setKey', 'setDerivedKey', 'setKey', 'addKey', 'addDerivedKey', 'setKey', 'setDerivedKey'],
  );
  for (const { method, args } of calls) {
    const secrets = method.endsWith('DerivedKey') ? [args[1], args[2]] : [args[1]];
    for (const s of secrets) {
      assert.ok(isZero(s), `${method}: the bytes handed to wasm are wiped (${s?.length} bytes)`);
      assert.notEqual(s.buffer, callerBytes.buffer);
    }
  }
  // The caller's own buffer is the caller's: untouched.
  assert.deepEqual(callerBytes, KEY);
  // The keys were right before they were wiped: frames still round-trip (enc is at KID 3).
  await dec.addDecryptionKey(KEY, 3);
  const wire = await collect(enc, [new Uint8Array(20).fill(6)]);
  assert.deepEqual(await collect(dec, wire), [new Uint8Array(20).fill(6)]);
  // wipeKey (exported for resolveKey's callers) zeroes every form resolveKey returns.
  for (const key of [KEY, hkdf, extractable]) {
    const r = await resolveKey(key, 9n, suite);
    const parts = Object.values(r);
    assert.ok(parts.every((p) => !isZero(p)));
    wipeKey(r);
    assert.ok(parts.every(isZero));
  }
  wipeKey(undefined); // harmless
  for (const t of [enc, dec, rival]) t.close();
});

/** Pipes frames through an open transform once (closes the source only). */
async function collect(t, frames) {
  const out = [];
  const writer = t.writable.getWriter();
  const reader = t.readable.getReader();
  for (const f of frames) {
    const read = reader.read(); // first: a write waits for a reader (backpressure)
    await writer.write(f);
    out.push((await read).value);
  }
  writer.releaseLock();
  reader.releaseLock();
  return out;
}
