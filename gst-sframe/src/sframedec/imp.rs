//! `sframedec` implementation: a `GstBaseTransform` that always works in place:
//! `sframe_core::Receiver::unprotect_in_place` decrypts the frame where it is, and the buffer
//! is then narrowed to the plaintext (header and tag cut off by offset, not copied).

use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::base_transform::BaseTransformMode;
use gst_base::subclass::prelude::*;
use sframe_core::{Error, Receiver};
use zeroize::Zeroizing;

use crate::common::{
    Counters, ErrorRuns, KeyValue, Suite, any_caps_pad_templates, cipher_suite_property,
    derivation_property, element_metadata, error_structure, filtered, key_hex_property,
    key_id_property, key_property, key_signal, key_value, lock, log_key_result, per_ssrc_property,
    post_element_message, remove_key_signal, says_protected, ssrc_property, stats_property,
    stream_key, transform_caps,
};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "sframedec",
        gst::DebugColorFlags::empty(),
        Some("SFrame decrypter"),
    )
});

/// Name of the element message posted when a run of failures starts.
const ERROR_MESSAGE: &str = "sframe-decrypt-error";

struct State {
    suite: Suite,
    /// The `key-id` property: the KID of the `key` / `key-hex` key.
    key_id: u64,
    /// The key given by `key` / `key-hex` and the KID it is installed under, kept to install
    /// it again when `key-id` or (before the first frame) `cipher-suite` changes. Wiped on drop.
    property_key: Option<(u64, Zeroizing<Vec<u8>>)>,
    /// The `per-ssrc` property: keys are base keys, the key added is the §7 key of `ssrc`
    /// derived from each (draft-ietf-avtcore-rtp-sframe §7). Fixed once a frame was accepted.
    per_ssrc: bool,
    /// The `ssrc` property (of the RTP stream the frames came in), `None` until set.
    ssrc: Option<u32>,
    /// Replaced only by a cipher-suite change before any frame was accepted (a new receiver
    /// has fresh replay windows).
    receiver: Receiver,
    /// KIDs of the installed keys, for `stats`.
    kids: BTreeSet<u64>,
    accepted_any: bool,
    counters: Counters,
    runs: ErrorRuns,
}

impl Default for State {
    fn default() -> Self {
        let suite = Suite::default();
        State {
            suite,
            key_id: 0,
            property_key: None,
            per_ssrc: false,
            ssrc: None,
            receiver: Receiver::new(suite.core()),
            kids: BTreeSet::new(),
            accepted_any: false,
            counters: Counters::default(),
            runs: ErrorRuns::default(),
        }
    }
}

impl State {
    /// Derives and adds base key `base` for `kid` (with `per-ssrc`, its §7 key first: the
    /// derivations happen here, never per buffer). `Ok(false)`: per-ssrc without `ssrc`,
    /// nothing added.
    fn add_key(&mut self, kid: u64, base: &[u8]) -> Result<bool, Error> {
        let Some(key) = stream_key(self.suite, self.per_ssrc, self.ssrc, base)? else {
            return Ok(false);
        };
        self.receiver.add_key(kid, &key)?;
        self.kids.insert(kid);
        Ok(true)
    }

    fn remove_key(&mut self, kid: u64) -> bool {
        self.kids.remove(&kid);
        if self.property_key.as_ref().is_some_and(|(k, _)| *k == kid) {
            self.property_key = None;
        }
        self.receiver.remove_key(kid)
    }

    /// Installs the property key under `kid`, removing it from the KID it had (with per-ssrc
    /// and no `ssrc` yet, it is kept and installed when `ssrc` is set).
    fn set_property_key(&mut self, kid: u64, key: Zeroizing<Vec<u8>>) -> Result<(), Error> {
        self.add_key(kid, &key)?;
        if let Some((old, _)) = self.property_key.take()
            && old != kid
        {
            self.kids.remove(&old);
            self.receiver.remove_key(old);
        }
        self.property_key = Some((kid, key));
        Ok(())
    }

