// Codec compatibility: which leading bytes of an encoded frame stay in clear.
//
// Layout of a protected frame (see README "Wire layout"):
//   clear prefix (n bytes, unchanged)  ‖  SFrame(header ‖ ciphertext ‖ tag)
// The clear prefix is passed to sframe-core as SFrame *metadata* (RFC 9605 §4.4.3), so it is
// authenticated: a receiver that sees altered clear bytes rejects the frame.
// For H.264 the SFrame part is additionally escaped against start-code emulation.
//
// Every rule computes n from bytes that are inside the clear prefix itself, so the receiver
// finds the same n on the protected frame as the sender did on the plaintext.

/** @typedef {'none' | 'vp8' | 'opus' | 'h264'} Codec */

const MODES = new Map([
  ['none', 'none'],
  ['vp8', 'vp8'],
  ['opus', 'opus'],
  ['h264', 'h264'],
  ['auto', 'auto'],
]);

/** Normalises a compatibilityMode option ("none", "VP8", "H264", "opus", "auto"). */
export function parseCompatibilityMode(mode) {
  if (mode === undefined || mode === null) return 'auto';
  const m = MODES.get(String(mode).toLowerCase());
  if (!m) {
    throw new TypeError(
      `compatibilityMode must be one of "auto", "none", "VP8", "H264", "opus" (got ${mode})`,
    );
  }
  return m;
}

/** The codec rule for a MIME type such as "video/VP8" (from getMetadata().mimeType). */
export function codecForMimeType(mimeType) {
  switch (String(mimeType ?? '').toLowerCase()) {
    case 'video/vp8':
      return 'vp8';
    case 'video/h264':
      return 'h264';
    case 'audio/opus':
      return 'opus';
    default:
      return 'none';
  }
}

/**
 * Number of leading clear bytes of `data` (a plaintext frame on the sender, the protected
 * frame on the receiver: both start with the same clear prefix).
 * @param {Codec} codec
 * @param {Uint8Array} data
 */
export function clearPrefixLength(codec, data) {
  const len = data.length;
  switch (codec) {
    case 'vp8': {
      // RFC 6386 §9.1: frame tag bit 0 is the inverse key-frame flag. Key frames keep the
      // 3-byte frame tag + 7-byte start code/dimensions (10 bytes), delta frames the tag (3).
      if (len === 0) return 0;
      return Math.min((data[0] & 1) === 0 ? 10 : 3, len);
    }
    case 'opus':
      // RFC 6716 §3.1: the TOC byte.
      return Math.min(1, len);
    case 'h264':
      return h264ClearLength(data);
    default:
      return 0;
  }
}

/** Index just past the next Annex B start code (00 00 01) at or after `from`, or -1. */
function nextNalStart(data, from) {
  for (let i = from; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) return i + 3;
  }
  return -1;
}

/** Bytes of each slice kept in clear after its NAL header (measured in Chromium 156). */
export const H264_SLICE_CLEAR_BYTES = 4;

/**
 * H.264 (Annex B): everything up to and including the NAL header of the first slice (NAL
 * types 1..5) plus its first 4 bytes stays clear — start codes, SPS, PPS, SEI, AUD and the
 * start of the slice header. Everything after it (the rest of that slice and any later NAL
 * units) is encrypted. Without a slice, the clear part ends after the last NAL header; without
 * any start code, nothing is clear.
 * @param {Uint8Array} data
 */
export function h264ClearLength(data) {
  let p = nextNalStart(data, 0);
  let lastHeader = -1;
  while (p >= 0 && p < data.length) {
    const type = data[p] & 0x1f;
    if (type >= 1 && type <= 5) return Math.min(p + 1 + H264_SLICE_CLEAR_BYTES, data.length);
    lastHeader = p;
    p = nextNalStart(data, p + 1);
  }
  return lastHeader >= 0 ? lastHeader + 1 : 0;
}

/** Number of trailing zero bytes of `bytes` (0, 1 or 2) that an escape must account for. */
export function trailingZeros(bytes) {
  const n = bytes.length;
  if (n >= 1 && bytes[n - 1] === 0) return n >= 2 && bytes[n - 2] === 0 ? 2 : 1;
  return 0;
}

/**
 * H.264 emulation prevention (ITU-T H.264 §7.4.1): after two zero bytes, a byte <= 3 gets an
 * 0x03 inserted before it, so the output never contains 00 00 00/01/02/03 and no start code
 * appears inside ciphertext. `zeros` = zero bytes immediately before `src` (see trailingZeros).
 * @param {Uint8Array} src
 */
export function escapeStartCodes(src, zeros = 0) {
  // Worst case one inserted byte per two input bytes.
  const out = new Uint8Array(src.length + (src.length >> 1) + 2);
  let o = 0;
  let z = zeros;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (z >= 2 && b <= 3) {
      out[o++] = 3;
      z = 0;
    }
    out[o++] = b;
    z = b === 0 ? z + 1 : 0;
  }
  return out.subarray(0, o);
}

/** Inverse of escapeStartCodes: drops each 0x03 that follows two zero bytes. */
export function unescapeStartCodes(src, zeros = 0) {
  const out = new Uint8Array(src.length);
  let o = 0;
  let z = zeros;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (z >= 2 && b === 3) {
      z = 0;
      continue;
    }
    out[o++] = b;
    z = b === 0 ? z + 1 : 0;
  }
  return out.subarray(0, o);
}
