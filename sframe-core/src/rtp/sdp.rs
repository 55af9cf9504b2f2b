//! `a=sframe` SDP negotiation — draft-ietf-avtcore-rtp-sframe-02 §6 "SFrame SDP negotiation"
//! (and §9, the attribute's IANA registration).
//!
//! Functions over SDP text (RFC 8866) that an application calls between its own offer/answer
//! steps (RFC 3264): find, add and remove the media-level `a=sframe` attribute, and the
//! draft's offer/answer rules as functions. Every edit leaves every other byte of the SDP as
//! it was (line order, CRLF or LF line endings, unknown attributes, spacing).
//!
//! Needs the `sdp` feature (which implies `alloc`; no `std` needed).
//!
//! ## What the draft says
//!
//! Quoted from the editor's copy (github.com/youennf/draft-ietf-avtcore-rtp-sframe, commit
//! `d4bfa1e`, January 2026: the text published as -02; §6 first appeared in the September 2025
//! text, with only editorial changes since; -01 had no SDP section):
//!
//! > SFrame packetization is indicated via a new "a=sframe" SDP attribute defined in this
//! > specification. This attribute is used at media level, it does not appear at session level.
//! >
//! > The presence of the "a=sframe" attribute in a media section (in either an offer or an
//! > answer) indicates that the endpoint is expecting to receive RTP packets encrypted with
//! > SFrame for that media section, as defined below.
//! >
//! > Once each peer has verified that the other party expects to receive SFrame RTP packets,
//! > senders are expected to send SFrame encrypted RTP packets. If one peer expects to use
//! > SFrame for a media section and identifies that the other peer does not support it, the
//! > peer is expected to stop the transceiver associated with the media section, which will
//! > generate a zero port for that m-section.
//!
//! > This does not include RTP-Based Redundancy mechanisms as defined in {{!RFC7656}}. For
//! > instance, RTX defined in {{!RFC4588}} will retransmit SFrame-based packets. Forward error
//! > correction formats as defined in {{!RFC5109}} will protect the encrypted content. For
//! > Redundant Audio Data, known as RED, as defined in {{!RFC2198}}, a RED packetizer will take
//! > as input SFrame encrypted media data instead of unencrypted media data.
//!
//! > If BUNDLE is in use and the "a=sframe" attribute is present for a media section but not
//! > for another media section of the same BUNDLE, payload types for media encodings that are
//! > relevant for SFrame MUST NOT be reused between the two media sections.
//!
//! and the IANA registration (§9): "Attribute syntax: This attribute takes no values",
//! "Usage Level: media", "Purpose: The presence of this attribute in the SDP indicates that
//! the endpoint is capable of processing SFrame packets", "Mux Category: NORMAL". The draft's
//! example:
//!
//! ```text
//! m=audio 50000 RTP/SAVPF 10 11
//! a=sframe
//! a=rtpmap:10 opus/48000/2
//! a=rtpmap:11 CN/8000
//!
//! m=video 50002 RTP/SAVPF 100 101
//! a=sframe
//! a=rtpmap:100 H264/90000
//! a=rtpmap:101 VP8/90000
//! ```
//!
//! The attribute has **no parameters**: nothing in the SDP says per-frame or per-packet SFrame
//! (that is the T bit of each packet's payload descriptor, §4, see [`crate::rtp`]), nor a
//! cipher suite or key. Open questions the draft lists (a session-level `a=sframe`, RTX/FEC,
//! RED) are not decided there; this module follows the text as written.
//!
//! ## What this module decides where the draft is silent
//!
//! * `a=sframe:<value>` is an error ([`SdpError::SframeWithValue`]): the attribute "takes no
//!   values", and a value this code does not understand must not be read as agreement.
//!   A session-level `a=sframe` is an error too ([`SdpError::SessionLevelSframe`]). The name is
//!   matched exactly (`a=sframe`), as libwebrtc does.
//! * Only RTP media sections (a `proto` with an `RTP` component, e.g. `UDP/TLS/RTP/SAVPF`)
//!   take part; others (a data channel's `UDP/DTLS/SCTP`) are [`Outcome::NotRtp`] and left
//!   alone, whatever the policy.
//! * A section is stopped when its port is 0, unless it is `a=bundle-only` or listed in an
//!   `a=group:BUNDLE` (RFC 9143, BUNDLE, gives port 0 to such live bundled sections; Firefox's
//!   max-bundle offers do).
//! * "payload types for media encodings that are relevant for SFrame": every payload type of
//!   the `m=` line except those whose `a=rtpmap` names an RTP-based redundancy format (`rtx`,
//!   `red`, `ulpfec`, `flexfec`, `flexfec-03`, `parityfec`), which the draft excludes. A
//!   payload type conflicts when it is in both sections and is such a media encoding in at least
//!   one of them.
//! * [`Policy::Preferred`] accepts clear media when the peer does not support SFrame. The draft
//!   says a peer that "expects to use SFrame" stops the section: that is [`Policy::Required`],
//!   which never falls back to clear. Only `Required` resists a signalling path that strips
//!   `a=sframe`.
//!
//! ## Browsers (measured with Debian's Chromium 156 and Firefox ESR 153)
//!
//! Chromium negotiates `a=sframe` itself: its answer to an offer with `a=sframe` carries
//! `a=sframe`; it rejects a remote answer that has `a=sframe` where its offer did not ("Remote
//! answer has a=sframe for a media section but the corresponding offer did not include
//! a=sframe") and a local description with an added `a=sframe` ("SDP is modified in a
//! non-acceptable way"), as libwebrtc does. Firefox ignores the attribute (RFC 8866 §5.13:
//! unknown attributes are ignored) and drops it from a local description. So: never give a
//! browser's `setLocalDescription` an edited SDP; send the edited SDP over signalling, and stop
//! a transceiver (`RTCRtpTransceiver.stop()`) where an outcome is [`Outcome::Stopped`].
//!
//! ## Bounds
//!
//! Everything is linear in the length of the text: one entry per `m=` line and per
//! `a=sframe` line, payload types as a 128-bit set per section, BUNDLE tags in a sorted map;
//! nothing is quadratic in what a peer sends. No function panics, on any text.
//!
//! ## Example: offer, answer, check
//!
//! ```
//! use sframe_core::rtp::sdp::{self, Outcome, Policy};
//!
//! // The draft's example, as a whole SDP (an offerer's createOffer output, say).
//! let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\
//!              m=audio 50000 RTP/SAVPF 10 11\r\na=rtpmap:10 opus/48000/2\r\na=rtpmap:11 CN/8000\r\n\
//!              m=video 50002 RTP/SAVPF 100 101\r\na=rtpmap:100 H264/90000\r\na=rtpmap:101 VP8/90000\r\n";
//!
//! // Offerer: a=sframe where the policy wants SFrame; send this over signalling.
//! let offer = sdp::prepare_offer(offer, |_| Policy::Required)?;
//! assert!(offer.contains("m=audio 50000 RTP/SAVPF 10 11\r\na=sframe\r\na=rtpmap:10"));
//!
//! // Answerer: which sections answer with a=sframe, then edit its own answer text.
//! let plan = sdp::answer_for_offer(&offer, |_| Policy::Preferred)?;
//! assert!(plan.iter().all(|s| s.outcome == Outcome::Negotiated));
//! let local_answer = offer.replace("a=sframe\r\n", "").replace("5000", "6000");
//! let answer = sdp::apply_answer(&local_answer, &plan)?;
//!
//! // Offerer: the answer checked against the offer.
//! let outcomes = sdp::check_answer(&offer, &answer, |_| Policy::Required)?;
//! assert_eq!(outcomes[1].outcome, Outcome::Negotiated);
//! # Ok::<(), sdp::SdpError>(())
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

