//! The SFrame payload descriptor — draft-ietf-avtcore-rtp-sframe §4 (RTP Header Usage): the
//! 1-byte `S E T x x x x x` header first in every SFrame RTP payload.

/// Length of the SFrame payload descriptor (§4): one byte, first in every RTP payload.
pub const DESCRIPTOR_LEN: usize = 1;

/// What an SFrame frame protects: the T bit of the payload descriptor (§4, §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// T = 0, per-frame SFrame (§5.1.1): the content is a raw media frame (as in WebRTC Encoded
    /// Transform), whose ciphertext is usually split over several packets.
    PerFrame,
    /// T = 1, per-packet SFrame (§5.1.2): the content is the payload of one media RTP packet;
    /// after decryption it goes to the media-format-specific depacketizer.
    PerPacket,
}

/// The 1-byte SFrame payload descriptor of §4: `S E T x x x x x`, most significant bit first.
///
/// ```
/// use sframe_core::rtp::{Descriptor, Mode};
/// let d = Descriptor { start: true, end: false, mode: Mode::PerPacket };
/// assert_eq!(d.to_byte(), 0b1010_0000);
/// // Reserved bits are ignored on receipt and sent as 0.
/// assert_eq!(Descriptor::parse(0b1011_1111), d);
/// assert_eq!(Descriptor::parse(0x40), Descriptor { start: false, end: true, mode: Mode::PerFrame });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// S: this is the first fragment of the SFrame frame.
    pub start: bool,
    /// E: this is the last fragment of the SFrame frame.
    pub end: bool,
    /// T: what the SFrame frame protects.
    pub mode: Mode,
}

impl Descriptor {
    /// The S bit.
    pub const S: u8 = 0x80;
    /// The E bit.
    pub const E: u8 = 0x40;
    /// The T bit.
    pub const T: u8 = 0x20;
    /// The 5 bits reserved for future use (§4): sent as 0, ignored on receipt.
    pub const RESERVED: u8 = 0x1f;

    /// Reads a descriptor byte. Every byte is a valid descriptor: the reserved bits are ignored.
    pub const fn parse(byte: u8) -> Self {
        Descriptor {
            start: byte & Self::S != 0,
            end: byte & Self::E != 0,
            mode: if byte & Self::T != 0 {
                Mode::PerPacket
            } else {
                Mode::PerFrame
            },
        }
    }

    /// The descriptor byte, reserved bits 0.
    pub const fn to_byte(self) -> u8 {
        let mut b = 0;
        if self.start {
            b |= Self::S;
        }
        if self.end {
            b |= Self::E;
        }
        if matches!(self.mode, Mode::PerPacket) {
            b |= Self::T;
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_bits_are_s_e_t_msb_first() {
        for byte in 0..=u8::MAX {
            let d = Descriptor::parse(byte);
            assert_eq!(d.to_byte(), byte & !Descriptor::RESERVED);
        }
        assert!(Descriptor::parse(0x80).start);
        assert!(Descriptor::parse(0x40).end);
        assert_eq!(Descriptor::parse(0x20).mode, Mode::PerPacket);
    }
}
