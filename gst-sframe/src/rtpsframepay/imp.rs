//! `rtpsframepay` implementation: each input buffer is one SFrame frame (from `sframeenc`,
//! caps `sframe=(boolean)true`); `sframe_core::rtp::Packetizer` cuts it into fragments behind
//! the §4 descriptor (S on the first, E on the last, T = 0: per-frame, §5.1.1), each one RTP
//! packet of at most the `mtu` property's size. The base class writes the RTP header (payload
//! type, SSRC, sequence number, timestamp from the PTS); the marker bit goes on the last
//! packet of each frame (§5.1: "set the RTP header marker bit to the value of the E bit").
//!
//! This element protects nothing: it packetizes frames `sframeenc` protected. Per-SSRC keys
//! (draft §7) would need the protection here, where the SSRC is known; see README.md.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_rtp::prelude::*;
use gst_rtp::subclass::prelude::*;
use sframe_core::rtp::{Mode, Packetizer};

use crate::common::{
    CAPS_FIELD, element_metadata, lock, pad_templates, rtp_media_for, says_protected,
    stats_property,
};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "rtpsframepay",
        gst::DebugColorFlags::empty(),
        Some("SFrame RTP payloader"),
    )
});

#[derive(Default)]
struct Stats {
    frames_in: u64,
    bytes_in: u64,
    packets_out: u64,
    bytes_out: u64,
    dropped: u64,
}

#[derive(Default)]
pub struct RtpSFramePay {
    stats: Mutex<Stats>,
}

#[glib::object_subclass]
impl ObjectSubclass for RtpSFramePay {
    const NAME: &'static str = "GstRtpSFramePay";
    type Type = super::RtpSFramePay;
    type ParentType = gst_rtp::RTPBasePayload;
}

impl ObjectImpl for RtpSFramePay {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![stats_property(
                "sframe-stats",
                "SFrame statistics",
                "frames-in, bytes-in (SFrame frames), packets-out, bytes-out (RTP \
                     payload bytes, descriptors included), dropped (empty frames). The \
                     base class's 'stats' has the RTP state (seqnum, timestamp, ssrc)",
            )]
        });
        PROPERTIES.as_ref()
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "sframe-stats" => {
                let st = lock(&self.stats);
                gst::Structure::builder("rtpsframepay-stats")
                    .field("frames-in", st.frames_in)
                    .field("bytes-in", st.bytes_in)
                    .field("packets-out", st.packets_out)
                    .field("bytes-out", st.bytes_out)
                    .field("dropped", st.dropped)
                    .build()
                    .to_value()
            }
            _ => pspec.default_value().clone(),
        }
    }
}

impl GstObjectImpl for RtpSFramePay {}