/// The attribute's name: the line is `a=sframe`, with no value (§9: "This attribute takes no
/// values").
pub const ATTRIBUTE_NAME: &str = "sframe";

/// RTP-based redundancy formats (§6: RTX RFC 4588, FEC RFC 5109, RED RFC 2198; FlexFEC
/// RFC 8627): their payload types are not "media encodings that are relevant for SFrame".
const REDUNDANCY_ENCODINGS: [&str; 6] =
    ["rtx", "red", "ulpfec", "flexfec", "flexfec-03", "parityfec"];

/// Why an SDP text cannot be read or edited. Line numbers count from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The text does not start with the line `v=0` (RFC 8866 §5.1).
    NotSdp,
    /// A line is not `<type>=<value>` with a lower-case letter type (RFC 8866 §5), is empty,
    /// or holds a NUL or a lone CR.
    MalformedLine {
        /// The line's number.
        line: usize,
    },
    /// An `m=` line lacks media, port or proto, its port is not a number from 0 to 65535, or,
    /// for an RTP proto, a format is not a payload type from 0 to 127 (RFC 8866 §5.14).
    MalformedMediaLine {
        /// The line's number.
        line: usize,
    },
    /// `a=sframe` at session level: "This attribute is used at media level, it does not appear
    /// at session level" (§6).
    SessionLevelSframe {
        /// The line's number.
        line: usize,
    },
    /// `a=sframe:<value>`: "This attribute takes no values" (§9).
    SframeWithValue {
        /// The line's number.
        line: usize,
    },
    /// Two media sections have the same `a=mid` (RFC 5888 §4: an identification-tag is unique in a description).
    DuplicateMid {
        /// The line of the second `a=mid`.
        line: usize,
    },
    /// No media section has that index or mid.
    NoSuchSection,
    /// `a=sframe` asked for a section that does not carry RTP (§6 is about RTP packets).
    NotRtp {
        /// The section's index.
        index: usize,
    },
    /// The answer has not one media section per offer section (RFC 3264 §6), or the outcomes
    /// given to [`apply_answer`] are not one per section.
    SectionCountMismatch {
        /// Sections (or outcomes) expected.
        expected: usize,
        /// Sections found.
        found: usize,
    },
    /// The edited SDP would break §6's BUNDLE payload type rule.
    BundlePayloadTypeReuse(BundleConflict),
    /// [`apply_answer`] was given an outcome [`Outcome::Rejected`]: reject the offer instead.
    Rejected {
        /// The section's index.
        index: usize,
        /// Why.
        reason: RejectReason,
    },
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::NotSdp => f.write_str("not an SDP: the first line is not v=0"),
            SdpError::MalformedLine { line } => write!(f, "SDP line {line} is not <type>=<value>"),
            SdpError::MalformedMediaLine { line } => {
                write!(f, "SDP line {line}: malformed m= line")
            }
            SdpError::SessionLevelSframe { line } => {
                write!(
                    f,
                    "SDP line {line}: a=sframe at session level (media level only)"
                )
            }
            SdpError::SframeWithValue { line } => {
                write!(f, "SDP line {line}: a=sframe takes no value")
            }
            SdpError::DuplicateMid { line } => write!(f, "SDP line {line}: duplicate a=mid"),
            SdpError::NoSuchSection => f.write_str("no such media section"),
            SdpError::NotRtp { index } => write!(f, "media section {index} does not carry RTP"),
            SdpError::SectionCountMismatch { expected, found } => {
                write!(f, "{found} media sections where {expected} were expected")
            }
            SdpError::BundlePayloadTypeReuse(c) => write!(f, "{c}"),
            SdpError::Rejected { index, reason } => write!(f, "media section {index}: {reason}"),
        }
    }
}

impl SdpError {
    /// Every [`SdpError::code`], in declaration order (new variants are appended).
    pub const CODES: [&'static str; 11] = [
        "not_sdp",
        "malformed_line",
        "malformed_media_line",
        "session_level_sframe",
        "sframe_with_value",
        "duplicate_mid",
        "no_such_section",
        "not_rtp",
        "section_count_mismatch",
        "bundle_payload_type_reuse",
        "rejected",
    ];

