// Annex B ↔ AVCC (h264.mjs), the conversion the camera and the bridge make per access unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annexBToAvcc, avccToAnnexB, splitAnnexB, splitAvcc, nalTypes } from './h264.mjs';

const aud = [0x09, 0xf0];
const sps = [0x67, 0x42, 0xc0, 0x1e, 0x8c];
const idr = [0x65, 0x88, 0x84, 0x00, 0x33];

test('3- and 4-byte start codes become 4-byte lengths, and back', () => {
  const annexB = Uint8Array.from([0, 0, 0, 1, ...aud, 0, 0, 1, ...sps, 0, 0, 0, 1, ...idr]);
  const avcc = annexBToAvcc(annexB);
  assert.deepEqual(avcc, Uint8Array.from([0, 0, 0, 2, ...aud, 0, 0, 0, 5, ...sps, 0, 0, 0, 5, ...idr]));
  assert.deepEqual(nalTypes(splitAvcc(avcc)), [9, 7, 5]);
  const back = avccToAnnexB(avcc);
  assert.deepEqual(back, Uint8Array.from([0, 0, 0, 1, ...aud, 0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...idr]));
  assert.deepEqual(splitAnnexB(back).map((n) => [...n]), [aud, sps, idr]);
});

test('an AVCC length past the end throws', () => {
  assert.throws(() => splitAvcc(Uint8Array.from([0, 0, 0, 9, 1, 2])), /past the end/);
  assert.throws(() => splitAvcc(Uint8Array.from([0, 0, 1])), /truncated/);
});
