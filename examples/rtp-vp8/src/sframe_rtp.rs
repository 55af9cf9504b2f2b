//! The one place the example calls `sframe_core`: SFrame protection and the SFrame RTP
//! payload format of draft-ietf-avtcore-rtp-sframe-02 (`sframe_core::rtp`): descriptor
//! `S E T x x x x x`, fragmentation into RTP packets, reassembly of the smallest S..E run
//! consecutive in sequence number, decryption, and the per-SSRC key of the draft's §7.

use sframe_core::rtp::{self as srtp, Mode, RtpHeader};
use sframe_core::{CipherSuite, Error, Receiver, Sender};

use crate::rtp::SeqUnwrapper;

/// The T bit: what the SFrame ciphertext protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// T = 0, per-frame: a whole encoded media frame.
    Raw,
    /// T = 1, per-packet: one media RTP payload (here RFC 7741 VP8).
    Packetized,
}

impl Origin {
    fn mode(self) -> Mode {
        match self {
            Origin::Raw => Mode::PerFrame,
            Origin::Packetized => Mode::PerPacket,
        }
    }
}

/// The key of the stream `ssrc` (§7: HKDF from the session's base key and the SSRC), used as
/// the SFrame base key of `kid` by both sides.
fn stream_key(suite: CipherSuite, base_key: &[u8], ssrc: u32) -> Result<Vec<u8>, String> {
    let mut key = vec![0u8; 64];
    let n = srtp::ssrc_base_key(suite, base_key, ssrc, &mut key).map_err(|e| e.to_string())?;
    key.truncate(n);
    Ok(key)
}

/// Sending side: protects content and writes it as SFrame RTP packets.
pub struct Packetizer {
    sender: Sender,
    ssrc: u32,
    buf: Vec<u8>,
}

impl Packetizer {
    pub fn new(suite: CipherSuite, kid: u64, base_key: &[u8], ssrc: u32) -> Result<Self, String> {
        let mut sender = Sender::new(suite);
        sender
            .set_key(kid, &stream_key(suite, base_key, ssrc)?)
            .map_err(|e| e.to_string())?;
        Ok(Packetizer {
            sender,
            ssrc,
            buf: Vec::new(),
        })
    }

    /// The largest media payload that, protected per packet, fits one RTP payload of
    /// `max_payload` bytes (§5.1.2: the media packetizer is told the SFrame overhead).
    pub fn max_media_payload(&self, max_payload: usize) -> usize {
        srtp::max_media_payload_len(self.sender.suite(), max_payload)
    }

    /// Protects `content` and returns it as RTP packets of at most `max_payload` payload
    /// bytes (descriptor included) with `media`'s header fields, numbered from
    /// `media.sequence` on. `media.marker` is the media frame's or packet's marker: it goes
    /// on the last packet only.
    pub fn packetize(
        &mut self,
        origin: Origin,
        content: &[u8],
        max_payload: usize,
        media: &crate::rtp::Header,
    ) -> Result<Vec<Vec<u8>>, String> {
        self.buf
            .resize(self.sender.max_output_len(content.len()), 0);
        let fragments = srtp::protect_frame(
            &mut self.sender,
            b"",
            content,
            origin.mode(),
            max_payload,
            &mut self.buf,
        )
        .map_err(|e| e.to_string())?;
        let mut header = RtpHeader::new(
            media.payload_type,
            media.sequence,
            media.timestamp,
            self.ssrc,
        );
        header.marker = media.marker;
        let mut packets = Vec::new();
        for fragment in fragments {
            let mut packet = vec![0u8; srtp::RTP_FIXED_HEADER_LEN + fragment.payload_len()];
            let n = fragment
                .write_packet(&header, &mut packet)
                .map_err(|e| e.to_string())?;
            packet.truncate(n);
            packets.push(packet);
            header.sequence_number = header.sequence_number.wrapping_add(1);
        }
        Ok(packets)
    }
}