    /// A stable snake_case identifier of the kind of error (without its line, index or
    /// payload type), the same in every binding: the `code` of the JavaScript `SFrameSdpError`
    /// and, after `sdp_`, the name of the C status (`SFRAME_ERR_SDP_NOT_SDP` is `sdp_not_sdp`).
    ///
    /// ```
    /// use sframe_core::rtp::sdp::{SdpError, SessionDescription};
    /// let err = SessionDescription::parse("v=0\r\nbogus\r\n").unwrap_err();
    /// assert_eq!(err, SdpError::MalformedLine { line: 2 });
    /// assert_eq!(err.code(), "malformed_line");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            SdpError::NotSdp => "not_sdp",
            SdpError::MalformedLine { .. } => "malformed_line",
            SdpError::MalformedMediaLine { .. } => "malformed_media_line",
            SdpError::SessionLevelSframe { .. } => "session_level_sframe",
            SdpError::SframeWithValue { .. } => "sframe_with_value",
            SdpError::DuplicateMid { .. } => "duplicate_mid",
            SdpError::NoSuchSection => "no_such_section",
            SdpError::NotRtp { .. } => "not_rtp",
            SdpError::SectionCountMismatch { .. } => "section_count_mismatch",
            SdpError::BundlePayloadTypeReuse(_) => "bundle_payload_type_reuse",
            SdpError::Rejected { .. } => "rejected",
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SdpError {}

/// Which media section: by position (0 for the first `m=` line) or by `a=mid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section<'s> {
    /// The n-th `m=` line, from 0.
    Index(usize),
    /// The section whose `a=mid` value is this.
    Mid(&'s str),
}

/// What the local endpoint wants for one media section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// SFrame or nothing: offer `a=sframe`, and stop the section (port 0) when the peer does
    /// not support it. Never falls back to clear media.
    Required,
    /// SFrame when the peer supports it, clear media otherwise. Offers `a=sframe`.
    Preferred,
    /// Never SFrame: no `a=sframe`.
    Off,
}

/// The result of negotiation for one media section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Both sides expect SFrame: send and receive SFrame-protected RTP (§6: "Once each peer
    /// has verified that the other party expects to receive SFrame RTP packets, senders are
    /// expected to send SFrame encrypted RTP packets").
    Negotiated,
    /// No SFrame, and the policy allows clear media.
    Clear,
    /// The section has, or must get, port 0: stop its transceiver.
    Stopped(StopReason),
    /// A rule of the draft is broken: reject the whole description (as libwebrtc does).
    Rejected(RejectReason),
    /// Not an RTP section (e.g. a data channel): SFrame does not apply.
    NotRtp,
}

/// Why a section is [`Outcome::Stopped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The offer has port 0 for it (and it is not bundled): already stopped.
    StoppedInOffer,
    /// The answer has port 0 for it: the answerer rejected it.
    RejectedByAnswerer,
    /// [`Policy::Required`], and the peer's description lacks `a=sframe`: §6 "the peer is
    /// expected to stop the transceiver associated with the media section".
    PeerLacksSframe,
    /// [`Policy::Required`], and the offer the local side sent lacks `a=sframe`, so SFrame
    /// cannot be negotiated in this round.
    SframeNotOffered,
}

/// Why a section is [`Outcome::Rejected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The answer has `a=sframe` where the offer did not: an answerer can only accept what was
    /// offered (RFC 3264), and libwebrtc rejects such an answer.
    AnswerAddedSframe,
    /// §6's BUNDLE rule is broken: a payload type is shared by a section with SFrame and one
    /// without, in one BUNDLE group.
    BundlePayloadTypeReuse(BundleConflict),
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::AnswerAddedSframe => {
                f.write_str("the answer has a=sframe but the offer did not")
            }
            RejectReason::BundlePayloadTypeReuse(c) => write!(f, "{c}"),
        }
    }
}

/// A payload type that one BUNDLE group uses both in a section with `a=sframe` and in one
/// without, where it is a media encoding (not RTX/RED/FEC) in at least one of them. §6: such
/// payload types "MUST NOT be reused between the two media sections".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BundleConflict {
    /// The payload type.
    pub payload_type: u8,
    /// Index of the section with SFrame.
    pub sframe_section: usize,
    /// Index of the section without SFrame.
    pub clear_section: usize,
}

impl fmt::Display for BundleConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload type {} is used in BUNDLE by media section {} (a=sframe) and {} (no a=sframe)",
            self.payload_type, self.sframe_section, self.clear_section
        )
    }
}

/// The outcome for one media section, with the section's index and mid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionOutcome {
    /// Position of the `m=` line, from 0.
    pub index: usize,
    /// The section's `a=mid`, if it has one.
    pub mid: Option<String>,
    /// What was negotiated.
    pub outcome: Outcome,
}

/// One line of the text: `start..content_end` is the line without its terminator,
/// `content_end..next` the terminator (CRLF, LF, or nothing at the very end).
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    content_end: usize,
    next: usize,
    number: usize,
}

fn slice(text: &str, range: Range<usize>) -> &str {
    text.get(range).unwrap_or_default()
}

/// Splits at LF; a CR right before the LF belongs to the terminator.
fn lines(text: &str) -> impl Iterator<Item = Line> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut number = 0;
    core::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        number += 1;
        let rest = bytes.get(start..).unwrap_or_default();
        let line = match rest.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let lf = start + lf;
                let content_end = if lf > start && bytes.get(lf - 1) == Some(&b'\r') {
                    lf - 1
                } else {
                    lf
                };
                Line {
                    start,
                    content_end,
                    next: lf + 1,
                    number,
                }
            }
            None => Line {
                start,
                content_end: bytes.len(),
                next: bytes.len(),
                number,
            },
        };
        start = line.next;
        Some(line)
    })
}

/// One `m=` section of a parsed SDP.
#[derive(Clone, Debug)]
pub struct MediaSection<'a> {
    index: usize,
    media: &'a str,
    port: u16,
    port_range: Range<usize>,
    proto: &'a str,
    rtp: bool,
    payload_types: u128,
    redundancy: u128,
    mid: Option<&'a str>,
    mid_line: usize,
    bundle_only: bool,
    bundled: bool,
    /// Where a new `a=sframe` line goes: after `m=` and its `i=`/`c=`/`b=`/`k=` lines.
    insert_at: usize,
    /// The terminator of the `m=` line ("" if the text ends there).
    eol: &'a str,
    /// Each `a=sframe` line, with the content end of the line before it.
    sframe_lines: Vec<(Line, usize)>,
}

