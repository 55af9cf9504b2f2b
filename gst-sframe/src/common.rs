//! What the plugin's elements share: the cipher-suite property type, the key properties and
//! signals, key parsing, the caps field that marks SFrame-protected buffers, pad templates,
//! statistics, and the error-run rule for bus messages. Nothing SFrame-specific is computed
//! here: that is `sframe-core`'s.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use gst::glib;
use gst::prelude::*;
use sframe_core::{CipherSuite, Error};
use zeroize::Zeroizing;

/// The caps field that tells downstream the buffers are SFrame frames:
/// `sframe=(boolean)true`, added by `sframeenc`, required and removed by `sframedec`.
pub const CAPS_FIELD: &str = "sframe";

/// The `cipher-suite` property: the IANA SFrame cipher suites (RFC 9605 §8.1 and
/// draft-barnes-sframe-iana-256). Values are the registry numbers; nicks are the registry
/// names also used by the W3C API (e.g. `AES_128_GCM_SHA256_128`), so gst-launch takes
/// `cipher-suite=AES_128_GCM_SHA256_128` or `cipher-suite=4`.
#[derive(Debug, Eq, PartialEq, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstSFrameCipherSuite")]
pub enum Suite {
    /// RFC 9605 suite 1.
    #[enum_value(
        name = "AES-128-CTR + HMAC-SHA-256, 80-bit tag (RFC 9605, 0x0001)",
        nick = "AES_128_CTR_HMAC_SHA256_80"
    )]
    AesCtr128HmacSha256_80 = 1,
    /// RFC 9605 suite 2.
    #[enum_value(
        name = "AES-128-CTR + HMAC-SHA-256, 64-bit tag (RFC 9605, 0x0002)",
        nick = "AES_128_CTR_HMAC_SHA256_64"
    )]
    AesCtr128HmacSha256_64 = 2,
    /// RFC 9605 suite 3.
    #[enum_value(
        name = "AES-128-CTR + HMAC-SHA-256, 32-bit tag (RFC 9605, 0x0003)",
        nick = "AES_128_CTR_HMAC_SHA256_32"
    )]
    AesCtr128HmacSha256_32 = 3,
    /// RFC 9605 suite 4 (the default).
    #[default]
    #[enum_value(
        name = "AES-128-GCM, SHA-256, 128-bit tag (RFC 9605, 0x0004)",
        nick = "AES_128_GCM_SHA256_128"
    )]
    AesGcm128Sha256 = 4,
    /// RFC 9605 suite 5.
    #[enum_value(
        name = "AES-256-GCM, SHA-512, 128-bit tag (RFC 9605, 0x0005)",
        nick = "AES_256_GCM_SHA512_128"
    )]
    AesGcm256Sha512 = 5,
    /// draft-barnes-sframe-iana-256 suite 6.
    #[enum_value(
        name = "AES-256-CTR + HMAC-SHA-512, 80-bit tag (0x0006)",
        nick = "AES_256_CTR_HMAC_SHA512_80"
    )]
    AesCtr256HmacSha512_80 = 6,
    /// draft-barnes-sframe-iana-256 suite 7.
    #[enum_value(
        name = "AES-256-CTR + HMAC-SHA-512, 64-bit tag (0x0007)",
        nick = "AES_256_CTR_HMAC_SHA512_64"
    )]
    AesCtr256HmacSha512_64 = 7,
    /// draft-barnes-sframe-iana-256 suite 8.
    #[enum_value(
        name = "AES-256-CTR + HMAC-SHA-512, 32-bit tag (0x0008)",
        nick = "AES_256_CTR_HMAC_SHA512_32"
    )]
    AesCtr256HmacSha512_32 = 8,
}

impl Suite {
    /// The core's cipher suite.
    pub fn core(self) -> CipherSuite {
        match self {
            Suite::AesCtr128HmacSha256_80 => CipherSuite::AesCtr128HmacSha256_80,
            Suite::AesCtr128HmacSha256_64 => CipherSuite::AesCtr128HmacSha256_64,
            Suite::AesCtr128HmacSha256_32 => CipherSuite::AesCtr128HmacSha256_32,
            Suite::AesGcm128Sha256 => CipherSuite::AesGcm128Sha256,
            Suite::AesGcm256Sha512 => CipherSuite::AesGcm256Sha512,
            Suite::AesCtr256HmacSha512_80 => CipherSuite::AesCtr256HmacSha512_80,
            Suite::AesCtr256HmacSha512_64 => CipherSuite::AesCtr256HmacSha512_64,
            Suite::AesCtr256HmacSha512_32 => CipherSuite::AesCtr256HmacSha512_32,
        }
    }
}

