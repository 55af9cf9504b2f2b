import { readFileSync } from 'node:fs';

export const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
export const toHex = (b) => Buffer.from(b).toString('hex');
export const big = (v) => BigInt(v);

/** RFC 9605 Appendix C vectors (repo copy). Integers above 2^53-1 are decimal strings. */
export const vectors = JSON.parse(
  readFileSync(new URL('../../test-vectors/rfc9605.json', import.meta.url), 'utf8'),
);

/** draft-barnes-sframe-iana-256 vectors for suites 6-8 (AES-256-CTR + HMAC-SHA512). */
export const iana256 = JSON.parse(
  readFileSync(new URL('../../test-vectors/iana-256.json', import.meta.url), 'utf8'),
);

/** One protect/unprotect vector per suite, 1..8: RFC 9605 C.3, then iana-256. */
export const allSuiteVectors = [...vectors.sframe, ...iana256.sframe];

/** Deterministic PRNG (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
