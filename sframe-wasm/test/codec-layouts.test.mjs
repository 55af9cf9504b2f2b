// The VP9, AV1 and H.265 layouts (js/codec.js; README "What real calls send"), with real
// encoded frames (test/fixtures: libaom, SVT-AV1, rav1e, libvpx, x264, x265) and generated
// ones, through the real wasm Sender / Receiver and SFrameTransform:
// - layout then un-layout gives the frame back (AV1, VP9: byte-identical; H.264 / H.265: the
//   same NAL units, start codes before the first slice as 00 00 00 01);
// - the protected frame is still a well-formed OBU sequence / Annex B frame, and it comes
//   through a model of libwebrtc's RTP packetizer + depacketizer (codec-fixtures.mjs)
//   unchanged — so the receiver finds the clear bytes the sender authenticated;
// - what must not be readable is not (SEI user data, everything past the clear part).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { Sender, Receiver, SFrameTransform, clearPrefixLength, codecForMimeType } from '../js/index.js';
import {
  protectFrame,
  unprotectFrame,
  senderLayout,
  splitProtected,
  restoreFrame,
  parseCompatibilityMode,
  CodecLayoutError,
} from '../js/codec.js';
import { fixtures, annexB, parseObus, leb128, av1RtpPath, h26xRtpPath, prng } from './codec-fixtures.mjs';

const freshKey = () => webcrypto.getRandomValues(new Uint8Array(16));
const hex = (b) => Buffer.from(b).toString('hex');
const headerLenOf = (codec) => (codec === 'h265' ? 2 : 1);

/** A wasm Sender / Receiver pair under one key, and the round trip through them. */
function pair(suite = 'AES_128_GCM_SHA256_128') {
  const key = freshKey();
  const tx = new Sender(suite);
  const rx = new Receiver(suite);
  tx.setKey(5, key);
  rx.addKey(5, key);
  let sentClear = null;
  return {
    protect(codec, frame) {
      return protectFrame(codec, frame, (p, m) => {
        sentClear = m.slice();
        return tx.protect(p, m);
      });
    },
    unprotect: (codec, wire) => unprotectFrame(codec, wire, (s, m) => rx.unprotect(s, m)),
    get sentClear() {
      return sentClear;
    },
    free() {
      tx.free();
      rx.free();
    },
  };
}

/** The frame as the receiving transform gets it after libwebrtc's RTP path (null: not sent). */
function throughRtp(codec, wire) {
  if (codec === 'av1') return av1RtpPath(wire)?.frame ?? null;
  if (codec === 'h264' || codec === 'h265') return h26xRtpPath(wire, headerLenOf(codec));
  return wire; // VP8 / VP9: the payload descriptor is the packetizer's, the frame goes as is
}

/**
 * A protected AV1 frame is what the package promises: OBUs, each with a size field holding a
 * minimal LEB128 (as the depacketizer writes it); sequence headers, then one carrier OBU
 * that runs to the end; no OBU the packetizer drops.
 */
function checkAv1Wire(wire, where) {
  const obus = parseObus(wire);
  assert.ok(obus, `protected frame is no OBU sequence: ${where}`);
  const carrier = obus.length - 1;
  obus.forEach((o, i) => {
    assert.ok(o.hasSize, `OBU ${i} without a size field: ${where}`);
    assert.deepEqual([...o.sizeBytes], leb128(o.payload.length), `OBU ${i} size not minimal: ${where}`);
    assert.ok(![2, 8, 15].includes(o.type), `OBU ${i} of type ${o.type}: ${where}`);
    if (i < carrier) assert.equal(o.type, 1, `OBU ${i} before the carrier is no sequence header: ${where}`);
  });
  assert.notEqual(obus[carrier].type, 1, `no carrier OBU: ${where}`);
  return obus;
}

// ---- Real encoded frames ---------------------------------------------------------------------

