//! `rtpsframedepay` implementation. Every RTP packet goes to an
//! `sframe_core::rtp::session::ReceiveSession`, which reassembles frames per SSRC (§5.2:
//! from a packet with S to one with E, consecutive in sequence number, in any arrival order,
//! losses dropping the incomplete frame), validates sequence numbers, verifies and decrypts
//! them (RFC 9605 §4.4.4; with `per-ssrc`, draft §7 keys), and holds frames whose KID has no
//! key yet for a while (`max-wait`). Only frames that authenticated are pushed; failures are
//! counted and reported on the bus, one message per run.
//!
//! The session's storage is fixed when it is made (at the first packet): [`STREAMS`] SSRCs,
//! each with [`PACKETS`] packets / [`BYTES`] bytes in reassembly and [`WAIT_FRAMES`] frames /
//! [`WAIT_BYTES`] bytes waiting for a key; [`KIDS`] KIDs.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtp::prelude::*;
use gst_rtp::subclass::prelude::*;
use sframe_core::Error;
use sframe_core::ReceiverConfig;
use sframe_core::rtp::session::{BoxedReceiveSession, Event, SessionConfig};
use sframe_core::rtp::{Mode, RtpHeader};
use zeroize::Zeroizing;

use crate::common::{
    CAPS_FIELD, Counters, ErrorRuns, KeyValue, Suite, cipher_suite_property, element_metadata,
    error_structure, frame_caps_for, key_hex_property, key_id_property, key_property, key_signal,
    key_value, lock, log_key_result, pad_templates, post_element_message, remove_key_signal,
    stats_property,
};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "rtpsframedepay",
        gst::DebugColorFlags::empty(),
        Some("SFrame RTP depayloader"),
    )
});

/// Packets of one SSRC in reassembly.
const PACKETS: usize = 1024;
/// Payload bytes of one SSRC in reassembly: also the largest frame.
const BYTES: usize = 1 << 20;
/// Frames of one SSRC waiting for their key.
const WAIT_FRAMES: usize = 16;
/// Their bytes.
const WAIT_BYTES: usize = 1 << 20;
/// KIDs (keys in use and removed KIDs remembered).
const KIDS: usize = 16;
/// SSRCs (an RTP session's stream, plus one for an SSRC change).
const STREAMS: usize = 2;

type Session = BoxedReceiveSession<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, KIDS>;

/// Name of the element message posted when a run of failures starts.
const ERROR_MESSAGE: &str = "sframe-decrypt-error";
/// Posted when frames start waiting for a key the element does not have.
const AWAITING_MESSAGE: &str = "sframe-awaiting-key";
/// Posted when a key first authenticates a frame of a stream (then older keys can go).
const AUTHENTICATED_MESSAGE: &str = "sframe-key-authenticated";

struct State {
    suite: Suite,
    per_ssrc: bool,
    max_wait_ms: u64,
    key_id: u64,
    /// The KID of the `key` / `key-hex` key.
    property_kid: Option<u64>,
    /// Base keys in use, to install them in the session when it is made. Wiped on drop.
    keys: BTreeMap<u64, Zeroizing<Vec<u8>>>,
    /// Made at the first packet; from then on suite and per-SSRC setting are fixed.
    session: Option<Box<Session>>,
    out: Vec<u8>,
    epoch: Instant,
    counters: Counters,
    packets_in: u64,
    packets_refused: u64,
    awaiting: u64,
    /// Frames that authenticated but are per-packet SFrame (T = 1), not pushed.
    per_packet: u64,
    runs: ErrorRuns,
}

impl Default for State {
    fn default() -> Self {
        State {
            suite: Suite::default(),
            per_ssrc: false,
            max_wait_ms: 2_000,
            key_id: 0,
            property_kid: None,
            keys: BTreeMap::new(),
            session: None,
            out: Vec::new(),
            epoch: Instant::now(),
            counters: Counters::default(),
            packets_in: 0,
            packets_refused: 0,
            awaiting: 0,
            per_packet: 0,
            runs: ErrorRuns::default(),
        }
    }
}

impl State {
    fn add_key(&mut self, kid: u64, key: Zeroizing<Vec<u8>>) -> Result<(), Error> {
        if let Some(session) = &mut self.session {
            session.add_key(kid, &key)?;
        } else {
            // Checked now rather than at the first packet: a receiver for the suite.
            sframe_core::Receiver::new(self.suite.core()).add_key(kid, &key)?;
        }
        self.keys.insert(kid, key);
        Ok(())
    }

