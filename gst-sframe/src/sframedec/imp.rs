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
    element_metadata, error_structure, filtered, key_hex_property, key_id_property, key_property,
    key_signal, key_value, lock, log_key_result, post_element_message, remove_key_signal,
    says_protected, stats_property, transform_caps,
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
            receiver: Receiver::new(suite.core()),
            kids: BTreeSet::new(),
            accepted_any: false,
            counters: Counters::default(),
            runs: ErrorRuns::default(),
        }
    }
}

impl State {
    fn add_key(&mut self, kid: u64, key: &[u8]) -> Result<(), Error> {
        self.receiver.add_key(kid, key)?;
        self.kids.insert(kid);
        Ok(())
    }

    fn remove_key(&mut self, kid: u64) -> bool {
        self.kids.remove(&kid);
        if self.property_key.as_ref().is_some_and(|(k, _)| *k == kid) {
            self.property_key = None;
        }
        self.receiver.remove_key(kid)
    }

    /// Installs the property key under `kid`, removing it from the KID it had.
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

    fn set_suite(&mut self, suite: Suite) -> Result<(), String> {
        if suite == self.suite {
            return Ok(());
        }
        if self.accepted_any {
            return Err("frames were already accepted: the cipher suite is fixed".into());
        }
        let property_kid = self.property_key.as_ref().map(|(kid, _)| *kid);
        if self.kids.iter().any(|kid| Some(*kid) != property_kid) {
            return Err("keys were added with add-key: set the cipher suite first".into());
        }
        let mut receiver = Receiver::new(suite.core());
        if let Some((kid, key)) = &self.property_key {
            receiver
                .add_key(*kid, key)
                .map_err(|e| format!("the key does not fit the new suite: {e}"))?;
        }
        self.receiver = receiver;
        self.suite = suite;
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
                    let result = lock(&imp.state).add_key(kid, &key);
                    imp.log_result("add-key", kid, result)
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
            "cipher-suite" => {
                let Ok(suite) = value.get::<Suite>() else {
                    return;
                };
                if let Err(e) = lock(&self.state).set_suite(suite) {
                    gst::error!(CAT, imp = self, "cipher-suite not changed: {e}");
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
