//! SFrame over RTP — the RTP payload format of draft-ietf-avtcore-rtp-sframe.
//!
//! Section numbers are those of the editor's copy (github.com/youennf/draft-ietf-avtcore-rtp-sframe,
//! commit `d4bfa1e`, January 2026: the text with the T bit and per-SSRC keys, published as -02):
//!
//! One file per section of the draft:
//!
//! | file | here | draft |
//! |---|---|---|
//! | `descriptor.rs` | [`Descriptor`], [`Mode`] | §4 RTP Header Usage: the 1-byte SFrame payload descriptor `S E T x x x x x` |
//! | `packetize.rs` | [`Packetizer`], [`Fragment`], [`protect_frame`], [`per_packet_overhead`], [`max_media_payload_len`] | §5.1 packetization (§5.1.1 per-frame, §5.1.2 per-packet: the media packetizer told the SFrame overhead) |
//! | `depacketize.rs` | [`Depacketizer`], [`BoxedDepacketizer`], [`GenericDepacketizer::pop_decrypted`] | §5.2 depacketization; sequence validation after RFC 3550 A.1 |
//! | `packet.rs` | [`RtpPacket`], [`RtpHeader`] | RFC 3550 §5.1 and §5.3.1: fixed header, CSRCs, header extension, padding |
//! | `ssrc_keys.rs` | [`ssrc_base_key`] | §7 per-SSRC keys, §8 ratcheting with them |
//! | [`session`] | [`session::SendStream`], [`session::ReceiveSession`] | §5 per SSRC with §7/§8 keys; RFC 9605 §4.4.4 frames waiting for their key |
//! | `sdp.rs` (feature `sdp`) | `sdp::SessionDescription`, `sdp::check_answer`, … | §6 SFrame SDP negotiation (`a=sframe`) |
//!
//! ## Payload descriptor (§4)
//!
//! The first byte of every RTP payload: **S** (`0x80`) on the first fragment of an SFrame frame
//! only, **E** (`0x40`) on the last fragment only, **T** (`0x20`) 0 when the protected content is a
//! raw media frame ([`Mode::PerFrame`]) and 1 when it is a packetized RTP payload
//! ([`Mode::PerPacket`]), the same in all fragments of a frame. The 5 other bits are "reserved
//! for future use"; the draft says nothing more, so this module sends them as 0 and ignores
//! them on receipt (the usual rule of RTP payload formats), which keeps it interoperable with a
//! future use of them.
//!
//! ## Sending (§5.1)
//!
//! The SFrame ciphertext of a frame ([`crate::Sender::protect`]) is cut into fragments of at
//! most `max_payload_len - 1` bytes, each sent behind its descriptor in one RTP packet whose
//! header (PT, SSRC, timestamp, CSRCs, extensions) is the media packetizer's; the marker bit,
//! if the frame has it, goes on the last packet only ([`Fragment::write_packet`]). Per-packet
//! SFrame (§5.1.2) protects each media RTP payload on its own: size the media packetizer's
//! payloads with [`max_media_payload_len`] so that each gives exactly one SFrame packet
//! (S = E = 1).
//!
//! ## Receiving (§5.2)
//!
//! A [`Depacketizer`] keeps received packets of one SSRC in fixed-capacity storage (no
//! allocation: const generic packet and byte capacities; [`BoxedDepacketizer`] allocates its
//! storage once, on the heap), in any order, with duplicates and losses. It finds the smallest
//! list of packets consecutive in sequence number (modulo 2^16) from a packet with S to a
//! packet with E, removes it, drops it if the T bits or payload types differ, and yields the
//! concatenated payloads without descriptors. Sequence numbers, which nothing authenticates,
//! are validated as RFC 3550 A.1 does (bounded reordering [`SEQUENCE_WINDOW`] and jump
//! [`MAX_DROPOUT`], re-synchronisation only on two packets in sequence), and a consumed
//! sequence number is refused for [`CONSUMED_MEMORY`] pushes whatever arrives meanwhile, so no
//! frame is yielded twice from the same packets and no single packet stalls the stream
//! (bounds at [`GenericDepacketizer`]). [`GenericDepacketizer::pop_decrypted`] unprotects the
//! frame with a [`Receiver`](crate::Receiver): only frames that authenticated come out.
//!
//! ## Example: per-frame SFrame, with a lost packet
//!
//! ```
//! use sframe_core::rtp::{Depacketizer, Mode, RtpHeader, protect_frame};
//! use sframe_core::{CipherSuite, Receiver, Sender};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let mut tx = Sender::new(suite);
//! tx.set_key(1, &[7; 16])?;
//! let mut rx = Receiver::new(suite);
//! rx.add_key(1, &[7; 16])?;
//!
//! let mut rtp = RtpHeader::new(96, 1000, 90_000, 0x1234_5678);
//! let mut wire: Vec<Vec<u8>> = Vec::new(); // what the network carries
//! for (i, media) in [&[1u8; 3000][..], &[2u8; 700][..]].into_iter().enumerate() {
//!     let mut ciphertext = [0u8; 4096];
//!     rtp.timestamp = 90_000 + 3000 * i as u32;
//!     rtp.marker = true; // the media frame's marker: set on its last packet only
//!     for fragment in protect_frame(&mut tx, b"", media, Mode::PerFrame, 1200, &mut ciphertext)? {
//!         let mut packet = [0u8; 1500];
//!         let n = fragment.write_packet(&rtp, &mut packet)?;
//!         wire.push(packet[..n].to_vec());
//!         rtp.sequence_number = rtp.sequence_number.wrapping_add(1);
//!     }
//! }
//! assert_eq!(wire.len(), 3 + 1);
//! wire.remove(1); // the first frame loses a packet
//!
//! let mut depacketizer = Depacketizer::<16, 8192>::new();
//! let mut out = [0u8; 8192];
//! let mut delivered = Vec::new();
//! for packet in wire.iter().rev() { // and everything arrives in reverse order
//!     depacketizer.push(packet)?;
//!     while let Some(frame) = depacketizer.pop_decrypted(&mut rx, b"", &mut out) {
//!         let frame = frame?;
//!         delivered.push((frame.timestamp, out[..frame.len].to_vec()));
//!     }
//! }
//! assert_eq!(delivered, [(93_000, vec![2u8; 700])]); // only the complete frame
//! # Ok::<(), sframe_core::Error>(())
//! ```

mod depacketize;
mod descriptor;
mod packet;
mod packetize;
#[cfg(feature = "sdp")]
#[cfg_attr(docsrs, doc(cfg(feature = "sdp")))]
pub mod sdp;
pub mod session;
mod ssrc_keys;

pub use depacketize::*;
pub use descriptor::*;
pub use packet::*;
pub use packetize::*;
pub use ssrc_keys::*;
