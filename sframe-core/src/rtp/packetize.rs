//! Packetization — draft-ietf-avtcore-rtp-sframe §5.1: a protected frame cut into RTP payloads
//! behind the payload descriptor (§5.1.1 per-frame, §5.1.2 per-packet), and the overhead the
//! media packetizer is told.

use super::descriptor::{DESCRIPTOR_LEN, Descriptor, Mode};
use super::packet::{Cursor, RtpHeader, write_packet};
use crate::crypto::Backend;
use crate::error::{Error, Result};
use crate::sender::Sender;
use crate::suite::CipherSuite;

/// SFrame bytes added to a media payload in per-packet mode (§5.1.2): the descriptor plus the
/// largest SFrame header and the suite's tag. A media packetizer whose payloads are at most
/// `max_payload_len - per_packet_overhead(suite)` bytes gives one SFrame packet per media
/// packet (see [`max_media_payload_len`]).
///
/// ```
/// use sframe_core::CipherSuite;
/// use sframe_core::rtp::per_packet_overhead;
/// assert_eq!(per_packet_overhead(CipherSuite::AesGcm128Sha256), 1 + 17 + 16);
/// ```
pub const fn per_packet_overhead(suite: CipherSuite) -> usize {
    DESCRIPTOR_LEN + suite.max_overhead()
}

/// The largest media payload that, protected per packet, fits one RTP payload of
/// `max_payload_len` bytes (0 if none fits). Tell the media packetizer this size (§5.1.2).
///
/// ```
/// use sframe_core::CipherSuite;
/// use sframe_core::rtp::max_media_payload_len;
/// assert_eq!(max_media_payload_len(CipherSuite::AesGcm128Sha256, 1200), 1200 - 34);
/// assert_eq!(max_media_payload_len(CipherSuite::AesGcm128Sha256, 20), 0);
/// ```
pub const fn max_media_payload_len(suite: CipherSuite, max_payload_len: usize) -> usize {
    max_payload_len.saturating_sub(per_packet_overhead(suite))
}

/// One fragment of an SFrame frame (§5.1): its descriptor and its part of the ciphertext.
/// The RTP payload is `descriptor ‖ data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment<'f> {
    /// The fragment's descriptor.
    pub descriptor: Descriptor,
    /// Its bytes of the SFrame ciphertext.
    pub data: &'f [u8],
}

impl Fragment<'_> {
    /// Length of the RTP payload: descriptor plus data.
    pub fn payload_len(&self) -> usize {
        self.data.len().saturating_add(DESCRIPTOR_LEN)
    }

    /// Writes the RTP payload (descriptor, data) to `out`; returns its length.
    pub fn write_payload(&self, out: &mut [u8]) -> Result<usize> {
        let mut w = Cursor { buf: out, pos: 0 };
        w.put(&[self.descriptor.to_byte()])?;
        w.put(self.data)?;
        Ok(w.pos)
    }

    /// Writes a whole RTP packet: `header` (the media packetizer's, with this packet's sequence
    /// number), then the payload. The marker bit is set only if `header.marker` is set and this
    /// is the last fragment (§5.1: "set the RTP header marker bit to the value of the second
    /// bit E"). Returns the packet length.
    pub fn write_packet(&self, header: &RtpHeader<'_>, out: &mut [u8]) -> Result<usize> {
        let marker = header.marker && self.descriptor.end;
        write_packet(
            header,
            marker,
            &[&[self.descriptor.to_byte()], self.data],
            0,
            out,
        )
    }
}

/// Splits one SFrame frame into [`Fragment`]s of at most `max_payload_len` RTP payload bytes
/// each, descriptor included (§5.1). No copy: fragments borrow the frame.
///
/// ```
/// use sframe_core::rtp::{Mode, Packetizer};
/// let frame = [0xaa; 25];
/// let fragments: Vec<_> = Packetizer::new(&frame, Mode::PerFrame, 11)?.collect();
/// assert_eq!(fragments.len(), 3); // 10 + 10 + 5 bytes, each behind a descriptor
/// assert_eq!(fragments.iter().map(|f| f.descriptor.to_byte()).collect::<Vec<_>>(), [0x80, 0x00, 0x40]);
/// let single: Vec<_> = Packetizer::new(&frame, Mode::PerPacket, 100)?.collect();
/// assert_eq!(single.len(), 1);
/// assert_eq!(single[0].descriptor.to_byte(), 0xe0); // S, E and T
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Packetizer<'f> {
    rest: &'f [u8],
    mode: Mode,
    chunk: usize,
    first: bool,
}

/// How many RTP payloads of at most `max_payload_len` bytes (descriptor included) a
/// `frame_len`-byte SFrame frame is cut into (§5.1), with the errors of [`Packetizer::new`].
///
/// ```
/// assert_eq!(sframe_core::rtp::fragment_count(2400, 1200), Ok(3)); // 1199 bytes per payload
/// ```
pub const fn fragment_count(frame_len: usize, max_payload_len: usize) -> Result<usize> {
    if max_payload_len <= DESCRIPTOR_LEN {
        return Err(Error::InvalidConfig);
    }
    if frame_len == 0 {
        return Err(Error::MalformedFrame);
    }
    Ok(frame_len.div_ceil(max_payload_len - DESCRIPTOR_LEN))
}

impl<'f> Packetizer<'f> {
    /// Fragments `frame` (an SFrame ciphertext) with T = `mode`. [`Error::InvalidConfig`] if
    /// `max_payload_len` cannot hold a descriptor and one byte; [`Error::MalformedFrame`] if
    /// `frame` is empty (an SFrame frame has at least a header byte).
    pub fn new(frame: &'f [u8], mode: Mode, max_payload_len: usize) -> Result<Self> {
        fragment_count(frame.len(), max_payload_len)?;
        Ok(Packetizer {
            rest: frame,
            mode,
            chunk: max_payload_len - DESCRIPTOR_LEN,
            first: true,
        })
    }

    /// How many fragments are left.
    pub fn fragment_count(&self) -> usize {
        self.rest.len().div_ceil(self.chunk)
    }
}

impl<'f> Iterator for Packetizer<'f> {
    type Item = Fragment<'f>;

    fn next(&mut self) -> Option<Fragment<'f>> {
        if self.rest.is_empty() {
            return None;
        }
        let n = self.chunk.min(self.rest.len());
        let (data, rest) = self.rest.split_at_checked(n)?;
        let descriptor = Descriptor {
            start: self.first,
            end: rest.is_empty(),
            mode: self.mode,
        };
        self.rest = rest;
        self.first = false;
        Some(Fragment { descriptor, data })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.fragment_count();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Packetizer<'_> {}

/// Protects `plaintext` with `sender` into `buf` ([`crate::Sender::max_output_len`] bytes
/// suffice) and returns a [`Packetizer`] over the ciphertext (§5.1.1 steps 3-8 for
/// [`Mode::PerFrame`], §5.1.2 for [`Mode::PerPacket`], where `plaintext` is one media RTP
/// payload). `max_payload_len` is checked first: a bad value uses no counter.
pub fn protect_frame<'b, B: Backend>(
    sender: &mut Sender<B>,
    metadata: &[u8],
    plaintext: &[u8],
    mode: Mode,
    max_payload_len: usize,
    buf: &'b mut [u8],
) -> Result<Packetizer<'b>> {
    if max_payload_len <= DESCRIPTOR_LEN {
        return Err(Error::InvalidConfig);
    }
    let frame: &'b [u8] = sender.protect(metadata, plaintext, buf)?;
    Packetizer::new(frame, mode, max_payload_len)
}
