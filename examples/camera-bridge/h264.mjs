// H.264 access units between Annex B (start codes: what encoders and .h264 files use) and
// AVCC (4-byte big-endian NAL unit lengths: what HomeKit carries in its SRTP video frames, and
// what the ISO BMFF sample format uses). ITU-T H.264 Annex B; ISO/IEC 14496-15 §5.3.

/** The NAL units of an Annex B access unit (3- or 4-byte start codes), as subarrays. */
export function splitAnnexB(au) {
  const starts = [];
  for (let i = 0; i + 2 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : au.length;
    // A 4-byte start code's leading zero (and trailing_zero_8bits) is not part of the NAL.
    while (end > s && au[end - 1] === 0) end--;
    return au.subarray(s, end);
  });
}

/** Annex B → AVCC with 4-byte lengths. */
export function annexBToAvcc(au) {
  const nals = splitAnnexB(au);
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const nal of nals) {
    view.setUint32(at, nal.length);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}

/** The NAL units of an AVCC access unit (4-byte lengths); throws on a length past the end. */
export function splitAvcc(avcc) {
  const nals = [];
  const view = new DataView(avcc.buffer, avcc.byteOffset, avcc.byteLength);
  for (let at = 0; at < avcc.length; ) {
    if (at + 4 > avcc.length) throw new Error('AVCC: truncated length');
    const n = view.getUint32(at);
    if (at + 4 + n > avcc.length) throw new Error('AVCC: NAL unit past the end');
    nals.push(avcc.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return nals;
}

/** AVCC → Annex B with 4-byte start codes. */
export function avccToAnnexB(avcc) {
  const nals = splitAvcc(avcc);
  const out = new Uint8Array(nals.reduce((n, nal) => n + 4 + nal.length, 0));
  let at = 0;
  for (const nal of nals) {
    out.set([0, 0, 0, 1], at);
    out.set(nal, at + 4);
    at += 4 + nal.length;
  }
  return out;
}

/** nal_unit_type of each NAL unit (5: IDR slice, 7: SPS, 8: PPS, 9: AUD). */
export const nalTypes = (nals) => nals.map((nal) => nal[0] & 0x1f);
