//! The codec layout of the browser package (`sframe-wasm/js/codec.js`), for VP8 and Opus:
//!
//! ```text
//! protected frame = clear part (c bytes) ‖ SFrame header ‖ ciphertext ‖ tag
//! SFrame metadata (authenticated, RFC 9605 §4.4.3) = the clear part
//! ```
//!
//! * VP8 (RFC 6386 §9.1): c = 10 on key frames (frame-tag bit 0 = 0), 3 on delta frames; an
//!   empty frame counts as needing 3.
//! * Opus (RFC 6716 §3.1): c = 1 (the TOC byte).
//!
//! c is computed from the first bytes alone — on the plaintext by the sender, on the protected
//! frame by the receiver, which start with the same clear bytes — and never capped by the
//! frame's length: a frame shorter than its c is refused by the sender ("frame_too_short") and
//! malformed for the receiver, exactly as `protectFrame` / `splitProtected` do in codec.js.

use sframe_core::{Receiver, Sender};

/// The codecs the videoroom negotiates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Vp8,
    Opus,
}

pub const VP8_KEY_CLEAR_BYTES: usize = 10;
pub const VP8_DELTA_CLEAR_BYTES: usize = 3;

/// Leading clear bytes of a frame (plaintext or protected) under `codec`.
pub fn clear_prefix_len(codec: Codec, data: &[u8]) -> usize {
    match codec {
        Codec::Vp8 => match data.first() {
            None => VP8_DELTA_CLEAR_BYTES,
            Some(b) if b & 1 == 0 => VP8_KEY_CLEAR_BYTES,
            Some(_) => VP8_DELTA_CLEAR_BYTES,
        },
        Codec::Opus => 1,
    }
}

/// Why a frame could not go through the layout: a stable code, as in the JS package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutError(pub &'static str);

impl From<sframe_core::Error> for LayoutError {
    fn from(e: sframe_core::Error) -> Self {
        LayoutError(e.code())
    }
}

/// Sender side: `clear ‖ protect(metadata = clear, plaintext = rest)`.
pub fn protect(codec: Codec, sender: &mut Sender, frame: &[u8]) -> Result<Vec<u8>, LayoutError> {
    let c = clear_prefix_len(codec, frame);
    let (clear, plaintext) = frame
        .split_at_checked(c)
        .ok_or(LayoutError("frame_too_short"))?;
    let sframe = sender.protect_vec(clear, plaintext)?;
    let mut out = Vec::with_capacity(clear.len() + sframe.len());
    out.extend_from_slice(clear);
    out.extend_from_slice(&sframe);
    Ok(out)
}

/// The clear part and the SFrame part of a protected frame.
pub fn split_protected(codec: Codec, data: &[u8]) -> Result<(&[u8], &[u8]), LayoutError> {
    data.split_at_checked(clear_prefix_len(codec, data))
        .ok_or(LayoutError("malformed_frame"))
}

/// Receiver side: the frame as the sender's encoder produced it.
pub fn unprotect(
    codec: Codec,
    receiver: &mut Receiver,
    data: &[u8],
) -> Result<Vec<u8>, LayoutError> {
    let (clear, sframe) = split_protected(codec, data)?;
    let plaintext = receiver.unprotect_vec(clear, sframe)?;
    let mut out = Vec::with_capacity(clear.len() + plaintext.len());
    out.extend_from_slice(clear);
    out.extend_from_slice(&plaintext);
    Ok(out)
}

/// What a VP8 frame header says (RFC 6386 §9.1, §19.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vp8Info {
    pub key_frame: bool,
    pub width: u16,
    pub height: u16,
}

