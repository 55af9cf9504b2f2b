//! The one place the example calls `sframe_core`: SFrame protection and the SFrame RTP
//! payload format of draft-ietf-avtcore-rtp-sframe-02 (descriptor `S E T x x x x x`,
//! fragmentation, reassembly of the smallest S..E run consecutive in sequence number).
//!
//! INTERIM: until `sframe_core::rtp` is published this file carries a stand-in for the
//! payload format over `Sender::protect` / `Receiver::unprotect_into`; the example's other
//! modules only see the types below, so switching to the core module touches this file only.

use std::collections::BTreeMap;

use sframe_core::{CipherSuite, Error, MAX_HEADER_LEN, Receiver, Sender};

use crate::rtp::{Header, SeqUnwrapper};

/// The T bit: what the SFrame ciphertext protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// T = 0, per-frame: a whole encoded media frame.
    Raw,
    /// T = 1, per-packet: one media RTP payload (here RFC 7741 VP8).
    Packetized,
}

const S: u8 = 0x80;
const E: u8 = 0x40;
const T: u8 = 0x20;

/// Sending side: protects content and fragments it into SFrame RTP payloads.
pub struct Packetizer {
    sender: Sender,
    buf: Vec<u8>,
}

impl Packetizer {
    pub fn new(suite: CipherSuite, kid: u64, base_key: &[u8], _ssrc: u32) -> Result<Self, String> {
        let mut sender = Sender::new(suite);
        sender.set_key(kid, base_key).map_err(|e| e.to_string())?;
        Ok(Packetizer {
            sender,
            buf: Vec::new(),
        })
    }

    /// The most bytes SFrame adds to one content: descriptor, header and tag. A per-packet
    /// media packetizer keeps its payloads this much under the RTP payload budget, so each
    /// fits one SFrame RTP packet.
    pub fn overhead(&self) -> usize {
        1 + MAX_HEADER_LEN + self.sender.suite().tag_len()
    }

    /// Protects `content` and splits the ciphertext into RTP payloads of at most
    /// `max_payload` bytes, each starting with the SFrame descriptor. The caller sets the
    /// RTP marker bit on the last one when the media frame has it.
    pub fn packetize(
        &mut self,
        origin: Origin,
        content: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, String> {
        self.buf.resize(content.len() + MAX_HEADER_LEN + 32, 0);
        let ct = self
            .sender
            .protect(b"", content, &mut self.buf)
            .map_err(|e| e.to_string())?;
        let chunk = max_payload
            .checked_sub(1)
            .filter(|c| *c > 0)
            .ok_or("MTU too small")?;
        let n = ct.len().div_ceil(chunk);
        let t = if origin == Origin::Packetized { T } else { 0 };
        Ok(ct
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| {
                let mut p = Vec::with_capacity(1 + c.len());
                p.push(if i == 0 { S } else { 0 } | if i + 1 == n { E } else { 0 } | t);
                p.extend_from_slice(c);
                p
            })
            .collect())
    }
}

/// A decrypted SFrame frame.
pub struct Delivered {
    pub origin: Origin,
    pub timestamp: u32,
    /// Sequence number (unwrapped) of its first RTP packet.
    pub first_seq: u64,
    pub marker: bool,
    pub data: Vec<u8>,
}

/// What the receiving side saw go wrong.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub delivered: u64,
    /// Complete runs whose ciphertext did not authenticate (never delivered).
    pub auth_failed: u64,
    /// Complete runs the replay window refused (a duplicated packet).
    pub replayed: u64,
    /// Other SFrame errors, bad descriptors, T/PT mixed in a run.
    pub malformed: u64,
    /// Packets dropped from the reassembly buffer without forming a frame (fragments of lost
    /// frames, late duplicates).
    pub evicted: u64,
}

struct Pkt {
    desc: u8,
    pt: u8,
    timestamp: u32,
    marker: bool,
    body: Vec<u8>,
}

/// Receiving side: reassembles and decrypts.
pub struct Depacketizer {
    receiver: Receiver,
    unwrapper: SeqUnwrapper,
    packets: BTreeMap<u64, Pkt>,
    window: u64,
    pub stats: Stats,
}

impl Depacketizer {
    pub fn new(suite: CipherSuite, kid: u64, base_key: &[u8], _ssrc: u32) -> Result<Self, String> {
        let mut receiver = Receiver::new(suite);
        receiver.add_key(kid, base_key).map_err(|e| e.to_string())?;
        Ok(Depacketizer {
            receiver,
            unwrapper: SeqUnwrapper::default(),
            packets: BTreeMap::new(),
            window: 256,
            stats: Stats::default(),
        })
    }

    /// Takes one received RTP packet; returns the frames it completed, decrypted.
    pub fn push(&mut self, header: &Header, payload: &[u8]) -> Vec<Delivered> {
        let Some((&desc, body)) = payload.split_first() else {
            self.stats.malformed += 1;
            return Vec::new();
        };
        let seq = self.unwrapper.unwrap(header.sequence);
        self.packets.entry(seq).or_insert(Pkt {
            desc,
            pt: header.payload_type,
            timestamp: header.timestamp,
            marker: header.marker,
            body: body.to_vec(),
        });
        let newest = self.packets.last_key_value().map_or(seq, |(k, _)| *k);
        let before = self.packets.len();
        self.packets.retain(|&k, _| k + self.window > newest);
        self.stats.evicted += (before - self.packets.len()) as u64;

        // Complete runs: consecutive sequence numbers from an S packet to an E packet (the
        // smallest: a later S restarts the run).
        let mut runs = Vec::new();
        let mut start: Option<u64> = None;
        let mut prev: Option<u64> = None;
        for (&k, p) in &self.packets {
            if prev.is_some_and(|q| q + 1 != k) {
                start = None;
            }
            if p.desc & S != 0 {
                start = Some(k);
            }
            if p.desc & E != 0
                && let Some(s) = start.take()
            {
                runs.push((s, k));
            }
            prev = Some(k);
        }
        let mut out = Vec::new();
        for (s, e) in runs {
            let run: Vec<Pkt> = (s..=e).filter_map(|k| self.packets.remove(&k)).collect();
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            if run
                .iter()
                .any(|p| (p.desc ^ first.desc) & T != 0 || p.pt != first.pt)
            {
                self.stats.malformed += 1;
                continue;
            }
            let (timestamp, marker, t) = (last.timestamp, last.marker, first.desc & T);
            let frame: Vec<u8> = run.iter().flat_map(|p| p.body.iter().copied()).collect();
            match self.unprotect(&frame) {
                Ok(data) => {
                    self.stats.delivered += 1;
                    out.push(Delivered {
                        origin: if t != 0 {
                            Origin::Packetized
                        } else {
                            Origin::Raw
                        },
                        timestamp,
                        first_seq: s,
                        marker,
                        data,
                    });
                }
                Err(Error::AuthenticationFailed) => self.stats.auth_failed += 1,
                Err(Error::Replay) => self.stats.replayed += 1,
                Err(_) => self.stats.malformed += 1,
            }
        }
        out
    }

    fn unprotect(&mut self, frame: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.receiver.max_plaintext_len(frame.len())];
        let n = self.receiver.unprotect_into(b"", frame, &mut out)?.len();
        out.truncate(n);
        Ok(out)
    }

    /// End of stream: whatever is still buffered never formed a frame.
    pub fn finish(&mut self) {
        self.stats.evicted += self.packets.len() as u64;
        self.packets.clear();
    }
}
