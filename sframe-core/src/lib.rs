//! # sframe-core — RFC 9605 Secure Frame (SFrame)
//!
//! End-to-end encryption of real-time media frames: a sender encrypts each encoded frame, a
//! media server (SFU) forwards it reading only the small clear header (key ID and counter), and
//! only receivers holding the key decrypt it.
//!
//! ## Security notes
//!
//! * **Keys**: give each sender its own base key and KID (§4.4.1); never use one KID with two
//!   base keys. Derived keys are zeroized on drop. Base keys are at least 16 bytes.
//! * **Nonces** are `salt XOR counter`; a [`Sender`] never repeats a counter under one key and
//!   refuses to protect once the counter space or the usage limit is spent
//!   ([`Error::CounterExhausted`], [`Error::KeyUsageLimit`]) — rotate keys before that. With
//!   `std` this holds across the senders of a process ([`registry`]): a second live sender of a
//!   key, on any thread, is [`Error::KeyInUse`], and a key a dropped sender used resumes its
//!   counter. Across processes and restarts, and without `std`, counters are the application's
//!   to persist ([`Sender::set_key_with_counter`]).
//! * **Tags** are compared in constant time (`subtle`); authentication errors carry no detail.
//! * **Replay**: a [`Receiver`] keeps a sliding window per key and rejects duplicates and too
//!   old counters ([`Error::Replay`]). A failed frame never moves the window.
//! * **Key management** (§5): [`ratchet`] (sender keys with ratchet steps in the KID) and
//!   [`mls`] (keys from an MLS epoch's exported secret). Keys a receiver derives from a frame's
//!   KID are kept only once that frame authenticated, so a forged header changes nothing.
//!   SFUs read KID and CTR without any key with [`inspect()`] or [`Header::parse`].
//! * **Metadata** (e.g. codec bytes sent in clear) is authenticated, not encrypted; the
//!   receiver must supply the same bytes.
//! * `AES_128_CTR_HMAC_SHA256_32` has a 4-byte tag: use it only where bandwidth forces it.
//!
//! ## Example
//!
//! ```
//! use sframe_core::{CipherSuite, Header, Receiver, Sender};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let base_key = [0x5a; 16];
//!
//! let mut sender = Sender::new(suite);
//! sender.set_key(42, &base_key)?;
//! let mut receiver = Receiver::new(suite);
//! receiver.add_key(42, &base_key)?;
//!
//! // In place, on caller buffers: no allocation.
//! let mut buf = [0u8; 1200];
//! let frame = sender.protect(b"", b"an encoded video frame", &mut buf)?;
//!
//! // What an SFU can see, without any key:
//! let (header, _) = Header::parse(frame)?;
//! assert_eq!((header.key_id(), header.counter()), (42, 0));
//!
//! let mut out = [0u8; 1200];
//! let plaintext = receiver.unprotect(b"", frame, &mut out)?;
//! assert_eq!(plaintext, b"an encoded video frame");
//! # Ok::<(), sframe_core::Error>(())
//! ```
//!
//! Both sides have the same three shapes: `protect` / `unprotect` into a caller buffer (sized
//! with `max_output_len`), `protect_in_place` / `unprotect_in_place`, and, with `alloc`,
//! [`Sender::protect_vec`] / [`Receiver::unprotect_vec`]. A receiver's settings (replay
//! window, limits, ratchet look-ahead, MLS) are one [`ReceiverConfig`].
//!
//! ## Features
//!
//! * `std` (default): `std::error::Error`, the process-wide [`registry`] (one live sender per
//!   key, counters kept when senders are dropped); implies `alloc`.
//! * `alloc`: `Vec` helpers and the growable [`VecKeyStore`].
//! * `sdp` (default): the [`rtp::sdp`] module, `a=sframe` offer/answer over SDP text; implies `alloc`.
//! * `aws-lc` (default): adds the `AwsLc` backend (aws-lc-rs; native targets, ignored on
//!   WebAssembly) and makes it [`DefaultBackend`]. [`RustCrypto`] is always available: features
//!   only add backends, and `Sender::with_backend(RustCrypto, suite)` pins one.
//!
//! Without default features the crate is `no_std`, uses RustCrypto and never allocates.
//!
//! ## Layout (by RFC 9605 section)
//!
//! | module | RFC 9605 |
//! |---|---|
//! | [`header`] | §4.3 SFrame header |
//! | [`suite`] | §4.5 cipher suites; suites 6-8 of draft-barnes-sframe-iana-256 |
//! | `crypto` | §4.5.1 AES-CTR with HMAC; the AEAD/HKDF backends ([`RustCrypto`], `AwsLc`) |
//! | [`key`] | §4.4.2 key derivation |
//! | `frame` | §4.4.3 encryption, §4.4.4 decryption |
//! | [`sender`] | §4.4 encryption side: counters, §4.4.1 key selection |
//! | [`receiver`] | §4.4.4 decryption side: parse → resolve key → replay check → open → record |
//! | [`keystore`] | §4.4.1 keys by KID |
//! | [`keywait`] | §4.4.4 frames whose KID has no key yet, held until it arrives (§6.2 key-exchange races) |
//! | [`ratchet`] | §5.1 sender keys (ratchet) |
//! | [`mls`] | §5.2 MLS |
//! | [`replay`] | §7.4 replay, §9.3 anti-replay |
//! | [`report`] | error runs: one report per run of identical failures (W3C WebRTC Encoded Transform error events, its issue #307) |
//! | [`limits`] | §7 security considerations: per-key usage limits |
//! | [`registry`] | §4.4.1 one sender per key and KID; §4.4.3 counters across a process's senders |
//! | [`stream`] | §4.4.1 (application key management): per-stream base keys |
//! | [`hazmat`] | §4.4.2, §4.4.3 for one frame at a chosen counter, §4.5 AEADs: test vectors and interop only, never media |
//! | [`rtp`] | SFrame over RTP: draft-ietf-avtcore-rtp-sframe (payload descriptor §4, packetization §5.1, depacketization §5.2, per-SSRC keys §7) |
//! | [`rtp::session`] | SFrame RTP sessions: draft-ietf-avtcore-rtp-sframe §5 per SSRC, §7 per-SSRC keys, §8 ratcheting; RFC 9605 §4.4.4 frames waiting for their key |
//! | `rtp::sdp` | draft-ietf-avtcore-rtp-sframe §6 SFrame SDP negotiation (`a=sframe`; feature `sdp`) |

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod crypto;
mod error;
mod frame;
pub mod hazmat;
pub mod header;
mod history;
pub mod key;
pub mod keystore;
pub mod keywait;
pub mod limits;
pub mod mls;
pub mod ratchet;
pub mod receiver;
pub mod registry;
pub mod replay;
pub mod report;
pub mod rtp;
pub mod sender;
pub mod stream;
pub mod suite;