/// Parses the `key-hex` property: an even number of hex digits (upper or lower case). The
/// result is wiped when dropped.
pub fn parse_hex_key(hex: &str) -> Option<Zeroizing<Vec<u8>>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let digits = hex.as_bytes();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut key = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks_exact(2) {
        let (hi, lo) = (pair.first().copied()?, pair.get(1).copied()?);
        key.push(nibble(hi)? << 4 | nibble(lo)?);
    }
    Some(key)
}

/// The `cipher-suite` property (settable in READY or below), with the element's `blurb`.
pub fn cipher_suite_property(blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecEnum::builder_with_default("cipher-suite", Suite::default())
        .nick("Cipher suite")
        .blurb(blurb)
        .mutable_ready()
        .build()
}

/// The `key-id` property: the KID of the `key` / `key-hex` key.
pub fn key_id_property(blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder("key-id")
        .nick("Key ID")
        .blurb(blurb)
        .mutable_playing()
        .build()
}

/// The write-only `key` property (a base key as bytes).
pub fn key_property(blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecBoxed::builder::<glib::Bytes>("key")
        .nick("Base key")
        .blurb(blurb)
        .write_only()
        .mutable_playing()
        .build()
}

/// The write-only `key-hex` property (the `key` in hexadecimal).
pub fn key_hex_property() -> glib::ParamSpec {
    glib::ParamSpecString::builder("key-hex")
        .nick("Base key, hex")
        .blurb(
            "As 'key', in hexadecimal, for gst-launch-1.0 and tests only: a key on \
             a command line is visible to other users (write-only)",
        )
        .write_only()
        .mutable_playing()
        .build()
}

/// A read-only statistics property (`stats` or `sframe-stats`) holding a `GstStructure`.
pub fn stats_property(name: &str, nick: &str, blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecBoxed::builder::<gst::Structure>(name)
        .nick(nick)
        .blurb(blurb)
        .read_only()
        .build()
}

/// What a value set on the `key` or `key-hex` property gives.
pub enum KeyValue {
    /// A key (wiped when dropped).
    Key(Zeroizing<Vec<u8>>),
    /// `NULL` (or a value of another type): keys cannot be removed this way.
    Unset,
    /// `key-hex` that is not an even number of hex digits.
    NotHex,
}

/// Reads `value` as set on the property `name` (`key`: bytes, `key-hex`: a hex string).
pub fn key_value(name: &str, value: &glib::Value) -> KeyValue {
    if name == "key-hex" {
        match value.get::<Option<&str>>() {
            Ok(Some(hex)) => parse_hex_key(hex).map_or(KeyValue::NotHex, KeyValue::Key),
            _ => KeyValue::Unset,
        }
    } else {
        match value.get::<Option<glib::Bytes>>() {
            Ok(Some(key)) => KeyValue::Key(Zeroizing::new(key.to_vec())),
            _ => KeyValue::Unset,
        }
    }
}

/// The key an element installs for the base key `base`: `base` itself, or with per-SSRC keys
/// (`per_ssrc`) the draft-ietf-avtcore-rtp-sframe §7 key of `ssrc` derived from it with
/// `suite`'s hash — once, when the key is installed, never per buffer. `Ok(None)` if
/// `per_ssrc` and no SSRC is known yet (nothing can be installed); errors of
/// [`sframe_core::rtp::ssrc_base_key`] (a base key shorter than 16 bytes).
pub fn stream_key(
    suite: Suite,
    per_ssrc: bool,
    ssrc: Option<u32>,
    base: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
    if !per_ssrc {
        return Ok(Some(Zeroizing::new(base.to_vec())));
    }
    let Some(ssrc) = ssrc else {
        return Ok(None);
    };
    let mut buf = Zeroizing::new([0u8; 64]);
    let n = sframe_core::rtp::ssrc_base_key(suite.core(), base, ssrc, &mut buf[..])?;
    Ok(Some(Zeroizing::new(
        buf.get(..n).ok_or(Error::InvalidKey)?.to_vec(),
    )))
}

