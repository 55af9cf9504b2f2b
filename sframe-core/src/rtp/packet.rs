//! RTP packets — RFC 3550 §5.1 (fixed header) and §5.3.1 (header extension), with CSRCs and
//! padding: the minimal codec the SFrame payload format (draft-ietf-avtcore-rtp-sframe §4) needs.

use crate::error::{Error, Result};

/// Length of the fixed RTP header (RFC 3550 §5.1), without CSRCs or extension.
pub const RTP_FIXED_HEADER_LEN: usize = 12;

/// An RTP header extension (RFC 3550 §5.3.1): a 16-bit profile-defined value and data whose
/// length is a multiple of 4 bytes (at most 65535 words). RFC 8285 one- and two-byte header
/// extensions are carried as such (profile `0xBEDE` or `0x100x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeaderExtension<'a> {
    /// The "defined by profile" field.
    pub profile: u16,
    /// The extension data, without its 4-byte header; a multiple of 4 bytes.
    pub data: &'a [u8],
}

/// An RTP header (RFC 3550 §5.1): what §4 says the SFrame packets copy from the media
/// packetizer's output. The padding bit and the CSRC count are derived when writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpHeader<'a> {
    /// M: the marker bit.
    pub marker: bool,
    /// PT, 0..=127: the payload type of the protected media format (§4).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// The contributing sources as sent: 4 bytes each, big-endian, at most 15 (60 bytes).
    pub csrc: &'a [u8],
    /// The header extension, if any (the X bit).
    pub extension: Option<HeaderExtension<'a>>,
}

impl<'a> RtpHeader<'a> {
    /// A header without marker, CSRCs or extension.
    pub const fn new(payload_type: u8, sequence_number: u16, timestamp: u32, ssrc: u32) -> Self {
        RtpHeader {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrc: &[],
            extension: None,
        }
    }

    /// The CSRC identifiers.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(0, u32::from_be_bytes))
    }

    /// Length of the encoded header: 12 + CSRCs + extension.
    pub fn encoded_len(&self) -> usize {
        let ext = self.extension.map_or(0, |e| e.data.len().saturating_add(4));
        RTP_FIXED_HEADER_LEN
            .saturating_add(self.csrc.len())
            .saturating_add(ext)
    }

    /// [`Error::InvalidConfig`] if the header cannot be encoded: PT over 127, CSRC bytes not a
    /// multiple of 4 or over 60, extension data not a multiple of 4 or over 65535 words.
    fn check(&self) -> Result<()> {
        let ext_ok = self.extension.is_none_or(|e| {
            e.data.len().is_multiple_of(4) && e.data.len() / 4 <= usize::from(u16::MAX)
        });
        if self.payload_type > 0x7f
            || !self.csrc.len().is_multiple_of(4)
            || self.csrc.len() > 60
            || !ext_ok
        {
            return Err(Error::InvalidConfig);
        }
        Ok(())
    }
}