#[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
pub use crypto::AwsLc;
pub use crypto::{BACKEND, Backend, DefaultBackend, MAX_INLINE_METADATA_LEN, RustCrypto};
pub use error::{Error, Result};
pub use header::{Counter, Header, MAX_HEADER_LEN};
pub use key::{Key, MIN_BASE_KEY_LEN};
#[cfg(feature = "alloc")]
pub use keystore::VecKeyStore;
pub use keystore::{DefaultKeyStore, FixedKeyStore, KeyStore};
pub use limits::{KeyUsage, Limits};
pub use receiver::{ExternalOpen, Receiver, ReceiverConfig};
pub use replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW};
pub use sender::{ExternalSeal, RETIRED_KIDS, Sender};
pub use suite::CipherSuite;

/// What a media server (SFU) or a tool can learn from a frame without any key: the clear
/// header of RFC 9605 §4.3 (see §6.1 on SFUs and §7.1 on what the header reveals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// The key ID: which sender / key generation / MLS epoch and member.
    pub key_id: u64,
    /// The frame counter.
    pub counter: u64,
    /// Length of the SFrame header, 1..=[`MAX_HEADER_LEN`] bytes.
    pub header_len: usize,
    /// Bytes after the header: ciphertext and authentication tag (the tag length depends on
    /// the cipher suite, which the frame does not carry).
    pub payload_len: usize,
}

/// Parses only the header of `frame` (no key, no cryptography, no allocation): a convenience
/// over [`Header::parse`] for SFUs that route by KID. A truncated or non-minimal header is
/// [`Error::MalformedFrame`]; authenticity is *not* checked — only a receiver can do that.
///
/// ```
/// use sframe_core::{CipherSuite, FrameInfo, Sender, inspect};
/// let mut tx = Sender::new(CipherSuite::AesGcm128Sha256);
/// tx.set_key(0x1234, &[3; 16])?;
/// let frame = tx.protect_vec(b"", b"twelve bytes")?;
/// let info = inspect(&frame)?;
/// assert_eq!(info, FrameInfo { key_id: 0x1234, counter: 0, header_len: 3, payload_len: 12 + 16 });
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn inspect(frame: &[u8]) -> Result<FrameInfo> {
    let (header, header_len) = Header::parse(frame)?;
    Ok(FrameInfo {
        key_id: header.key_id(),
        counter: header.counter(),
        header_len,
        payload_len: frame.len().saturating_sub(header_len),
    })
}

/// The Rust examples of the repository README and of the crate README run as doc-tests, so
/// they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
