// Janus recordings (.mjr) → RTP packets → codec frames, to check what the SFU stored.
//
// MJR (Janus record.c, "MJR00002"): the 8-byte magic, a 2-byte big-endian length and a JSON
// header ({"t": "a"|"v"|"d", "c": codec, "s": created, "u": first-packet time, ...}), then per
// packet "MEET", a 4-byte big-endian timestamp (ms since the recording started), a 2-byte
// big-endian length and the RTP packet as Janus received it (after SRTP decryption: Janus
// sees RTP headers and payloads — with SFrame, payloads are ciphertext).
import { readFileSync } from 'node:fs';

export function parseMjr(buf) {
  const magic = buf.subarray(0, 8).toString('latin1');
  if (magic !== 'MJR00002') throw new Error(`not an MJR00002 file (${JSON.stringify(magic)})`);
  const hlen = buf.readUInt16BE(8);
  const header = JSON.parse(buf.subarray(10, 10 + hlen).toString('utf8'));
  const packets = [];
  let off = 10 + hlen;
  while (off + 10 <= buf.length) {
    if (buf.subarray(off, off + 4).toString('latin1') !== 'MEET') throw new Error(`bad packet marker at ${off}`);
    const ms = buf.readUInt32BE(off + 4);
    const len = buf.readUInt16BE(off + 8);
    if (off + 10 + len > buf.length) break; // cut short while Janus was writing
    packets.push({ ms, data: buf.subarray(off + 10, off + 10 + len) });
    off += 10 + len;
  }
  return { header, packets };
}

/** RTP fixed header, CSRCs, header extension and padding removed (RFC 3550 §5.1). */
export function parseRtp(p) {
  if (p.length < 12 || p[0] >> 6 !== 2) return null;
  const cc = p[0] & 0x0f;
  const hasExt = (p[0] & 0x10) !== 0;
  const hasPad = (p[0] & 0x20) !== 0;
  let off = 12 + 4 * cc;
  if (hasExt) {
    if (off + 4 > p.length) return null;
    off += 4 + 4 * p.readUInt16BE(off + 2);
  }
  let end = p.length;
  if (hasPad) end -= p[p.length - 1];
  if (off > end) return null;
  return {
    marker: (p[1] & 0x80) !== 0,
    pt: p[1] & 0x7f,
    seq: p.readUInt16BE(2),
    ts: p.readUInt32BE(4),
    ssrc: p.readUInt32BE(8),
    payload: p.subarray(off, end),
  };
}

/** VP8 payload descriptor (RFC 7741 §4.2): { start, payload } or null. */
export function vp8Payload(b) {
  if (b.length < 1) return null;
  let off = 1;
  const x = (b[0] & 0x80) !== 0;
  const start = (b[0] & 0x10) !== 0 && (b[0] & 0x07) === 0;
  if (x) {
    if (b.length < 2) return null;
    const ext = b[1];
    off = 2;
    if (ext & 0x80) off += b[off] & 0x80 ? 2 : 1; // I: PictureID, 7 or 15 bits
    if (ext & 0x40) off += 1; // L: TL0PICIDX
    if (ext & 0x30) off += 1; // T/K: TID, Y, KEYIDX
  }
  if (off > b.length) return null;
  return { start, payload: b.subarray(off) };
}

/**
 * Frames of a recording: RTP packets grouped by timestamp, in sequence order (duplicates —
 * retransmissions — dropped). `complete`: first packet starts the frame (VP8 S bit), the
 * sequence numbers are contiguous and the last one has the marker bit (video); for audio
 * every packet is one frame.
 */
export function framesOf({ header, packets }) {
  const video = header.t === 'v';
  const bySsrcTs = new Map();
  let ext = null; // extended sequence numbers across wrap-around
  const seen = new Set();
  for (const { data } of packets) {
    const r = parseRtp(data);
    if (!r) continue;
    if (ext === null) ext = r.seq;
    else {
      const last = ext & 0xffff;
      let d = r.seq - last;
      if (d < -32768) d += 65536;
      if (d > 32768) d -= 65536;
      r.ext = ext + d;
      if (r.ext > ext) ext = r.ext;
    }
    r.ext ??= r.seq;
    const id = `${r.ssrc}/${r.ext}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const key = `${r.ssrc}/${r.ts}`;
    let f = bySsrcTs.get(key);
    if (!f) {
      f = { ts: r.ts, ssrc: r.ssrc, packets: [] };
      bySsrcTs.set(key, f);
    }
    f.packets.push(r);
  }
  const frames = [];
  for (const f of bySsrcTs.values()) {
    f.packets.sort((a, b) => a.ext - b.ext);
    if (!video) {
      for (const p of f.packets) frames.push({ ts: f.ts, seq: p.ext, complete: true, data: Buffer.from(p.payload) });
      continue;
    }
    const parts = [];
    let ok = true;
    let first = null;
    for (const [i, p] of f.packets.entries()) {
      const d = vp8Payload(p.payload);
      if (!d) {
        ok = false;
        continue;
      }
      if (i === 0) first = d;
      if (i > 0 && p.ext !== f.packets[i - 1].ext + 1) ok = false;
      parts.push(d.payload);
    }
    const last = f.packets[f.packets.length - 1];
    const complete = ok && first?.start === true && last.marker;
    frames.push({ ts: f.ts, seq: f.packets[0].ext, complete, starts: first?.start === true, data: Buffer.concat(parts) });
  }
  frames.sort((a, b) => a.seq - b.seq);
  return frames;
}

/** Every recording of a directory, with its participant (Janus feed id) and kind. */
export function readRecordings(files) {
  return files.map((path) => {
    const m = path.match(/-user-(\d+)-\d+-(audio|video)-\d+\.mjr$/);
    const rec = parseMjr(readFileSync(path));
    return { path, participant: m ? Number(m[1]) : null, kind: m?.[2] ?? null, ...rec, frames: framesOf(rec) };
  });
}
