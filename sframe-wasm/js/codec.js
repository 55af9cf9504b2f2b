// Codec compatibility: which bytes of an encoded frame stay in clear, and how a protected
// frame is laid out (see README "Wire layout"):
//   clear part (c bytes)  ‖  SFrame(header ‖ ciphertext ‖ tag)
// The clear part is passed to sframe-core as SFrame *metadata* (RFC 9605 §4.4.3), so it is
// authenticated: a receiver that sees altered clear bytes rejects the frame. For H.264 and
// H.265 the SFrame part is additionally escaped against start-code emulation; for AV1 the
// clear part and the SFrame part form an OBU sequence (see "AV1" below).
//
// Both sides must split at the same c, for every frame the sender accepts. So c is a function
// of the clear bytes alone (clearPrefixLength): the sender computes it on the plaintext frame,
// the receiver on the protected frame, and both read the same clear bytes. A frame shorter
// than the c its own first bytes call for cannot be laid out that way; protectFrame refuses
// it ("frame_too_short": VP8 key frames under 10 bytes, delta frames under 3, empty Opus
// frames — none of them a valid frame of its codec) or, for H.264 / H.265, pads the first slice with
// trailing zero bytes (ITU-T H.264 Annex B trailing_zero_8bits, ignored by decoders) so that
// the 4 clear slice bytes exist. Earlier versions kept min(c, length) bytes clear: the
// receiver then split elsewhere and such frames never decrypted.
//
// H.264 NAL units before the first slice: only SPS (7) and PPS (8) keep their payload in
// clear (depacketizers and SFUs read them). Every other NAL unit there (SEI with captions or
// user data, AUD, ...) keeps only its start code and NAL header in clear, followed by one
// placeholder byte (0x80, rbsp trailing bits: Chromium mangles 1-byte NAL units, measured);
// its payload moves into the encrypted part, length-prefixed, and the receiver puts it back.
// H.265 (ITU-T H.265 Annex B) is laid out the same way with its 2-byte NAL headers: VPS (32),
// SPS (33) and PPS (34) whole, the first slice segment (VCL types 0..31) header + 4 bytes.
//
// VP9: nothing clear. AV1: the protected frame is itself an OBU sequence (the AV1 RTP
// packetizer parses it): every sequence header OBU in clear, then one OBU that carries the
// whole SFrame part — see "AV1" below. Why each codec needs what it keeps clear, with the
// sources read (libwebrtc's packetizers and depacketizers, Janus, LiveKit, Jitsi): README,
// "What real calls send".

// @ts-check

/** @typedef {'none' | 'vp8' | 'vp9' | 'av1' | 'opus' | 'h264' | 'h265'} Codec */

/** @type {Map<string, Codec | 'auto'>} */
const MODES = new Map([
  ['none', 'none'],
  ['vp8', 'vp8'],
  ['vp9', 'vp9'],
  ['av1', 'av1'],
  ['opus', 'opus'],
  ['h264', 'h264'],
  ['h265', 'h265'],
  ['hevc', 'h265'],
  ['auto', 'auto'],
]);

/**
 * Normalises a compatibilityMode option ("auto", "none", "VP8", "VP9", "AV1", "H264", "H265"
 * (or "HEVC"), "opus"; any case).
 * @param {unknown} mode
 * @returns {Codec | 'auto'}
 */
