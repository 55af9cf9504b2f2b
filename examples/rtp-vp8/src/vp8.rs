//! A minimal RFC 7741 VP8 RTP payload format: the 1-byte payload descriptor (X=0, N=0,
//! S on the first packet of a frame, PID=0) on the way out; the whole descriptor (X, I with
//! 7/15-bit picture IDs, L, T/K) parsed on the way in, so GStreamer's `rtpvp8pay` output is
//! understood too. The marker bit ends a frame (§4.1).

use std::collections::BTreeMap;

/// Splits `frame` into RTP payloads of at most `max_payload` bytes, descriptor included.
pub fn packetize(frame: &[u8], max_payload: usize) -> Vec<Vec<u8>> {
    let chunk = max_payload.saturating_sub(1).max(1);
    let mut out: Vec<Vec<u8>> = frame
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| {
            let mut p = Vec::with_capacity(1 + c.len());
            p.push(if i == 0 { 0x10 } else { 0x00 });
            p.extend_from_slice(c);
            p
        })
        .collect();
    if out.is_empty() {
        out.push(vec![0x10]);
    }
    out
}

/// Parses the payload descriptor: (S bit set with partition index 0, the VP8 bytes).
pub fn parse_payload(payload: &[u8]) -> Result<(bool, &[u8]), &'static str> {
    let b0 = *payload.first().ok_or("empty VP8 payload")?;
    let start = b0 & 0x10 != 0 && b0 & 0x07 == 0;
    let mut at = 1;
    if b0 & 0x80 != 0 {
        let x = *payload.get(at).ok_or("truncated VP8 descriptor")?;
        at += 1;
        if x & 0x80 != 0 {
            let pid = *payload.get(at).ok_or("truncated VP8 descriptor")?;
            at += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1;
        }
        if x & 0x30 != 0 {
            at += 1;
        }
    }
    let data = payload.get(at..).ok_or("truncated VP8 descriptor")?;
    if data.is_empty() {
        return Err("VP8 payload without data");
    }
    Ok((start, data))
}

struct Part {
    start: bool,
    marker: bool,
    data: Vec<u8>,
}

/// Reassembles frames from VP8 RTP payloads that may arrive lost, late, reordered or twice:
/// a frame is complete when its packets (one RTP timestamp) run without a gap in sequence
/// number from a start packet to a marker packet. Incomplete frames are dropped once the
/// stream is `horizon` timestamp ticks past them.
pub struct Depacketizer {
    pending: BTreeMap<u32, BTreeMap<u64, Part>>,
    horizon: u32,
    newest: Option<u32>,
    /// Frames given up on with packets missing.
    pub evicted: u64,
    /// Payloads whose descriptor did not parse.
    pub malformed: u64,
}

impl Depacketizer {
    pub fn new(horizon: u32) -> Self {
        Depacketizer {
            pending: BTreeMap::new(),
            horizon,
            newest: None,
            evicted: 0,
            malformed: 0,
        }
    }

    /// Adds one payload (`seq` unwrapped to 64 bits); returns `(timestamp, frame)` when it
    /// completes one.
    pub fn push(
        &mut self,
        seq: u64,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Option<(u32, Vec<u8>)> {
        let (start, data) = match parse_payload(payload) {
            Ok(x) => x,
            Err(_) => {
                self.malformed += 1;
                return None;
            }
        };
        if self
            .newest
            .is_none_or(|n| timestamp.wrapping_sub(n) as i32 > 0)
        {
            self.newest = Some(timestamp);
        }
        self.evict();
        let parts = self.pending.entry(timestamp).or_default();
        parts.entry(seq).or_insert(Part {
            start,
            marker,
            data: data.to_vec(),
        });
        let first = parts.first_key_value()?;
        let last = parts.last_key_value()?;
        let complete = first.1.start && last.1.marker && last.0 - first.0 + 1 == parts.len() as u64;
        if !complete {
            return None;
        }
        let parts = self.pending.remove(&timestamp)?;
        let frame = parts.into_values().flat_map(|p| p.data).collect();
        Some((timestamp, frame))
    }

    fn evict(&mut self) {
        let Some(newest) = self.newest else { return };
        let horizon = self.horizon;
        let before = self.pending.len();
        self.pending
            .retain(|&ts, _| (newest.wrapping_sub(ts) as i32) <= horizon as i32);
        self.evicted += (before - self.pending.len()) as u64;
    }

    /// Frames still waiting for packets (given up on at the end of the stream).
    pub fn finish(&mut self) {
        self.evicted += self.pending.len() as u64;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_any_order() {
        let frame: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let payloads = packetize(&frame, 1000);
        assert_eq!(payloads.len(), 4);
        let mut d = Depacketizer::new(9000);
        let order = [2usize, 0, 3, 1];
        let mut got = None;
        for (n, &i) in order.iter().enumerate() {
            let r = d.push(100 + i as u64, 3000, i == 3, &payloads[i]);
            assert_eq!(r.is_some(), n == 3);
            got = got.or(r);
        }
        assert_eq!(got, Some((3000, frame)));
    }

    #[test]
    fn a_missing_packet_means_no_frame() {
        let frame = vec![7u8; 2500];
        let payloads = packetize(&frame, 1000);
        let mut d = Depacketizer::new(3000);
        assert!(d.push(1, 0, false, &payloads[0]).is_none());
        assert!(d.push(3, 0, true, &payloads[2]).is_none());
        // A later frame pushes the incomplete one out.
        let one = packetize(&[1, 2, 3], 1000);
        assert!(d.push(4, 9000, true, &one[0]).is_some());
        assert_eq!(d.evicted, 1);
    }

    #[test]
    fn parses_extended_descriptors() {
        // X=1, S=1; I=1 with a 15-bit picture ID; L=1; T=1.
        let p = [0x90, 0xe0, 0x81, 0x23, 0x05, 0x20, 0xaa, 0xbb];
        assert_eq!(parse_payload(&p), Ok((true, &[0xaa, 0xbb][..])));
    }
}
