//! GStreamer plugin `sframe`: RFC 9605 SFrame end-to-end encryption for any GStreamer pipeline.
//!
//! Elements (frame level, RFC 9605 §4: one SFrame frame per buffer):
//!
//! - `sframeenc` protects each buffer (an encoded frame) with an [`sframe_core::Sender`];
//! - `sframedec` verifies and decrypts each buffer with an [`sframe_core::Receiver`] and drops
//!   the ones that do not authenticate, posting `sframe-decrypt-error` element messages.
//!
//! They sit between an encoder (or parser) and a muxer or payloader, and between a demuxer (or
//! depayloader) and a decoder. Caps pass through; `sframeenc` adds `sframe=(boolean)true`,
//! `sframedec` requires it and removes it (see `README.md`, "Negotiation").
//!
//! RTP elements (draft-ietf-avtcore-rtp-sframe, per-frame SFrame over `sframe_core::rtp`):
//!
//! - `rtpsframepay` ([`RtpSFramePay`], a `GstRTPBasePayload`) packetizes the frames
//!   `sframeenc` protected: §4 descriptor, §5.1.1 fragmentation by `mtu`;
//! - `rtpsframedepay` ([`RtpSFrameDepay`], a `GstRTPBaseDepayload`) reassembles, verifies and
//!   decrypts with an `sframe_core::rtp::session::ReceiveSession` (loss, reordering, keys by
//!   KID, per-SSRC keys of §7) and pushes only frames that authenticated.
//!
//! All SFrame logic is `sframe-core`'s: the elements convert buffers, properties, signals and
//! errors, and share the crate's `common` module (cipher-suite enum, keys, statistics, error
//! runs, the codec / RTP caps table).
//!
//! GStreamer loads the plugin from `libgstsframe.so` (`GST_PLUGIN_PATH`); an application that
//! links this crate registers it with [`plugin_register_static`]. Keys go in with action
//! signals, also while PLAYING:
//!
//! ```
//! use gst::prelude::*;
//! use gst_check::Harness;
//!
//! gst::init()?;
//! gstsframe::plugin_register_static()?;
//! let key = gst::glib::Bytes::from_owned(vec![7u8; 16]);
//!
//! let mut enc = Harness::new("sframeenc");
//! let sender = enc.element().ok_or("no element")?;
//! assert!(sender.emit_by_name::<bool>("set-key", &[&1u64, &key]));
//! enc.set_src_caps_str("audio/x-opus");
//! let frame = enc.push_and_pull(gst::Buffer::from_slice(*b"an encoded frame"))?;
//! assert_eq!(frame.size(), 1 + 16 + 16); // header, ciphertext, AES-GCM tag
//!
//! let mut dec = Harness::new("sframedec");
//! let receiver = dec.element().ok_or("no element")?;
//! assert!(receiver.emit_by_name::<bool>("add-key", &[&1u64, &key]));
//! dec.set_src_caps_str("audio/x-opus, sframe=(boolean)true");
//! let plain = dec.push_and_pull(frame)?;
//! assert_eq!(plain.map_readable()?.as_slice(), b"an encoded frame");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use gst::glib;

mod common;
mod rtpsframedepay;
mod rtpsframepay;
mod sframedec;
mod sframeenc;

pub use common::Suite;
pub use rtpsframedepay::RtpSFrameDepay;
pub use rtpsframepay::RtpSFramePay;
pub use sframedec::SFrameDec;
pub use sframeenc::SFrameEnc;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    sframeenc::register(plugin)?;
    sframedec::register(plugin)?;
    rtpsframepay::register(plugin)?;
    rtpsframedepay::register(plugin)?;
    Ok(())
}

// The plugin's entry points: `gst_plugin_sframe_get_desc` (the cdylib GStreamer loads) and
// `plugin_register_static` (static use, the tests). The licence string must be one GStreamer
// knows ("MIT OR Apache-2.0" is not: such a plugin is refused); this crate is MIT OR
// Apache-2.0, the MIT half is declared. (The macro's own unsafe code is not this crate's:
// `forbid(unsafe_code)` covers what is written here.)
gst::plugin_define!(
    sframe,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    env!("CARGO_PKG_VERSION"),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "https://www.rfc-editor.org/rfc/rfc9605"
);
