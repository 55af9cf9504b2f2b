//! The RTP fixed header (RFC 3550 §5.1), an RTCP BYE (§6.6) to end the session, and RFC 4571
//! framing (a 2-byte length before each packet) for handing RTP to GStreamer over a pipe.

/// The RTP header fields the example uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

impl Header {
    /// Appends the 12-byte header (no CSRC, no extension) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
    }

    /// A whole packet: header then payload.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(12 + payload.len());
        self.write(&mut p);
        p.extend_from_slice(payload);
        p
    }

    /// Parses an RTP packet: the header and the payload (after CSRCs and the header
    /// extension, without padding).
    pub fn parse(packet: &[u8]) -> Result<(Header, &[u8]), &'static str> {
        let b = |i: usize| packet.get(i).copied().ok_or("truncated RTP header");
        let be32 = |i: usize| -> Result<u32, &'static str> {
            Ok(u32::from_be_bytes(
                packet
                    .get(i..i + 4)
                    .and_then(|s| s.try_into().ok())
                    .ok_or("truncated RTP header")?,
            ))
        };
        let b0 = b(0)?;
        if b0 >> 6 != 2 {
            return Err("not RTP version 2");
        }
        let b1 = b(1)?;
        if (200..=204).contains(&b1) {
            return Err("RTCP, not RTP");
        }
        let header = Header {
            marker: b1 & 0x80 != 0,
            payload_type: b1 & 0x7f,
            sequence: u16::from_be_bytes([b(2)?, b(3)?]),
            timestamp: be32(4)?,
            ssrc: be32(8)?,
        };
        let mut start = 12 + 4 * usize::from(b0 & 0x0f);
        if b0 & 0x10 != 0 {
            let words = u16::from_be_bytes([b(start + 2)?, b(start + 3)?]);
            start += 4 + 4 * usize::from(words);
        }
        let mut end = packet.len();
        if b0 & 0x20 != 0 {
            let pad = usize::from(*packet.last().ok_or("truncated RTP packet")?);
            end = end.checked_sub(pad).ok_or("bad RTP padding")?;
        }
        let payload = packet.get(start..end).ok_or("truncated RTP packet")?;
        Ok((header, payload))
    }
}

/// An RTCP BYE from `ssrc` (RFC 3550 §6.6): the sender's "end of stream".
pub fn rtcp_bye(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x81, 203, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

/// Whether `packet` is an RTCP BYE (PT 203), alone or first in a compound packet.
pub fn is_rtcp_bye(packet: &[u8]) -> bool {
    packet.len() >= 8 && packet.first().is_some_and(|b| b >> 6 == 2) && packet.get(1) == Some(&203)
}

/// RFC 4571 framing: the packet's length (u16 BE), then the packet.
pub fn frame_4571(packet: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    out.extend_from_slice(packet);
}

/// Extends 16-bit sequence numbers to 64 bits (the nearest value to the last one seen), so
/// wrap-around from 65535 to 0 keeps ordering.
#[derive(Default)]
pub struct SeqUnwrapper {
    last: Option<u64>,
}

impl SeqUnwrapper {
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        let Some(last) = self.last else {
            let v = (1u64 << 16) + u64::from(seq);
            self.last = Some(v);
            return v;
        };
        let delta = seq.wrapping_sub(last as u16) as i16;
        let v = last.wrapping_add_signed(i64::from(delta));
        if v > last {
            self.last = Some(v);
        }
        v
    }
}
