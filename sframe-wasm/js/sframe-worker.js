// @ts-check
// The module worker behind RTCRtpSFrameEncryptor / RTCRtpSFrameDecryptor (w3c.js starts it
// with `new Worker(new URL('./sframe-worker.js', import.meta.url), { type: 'module' })`).
//
// The handlers are set before anything is imported: the package loads its wasm module with a
// top-level await, and an rtctransform event or a message that arrives before a handler
// exists is lost. Both are queued until worker-host.js (and the wasm) are ready.

/**
 * The parts of DedicatedWorkerGlobalScope used here (this file is type-checked with the DOM
 * library, which has no worker scope).
 * @type {{ onmessage: ((e: MessageEvent) => void) | null,
 *   onrtctransform: ((e: { transformer: any }) => void) | null,
 *   postMessage: (message: unknown) => void }}
 */
const scope = /** @type {any} */ (globalThis);

/** @type {ReturnType<typeof import('./worker-host.js').createWorkerHost> | null} */
let host = null;
let failed = false;
/** @type {Array<['message', unknown] | ['rtctransform', any]>} */
const early = [];

/**
 * A message the worker will never handle (its module failed to load): the key bytes of a key
 * call — the copy w3c.js transferred — are zero-filled (worker-host.js, which does this for the
 * calls it handles, is what failed to load). The main thread rejects the call (OperationError).
 * @param {unknown} data
 */
function dropMessage(data) {
  const d = /** @type {any} */ (data);
  if (d?.type === 'key' && d.key instanceof Uint8Array) d.key.fill(0);
}

scope.onmessage = (e) => {
  if (host) host.message(e.data);
  else if (failed) dropMessage(e.data);
  else early.push(['message', e.data]);
};
scope.onrtctransform = (e) =>
  host ? host.rtctransform(e.transformer) : early.push(['rtctransform', e.transformer]);

import('./worker-host.js').then(
  ({ createWorkerHost }) => {
    const h = createWorkerHost((message) => scope.postMessage(message));
    for (const [kind, value] of early.splice(0)) {
      if (kind === 'message') h.message(value);
      else h.rtctransform(value);
    }
    host = h;
  },
  (e) => {
    failed = true;
    for (const [kind, value] of early.splice(0)) if (kind === 'message') dropMessage(value);
    scope.postMessage({ type: 'fatal', message: `sframe-wasm worker failed to load: ${e}` });
  },
);
