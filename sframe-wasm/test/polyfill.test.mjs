// installPolyfill(): importing the package defines nothing globally; installPolyfill() defines
// what the environment lacks (RTCRtpSFrame* only where RTCRtpScriptTransform and Worker exist)
// and keeps native interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  RTCRtpSFrameDecrypter,
  RTCRtpSFrameEncrypter,
  SFrameDecrypterStream,
  SFrameEncrypterStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
  installPolyfill,
} from '../js/index.js';

const STREAMS = ['SFrameTransformErrorEvent', 'SFrameEncrypterStream', 'SFrameDecrypterStream', 'SFrameTransform'];
const RTP = ['RTCRtpSFrameEncrypter', 'RTCRtpSFrameDecrypter'];
const OURS = {
  SFrameTransformErrorEvent,
  SFrameEncrypterStream,
  SFrameDecrypterStream,
  SFrameTransform,
  RTCRtpSFrameEncrypter,
  RTCRtpSFrameDecrypter,
};

/** A main-thread-like global: has RTCRtpScriptTransform and Worker. */
const windowLike = () => ({ RTCRtpScriptTransform: function RTCRtpScriptTransform() {}, Worker: function Worker() {} });

test('importing the package defines no global', () => {
  const index = new URL('../js/index.js', import.meta.url).href;
  const script = `
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    await import(${JSON.stringify(index)});
    const added = Object.getOwnPropertyNames(globalThis).filter((n) => !before.has(n));
    process.stdout.write(JSON.stringify(added));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  assert.deepEqual(JSON.parse(out), []);
});

test('on a main thread: all six; a second call installs nothing', () => {
  const g = windowLike();
  const installed = installPolyfill(g);
  assert.deepEqual(Object.keys(installed).sort(), [...STREAMS, ...RTP].sort());
  for (const [name, value] of Object.entries(installed)) {
    assert.equal(value, OURS[name]);
    assert.equal(g[name], OURS[name]);
    const d = Object.getOwnPropertyDescriptor(g, name);
    // Like a WebIDL interface object.
    assert.deepEqual([d.writable, d.enumerable, d.configurable], [true, false, true], name);
  }
  assert.deepEqual(installPolyfill(g), {});
});

test('in a worker (no RTCRtpScriptTransform): the streams, the event and SFrameTransform only', () => {
  const g = { Worker: function Worker() {} };
  assert.deepEqual(Object.keys(installPolyfill(g)).sort(), [...STREAMS].sort());
  assert.equal('RTCRtpSFrameEncrypter' in g, false);
  assert.equal('RTCRtpSFrameDecrypter' in g, false);
});

test('native interfaces are kept', () => {
  class NativeSFrameTransform {}
  class NativeEncrypter {}
  const g = windowLike();
  g.SFrameTransform = NativeSFrameTransform; // e.g. Safari's older SFrameTransform
  g.RTCRtpSFrameEncrypter = NativeEncrypter; // a browser with native SFrame
  const installed = installPolyfill(g);
  assert.deepEqual(
    Object.keys(installed).sort(),
    ['SFrameTransformErrorEvent', 'SFrameEncrypterStream', 'SFrameDecrypterStream', 'RTCRtpSFrameDecrypter'].sort(),
  );
  assert.equal(g.SFrameTransform, NativeSFrameTransform);
  assert.equal(g.RTCRtpSFrameEncrypter, NativeEncrypter);
  // Even a non-function placeholder counts as present (`name in target`).
  const h = windowLike();
  h.SFrameEncrypterStream = undefined;
  assert.equal('SFrameEncrypterStream' in installPolyfill(h), false);
});

test('globalThis by default (Node has no RTCRtpScriptTransform); the installed classes work', async () => {
  assert.equal('SFrameEncrypterStream' in globalThis, false);
  const installed = installPolyfill();
  try {
    assert.deepEqual(Object.keys(installed).sort(), [...STREAMS].sort());
    const enc = new globalThis.SFrameEncrypterStream({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_64' });
    await enc.setEncryptionKey(new Uint8Array(16).fill(0xe1), 1);
    enc.close();
  } finally {
    for (const name of Object.keys(installed)) delete globalThis[name];
  }
});
