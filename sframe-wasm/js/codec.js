// Codec compatibility: which bytes of an encoded frame stay in clear, and how a protected
// frame is laid out (see README "Wire layout"):
//   clear part (c bytes)  ‖  SFrame(header ‖ ciphertext ‖ tag)
// The clear part is passed to sframe-core as SFrame *metadata* (RFC 9605 §4.4.3), so it is
// authenticated: a receiver that sees altered clear bytes rejects the frame. For H.264 the
// SFrame part is additionally escaped against start-code emulation.
//
// Both sides must split at the same c, for every frame the sender accepts. So c is a function
// of the clear bytes alone (clearPrefixLength): the sender computes it on the plaintext frame,
// the receiver on the protected frame, and both read the same clear bytes. A frame shorter
// than the c its own first bytes call for cannot be laid out that way; protectFrame refuses
// it ("frame_too_short": VP8 key frames under 10 bytes, delta frames under 3, empty Opus
// frames — none of them a valid frame of its codec) or, for H.264, pads the first slice with
// trailing zero bytes (ITU-T H.264 Annex B trailing_zero_8bits, ignored by decoders) so that
// the 4 clear slice bytes exist. Earlier versions kept min(c, length) bytes clear: the
// receiver then split elsewhere and such frames never decrypted.
//
// H.264 NAL units before the first slice: only SPS (7) and PPS (8) keep their payload in
// clear (depacketizers and SFUs read them). Every other NAL unit there (SEI with captions or
// user data, AUD, ...) keeps only its start code and NAL header in clear, followed by one
// placeholder byte (0x80, rbsp trailing bits: Chromium mangles 1-byte NAL units, measured);
// its payload moves into the encrypted part, length-prefixed, and the receiver puts it back.

// @ts-check

/** @typedef {'none' | 'vp8' | 'opus' | 'h264'} Codec */

/** @type {Map<string, Codec | 'auto'>} */
const MODES = new Map([
  ['none', 'none'],
  ['vp8', 'vp8'],
  ['opus', 'opus'],
  ['h264', 'h264'],
  ['auto', 'auto'],
]);

/**
 * Normalises a compatibilityMode option ("none", "VP8", "H264", "opus", "auto").
 * @param {unknown} mode
 * @returns {Codec | 'auto'}
 */
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

/**
 * The codec rule for a MIME type such as "video/VP8" (from getMetadata().mimeType).
 * @param {string | undefined} mimeType
 * @returns {Codec}
 */
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
 * A frame that the codec layout cannot handle. `name` is "SFrameError" like the errors of
 * the wasm module; `code` is "frame_too_short" (sender: the frame is shorter than the clear
 * part its own first bytes call for) or "malformed_frame" (receiver: the protected frame is
 * shorter than its clear part, or the decrypted layout data is inconsistent).
 */
export class CodecLayoutError extends Error {
  /**
   * @param {'frame_too_short' | 'malformed_frame'} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'SFrameError';
    this.code = code;
  }
}

/** VP8 (RFC 6386 §9.1) clear bytes: the 3-byte frame tag, plus 7 on key frames. */
export const VP8_KEY_CLEAR_BYTES = 10;
export const VP8_DELTA_CLEAR_BYTES = 3;

/**
 * Number of leading clear bytes a frame has under `codec`, computed from those bytes only:
 * on a plaintext frame (sender) and on the protected frame (receiver) it is the same number.
 * It can exceed `data.length`: the frame is then too short for its codec's layout (see
 * protectFrame). For H.264 on a plaintext frame it is the span whose NAL structure stays
 * visible (non-SPS/PPS payloads inside it are still encrypted).
 * @param {Codec} codec
 * @param {Uint8Array} data
 */
export function clearPrefixLength(codec, data) {
  switch (codec) {
    case 'vp8':
      // RFC 6386 §9.1: frame tag bit 0 is the inverse key-frame flag. Key frames keep the
      // 3-byte frame tag + 7-byte start code/dimensions (10 bytes), delta frames the tag (3).
      // An empty frame has no tag: it needs at least the 3 bytes every VP8 frame has.
      if (data.length === 0) return VP8_DELTA_CLEAR_BYTES;
      return (data[0] & 1) === 0 ? VP8_KEY_CLEAR_BYTES : VP8_DELTA_CLEAR_BYTES;
    case 'opus':
      // RFC 6716 §3.1: the TOC byte.
      return 1;
    case 'h264':
      return h264ClearLength(data);
    default:
      return 0;
  }
}

/**
 * Index of the next Annex B start code (00 00 01) at or after `from`, or -1.
 * @param {Uint8Array} data
 * @param {number} from
 */
function findStartCode(data, from) {
  for (let i = from; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) return i;
  }
  return -1;
}