/// Checks a VP8 frame's uncompressed header: frame tag (version 0-3, first partition inside
/// the frame) and, for key frames, the start code `9d 01 2a` and non-zero dimensions.
pub fn check_vp8(frame: &[u8]) -> Result<Vp8Info, &'static str> {
    let tag = frame.get(..3).ok_or("shorter than a frame tag")?;
    let (b0, b1, b2) = match tag {
        [a, b, c] => (u32::from(*a), u32::from(*b), u32::from(*c)),
        _ => return Err("shorter than a frame tag"),
    };
    let raw = b0 | b1 << 8 | b2 << 16;
    let key_frame = raw & 1 == 0;
    let version = (raw >> 1) & 7;
    let first_part_size = (raw >> 5) as usize;
    if version > 3 {
        return Err("unknown version");
    }
    let header = if key_frame { 10 } else { 3 };
    if frame.len() < header || first_part_size == 0 || first_part_size > frame.len() - header {
        return Err("first partition does not fit the frame");
    }
    if !key_frame {
        return Ok(Vp8Info {
            key_frame,
            width: 0,
            height: 0,
        });
    }
    if frame.get(3..6) != Some(&[0x9d, 0x01, 0x2a][..]) {
        return Err("key frame without the start code 9d 01 2a");
    }
    let dim = |i: usize| -> Result<u16, &'static str> {
        match frame.get(i..i + 2) {
            Some([lo, hi]) => Ok(u16::from_le_bytes([*lo, *hi]) & 0x3fff),
            _ => Err("truncated dimensions"),
        }
    };
    let (width, height) = (dim(6)?, dim(8)?);
    if width == 0 || height == 0 {
        return Err("zero dimensions");
    }
    Ok(Vp8Info {
        key_frame,
        width,
        height,
    })
}