test('fixtures: six frames each, AV1 frames start with a temporal delimiter, key frames with parameter sets', () => {
  const all = fixtures();
  for (const [name, { codec, frames }] of Object.entries(all)) {
    assert.equal(frames.length, 6, name);
    if (codec === 'av1') for (const f of frames) assert.equal(hex(f.subarray(0, 2)), '1200', name);
  }
  // x264 / x265 write 3-byte start codes for SEI and slices: what libwebrtc's depacketizer
  // turns into 4-byte ones (see the H.264 / H.265 test below).
  const threeByte = (f, header) => {
    const at = Buffer.from(f).indexOf(Buffer.from([0, 0, 1, ...header]));
    return at > 0 && f[at - 1] !== 0;
  };
  assert.ok(threeByte(all['H.264 x264'].frames[0], [0x06]), 'x264 SEI');
  assert.ok(threeByte(all['H.264 x264'].frames[0], [0x65]), 'x264 IDR slice');
  assert.ok(threeByte(all['H.265 x265'].frames[0], [0x4e, 0x01]), 'x265 SEI');
  assert.ok(threeByte(all['H.265 x265'].frames[0], [0x28, 0x01]), 'x265 IDR slice');
});

test('real frames: layout, libwebrtc RTP path, un-layout — same frame back, clear part intact', () => {
  const summary = [];
  for (const [name, { codec, frames }] of Object.entries(fixtures())) {
    const p = pair();
    try {
      let clearBytes = 0;
      let growth = 0;
      frames.forEach((frame, i) => {
        const where = `${name} frame ${i}`;
        const wire = p.protect(codec, frame);
        const sent = p.sentClear;
        // The RTP path leaves the protected frame as it is: same clear part at the receiver.
        const received = throughRtp(codec, wire);
        assert.ok(received, `the packetizer would not send it: ${where}`);
        assert.equal(hex(received), hex(wire), `changed on the RTP path: ${where}`);
        assert.deepEqual(splitProtected(codec, received).clear, sent, where);
        const out = p.unprotect(codec, received);
        if (codec === 'h264' || codec === 'h265') {
          assert.deepEqual(annexB(out, headerLenOf(codec)), annexB(frame, headerLenOf(codec)), where);
        } else {
          assert.deepEqual(out, frame, where);
        }
        if (codec === 'av1') checkAv1Wire(wire, where);
        // Past what the plaintext frame shows (clearPrefixLength: the examples' worker samples
        // the bytes there), nothing of the frame is readable on the wire.
        const c = clearPrefixLength(codec, frame);
        const sample = frame.subarray(c, c + 16);
        if (sample.length === 16) assert.ok(!hex(wire).includes(hex(sample)), `plaintext after the clear part on the wire: ${where}`);
        clearBytes += sent.length;
        growth += wire.length - frame.length;
      });
      summary.push(`${name}: ${frames.length} frames, ${clearBytes} clear bytes, protected frames ${growth} bytes larger in all`);
    } finally {
      p.free();
    }
  }
  console.log(summary.join('\n'));
});

test('AV1 key frames keep the sequence header first (the RTP N bit: "new coded video sequence")', () => {
  for (const [name, { codec, frames }] of Object.entries(fixtures())) {
    if (codec !== 'av1') continue;
    const p = pair();
    try {
      let keys = 0;
      for (const [i, frame] of frames.entries()) {
        const hasSeq = parseObus(frame).some((o) => o.type === 1);
        const rtp = av1RtpPath(p.protect('av1', frame));
        // The packetizer sets N on a key frame whose first OBU it sends is a sequence header,
        // as without SFrame; receivers without the dependency descriptor, and Janus, take
        // that as "key frame".
        assert.equal(rtp.firstIsSequenceHeader, hasSeq, `${name} frame ${i}`);
        assert.equal(av1RtpPath(frame).firstIsSequenceHeader, hasSeq, `${name} frame ${i} (plaintext)`);
        if (hasSeq) keys++;
      }
      assert.equal(keys, 2, `${name}: key frames 0 and 4`);
    } finally {
      p.free();
    }
  }
});

test('AV1 carrier OBU: the frame OBU header and its extension (temporal / spatial IDs) in clear', () => {
  const { frames } = fixtures()['AV1 libaom'];
  const p = pair();
  try {
    // The fixtures have no OBU extension: give every OBU but the temporal delimiter and
    // sequence header one (temporal ID 2, spatial ID 1), as an L2T3 encoder would.
    const ext = (2 << 5) | (1 << 3);
    for (const frame of frames) {
      const parts = [];
      for (const o of parseObus(frame)) {
        if (o.type === 1 || o.type === 2) parts.push(frame.subarray(o.start, o.end));
        else parts.push(Uint8Array.of(o.header | 4, ext), o.sizeBytes ?? [], o.payload);
      }
      const svc = Uint8Array.from(Buffer.concat(parts.map((x) => Uint8Array.from(x))));
      const wire = p.protect('av1', svc);
      const obus = checkAv1Wire(wire, hex(svc.subarray(0, 8)));
      const carrier = obus[obus.length - 1];
      assert.equal(carrier.ext, ext);
      assert.equal(carrier.type, parseObus(svc).find((o) => ![1, 2].includes(o.type)).type);
      assert.deepEqual(p.unprotect('av1', wire), svc);
    }
  } finally {
    p.free();
  }
});