/// A parsed RTP packet (RFC 3550 §5.1): header, payload and the padding that followed it.
///
/// ```
/// use sframe_core::rtp::{HeaderExtension, RtpHeader, RtpPacket};
/// let mut header = RtpHeader::new(96, 7, 3000, 0xdead_beef);
/// header.marker = true;
/// header.csrc = &[0, 0, 0, 9];
/// header.extension = Some(HeaderExtension { profile: 0xbede, data: &[0x10, 0xff, 0, 0] });
/// let packet = RtpPacket { header, payload: b"\xc0payload", padding: 3 };
/// let mut buf = [0u8; 64];
/// let n = packet.write(&mut buf)?;
/// assert_eq!(n, 12 + 4 + 8 + 8 + 3);
/// let parsed = RtpPacket::parse(&buf[..n])?;
/// assert_eq!(parsed, packet);
/// assert_eq!(parsed.header.csrcs().collect::<Vec<_>>(), [9]);
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpPacket<'a> {
    /// The header.
    pub header: RtpHeader<'a>,
    /// The payload, padding removed. For SFrame: descriptor, then a fragment.
    pub payload: &'a [u8],
    /// Number of padding bytes after the payload, the count byte included (0: no P bit).
    pub padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses an RTP packet. [`Error::MalformedFrame`] if it is not one: shorter than its
    /// headers, version not 2, or a padding count of 0 or longer than the payload.
    pub fn parse(packet: &'a [u8]) -> Result<Self> {
        let bad = Error::MalformedFrame;
        let (fixed, rest) = packet
            .split_first_chunk::<RTP_FIXED_HEADER_LEN>()
            .ok_or(bad)?;
        let [b0, b1, s0, s1, t0, t1, t2, t3, c0, c1, c2, c3] = *fixed;
        if b0 >> 6 != 2 {
            return Err(bad);
        }
        let csrc_len = usize::from(b0 & 0x0f) * 4;
        let (csrc, mut rest) = rest.split_at_checked(csrc_len).ok_or(bad)?;
        let extension = if b0 & 0x10 != 0 {
            let (&[p0, p1, l0, l1], r) = rest.split_first_chunk::<4>().ok_or(bad)?;
            let data_len = usize::from(u16::from_be_bytes([l0, l1])) * 4;
            let (data, r) = r.split_at_checked(data_len).ok_or(bad)?;
            rest = r;
            Some(HeaderExtension {
                profile: u16::from_be_bytes([p0, p1]),
                data,
            })
        } else {
            None
        };
        let (payload, padding) = if b0 & 0x20 != 0 {
            let (&count, _) = rest.split_last().ok_or(bad)?;
            let len = rest.len().checked_sub(usize::from(count)).ok_or(bad)?;
            if count == 0 {
                return Err(bad);
            }
            (rest.get(..len).ok_or(bad)?, count)
        } else {
            (rest, 0)
        };
        Ok(RtpPacket {
            header: RtpHeader {
                marker: b1 & 0x80 != 0,
                payload_type: b1 & 0x7f,
                sequence_number: u16::from_be_bytes([s0, s1]),
                timestamp: u32::from_be_bytes([t0, t1, t2, t3]),
                ssrc: u32::from_be_bytes([c0, c1, c2, c3]),
                csrc,
                extension,
            },
            payload,
            padding,
        })
    }

    /// Length of the encoded packet.
    pub fn encoded_len(&self) -> usize {
        self.header
            .encoded_len()
            .saturating_add(self.payload.len())
            .saturating_add(usize::from(self.padding))
    }

    /// Writes the packet to `out`; returns its length. [`Error::BufferTooSmall`] if `out` is
    /// shorter than [`RtpPacket::encoded_len`], [`Error::InvalidConfig`] if a header field
    /// cannot be encoded (see [`RtpHeader`]).
    pub fn write(&self, out: &mut [u8]) -> Result<usize> {
        write_packet(
            &self.header,
            self.header.marker,
            &[self.payload],
            self.padding,
            out,
        )
    }
}

/// A bounds-checked writer over a caller buffer.
pub(super) struct Cursor<'o> {
    pub(super) buf: &'o mut [u8],
    pub(super) pos: usize,
}

impl Cursor<'_> {
    pub(super) fn put(&mut self, src: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(src.len())
            .ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(src);
        self.pos = end;
        Ok(())
    }
}

pub(super) fn write_packet(
    header: &RtpHeader<'_>,
    marker: bool,
    payload: &[&[u8]],
    padding: u8,
    out: &mut [u8],
) -> Result<usize> {
    header.check()?;
    let payload_len = payload
        .iter()
        .fold(0usize, |n, p| n.saturating_add(p.len()));
    let total = header
        .encoded_len()
        .saturating_add(payload_len)
        .saturating_add(usize::from(padding));
    if total > out.len() {
        return Err(Error::BufferTooSmall);
    }
    let mut b0 = 0x80 | (header.csrc.len() / 4) as u8;
    if padding != 0 {
        b0 |= 0x20;
    }
    if header.extension.is_some() {
        b0 |= 0x10;
    }
    let b1 = header.payload_type | if marker { 0x80 } else { 0 };
    let mut w = Cursor { buf: out, pos: 0 };
    w.put(&[b0, b1])?;
    w.put(&header.sequence_number.to_be_bytes())?;
    w.put(&header.timestamp.to_be_bytes())?;
    w.put(&header.ssrc.to_be_bytes())?;
    w.put(header.csrc)?;
    if let Some(ext) = header.extension {
        w.put(&ext.profile.to_be_bytes())?;
        let words = u16::try_from(ext.data.len() / 4).map_err(|_| Error::InvalidConfig)?;
        w.put(&words.to_be_bytes())?;
        w.put(ext.data)?;
    }
    for part in payload {
        w.put(part)?;
    }
    if padding != 0 {
        for _ in 1..padding {
            w.put(&[0])?;
        }
        w.put(&[padding])?;
    }
    Ok(w.pos)
}
