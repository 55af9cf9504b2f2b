//! `rtpsframepay`: the sending side of the SFrame RTP payload format
//! (draft-ietf-avtcore-rtp-sframe §4 descriptor, §5.1.1 per-frame packetization) for SFrame
//! frames made by `sframeenc`, on `GstRTPBasePayload` (MTU, payload type, SSRC, sequence
//! numbers, RTP timestamps).

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    /// The `rtpsframepay` element.
    pub struct RtpSFramePay(ObjectSubclass<imp::RtpSFramePay>)
        @extends gst_rtp::RTPBasePayload, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "rtpsframepay",
        gst::Rank::NONE,
        RtpSFramePay::static_type(),
    )
}