test('H.264 / H.265: SEI user data (the encoder version strings) never in clear; parameter sets whole', () => {
  const all = fixtures();
  const p = pair();
  try {
    for (const [name, marker, paramTypes] of [
      ['H.264 x264', 'x264 - core', [7, 8]],
      ['H.265 x265', 'x265 (build', [32, 33, 34]],
    ]) {
      const { codec, frames } = all[name];
      const frame = frames[0];
      assert.ok(Buffer.from(frame).includes(marker), `${name}: fixture without ${marker}`);
      const wire = p.protect(codec, frame);
      assert.ok(!Buffer.from(wire).includes(marker), `${name}: ${marker} readable in the protected frame`);
      // Every parameter set of the frame is in the clear part, whole.
      const hl = headerLenOf(codec);
      const type = (nal) => (hl === 2 ? (parseInt(nal.slice(0, 2), 16) >> 1) & 0x3f : parseInt(nal.slice(0, 2), 16) & 0x1f);
      const params = annexB(frame, hl).nals.filter((n) => paramTypes.includes(type(n)));
      assert.equal(params.length, paramTypes.length, name);
      for (const n of params) assert.ok(hex(p.sentClear).includes(n), `${name}: parameter set ${n.slice(0, 8)}… not in clear`);
    }
  } finally {
    p.free();
  }
});

test('H.264 / H.265 with 3-byte start codes: the clear part is what the depacketizer delivers', () => {
  // x264 / x265 write 00 00 01 before SEI and slices; libwebrtc's depacketizers write every
  // NAL unit back after 00 00 00 01. A clear part that kept the 3-byte start codes differed
  // at the receiver and every such frame failed authentication (measured in Chromium 156
  // with OpenH264's frames rewritten to 3-byte start codes: 146 of 146 frames).
  const p = pair();
  try {
    for (const name of ['H.264 x264', 'H.265 x265']) {
      const { codec, frames } = fixtures()[name];
      for (const [i, frame] of frames.entries()) {
        const wire = p.protect(codec, frame);
        const received = h26xRtpPath(wire, headerLenOf(codec));
        assert.deepEqual(splitProtected(codec, received).clear, p.sentClear, `${name} frame ${i}`);
        assert.doesNotThrow(() => p.unprotect(codec, received), `${name} frame ${i}`);
      }
    }
  } finally {
    p.free();
  }
});

test('VP9: nothing clear, the protected frame is the SFrame', () => {
  const { frames } = fixtures()['VP9 libvpx'];
  const p = pair();
  try {
    for (const frame of frames) {
      assert.equal(clearPrefixLength('vp9', frame), 0);
      const wire = p.protect('vp9', frame);
      assert.equal(p.sentClear.length, 0);
      assert.deepEqual(p.unprotect('vp9', wire), frame);
    }
  } finally {
    p.free();
  }
});

// ---- Generated frames ------------------------------------------------------------------------

/**
 * A random OBU sequence: any OBU types (reserved ones too), extensions, sizes written with
 * extra LEB128 bytes, a last OBU without a size field, payloads rich in zeros; or, one time in
 * eight, random bytes (usually no OBU sequence at all).
 */
function av1Like(rand) {
  const zeroHeavy = (n) => Array.from({ length: n }, () => (rand() % 3 === 0 ? rand() & 0xff : 0));
  if (rand() % 8 === 0) return Uint8Array.from(zeroHeavy(rand() % 40));
  const bytes = [];
  const n = 1 + (rand() % 6);
  for (let i = 0; i < n; i++) {
    const type = rand() % 3 === 0 ? rand() % 16 : [2, 1, 6, 3, 4, 5][rand() % 6];
    const hasExt = rand() % 3 === 0;
    const noSize = i === n - 1 && rand() % 4 === 0;
    bytes.push((type << 3) | (hasExt ? 4 : 0) | (noSize ? 0 : 2) | (rand() % 8 === 0 ? 1 : 0));
    if (hasExt) bytes.push(rand() & 0xf8);
    const payload = zeroHeavy(type === 2 ? 0 : rand() % 30);
    if (!noSize) {
      const size = leb128(payload.length);
      // Non-minimal size fields (allowed by AV1 §4.10.5): one or two extra bytes.
      for (let pad = rand() % 4 === 0 ? 1 + (rand() % 2) : 0; pad > 0; pad--) {
        size[size.length - 1] |= 0x80;
        size.push(0);
      }
      bytes.push(...size);
    }
    bytes.push(...payload);
  }
  return Uint8Array.from(bytes);
}