    fn remove_key(&mut self, kid: u64) -> bool {
        if self.property_kid == Some(kid) {
            self.property_kid = None;
        }
        let had = self.keys.remove(&kid).is_some();
        match &mut self.session {
            Some(session) => session.remove_key(kid),
            None => had,
        }
    }

    fn set_property_key(&mut self, kid: u64, key: Zeroizing<Vec<u8>>) -> Result<(), Error> {
        self.add_key(kid, key)?;
        if let Some(old) = self.property_kid.take()
            && old != kid
        {
            self.remove_key(old);
        }
        self.property_kid = Some(kid);
        Ok(())
    }

    /// The session, made at the first packet with the keys given so far.
    fn session(&mut self) -> &mut Session {
        let (keys, out) = (&self.keys, &mut self.out);
        let config = SessionConfig::new(ReceiverConfig::new(self.suite.core()))
            .with_per_ssrc_keys(self.per_ssrc)
            .with_max_wait(self.max_wait_ms);
        self.session.get_or_insert_with(|| {
            // BoxedReceiveSession allocates each slot's buffers in place on the heap: the
            // caller's stack holds one small slot value at a time.
            let mut session = Box::new(Session::with_capacity(config, STREAMS));
            for (kid, key) in keys {
                if let Err(e) = session.add_key(*kid, key) {
                    gst::error!(CAT, "KID {kid}: {e}");
                }
            }
            *out = vec![0; BYTES];
            session
        })
    }

    fn stats(&self) -> gst::Structure {
        let mut b = self
            .counters
            .builder("rtpsframedepay-stats")
            .field("packets-in", self.packets_in)
            .field("packets-refused", self.packets_refused)
            .field("awaiting-key", self.awaiting)
            .field("per-packet-frames", self.per_packet);
        if let Some(session) = &self.session {
            let keys = session.kids_stats().filter(|k| k.active).map(|k| {
                gst::Structure::builder("key")
                    .field("key-id", k.kid)
                    .field("frames", k.counters.frames)
                    .field("auth-failures", k.counters.failures.authentication)
                    .build()
                    .to_send_value()
            });
            let streams = session.streams_stats().map(|s| {
                gst::Structure::builder("stream")
                    .field("ssrc", s.ssrc)
                    .field("packets", s.packets.packets)
                    .field("duplicates", s.packets.duplicates)
                    .field("late", s.packets.late)
                    .field("incomplete-frames", s.packets.dropped_frames)
                    .field("frames-in", s.frames_in)
                    .field("frames-out", s.frames_out)
                    .build()
                    .to_send_value()
            });
            b = b
                .field("keys", gst::Array::from_values(keys))
                .field("streams", gst::Array::from_values(streams));
        }
        b.build()
    }
}

#[derive(Default)]
pub struct RtpSFrameDepay {
    state: Mutex<State>,
}

impl RtpSFrameDepay {
    fn log_result(&self, what: &str, kid: u64, result: Result<(), Error>) -> bool {
        log_key_result(*CAT, &*self.obj(), what, kid, result)
    }

    fn set_property_key(&self, key: Zeroizing<Vec<u8>>) {
        let mut st = lock(&self.state);
        let kid = st.key_id;
        let result = st.set_property_key(kid, key);
        drop(st);
        self.log_result("key", kid, result);
    }

    fn post(&self, s: gst::Structure) {
        post_element_message(&*self.obj(), s);
    }
}

#[glib::object_subclass]
impl ObjectSubclass for RtpSFrameDepay {
    const NAME: &'static str = "GstRtpSFrameDepay";
    type Type = super::RtpSFrameDepay;
    type ParentType = gst_rtp::RTPBaseDepayload;
}