/// What the frame-level elements (`sframeenc`, `sframedec`) derive their keys with: the
/// cipher suite and the `per-ssrc` / `ssrc` properties.
pub type Derivation = (Suite, bool, Option<u32>);

/// `set_property` of `cipher-suite`, `per-ssrc` or `ssrc` on a frame-level element: the
/// derivation `current` with property `name` set to `value`, and how messages name that
/// property; `None` for another property or a value of the wrong type.
pub fn derivation_property(
    current: Derivation,
    name: &str,
    value: &glib::Value,
) -> Option<(&'static str, Derivation)> {
    let (suite, per_ssrc, ssrc) = current;
    match name {
        "cipher-suite" => Some((
            "the cipher suite",
            (value.get::<Suite>().ok()?, per_ssrc, ssrc),
        )),
        "per-ssrc" => Some(("per-ssrc", (suite, value.get::<bool>().ok()?, ssrc))),
        "ssrc" => Some((
            "the SSRC",
            (suite, per_ssrc, Some(value.get::<u32>().ok()?)),
        )),
        _ => None,
    }
}

/// The `per-ssrc` property of the frame-level elements (`sframeenc`, `sframedec`).
pub fn per_ssrc_property(blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecBoolean::builder("per-ssrc")
        .nick("Per-SSRC keys")
        .blurb(blurb)
        .default_value(false)
        .build()
}

/// The `ssrc` property of the frame-level elements (`sframeenc`, `sframedec`).
pub fn ssrc_property(blurb: &str) -> glib::ParamSpec {
    glib::ParamSpecUInt::builder("ssrc")
        .nick("SSRC")
        .blurb(blurb)
        .build()
}

/// An action signal `name(kid: guint64, key: GBytes) -> gboolean` (`set-key`, `add-key`) of
/// elements of type `E`: `f` installs the key and says whether it did.
pub fn key_signal<E: IsA<glib::Object>>(
    name: &str,
    f: impl Fn(&E, u64, Zeroizing<Vec<u8>>) -> bool + Send + Sync + 'static,
) -> glib::subclass::Signal {
    glib::subclass::Signal::builder(name)
        .param_types([u64::static_type(), glib::Bytes::static_type()])
        .return_type::<bool>()
        .action()
        .class_handler(move |args| {
            let done = (|| {
                let element = signal_element::<E>(args)?;
                let kid = args.get(1)?.get::<u64>().ok()?;
                let key = Zeroizing::new(args.get(2)?.get::<glib::Bytes>().ok()?.to_vec());
                Some(f(&element, kid, key))
            })();
            Some(done.unwrap_or(false).to_value())
        })
        .build()
}

/// The action signal `remove-key(kid: guint64) -> gboolean` of elements of type `E`: `f`
/// removes the key and says whether there was one; the outcome is logged in `cat`.
pub fn remove_key_signal<E: IsA<glib::Object>>(
    cat: gst::DebugCategory,
    f: impl Fn(&E, u64) -> bool + Send + Sync + 'static,
) -> glib::subclass::Signal {
    glib::subclass::Signal::builder("remove-key")
        .param_types([u64::static_type()])
        .return_type::<bool>()
        .action()
        .class_handler(move |args| {
            let done = (|| {
                let element = signal_element::<E>(args)?;
                let kid = args.get(1)?.get::<u64>().ok()?;
                let removed = f(&element, kid);
                gst::info!(cat, obj = &element, "remove-key: KID {kid} ({removed})");
                Some(removed)
            })();
            Some(done.unwrap_or(false).to_value())
        })
        .build()
}

/// `args[0]` (the element a signal was emitted on) as an `E`.
fn signal_element<E: IsA<glib::Object>>(args: &[glib::Value]) -> Option<E> {
    args.first()?
        .get::<glib::Object>()
        .ok()?
        .downcast::<E>()
        .ok()
}

