//! `sframeenc`: protects every buffer (one encoded frame) as one SFrame frame (RFC 9605 §4.4.3)
//! with an [`sframe_core::Sender`].

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `sframeenc` element.
    pub struct SFrameEnc(ObjectSubclass<imp::SFrameEnc>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "sframeenc",
        gst::Rank::NONE,
        SFrameEnc::static_type(),
    )
}
