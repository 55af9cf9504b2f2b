//! Real VP8 video as SFrame over RTP (draft-ietf-avtcore-rtp-sframe-02), between two processes
//! on 127.0.0.1: the pieces the `rtp-vp8` binary (`send` / `recv`) and its end-to-end test share.
//!
//! | module | what |
//! |---|---|
//! | [`ivf`] | the IVF container (shared with `examples/sfu/native`) |
//! | [`media`] | encoded VP8 frames: IVF files, `multifilesink` directories, key frame headers |
//! | [`rtp`] | RTP fixed header (RFC 3550), RTCP BYE, RFC 4571 framing |
//! | [`vp8`] | a minimal RFC 7741 VP8 payload packetizer / depacketizer |
//! | [`netem`] | seeded loss, reordering and duplication, applied by the sender |
//! | [`decoder`] | GStreamer's `vp8dec` in a `gst-launch-1.0` subprocess |
//! | [`sframe_rtp`] | the one place that calls `sframe_core` (protect, unprotect, RTP format) |
//! | [`report`] | `key=value` figures both processes print and the test reads |

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod decoder;
#[path = "../../shared/ivf.rs"]
pub mod ivf;
pub mod media;
pub mod netem;
pub mod report;
pub mod rtp;
pub mod sframe_rtp;
pub mod vp8;

/// RTP clock rate of video (RFC 7741 §4.1): 90 kHz.
pub const CLOCK_RATE: u32 = 90_000;
/// RTP timestamp step between frames: the example's frames are 1/30 s apart, and the
/// receiver finds a frame's index as `timestamp / FRAME_TICKS`.
pub const FRAME_TICKS: u32 = CLOCK_RATE / 30;
/// The dynamic payload type the example's `a=rtpmap:96 VP8/90000` would bind.
pub const PAYLOAD_TYPE: u8 = 96;
/// The media SSRC.
pub const SSRC: u32 = 0x5f3a_c0de;
/// The SFrame key ID the sender uses.
pub const KID: u64 = 7;
/// The demo base key (both processes take `--key HEX` to use another).
pub const DEMO_KEY: [u8; 16] = *b"rtp-vp8 demo key";

/// Parses lowercase or uppercase hex.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad hex {s:?}"))
        })
        .collect()
}