/// A decrypted SFrame frame.
pub struct Delivered {
    pub origin: Origin,
    pub timestamp: u32,
    /// Sequence number (extended to 64 bits) of its first RTP packet.
    pub first_seq: u64,
    pub marker: bool,
    pub data: Vec<u8>,
}

/// What the receiving side saw.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Frames decrypted and delivered.
    pub delivered: u64,
    /// Complete frames whose ciphertext did not authenticate (never delivered).
    pub auth_failed: u64,
    /// Complete frames the replay window refused.
    pub replayed: u64,
    /// Packets the depacketizer ignored: a sequence number stored or consumed already.
    pub duplicates: u64,
    /// Packets older than the depacketizer's sequence window.
    pub late: u64,
    /// Packets dropped from the reassembly buffer without forming a frame (fragments of
    /// frames that lost a packet).
    pub evicted: u64,
    /// Complete packet lists dropped (T or PT mixed), packets that did not parse, other
    /// SFrame errors.
    pub malformed: u64,
}

/// Packets in flight the receiver can hold: a few frames of a few packets, with room for
/// the fragments of lost frames until they are evicted.
const PACKETS: usize = 256;
/// Their payload bytes (also the largest frame the receiver takes).
const BYTES: usize = 256 * 1024;

/// Receiving side: reassembles and decrypts one SSRC.
pub struct Depacketizer {
    receiver: Receiver,
    depacketizer: Box<srtp::Depacketizer<PACKETS, BYTES>>,
    unwrapper: SeqUnwrapper,
    out: Vec<u8>,
    pub stats: Stats,
}

impl Depacketizer {
    pub fn new(suite: CipherSuite, kid: u64, base_key: &[u8], ssrc: u32) -> Result<Self, String> {
        let mut receiver = Receiver::new(suite);
        receiver
            .add_key(kid, &stream_key(suite, base_key, ssrc)?)
            .map_err(|e| e.to_string())?;
        Ok(Depacketizer {
            receiver,
            depacketizer: Box::new(srtp::Depacketizer::with_ssrc(ssrc)),
            unwrapper: SeqUnwrapper::default(),
            out: vec![0u8; BYTES],
            stats: Stats::default(),
        })
    }

    /// Takes one received RTP packet; returns the frames it completed, decrypted.
    pub fn push(&mut self, packet: &[u8]) -> Vec<Delivered> {
        let mut delivered = Vec::new();
        if self.depacketizer.push(packet).is_err() {
            self.stats.malformed += 1;
            return delivered;
        }
        while let Some(result) =
            self.depacketizer
                .pop_decrypted(&mut self.receiver, b"", &mut self.out)
        {
            match result {
                Ok(frame) => {
                    self.stats.delivered += 1;
                    delivered.push(Delivered {
                        origin: match frame.mode {
                            Mode::PerFrame => Origin::Raw,
                            Mode::PerPacket => Origin::Packetized,
                        },
                        timestamp: frame.timestamp,
                        first_seq: self.unwrapper.unwrap(frame.first_sequence),
                        marker: frame.marker,
                        data: self.out.get(..frame.len).unwrap_or_default().to_vec(),
                    });
                }
                Err(Error::AuthenticationFailed) => self.stats.auth_failed += 1,
                Err(Error::Replay) => self.stats.replayed += 1,
                Err(_) => self.stats.malformed += 1,
            }
        }
        self.update();
        delivered
    }

    /// Drops the fragments of frames older than `timestamp`: the receiver has given up on them.
    pub fn give_up_before(&mut self, timestamp: u32) {
        self.depacketizer.evict_before_timestamp(timestamp);
        self.update();
    }

    fn update(&mut self) {
        let s = self.depacketizer.stats();
        self.stats.duplicates = s.duplicates;
        self.stats.late = s.late;
        self.stats.evicted = s.evicted;
    }

    /// End of stream: whatever is still buffered never formed a frame.
    pub fn finish(&mut self) {
        self.update();
        self.stats.evicted += self.depacketizer.len() as u64;
        self.stats.malformed += self.depacketizer.stats().dropped_frames;
        self.depacketizer.reset();
    }
}