impl<'a> MediaSection<'a> {
    /// Position of the `m=` line, from 0.
    pub fn index(&self) -> usize {
        self.index
    }
    /// The media type: `audio`, `video`, `application`, ...
    pub fn media(&self) -> &'a str {
        self.media
    }
    /// The port of the `m=` line (0: stopped, or bundled without a transport of its own).
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The transport protocol, e.g. `UDP/TLS/RTP/SAVPF`.
    pub fn proto(&self) -> &'a str {
        self.proto
    }
    /// Whether the section carries RTP (its proto has an `RTP` component).
    pub fn is_rtp(&self) -> bool {
        self.rtp
    }
    /// The `a=mid` value.
    pub fn mid(&self) -> Option<&'a str> {
        self.mid
    }
    /// Whether the section has `a=sframe`.
    pub fn has_sframe(&self) -> bool {
        !self.sframe_lines.is_empty()
    }
    /// Whether the section has `a=bundle-only`.
    pub fn is_bundle_only(&self) -> bool {
        self.bundle_only
    }
    /// Whether the section's mid is in an `a=group:BUNDLE`.
    pub fn is_bundled(&self) -> bool {
        self.bundled
    }
    /// Port 0, not `a=bundle-only` and not in a BUNDLE group: a stopped (rejected) section.
    pub fn is_stopped(&self) -> bool {
        self.port == 0 && !self.bundle_only && !self.bundled
    }
    /// The RTP payload types of the `m=` line, ascending, without duplicates (empty for a
    /// non-RTP section).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        bits(self.payload_types)
    }
    /// The payload types that are "media encodings that are relevant for SFrame" (§6): all but
    /// RTX, RED and FEC.
    pub fn sframe_payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        bits(self.payload_types & !self.redundancy)
    }
}

fn bits(set: u128) -> impl Iterator<Item = u8> {
    (0u8..128).filter(move |pt| set & (1u128 << pt) != 0)
}

/// A parsed view of an SDP text: its media sections and BUNDLE groups. Parsing copies
/// nothing but positions; the text is never rewritten here (see [`add_sframe`] and the other
/// functions for edits).
///
/// ```
/// use sframe_core::rtp::sdp::{Section, SessionDescription};
/// let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n\
///             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=sframe\r\n\
///             m=video 0 UDP/TLS/RTP/SAVPF 96 97\r\na=bundle-only\r\na=mid:v\r\na=rtpmap:97 rtx/90000\r\n";
/// let sdp = SessionDescription::parse(text)?;
/// assert!(sdp.section(Section::Mid("a"))?.has_sframe());
/// let video = sdp.section(Section::Index(1))?;
/// assert!(!video.has_sframe() && !video.is_stopped()); // port 0 but bundle-only
/// assert_eq!(video.sframe_payload_types().collect::<Vec<_>>(), [96]);
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionDescription<'a> {
    text: &'a str,
    sections: Vec<MediaSection<'a>>,
    /// Each `a=group:BUNDLE` line's tags, with their byte ranges.
    groups: Vec<Vec<(&'a str, Range<usize>)>>,
}

fn parse_u8_pt(token: &str) -> Option<u8> {
    if token.is_empty() || token.len() > 3 || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse::<u8>().ok().filter(|pt| *pt < 128)
}

/// Tokens separated by spaces, with their byte ranges (offset by `base`).
fn tokens(value: &str, base: usize) -> impl Iterator<Item = (&str, Range<usize>)> {
    let mut pos = 0;
    value.split(' ').filter_map(move |t| {
        let start = pos;
        pos += t.len() + 1;
        (!t.is_empty()).then(|| (t, base + start..base + start + t.len()))
    })
}

