// @ts-check
// installPolyfill(): puts the package's SFrame interfaces on globalThis where the browser has
// none of its own. Importing the package defines nothing globally; this function is the only
// place that does.

import { RTCRtpSFrameDecrypter, RTCRtpSFrameEncrypter } from './w3c.js';
import {
  SFrameDecrypterStream,
  SFrameEncrypterStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
} from './streams.js';

/**
 * Defines, on `target` (default `globalThis`), each of these that `target` does not have:
 *
 * * everywhere (Window and workers): `SFrameEncrypterStream`, `SFrameDecrypterStream`,
 *   `SFrameTransformErrorEvent`, and `SFrameTransform` (the older combined object);
 * * only where `RTCRtpScriptTransform` and `Worker` exist (a browser's main thread):
 *   `RTCRtpSFrameEncrypter`, `RTCRtpSFrameDecrypter`.
 *
 * A name `target` already has (a native implementation, or an earlier install) is left
 * alone. Properties are defined like WebIDL interface objects: writable, configurable, not
 * enumerable. Returns what it defined, by name (an empty object when nothing was missing).
 * @param {object} [target]
 * @returns {import('../index.js').InstalledInterfaces}
 */
export function installPolyfill(target = globalThis) {
  const t = /** @type {Record<string, unknown>} */ (target);
  /** @type {Record<string, Function>} */
  const candidates = {
    SFrameTransformErrorEvent,
    SFrameEncrypterStream,
    SFrameDecrypterStream,
    SFrameTransform,
  };
  if (typeof t.RTCRtpScriptTransform === 'function' && typeof t.Worker === 'function') {
    candidates.RTCRtpSFrameEncrypter = RTCRtpSFrameEncrypter;
    candidates.RTCRtpSFrameDecrypter = RTCRtpSFrameDecrypter;
  }
  /** @type {Record<string, Function>} */
  const installed = {};
  // (Returned as InstalledInterfaces: each value is the class of that name.)
  for (const [name, value] of Object.entries(candidates)) {
    if (name in t) continue;
    Object.defineProperty(t, name, { value, writable: true, configurable: true, enumerable: false });
    installed[name] = value;
  }
  return /** @type {import('../index.js').InstalledInterfaces} */ (installed);
}
