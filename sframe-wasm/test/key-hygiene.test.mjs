// Key hygiene: transforms free their wasm Sender/Receiver (which zeroizes the keys in
// wasm memory) when the stream ends or close() is called, and wipe the package's JS copies of
// key bytes as soon as wasm has them — also the copy RTCRtpSFrameEncryptor / Decryptor transfer
// to the package's worker (in-process stand-in, test/fake-rtc.mjs).
//
// The wasm objects a transform creates are private; the tests see them by wrapping the shared
// prototype methods the transform calls (this module and pipeline.js import the same class).
// A wasm-bindgen object whose `__wbg_ptr` is 0 has been freed (its Rust value dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  Sender,
  Receiver,
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncryptor,
  SFrameTransform,
  SFrameDecryptorStream,
  cipherSuiteInfo,
  resolveKey,
  wipeKey,
} from '../js/index.js';
import { _setWorkerFactory } from '../js/w3c.js';
import { FakeEncodedFrame, FakeWorker, withFakeBrowser } from './fake-rtc.mjs';

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
  const dec = new SFrameDecryptorStream({ cipherSuite: SUITE });
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

// Security 2, finding 5: key bytes given to RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor are
// copied and the copy transferred to the package's worker; that copy — the buffer the worker
// received — was never wiped. Now the worker zero-fills it once the key call settled (in force
// or refused), and the page zero-fills its copy if it was never transferred.
test('Security 2 finding 5: key bytes transferred to the worker are wiped there once the call settled', async () => {
  const restore = withFakeBrowser();
  const workers = [];
  const useWorker = (make) =>
    _setWorkerFactory(() => {
      const w = make();
      workers.push(w);
      return w;
    });
  try {
    useWorker(() => new FakeWorker());
    const caller = new Uint8Array(20).fill(0xee);
    caller.set(KEY, 2);
    const callerCopy = caller.slice();
    const keyView = caller.subarray(2, 18); // the 16 key bytes, at an offset in a larger buffer
    const enc = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
    const rival = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
    const dec = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE });
    const badDec = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE, replayWindow: 5000 });
    const short = () => new Uint8Array(4).fill(9); // refused by sframe-core: invalid_key
    const refused = { name: 'InvalidModificationError' };
    /** [what, the key call, what it rejects with (null: it resolves)] */
    const calls = [
      ['encryptor: set key (in force)', () => enc.setEncryptionKey(keyView, 7), null],
      ['encryptor: set key, refused (key_in_use)', () => rival.setEncryptionKey(KEY, 7), refused],
      ['encryptor: set key, refused (invalid_key)', () => rival.setEncryptionKey(short(), 8), refused],
      ['decryptor: add key (in force)', () => dec.addDecryptionKey(KEY.slice().buffer, 7), null],
      ['decryptor: add key, refused (invalid_key)', () => dec.addDecryptionKey(short(), 8), refused],
      // The worker could not create it (replayWindow over sframe-core's bound): no stream.
      ['decryptor: add key, no stream', () => badDec.addDecryptionKey(KEY, 7), /invalid configuration/],
    ];
    for (const [what, call, rejection] of calls) {
      const before = workers[0].received.length;
      if (rejection) await assert.rejects(call(), rejection, what);
      else await call();
      const msgs = workers[0].received.slice(before).filter((m) => m.type === 'key');
      assert.equal(msgs.length, 1, what);
      const received = msgs[0].key;
      // The worker got its own buffer (transferred), and it is all zeros now the call is over.
      assert.ok(received instanceof Uint8Array && received.buffer.byteLength > 0, what);
      assert.notEqual(received.buffer, caller.buffer, what);
      assert.ok(isZero(received), `${what}: the transferred buffer is wiped (${received})`);
    }
    // The caller's own buffer is the caller's: untouched.
    assert.deepEqual(caller, callerCopy);
    // The worker had the right bytes before it wiped them: frames round-trip under KID 7.
    const frame = new Uint8Array(60).fill(5);
    frame[0] = 0x31; // VP8 delta frame
    await enc.fake.push(new FakeEncodedFrame(frame, 'video/VP8'));
    assert.equal(enc.fake.sent.length, 1);
    await dec.fake.push(enc.fake.sent[0]);
    assert.deepEqual(dec.fake.sent.map((f) => new Uint8Array(f.data)), [frame]);

    // Page side: a copy that never reached the worker is wiped too. (1) postMessage throws.
    let posted = [];
    useWorker(() => {
      const w = new FakeWorker();
      const post = w.postMessage.bind(w);
      w.postMessage = (message, transfer) => {
        if (message.type !== 'key') return post(message, transfer);
        posted.push(message);
        throw new DOMException('refused', 'DataCloneError');
      };
      return w;
    });
    const enc2 = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
    const dec2 = new RTCRtpSFrameDecryptor({ cipherSuite: SUITE });
    await assert.rejects(enc2.setEncryptionKey(KEY, 1), { name: 'DataCloneError' });
    await assert.rejects(dec2.addDecryptionKey(KEY, 1), { name: 'DataCloneError' });
    assert.equal(posted.length, 2);
    for (const m of posted) assert.ok(isZero(m.key), `not posted: the page's copy is wiped (${m.key})`);
    // (2) The worker fails after the key was posted (a worker that keeps what it is given).
    posted = [];
    useWorker(() => {
      const w = new FakeWorker();
      const post = w.postMessage.bind(w);
      w.postMessage = (message, transfer) => {
        if (message.type !== 'key') return post(message, transfer);
        posted.push(message);
        const fatal = new MessageEvent('message', { data: { type: 'fatal', message: 'gone' } });
        setTimeout(() => w.dispatchEvent(fatal), 0);
      };
      return w;
    });
    const enc3 = new RTCRtpSFrameEncryptor({ cipherSuite: SUITE });
    await assert.rejects(enc3.setEncryptionKey(KEY, 1), { name: 'OperationError' });
    assert.equal(posted.length, 1);
    assert.ok(isZero(posted[0].key), `worker failed: the page's copy is wiped (${posted[0].key})`);
    assert.deepEqual(KEY, new Uint8Array(16).map((_, i) => 0x11 * (i + 1)), "the caller's KEY is untouched");
  } finally {
    restore();
  }
});

