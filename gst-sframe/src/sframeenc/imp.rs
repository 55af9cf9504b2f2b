//! `sframeenc` implementation: a `GstBaseTransform` that is never in place (the protected frame
//! is longer than the input), with output buffers of input size + the largest SFrame
//! overhead; `sframe_core::Sender::protect` reads the input and writes the output once.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::base_transform::BaseTransformMode;
use gst_base::subclass::prelude::*;
use sframe_core::{Error, Sender};
use zeroize::Zeroizing;

use crate::common::{
    Counters, ErrorRuns, KeyValue, Suite, any_caps_pad_templates, cipher_suite_property,
    derivation_property, element_metadata, error_structure, filtered, key_hex_property,
    key_id_property, key_property, key_signal, key_value, lock, per_ssrc_property,
    post_element_message, ssrc_property, stats_property, stream_key, transform_caps,
};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "sframeenc",
        gst::DebugColorFlags::empty(),
        Some("SFrame encrypter"),
    )
});

/// Name of the element message posted when a run of failures starts.
const ERROR_MESSAGE: &str = "sframe-encrypt-error";

struct State {
    suite: Suite,
    /// The `key-id` property: the KID for the next `key` / `key-hex`.
    key_id: u64,
    /// The base key in force (from `key`, `key-hex` or `set-key`), kept to derive it again
    /// when `key-id` or (before the first frame) `cipher-suite` changes. Wiped on drop.
    base_key: Option<Zeroizing<Vec<u8>>>,
    /// The `per-ssrc` property: install the §7 key of `ssrc` derived from the base key
    /// (draft-ietf-avtcore-rtp-sframe §7). Fixed once a frame was protected.
    per_ssrc: bool,
    /// The `ssrc` property (the payloader's SSRC), `None` until set. Fixed once a frame was
    /// protected.
    ssrc: Option<u32>,
    /// Created once with the element and kept for its lifetime: a new `Sender` for the same
    /// key would count from 0 again and reuse nonces. Replaced only by a cipher-suite change
    /// before any frame was protected.
    sender: Sender,
    protected_any: bool,
    counters: Counters,
    runs: ErrorRuns,
}

impl Default for State {
    fn default() -> Self {
        let suite = Suite::default();
        State {
            suite,
            key_id: 0,
            base_key: None,
            per_ssrc: false,
            ssrc: None,
            sender: Sender::new(suite.core()),
            protected_any: false,
            counters: Counters::default(),
            runs: ErrorRuns::default(),
        }
    }
}

impl State {
    /// Derives and installs base key `key` under `kid` (with `per-ssrc`, its §7 key first: the
    /// derivations happen here, never per buffer). `Ok(false)`: kept, but not installed
    /// before `ssrc` is set.
    fn install(&mut self, kid: u64, key: Zeroizing<Vec<u8>>) -> Result<bool, Error> {
        let installed = match stream_key(self.suite, self.per_ssrc, self.ssrc, &key)? {
            Some(k) => {
                self.sender.set_key(kid, &k)?;
                true
            }
            None => false,
        };
        self.key_id = kid;
        self.base_key = Some(key);
        Ok(installed)
    }

    /// Changes what keys are derived with — `cipher-suite`, `per-ssrc`, `ssrc` — before the
    /// first frame: a new `Sender` (none of the old keys stays installed) with the base key
    /// in force derived again.
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
        if self.protected_any {
            return Err(format!("frames were already protected: {what} is fixed"));
        }
        let mut sender = Sender::new(suite.core());
        if let Some(base) = &self.base_key {
            let key = stream_key(suite, per_ssrc, ssrc, base)
                .map_err(|e| format!("the key does not fit: {e}"))?;
            if let Some(key) = key {
                sender
                    .set_key(self.key_id, &key)
                    .map_err(|e| format!("the key does not fit: {e}"))?;
            }
        }
        self.sender = sender;
        self.suite = suite;
        self.per_ssrc = per_ssrc;
        self.ssrc = ssrc;
        Ok(())
    }

    fn stats(&self) -> gst::Structure {
        let usage = self.sender.usage();
        self.counters
            .builder("sframeenc-stats")
            .field_if_some("key-id", self.sender.key_id())
            .field_if_some("key-frames", usage.map(|u| u.frames))
            .build()
    }
}

#[derive(Default)]
pub struct SFrameEnc {
    state: Mutex<State>,
}