/** Bytes of each slice kept in clear after its NAL header (measured in Chromium 156). */
export const H264_SLICE_CLEAR_BYTES = 4;

/** @param {number} type */
const isSlice = (type) => type >= 1 && type <= 5;
/** NAL unit types whose payload stays clear before the first slice: SPS, PPS. */
/** @param {number} type */
const keepsPayload = (type) => type === 7 || type === 8;
/** What stands in clear for a moved NAL payload (a 1-byte NAL unit first in a frame loses its
 * start code in Chromium's RTP path, measured with Chromium 156). */
const MOVED_PLACEHOLDER = Uint8Array.of(0x80);

/**
 * The NAL units of an Annex B frame up to and including the first slice (NAL types 1..5):
 * for each, `sc` (where its start code begins: 00 00 01, or 00 00 00 01 — a zero right before
 * 00 00 01 belongs to the start code, as RTP packetizers see it), `h` (index of its NAL header
 * byte) and `type`. A start code with no byte after it ends the list.
 * @param {Uint8Array} data
 */
function h264Units(data) {
  const units = [];
  let from = 0;
  let sc = findStartCode(data, 0);
  while (sc >= 0 && sc + 3 < data.length) {
    const h = sc + 3;
    const type = data[h] & 0x1f;
    units.push({ sc: sc > from && data[sc - 1] === 0 ? sc - 1 : sc, h, type });
    if (isSlice(type)) return { units, slice: true };
    from = h + 1;
    sc = findStartCode(data, from);
  }
  return { units, slice: false };
}

/**
 * H.264 (Annex B): the clear span ends 4 bytes after the NAL header of the first slice (NAL
 * types 1..5); without a slice, right after the last NAL header; without any start code,
 * nothing is clear. Everything after it (the rest of that slice and any later NAL units) is
 * encrypted. May exceed data.length (a slice with fewer than 4 bytes).
 * @param {Uint8Array} data
 */
export function h264ClearLength(data) {
  const { units, slice } = h264Units(data);
  if (units.length === 0) return 0;
  const last = units[units.length - 1];
  return last.h + 1 + (slice ? H264_SLICE_CLEAR_BYTES : 0);
}

/**
 * Number of trailing zero bytes of `bytes` (0, 1 or 2) that an escape must account for.
 * @param {Uint8Array} bytes
 */
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

/**
 * Inverse of escapeStartCodes: drops each 0x03 that follows two zero bytes.
 * @param {Uint8Array} src
 * @param {number} [zeros]
 */
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

/**
 * `a ‖ b` in a new buffer, or `b` itself when `a` is empty: the hot path (one frame each way
 * per call) with no parts array and no iterator. `b` is then returned as is — callers pass a
 * buffer that is theirs to hand over (sframe-core's output, a fresh copy per call).
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function join2(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The AAD of the WebCrypto path: header ‖ clear bytes (RFC 9605 §4.4.3 with the clear part as
 * metadata), the header itself when nothing stays in clear.
 * @param {Uint8Array} header
 * @param {Uint8Array} clear
 */