test('AV1 property: any input gives a well-formed OBU sequence that survives the RTP path and round-trips', () => {
  const seed = 0xa1;
  const rand = prng(seed);
  const p = pair();
  let parsed = 0;
  try {
    for (let i = 0; i < 3000; i++) {
      const frame = av1Like(rand);
      const where = `sample ${i} (seed ${seed}): ${hex(frame)}`;
      const wire = p.protect('av1', frame);
      checkAv1Wire(wire, where);
      const rtp = av1RtpPath(wire);
      assert.ok(rtp, where);
      assert.equal(hex(rtp.frame), hex(wire), where);
      const obus = parseObus(frame);
      if (obus) {
        parsed++;
        // Every sequence header in clear, whole (its payload as the encoder wrote it).
        const seqs = obus.filter((o) => o.type === 1).map((o) => hex(o.payload));
        assert.deepEqual(parseObus(wire).filter((o) => o.type === 1).map((o) => hex(o.payload)), seqs, where);
        assert.equal(rtp.firstIsSequenceHeader, seqs.length > 0, where);
      }
      assert.deepEqual(splitProtected('av1', wire).clear, p.sentClear, where);
      assert.deepEqual(p.unprotect('av1', wire), frame, where);
    }
  } finally {
    p.free();
  }
  assert.ok(parsed > 2000, `only ${parsed} generated frames were OBU sequences`);
});

/**
 * Random Annex B-like access units: AUD, parameter sets, SEI, slices (some with 0..3 payload
 * bytes, so the next start code follows within the clear slice bytes) with 3- or 4-byte start
 * codes, sometimes leading zeros, cut anywhere; one in ten is zeros and small bytes only.
 */
function nalLike(rand, len, codec) {
  if (rand() % 10 === 0) return Uint8Array.from({ length: len }, () => (rand() % 3 ? 0 : rand() & 3));
  const h265 = codec === 'h265';
  const header = (t) => (h265 ? [(t << 1) | (rand() % 8 === 0 ? 1 : 0), 1 + (rand() % 3 === 0 ? rand() % 7 : 0)] : [(rand() % 4 << 5) | t]);
  const pick = (list) => list[rand() % list.length];
  const [aud, params, sei, more, slices] = h265
    ? [[35], [32, 33, 34], [39], [39, 40, 36, 41], [19, 20, 21, 0, 1, 8, 9]]
    : [[9], [7, 8], [6], [6, 12, 0, 30], [5, 1, 2]];
  const types = [];
  if (rand() % 2) types.push(...aud);
  if (rand() % 2) types.push(...params);
  if (rand() % 2) types.push(...sei);
  if (rand() % 3 === 0) types.push(pick(more));
  types.push(pick(slices));
  if (rand() % 2) types.push(pick(slices), pick(more));
  const bytes = [];
  if (rand() % 8 === 0) bytes.push(0);
  for (const t of types) {
    if (rand() % 2) bytes.push(0);
    bytes.push(0, 0, 1, ...header(t));
    const n = rand() % 3 === 0 ? rand() % 4 : rand() % 12;
    for (let i = 0; i < n; i++) bytes.push(rand() % 4 === 0 ? 0 : rand() & 0xff);
  }
  while (bytes.length < len) bytes.push(rand() % 3 === 0 ? 0 : rand() & 0xff);
  return Uint8Array.from(bytes.slice(0, len));
}

