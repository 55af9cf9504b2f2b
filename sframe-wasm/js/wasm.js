// @ts-check
// Loads the WebAssembly module once (top-level await) and re-exports the low-level API.
// Browsers and workers fetch `../pkg/sframe_wasm_bg.wasm` next to this file; Node reads it.
import init, {
  Sender,
  Receiver,
  parseHeader,
  cipherSuiteInfo,
  cipherSuites,
  errorCodes,
  derivationInfo,
  hazmatProtectFrame,
  ErrorRuns,
  errorTypeOf,
  KeyWaitBuffer,
  keyWaitCapacity,
} from '../pkg/sframe_wasm.js';

const wasmUrl = new URL('../pkg/sframe_wasm_bg.wasm', import.meta.url);
if (wasmUrl.protocol === 'file:') {
  // Node only (file: URLs); this package has no @types/node.
  // @ts-ignore
  const { readFile } = await import('node:fs/promises');
  await init({ module_or_path: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

export {
  Sender,
  Receiver,
  parseHeader,
  cipherSuiteInfo,
  cipherSuites,
  errorCodes,
  derivationInfo,
  hazmatProtectFrame, // tests and interop only: never for media (see index.d.ts)
  ErrorRuns,
  errorTypeOf,
  KeyWaitBuffer,
  keyWaitCapacity,
};
