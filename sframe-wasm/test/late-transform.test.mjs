// w3c.js guardSenders (finding "late transform", late_transform_sends_clear): Chromium
// short-circuits a sender's encoded-frame pipeline in a task posted at the sender's creation
// when it has no transform by then, and a transform assigned later is silently never called —
// the sender sends clear media. The guard gives each sender addTransceiver / addTrack create a
// pass-through transform in its creation task. Here with a fake browser global (the real
// browsers: e2e/late-transform.test.mjs); the worker side with worker-host.js in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardSenders, _setWorkerFactory } from '../js/w3c.js';
import { createWorkerHost, TRANSFORM_OPTION } from '../js/worker-host.js';

/** A Chromium-like global: senders with createEncodedStreams and a native transform accessor. */
function chromiumLike({ createEncodedStreams = true } = {}) {
  const made = [];
  class RTCRtpSender {
    #transform = null;
    get transform() {
      return this.#transform;
    }
    set transform(t) {
      this.#transform = t;
    }
  }
  if (createEncodedStreams) RTCRtpSender.prototype.createEncodedStreams = function () {};
  class RTCRtpScriptTransform {
    constructor(worker, options) {
      this.worker = worker;
      this.options = options;
      made.push(this);
    }
  }
  class RTCPeerConnection extends EventTarget {
    constructor(config = {}) {
      super();
      this.config = config;
    }
    /** A remote offer that sends: a new transceiver, and its "track" event in the same task. */
    setRemoteDescription() {
      const transceiver = { sender: new RTCRtpSender() };
      this.dispatchEvent(Object.assign(new Event('track'), { transceiver }));
      return Promise.resolve(transceiver);
    }
    getConfiguration() {
      return this.config;
    }
    addTransceiver() {
      return { sender: new RTCRtpSender() };
    }
    addTrack() {
      return new RTCRtpSender();
    }
  }
  return { RTCPeerConnection, RTCRtpSender, RTCRtpScriptTransform, Worker: function Worker() {}, made };
}

const fakeWorker = { postMessage() {}, addEventListener() {} };

test('late_transform_sends_clear: a new Chromium sender gets a pass-through transform in its creation task; the getter hides it; the app transform replaces it', async () => {
  _setWorkerFactory(() => fakeWorker);
  const g = chromiumLike();
  guardSenders(g);
  const pc = new g.RTCPeerConnection();
  for (const sender of [pc.addTransceiver('video').sender, pc.addTrack('audio')]) {
    const native = Object.getOwnPropertyDescriptor(g.RTCRtpSender.prototype, 'transform').set;
    assert.ok(native, 'the setter stays');
    assert.equal(sender.transform, null, 'the guard reads as no transform');
    assert.equal(g.made.at(-1).worker, fakeWorker, "over the package's worker");
    assert.deepEqual(g.made.at(-1).options, { [TRANSFORM_OPTION]: { role: 'hold' } });
    const app = {};
    sender.transform = app;
    assert.equal(sender.transform, app);
    sender.transform = null;
    assert.equal(sender.transform, null);
  }
  assert.equal(g.made.length, 2, 'one guard per sender');
  // A sender a remote offer creates: guarded in its "track" event (one listener per connection).
  const answerer = new g.RTCPeerConnection();
  for (let i = 0; i < 2; i++) {
    const tr = await answerer.setRemoteDescription();
    assert.equal(tr.sender.transform, null);
  }
  assert.equal(g.made.length, 4, "a remote offer's senders are guarded too, once each");
  // Once per global: a second call wraps nothing again.
  const add = g.RTCPeerConnection.prototype.addTransceiver;
  guardSenders(g);
  assert.equal(g.RTCPeerConnection.prototype.addTransceiver, add);
});

test('late_transform_sends_clear: no guard where there is no short circuit (no createEncodedStreams: Firefox) or with encodedInsertableStreams', () => {
  _setWorkerFactory(() => fakeWorker);
  const firefox = chromiumLike({ createEncodedStreams: false });
  const add = firefox.RTCPeerConnection.prototype.addTransceiver;
  guardSenders(firefox);
  assert.equal(firefox.RTCPeerConnection.prototype.addTransceiver, add, 'not wrapped');
  new firefox.RTCPeerConnection().addTransceiver('video');
  assert.equal(firefox.made.length, 0);

  const g = chromiumLike();
  guardSenders(g);
  const sender = new g.RTCPeerConnection({ encodedInsertableStreams: true }).addTransceiver('video').sender;
  assert.equal(g.made.length, 0, 'legacy insertable streams: left alone');
  assert.equal(sender.transform, null);
  guardSenders({}); // nothing to guard: no throw
});

test("late_transform_sends_clear: the worker passes a guard's frames through unchanged and keeps no state for it", async () => {
  const host = createWorkerHost(() => {});
  const frames = [new Uint8Array([1, 2, 3]), new Uint8Array([4])];
  const out = [];
  const readable = new ReadableStream({
    start(c) {
      for (const f of frames) c.enqueue(f);
      c.close();
    },
  });
  const writable = new WritableStream({ write: (f) => void out.push(f) });
  host.rtctransform({ readable, writable, options: { [TRANSFORM_OPTION]: { role: 'hold' } } });
  for (let i = 0; i < 10 && out.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(out, frames);
  assert.equal(host.size, 0);
});