for (const codec of ['h264', 'h265']) {
  test(`${codec === 'h264' ? 'H.264' : 'H.265'} property: sender and receiver agree, no start code in the ciphertext, RTP path unchanged, same NAL units back`, () => {
    const seed = codec === 'h264' ? 0x264 : 0x265;
    const rand = prng(seed);
    const hl = headerLenOf(codec);
    const p = pair();
    let sent = 0;
    try {
      for (let len = 0; len <= 80; len++) {
        for (let s = 0; s < 40; s++) {
          const frame = nalLike(rand, len, codec);
          const where = `length ${len}, sample ${s} (seed ${seed}): ${hex(frame)}`;
          const wire = p.protect(codec, frame);
          const { clear } = splitProtected(codec, wire);
          assert.deepEqual(clear, p.sentClear, where);
          // No 00 00 0x (x <= 2) from the last two clear bytes on: the ciphertext starts no NAL.
          for (let j = Math.max(0, clear.length - 2); j + 2 < wire.length; j++) {
            assert.ok(!(wire[j] === 0 && wire[j + 1] === 0 && wire[j + 2] <= 2), `start code in the ciphertext at ${j}: ${where}`);
          }
          if (clear.length > 0) {
            // A frame with NAL structure is sent, and arrives as it left: the packetizer finds
            // no start code in the clear slice bytes, none is 3-byte.
            const received = h26xRtpPath(wire, hl);
            assert.ok(received, `not sent: ${where}`);
            assert.equal(hex(received), hex(wire), where);
            sent++;
          }
          const out = p.unprotect(codec, wire);
          // The same NAL units (a first slice shorter than its 4 clear bytes comes back
          // followed by zero bytes, which a decoder ignores).
          assert.deepEqual(annexB(out, hl), annexB(frame, hl), where);
        }
      }
    } finally {
      p.free();
    }
    assert.ok(sent > 2000, `only ${sent} frames with NAL structure`);
  });
}

test('H.265 clear part: start codes as 00 00 00 01, NAL headers, VPS/SPS/PPS whole, SEI/AUD payloads moved, slice header + 4 bytes', () => {
  const aud = [0, 0, 0, 1, 0x46, 0x01, 0x50];
  const vps = [0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff];
  const sps = [0, 0, 1, 0x42, 0x01, 0x01, 0x60];
  const pps = [0, 0, 1, 0x44, 0x01, 0xc1, 0x72];
  const secret = [...Buffer.from('caption: secret')];
  const sei = [0, 0, 1, 0x4e, 0x01, 0x05, secret.length, ...secret, 0x80];
  const idr = [0, 0, 1, 0x26, 0x01, 0xaf, 0x1e, 0x30, 0x91, ...Array.from({ length: 60 }, (_, i) => (i * 13) & 0xff)];
  const frame = Uint8Array.from([...aud, ...vps, ...sps, ...pps, ...sei, ...idr]);
  const { clear, plaintext } = senderLayout('h265', frame);
  const SC = [0, 0, 0, 1];
  assert.equal(
    hex(clear),
    hex([...SC, 0x46, 0x01, 0x80, ...vps, ...SC, ...sps.slice(3), ...SC, ...pps.slice(3), ...SC, 0x4e, 0x01, 0x80, ...SC, 0x26, 0x01, 0xaf, 0x1e, 0x30, 0x91]),
  );
  assert.ok(!Buffer.from(clear).includes(Buffer.from(secret)));
  assert.ok(Buffer.from(plaintext).includes(Buffer.from(secret)));
  // restoreFrame puts the AUD and SEI payloads back; start codes stay 4-byte.
  assert.equal(hex(restoreFrame('h265', clear, plaintext)), hex([...aud, ...vps, ...SC, ...sps.slice(3), ...SC, ...pps.slice(3), ...SC, ...sei.slice(3), ...SC, ...idr.slice(3)]));
  // A 1-byte NAL header is not an H.265 unit: a start code with one byte after it ends the
  // list; without a slice, the clear span ends after the last NAL header.
  assert.equal(clearPrefixLength('h265', Uint8Array.from([...vps, 0, 0, 1, 0x26])), 6);
  // Not Annex B (a byte other than zero before the first start code): nothing clear.
  assert.equal(clearPrefixLength('h265', Uint8Array.from([7, ...vps, ...idr])), 0);
  assert.equal(clearPrefixLength('h264', Uint8Array.from([7, 0, 0, 1, 0x65, 1, 2, 3, 4])), 0);
});