impl<'a> SessionDescription<'a> {
    /// Reads `text`. Checks what this module relies on: the `v=0` first line, the
    /// `<type>=<value>` form of every line, the `m=` lines, `a=sframe` only at media level and
    /// without value, unique mids. Other lines and attributes are not interpreted.
    pub fn parse(text: &'a str) -> Result<Self, SdpError> {
        if text.is_empty() {
            return Err(SdpError::NotSdp);
        }
        let mut sections: Vec<MediaSection<'a>> = Vec::new();
        let mut groups: Vec<Vec<(&'a str, Range<usize>)>> = Vec::new();
        let mut prev_content_end = 0;
        // The current section's lines before its first a= (or other) line.
        let mut in_header = false;
        for line in lines(text) {
            let content = slice(text, line.start..line.content_end);
            let bytes = content.as_bytes();
            if line.number == 1 && content != "v=0" {
                return Err(SdpError::NotSdp);
            }
            let well_formed = bytes.len() >= 2
                && bytes.first().is_some_and(u8::is_ascii_lowercase)
                && bytes.get(1) == Some(&b'=')
                && !bytes.iter().any(|&b| b == b'\r' || b == 0);
            if !well_formed {
                return Err(SdpError::MalformedLine { line: line.number });
            }
            let kind = bytes.first().copied().unwrap_or_default();
            let value = slice(content, 2..content.len());
            if kind == b'm' {
                sections.push(Self::media_line(text, line, value, sections.len())?);
                in_header = true;
                prev_content_end = line.content_end;
                continue;
            }
            match sections.last_mut() {
                Some(section) => {
                    if in_header && matches!(kind, b'i' | b'c' | b'b' | b'k') {
                        section.insert_at = line.next;
                    } else {
                        in_header = false;
                    }
                    if kind == b'a' {
                        Self::media_attribute(section, line, prev_content_end, value)?;
                    }
                }
                None if kind == b'a' => {
                    let (name, rest) = split_attribute(value);
                    if name == ATTRIBUTE_NAME {
                        return Err(SdpError::SessionLevelSframe { line: line.number });
                    }
                    if let ("group", Some(rest)) = (name, rest) {
                        let base = line.start + 2 + name.len() + 1;
                        let mut toks = tokens(rest, base);
                        if toks.next().is_some_and(|(sem, _)| sem == "BUNDLE") {
                            groups.push(toks.collect());
                        }
                    }
                }
                None => {}
            }
            prev_content_end = line.content_end;
        }
        // Unique mids, and which sections are in a BUNDLE group.
        let mut mids = BTreeMap::new();
        for (i, section) in sections.iter().enumerate() {
            if let Some(mid) = section.mid
                && mids.insert(mid, i).is_some()
            {
                return Err(SdpError::DuplicateMid {
                    line: section.mid_line,
                });
            }
        }
        // Inserted one by one: `collect` would sort first, and its sort code is large in a
        // WebAssembly module.
        let mut grouped = BTreeSet::new();
        for (tag, _) in groups.iter().flatten() {
            grouped.insert(*tag);
        }
        for section in &mut sections {
            section.bundled = section.mid.is_some_and(|m| grouped.contains(m));
        }
        Ok(SessionDescription {
            text,
            sections,
            groups,
        })
    }

    fn media_line(
        text: &'a str,
        line: Line,
        value: &'a str,
        index: usize,
    ) -> Result<MediaSection<'a>, SdpError> {
        let err = SdpError::MalformedMediaLine { line: line.number };
        let mut toks = tokens(value, line.start + 2);
        let (media, _) = toks.next().ok_or(err.clone())?;
        let (port_tok, port_range) = toks.next().ok_or(err.clone())?;
        let (proto, _) = toks.next().ok_or(err.clone())?;
        let port_digits = port_tok.split('/').next().unwrap_or_default();
        if port_digits.is_empty() || !port_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err);
        }
        let port = port_digits.parse::<u16>().map_err(|_| err.clone())?;
        let rtp = proto.split('/').any(|p| p == "RTP");
        let mut payload_types = 0u128;
        if rtp {
            for (fmt, _) in toks {
                let pt = parse_u8_pt(fmt).ok_or(err.clone())?;
                payload_types |= 1u128 << pt;
            }
        }
        Ok(MediaSection {
            index,
            media,
            port,
            port_range: port_range.start..port_range.start + port_digits.len(),
            proto,
            rtp,
            payload_types,
            redundancy: 0,
            mid: None,
            mid_line: 0,
            bundle_only: false,
            bundled: false,
            insert_at: line.next,
            eol: slice(text, line.content_end..line.next),
            sframe_lines: Vec::new(),
        })
    }

    fn media_attribute(
        section: &mut MediaSection<'a>,
        line: Line,
        prev_content_end: usize,
        value: &'a str,
    ) -> Result<(), SdpError> {
        let (name, rest) = split_attribute(value);
        match (name, rest) {
            (ATTRIBUTE_NAME, None) => section.sframe_lines.push((line, prev_content_end)),
            (ATTRIBUTE_NAME, Some(_)) => {
                return Err(SdpError::SframeWithValue { line: line.number });
            }
            ("mid", Some(mid)) if section.mid.is_none() => {
                section.mid = Some(mid);
                section.mid_line = line.number;
            }
            ("bundle-only", None) => section.bundle_only = true,
            ("rtpmap", Some(map)) => {
                let mut parts = map.splitn(2, ' ');
                let pt = parts.next().and_then(parse_u8_pt);
                let encoding = parts.next().and_then(|e| e.split('/').next()).unwrap_or("");
                if let Some(pt) = pt
                    && REDUNDANCY_ENCODINGS
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(encoding))
                {
                    section.redundancy |= 1u128 << pt;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The SDP text this view reads.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The media sections, in `m=` line order.
    pub fn sections(&self) -> &[MediaSection<'a>] {
        &self.sections
    }

    /// One media section, by index or mid ([`SdpError::NoSuchSection`] if none).
    pub fn section(&self, which: Section<'_>) -> Result<&MediaSection<'a>, SdpError> {
        let found = match which {
            Section::Index(i) => self.sections.get(i),
            Section::Mid(mid) => self.sections.iter().find(|s| s.mid == Some(mid)),
        };
        found.ok_or(SdpError::NoSuchSection)
    }

    /// The mids of each `a=group:BUNDLE` line, in order.
    pub fn bundle_groups(&self) -> impl Iterator<Item = impl Iterator<Item = &'a str> + '_> + '_ {
        self.groups.iter().map(|g| g.iter().map(|(tag, _)| *tag))
    }

    /// §6's BUNDLE rule on this text as it is: live RTP sections with `a=sframe` against those
    /// without, per BUNDLE group. Empty when the rule holds. One conflict per payload type and
    /// group (the first pair of sections in `m=` order).
    ///
    /// ```
    /// use sframe_core::rtp::sdp::{BundleConflict, SessionDescription};
    /// let text = "v=0\r\ns=-\r\na=group:BUNDLE 1 2\r\n\
    ///             m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=sframe\r\na=rtpmap:97 rtx/90000\r\n\
    ///             m=video 9 UDP/TLS/RTP/SAVPF 98 97\r\na=mid:2\r\na=rtpmap:97 rtx/90000\r\n";
    /// assert!(SessionDescription::parse(text)?.bundle_conflicts().is_empty()); // only RTX shared
    /// let text = text.replace("98 97", "96 97");
    /// assert_eq!(
    ///     SessionDescription::parse(&text)?.bundle_conflicts(),
    ///     [BundleConflict { payload_type: 96, sframe_section: 0, clear_section: 1 }]
    /// );
    /// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
    /// ```
    pub fn bundle_conflicts(&self) -> Vec<BundleConflict> {
        self.conflicts(|s| (s.rtp && !s.is_stopped()).then(|| s.has_sframe()))
    }

    /// The BUNDLE rule with `uses_sframe` saying, per section, SFrame (`Some(true)`), clear
    /// (`Some(false)`) or not taking part (`None`).
    fn conflicts(
        &self,
        uses_sframe: impl Fn(&MediaSection<'a>) -> Option<bool>,
    ) -> Vec<BundleConflict> {
        // Mids are unique (`parse`). Inserted one by one, as `grouped` in `parse`.
        let mut by_mid: BTreeMap<&str, &MediaSection<'a>> = BTreeMap::new();
        for s in &self.sections {
            if let Some(m) = s.mid {
                by_mid.insert(m, s);
            }
        }
        let mut out = Vec::new();
        for group in &self.groups {
            // Per payload type: the first SFrame / clear section that has it as a media
            // encoding ("relevant") and in any role.
            #[derive(Clone, Copy, Default)]
            struct Seen {
                sframe_relevant: Option<usize>,
                sframe_any: Option<usize>,
                clear_relevant: Option<usize>,
                clear_any: Option<usize>,
            }
            let mut seen = [Seen::default(); 128];
            let mut visited = BTreeSet::new();
            for (tag, _) in group {
                let Some(section) = by_mid.get(tag) else {
                    continue;
                };
                if !visited.insert(section.index) {
                    continue;
                }
                let Some(sframe) = uses_sframe(section) else {
                    continue;
                };
                for pt in bits(section.payload_types) {
                    let relevant = section.redundancy & (1u128 << pt) == 0;
                    if let Some(entry) = seen.get_mut(usize::from(pt)) {
                        let (rel, any) = if sframe {
                            (&mut entry.sframe_relevant, &mut entry.sframe_any)
                        } else {
                            (&mut entry.clear_relevant, &mut entry.clear_any)
                        };
                        any.get_or_insert(section.index);
                        if relevant {
                            rel.get_or_insert(section.index);
                        }
                    }
                }
            }
            for (pt, s) in (0u8..).zip(seen.iter()) {
                let pair = match (
                    s.sframe_relevant,
                    s.clear_any,
                    s.sframe_any,
                    s.clear_relevant,
                ) {
                    (Some(a), Some(b), _, _) | (_, _, Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                if let Some((sframe_section, clear_section)) = pair {
                    out.push(BundleConflict {
                        payload_type: pt,
                        sframe_section,
                        clear_section,
                    });
                }
            }
        }
        out
    }
}

/// `name` and, after the first `:`, the value.
fn split_attribute(value: &str) -> (&str, Option<&str>) {
    match value.split_once(':') {
        Some((name, rest)) => (name, Some(rest)),
        None => (value, None),
    }
}

/// A replacement of `range` of the text by `with`.
struct Edit {
    range: Range<usize>,
    with: String,
}

impl Edit {
    fn delete(range: Range<usize>) -> Self {
        Edit {
            range,
            with: String::new(),
        }
    }
}

/// Applies edits (sorted here); overlapping deletions merge.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 16 * edits.len());
    let mut cursor = 0;
    for edit in edits {
        if edit.range.start >= cursor {
            out.push_str(slice(text, cursor..edit.range.start));
            out.push_str(&edit.with);
            cursor = edit.range.end;
        } else if edit.range.end > cursor {
            cursor = edit.range.end;
        }
    }
    out.push_str(slice(text, cursor..text.len()));
    out
}

/// The edit that adds `a=sframe` to a section, if it lacks it.
fn add_edit(sdp: &SessionDescription<'_>, section: &MediaSection<'_>) -> Option<Edit> {
    if section.has_sframe() {
        return None;
    }
    let eol = match section.eol {
        "" => lines(sdp.text)
            .next()
            .map(|l| slice(sdp.text, l.content_end..l.next))
            .filter(|t| !t.is_empty())
            .unwrap_or("\r\n"),
        eol => eol,
    };
    let at = section.insert_at;
    let at_line_start = at < sdp.text.len() || sdp.text.ends_with('\n');
    let line = if at_line_start {
        ["a=", ATTRIBUTE_NAME, eol].concat()
    } else {
        [eol, "a=", ATTRIBUTE_NAME].concat()
    };
    Some(Edit {
        range: at..at,
        with: line,
    })
}

/// The edits that remove every `a=sframe` line of a section, with its line terminator (for a
/// last line without one: the terminator before it).
fn remove_edits<'s>(section: &'s MediaSection<'_>) -> impl Iterator<Item = Edit> + 's {
    section.sframe_lines.iter().map(|(line, prev_content_end)| {
        if line.next > line.content_end {
            Edit::delete(line.start..line.next)
        } else {
            Edit::delete(*prev_content_end..line.next)
        }
    })
}

/// Whether the media section has `a=sframe`.
///
/// ```
/// use sframe_core::rtp::sdp::{has_sframe, Section};
/// let text = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=mid:x\r\na=sframe\r\n";
/// assert!(has_sframe(text, Section::Mid("x"))?);
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
pub fn has_sframe(sdp: &str, which: Section<'_>) -> Result<bool, SdpError> {
    Ok(SessionDescription::parse(sdp)?.section(which)?.has_sframe())
}

/// Adds `a=sframe` to one RTP media section: a new line right after the `m=` line and its
/// `i=`, `c=`, `b=` and `k=` lines (RFC 8866 §5 order; the draft's example puts it first among
/// the attributes), with the `m=` line's line ending. Nothing else changes; a section that has
/// `a=sframe` already is left as it is. [`SdpError::NotRtp`] for a non-RTP section.
///
/// ```
/// use sframe_core::rtp::sdp::{add_sframe, remove_sframe, Section};
/// let text = "v=0\ns=-\nm=audio 9 RTP/AVP 0\nc=IN IP4 0.0.0.0\na=mid:0\n";
/// let with = add_sframe(text, Section::Index(0))?;
/// assert_eq!(with, "v=0\ns=-\nm=audio 9 RTP/AVP 0\nc=IN IP4 0.0.0.0\na=sframe\na=mid:0\n");
/// assert_eq!(remove_sframe(&with, Section::Index(0))?, text);
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
pub fn add_sframe(sdp: &str, which: Section<'_>) -> Result<String, SdpError> {
    let desc = SessionDescription::parse(sdp)?;
    let section = desc.section(which)?;
    if !section.rtp {
        return Err(SdpError::NotRtp {
            index: section.index,
        });
    }
    Ok(apply(sdp, add_edit(&desc, section).into_iter().collect()))
}

/// Removes every `a=sframe` line of one media section (each with its line ending). Nothing
/// else changes.
pub fn remove_sframe(sdp: &str, which: Section<'_>) -> Result<String, SdpError> {
    let desc = SessionDescription::parse(sdp)?;
    let section = desc.section(which)?;
    Ok(apply(sdp, remove_edits(section).collect()))
}

/// Removes `a=sframe` from every media section: what a peer that does not negotiate SFrame
/// itself should be given.
///
/// ```
/// use sframe_core::rtp::sdp::strip_sframe;
/// let text = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sframe\r\nm=video 9 RTP/AVP 96\r\na=sframe\r\n";
/// assert_eq!(strip_sframe(text)?, "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\n");
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
pub fn strip_sframe(sdp: &str) -> Result<String, SdpError> {
    let desc = SessionDescription::parse(sdp)?;
    Ok(apply(
        sdp,
        desc.sections.iter().flat_map(remove_edits).collect(),
    ))
}

fn outcome(section: &MediaSection<'_>, outcome: Outcome) -> SectionOutcome {
    SectionOutcome {
        index: section.index,
        mid: section.mid.map(String::from),
        outcome,
    }
}

fn uses_sframe(outcome: &Outcome) -> Option<bool> {
    match outcome {
        Outcome::Negotiated => Some(true),
        Outcome::Clear => Some(false),
        _ => None,
    }
}

/// Marks both sections of each conflict [`Outcome::Rejected`] (first conflict wins).
fn reject_conflicts(outcomes: &mut [SectionOutcome], conflicts: &[BundleConflict]) {
    for c in conflicts {
        for index in [c.sframe_section, c.clear_section] {
            if let Some(o) = outcomes.get_mut(index)
                && !matches!(o.outcome, Outcome::Rejected(_))
            {
                o.outcome = Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(*c));
            }
        }
    }
}

/// Offerer, before sending an offer: `a=sframe` in each live RTP section whose policy is
/// [`Policy::Required`] or [`Policy::Preferred`], none in those with [`Policy::Off`]. Stopped
/// and non-RTP sections are left as they are and `policy` is not asked about them.
/// [`SdpError::BundlePayloadTypeReuse`] if the result would break §6's BUNDLE rule (give the
/// sections with and without SFrame distinct payload types, or the same policy).
///
/// ```
/// use sframe_core::rtp::sdp::{prepare_offer, Policy, SdpError};
/// let offer = "v=0\r\ns=-\r\na=group:BUNDLE 0 1\r\n\
///              m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n\
///              m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n";
/// let audio_only = prepare_offer(offer, |s| if s.media() == "audio" { Policy::Required } else { Policy::Off })?;
/// assert!(audio_only.contains("a=mid:0\r\n") && audio_only.matches("a=sframe").count() == 1);
/// # Ok::<(), SdpError>(())
/// ```
pub fn prepare_offer(
    offer: &str,
    mut policy: impl FnMut(&MediaSection<'_>) -> Policy,
) -> Result<String, SdpError> {
    let desc = SessionDescription::parse(offer)?;
    let mut edits = Vec::new();
    for section in desc.sections.iter().filter(|s| s.rtp && !s.is_stopped()) {
        match policy(section) {
            Policy::Required | Policy::Preferred => edits.extend(add_edit(&desc, section)),
            Policy::Off => edits.extend(remove_edits(section)),
        }
    }
    let edited = apply(offer, edits);
    match SessionDescription::parse(&edited)?
        .bundle_conflicts()
        .first()
    {
        Some(c) => Err(SdpError::BundlePayloadTypeReuse(*c)),
        None => Ok(edited),
    }
}

/// Answerer, on a received offer: the outcome of each section, which the answer must then
/// express ([`apply_answer`] on the local answer text, or stopping transceivers):
///
/// | offer | policy | outcome |
/// |---|---|---|
/// | port 0, not bundled | any | `Stopped(StoppedInOffer)` |
/// | `a=sframe` | `Required`, `Preferred` | `Negotiated` |
/// | `a=sframe` | `Off` | `Clear` (the offerer may then stop it) |
/// | no `a=sframe` | `Required` | `Stopped(PeerLacksSframe)` |
/// | no `a=sframe` | `Preferred`, `Off` | `Clear` |
///
/// Sections in one BUNDLE group that would share a payload type across SFrame and clear
/// (§6), in the offer as it is or in the outcome above, are `Rejected`: reject the offer.
///
/// ```
/// use sframe_core::rtp::sdp::{answer_for_offer, Outcome, Policy, StopReason};
/// let offer = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sframe\r\nm=video 9 RTP/AVP 96\r\n";
/// let plan = answer_for_offer(offer, |_| Policy::Required)?;
/// assert_eq!(plan[0].outcome, Outcome::Negotiated);
/// assert_eq!(plan[1].outcome, Outcome::Stopped(StopReason::PeerLacksSframe));
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
pub fn answer_for_offer(
    offer: &str,
    mut policy: impl FnMut(&MediaSection<'_>) -> Policy,
) -> Result<Vec<SectionOutcome>, SdpError> {
    let desc = SessionDescription::parse(offer)?;
    let mut outcomes: Vec<SectionOutcome> = desc
        .sections
        .iter()
        .map(|s| {
            let o = if !s.rtp {
                Outcome::NotRtp
            } else if s.is_stopped() {
                Outcome::Stopped(StopReason::StoppedInOffer)
            } else {
                match (s.has_sframe(), policy(s)) {
                    (true, Policy::Required | Policy::Preferred) => Outcome::Negotiated,
                    (true, Policy::Off) => Outcome::Clear,
                    (false, Policy::Required) => Outcome::Stopped(StopReason::PeerLacksSframe),
                    (false, Policy::Preferred | Policy::Off) => Outcome::Clear,
                }
            };
            outcome(s, o)
        })
        .collect();
    let mut conflicts = desc.bundle_conflicts();
    conflicts
        .extend(desc.conflicts(|s| outcomes.get(s.index).and_then(|o| uses_sframe(&o.outcome))));
    reject_conflicts(&mut outcomes, &conflicts);
    Ok(outcomes)
}

/// Answerer: edits its own answer text (one section per offer section, RFC 3264 §6) to say
/// what [`answer_for_offer`] decided: `a=sframe` added where `Negotiated`, removed where
/// `Clear`; where `Stopped`, port 0, no `a=sframe`, and the mid taken out of `a=group:BUNDLE`
/// (RFC 9143, rejecting a bundled m= section). `NotRtp` sections are left as they are. An outcome `Rejected` is
/// [`SdpError::Rejected`]; a result that breaks §6's BUNDLE rule is
/// [`SdpError::BundlePayloadTypeReuse`]. With a browser, stop the transceivers before
/// `createAnswer` rather than editing the port: a browser does not take an edited local
/// description.
pub fn apply_answer(answer: &str, outcomes: &[SectionOutcome]) -> Result<String, SdpError> {
    let desc = SessionDescription::parse(answer)?;
    if desc.sections.len() != outcomes.len() {
        return Err(SdpError::SectionCountMismatch {
            expected: outcomes.len(),
            found: desc.sections.len(),
        });
    }
    let mut edits = Vec::new();
    for (section, o) in desc.sections.iter().zip(outcomes) {
        match o.outcome {
            Outcome::Negotiated if !section.rtp => {
                return Err(SdpError::NotRtp {
                    index: section.index,
                });
            }
            Outcome::Negotiated => edits.extend(add_edit(&desc, section)),
            Outcome::Clear => edits.extend(remove_edits(section)),
            Outcome::NotRtp => {}
            Outcome::Rejected(reason) => {
                return Err(SdpError::Rejected {
                    index: section.index,
                    reason,
                });
            }
            Outcome::Stopped(_) => {
                edits.extend(remove_edits(section));
                if section.port != 0 {
                    edits.push(Edit {
                        range: section.port_range.clone(),
                        with: String::from("0"),
                    });
                }
                if let Some(mid) = section.mid {
                    // A BUNDLE group's identification tags are mids (RFC 9143), not MACs.
                    for (group_mid, range) in desc.groups.iter().flatten() {
                        if *group_mid == mid {
                            // With the space before it (the semantics token precedes it).
                            edits.push(Edit::delete(range.start.saturating_sub(1)..range.end));
                        }
                    }
                }
            }
        }
    }
    let edited = apply(answer, edits);
    match SessionDescription::parse(&edited)?
        .bundle_conflicts()
        .first()
    {
        Some(c) => Err(SdpError::BundlePayloadTypeReuse(*c)),
        None => Ok(edited),
    }
}

/// Offerer, on the answer to its offer (`offer` as sent, with its `a=sframe` lines):
///
/// | offer | answer | policy | outcome |
/// |---|---|---|---|
/// | port 0, not bundled | any | any | `Stopped(StoppedInOffer)` |
/// | any | port 0, not bundled | any | `Stopped(RejectedByAnswerer)` |
/// | no `a=sframe` | `a=sframe` | any | `Rejected(AnswerAddedSframe)` |
/// | `a=sframe` | `a=sframe` | any | `Negotiated` |
/// | `a=sframe` | no `a=sframe` | `Required` | `Stopped(PeerLacksSframe)` |
/// | no `a=sframe` | no `a=sframe` | `Required` | `Stopped(SframeNotOffered)` |
/// | either | no `a=sframe` | `Preferred`, `Off` | `Clear` |
///
/// `policy` is asked only about live RTP sections whose answer lacks `a=sframe`. Then §6's
/// BUNDLE rule on the answer with those outcomes: both sections of a conflict are
/// `Rejected`. Reject the whole answer if any section is `Rejected`; stop the transceiver of
/// each `Stopped` section ("which will generate a zero port for that m-section", §6).
/// [`SdpError::SectionCountMismatch`] if the answer does not have one section per offer
/// section.
///
/// ```
/// use sframe_core::rtp::sdp::{check_answer, Outcome, Policy, RejectReason, StopReason};
/// let offer = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sframe\r\nm=video 9 RTP/AVP 96\r\n";
/// let answer = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=sframe\r\n";
/// let outcomes = check_answer(offer, answer, |_| Policy::Required)?;
/// assert_eq!(outcomes[0].outcome, Outcome::Stopped(StopReason::PeerLacksSframe));
/// assert_eq!(outcomes[1].outcome, Outcome::Rejected(RejectReason::AnswerAddedSframe));
/// # Ok::<(), sframe_core::rtp::sdp::SdpError>(())
/// ```
pub fn check_answer(
    offer: &str,
    answer: &str,
    mut policy: impl FnMut(&MediaSection<'_>) -> Policy,
) -> Result<Vec<SectionOutcome>, SdpError> {
    let offer = SessionDescription::parse(offer)?;
    let answer = SessionDescription::parse(answer)?;
    if offer.sections.len() != answer.sections.len() {
        return Err(SdpError::SectionCountMismatch {
            expected: offer.sections.len(),
            found: answer.sections.len(),
        });
    }
    let mut outcomes: Vec<SectionOutcome> = offer
        .sections
        .iter()
        .zip(&answer.sections)
        .map(|(o, a)| {
            let result = if !o.rtp {
                Outcome::NotRtp
            } else if o.is_stopped() {
                Outcome::Stopped(StopReason::StoppedInOffer)
            } else if a.is_stopped() {
                Outcome::Stopped(StopReason::RejectedByAnswerer)
            } else {
                match (o.has_sframe(), a.has_sframe()) {
                    (false, true) => Outcome::Rejected(RejectReason::AnswerAddedSframe),
                    (true, true) => Outcome::Negotiated,
                    (offered, false) => match (policy(o), offered) {
                        (Policy::Required, true) => Outcome::Stopped(StopReason::PeerLacksSframe),
                        (Policy::Required, false) => Outcome::Stopped(StopReason::SframeNotOffered),
                        (Policy::Preferred | Policy::Off, _) => Outcome::Clear,
                    },
                }
            };
            outcome(o, result)
        })
        .collect();
    let conflicts =
        answer.conflicts(|s| outcomes.get(s.index).and_then(|o| uses_sframe(&o.outcome)));
    reject_conflicts(&mut outcomes, &conflicts);
    Ok(outcomes)
}
