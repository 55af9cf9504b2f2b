// Helpers of the codec layout tests: the encoded-frame fixtures (test/fixtures, README there),
// how a decoder reads an Annex B frame, an AV1 OBU parser, and models of what libwebrtc's RTP
// packetizers and depacketizers do to a frame between the sending and the receiving
// transform (so a test can check that a protected frame comes out of that trip unchanged).
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const read = (name) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

// ---- Fixtures, one Uint8Array per encoded frame ----------------------------------------------

/** An AV1 low-overhead OBU stream (AV1 §5.3) cut into temporal units (at temporal delimiters). */
function av1Frames(bytes) {
  const obus = parseObus(bytes);
  if (!obus) throw new Error('fixture is no OBU stream');
  const frames = [];
  for (const o of obus) {
    if (o.type === 2 || frames.length === 0) frames.push([]);
    frames[frames.length - 1].push(bytes.subarray(o.start, o.end));
  }
  return frames.map((parts) => Buffer.concat(parts)).map((b) => new Uint8Array(b));
}

/** The frames of an IVF file (32-byte file header, 12-byte frame headers). */
function ivfFrames(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = [];
  for (let pos = v.getUint16(6, true); pos + 12 <= bytes.length; ) {
    const size = v.getUint32(pos, true);
    frames.push(bytes.slice(pos + 12, pos + 12 + size));
    pos += 12 + size;
  }
  return frames;
}

/** Annex B access units, cut at each access unit delimiter's start code (00 00 00 01). */
function annexBFrames(bytes, isAud) {
  const cuts = [];
  for (let i = 0; i + 4 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 0 && bytes[i + 3] === 1 && isAud(bytes[i + 4])) cuts.push(i);
  }
  return cuts.map((c, k) => bytes.slice(c, cuts[k + 1] ?? bytes.length));
}

/** Fixture name → { codec, frames }. */
export function fixtures() {
  return {
    'AV1 libaom': { codec: 'av1', frames: av1Frames(read('av1-libaom.obu')) },
    'AV1 SVT-AV1': { codec: 'av1', frames: av1Frames(read('av1-svt.obu')) },
    'AV1 rav1e': { codec: 'av1', frames: av1Frames(read('av1-rav1e.obu')) },
    'VP9 libvpx': { codec: 'vp9', frames: ivfFrames(read('vp9.ivf')) },
    'H.264 x264': { codec: 'h264', frames: annexBFrames(read('h264.h264'), (b) => (b & 0x1f) === 9) },
    'H.265 x265': { codec: 'h265', frames: annexBFrames(read('h265.hevc'), (b) => ((b >> 1) & 0x3f) === 35) },
  };
}

// ---- Annex B as a decoder reads it -----------------------------------------------------------

/**
 * An Annex B frame as a decoder reads it: the NAL units (bytes between start codes, without
 * trailing zero bytes: a NAL unit never ends in 0x00, ITU-T H.264 §7.4.1 / H.265 §7.4.2, so
 * zeros there are trailing_zero_8bits or part of a 4-byte start code), and whatever precedes
 * the first start code unless it is only zeros (leading_zero_8bits). Two frames that differ
 * only in 3- vs 4-byte start codes, leading or trailing zeros read the same. (`headerLen`:
 * 1 for H.264, 2 for H.265.)
 */
export function annexB(bytes, headerLen = 1) {
  const starts = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push(i);
      i += 2 + headerLen;
    }
  }
  const hex = (b) => Buffer.from(b).toString('hex');
  if (starts.length === 0) return { lead: hex(bytes), nals: [] };
  const lead = bytes.subarray(0, starts[0]);
  const nals = starts.map((sc, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] : bytes.length;
    while (end > sc + 3 + headerLen && bytes[end - 1] === 0) end--;
    return hex(bytes.subarray(sc + 3, end));
  });
  return { lead: lead.every((b) => b === 0) ? '' : hex(lead), nals };
}

// ---- AV1 OBUs --------------------------------------------------------------------------------

/**
 * The OBUs of `bytes` (AV1 §5.3): { start, header, ext (or null), type, hasSize, sizeBytes
 * (the size field as written), payload, end }; null when they do not parse (a truncated
 * header or size, a size beyond the data). An OBU without a size field runs to the end.
 */