test('a first slice shorter than its 4 clear bytes, followed by another NAL unit: zero bytes keep the next start code out of the clear part', () => {
  // Before: the 4 clear bytes ran into the next NAL unit's start code; libwebrtc's packetizer
  // split the clear part there and its depacketizer wrote that start code back as
  // 00 00 00 01, so the receiver saw other clear bytes and authentication failed.
  const p = pair();
  try {
    for (const [codec, slice, next] of [
      ['h264', [0x41, 0x9a], [0x41, 0x9b, 0x22, 0x33, 0x44, 0x55]],
      ['h265', [0x02, 0x01, 0xd0], [0x02, 0x01, 0x50, 0x22, 0x33, 0x44]],
    ]) {
      const frame = Uint8Array.from([0, 0, 0, 1, ...slice, 0, 0, 1, ...next]);
      const wire = p.protect(codec, frame);
      // Clear: start code, slice NAL header, its payload byte and zeros up to 4 bytes.
      const hl = headerLenOf(codec);
      const payload = slice.slice(hl);
      assert.equal(hex(p.sentClear), hex([0, 0, 0, 1, ...slice, ...new Array(4 - payload.length).fill(0)]), codec);
      assert.equal(hex(h26xRtpPath(wire, hl)), hex(wire), codec);
      const out = p.unprotect(codec, wire);
      assert.equal(hex(out), hex([0, 0, 0, 1, ...slice, ...new Array(4 - payload.length).fill(0), 0, 0, 1, ...next]), codec);
      assert.deepEqual(annexB(out, hl), annexB(frame, hl), codec);
    }
  } finally {
    p.free();
  }
});

// ---- The receiver refuses what the sender never makes ------------------------------------

test('AV1 receiver: malformed protected frames are refused with "malformed_frame", never anything else', () => {
  const good = Uint8Array.from([0x0a, 2, 0xaa, 0xbb, 0x32, 3, 1, 2, 3]);
  assert.deepEqual(splitProtected('av1', good), { clear: good.subarray(0, 5), sframe: good.subarray(6) });
  for (const [what, bytes] of [
    ['empty', []],
    ['only a sequence header', [0x0a, 1, 0xaa]],
    ['OBU without a size field', [0x30, 1, 2, 3]],
    ['carrier size short of the end', [0x32, 2, 1, 2, 3]],
    ['carrier size beyond the end', [0x32, 9, 1, 2]],
    ['temporal delimiter', [0x12, 0, 0x32, 1, 1]],
    ['padding as carrier', [0x7a, 1, 1]],
    ['truncated extension', [0x36]],
    ['LEB128 of 9 bytes', [0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0]],
  ]) {
    assert.throws(() => splitProtected('av1', Uint8Array.from(bytes)), { name: 'SFrameError', code: 'malformed_frame' }, what);
  }
  // Random bytes: a split or "malformed_frame", and a split always re-forms the frame.
  const rand = prng(0xbad);
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: rand() % 24 }, () => (rand() % 2 ? rand() & 0xff : [0x0a, 0x32, 0x36, 1, 2, 0][rand() % 6]));
    try {
      const { clear, sframe } = splitProtected('av1', bytes);
      assert.equal(hex(Buffer.concat([clear, Uint8Array.from(leb128(sframe.length)), sframe])), hex(bytes));
    } catch (e) {
      assert.ok(e instanceof CodecLayoutError && e.code === 'malformed_frame', `${hex(bytes)}: ${e}`);
    }
  }
});

test('AV1: an altered clear byte (sequence header, carrier header) fails authentication', () => {
  const { frames } = fixtures()['AV1 libaom'];
  const p = pair();
  try {
    const wire = p.protect('av1', frames[0]);
    const { clear } = splitProtected('av1', wire);
    for (const at of [1, 5, clear.length - 1]) {
      const bad = wire.slice();
      bad[at] ^= 0x40;
      assert.throws(() => p.unprotect('av1', bad), (e) => e.name === 'SFrameError', `byte ${at}`);
    }
    assert.deepEqual(p.unprotect('av1', wire), frames[0]);
  } finally {
    p.free();
  }
});

// ---- Options and the transform ---------------------------------------------------------------

test('compatibilityMode and mimeType mapping for VP9, AV1, H.265', () => {
  for (const [mode, want] of [
    ['VP9', 'vp9'],
    ['AV1', 'av1'],
    ['av1', 'av1'],
    ['H265', 'h265'],
    ['HEVC', 'h265'],
    ['h265', 'h265'],
  ]) {
    assert.equal(parseCompatibilityMode(mode), want, mode);
  }
  assert.throws(() => parseCompatibilityMode('AV2'), TypeError);
  for (const [mime, want] of [
    ['video/VP9', 'vp9'],
    ['video/AV1', 'av1'],
    ['video/H265', 'h265'],
    ['video/hevc', 'h265'],
    ['audio/red', 'none'],
  ]) {
    assert.equal(codecForMimeType(mime), want, mime);
  }
});