impl ObjectImpl for RtpSFrameDepay {
    fn constructed(&self) {
        self.parent_constructed();
        // The base class drops a packet older than the last one (a reordered packet) unless
        // max-reorder is 0; the session reorders and validates sequence numbers itself (RFC
        // 3550 A.1, bounded), so every packet goes to it.
        self.obj().set_max_reorder(0);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                cipher_suite_property(
                    "SFrame cipher suite (IANA registry name or number); fixed at the first packet",
                ),
                glib::ParamSpecBoolean::builder("per-ssrc")
                    .nick("Per-SSRC keys")
                    .blurb(
                        "Keys are session base keys; each RTP stream uses the key derived for its \
                         SSRC (draft-ietf-avtcore-rtp-sframe §7); fixed at the first packet",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("max-wait")
                    .nick("Maximum wait (ms)")
                    .blurb("How long a frame whose KID has no key yet waits for it (RFC 9605 §4.4.4); fixed at the first packet")
                    .default_value(2_000)
                    .mutable_ready()
                    .build(),
                key_id_property(
                    "KID of the key given by 'key' or 'key-hex'; changing it moves that key to the new KID",
                ),
                key_property("Base key (at least 16 bytes) for 'key-id', added at once (write-only)"),
                key_hex_property(),
                stats_property(
                    "sframe-stats",
                    "SFrame statistics",
                    "packets-in, packets-refused, frames-out, bytes-out, dropped, failures \
                     (count per reason), awaiting-key, per-packet-frames (T = 1, not pushed), keys (key-id, frames, auth-failures), \
                     streams (ssrc, packets, duplicates, late, incomplete-frames, frames-in, \
                     frames-out). The base class's 'stats' has the RTP state",
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                // add-key(kid, key) -> added: frames under `kid` are decrypted with it (those
                // waiting for it too). The same key again keeps its replay window.
                key_signal("add-key", |element: &super::RtpSFrameDepay, kid, key| {
                    let imp = element.imp();
                    let result = lock(&imp.state).add_key(kid, key);
                    imp.log_result("add-key", kid, result)
                }),
                // remove-key(kid) -> removed: its frames are dropped from then on, and the
                // KID cannot be added again (its replay window would start afresh).
                remove_key_signal(*CAT, |element: &super::RtpSFrameDepay, kid| {
                    lock(&element.imp().state).remove_key(kid)
                }),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut st = lock(&self.state);
        let fixed = st.session.is_some();
        match pspec.name() {
            "cipher-suite" | "per-ssrc" | "max-wait" if fixed => {
                gst::error!(
                    CAT,
                    imp = self,
                    "{}: fixed at the first packet",
                    pspec.name()
                );
            }
            "cipher-suite" => {
                let Ok(suite) = value.get::<Suite>() else {
                    return;
                };
                // Keys are kept as given and installed when the session is made: any order
                // of properties works until the first packet.
                if st.keys.values().all(|key| {
                    sframe_core::Receiver::new(suite.core())
                        .add_key(0, key)
                        .is_ok()
                }) {
                    st.suite = suite;
                } else {
                    gst::error!(CAT, imp = self, "cipher-suite: a key does not fit it");
                }
            }
            "per-ssrc" => st.per_ssrc = value.get().unwrap_or(false),
            "max-wait" => st.max_wait_ms = value.get().unwrap_or(2_000),
            "key-id" => {
                let Ok(kid) = value.get::<u64>() else {
                    return;
                };
                st.key_id = kid;
                let key = st.property_kid.and_then(|k| st.keys.get(&k).cloned());
                if let Some(key) = key {
                    let result = st.set_property_key(kid, key);
                    drop(st);
                    self.log_result("key-id", kid, result);
                }
            }
            name @ ("key" | "key-hex") => match key_value(name, value) {
                KeyValue::Key(key) => {
                    drop(st);
                    self.set_property_key(key);
                }
                KeyValue::Unset if name == "key" => {
                    gst::error!(CAT, imp = self, "key: use remove-key to remove a key")
                }
                KeyValue::Unset | KeyValue::NotHex => {
                    gst::error!(CAT, imp = self, "key-hex: not an even number of hex digits")
                }
            },
            other => gst::warning!(CAT, imp = self, "unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let st = lock(&self.state);
        match pspec.name() {
            "cipher-suite" => st.suite.to_value(),
            "per-ssrc" => st.per_ssrc.to_value(),
            "max-wait" => st.max_wait_ms.to_value(),
            "key-id" => st.key_id.to_value(),
            "sframe-stats" => st.stats().to_value(),
            _ => pspec.default_value().clone(),
        }
    }
}

impl GstObjectImpl for RtpSFrameDepay {}

impl ElementImpl for RtpSFrameDepay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            element_metadata(
                "SFrame RTP depayloader",
                "Codec/Depayloader/Network/RTP",
                "Reassembles SFrame frames from RTP packets of the SFrame payload format \
                 (draft-ietf-avtcore-rtp-sframe: any order, losses drop the incomplete frame), \
                 verifies and decrypts them (keys by KID, optionally per SSRC), and pushes only \
                 frames that authenticated, with the caps of the codec the RTP caps' \
                 encoding-name names. Failures are dropped and posted as \
                 'sframe-decrypt-error' element messages, one per run",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gst::Caps::builder("application/x-rtp")
                .field(CAPS_FIELD, true)
                .build();
            let src = gst::Caps::builder_full()
                .structure(gst::Structure::new_empty("video/x-h264"))
                .structure(gst::Structure::new_empty("video/x-h265"))
                .structure(gst::Structure::new_empty("video/x-vp8"))
                .structure(gst::Structure::new_empty("video/x-vp9"))
                .structure(gst::Structure::new_empty("video/x-av1"))
                .structure(gst::Structure::new_empty("audio/x-opus"))
                .build();
            pad_templates(&[
                (gst::PadDirection::Sink, &sink),
                (gst::PadDirection::Src, &src),
            ])
        });
        TEMPLATES.as_ref()
    }
}

impl RTPBaseDepayloadImpl for RtpSFrameDepay {
    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let s = caps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        let name = s
            .get::<&str>("encoding-name")
            .map_err(|_| gst::loggable_error!(CAT, "{caps}: no encoding-name"))?;
        let channels = s
            .get::<&str>("encoding-params")
            .ok()
            .and_then(|p| p.parse::<i32>().ok());
        let out = frame_caps_for(name, channels)
            .ok_or_else(|| gst::loggable_error!(CAT, "encoding-name {name}: not supported"))?;
        gst::debug!(CAT, imp = self, "{caps} -> {out}");
        if self.obj().src_pad().push_event(gst::event::Caps::new(&out)) {
            Ok(())
        } else {
            Err(gst::loggable_error!(CAT, "downstream refused {out}"))
        }
    }

