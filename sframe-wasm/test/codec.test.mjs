// Codec clear-part rules, the protected-frame layout (through the real wasm Sender/Receiver)
// and H.264 start-code escaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import {
  Sender,
  Receiver,
  SFrameTransform,
  clearPrefixLength,
  escapeStartCodes,
  unescapeStartCodes,
  h264ClearLength,
} from '../js/index.js';
import {
  protectFrame,
  unprotectFrame,
  senderLayout,
  splitProtected,
  restoreFrame,
} from '../js/codec.js';
import { annexB } from './codec-fixtures.mjs';

/** Deterministic PRNG (32-bit LCG, high bits): failures are reproducible from the seed. */
function prng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1103515245 + 12345) >>> 0) >>> 8;
}

/** A fresh random 16-byte base key: no test shares key material with another Sender. */
const freshKey = () => webcrypto.getRandomValues(new Uint8Array(16));

const indexOf = (hay, needle) => Buffer.from(hay).indexOf(Buffer.from(needle));

/** True if bytes contain 00 00 0x (x <= 2) at or after `from`. */
function hasStartCode(bytes, from = 0) {
  for (let j = Math.max(0, from); j + 2 < bytes.length; j++) {
    if (bytes[j] === 0 && bytes[j + 1] === 0 && bytes[j + 2] <= 2) return true;
  }
  return false;
}

