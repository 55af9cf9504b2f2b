import { readFileSync } from 'node:fs';

export const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
export const toHex = (b) => Buffer.from(b).toString('hex');
export const big = (v) => BigInt(v);

/** RFC 9605 Appendix C vectors (repo copy). Integers above 2^53-1 are decimal strings. */
export const vectors = JSON.parse(
  readFileSync(new URL('../../test-vectors/rfc9605.json', import.meta.url), 'utf8'),
);
