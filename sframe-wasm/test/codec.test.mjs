// Codec clear-prefix rules and H.264 start-code escaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearPrefixLength,
  escapeStartCodes,
  unescapeStartCodes,
  h264ClearLength,
} from '../js/index.js';

test('VP8: 10 clear bytes on key frames, 3 on delta frames (frame tag bit 0)', () => {
  const key = new Uint8Array(50).fill(0xaa);
  key[0] = 0x10; // P bit 0: key frame
  const delta = new Uint8Array(50).fill(0xaa);
  delta[0] = 0x11;
  assert.equal(clearPrefixLength('vp8', key), 10);
  assert.equal(clearPrefixLength('vp8', delta), 3);
  assert.equal(clearPrefixLength('vp8', key.subarray(0, 4)), 4);
  assert.equal(clearPrefixLength('vp8', new Uint8Array(0)), 0);
});

test('Opus: the TOC byte; none: nothing', () => {
  assert.equal(clearPrefixLength('opus', new Uint8Array(40)), 1);
  assert.equal(clearPrefixLength('none', new Uint8Array(40)), 0);
});

test('H.264: clear through the first slice NAL header + 4 bytes', () => {
  const sps = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e];
  const pps = [0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80];
  const idr = [0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0xfe];
  const frame = Uint8Array.from([...sps, ...pps, ...idr]);
  assert.equal(h264ClearLength(frame), sps.length + pps.length + 3 + 1 + 4);
  // No slice: clear ends after the last NAL header.
  assert.equal(h264ClearLength(Uint8Array.from([...sps, ...pps])), sps.length + 5);
  // Not Annex B: nothing clear.
  assert.equal(h264ClearLength(Uint8Array.from([1, 2, 3, 4])), 0);
});

test('start-code escaping round-trips and leaves no 00 00 0x (x <= 3)', () => {
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let i = 0; i < 2000; i++) {
    // Zero-heavy data to hit every case.
    const src = Uint8Array.from({ length: rand() % 40 }, () => (rand() % 3 === 0 ? rand() & 3 : 0));
    for (const zeros of [0, 1, 2]) {
      const esc = escapeStartCodes(src, zeros);
      const withPrefix = [...new Array(zeros).fill(0), ...esc];
      for (let j = 0; j + 2 < withPrefix.length; j++) {
        const bad = withPrefix[j] === 0 && withPrefix[j + 1] === 0 && withPrefix[j + 2] <= 2;
        assert.ok(!bad, `start code emulated at ${j}`);
      }
      assert.deepEqual(unescapeStartCodes(esc, zeros), src);
    }
  }
});