export function aadOf(header, clear) {
  return clear.length === 0 ? header : join2(header, clear);
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Unsigned LEB128 of a length.
 * @param {number} n
 */
function leb128(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

/**
 * Reads an unsigned LEB128 at `pos`: [value, next position], or null if malformed.
 * @param {Uint8Array} bytes
 * @param {number} pos
 * @returns {[number, number] | null}
 */
function readLeb128(bytes, pos) {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) return null;
    const b = bytes[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  return null;
}

/**
 * Sender side of the layout: the clear part (SFrame metadata, sent as is) and the plaintext
 * to encrypt. Throws CodecLayoutError "frame_too_short" for a frame its codec cannot lay out.
 * @param {Codec} codec
 * @param {Uint8Array} frame
 * @returns {{ clear: Uint8Array, plaintext: Uint8Array }}
 */
export function senderLayout(codec, frame) {
  if (codec === 'h264') return h264SenderLayout(frame);
  const c = clearPrefixLength(codec, frame);
  if (c > frame.length) {
    throw new CodecLayoutError(
      'frame_too_short',
      `${codec} frame of ${frame.length} bytes is shorter than its ${c} clear bytes`,
    );
  }
  return { clear: frame.subarray(0, c), plaintext: frame.subarray(c) };
}

/** @param {Uint8Array} input */
function h264SenderLayout(input) {
  const { units, slice } = h264Units(input);
  if (units.length === 0) return { clear: input.subarray(0, 0), plaintext: input };
  const last = units[units.length - 1];
  const end = last.h + 1 + (slice ? H264_SLICE_CLEAR_BYTES : 0);
  // A first slice with fewer than 4 bytes: pad with trailing_zero_8bits (Annex B), which
  // keeps the NAL units found above (zeros never form 00 00 01) and the decoder ignores.
  let frame = input;
  if (end > frame.length) {
    frame = new Uint8Array(end);
    frame.set(input);
  }
  const clear = [frame.subarray(0, units[0].h + 1)];
  const moved = [];
  for (let i = 0; i + 1 < units.length; i++) {
    const u = units[i];
    const next = units[i + 1];
    const payload = frame.subarray(u.h + 1, next.sc);
    if (keepsPayload(u.type)) {
      clear.push(payload);
    } else {
      clear.push(MOVED_PLACEHOLDER);
      moved.push(leb128(payload.length), payload);
    }
    clear.push(frame.subarray(next.sc, next.h + 1));
  }
  clear.push(frame.subarray(last.h + 1, end));
  return { clear: concat(clear), plaintext: concat([...moved, frame.subarray(end)]) };
}

/**
 * Receiver side of the layout: splits a protected frame into its clear part and its SFrame
 * part (start-code escapes removed for H.264). Throws CodecLayoutError "malformed_frame" when
 * the frame is shorter than the clear part its first bytes call for.
 * @param {Codec} codec
 * @param {Uint8Array} data
 * @returns {{ clear: Uint8Array, sframe: Uint8Array }}
 */
export function splitProtected(codec, data) {
  const c = clearPrefixLength(codec, data);
  if (c > data.length) {
    throw new CodecLayoutError(
      'malformed_frame',
      `protected ${codec} frame of ${data.length} bytes is shorter than its ${c} clear bytes`,
    );
  }
  const clear = data.subarray(0, c);
  const rest = data.subarray(c);
  return { clear, sframe: codec === 'h264' ? unescapeStartCodes(rest, trailingZeros(clear)) : rest };
}

/**
 * Receiver side: the original frame from the clear part and the decrypted plaintext (for
 * H.264, moved NAL payloads go back in place). Throws CodecLayoutError "malformed_frame" if
 * the plaintext does not carry the moved payloads the clear part announces. Without clear
 * bytes the result is `plaintext` itself (no copy), else a new buffer.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {Uint8Array} plaintext
 */
export function restoreFrame(codec, clear, plaintext) {
  if (codec !== 'h264') return join2(clear, plaintext);
  const { units } = h264Units(clear);
  if (units.length === 0) return join2(clear, plaintext);
  const bad = (/** @type {string} */ why) => new CodecLayoutError('malformed_frame', `H.264 layout: ${why}`);
  const out = [clear.subarray(0, units[0].h + 1)];
  let pos = 0;
  for (let i = 0; i + 1 < units.length; i++) {
    const u = units[i];
    const next = units[i + 1];
    if (keepsPayload(u.type)) {
      out.push(clear.subarray(u.h + 1, next.sc));
    } else {
      if (next.sc !== u.h + 2 || clear[u.h + 1] !== MOVED_PLACEHOLDER[0]) {
        throw bad('a moved NAL unit has more than its placeholder in clear');
      }
      const r = readLeb128(plaintext, pos);
      if (!r || r[1] + r[0] > plaintext.length) throw bad('moved NAL payload missing');
      out.push(plaintext.subarray(r[1], r[1] + r[0]));
      pos = r[1] + r[0];
    }
    out.push(clear.subarray(next.sc, next.h + 1));
  }
  const last = units[units.length - 1];
  out.push(clear.subarray(last.h + 1), plaintext.subarray(pos));
  return concat(out);
}

/**
 * Protects an encoded frame with its codec's layout:
 *   clear ‖ SFrame part (escaped for H.264), with `protect(plaintext, metadata)` e.g.
 *   `(p, m) => sender.protect(p, m)`. Throws CodecLayoutError "frame_too_short" (nothing is
 *   protected, no counter is used) or whatever `protect` throws. Without clear bytes the
 *   result is what `protect` returned (no copy), else a new buffer.
 * @param {Codec} codec
 * @param {Uint8Array} frame
 * @param {(plaintext: Uint8Array, metadata: Uint8Array) => Uint8Array} protect
 */
export function protectFrame(codec, frame, protect) {
  const { clear, plaintext } = senderLayout(codec, frame);
  let sframe = protect(plaintext, clear);
  if (codec === 'h264') sframe = escapeStartCodes(sframe, trailingZeros(clear));
  return join2(clear, sframe);
}

/** @type {((this: ArrayBuffer, length: number) => ArrayBuffer) | undefined} */
const transfer = /** @type {any} */ (ArrayBuffer.prototype).transfer;

/**
 * `a ‖ b ‖ body` where `body` is an ArrayBuffer nobody else holds (WebCrypto's output), which
 * is detached. Where ArrayBuffer.prototype.transfer exists (Chromium ≥ 114, Firefox ≥ 122,
 * Safari ≥ 17.4) `body` is grown by it, its bytes moved up with copyWithin and `a`, `b`
 * written in front: measured in Chromium 156 (bench/README.md, `--copies`) ~19 µs for a
 * 100 KiB frame against ~60 µs for a new buffer + copy, whose cost is mostly the fresh pages
 * of the new allocation. Elsewhere: a new buffer and one copy of each part.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @param {ArrayBuffer} body
 * @returns {Uint8Array}
 */
export function prependTo(a, b, body) {
  const head = a.length + b.length;
  if (head === 0) return new Uint8Array(body);
  const n = body.byteLength;
  /** @type {Uint8Array} */
  let out;
  if (transfer) {
    out = new Uint8Array(transfer.call(body, head + n));
    out.copyWithin(head, 0, n);
  } else {
    out = new Uint8Array(head + n);
    out.set(new Uint8Array(body), head);
  }
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The protected frame from parts made outside sframe-core's protect (the WebCrypto path):
 * clear ‖ header ‖ ciphertext-and-tag, escaped after the clear part for H.264. `sealed` is
 * WebCrypto's output buffer (ciphertext ‖ tag), taken over (detached) by prependTo: the clear
 * part and header must precede it, and WebCrypto cannot write after an offset.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {Uint8Array} header
 * @param {ArrayBuffer} sealed ciphertext ‖ tag
 */
export function joinProtected(codec, clear, header, sealed) {
  if (codec === 'h264') {
    const sframe = prependTo(header, clear.subarray(0, 0), sealed);
    return join2(clear, escapeStartCodes(sframe, trailingZeros(clear)));
  }
  return prependTo(clear, header, sealed);
}

/**
 * Receiver, WebCrypto path: the original frame from the clear part and WebCrypto's output
 * buffer (plaintext, taken over as by prependTo) — restoreFrame without the extra copy.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {ArrayBuffer} plaintext
 */
export function restoreFrameFrom(codec, clear, plaintext) {
  if (codec === 'h264') return restoreFrame(codec, clear, new Uint8Array(plaintext));
  return prependTo(clear, clear.subarray(0, 0), plaintext);
}

/**
 * Inverse of protectFrame with `unprotect(sframe, metadata)`, e.g.
 * `(s, m) => receiver.unprotect(s, m)`: the frame as the sender's encoder produced it (an
 * H.264 frame whose first slice had fewer than 4 bytes comes back zero-padded).
 * @param {Codec} codec
 * @param {Uint8Array} data
 * @param {(sframe: Uint8Array, metadata: Uint8Array) => Uint8Array} unprotect
 */
export function unprotectFrame(codec, data, unprotect) {
  const { clear, sframe } = splitProtected(codec, data);
  return restoreFrame(codec, clear, unprotect(sframe, clear));
}
