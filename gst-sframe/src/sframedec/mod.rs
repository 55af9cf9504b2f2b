//! `sframedec`: verifies and decrypts every buffer as one SFrame frame (RFC 9605 §4.4.4)
//! with an [`sframe_core::Receiver`]; frames that fail are dropped.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `sframedec` element.
    pub struct SFrameDec(ObjectSubclass<imp::SFrameDec>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "sframedec",
        gst::Rank::NONE,
        SFrameDec::static_type(),
    )
}
