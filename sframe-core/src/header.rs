//! The SFrame header — RFC 9605 §4.3.
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//! |X|  K  |Y|  C  |   KID...  (length=K+1)    |   CTR... (length=C+1)     |
//! +-+-+-+-+-+-+-+-+---------------------------+---------------------------+
//! ```
//!
//! A value below 8 is stored inline in its 3-bit field (flag 0); otherwise the flag is set, the
//! field holds the byte length minus one and the value follows big-endian, KID first. Encoding is
//! always minimal; parsing rejects truncated and non-minimal encodings, so every header has
//! exactly one byte representation. Parsing needs no key: a media server can read KID and CTR.

use crate::error::{Error, Result};

/// The longest possible header: config byte + 8-byte KID + 8-byte CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// A frame counter (the header's CTR) where an API takes one next to a KID: a newtype, so the
/// two `u64`s cannot be swapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter(pub u64);

/// An SFrame header: key ID and counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    kid: u64,
    ctr: u64,
}

/// Bytes needed for `v` as an extended field (1..=8), big-endian without leading zeros.
const fn be_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    if bits == 0 { 1 } else { bits.div_ceil(8) }
}

/// Length of `v`'s field after the config byte: 0 when inline.
const fn field_len(v: u64) -> usize {
    if v < 8 { 0 } else { be_len(v) }
}

impl Header {
    /// A header for key ID `kid` and counter `ctr`.
    pub const fn new(kid: u64, ctr: u64) -> Self {
        Header { kid, ctr }
    }

    /// The key ID (KID).
    pub const fn key_id(&self) -> u64 {
        self.kid
    }

    /// The counter (CTR).
    pub const fn counter(&self) -> u64 {
        self.ctr
    }

    /// Length of the encoded header in bytes (1..=17).
    pub const fn encoded_len(&self) -> usize {
        1 + field_len(self.kid) + field_len(self.ctr)
    }

    /// Writes the header to the front of `out` and returns its length.
    ///
    /// ```
    /// use sframe_core::Header;
    /// let mut buf = [0u8; 17];
    /// let n = Header::new(0x42, 3).encode(&mut buf)?;
    /// assert_eq!(&buf[..n], &[0x83, 0x42]);
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.encoded_len();
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (cfg_slot, rest) = out.split_first_mut().ok_or(Error::BufferTooSmall)?;
        let (kid_bytes, ctr_bytes) = rest.split_at_mut(field_len(self.kid));
        *cfg_slot = config_half(self.kid, kid_bytes) << 4 | config_half(self.ctr, ctr_bytes);
        Ok(len)
    }

    /// Parses the header at the front of `frame`; returns it and its encoded length.
    ///
    /// ```
    /// use sframe_core::{Error, Header};
    /// let (h, len) = Header::parse(&[0x83, 0x42, 0xde, 0xad])?;
    /// assert_eq!((h.key_id(), h.counter(), len), (0x42, 3, 2));
    /// assert_eq!(Header::parse(&[0x90]), Err(Error::MalformedFrame)); // KID byte missing
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse(frame: &[u8]) -> Result<(Header, usize)> {
        let (&cfg, rest) = frame.split_first().ok_or(Error::MalformedFrame)?;
        let (kid, rest, kid_len) = read_field(cfg >> 4, rest)?;
        let (ctr, _, ctr_len) = read_field(cfg & 0x0f, rest)?;
        Ok((Header { kid, ctr }, 1 + kid_len + ctr_len))
    }
}

/// Writes `v` into `field` (sized by [`field_len`]) and returns the 4-bit half of the config byte.
fn config_half(v: u64, field: &mut [u8]) -> u8 {
    if field.is_empty() {
        // `v < 8` here: inline.
        return (v & 0x07) as u8;
    }
    let be = v.to_be_bytes();
    let start = be.len() - field.len();
    if let Some(src) = be.get(start..) {
        field.copy_from_slice(src);
    }
    0x08 | ((field.len() - 1) as u8 & 0x07)
}

/// Reads one field given its 4-bit config half; returns value, remaining input, bytes consumed.
fn read_field(half: u8, input: &[u8]) -> Result<(u64, &[u8], usize)> {
    let inline = u64::from(half & 0x07);
    if half & 0x08 == 0 {
        return Ok((inline, input, 0));
    }
    let len = (half & 0x07) as usize + 1;
    let (bytes, rest) = input.split_at_checked(len).ok_or(Error::MalformedFrame)?;
    let mut be = [0u8; 8];
    be.get_mut(8 - len..)
        .ok_or(Error::MalformedFrame)?
        .copy_from_slice(bytes);
    let v = u64::from_be_bytes(be);
    // Minimal encoding: values below 8 are inline, and no leading zero byte.
    if v < 8 || be_len(v) != len {
        return Err(Error::MalformedFrame);
    }
    Ok((v, rest, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_extended() {
        let mut b = [0u8; MAX_HEADER_LEN];
        assert_eq!(Header::new(0, 0).encode(&mut b), Ok(1));
        assert_eq!(b[0], 0x00);
        assert_eq!(Header::new(7, 7).encode(&mut b), Ok(1));
        assert_eq!(b[0], 0x77);
        assert_eq!(Header::new(8, 0).encode(&mut b), Ok(2));
        assert_eq!(&b[..2], &[0x80, 0x08]);
        assert_eq!(
            Header::new(u64::MAX, u64::MAX).encode(&mut b),
            Ok(MAX_HEADER_LEN)
        );
        assert_eq!(b[0], 0xff);
        assert_eq!(Header::parse(&b), Ok((Header::new(u64::MAX, u64::MAX), 17)));
    }

    #[test]
    fn rejects_non_minimal_and_truncated() {
        // KID 5 written extended.
        assert_eq!(Header::parse(&[0x80, 0x05]), Err(Error::MalformedFrame));
        // KID 0x0100 written with a leading zero in 3 bytes.
        assert_eq!(
            Header::parse(&[0xa0, 0x00, 0x01, 0x00]),
            Err(Error::MalformedFrame)
        );
        assert_eq!(Header::parse(&[]), Err(Error::MalformedFrame));
        assert_eq!(Header::parse(&[0x0f, 1, 2]), Err(Error::MalformedFrame));
    }

    #[test]
    fn short_output_buffer() {
        let mut b = [0u8; 2];
        assert_eq!(
            Header::new(1 << 20, 0).encode(&mut b),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(b, [0, 0]);
    }
}
