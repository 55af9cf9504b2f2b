// The external-AEAD split through the wasm API, with WebCrypto AES-GCM as the
// external AEAD and a key that only ever exists as a non-extractable CryptoKey: wasm holds the
// salt (addExternalKey / setExternalKey), WebCrypto the AES key. Same guarantees as
// protect/unprotect: RFC 9605 vectors, tampering, replay, a failure changes nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, Sender } from '../js/index.js';
import { allSuiteVectors, big, hex, toHex } from './helpers.mjs';

const GCM = new Set([4, 5]);
const subtle = globalThis.crypto.subtle;

const aesKey = (raw) => subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** unprotectExternal → WebCrypto decrypt → commit or reject. */
async function receive(rx, key, frame, metadata = new Uint8Array(0)) {
  const op = rx.unprotectExternal(frame);
  const h = op.headerLength;
  try {
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: op.nonce, additionalData: cat(frame.subarray(0, h), metadata), tagLength: op.tagLength * 8 },
      key,
      frame.subarray(h),
    );
    rx.commitExternal(op);
    return new Uint8Array(pt);
  } catch (e) {
    if (e?.code) throw e; // an SFrame error from commitExternal
    rx.rejectExternal(op);
    throw Object.assign(new Error('authentication failed'), { code: 'authentication_failed' });
  } finally {
    op.free();
  }
}

test('GCM vectors open through the split with a salt-only key in wasm', async () => {
  let n = 0;
  for (const v of allSuiteVectors.filter((v) => GCM.has(v.cipher_suite))) {
    const rx = new Receiver(v.cipher_suite);
    rx.addExternalKey(big(v.kid), hex(v.sframe_salt));
    const key = await aesKey(hex(v.sframe_key));
    const ct = hex(v.ct);
    assert.throws(() => rx.unprotect(ct, hex(v.metadata)), { code: 'external_key' });
    assert.equal(toHex(await receive(rx, key, ct, hex(v.metadata))), v.pt);
    assert.throws(() => rx.unprotectExternal(ct), { code: 'replay' });
    rx.free();
    n++;
  }
  assert.ok(n >= 2);
});

test('protectExternal + WebCrypto makes frames any receiver opens; counters never repeat', async () => {
  for (const v of allSuiteVectors.filter((v) => GCM.has(v.cipher_suite))) {
    const tx = new Sender(v.cipher_suite);
    tx.setExternalKey(big(v.kid), hex(v.sframe_salt));
    assert.throws(() => tx.protect(new Uint8Array(3)), { code: 'external_key' });
    const key = await aesKey(hex(v.sframe_key));
    const rx = new Receiver(v.cipher_suite);
    rx.addKey(big(v.kid), hex(v.base_key)); // a full key on the other side
    const nonces = new Set();
    for (let i = 0; i < 5; i++) {
      const sealed = tx.protectExternal();
      const nonce = sealed.subarray(0, 12);
      const header = sealed.subarray(12);
      nonces.add(toHex(nonce));
      const pt = Uint8Array.of(i, 1, 2, 3);
      const ct = new Uint8Array(
        await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: header }, key, pt),
      );
      assert.deepEqual(rx.unprotect(cat(header, ct)), pt);
    }
    assert.equal(nonces.size, 5);
    assert.equal(tx.nextCounter, 5n);
    // The same material as a base key continues the counter (one key, two forms).
    tx.setKey(big(v.kid), hex(v.base_key));
    assert.equal(tx.nextCounter, 5n);
    tx.free();
    rx.free();
  }
});

test('tampered frames are rejected and leave the genuine frame acceptable', async () => {
  const v = allSuiteVectors.find((v) => v.cipher_suite === 4);
  const rx = new Receiver(4);
  rx.addExternalKey(big(v.kid), hex(v.sframe_salt));
  const key = await aesKey(hex(v.sframe_key));
  const ct = hex(v.ct);
  for (let i = 0; i < ct.length; i++) {
    const bad = ct.slice();
    bad[i] ^= 1;
    // The header's bytes: unparsable or another KID; the rest: the tag check fails.
    await assert.rejects(receive(rx, key, bad, hex(v.metadata)), {
      code: /^(authentication_failed|unknown_key_id|malformed_frame)$/,
    });
  }
  await assert.rejects(receive(rx, key, ct, new Uint8Array([9])), { code: 'authentication_failed' });
  // Two copies in flight: one commit wins.
  const a = rx.unprotectExternal(ct);
  const b = rx.unprotectExternal(ct);
  rx.commitExternal(a);
  assert.throws(() => rx.commitExternal(b), { code: 'replay' });
  assert.throws(() => rx.unprotectExternal(new Uint8Array([0x08])), { code: 'malformed_frame' });
});

test('a full key takes the split too; opening changes nothing; a replaced key refuses the commit', async () => {
  const v = allSuiteVectors.find((v) => v.cipher_suite === 4);
  const ct = hex(v.ct);
  const md = hex(v.metadata);
  const rx = new Receiver(4);
  rx.addKey(big(v.kid), hex(v.base_key)); // a full key: unprotect and the split both work
  // Opening (and dropping) the frame any number of times records nothing: unprotect still
  // accepts it once, then calls it a replay.
  for (let i = 0; i < 3; i++) rx.unprotectExternal(ct).free();
  const rejected = rx.unprotectExternal(ct);
  rx.rejectExternal(rejected); // a failed tag: counted, the counter stays unused
  rejected.free();
  assert.equal(toHex(rx.unprotect(ct, md)), v.pt);
  assert.throws(() => rx.unprotectExternal(ct), { code: 'replay' });
  // An opening made under one key cannot be committed under its replacement.
  const rx2 = new Receiver(4);
  rx2.addExternalKey(big(v.kid), hex(v.sframe_salt));
  const op = rx2.unprotectExternal(ct);
  rx2.addKey(big(v.kid), new Uint8Array(16).fill(7)); // same KID, other key
  assert.throws(() => rx2.commitExternal(op), { code: 'unknown_key_id' });
  // ...nor after the key was removed.
  rx2.addExternalKey(big(v.kid), hex(v.sframe_salt));
  const op2 = rx2.unprotectExternal(ct);
  rx2.removeKey(big(v.kid));
  assert.throws(() => rx2.commitExternal(op2), { code: 'unknown_key_id' });
  for (const x of [rx, rx2, op, op2]) x.free();
});
