//! SFrame RTP sessions — draft-ietf-avtcore-rtp-sframe §5.1 (packetization per SSRC), §7
//! (per-SSRC keys), §8 (ratcheting with them), on RFC 9605 §4.4 (protection) and §5.1
//! (ratchet). The send side: a [`SendStream`] per SSRC.

mod send;

pub use send::{Packets, SendConfig, SendStats, SendStream};
