// installPolyfill(): importing the package defines nothing globally; installPolyfill() defines
// what the environment lacks (RTCRtpSFrame* only where RTCRtpScriptTransform and Worker exist)
// and keeps native interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncryptor,
  SFrameDecryptorStream,
  SFrameEncryptorStream,
  SFrameTransform,
  SFrameTransformErrorEvent,
  installPolyfill,
} from '../js/index.js';

// W3C PR #312's names, each with PR #308's name of the same interface.
const STREAMS = [
  'SFrameTransformErrorEvent',
  'SFrameEncryptorStream',
  'SFrameDecryptorStream',
  'SFrameEncrypterStream',
  'SFrameDecrypterStream',
  'SFrameTransform',
];
const RTP = ['RTCRtpSFrameEncryptor', 'RTCRtpSFrameDecryptor', 'RTCRtpSFrameEncrypter', 'RTCRtpSFrameDecrypter'];
const OURS = {
  SFrameTransformErrorEvent,
  SFrameEncryptorStream,
  SFrameDecryptorStream,
  SFrameEncrypterStream: SFrameEncryptorStream,
  SFrameDecrypterStream: SFrameDecryptorStream,
  SFrameTransform,
  RTCRtpSFrameEncryptor,
  RTCRtpSFrameDecryptor,
  RTCRtpSFrameEncrypter: RTCRtpSFrameEncryptor,
  RTCRtpSFrameDecrypter: RTCRtpSFrameDecryptor,
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

test('on a main thread: all ten names; a second call installs nothing', () => {
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
  for (const name of RTP) assert.equal(name in g, false, name);
});

test('native interfaces are kept, and a native class under one name of a renamed interface gets the other', () => {
  class NativeSFrameTransform {}
  class NativeEncrypter {}
  class NativeDecryptorStream {}
  const g = windowLike();
  g.SFrameTransform = NativeSFrameTransform; // e.g. Safari's older SFrameTransform
  g.RTCRtpSFrameEncrypter = NativeEncrypter; // a browser that shipped W3C PR #308's name
  g.SFrameDecryptorStream = NativeDecryptorStream; // ... or PR #312's
  const installed = installPolyfill(g);
  assert.deepEqual(
    Object.keys(installed).sort(),
    [
      'SFrameTransformErrorEvent',
      'SFrameEncryptorStream',
      'SFrameEncrypterStream',
      'SFrameDecrypterStream',
      'RTCRtpSFrameEncryptor',
      'RTCRtpSFrameDecryptor',
      'RTCRtpSFrameDecrypter',
    ].sort(),
  );
  assert.equal(g.SFrameTransform, NativeSFrameTransform);
  // One class under both names: the native one where there is one, so instanceof agrees.
  assert.equal(g.RTCRtpSFrameEncrypter, NativeEncrypter);
  assert.equal(g.RTCRtpSFrameEncryptor, NativeEncrypter);
  assert.equal(g.SFrameDecryptorStream, NativeDecryptorStream);
  assert.equal(g.SFrameDecrypterStream, NativeDecryptorStream);
  assert.equal(g.RTCRtpSFrameDecryptor, RTCRtpSFrameDecryptor);
  assert.equal(g.RTCRtpSFrameDecrypter, RTCRtpSFrameDecryptor);
  assert.equal(g.SFrameEncryptorStream, SFrameEncryptorStream);
  assert.equal(g.SFrameEncrypterStream, SFrameEncryptorStream);
  // Even a non-function placeholder counts as present (`name in target`), and it is never
  // copied to the other name: that one gets this package's class.
  const h = windowLike();
  h.SFrameEncrypterStream = undefined;
  const got = installPolyfill(h);
  assert.equal('SFrameEncrypterStream' in got, false);
  assert.equal(h.SFrameEncrypterStream, undefined);
  assert.equal(got.SFrameEncryptorStream, SFrameEncryptorStream);
});

test('the PR #308 names are the same class objects: instanceof holds both ways', async () => {
  const index = await import('../js/index.js');
  assert.equal(index.SFrameEncrypterStream, index.SFrameEncryptorStream);
  assert.equal(index.SFrameDecrypterStream, index.SFrameDecryptorStream);
  assert.equal(index.RTCRtpSFrameEncrypter, index.RTCRtpSFrameEncryptor);
  assert.equal(index.RTCRtpSFrameDecrypter, index.RTCRtpSFrameDecryptor);
  const viaOld = new index.SFrameDecrypterStream({ cipherSuite: 'AES_128_GCM_SHA256_128' });
  const viaNew = new index.SFrameDecryptorStream({ cipherSuite: 'AES_128_GCM_SHA256_128' });
  assert.ok(viaOld instanceof index.SFrameDecryptorStream);
  assert.ok(viaNew instanceof index.SFrameDecrypterStream);
  assert.equal(Object.prototype.toString.call(viaOld), Object.prototype.toString.call(viaNew));
  viaOld.close();
  viaNew.close();
});

test('globalThis by default (Node has no RTCRtpScriptTransform); the installed classes work', async () => {
  assert.equal('SFrameEncryptorStream' in globalThis, false);
  assert.equal('SFrameEncrypterStream' in globalThis, false);
  const installed = installPolyfill();
  try {
    assert.deepEqual(Object.keys(installed).sort(), [...STREAMS].sort());
    const enc = new globalThis.SFrameEncryptorStream({ cipherSuite: 'AES_256_CTR_HMAC_SHA512_64' });
    await enc.setEncryptionKey(new Uint8Array(16).fill(0xe1), 1);
    assert.ok(enc instanceof globalThis.SFrameEncrypterStream);
    enc.close();
  } finally {
    for (const name of Object.keys(installed)) delete globalThis[name];
  }
});