    /// Changes what keys are derived with — `cipher-suite`, `per-ssrc`, `ssrc` — before the
    /// first frame and any add-key: a new `Receiver` with the property key derived again.
    fn reconfigure(
        &mut self,
        what: &str,
        suite: Suite,
        per_ssrc: bool,
        ssrc: Option<u32>,
    ) -> Result<(), String> {
        if (suite, per_ssrc, ssrc) == (self.suite, self.per_ssrc, self.ssrc) {
            return Ok(());
        }
        if self.accepted_any {
            return Err(format!("frames were already accepted: {what} is fixed"));
        }
        let property_kid = self.property_key.as_ref().map(|(kid, _)| *kid);
        if self.kids.iter().any(|kid| Some(*kid) != property_kid) {
            return Err(format!("keys were added with add-key: set {what} first"));
        }
        let mut receiver = Receiver::new(suite.core());
        let mut kids = BTreeSet::new();
        if let Some((kid, base)) = &self.property_key {
            let key = stream_key(suite, per_ssrc, ssrc, base)
                .map_err(|e| format!("the key does not fit: {e}"))?;
            if let Some(key) = key {
                receiver
                    .add_key(*kid, &key)
                    .map_err(|e| format!("the key does not fit: {e}"))?;
                kids.insert(*kid);
            }
        }
        self.receiver = receiver;
        self.kids = kids;
        self.suite = suite;
        self.per_ssrc = per_ssrc;
        self.ssrc = ssrc;
        Ok(())
    }

    fn stats(&self) -> gst::Structure {
        let keys = self.kids.iter().filter_map(|kid| {
            let usage = self.receiver.usage(*kid)?;
            Some(
                gst::Structure::builder("key")
                    .field("key-id", *kid)
                    .field("frames", usage.frames)
                    .field("auth-failures", usage.auth_failures)
                    .build()
                    .to_send_value(),
            )
        });
        self.counters
            .builder("sframedec-stats")
            .field("keys", gst::Array::from_values(keys))
            .build()
    }
}

#[derive(Default)]
pub struct SFrameDec {
    state: Mutex<State>,
}

impl SFrameDec {
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
}