/// Checks an Opus packet's framing (RFC 6716 §3.2-3.4: TOC code 0-3, frame lengths within
/// the packet, at most 120 ms).
pub fn check_opus(packet: &[u8]) -> Result<(), &'static str> {
    let (&toc, rest) = packet.split_first().ok_or("empty packet")?;
    let config = toc >> 3;
    match toc & 3 {
        0 => {
            if rest.len() > 1275 {
                return Err("code 0 frame longer than 1275 bytes");
            }
        }
        1 => {
            if !rest.len().is_multiple_of(2) || rest.len() / 2 > 1275 {
                return Err("code 1 frames of unequal size");
            }
        }
        2 => {
            let (&first, after) = rest.split_first().ok_or("code 2 without a length")?;
            let (len, after) = if first >= 252 {
                let (&second, after) = after.split_first().ok_or("truncated length")?;
                (usize::from(first) + 4 * usize::from(second), after)
            } else {
                (usize::from(first), after)
            };
            if len > after.len() {
                return Err("code 2 first frame beyond the packet");
            }
        }
        _ => {
            let (&count, _) = rest.split_first().ok_or("code 3 without a frame count")?;
            let m = u32::from(count & 0x3f);
            // §3.4 R5: at least one frame and at most 120 ms of audio.
            let per_frame_ms_x10: u32 = match (config, config % 4) {
                (0..=11, 0) | (12..=15, 0 | 2) => 100, // SILK-only / hybrid: 10, 20, 40, 60 ms
                (0..=11, 1) | (12..=15, _) => 200,
                (0..=11, 2) => 400,
                (0..=11, _) => 600,
                (_, 0) => 25, // CELT-only: 2.5, 5, 10, 20 ms
                (_, 1) => 50,
                (_, 2) => 100,
                (_, _) => 200,
            };
            if m == 0 || m * per_frame_ms_x10 > 1200 {
                return Err("code 3 frame count out of range");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use sframe_core::CipherSuite;

    const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

    /// A sender and a receiver of a key no other test uses: senders claim their keys
    /// process-wide (a second live sender of a key is `KeyInUse`), and the tests run in
    /// parallel in one process.
    fn pair() -> (Sender, Receiver) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("layout test key #{n}");
        let mut s = Sender::new(SUITE);
        s.set_key(1041, key.as_bytes()).unwrap();
        let mut r = Receiver::new(SUITE);
        r.add_key(1041, key.as_bytes()).unwrap();
        (s, r)
    }

    #[test]
    fn clear_bytes_as_in_codec_js() {
        assert_eq!(clear_prefix_len(Codec::Vp8, &[0x10, 0, 0]), 10); // key frame
        assert_eq!(clear_prefix_len(Codec::Vp8, &[0x11, 0, 0]), 3); // delta frame
        assert_eq!(clear_prefix_len(Codec::Vp8, &[]), 3);
        assert_eq!(clear_prefix_len(Codec::Opus, &[0xf8]), 1);
        assert_eq!(clear_prefix_len(Codec::Opus, &[]), 1);
    }

    #[test]
    fn round_trip_keeps_clear_bytes_and_restores_frame() {
        let (mut s, mut r) = pair();
        let key = [
            0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00, 1, 2, 3, 4,
        ];
        let p = protect(Codec::Vp8, &mut s, &key).unwrap();
        assert_eq!(&p[..10], &key[..10]);
        assert!(p.len() > key.len());
        assert_eq!(unprotect(Codec::Vp8, &mut r, &p).unwrap(), key);
        let delta = [0x51, 0x00, 0x00, 9, 9, 9];
        let p = protect(Codec::Vp8, &mut s, &delta).unwrap();
        assert_eq!(&p[..3], &delta[..3]);
        assert_eq!(unprotect(Codec::Vp8, &mut r, &p).unwrap(), delta);
        let opus = [0xf8, 0xff, 0xfe];
        let p = protect(Codec::Opus, &mut s, &opus).unwrap();
        assert_eq!(p[0], 0xf8);
        assert_eq!(unprotect(Codec::Opus, &mut r, &p).unwrap(), opus);
    }

    #[test]
    fn clear_bytes_are_authenticated() {
        let (mut s, mut r) = pair();
        let mut p = protect(Codec::Vp8, &mut s, &[0x51, 0x00, 0x00, 9, 9, 9]).unwrap();
        p[1] ^= 0x80; // still a delta frame, other first-partition size
        assert_eq!(
            unprotect(Codec::Vp8, &mut r, &p),
            Err(LayoutError("authentication_failed"))
        );
    }

    #[test]
    fn short_frames_are_refused_before_any_counter() {
        let (mut s, _) = pair();
        assert_eq!(
            protect(Codec::Vp8, &mut s, &[0x10, 0, 0, 0x9d]),
            Err(LayoutError("frame_too_short"))
        );
        assert_eq!(
            protect(Codec::Opus, &mut s, &[]),
            Err(LayoutError("frame_too_short"))
        );
        assert_eq!(s.next_counter(), Some(0));
        let mut r = Receiver::new(SUITE);
        assert_eq!(
            unprotect(Codec::Vp8, &mut r, &[0x10, 0, 0]),
            Err(LayoutError("malformed_frame"))
        );
    }

    /// Network input never panics: random frames of every short length (and some long ones)
    /// through the receiver's layout and the codec checks only ever give errors.
    #[test]
    fn random_frames_only_give_errors() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64; // xorshift64*: deterministic, no dependency
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut r = Receiver::new(SUITE);
        r.add_key(1041, b"sixteen byte key").unwrap();
        for len in (0..80).chain([300, 1200, 5000]) {
            for _ in 0..50 {
                let mut frame: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if let Some(b) = frame.get_mut(3) {
                    *b = 0x84; // sometimes a plausible SFrame header byte after the clear part
                }
                for codec in [Codec::Vp8, Codec::Opus] {
                    assert!(unprotect(codec, &mut r, &frame).is_err());
                }
                let _ = check_vp8(&frame);
                let _ = check_opus(&frame);
            }
        }
    }

    #[test]
    fn vp8_header_checks() {
        let key = [
            0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x30, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9,
            10, 11,
        ];
        // first_part_size = 0x00150 >> 5 = 10 → fits in 11 bytes after the header
        assert_eq!(
            check_vp8(&key),
            Ok(Vp8Info {
                key_frame: true,
                width: 64,
                height: 48
            })
        );
        let mut bad = key;
        bad[4] = 0x02;
        assert!(check_vp8(&bad).is_err());
        assert!(check_vp8(&key[..12]).is_err()); // partition beyond the frame
        assert!(check_vp8(&[0x51]).is_err());
    }

    #[test]
    fn opus_framing_checks() {
        assert!(check_opus(&[0xf8, 0xff, 0xfe]).is_ok()); // code 0: the usual silence frame
        assert!(check_opus(&[]).is_err());
        assert!(check_opus(&[0xf9, 1, 2, 3]).is_err()); // code 1 with an odd payload
        assert!(check_opus(&[0xfa, 5, 1, 2]).is_err()); // code 2: 5-byte frame in 2 bytes
        assert!(check_opus(&[0xfb, 0x00]).is_err()); // code 3 with zero frames
        assert!(check_opus(&[0xfb, 0x02, 1, 2]).is_ok());
    }
}
