//! SFrame RTP sessions — draft-ietf-avtcore-rtp-sframe §5 (packetization and depacketization,
//! per SSRC), §7 (per-SSRC keys), §8 (ratcheting with them), on RFC 9605 §4.4 (protection),
//! §4.4.4 (frames held until their key arrives) and §5.1 (ratchet).
//!
//! What a native endpoint (a camera, a bridge, an SFU that terminates SFrame) needs around
//! [`rtp`](crate::rtp)'s payload format:
//!
//! | here | draft / RFC 9605 |
//! |---|---|
//! | [`SendStream`], [`SendConfig`], [`Packets`] | §5.1 per SSRC: protect, fragment, RTP headers and sequence numbers; §7 per-SSRC key; §8 its ratchet |
//! | [`ReceiveSession`], [`SessionConfig`], [`Event`] | §5.2 for any number of SSRCs (bounded); keys by KID (§4.4.1), added and removed at any time; §7 per-SSRC keys; RFC 9605 §4.4.4 frames waiting for their key |
//! | [`StreamStats`], [`KidStats`], [`SessionStats`] | counters per SSRC, per KID and per session |
//!
//! A session has one base key per KID (e.g. HomeKit's and Matter's key + KID); with per-SSRC
//! keys every stream derives its own from it (§7: `HKDF(salt = BE32(SSRC), IKM = base_key,
//! info = "SFrame 1.0 RTP Stream")`, `Nh` bytes), so streams of one sender share a KID
//! without sharing a key or a nonce. Where the base key cannot be read (a non-extractable
//! WebCrypto key), the application derives and the session installs what it derived:
//! [`SendStream::set_derived_key`], and on the receive side
//! [`ReceiveSession::add_external_key`] (per-SSRC: [`ReceiveSession::missing_stream_keys`]
//! lists the streams whose key to give with [`ReceiveSession::add_stream_key`]) or
//! [`ReceiveSession::add_derived_key`]. On the send side a [`SendStream`] per SSRC holds one
//! KID at a time (the nonce rule of RFC 9605 §4.4.1); on the receive side one
//! [`ReceiveSession`] takes the packets of all SSRCs, keeps frames that arrive before their
//! key and decrypts them in order once it is added, tells when a key first authenticates a
//! frame (so that an old key can be removed once every peer has switched), and bounds
//! everything a network peer can make it store (see [`ReceiveSession`]).
//!
//! A receive session has one cipher suite: where audio and video use different suites
//! (HomeKit: 6 for video, 8 for audio; Matter configures both), use one session per media
//! section, route packets to it by SSRC or payload type, and add each key to both.
//!
//! ## Example: a HomeKit-style video stream
//!
//! Suite 6 (`AES_256_CTR_HMAC_SHA512_80`) with per-SSRC keys; the first frame arrives before
//! the key, waits, and is delivered when the key comes, followed by the event that the key
//! authenticated.
//!
//! ```
//! use sframe_core::{CipherSuite, ReceiverConfig};
//! use sframe_core::rtp::session::{BoxedReceiveSession, Event, SendConfig, SendStream, SessionConfig};
//!
//! let suite = CipherSuite::AesCtr256HmacSha512_80;
//! let (ssrc, kid, key) = (0x4d2e_61f0, 0x0123_4567_89ab_cdef, [0x5a; 32]);
//!
//! // The camera: a send stream for its video SSRC, its key derived for that SSRC.
//! let config = SendConfig::new(suite, ssrc, 99, 1100).with_per_ssrc_keys(true);
//! let mut camera = SendStream::new(config)?;
//! camera.set_key(kid, &key)?;
//!
//! // The viewer: up to 4 streams, each with 64 packets / 128 KiB in reassembly and 16 frames /
//! // 128 KiB waiting for a key, and a table of 8 KIDs. Slots on the heap.
//! type Viewer = BoxedReceiveSession<64, 131_072, 16, 131_072, 8>;
//! let config = SessionConfig::new(ReceiverConfig::new(suite))
//!     .with_per_ssrc_keys(true)
//!     .with_max_wait(2_000); // ms
//! let mut viewer = Viewer::with_capacity(config, 4);
//!
//! let mut wire = vec![0u8; 16 * 1024];
//! let mut out = vec![0u8; 131_072];
//! let mut events = Vec::new();
//! for (i, now) in [0u64, 33].into_iter().enumerate() {
//!     let frame = vec![i as u8 + 1; 5000]; // a decoded frame is AVCC H.264 in HomeKit
//!     for packet in camera.send_frame(&frame, 90 * now as u32, true, &mut wire)? {
//!         viewer.push_packet(packet, now)?;
//!     }
//!     if i == 1 {
//!         viewer.add_key(kid, &key)?; // the session update carrying the key comes late
//!     }
//!     while let Some(event) = viewer.poll(&mut out, now) {
//!         if let Event::Frame(f) = event {
//!             // The plaintext, e.g. for the decoder: here frame `counter` was all `counter + 1`.
//!             assert!(f.len == 5000 && out[..f.len].iter().all(|&b| b == f.counter as u8 + 1));
//!         }
//!         events.push(event);
//!     }
//! }
//! // Frame 0 waited; the key came while frame 1 was still being reassembled.
//! assert!(matches!(events[0], Event::AwaitingKey { kid: k, counter: 0, .. } if k == kid));
//! assert!(matches!(events[1], Event::Frame(f) if f.from_buffer && f.counter == 0));
//! assert!(matches!(events[2], Event::KeyAuthenticated { first: true, .. }));
//! assert!(matches!(events[3], Event::Frame(f) if !f.from_buffer && f.counter == 1));
//! assert_eq!(events.len(), 4);
//! assert_eq!(viewer.stream_stats(ssrc).map(|s| s.frames_out), Some(2));
//! # Ok::<(), sframe_core::Error>(())
//! ```

mod receive;
mod send;

#[cfg(feature = "alloc")]
pub use receive::{BoxedReceiveSession, BoxedSlots, BoxedStreamSlot};
pub use receive::{
    Event, Failures, GenericStreamSlot, InlineReceiveSession, InlineSlots, KidCounters, KidStats,
    MAX_SESSION_KIDS, Pushed, ReceiveSession, ReceivedFrame, SessionConfig, SessionStats,
    SlotStorage, StreamSlot, StreamStats, StreamStorage,
};
pub use send::{Packets, SendConfig, SendStats, SendStream};
