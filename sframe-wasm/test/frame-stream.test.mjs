// js/frame-stream.js against the TransformStream it replaces: the same random sequences of
// writes, reads, key changes (a variable the transform reads), drops, slow (promise) transforms,
// close, abort and cancel, driven on both; what each side observes must be identical — which
// frames the transform saw and when (the "key" in force when it ran), what was read, which
// promises settled and how.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameStream } from '../js/frame-stream.js';
import { rng } from './helpers.mjs';

const settle = () => new Promise((r) => setTimeout(r, 0));

/**
 * Builds one side: `kind` "transform" (TransformStream) or "pair" (frameStream). The transform
 * logs (frame, key in force), drops frames ≡ 0 mod 4, answers frames ≡ 1 mod 4 after a
 * promise, and enqueues two chunks for frames ≡ 2 mod 4 (frames released at once).
 */
function side(kind) {
  const log = [];
  const state = { key: 0 };
  /** @param {number} f @param {(c: unknown) => void} enqueue */
  const work = (f, enqueue) => {
    log.push(`t${f}@k${state.key}`);
    if (f % 4 === 0) return undefined;
    if (f % 4 === 1) {
      return Promise.resolve().then(() => {
        log.push(`e${f}`);
        enqueue(`${f}/k${state.key}`);
      });
    }
    if (f % 4 === 2) {
      enqueue(`${f}a`);
      enqueue(`${f}b`);
      return undefined;
    }
    enqueue(`${f}/k${state.key}`);
    return undefined;
  };
  let rw;
  let terminate;
  if (kind === 'transform') {
    let ctl;
    const ts = new TransformStream({
      start: (c) => {
        ctl = c;
      },
      transform: (f) => work(f, (c) => ctl.enqueue(c)),
      flush: () => {
        log.push('flush');
      },
      cancel: () => {
        log.push('cancel');
      },
    });
    rw = ts;
    terminate = () => ctl.terminate();
  } else {
    let controller;
    const p = frameStream({
      transform: (f) => work(f, (c) => controller.enqueue(c)),
      flush: () => {
        log.push('flush');
      },
      cancel: () => {
        log.push('cancel');
      },
    });
    controller = p.controller;
    rw = p;
    terminate = () => controller.terminate();
  }
  const writer = rw.writable.getWriter();
  const reader = rw.readable.getReader();
  // Node 20's web streams throw an internal assertion (not a rejection) for a write after some
  // error paths, on either side: logged like a rejection, so the sides still compare.
  const guard = (what, call) => {
    try {
      return call();
    } catch (e) {
      return Promise.reject(e?.code === 'ERR_INTERNAL_ASSERTION' ? new Error('node internal') : e);
    }
  };
  const note = (what) => (p) =>
    p.then(
      (v) => log.push(`${what} ok ${JSON.stringify(v?.value ?? null)}${v?.done ? ' done' : ''}`),
      (e) => log.push(`${what} err ${e?.name ?? typeof e}`),
    );
  return {
    log,
    state,
    write: (f) => note(`w${f}`)(guard('write', () => writer.write(f))),
    read: (i) => note(`r${i}`)(reader.read()),
    close: () => note('close')(writer.close()),
    abort: () => note('abort')(writer.abort(new Error('hang up'))),
    cancel: () => note('cancel')(reader.cancel(new Error('gone'))),
    terminate: () => {
      try {
        terminate();
        log.push('terminated');
      } catch (e) {
        log.push(`terminate err ${e?.name}`);
      }
    },
  };
}

test('frameStream behaves as the TransformStream it replaces (random operation sequences)', async () => {
  for (let seed = 1; seed <= 1500; seed++) {
    const next = rng(seed);
    const a = side('transform');
    const b = side('pair');
    let frame = 0;
    let reads = 0;
    let ended = false;
    const ops = [];
    for (let step = 0; step < 25; step++) {
      const x = next();
      let op;
      if (x < 0.4) op = ['write', frame++];
      else if (x < 0.75) op = ['read', reads++];
      else if (x < 0.85) op = ['key'];
      else if (x < 0.9) op = ['settle'];
      else if (ended) op = ['settle'];
      else if (x < 0.93) op = ['close'];
      else if (x < 0.95) op = ['abort'];
      else if (x < 0.97) op = ['cancel'];
      else op = ['terminate'];
      // One way of ending per sequence: the order in which engines settle two racing ends
      // (an abort and a cancel in one turn) is not something the pipeline relies on.
      if (['close', 'abort', 'cancel', 'terminate'].includes(op[0])) ended = true;
      ops.push(op.join(''));
      for (const s of [a, b]) {
        if (op[0] === 'write') s.write(op[1]);
        else if (op[0] === 'read') s.read(op[1]);
        else if (op[0] === 'key') s.state.key++;
        else if (op[0] === 'close') s.close();
        else if (op[0] === 'abort') s.abort();
        else if (op[0] === 'cancel') s.cancel();
        else if (op[0] === 'terminate') s.terminate();
      }
      if (op[0] === 'settle' || next() < 0.5) await settle();
    }
    await settle();
    await settle();
    // What the transform saw (frame and key in force) and what came out, in order.
    const seen = (log) => log.filter((l) => /^t\d|^e\d|^flush|^cancel$/.test(l));
    assert.deepEqual(seen(b.log), seen(a.log), `seed ${seed}: transform calls differ (${ops.join(' ')})\n TS:   ${a.log.join(' ')}\n pair: ${b.log.join(' ')}`);
    const reads_ = (log) => log.filter((l) => l.startsWith('r')).sort();
    assert.deepEqual(reads_(b.log), reads_(a.log), `seed ${seed}: reads differ (${ops.join(' ')})\n TS:   ${a.log.join(' ')}\n pair: ${b.log.join(' ')}`);
    // Which promises fulfil and which reject (the error's class may differ: engines error the
    // writable of a cancelled TransformStream with the reason or with a TypeError).
    const settled = (log) =>
      log
        .filter((l) => /^(w\d+|close|abort|cancel) (ok|err)/.test(l))
        .map((l) => l.replace(/ err .*/, ' err'))
        .sort();
    assert.deepEqual(settled(b.log), settled(a.log), `seed ${seed}: write / close outcomes differ (${ops.join(' ')})\n TS:   ${a.log.join(' ')}\n pair: ${b.log.join(' ')}`);
  }
});

test('frameStream: a frame written while nobody reads waits, and a dropped frame does not stall the next', async () => {
  let key = 'old';
  const seen = [];
  let controller;
  const p = frameStream({
    transform: (f) => {
      seen.push(`${f}:${key}`);
      if (f !== 'drop') controller.enqueue(`${f}:${key}`);
    },
    flush: () => {},
    cancel: () => {},
  });
  controller = p.controller;
  const w = p.writable.getWriter();
  const r = p.readable.getReader();
  w.write('a');
  await settle();
  assert.deepEqual(seen, [], 'no read pending: the frame waits');
  key = 'new';
  assert.deepEqual(await r.read(), { value: 'a:new', done: false }, 'the key in force when it is read applies');
  const next = r.read();
  w.write('drop');
  w.write('b');
  assert.deepEqual(await next, { value: 'b:new', done: false });
  assert.deepEqual(seen, ['a:new', 'drop:new', 'b:new']);
});