    fn process_rtp_packet(
        &self,
        rtp: &gst_rtp::RTPBuffer<gst_rtp::rtp_buffer::Readable>,
    ) -> Option<gst::Buffer> {
        let payload = rtp.payload().ok()?;
        let header = RtpHeader {
            marker: rtp.is_marker(),
            ..RtpHeader::new(rtp.payload_type(), rtp.seq(), rtp.timestamp(), rtp.ssrc())
        };
        let mut frames = Vec::new();
        let mut messages = Vec::new();
        {
            let mut st = lock(&self.state);
            let st = &mut *st;
            st.packets_in = st.packets_in.saturating_add(1);
            let now = st.epoch.elapsed().as_millis() as u64;
            match st.session().push_payload(&header, payload, now) {
                Ok(sframe_core::rtp::session::Pushed::StreamRefused) => {
                    st.packets_refused = st.packets_refused.saturating_add(1);
                }
                Ok(_) => {}
                Err(e) => gst::debug!(CAT, imp = self, "packet refused: {e}"),
            }
            let mut out = std::mem::take(&mut st.out);
            while let Some(event) = st.session().poll(&mut out, now) {
                match event {
                    Event::Frame(f) if f.mode == Mode::PerPacket => {
                        // Per-packet SFrame (T = 1): the plaintext is a codec RTP payload,
                        // for a codec depayloader, not a frame: not pushed (see README.md).
                        st.per_packet = st.per_packet.saturating_add(1);
                    }
                    Event::Frame(f) => {
                        let Some(plain) = out.get(..f.len) else {
                            continue;
                        };
                        st.counters.output(f.len);
                        st.runs.success();
                        frames.push(gst::Buffer::from_slice(plain.to_vec()));
                    }
                    Event::Failed { ssrc, kid, error } => {
                        st.counters.failure(error);
                        if st.runs.failure(error) {
                            let mut s = error_structure(ERROR_MESSAGE, error, kid, None);
                            s.set("ssrc", ssrc);
                            messages.push(s);
                        }
                    }
                    Event::AwaitingKey { ssrc, kid, counter } => {
                        st.awaiting = st.awaiting.saturating_add(1);
                        if st.runs.failure(Error::NoKey) {
                            messages.push(
                                gst::Structure::builder(AWAITING_MESSAGE)
                                    .field("ssrc", ssrc)
                                    .field("key-id", kid)
                                    .field("counter", counter)
                                    .build(),
                            );
                        }
                    }
                    Event::KeyAuthenticated { kid, ssrc, first } => messages.push(
                        gst::Structure::builder(AUTHENTICATED_MESSAGE)
                            .field("key-id", kid)
                            .field("ssrc", ssrc)
                            .field("first", first)
                            .build(),
                    ),
                }
            }
            st.out = out;
        }
        for s in messages {
            gst::debug!(CAT, imp = self, "{s}");
            self.post(s);
        }
        let obj = self.obj();
        for frame in frames {
            if let Err(e) = obj.push(frame) {
                gst::debug!(CAT, imp = self, "push: {e:?}");
            }
        }
        None
    }
}