impl ElementImpl for RtpSFramePay {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            element_metadata(
                "SFrame RTP payloader",
                "Codec/Payloader/Network/RTP",
                "Packetizes SFrame frames from sframeenc (caps sframe=(boolean)true: H.264, \
                 H.265, VP8, VP9, AV1, Opus) into RTP packets of the SFrame payload format \
                 (draft-ietf-avtcore-rtp-sframe, per-frame: 1-byte S/E/T descriptor, then a \
                 fragment of the SFrame ciphertext). RTP caps keep the codec's encoding-name \
                 and add sframe=(boolean)true, as SDP keeps the rtpmap and adds a=sframe",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink = gst::Caps::builder_full()
                // H.264 / H.265 in byte-stream: the parameter sets travel, protected, in
                // the frames (avc / hvc1 would keep them in codec_data, which RTP does not carry).
                .structure(
                    gst::Structure::builder("video/x-h264")
                        .field("stream-format", "byte-stream")
                        .field("alignment", "au")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .structure(
                    gst::Structure::builder("video/x-h265")
                        .field("stream-format", "byte-stream")
                        .field("alignment", "au")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .structure(
                    gst::Structure::builder("video/x-vp8")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .structure(
                    gst::Structure::builder("video/x-vp9")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .structure(
                    gst::Structure::builder("video/x-av1")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .structure(
                    gst::Structure::builder("audio/x-opus")
                        .field(CAPS_FIELD, true)
                        .build(),
                )
                .build();
            let src = gst::Caps::builder("application/x-rtp")
                .field(CAPS_FIELD, true)
                .build();
            pad_templates(&[
                (gst::PadDirection::Sink, &sink),
                (gst::PadDirection::Src, &src),
            ])
        });
        TEMPLATES.as_ref()
    }
}

impl RTPBasePayloadImpl for RtpSFramePay {
    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        if !says_protected(caps) {
            return Err(gst::loggable_error!(
                CAT,
                "{caps}: not sframe=(boolean)true"
            ));
        }
        let s = caps
            .structure(0)
            .ok_or_else(|| gst::loggable_error!(CAT, "empty caps"))?;
        let (media, encoding_name, clock_rate) = rtp_media_for(s.name())
            .ok_or_else(|| gst::loggable_error!(CAT, "{}: no RTP mapping", s.name()))?;
        let obj = self.obj();
        obj.set_options(media, true, encoding_name, clock_rate);
        let mut out = gst::Structure::builder("application/x-rtp").field(CAPS_FIELD, true);
        if media == "audio" {
            // RTP's Opus is always "opus/48000/2" (RFC 7587 §7); the channels are in-band.
            out = out.field("encoding-params", "2");
        }
        obj.set_outcaps(Some(&out.build()))
            .map_err(|e| gst::loggable_error!(CAT, "set_outcaps: {e}"))
    }

    fn handle_buffer(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let obj = self.obj();
        let max_payload = gst_rtp::calc_payload_len(obj.mtu(), 0, 0) as usize;
        let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
        let packetizer = match Packetizer::new(&map, Mode::PerFrame, max_payload) {
            Ok(p) => p,
            Err(e) => {
                // An empty frame (not SFrame) or an MTU without room for a byte of payload.
                gst::warning!(CAT, imp = self, "frame of {} bytes dropped: {e}", map.len());
                let mut st = lock(&self.stats);
                st.dropped = st.dropped.saturating_add(1);
                return Ok(gst::FlowSuccess::Ok);
            }
        };
        let mut list = gst::BufferList::new_sized(packetizer.fragment_count());
        let (mut packets, mut bytes) = (0u64, 0u64);
        {
            let list = list.get_mut().ok_or(gst::FlowError::Error)?;
            for fragment in packetizer {
                let len = fragment.payload_len();
                let mut out = gst::Buffer::new_rtp_with_sizes(len as u32, 0, 0)
                    .map_err(|_| gst::FlowError::Error)?;
                {
                    let out = out.get_mut().ok_or(gst::FlowError::Error)?;
                    let mut rtp = gst_rtp::RTPBuffer::from_buffer_writable(out)
                        .map_err(|_| gst::FlowError::Error)?;
                    rtp.set_marker(fragment.descriptor.end);
                    let payload = rtp.payload_mut().map_err(|_| gst::FlowError::Error)?;
                    fragment
                        .write_payload(payload)
                        .map_err(|_| gst::FlowError::Error)?;
                }
                {
                    let out = out.get_mut().ok_or(gst::FlowError::Error)?;
                    out.set_pts(buffer.pts());
                    out.set_dts(buffer.dts());
                    out.set_duration(buffer.duration());
                }
                packets += 1;
                bytes += len as u64;
                list.add(out);
            }
        }
        let mut st = lock(&self.stats);
        st.frames_in = st.frames_in.saturating_add(1);
        st.bytes_in = st.bytes_in.saturating_add(map.len() as u64);
        st.packets_out = st.packets_out.saturating_add(packets);
        st.bytes_out = st.bytes_out.saturating_add(bytes);
        drop(st);
        drop(map);
        obj.push_list(list)
    }
}