/// Logs the outcome of a key operation `what` for `kid` (`add-key`, `key`, `key-id`) on `obj`
/// and returns whether it succeeded.
pub fn log_key_result(
    cat: gst::DebugCategory,
    obj: &impl IsA<glib::Object>,
    what: &str,
    kid: u64,
    result: Result<(), Error>,
) -> bool {
    match result {
        Ok(()) => {
            gst::info!(cat, obj = obj, "{what}: KID {kid}");
            true
        }
        Err(e) => {
            gst::error!(cat, obj = obj, "{what}: KID {kid} refused: {e}");
            false
        }
    }
}

/// Posts `s` as an element message from `element`.
pub fn post_element_message(element: &impl IsA<gst::Element>, s: gst::Structure) {
    let element = element.upcast_ref::<gst::Element>();
    let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
}

/// Element metadata with the plugin's author.
pub fn element_metadata(
    long_name: &str,
    classification: &str,
    description: &str,
) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(long_name, classification, description, "sframe project")
}

/// The pad templates of `sframeenc` and `sframedec`: `src` and `sink`, any caps.
pub fn any_caps_pad_templates() -> Vec<gst::PadTemplate> {
    let caps = gst::Caps::new_any();
    pad_templates(&[
        (gst::PadDirection::Src, &caps),
        (gst::PadDirection::Sink, &caps),
    ])
}

/// Always-present pad templates, in the order given, named `sink` / `src` after their
/// direction.
pub fn pad_templates(pads: &[(gst::PadDirection, &gst::Caps)]) -> Vec<gst::PadTemplate> {
    pads.iter()
        .filter_map(|(dir, caps)| {
            let name = if *dir == gst::PadDirection::Src {
                "src"
            } else {
                "sink"
            };
            gst::PadTemplate::new(name, *dir, gst::PadPresence::Always, caps).ok()
        })
        .collect()
}

/// Locks `m`, also after a panic elsewhere (the states behind these mutexes stay consistent:
/// every update is a single step).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Rate limit for error messages on the bus: one message per run of consecutive failures of
/// the same kind; a success ends the run (libwebrtc's frame decryptor reports the same way:
/// on a change of status).
#[derive(Debug, Default)]
pub struct ErrorRuns {
    current: Option<Error>,
}

impl ErrorRuns {
    /// Records a failure; `true` if it starts a new run (then post a message).
    pub fn failure(&mut self, err: Error) -> bool {
        let starts = self.current != Some(err);
        self.current = Some(err);
        starts
    }

    /// Records a success: the next failure starts a new run.
    pub fn success(&mut self) {
        self.current = None;
    }
}

/// Frame and byte counters of one element, exposed by its `stats` property.
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_in: u64,
    pub bytes_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    /// Dropped frames by [`Error::code`].
    pub failures: BTreeMap<&'static str, u64>,
}

impl Counters {
    pub fn input(&mut self, len: usize) {
        self.frames_in = self.frames_in.saturating_add(1);
        self.bytes_in = self.bytes_in.saturating_add(len as u64);
    }

    pub fn output(&mut self, len: usize) {
        self.frames_out = self.frames_out.saturating_add(1);
        self.bytes_out = self.bytes_out.saturating_add(len as u64);
    }

    pub fn failure(&mut self, err: Error) {
        let n = self.failures.entry(err.code()).or_default();
        *n = n.saturating_add(1);
    }

    /// The common fields of the `stats` structure: `frames-in`, `bytes-in`, `frames-out`,
    /// `bytes-out`, `dropped` (all `guint64`) and `failures`, a structure with one `guint64`
    /// field per reason seen (sframe-core's error codes, e.g. `authentication_failed`).
    pub fn builder(&self, name: &str) -> gst::structure::Builder {
        let mut failures = gst::Structure::builder("failures");
        for (code, n) in &self.failures {
            failures = failures.field(*code, *n);
        }
        let dropped = self
            .failures
            .values()
            .fold(0u64, |a, n| a.saturating_add(*n));
        gst::Structure::builder(name)
            .field("frames-in", self.frames_in)
            .field("bytes-in", self.bytes_in)
            .field("frames-out", self.frames_out)
            .field("bytes-out", self.bytes_out)
            .field("dropped", dropped)
            .field("failures", failures.build())
    }
}

