//! `rtpsframedepay`: the receiving side of the SFrame RTP payload format
//! (draft-ietf-avtcore-rtp-sframe §5.2 depacketization, §7 per-SSRC keys) on
//! `GstRTPBaseDepayload`, with an `sframe_core::rtp::session::ReceiveSession`: it reassembles,
//! verifies and decrypts, and pushes only frames that authenticated.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `rtpsframedepay` element.
    pub struct RtpSFrameDepay(ObjectSubclass<imp::RtpSFrameDepay>)
        @extends gst_rtp::RTPBaseDepayload, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "rtpsframedepay",
        gst::Rank::NONE,
        RtpSFrameDepay::static_type(),
    )
}