test('Security 2 finding 5: a worker whose module failed to load wipes the key bytes it was sent', () => {
  // js/sframe-worker.js itself, in a child process where importing worker-host.js fails (a
  // resolve hook stands in for a wasm module that cannot load): key calls posted before the
  // failure (queued) and after it (dropped) must not leave their key bytes in the worker.
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === './worker-host.js' && context.parentURL?.endsWith('/sframe-worker.js')) {
      await new Promise((r) => setTimeout(r, 50)); // the module is "loading" meanwhile
      throw new Error('no wasm');
    }
    return next(specifier, context);
  }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const posted = [];
    globalThis.postMessage = (m) => posted.push(m);
    const key = (fill) => ({ type: 'key', op: 'setEncryptionKey', id: 1, req: fill, key: new Uint8Array(16).fill(fill), keyID: 1n });
    await import(${JSON.stringify(new URL('../js/sframe-worker.js', import.meta.url).href)});
    const queued = key(7);
    globalThis.onmessage({ data: queued });
    if (posted.length) throw new Error('failed before the first message');
    while (!posted.some((m) => m.type === 'fatal')) await new Promise((r) => setTimeout(r, 5));
    const late = key(8);
    globalThis.onmessage({ data: late });
    console.log(JSON.stringify({ posted, keys: [queued, late].map((m) => [...m.key]) }));
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' }),
  );
  assert.deepEqual(out.posted.map((m) => m.type), ['fatal']);
  assert.match(out.posted[0].message, /failed to load: Error: no wasm/);
  for (const k of out.keys) assert.deepEqual(k, new Array(16).fill(0));
});