/// The element message posted when a run of failures starts (see [`ErrorRuns`]): fields
/// `kind` (sframe-core's error code, e.g. `authentication_failed`), `message` (its text),
/// and `key-id` / `counter` (`guint64`) when known.
pub fn error_structure(
    name: &str,
    err: Error,
    key_id: Option<u64>,
    counter: Option<u64>,
) -> gst::Structure {
    gst::Structure::builder(name)
        .field("kind", err.code())
        .field("message", err.message())
        .field_if_some("key-id", key_id)
        .field_if_some("counter", counter)
        .build()
}

fn map_structures(caps: &gst::Caps, f: impl Fn(&mut gst::StructureRef) -> bool) -> gst::Caps {
    if caps.is_any() {
        return caps.clone();
    }
    let mut out = gst::Caps::new_empty();
    {
        let out = out.make_mut();
        for (s, features) in caps.iter_with_features() {
            let mut s = s.to_owned();
            if f(&mut s) {
                out.append_structure_full(s, Some(features.to_owned()));
            }
        }
    }
    out
}

/// `caps` as they are after protection: every structure gets `sframe=true`; a structure
/// that already says `sframe=true` is dropped (these elements do not protect twice).
pub fn protected_caps(caps: &gst::Caps) -> gst::Caps {
    map_structures(caps, |s| {
        if s.get_optional::<bool>(CAPS_FIELD) == Ok(Some(true)) {
            return false;
        }
        s.set(CAPS_FIELD, true);
        true
    })
}

/// `caps` as they are after unprotection: the `sframe` field is removed; a structure that
/// says `sframe=false` is dropped (it is not SFrame).
pub fn unprotected_caps(caps: &gst::Caps) -> gst::Caps {
    map_structures(caps, |s| {
        if s.get_optional::<bool>(CAPS_FIELD) == Ok(Some(false)) {
            return false;
        }
        s.remove_field(CAPS_FIELD);
        true
    })
}

/// Whether every structure of `caps` says `sframe=true` (what `sframedec` accepts).
pub fn says_protected(caps: &gst::Caps) -> bool {
    !caps.is_empty()
        && !caps.is_any()
        && caps
            .iter()
            .all(|s| s.get_optional::<bool>(CAPS_FIELD) == Ok(Some(true)))
}

/// `transform_caps` of an element that protects (`protects`, `sframeenc`) or unprotects
/// (`sframedec`): the caps on the other side of `caps`, which are on the `direction` pad.
pub fn transform_caps(
    protects: bool,
    direction: gst::PadDirection,
    caps: &gst::Caps,
) -> Option<gst::Caps> {
    let protecting = match direction {
        gst::PadDirection::Sink => protects,
        gst::PadDirection::Src => !protects,
        _ => return None,
    };
    Some(if protecting {
        protected_caps(caps)
    } else {
        unprotected_caps(caps)
    })
}

/// `caps` restricted to `filter` (in the filter's order of preference), if any.
pub fn filtered(caps: gst::Caps, filter: Option<&gst::Caps>) -> gst::Caps {
    match filter {
        Some(filter) => filter.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
        None => caps,
    }
}

/// The media formats the RTP elements map between encoded-frame caps and RTP caps
/// (draft-ietf-avtcore-rtp-sframe §6: an SFrame media section keeps its codecs' `a=rtpmap`
/// encoding names, e.g. `H264/90000`, `opus/48000/2`): caps name, RTP `media`, encoding
/// name, clock rate.
const RTP_MEDIA: &[(&str, &str, &str, u32)] = &[
    ("video/x-h264", "video", "H264", 90_000),
    ("video/x-h265", "video", "H265", 90_000),
    ("video/x-vp8", "video", "VP8", 90_000),
    ("video/x-vp9", "video", "VP9", 90_000),
    ("video/x-av1", "video", "AV1", 90_000),
    ("audio/x-opus", "audio", "OPUS", 48_000),
];

/// The RTP `media`, encoding name and clock rate for encoded frames of caps name `name`.
pub fn rtp_media_for(name: &str) -> Option<(&'static str, &'static str, u32)> {
    RTP_MEDIA
        .iter()
        .find(|(caps, ..)| *caps == name)
        .map(|(_, media, enc, rate)| (*media, *enc, *rate))
}