impl SFrameEnc {
    fn install(&self, kid: u64, key: Zeroizing<Vec<u8>>) -> bool {
        match lock(&self.state).install(kid, key) {
            Ok(true) => {
                gst::info!(CAT, imp = self, "key installed, KID {kid}");
                true
            }
            Ok(false) => {
                gst::info!(
                    CAT,
                    imp = self,
                    "key for KID {kid} kept: installed once 'ssrc' is set (per-ssrc)"
                );
                true
            }
            Err(e) => {
                gst::error!(CAT, imp = self, "cannot install the key for KID {kid}: {e}");
                false
            }
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for SFrameEnc {
    const NAME: &'static str = "GstSFrameEnc";
    type Type = super::SFrameEnc;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for SFrameEnc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                cipher_suite_property(
                    "SFrame cipher suite (IANA registry name or number). Fixed once a \
                     frame was protected; set it before the key (a key given earlier is \
                     derived again for the new suite)",
                ),
                key_id_property(
                    "KID (RFC 9605 §4.3) of the key given by 'key' or 'key-hex'; changing \
                     it derives that base key again under the new KID",
                ),
                key_property(
                    "Base key (at least 16 bytes) for 'key-id', made current at once \
                     (write-only). Applications may prefer the 'set-key' signal",
                ),
                key_hex_property(),
                per_ssrc_property(
                    "The keys given are session base keys: install the key derived from \
                     each for 'ssrc' (draft-ietf-avtcore-rtp-sframe §7), as a receiver with \
                     per-SSRC keys (e.g. rtpsframedepay per-ssrc=true) expects. Requires \
                     'ssrc'; fixed once a frame was protected",
                ),
                ssrc_property(
                    "The SSRC of the RTP stream these frames go out in (set the payloader's \
                     too, e.g. rtpsframepay ssrc=...): what 'per-ssrc' derives keys for. \
                     Required with per-ssrc=true; fixed once a frame was protected",
                ),
                stats_property(
                    "stats",
                    "Statistics",
                    "frames-in, bytes-in, frames-out, bytes-out, dropped, failures \
                     (count per reason), key-id and key-frames (frames under the current \
                     key)",
                ),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                // set-key(kid, key) -> installed: derives and installs the key, current from
                // the next frame on (RFC 9605 §4.4.2). Counters never restart for a key this
                // element used before.
                key_signal("set-key", |element: &super::SFrameEnc, kid, key| {
                    element.imp().install(kid, key)
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
                let key = {
                    let mut st = lock(&self.state);
                    st.key_id = kid;
                    st.base_key.clone()
                };
                if let Some(key) = key {
                    self.install(kid, key);
                }
            }
            name @ ("key" | "key-hex") => match key_value(name, value) {
                KeyValue::Key(key) => {
                    let kid = lock(&self.state).key_id;
                    self.install(kid, key);
                }
                KeyValue::NotHex => {
                    gst::error!(CAT, imp = self, "key-hex: not an even number of hex digits")
                }
                KeyValue::Unset => gst::error!(
                    CAT,
                    imp = self,
                    "key: a key cannot be removed, only replaced"
                ),
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

impl GstObjectImpl for SFrameEnc {}

impl ElementImpl for SFrameEnc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            element_metadata(
                "SFrame encrypter",
                "Filter/Encryptor",
                "Protects each buffer (an encoded frame of any codec) as one RFC 9605 SFrame \
                 frame; caps pass through with sframe=(boolean)true added",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(any_caps_pad_templates);
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for SFrameEnc {
    const MODE: BaseTransformMode = BaseTransformMode::NeverInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let st = lock(&self.state);
        if st.per_ssrc && st.ssrc.is_none() {
            return Err(gst::error_msg!(
                gst::LibraryError::Settings,
                ("per-ssrc=true needs 'ssrc' (the SSRC the payloader uses)")
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
        let other = transform_caps(true, direction, caps)?;
        gst::trace!(CAT, imp = self, "{direction:?} {caps} -> {other}");
        Some(filtered(other, filter))
    }

    fn transform_size(
        &self,
        direction: gst::PadDirection,
        _caps: &gst::Caps,
        size: usize,
        _othercaps: &gst::Caps,
    ) -> Option<usize> {
        match direction {
            // Room for the longest header and tag of any suite: no lock, and a key change
            // between this call and `transform` cannot make the buffer too small.
            gst::PadDirection::Sink => size.checked_add(sframe_core::suite::MAX_OVERHEAD),
            _ => Some(size),
        }
    }

    fn decide_allocation(
        &self,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        // A downstream pool has buffers of its own size, not ours: allocate instead.
        while query.allocation_pools().len() > 0 {
            query.remove_nth_allocation_pool(0);
        }
        self.parent_decide_allocation(query)
    }

    fn transform(
        &self,
        inbuf: &gst::Buffer,
        outbuf: &mut gst::BufferRef,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let input = inbuf.map_readable().map_err(|_| {
            gst::element_imp_error!(self, gst::CoreError::Failed, ["cannot map the input"]);
            gst::FlowError::Error
        })?;
        let mut output = outbuf.map_writable().map_err(|_| {
            gst::element_imp_error!(self, gst::CoreError::Failed, ["cannot map the output"]);
            gst::FlowError::Error
        })?;
        let mut st = lock(&self.state);
        st.counters.input(input.len());
        match st.sender.protect(b"", &input, &mut output) {
            Ok(frame) => {
                let len = frame.len();
                st.counters.output(len);
                st.runs.success();
                st.protected_any = true;
                drop(st);
                drop(output);
                outbuf.set_size(len);
                Ok(gst::FlowSuccess::Ok)
            }
            Err(err) => {
                st.counters.failure(err);
                let starts_run = st.runs.failure(err);
                let kid = st.sender.key_id();
                drop(st);
                gst::warning!(CAT, imp = self, "frame dropped: {err}");
                if starts_run {
                    let s = error_structure(ERROR_MESSAGE, err, kid, None);
                    post_element_message(&*self.obj(), s);
                }
                Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED)
            }
        }
    }
}
