// js/webcrypto.js against the RFC 9605 Appendix C vectors (test-vectors/rfc9605.json, passed
// in by bench/browser.mjs), in the browser worker: for every AES-GCM vector, from a
// NON-extractable HKDF base key,
//   - the derived AES key is non-extractable, AES-GCM, of the suite's length, and an
//     extractable twin derived the same way (test only) exports to the vector's sframe_key;
//   - the derived salt is the vector's sframe_salt, and salt XOR counter its nonce;
//   - webCryptoEncrypt(nonce, aad, pt) is the vector's ciphertext ‖ tag, webCryptoDecrypt
//     gives pt back, and a flipped ciphertext bit or a flipped AAD bit is refused;
// for every CTR + HMAC vector, deriveWebCryptoKey refuses the suite.
import { cipherSuiteInfo, parseHeader, Receiver } from '../js/index.js';
import {
  deriveWebCryptoKey,
  isWebCryptoSuite,
  webCryptoDecrypt,
  webCryptoEncrypt,
} from '../js/webcrypto.js';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

async function rejects(p) {
  try {
    await p;
    return false;
  } catch {
    return true;
  }
}

/** @param {any[]} vectors the `sframe` array of rfc9605.json */
export async function checkVectors(vectors) {
  const failures = [];
  let gcm = 0;
  let refused = 0;
  const check = (ok, what) => ok || failures.push(what);
  for (const v of vectors) {
    const suite = cipherSuiteInfo(v.cipher_suite);
    const kid = BigInt(v.kid);
    const base = await crypto.subtle.importKey('raw', hex(v.base_key), 'HKDF', false, [
      'deriveKey',
      'deriveBits',
    ]);
    const at = `${suite.name} KID ${v.kid}`;
    if (!isWebCryptoSuite(suite)) {
      check(await rejects(deriveWebCryptoKey(base, kid, suite)), `${at}: CTR suite not refused`);
      refused++;
      continue;
    }
    gcm++;
    const key = await deriveWebCryptoKey(base, kid, suite);
    check(key.aesKey.extractable === false, `${at}: AES key extractable`);
    check(key.aesKey.algorithm.name === 'AES-GCM', `${at}: not AES-GCM`);
    check(key.aesKey.algorithm.length === suite.keyLength * 8, `${at}: AES key length`);
    check(await rejects(crypto.subtle.exportKey('raw', key.aesKey)), `${at}: AES key exported`);
    const twin = await deriveWebCryptoKey(base, kid, suite, { extractable: true });
    const raw = await crypto.subtle.exportKey('raw', twin.aesKey);
    check(toHex(raw) === v.sframe_key, `${at}: sframe_key ${toHex(raw)} != ${v.sframe_key}`);
    check(toHex(key.salt) === v.sframe_salt, `${at}: sframe_salt ${toHex(key.salt)}`);
    // nonce = salt XOR counter (right-aligned); the core computes it, the vector states it.
    const nonce = key.salt.slice();
    let ctr = BigInt(v.ctr);
    for (let i = nonce.length - 1; i >= 0 && ctr > 0n; i--, ctr >>= 8n) nonce[i] ^= Number(ctr & 0xffn);
    check(toHex(nonce) === v.nonce, `${at}: nonce ${toHex(nonce)}`);
    // ct = header ‖ ciphertext ‖ tag; aad = header ‖ metadata.
    const ct = hex(v.ct);
    const { headerLength } = parseHeader(ct);
    const aad = hex(v.aad);
    const body = await webCryptoEncrypt(key, nonce, aad, hex(v.pt));
    check(toHex(body) === toHex(ct.subarray(headerLength)), `${at}: ciphertext ‖ tag`);
    const pt = await webCryptoDecrypt(key, nonce, aad, ct.subarray(headerLength));
    check(toHex(pt) === v.pt, `${at}: decrypt`);
    const flipped = ct.slice(headerLength);
    flipped[0] ^= 1;
    check(await rejects(webCryptoDecrypt(key, nonce, aad, flipped)), `${at}: altered ciphertext accepted`);
    const badAad = aad.slice();
    badAad[badAad.length - 1] ^= 1;
    check(
      await rejects(webCryptoDecrypt(key, nonce, badAad, ct.subarray(headerLength))),
      `${at}: altered AAD accepted`,
    );
    // The wasm core derived the same key: it opens WebCrypto's frame (header ‖ body).
    const rx = new Receiver(suite.id);
    try {
      rx.addKey(kid, hex(v.base_key));
      const frame = new Uint8Array(headerLength + body.byteLength);
      frame.set(ct.subarray(0, headerLength));
      frame.set(new Uint8Array(body), headerLength);
      check(toHex(rx.unprotect(frame, hex(v.metadata))) === v.pt, `${at}: wasm cannot open it`);
    } finally {
      rx.free();
    }
  }
  if (failures.length) throw new Error(`webcrypto.js vectors: ${failures.join('; ')}`);
  return { gcm, refused };
}