#[glib::object_subclass]
impl ObjectSubclass for SFrameDec {
    const NAME: &'static str = "GstSFrameDec";
    type Type = super::SFrameDec;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for SFrameDec {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                cipher_suite_property(
                    "SFrame cipher suite (IANA registry name or number). Fixed once a \
                     frame was accepted; set it before adding keys",
                ),
                key_id_property(
                    "KID (RFC 9605 §4.3) of the key given by 'key' or 'key-hex'; changing \
                     it moves that key to the new KID",
                ),
                key_property(
                    "Base key (at least 16 bytes) for 'key-id', added at once \
                     (write-only). Applications may prefer the 'add-key' signal",
                ),
                key_hex_property(),
                per_ssrc_property(
                    "The keys given are session base keys: add the key derived from each \
                     for 'ssrc' (draft-ietf-avtcore-rtp-sframe §7), as sent by a sender with \
                     per-SSRC keys (e.g. sframeenc per-ssrc=true). Requires 'ssrc' (set it \
                     before add-key); fixed once a frame was accepted",
                ),
                ssrc_property(
                    "The SSRC of the RTP stream these frames came in: what 'per-ssrc' \
                     derives keys for. Required with per-ssrc=true; fixed once a frame was \
                     accepted",
                ),
                stats_property(
                    "stats",
                    "Statistics",
                    "frames-in, bytes-in, frames-out, bytes-out, dropped, failures \
                     (count per reason), keys (per KID: key-id, frames, auth-failures)",
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                // add-key(kid, key) -> added: derives and adds the key for frames under `kid`
                // (RFC 9605 §4.4.2). Adding the same key again keeps its replay window.
                key_signal("add-key", |element: &super::SFrameDec, kid, key| {
                    let imp = element.imp();
                    match lock(&imp.state).add_key(kid, &key) {
                        Ok(false) => {
                            gst::error!(CAT, obj = element, "add-key: per-ssrc needs 'ssrc' first");
                            false
                        }
                        result => imp.log_result("add-key", kid, result.map(|_| ())),
                    }
                }),
                // remove-key(kid) -> removed: removes (and wipes) the key for `kid`; its frames
                // are dropped from then on (unknown_key_id).
                remove_key_signal(*CAT, |element: &super::SFrameDec, kid| {
                    lock(&element.imp().state).remove_key(kid)
                }),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            name @ ("cipher-suite" | "per-ssrc" | "ssrc") => {
                let mut st = lock(&self.state);
                let Some((what, (suite, per_ssrc, ssrc))) =
                    derivation_property((st.suite, st.per_ssrc, st.ssrc), name, value)
                else {
                    return;
                };
                if let Err(e) = st.reconfigure(what, suite, per_ssrc, ssrc) {
                    gst::error!(CAT, imp = self, "{name} not changed: {e}");
                }
            }
            "key-id" => {
                let Ok(kid) = value.get::<u64>() else {
                    return;
                };
                let mut st = lock(&self.state);
                st.key_id = kid;
                if let Some((_, key)) = st.property_key.clone() {
                    let result = st.set_property_key(kid, key);
                    drop(st);
                    self.log_result("key-id", kid, result);
                }
            }
            name @ ("key" | "key-hex") => match key_value(name, value) {
                KeyValue::Key(key) => self.set_property_key(key),
                KeyValue::NotHex => {
                    gst::error!(CAT, imp = self, "key-hex: not an even number of hex digits")
                }
                KeyValue::Unset => {
                    gst::error!(CAT, imp = self, "{name}: use remove-key to remove a key")
                }
            },
            other => gst::warning!(CAT, imp = self, "unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let st = lock(&self.state);
        match pspec.name() {
            "cipher-suite" => st.suite.to_value(),
            "key-id" => st.key_id.to_value(),
            "per-ssrc" => st.per_ssrc.to_value(),
            "ssrc" => st.ssrc.unwrap_or(0).to_value(),
            "stats" => st.stats().to_value(),
            // Write-only (GObject never asks): keys are never readable.
            _ => pspec.default_value().clone(),
        }
    }
}

impl GstObjectImpl for SFrameDec {}

impl ElementImpl for SFrameDec {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            element_metadata(
                "SFrame decrypter",
                "Filter/Decryptor",
                "Verifies and decrypts each buffer as one RFC 9605 SFrame frame, in place; \
                 drops frames that fail (wrong or unknown key, tampering, replay) and posts \
                 'sframe-decrypt-error' element messages, one per run of identical failures. \
                 Requires sframe=(boolean)true in the caps and removes it",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(any_caps_pad_templates);
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for SFrameDec {
    const MODE: BaseTransformMode = BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let st = lock(&self.state);
        if st.per_ssrc && st.ssrc.is_none() {
            return Err(gst::error_msg!(
                gst::LibraryError::Settings,
                ("per-ssrc=true needs 'ssrc' (the SSRC the frames came in)")
            ));
        }
        Ok(())
    }

    fn transform_caps(
        &self,
        direction: gst::PadDirection,
        caps: &gst::Caps,
        filter: Option<&gst::Caps>,
    ) -> Option<gst::Caps> {
        let other = transform_caps(false, direction, caps)?;
        gst::trace!(CAT, imp = self, "{direction:?} {caps} -> {other}");
        Some(filtered(other, filter))
    }

    fn accept_caps(&self, direction: gst::PadDirection, caps: &gst::Caps) -> bool {
        if direction == gst::PadDirection::Sink && !says_protected(caps) {
            gst::debug!(
                CAT,
                imp = self,
                "refusing {caps}: not marked sframe=(boolean)true"
            );
            return false;
        }
        self.parent_accept_caps(direction, caps)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut map = buf.map_writable().map_err(|_| {
            gst::element_imp_error!(self, gst::CoreError::Failed, ["cannot map the buffer"]);
            gst::FlowError::Error
        })?;
        let start = map.as_ptr() as usize;
        let mut st = lock(&self.state);
        st.counters.input(map.len());
        let result = st
            .receiver
            .unprotect_in_place(b"", &mut map)
            .map(|plain| ((plain.as_ptr() as usize).checked_sub(start), plain.len()));
        match result {
            Ok((Some(offset), len)) => {
                st.counters.output(len);
                st.runs.success();
                st.accepted_any = true;
                drop(st);
                drop(map);
                let end = offset.checked_add(len).ok_or(gst::FlowError::Error)?;
                buf.resize(offset..end).map_err(|_| gst::FlowError::Error)?;
                Ok(gst::FlowSuccess::Ok)
            }
            // The plaintext is a part of the frame (sframe-core's contract).
            Ok((None, _)) => Err(gst::FlowError::Error),
            Err(err) => {
                st.counters.failure(err);
                let starts_run = st.runs.failure(err);
                drop(st);
                gst::debug!(CAT, imp = self, "frame dropped: {err}");
                if starts_run {
                    // Header fields, unauthenticated, for the report (none if malformed).
                    let info = sframe_core::inspect(&map).ok();
                    let s = error_structure(
                        ERROR_MESSAGE,
                        err,
                        info.map(|i| i.key_id),
                        info.map(|i| i.counter),
                    );
                    post_element_message(&*self.obj(), s);
                }
                Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED)
            }
        }
    }
}