/** Frames through an encrypter and a decrypter transform; what came out, and the errors. */
async function throughTransforms(enc, dec, frames, onWire = (x) => x) {
  const errors = [];
  enc.onerror = (e) => errors.push(`enc ${e.errorType}/${e.code}`);
  dec.onerror = (e) => errors.push(`dec ${e.errorType}/${e.code}`);
  const run = async (t, input) => {
    const out = [];
    const src = new ReadableStream({
      start(c) {
        for (const x of input) c.enqueue(x);
        c.close();
      },
    });
    await src.pipeThrough(t).pipeTo(new WritableStream({ write: (x) => out.push(new Uint8Array(x)) }));
    return out;
  };
  const wire = (await run(enc, frames.map((f) => f.slice()))).map(onWire);
  return { wire, out: await run(dec, wire), errors };
}

test('SFrameTransform with compatibilityMode VP9 / AV1 / H265: fixtures through encrypter → RTP path → decrypter, wasm and WebCrypto paths', async () => {
  const all = fixtures();
  const cases = [
    ['VP9', all['VP9 libvpx']],
    ['AV1', all['AV1 libaom']],
    ['AV1', all['AV1 rav1e']],
    ['H265', all['H.265 x265']],
  ];
  for (const [mode, { codec, frames }] of cases) {
    const raw = freshKey();
    // A non-extractable WebCrypto key: every frame goes through WebCrypto's AES-GCM
    // (joinProtected / restoreFrameFrom); raw bytes: the wasm path (protectFrame / restoreFrame).
    const hkdf = await webcrypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits', 'deriveKey']);
    for (const [encKey, decKey, path] of [
      [raw, hkdf, 'wasm → WebCrypto'],
      [hkdf, raw, 'WebCrypto → wasm'],
    ]) {
      const enc = new SFrameTransform({ role: 'encrypt', cipherSuite: 'AES_128_GCM_SHA256_128', compatibilityMode: mode });
      const dec = new SFrameTransform({ role: 'decrypt', cipherSuite: 'AES_128_GCM_SHA256_128', compatibilityMode: mode });
      await enc.setEncryptionKey(encKey, 9);
      await dec.addDecryptionKey(decKey, 9);
      const { wire, out, errors } = await throughTransforms(enc, dec, frames, (w) => throughRtp(codec, w));
      const where = `${mode} ${path}`;
      assert.deepEqual(errors, [], where);
      if (codec === 'av1') wire.forEach((w, i) => checkAv1Wire(w, `${where} frame ${i}`));
      assert.equal(out.length, frames.length, where);
      out.forEach((f, i) => {
        if (codec === 'h265') assert.deepEqual(annexB(f, 2), annexB(frames[i], 2), `${where} frame ${i}`);
        else assert.deepEqual(f, frames[i], `${where} frame ${i}`);
      });
      enc.close?.();
      dec.close?.();
    }
  }
});

test('regression (AV1 decoded nothing in Chromium 156 / Firefox 153): a fully encrypted AV1 frame does not survive the RTP path', () => {
  // What the package did before: no clear byte for AV1 ("none"). The packetizer parses the
  // ciphertext as OBUs: it sends nothing, or sends it altered (sizes rewritten, "temporal
  // delimiters" dropped), and the receiver's authentication fails. The AV1 layout's protected
  // frames come through unchanged (tests above).
  const p = pair();
  let intact = 0;
  let total = 0;
  try {
    for (const [name, { codec, frames }] of Object.entries(fixtures())) {
      if (codec !== 'av1') continue;
      for (const frame of frames) {
        const old = p.protect('none', frame);
        const rtp = av1RtpPath(old);
        if (rtp && hex(rtp.frame) === hex(old)) intact++;
        total++;
        const now = p.protect('av1', frame);
        assert.equal(hex(av1RtpPath(now).frame), hex(now), name);
      }
    }
  } finally {
    p.free();
  }
  assert.ok(intact < total / 4, `${intact} of ${total} fully encrypted AV1 frames came through intact`);
});
