// @ts-check
// The readable / writable pair of every SFrame object (pipeline.js's SFrameEngine): what a
// `TransformStream` with the default strategies does (writable high-water mark 1, readable 0,
// a frame taken up only once the readable is pulled, transforms one at a time, flush on close,
// cancel on abort / cancel, terminate), built from a `WritableStream` and a `ReadableStream`
// directly.
//
// Why not a TransformStream: its plumbing is the largest single cost of a small frame. Two
// identity TransformStreams piped as an RTCRtpScriptTransform worker pipes them cost 9.3-9.8 µs
// per frame in Chromium 156 (bench/README.md, `--plumbing`); this pair, the same shape and the
// same backpressure, 6.5-6.7 µs — a third of the stream cost, ~15 % of a 64-byte round trip.
// The difference is TransformStream's own promise steps (its sink's write waits on a
// backpressure promise, then on the transform's promise, then its controller's), which a sink
// that runs the frame synchronously when the readable is waiting does not take.
//
// Same observable behaviour as the TransformStream it replaces: a frame written while nobody
// reads waits in the writable (backpressure) and is processed only when a read comes, so a key
// change made meanwhile applies to it; a transform that returns a promise holds the next frame
// until it settles; close() of the writable runs `flush` then closes the readable; abort() of
// the writable or cancel() of the readable runs `cancel` and errors the other side;
// `terminate()` closes the readable and errors the writable.

/**
 * @typedef {object} FrameStreamController
 * @property {(chunk: unknown) => void} enqueue   puts a chunk on the readable (throws once it
 *   is closed or errored, as TransformStreamDefaultController.enqueue does)
 * @property {() => void} terminate   closes the readable, errors the writable
 */

/**
 * @param {{
 *   transform: (chunk: unknown) => void | Promise<void>,
 *   flush: () => void | Promise<void>,
 *   cancel: (reason: unknown) => void,
 * }} algorithms
 * @returns {{ readable: ReadableStream, writable: WritableStream, controller: FrameStreamController }}
 */
export function frameStream({ transform, flush, cancel }) {
  /** @type {ReadableStreamDefaultController} */
  let rc = /** @type {any} */ (null);
  /** @type {WritableStreamDefaultController} */
  let wc = /** @type {any} */ (null);
  // Whether the readable was pulled and not yet given a chunk (TransformStream's
  // "backpressure" false): a frame written now is processed at once.
  let pulled = false;
  /** @type {{ resolve: () => void, reject: (e: unknown) => void } | null} */
  let waiting = null;
  let ended = false;
  // Set when this side errors the writable (terminate, readable cancelled): a write waiting
  // for a read is then not taken up.
  /** @type {{ reason: unknown } | null} */
  let writableError = null;

  /** @param {unknown} reason */
  const end = (reason) => {
    if (ended) return;
    ended = true;
    const w = waiting;
    waiting = null;
    w?.reject(reason);
    cancel(reason);
  };

  const readable = new ReadableStream(
    {
      start: (c) => {
        rc = c;
      },
      pull: () => {
        pulled = true;
        const w = waiting;
        if (w) {
          waiting = null;
          w.resolve();
        }
      },
      cancel: async (reason) => {
        writableError ??= { reason };
        end(reason);
        // As in a TransformStream: the writable errors once the cancel algorithm's promise
        // is taken up (an abort() of the writable in the same turn still succeeds).
        await undefined;
        try {
          wc.error(reason);
        } catch {
          // Already errored.
        }
      },
    },
    { highWaterMark: 0 },
  );

  /** @param {unknown} chunk */
  const run = (chunk) => {
    // `pulled` stays set until a chunk is enqueued: a frame dropped (nothing enqueued) leaves
    // the read waiting, and the next frame is processed at once (as in a TransformStream).
    const r = transform(chunk);
    if (r instanceof Promise) {
      return r.catch((e) => {
        failed(e);
        throw e;
      });
    }
    return r;
  };
  /** @param {unknown} e */
  const failed = (e) => {
    // As a TransformStream whose transform throws: both sides error; `cancel` is not run.
    writableError ??= { reason: e };
    try {
      rc.error(e);
    } catch {
      // Already closed or errored.
    }
  };

  const writable = new WritableStream(
    {
      start: (c) => {
        wc = c;
      },
      write: (chunk) => {
        if (writableError !== null) throw writableError.reason;
        if (pulled) {
          try {
            return run(chunk);
          } catch (e) {
            failed(e);
            throw e;
          }
        }
        return new Promise((resolve, reject) => {
          waiting = { resolve: () => resolve(undefined), reject };
        }).then(() => {
          // Aborted while it waited: the frame is not taken up (as in a TransformStream,
          // whose sink checks for "erroring" after its backpressure wait).
          if (writableError !== null) throw writableError.reason;
          const signal = wc.signal;
          if (signal?.aborted) throw signal.reason;
          return run(chunk);
        });
      },
      close: async () => {
        try {
          await flush();
        } catch (e) {
          failed(e);
          throw e;
        }
        ended = true;
        try {
          rc.close();
        } catch {
          // terminate() closed it already.
        }
      },
      abort: async (reason) => {
        end(reason);
        // The readable errors once the cancel algorithm's (settled) promise is taken up, as
        // in a TransformStream: a cancel() of the readable meanwhile closes it instead.
        await undefined;
        try {
          rc.error(reason);
        } catch {
          // Already closed or errored.
        }
      },
    },
    { highWaterMark: 1 },
  );

  /** @type {FrameStreamController} */
  const controller = {
    enqueue: (chunk) => {
      pulled = false;
      rc.enqueue(chunk);
    },
    terminate: () => {
      try {
        rc.close();
      } catch {
        // Already closed or errored.
      }
      const error = new TypeError('the SFrame stream was terminated');
      writableError ??= { reason: error };
      const w = waiting;
      waiting = null;
      w?.reject(error);
      try {
        wc.error(error);
      } catch {
        // Already errored.
      }
    },
  };
  return { readable, writable, controller };
}
