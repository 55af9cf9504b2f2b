// Stand-ins for the browser pieces RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor use, so the
// main-thread code, the message protocol and the worker code (js/worker-host.js, the code
// js/sframe-worker.js runs) are tested together in Node:
//
//   FakeWorker            — runs createWorkerHost in process; every message both ways goes
//                           through structuredClone (as postMessage does: a CryptoKey is
//                           cloned, key bytes transferred, a frame that cannot be cloned
//                           throws DataCloneError) and is delivered in a later task.
//   FakeRTCRtpScriptTransform — like the browser's: constructed with (worker, options), it
//                           fires rtctransform in the worker with a transformer whose readable
//                           is fed by the test (`push`) and whose writable is collected
//                           (`sent`: what would go to the packetizer / decoder).
import { createWorkerHost } from '../js/worker-host.js';

const nextTask = () => new Promise((r) => setTimeout(r, 0));

export class FakeWorker extends EventTarget {
  /** Messages the main thread posted, as the worker received them. */
  received = [];

  constructor() {
    super();
    this.host = createWorkerHost((message) => {
      const data = structuredClone(message); // throws DataCloneError like postMessage
      setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data })), 0);
    });
  }

  postMessage(message, transfer = []) {
    const data = structuredClone(message, { transfer });
    setTimeout(() => {
      this.received.push(data);
      this.host.message(data);
    }, 0);
  }

  /** The worker's rtctransform event (queued like the browser does). */
  fireRtcTransform(transformer) {
    setTimeout(() => this.host.rtctransform(transformer), 0);
  }
}

export class FakeRTCRtpScriptTransform {
  constructor(worker, options) {
    if (!(worker instanceof FakeWorker)) throw new TypeError('not a worker');
    // Own properties: they survive the prototype change the polyfill makes.
    const sent = [];
    let controller;
    const readable = new ReadableStream({
      start(c) {
        controller = c;
      },
    });
    const writable = new WritableStream({
      write(frame) {
        sent.push(frame);
      },
    });
    Object.defineProperties(this, {
      fake: {
        value: {
          options: structuredClone(options),
          sent,
          /** Frames from the encoder (sender) or depacketizer (receiver). */
          async push(...frames) {
            for (const f of frames) controller.enqueue(f);
            for (let i = 0; i < 5; i++) await nextTask();
          },
        },
      },
    });
    worker.fireRtcTransform({ readable, writable, options: structuredClone(options) });
  }
}

/** Installs the fakes on globalThis for the duration of a test; returns a cleanup function. */
export function withFakeBrowser() {
  const saved = { RTCRtpScriptTransform: globalThis.RTCRtpScriptTransform };
  globalThis.RTCRtpScriptTransform = FakeRTCRtpScriptTransform;
  return () => {
    if (saved.RTCRtpScriptTransform === undefined) delete globalThis.RTCRtpScriptTransform;
    else globalThis.RTCRtpScriptTransform = saved.RTCRtpScriptTransform;
  };
}

/** Lets queued messages and replies run. */
export async function settle(rounds = 10) {
  for (let i = 0; i < rounds; i++) await nextTask();
}

/** A stand-in for RTCEncodedVideoFrame / RTCEncodedAudioFrame (.data, getMetadata()). */
export class FakeEncodedFrame {
  constructor(bytes, mimeType) {
    this.data = bytes.slice().buffer;
    this.mimeType = mimeType;
  }
  getMetadata() {
    return { mimeType: this.mimeType };
  }
}