export function parseCompatibilityMode(mode) {
  if (mode === undefined || mode === null) return 'auto';
  const m = MODES.get(String(mode).toLowerCase());
  if (!m) {
    throw new TypeError(
      `compatibilityMode must be one of "auto", "none", "VP8", "VP9", "AV1", "H264", "H265", "opus" (got ${mode})`,
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
    case 'video/vp9':
      return 'vp9';
    case 'video/av1':
      return 'av1';
    case 'video/h264':
      return 'h264';
    case 'video/h265':
    case 'video/hevc':
      return 'h265';
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
 * protectFrame). For H.264 / H.265 on a plaintext frame it is the span whose NAL structure
 * stays visible (non-parameter-set payloads inside it are still encrypted). For AV1 it is the
 * end of the header of the first OBU that is not a sequence header, temporal delimiter, tile
 * list or padding: on a protected frame exactly its clear part (the carrier OBU's header; its
 * size field follows), on a plaintext frame the span up to that OBU's size field (the
 * temporal delimiters in it are encrypted, not clear); 0 if the bytes are no OBU sequence.
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
      return nalClearLength(H264, data);
    case 'h265':
      return nalClearLength(H265, data);
    case 'av1': {
      const obus = parseObus(data);
      const first = obus && obus.find((o) => !AV1_NOT_CARRIER.has(o.type));
      return first ? first.sizeAt : 0;
    }
    default:
      // VP9 (the RTP payload descriptor is built from the encoder's codec-specific info, not
      // read from the frame), anything else, plain buffers: nothing.
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
/**
 * H.265: bytes of the first slice segment kept in clear after its 2-byte NAL header, as for
 * H.264. libwebrtc's depacketizer reads the first bit (first_slice_segment_in_pic_flag); 4
 * bytes also cover no_output_of_prior_pics_flag and slice_pic_parameter_set_id, which
 * RTP-level tools parse. Not measured in a browser: neither Debian browser has H.265.
 */
export const H265_SLICE_CLEAR_BYTES = 4;

/**
 * The NAL-unit syntax the H.264 and H.265 layouts share: header length, type, which types
 * are slices (the clear span ends in the first one) and which keep their payload in clear
 * before it (parameter sets).
 * @typedef {{ name: string, headerLen: number, type: (b: number) => number,
 *   isSlice: (t: number) => boolean, keepsPayload: (t: number) => boolean,
 *   sliceClear: number }} NalSyntax
 */

/** @type {NalSyntax} ITU-T H.264 §7.3.1: 1-byte header, type in its low 5 bits. */
const H264 = {
  name: 'H.264',
  headerLen: 1,
  type: (b) => b & 0x1f,
  isSlice: (t) => t >= 1 && t <= 5,
  keepsPayload: (t) => t === 7 || t === 8, // SPS, PPS
  sliceClear: H264_SLICE_CLEAR_BYTES,
};

/** @type {NalSyntax} ITU-T H.265 §7.3.1.2: 2-byte header, type in bits 1..6 of the first. */
const H265 = {
  name: 'H.265',
  headerLen: 2,
  type: (b) => (b >> 1) & 0x3f,
  isSlice: (t) => t <= 31, // VCL NAL unit types (slice segments), reserved ones included
  keepsPayload: (t) => t >= 32 && t <= 34, // VPS, SPS, PPS
  sliceClear: H265_SLICE_CLEAR_BYTES,
};

/** @param {Codec} codec */
const nalSyntax = (codec) => (codec === 'h264' ? H264 : codec === 'h265' ? H265 : null);

/** The start code of every NAL unit in the clear part (what libwebrtc's depacketizers write). */
const START_CODE = Uint8Array.of(0, 0, 0, 1);

/** What stands in clear for a moved NAL payload (a 1-byte NAL unit first in a frame loses its
 * start code in Chromium's RTP path, measured with Chromium 156). */
const MOVED_PLACEHOLDER = Uint8Array.of(0x80);

/**
 * The NAL units of an Annex B frame up to and including the first slice: for each, `sc`
 * (where its start code begins: 00 00 01, or 00 00 00 01 — a zero right before 00 00 01
 * belongs to the start code, as RTP packetizers see it), `h` (index of its NAL header) and
 * `type`. A start code without a whole NAL header after it ends the list. A frame with
 * anything but zero bytes (Annex B leading_zero_8bits) before its first start code has none:
 * it is no Annex B frame, and a packetizer would not send those bytes.
 * @param {NalSyntax} syn
 * @param {Uint8Array} data
 */
function nalUnits(syn, data) {
  /** @type {{ sc: number, h: number, type: number }[]} */
  const units = [];
  let from = 0;
  let sc = findStartCode(data, 0);
  for (let i = 0; i < sc; i++) if (data[i] !== 0) return { units, slice: false };
  while (sc >= 0 && sc + 2 + syn.headerLen < data.length) {
    const h = sc + 3;
    const type = syn.type(data[h]);
    units.push({ sc: sc > from && data[sc - 1] === 0 ? sc - 1 : sc, h, type });
    if (syn.isSlice(type)) return { units, slice: true };
    from = h + syn.headerLen;
    sc = findStartCode(data, from);
  }
  return { units, slice: false };
}

/**
 * H.264 / H.265 (Annex B): the clear span ends H26x_SLICE_CLEAR_BYTES after the NAL header
 * of the first slice; without a slice, right after the last NAL header; without any start
 * code, nothing is clear. Everything after it (the rest of that slice and any later NAL
 * units) is encrypted. May exceed data.length (a slice shorter than its clear bytes).
 * @param {NalSyntax} syn
 * @param {Uint8Array} data
 */
function nalClearLength(syn, data) {
  const { units, slice } = nalUnits(syn, data);
  if (units.length === 0) return 0;
  const last = units[units.length - 1];
  return last.h + syn.headerLen + (slice ? syn.sliceClear : 0);
}

/**
 * H.264 (Annex B): the clear span ends 4 bytes after the NAL header of the first slice (NAL
 * types 1..5); without a slice, right after the last NAL header; without any start code,
 * nothing is clear. Everything after it (the rest of that slice and any later NAL units) is
 * encrypted. May exceed data.length (a slice with fewer than 4 bytes).
 * @param {Uint8Array} data
 */
export function h264ClearLength(data) {
  return nalClearLength(H264, data);
}

// ---- AV1 ----------------------------------------------------------------------------------
// The AV1 RTP packetizer (libwebrtc rtp_packetizer_av1.cc, also in Firefox) parses the frame
// as OBUs — a frame that does not parse is not sent at all — drops temporal delimiters, tile
// lists and padding, and sends each OBU without its size field; the depacketizer
// (video_rtp_depacketizer_av1.cc) writes every OBU back with obu_has_size_field set and a
// minimal LEB128 size. The aggregation header's N bit (new coded video sequence: key frame
// whose first OBU is a sequence header) is what receivers without the dependency descriptor,
// and Janus, take as "key frame". So the protected frame is an OBU sequence that survives
// that trip unchanged:
//
//   protected = seq ‖ carrier header ‖ leb128(n) ‖ SFrame part (n bytes)
//   seq       = every sequence header OBU of the frame, whole, in order, each with
//               obu_has_size_field set and a minimal LEB128 size (as the depacketizer writes)
//   carrier   = the header (+ extension: temporal / spatial ID) of the frame's first OBU that
//               is not a sequence header, temporal delimiter, tile list or padding, with
//               obu_has_size_field set (OBU_FRAME, 0x32, when the frame has none)
//   metadata  = seq ‖ carrier header (the carrier's size is not: it is the protected frame's
//               length, and the sender learns it only from protect's output)
//   plaintext = the whole frame as the encoder produced it
//
// The sequence header travels twice on key frames (clear, and inside the ciphertext) so the
// receiver's output is byte-identical to the encoder's, temporal delimiters included. Beyond
// SFrame's own header and tag a frame grows by the carrier's header (1–2 bytes) and size
// (1–3 bytes below 2 MiB), key frames by the sequence header too (12–15 bytes in the
// test fixtures).

/** OBU types (AV1 §6.2.2). */
const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;
const OBU_FRAME = 6;
const OBU_TILE_LIST = 8;
const OBU_PADDING = 15;
const OBU_HAS_SIZE = 0x02;
const OBU_HAS_EXTENSION = 0x04;
/** OBU types that never carry the SFrame part (the packetizer drops the last three). */
const AV1_NOT_CARRIER = new Set([OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER, OBU_TILE_LIST, OBU_PADDING]);
/** AV1 §4.10.5: leb128() reads at most 8 bytes. */
const AV1_LEB128_MAX_BYTES = 8;

/**
 * The OBUs of `data` (AV1 §5.3 low-overhead bitstream format): for each, `start`, `type`,
 * `headerLen` (1, or 2 with the extension), `sizeAt` (where the size field is or would be),
 * `payloadAt` and `end`. An OBU without obu_has_size_field runs to the end of the data. Null
 * when the bytes are no OBU sequence (a size beyond the data, a truncated header or size).
 * @param {Uint8Array} data
 */
function parseObus(data) {
  const obus = [];
  let pos = 0;
  while (pos < data.length) {
    const start = pos;
    const header = data[pos];
    const headerLen = header & OBU_HAS_EXTENSION ? 2 : 1;
    const sizeAt = start + headerLen;
    if (sizeAt > data.length) return null;
    let payloadAt = sizeAt;
    let end = data.length;
    if (header & OBU_HAS_SIZE) {
      const r = readAv1Leb128(data, sizeAt);
      if (!r || r[0] > data.length - r[1]) return null;
      payloadAt = r[1];
      end = payloadAt + r[0];
    }
    obus.push({ start, type: (header >> 3) & 0x0f, headerLen, sizeAt, payloadAt, end });
    pos = end;
  }
  return obus;
}

/**
 * Reads an AV1 leb128 (at most 8 bytes) at `pos`: [value, next position], or null.
 * @param {Uint8Array} bytes
 * @param {number} pos
 * @returns {[number, number] | null}
 */
function readAv1Leb128(bytes, pos) {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < AV1_LEB128_MAX_BYTES; i++) {
    if (pos >= bytes.length) return null;
    const b = bytes[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  return null;
}

/**
 * AV1 sender layout: the clear part (sequence headers, carrier header) for `frame`.
 * @param {Uint8Array} frame
 */
function av1Clear(frame) {
  const obus = parseObus(frame) ?? [];
  const parts = [];
  for (const o of obus) {
    if (o.type !== OBU_SEQUENCE_HEADER) continue;
    parts.push(Uint8Array.of(frame[o.start] | OBU_HAS_SIZE));
    if (o.headerLen === 2) parts.push(frame.subarray(o.start + 1, o.start + 2));
    parts.push(leb128(o.end - o.payloadAt), frame.subarray(o.payloadAt, o.end));
  }
  const first = obus.find((o) => !AV1_NOT_CARRIER.has(o.type));
  if (first) {
    parts.push(Uint8Array.of(frame[first.start] | OBU_HAS_SIZE));
    if (first.headerLen === 2) parts.push(frame.subarray(first.start + 1, first.start + 2));
  } else {
    parts.push(Uint8Array.of((OBU_FRAME << 3) | OBU_HAS_SIZE));
  }
  return concat(parts);
}

/**
 * AV1 receiver split: sequence header OBUs, then the carrier OBU, whose size must reach
 * exactly the end of the frame. Anything else is no protected AV1 frame.
 * @param {Uint8Array} data
 */
function av1Split(data) {
  const bad = (/** @type {string} */ why) => new CodecLayoutError('malformed_frame', `protected AV1 frame: ${why}`);
  let pos = 0;
  while (pos < data.length) {
    const header = data[pos];
    const headerLen = header & OBU_HAS_EXTENSION ? 2 : 1;
    if ((header & OBU_HAS_SIZE) === 0) throw bad('an OBU without a size field');
    const r = readAv1Leb128(data, pos + headerLen);
    if (!r || r[0] > data.length - r[1]) throw bad('an OBU size beyond the frame');
    const type = (header >> 3) & 0x0f;
    if (type !== OBU_SEQUENCE_HEADER) {
      if (AV1_NOT_CARRIER.has(type)) throw bad(`an OBU of type ${type}`);
      if (r[1] + r[0] !== data.length) throw bad('data after the SFrame OBU');
      return { clear: data.subarray(0, pos + headerLen), sframe: data.subarray(r[1]) };
    }
    pos = r[1] + r[0];
  }
  throw bad('no OBU carries an SFrame');
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
  const syn = nalSyntax(codec);
  if (syn) return nalSenderLayout(syn, frame);
  if (codec === 'av1') return { clear: av1Clear(frame), plaintext: frame };
  const c = clearPrefixLength(codec, frame);
  if (c > frame.length) {
    throw new CodecLayoutError(
      'frame_too_short',
      `${codec} frame of ${frame.length} bytes is shorter than its ${c} clear bytes`,
    );
  }
  return { clear: frame.subarray(0, c), plaintext: frame.subarray(c) };
}

/**
 * @param {NalSyntax} syn
 * @param {Uint8Array} input
 */
function nalSenderLayout(syn, input) {
  const { units, slice } = nalUnits(syn, input);
  if (units.length === 0) return { clear: input.subarray(0, 0), plaintext: input };
  const hl = syn.headerLen;
  const last = units[units.length - 1];
  const end = last.h + hl + (slice ? syn.sliceClear : 0);
  // A first slice shorter than its clear bytes: zero bytes after it (Annex B
  // trailing_zero_8bits, which decoders ignore and which never form 00 00 01) make the clear
  // bytes exist and keep the next NAL unit's start code out of them (the RTP packetizer
  // would split the clear part there).
  let frame = input;
  if (slice) {
    const next = findStartCode(input, last.h + hl);
    const sliceEnd = next < 0 ? input.length : next > last.h + hl && input[next - 1] === 0 ? next - 1 : next;
    if (end > sliceEnd) {
      frame = new Uint8Array(input.length + end - sliceEnd);
      frame.set(input.subarray(0, sliceEnd));
      frame.set(input.subarray(sliceEnd), end);
    }
  }
  // Every start code in the clear part is written as 00 00 00 01 and leading zero bytes are
  // left out: libwebrtc's packetizers send NAL units without start codes and its
  // depacketizers write each back as 00 00 00 01, so that is what the receiver sees (a
  // 3-byte start code kept as is failed authentication there: measured in Chromium 156).
  const clear = [START_CODE, frame.subarray(units[0].h, units[0].h + hl)];
  const moved = [];
  for (let i = 0; i + 1 < units.length; i++) {
    const u = units[i];
    const next = units[i + 1];
    const payload = frame.subarray(u.h + hl, next.sc);
    if (syn.keepsPayload(u.type)) {
      clear.push(payload);
    } else {
      clear.push(MOVED_PLACEHOLDER);
      moved.push(leb128(payload.length), payload);
    }
    clear.push(START_CODE, frame.subarray(next.h, next.h + hl));
  }
  clear.push(frame.subarray(last.h + hl, end));
  return { clear: concat(clear), plaintext: concat([...moved, frame.subarray(end)]) };
}

/**
 * Receiver side of the layout: splits a protected frame into its clear part and its SFrame
 * part (start-code escapes removed for H.264 / H.265). Throws CodecLayoutError
 * "malformed_frame" when the frame is shorter than the clear part its first bytes call for
 * (AV1: when it is not the OBU sequence protectFrame makes).
 * @param {Codec} codec
 * @param {Uint8Array} data
 * @returns {{ clear: Uint8Array, sframe: Uint8Array }}
 */
export function splitProtected(codec, data) {
  if (codec === 'av1') return av1Split(data);
  const c = clearPrefixLength(codec, data);
  if (c > data.length) {
    throw new CodecLayoutError(
      'malformed_frame',
      `protected ${codec} frame of ${data.length} bytes is shorter than its ${c} clear bytes`,
    );
  }
  const clear = data.subarray(0, c);
  const rest = data.subarray(c);
  return { clear, sframe: nalSyntax(codec) ? unescapeStartCodes(rest, trailingZeros(clear)) : rest };
}

/**
 * Receiver side: the original frame from the clear part and the decrypted plaintext (for
 * H.264 / H.265, moved NAL payloads go back in place; for AV1 the plaintext is the frame).
 * Throws CodecLayoutError "malformed_frame" if the plaintext does not carry the moved
 * payloads the clear part announces. Without clear bytes (and for AV1) the result is
 * `plaintext` itself (no copy), else a new buffer.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {Uint8Array} plaintext
 */
export function restoreFrame(codec, clear, plaintext) {
  if (codec === 'av1') return plaintext;
  const syn = nalSyntax(codec);
  if (!syn) return join2(clear, plaintext);
  const { units } = nalUnits(syn, clear);
  if (units.length === 0) return join2(clear, plaintext);
  const hl = syn.headerLen;
  const bad = (/** @type {string} */ why) => new CodecLayoutError('malformed_frame', `${syn.name} layout: ${why}`);
  const out = [clear.subarray(0, units[0].h + hl)];
  let pos = 0;
  for (let i = 0; i + 1 < units.length; i++) {
    const u = units[i];
    const next = units[i + 1];
    if (syn.keepsPayload(u.type)) {
      out.push(clear.subarray(u.h + hl, next.sc));
    } else {
      if (next.sc !== u.h + hl + 1 || clear[u.h + hl] !== MOVED_PLACEHOLDER[0]) {
        throw bad('a moved NAL unit has more than its placeholder in clear');
      }
      const r = readLeb128(plaintext, pos);
      if (!r || r[1] + r[0] > plaintext.length) throw bad('moved NAL payload missing');
      out.push(plaintext.subarray(r[1], r[1] + r[0]));
      pos = r[1] + r[0];
    }
    out.push(clear.subarray(next.sc, next.h + hl));
  }
  const last = units[units.length - 1];
  out.push(clear.subarray(last.h + hl), plaintext.subarray(pos));
  return concat(out);
}

/**
 * Protects an encoded frame with its codec's layout:
 *   clear ‖ SFrame part (escaped for H.264 / H.265; for AV1 clear ‖ leb128(n) ‖ SFrame part),
 *   with `protect(plaintext, metadata)` e.g. `(p, m) => sender.protect(p, m)`. Throws
 *   CodecLayoutError "frame_too_short" (nothing is protected, no counter is used) or
 *   whatever `protect` throws. Without clear bytes the result is what `protect` returned (no
 *   copy), else a new buffer.
 * @param {Codec} codec
 * @param {Uint8Array} frame
 * @param {(plaintext: Uint8Array, metadata: Uint8Array) => Uint8Array} protect
 */
export function protectFrame(codec, frame, protect) {
  const { clear, plaintext } = senderLayout(codec, frame);
  let sframe = protect(plaintext, clear);
  if (codec === 'av1') return concat([clear, leb128(sframe.length), sframe]);
  if (nalSyntax(codec)) sframe = escapeStartCodes(sframe, trailingZeros(clear));
  return join2(clear, sframe);
}

/**
 * From this size on prependTo grows the body with `transfer`; below it a new buffer + copy is
 * cheaper in the pipeline (detaching a buffer has a fixed cost: Chromium 156, bench/README.md).
 */
const TRANSFER_MIN_BYTES = 4 * 1024;

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
  if (transfer && n >= TRANSFER_MIN_BYTES) {
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
 * clear ‖ header ‖ ciphertext-and-tag, escaped after the clear part for H.264 / H.265, with
 * the carrier OBU's size after the clear part for AV1. `sealed` is
 * WebCrypto's output buffer (ciphertext ‖ tag), taken over (detached) by prependTo: the clear
 * part and header must precede it, and WebCrypto cannot write after an offset.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {Uint8Array} header
 * @param {ArrayBuffer} sealed ciphertext ‖ tag
 */
export function joinProtected(codec, clear, header, sealed) {
  if (nalSyntax(codec)) {
    const sframe = prependTo(header, clear.subarray(0, 0), sealed);
    return join2(clear, escapeStartCodes(sframe, trailingZeros(clear)));
  }
  if (codec === 'av1') return prependTo(join2(clear, leb128(header.length + sealed.byteLength)), header, sealed);
  return prependTo(clear, header, sealed);
}

/**
 * Receiver, WebCrypto path: the original frame from the clear part and WebCrypto's output
 * buffer (plaintext, taken over as by prependTo) — restoreFrame without the extra copy.
 * @param {Codec} codec
 * @param {Uint8Array} clear
 * @param {ArrayBuffer} plaintext
 * @param {Uint8Array | null} [frame] the protected frame (all of its ArrayBuffer), when that
 *   buffer is the engine's to reuse (an encoded frame's data, replaced by the result): it is
 *   detached and its memory holds the result; null: a new buffer
 */
export function restoreFrameFrom(codec, clear, plaintext, frame = null) {
  if (codec === 'av1') return new Uint8Array(plaintext);
  if (nalSyntax(codec)) return restoreFrame(codec, clear, new Uint8Array(plaintext));
  if (frame !== null && transfer && clear.length > 0 && frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength) {
    // The protected frame's own buffer (already in memory the engine touched) takes the
    // plaintext after its clear bytes, then is cut to clear ‖ plaintext: one copy into warm
    // memory instead of a new buffer (bench/README.md: 2.7 against 9.7 µs at 10 KiB, 16.5
    // against 47.5 µs at 100 KiB). The clear bytes are already there, where they were.
    const n = clear.length + plaintext.byteLength;
    if (n <= frame.length && clear.buffer === frame.buffer && clear.byteOffset === 0) {
      frame.set(new Uint8Array(plaintext), clear.length);
      return new Uint8Array(transfer.call(/** @type {ArrayBuffer} */ (frame.buffer), n));
    }
  }
  return prependTo(clear, clear.subarray(0, 0), plaintext);
}

/**
 * Inverse of protectFrame with `unprotect(sframe, metadata)`, e.g.
 * `(s, m) => receiver.unprotect(s, m)`: the frame as the sender's encoder produced it (an
 * H.264 / H.265 frame whose first slice had fewer than 4 bytes comes back zero-padded).
 * @param {Codec} codec
 * @param {Uint8Array} data
 * @param {(sframe: Uint8Array, metadata: Uint8Array) => Uint8Array} unprotect
 */
export function unprotectFrame(codec, data, unprotect) {
  const { clear, sframe } = splitProtected(codec, data);
  return restoreFrame(codec, clear, unprotect(sframe, clear));
}