export function parseObus(bytes) {
  const out = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const header = bytes[pos++];
    let ext = null;
    if (header & 4) {
      if (pos >= bytes.length) return null;
      ext = bytes[pos++];
    }
    let size = bytes.length - pos;
    let sizeBytes = null;
    if (header & 2) {
      const at = pos;
      let value = 0;
      let done = false;
      for (let i = 0, scale = 1; i < 8 && pos < bytes.length; i++, scale *= 128) {
        const b = bytes[pos++];
        value += (b & 0x7f) * scale;
        if ((b & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done || value > bytes.length - pos) return null;
      size = value;
      sizeBytes = bytes.subarray(at, pos);
    }
    out.push({ start, header, ext, type: (header >> 3) & 15, hasSize: Boolean(header & 2), sizeBytes, payload: bytes.subarray(pos, pos + size), end: pos + size });
    pos += size;
  }
  return out;
}

/** Minimal unsigned LEB128. */
export function leb128(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

// ---- libwebrtc's RTP path, modelled --------------------------------------------------------

/**
 * What libwebrtc's AV1 RTP path makes of a frame. The packetizer
 * (modules/rtp_rtcp/source/rtp_packetizer_av1.cc, ParseObus) parses the frame as OBUs — null:
 * it sends nothing when they do not parse, or when no OBU is left — drops temporal
 * delimiters (2), tile lists (8) and padding (15), and sends each OBU without its size
 * field; the aggregation header's N bit is set on a key frame whose first OBU left is a
 * sequence header. The depacketizer (video_rtp_depacketizer_av1.cc, AssembleFrame) writes
 * every OBU back with obu_has_size_field set and a minimal LEB128 size.
 * @returns {{ frame: Uint8Array, firstIsSequenceHeader: boolean } | null}
 */
export function av1RtpPath(frame) {
  const obus = parseObus(frame);
  if (!obus) return null;
  const sent = obus.filter((o) => ![2, 8, 15].includes(o.type));
  if (sent.length === 0) return null;
  const out = [];
  for (const o of sent) {
    out.push(o.header | 2);
    if (o.ext !== null) out.push(o.ext);
    out.push(...leb128(o.payload.length), ...o.payload);
  }
  return { frame: Uint8Array.from(out), firstIsSequenceHeader: sent[0].type === 1 };
}

/**
 * What libwebrtc's H.264 / H.265 RTP path makes of an Annex B frame. The packetizers find NAL
 * units with H264::FindNaluIndices (common_video/h264/h264_common.cc: 00 00 01, a zero right
 * before it is part of a 4-byte start code, bytes before the first start code are not part of
 * any unit, and a start code in the last 3 bytes is not found) and send them without start
 * codes; the H.265 packetizer (rtp_packetizer_h265.cc) sends nothing — null — if a unit has
 * fewer than 2 bytes. The depacketizers (video_rtp_depacketizer_h265.cc; for H.264
 * H26xPacketBuffer::FixH264Packet) write every unit back after 00 00 00 01.
 * @returns {Uint8Array | null}
 */
export function h26xRtpPath(frame, headerLen) {
  const units = [];
  if (frame.length >= 3) {
    for (let i = 0; i < frame.length - 3; ) {
      if (frame[i + 2] > 1) {
        i += 3;
      } else if (frame[i + 2] === 1) {
        if (frame[i + 1] === 0 && frame[i] === 0) {
          let start = i;
          if (start > 0 && frame[start - 1] === 0) start--;
          if (units.length) units[units.length - 1].end = start;
          units.push({ payload: i + 3, end: frame.length });
        }
        i += 3;
      } else {
        i++;
      }
    }
  }
  if (units.length === 0) return null;
  if (headerLen === 2 && units.some((u) => u.end - u.payload < 2)) return null;
  const out = [];
  for (const u of units) out.push(0, 0, 0, 1, ...frame.subarray(u.payload, u.end));
  return Uint8Array.from(out);
}

/** Deterministic PRNG (32-bit LCG, high bits): failures are reproducible from the seed. */
export function prng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1103515245 + 12345) >>> 0) >>> 8;
}