/// The caps of the encoded frames an SFrame RTP stream with encoding name `encoding_name`
/// carries (case-insensitive, as SDP): H.264 / H.265 as byte-stream access units (what
/// `h264parse` / `h265parse` take), Opus with `channel-mapping-family=0` and `channels`
/// (RTP `encoding-params`, default 2).
pub fn frame_caps_for(encoding_name: &str, channels: Option<i32>) -> Option<gst::Caps> {
    let name = RTP_MEDIA
        .iter()
        .find(|(_, _, enc, _)| enc.eq_ignore_ascii_case(encoding_name))
        .map(|(caps, ..)| *caps)?;
    let mut s = gst::Structure::new_empty(name);
    match name {
        "video/x-h264" | "video/x-h265" => {
            s.set("stream-format", "byte-stream");
            s.set("alignment", "au");
        }
        "audio/x-opus" => {
            s.set("channel-mapping-family", 0i32);
            s.set("channels", channels.unwrap_or(2));
            s.set("rate", 48_000i32);
        }
        _ => {}
    }
    Some(gst::Caps::builder_full().structure(s).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_enum_matches_the_core_registry() {
        gst::init().unwrap();
        let class = glib::EnumClass::with_type(Suite::static_type()).unwrap();
        assert_eq!(class.values().len(), CipherSuite::ALL.len());
        for suite in CipherSuite::ALL {
            let v = class.value(u32::from(suite.id()) as i32).unwrap();
            assert_eq!(v.nick(), suite.name());
            let ours: Suite = v.to_value(&class).get().unwrap();
            assert_eq!(ours.core(), suite);
        }
        assert_eq!(Suite::default().core(), CipherSuite::AesGcm128Sha256);
    }

    #[test]
    fn hex_keys() {
        assert_eq!(parse_hex_key("00fF10").as_deref(), Some(&vec![0, 255, 16]));
        for bad in ["", "0", "0g", "00 11", "é0"] {
            assert!(parse_hex_key(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn one_message_per_run_of_identical_errors() {
        let mut runs = ErrorRuns::default();
        let posted: Vec<bool> = [
            Some(Error::AuthenticationFailed),
            Some(Error::AuthenticationFailed),
            Some(Error::UnknownKeyId),
            Some(Error::UnknownKeyId),
            None,
            Some(Error::UnknownKeyId),
            Some(Error::AuthenticationFailed),
        ]
        .into_iter()
        .map(|e| match e {
            Some(e) => runs.failure(e),
            None => {
                runs.success();
                false
            }
        })
        .collect();
        assert_eq!(posted, [true, false, true, false, false, true, true]);
    }

    #[test]
    fn caps_field_round_trip() {
        gst::init().unwrap();
        let plain: gst::Caps = "video/x-h264, stream-format=byte-stream; audio/x-opus"
            .parse()
            .unwrap();
        let marked = protected_caps(&plain);
        assert_eq!(
            marked.to_string(),
            "video/x-h264, stream-format=(string)byte-stream, sframe=(boolean)true; \
             audio/x-opus, sframe=(boolean)true"
        );
        assert!(says_protected(&marked));
        assert!(!says_protected(&plain));
        assert_eq!(unprotected_caps(&marked), plain);
        // Not protected twice; `sframe=false` is not unprotected.
        assert!(protected_caps(&marked).is_empty());
        let unmarked: gst::Caps = "video/x-vp8, sframe=(boolean)false".parse().unwrap();
        assert!(unprotected_caps(&unmarked).is_empty());
        assert!(protected_caps(&gst::Caps::new_any()).is_any());
    }

    #[test]
    fn rtp_media_table_round_trips() {
        gst::init().unwrap();
        for (caps, ..) in RTP_MEDIA {
            let (_, enc, _) = rtp_media_for(caps).unwrap();
            let back = frame_caps_for(&enc.to_lowercase(), None).unwrap();
            assert_eq!(back.structure(0).unwrap().name(), *caps);
        }
        assert_eq!(
            rtp_media_for("audio/x-opus"),
            Some(("audio", "OPUS", 48_000))
        );
        assert!(rtp_media_for("video/x-raw").is_none());
        assert!(frame_caps_for("PCMU", None).is_none());
    }
}
