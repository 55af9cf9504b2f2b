// @ts-check
// installPolyfill(): puts the package's SFrame interfaces on globalThis where the browser has
// none of its own. Importing the package defines nothing globally (in Chromium, js/w3c.js
// guardSenders wraps addTransceiver, addTrack, setRemoteDescription: no new name); this
// function is the only place that does.

import { RTCRtpSFrameDecryptor, RTCRtpSFrameEncryptor } from './w3c.js';
import {
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
} from './streams.js';

/**
 * The interfaces W3C PR #312 renamed, as [current name, PR #308 name, this package's class].
 * @type {ReadonlyArray<readonly [string, string, Function]>}
 */
const RENAMED_STREAMS = [
  ['SFrameEncryptorStream', 'SFrameEncrypterStream', SFrameEncryptorStream],
  ['SFrameDecryptorStream', 'SFrameDecrypterStream', SFrameDecryptorStream],
];
/** @type {ReadonlyArray<readonly [string, string, Function]>} */
const RENAMED_RTP = [
  ['RTCRtpSFrameEncryptor', 'RTCRtpSFrameEncrypter', RTCRtpSFrameEncryptor],
  ['RTCRtpSFrameDecryptor', 'RTCRtpSFrameDecrypter', RTCRtpSFrameDecryptor],
];

/**
 * Defines, on `target` (default `globalThis`), each of these that `target` does not have:
 *
 * * everywhere (Window and workers): `SFrameEncryptorStream`, `SFrameDecryptorStream` (and
 *   their W3C PR #308 names `SFrameEncrypterStream`, `SFrameDecrypterStream`),
 *   `SFrameTransformErrorEvent`, and `SFrameTransform` (the older combined object);
 * * only where `RTCRtpScriptTransform` and `Worker` exist (a browser's main thread):
 *   `RTCRtpSFrameEncryptor`, `RTCRtpSFrameDecryptor` (and `RTCRtpSFrameEncrypter`,
 *   `RTCRtpSFrameDecrypter`).
 *
 * A name `target` already has (a native implementation, or an earlier install) is left
 * alone. Both names of a renamed interface denote one class, so `instanceof` holds under
 * either: when `target` has a class under one of them (e.g. a browser that shipped the #308
 * name), the other is defined as that same class, not as this package's. Properties are
 * defined like WebIDL interface objects: writable, configurable, not enumerable. Returns what
 * it defined, by name (an empty object when nothing was missing).
 * @param {object} [target]
 * @returns {import('../index.js').InstalledInterfaces}
 */
export function installPolyfill(target = globalThis) {
  const t = /** @type {Record<string, unknown>} */ (target);
  /** @type {Record<string, unknown>} */
  const candidates = {
    SFrameTransformErrorEvent,
    SFrameTransform,
  };
  const renamed = [...RENAMED_STREAMS];
  if (typeof t.RTCRtpScriptTransform === 'function' && typeof t.Worker === 'function') {
    renamed.push(...RENAMED_RTP);
  }
  for (const [name, oldName, ours] of renamed) {
    // Decided before anything is defined: the class the target had under either name, if any
    // (a non-function placeholder only keeps its own name from being defined).
    const present = name in t ? t[name] : oldName in t ? t[oldName] : undefined;
    const value = typeof present === 'function' ? present : ours;
    candidates[name] = value;
    candidates[oldName] = value;
  }
  /** @type {Record<string, unknown>} */
  const installed = {};
  for (const [name, value] of Object.entries(candidates)) {
    if (name in t) continue;
    Object.defineProperty(t, name, { value, writable: true, configurable: true, enumerable: false });
    installed[name] = value;
  }
  // (Returned as InstalledInterfaces: each value is the class defined under that name.)
  return /** @type {import('../index.js').InstalledInterfaces} */ (installed);
}