/** Same frame for a decoder (H.264 / H.265: same NAL units), or byte-identical. */
function sameFrame(codec, actual, expected, where) {
  if (codec === 'h264' || codec === 'h265') {
    const hl = codec === 'h265' ? 2 : 1;
    assert.deepEqual(annexB(actual, hl), annexB(expected, hl), where);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

test('VP8: 10 clear bytes on key frames, 3 on delta frames (frame tag bit 0)', () => {
  const key = new Uint8Array(50).fill(0xaa);
  key[0] = 0x10; // P bit 0: key frame
  const delta = new Uint8Array(50).fill(0xaa);
  delta[0] = 0x11;
  assert.equal(clearPrefixLength('vp8', key), 10);
  assert.equal(clearPrefixLength('vp8', delta), 3);
  // From the clear bytes only, never capped by the length: a 4-byte key frame still calls
  // for 10 clear bytes (it is too short to be laid out; protectFrame refuses it).
  assert.equal(clearPrefixLength('vp8', key.subarray(0, 4)), 10);
  assert.equal(clearPrefixLength('vp8', new Uint8Array(0)), 3);
});

test('Opus: the TOC byte; none: nothing', () => {
  assert.equal(clearPrefixLength('opus', new Uint8Array(40)), 1);
  assert.equal(clearPrefixLength('none', new Uint8Array(40)), 0);
});

test('H.264: clear span through the first slice NAL header + 4 bytes', () => {
  const sps = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e];
  const pps = [0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80];
  const idr = [0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33, 0xff, 0xfe];
  const frame = Uint8Array.from([...sps, ...pps, ...idr]);
  assert.equal(h264ClearLength(frame), sps.length + pps.length + 3 + 1 + 4);
  // A slice with fewer than 4 bytes: the span still ends 4 bytes after its header.
  assert.equal(h264ClearLength(Uint8Array.from([...sps, 0, 0, 1, 0x41, 0x9a])), sps.length + 8);
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

// ---- Sender and receiver agree on the clear part for every length ----

/** Zero-heavy random bytes: start codes (00 00 01) and NAL-looking bytes appear often. */
function zeroHeavy(rand, len) {
  return Uint8Array.from({ length: len }, () => {
    const r = rand() % 8;
    if (r < 3) return 0;
    if (r === 3) return 1;
    if (r === 4) return [0x06, 0x09, 0x41, 0x65, 0x67, 0x68][rand() % 6];
    return rand() & 0xff;
  });
}

/**
 * An Annex B-like frame of exactly `len` bytes: AUD / SPS / PPS / SEI / slices with 3- or
 * 4-byte start codes and random payloads, cut at `len` (so slices end early, start codes are
 * split, ...) or filled with random bytes up to it.
 */
function h264Like(rand, len, { sei }) {
  const types = [];
  if (rand() % 2) types.push(0x09);
  if (rand() % 2) types.push(0x67, 0x68);
  if (sei) types.push(0x06);
  if (rand() % 3 === 0) types.push([0x06, 0x0c, 0x00, 0x1e][rand() % 4]);
  types.push(rand() % 2 ? 0x65 : 0x41);
  if (rand() % 2) types.push(0x41, 0x06);
  const bytes = [];
  for (const t of types) {
    if (rand() % 2) bytes.push(0);
    bytes.push(0, 0, 1, t);
    const n = rand() % 10;
    for (let i = 0; i < n; i++) bytes.push(rand() % 4 === 0 ? 0 : rand() & 0xff);
  }
  while (bytes.length < len) bytes.push(rand() & 0xff);
  return Uint8Array.from(bytes.slice(0, len));
}

/** Frame generators per codec case; `codec` is the layout rule they go through. */
const CASES = [
  { name: 'VP8 key frame', codec: 'vp8', gen: (r, n) => bit0(zeroHeavy(r, n), 0) },
  { name: 'VP8 delta frame', codec: 'vp8', gen: (r, n) => bit0(zeroHeavy(r, n), 1) },
  { name: 'Opus', codec: 'opus', gen: zeroHeavy },
  { name: 'VP9 / AV1 / other (none)', codec: 'none', gen: zeroHeavy },
  { name: 'H.264 without SEI', codec: 'h264', gen: (r, n) => h264Like(r, n, { sei: false }) },
  { name: 'H.264 with SEI', codec: 'h264', gen: (r, n) => h264Like(r, n, { sei: true }) },
  { name: 'H.264 random bytes', codec: 'h264', gen: zeroHeavy },
];
function bit0(frame, v) {
  if (frame.length) frame[0] = (frame[0] & 0xfe) | v;
  return frame;
}

/** The documented sender decision: which frames are refused, and how H.264 is padded. */
function expectedOutcome(codec, frame) {
  const c = clearPrefixLength(codec, frame);
  if (c <= frame.length) return { frame };
  if (codec === 'h264') {
    const padded = new Uint8Array(c);
    padded.set(frame);
    return { frame: padded };
  }
  return { refused: true };
}

const SAMPLES_PER_LENGTH = 40;

test('sender and receiver layouts agree for every length 0..64, per codec', () => {
  const seed = 0x5f13;
  const rand = prng(seed);
  const key = freshKey();
  const tx = new Sender('AES_128_GCM_SHA256_128');
  const rx = new Receiver('AES_128_GCM_SHA256_128');
  tx.setKey(13, key);
  rx.addKey(13, key);
  const summary = [];
  try {
    for (const { name, codec, gen } of CASES) {
      let ok = 0;
      let refused = 0;
      let padded = 0;
      for (let len = 0; len <= 64; len++) {
        for (let s = 0; s < SAMPLES_PER_LENGTH; s++) {
          const frame = gen(rand, len);
          const where = `${name}, length ${len}, sample ${s} (seed ${seed}): ${Buffer.from(frame).toString('hex')}`;
          const want = expectedOutcome(codec, frame);
          const counterBefore = tx.nextCounter;
          let sentClear = null;
          let wire;
          try {
            wire = protectFrame(codec, frame, (p, m) => {
              sentClear = m.slice();
              return tx.protect(p, m);
            });
          } catch (e) {
            // An explicit decision, the same on both sides: the frame's own first bytes call
            // for more clear bytes than it has; the sender refuses before using a counter,
            // and a receiver given a frame that short refuses it too.
            assert.equal(e.code, 'frame_too_short', where);
            assert.ok(want.refused, `refused but should not be: ${where}`);
            assert.equal(tx.nextCounter, counterBefore, where);
            assert.throws(() => splitProtected(codec, frame), { code: 'malformed_frame' }, where);
            refused++;
            continue;
          }
          assert.ok(!want.refused, `accepted but should be refused: ${where}`);
          // Same clear part on both sides: the receiver finds from the protected frame the
          // clear bytes (length and content) the sender authenticated as metadata.
          const { clear } = splitProtected(codec, wire);
          assert.deepEqual(clear, sentClear, where);
          if (codec === 'h264') assert.ok(!hasStartCode(wire, clear.length - 2), `start code in ciphertext: ${where}`);
          const out = unprotectFrame(codec, wire, (f, m) => rx.unprotect(f, m));
          // H.264: start codes before the first slice come back as 00 00 00 01 (as libwebrtc's
          // depacketizer writes them), leading zeros go: the same NAL units.
          sameFrame(codec, out, want.frame, where);
          if (want.frame.length !== frame.length) padded++;
          ok++;
        }
      }
      summary.push(`${name}: ${ok} round trips (${padded} padded), ${refused} refused`);
    }
  } finally {
    tx.free();
    rx.free();
  }
  // The decisions are exactly the documented ones: VP8 key frames under 10 bytes, VP8
  // frames under 3 and empty Opus frames are refused; nothing else is; short H.264 slices
  // (generated often) are padded.
  const refusedLengths = [10, 3, 1, 0, 0, 0, 0];
  summary.forEach((line, i) => assert.match(line, new RegExp(`, ${refusedLengths[i] * SAMPLES_PER_LENGTH} refused$`), line));
  for (const line of summary.slice(4, 6)) assert.doesNotMatch(line, /\(0 padded\)/, line);
  console.log(summary.join('\n'));
});

test('short frames that the old min(prefix, length) rule broke', () => {
  const key = freshKey();
  const tx = new Sender(4);
  const rx = new Receiver(4);
  tx.setKey(6, key);
  rx.addKey(6, key);
  try {
    const rt = (codec, frame) => unprotectFrame(codec, protectFrame(codec, frame, (p, m) => tx.protect(p, m)), (f, m) => rx.unprotect(f, m));
    // VP8 key frame of 4 bytes: was sender 4 / receiver 10 clear bytes. Not a VP8 frame
    // (a key frame header has 10 bytes): refused, explicitly, before any counter is used.
    assert.throws(() => rt('vp8', Uint8Array.from([0x10, 1, 2, 3])), { code: 'frame_too_short', name: 'SFrameError' });
    assert.throws(() => rt('vp8', Uint8Array.from([0x11, 1])), { code: 'frame_too_short' });
    assert.deepEqual(rt('vp8', Uint8Array.from([0x11, 1, 2])), Uint8Array.from([0x11, 1, 2]));
    assert.equal(tx.nextCounter, 1n);
    // H.264 slice with 1 byte after its NAL header: the sender kept all 13 bytes clear, the
    // receiver split 4 bytes after the slice header. Now the slice is padded with
    // trailing_zero_8bits (ignored by decoders) so the 4 clear bytes exist on both sides.
    // (The slice's 3-byte start code comes back as 00 00 00 01, as libwebrtc delivers it.)
    const sps = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e];
    const short = Uint8Array.from([...sps, 0, 0, 1, 0x41, 0x9a]);
    assert.deepEqual(rt('h264', short), Uint8Array.from([...sps, 0, 0, 0, 1, 0x41, 0x9a, 0, 0, 0]));
    const exact = Uint8Array.from([...sps, 0, 0, 0, 1, 0x41, 0x9a, 0, 0x11, 0x22]);
    assert.deepEqual(rt('h264', exact), exact);
  } finally {
    tx.free();
    rx.free();
  }
});

test('H.264 SEI payloads are encrypted; SPS/PPS stay clear; exact round trip', () => {
  const key = freshKey();
  const tx = new Sender(4);
  const rx = new Receiver(4);
  tx.setKey(7, key);
  rx.addKey(7, key);
  const MARKER = [...Buffer.from('CAPTION:secret-words')];
  const aud = [0, 0, 0, 1, 0x09, 0xf0];
  const sps = [0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80];
  const pps = [0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80];
  // SEI user_data_unregistered (payload type 5) carrying the marker.
  const sei = [0, 0, 0, 1, 0x06, 0x05, 16 + MARKER.length, ...new Array(16).fill(0xab), ...MARKER, 0x80];
  const sei2 = [0, 0, 1, 0x06, 0x04, MARKER.length, ...MARKER, 0x80, 0]; // ends with a zero
  const idr = [0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0x07, ...Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)];
  try {
    const frames = {
      'AUD SPS PPS SEI SEI IDR': [...aud, ...sps, ...pps, ...sei, ...sei2, ...idr],
      'SEI then slice': [...sei, ...idr.slice(0, 12)],
      'SEI, IDR, SEI after the slice': [...sei, ...idr, ...sei],
      'no slice: SPS SEI PPS': [...sps, ...sei, ...pps],
      'no slice: SEI last': [...sps, ...sei],
      'empty SEI payload': [0, 0, 1, 0x06, ...idr],
    };
    for (const [what, bytes] of Object.entries(frames)) {
      const frame = Uint8Array.from(bytes);
      let sentClear;
      const wire = protectFrame('h264', frame, (p, m) => {
        sentClear = m.slice();
        return tx.protect(p, m);
      });
      assert.equal(indexOf(wire, MARKER), -1, `${what}: SEI payload marker seen in the protected frame`);
      assert.equal(indexOf(sentClear, MARKER), -1, what);
      sameFrame('h264', unprotectFrame('h264', wire, (f, m) => rx.unprotect(f, m)), frame, what);
    }
    // What stays clear in the full access unit: start codes (each as 00 00 00 01), every NAL
    // header, the AUD / SEI headers with a placeholder byte (0x80) instead of their payload,
    // SPS and PPS whole, the slice header byte and 4 bytes.
    const full = Uint8Array.from(frames['AUD SPS PPS SEI SEI IDR']);
    const { clear, plaintext } = senderLayout('h264', full);
    assert.deepEqual(
      clear,
      // (A zero right before 00 00 01 is part of a 4-byte start code, as RTP packetizers see
      // it: sei2's trailing zero goes with the slice's start code.)
      Uint8Array.from([0, 0, 0, 1, 0x09, 0x80, ...sps, ...pps, 0, 0, 0, 1, 0x06, 0x80, 0, 0, 0, 1, 0x06, 0x80, 0, ...idr.slice(0, 8)]),
    );
    // 3 placeholders and 3 one-byte lengths; sei2's start code grew by one byte.
    assert.equal(plaintext.length, full.length + 1 - (clear.length - 3) + 3);
    // Layout data that protectFrame never produces is refused after decryption: payload bytes
    // in clear instead of the placeholder, a missing placeholder, a missing moved payload.
    const slice = [0, 0, 1, 0x65, 1, 2, 3, 4];
    const bad = [
      [[0, 0, 1, 0x06, 0x33, ...slice], [0]],
      [[0, 0, 1, 0x06, 0x80, 0x33, ...slice], [0]],
      [[0, 0, 1, 0x06, ...slice], [0]],
      [[0, 0, 1, 0x06, 0x80, ...slice], []],
      [[0, 0, 1, 0x06, 0x80, ...slice], [5, 1, 2]],
    ];
    for (const [c, p] of bad) {
      assert.throws(() => restoreFrame('h264', Uint8Array.from(c), Uint8Array.from(p)), { code: 'malformed_frame' }, String(c));
    }
    assert.deepEqual(
      restoreFrame('h264', Uint8Array.from([0, 0, 1, 0x06, 0x80, ...slice]), Uint8Array.from([2, 7, 7, 9])),
      Uint8Array.from([0, 0, 1, 0x06, 7, 7, ...slice, 9]),
    );
  } finally {
    tx.free();
    rx.free();
  }
});

// The same through SFrameTransform (pipeline.js lays frames out with protectFrame /
// splitProtected / restoreFrame and reports "frame_too_short" as a "syntax" error).
test(
  'SFrameTransform encryptor → decryptor, every length 0..64 per codec',
  async () => {
    const rand = prng(0x6a6);
    for (const { name, codec, gen } of CASES) {
      const mode = codec === 'none' ? 'none' : codec;
      const key = freshKey();
      const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 4, compatibilityMode: mode });
      const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 4, compatibilityMode: mode });
      await enc.setEncryptionKey(key, 21);
      await dec.addDecryptionKey(key, 21);
      const encErrors = [];
      const decErrors = [];
      enc.onerror = (e) => encErrors.push(e.code);
      dec.onerror = (e) => decErrors.push(`${e.errorType}/${e.code}`);
      const frames = [];
      for (let len = 0; len <= 64; len++) for (let s = 0; s < 4; s++) frames.push(gen(rand, len));
      const expected = [];
      let refused = 0;
      for (const f of frames) {
        // The transform passes 0-byte frames through untouched.
        const want = f.length === 0 ? { frame: f } : expectedOutcome(codec, f);
        if (want.refused) refused++;
        else expected.push(want.frame);
      }
      const collect = async (t, input) => {
        const out = [];
        const src = new ReadableStream({
          start(c) {
            for (const x of input) c.enqueue(x);
            c.close();
          },
        });
        await src.pipeThrough(t).pipeTo(new WritableStream({ write: (x) => out.push(x) }));
        return out;
      };
      const wire = await collect(enc, frames.map((f) => f.slice()));
      const out = await collect(dec, wire);
      assert.deepEqual(decErrors, [], `${name}: decryptor errors`);
      assert.deepEqual(encErrors, new Array(refused).fill('frame_too_short'), `${name}: encryptor refusals`);
      assert.equal(out.length, expected.length, name);
      out.forEach((x, i) => sameFrame(codec, new Uint8Array(x), expected[i], `${name}, frame ${i}`));
      enc.close?.();
      dec.close?.();
    }
  },
);
