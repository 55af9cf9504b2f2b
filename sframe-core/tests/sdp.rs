//! `a=sframe` SDP negotiation (draft-ietf-avtcore-rtp-sframe-02 §6): the draft's example, real
//! Chromium 156 and Firefox ESR 153 SDP (`test-vectors/sdp/`), every offer/answer rule, and
//! property tests (edits keep every other byte; no panic on any text).
#![cfg(feature = "sdp")]

use proptest::prelude::*;
use sframe_core::rtp::sdp::{
    self, BundleConflict, MediaSection, Outcome, Policy, RejectReason, SdpError, Section,
    SectionOutcome, SessionDescription, StopReason,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/sdp/",
            $name
        ))
    };
}

const CHROMIUM_OFFER: &str = fixture!("chromium-offer.sdp");
const CHROMIUM_ANSWER: &str = fixture!("chromium-answer.sdp");
const CHROMIUM_OFFER_2VIDEO: &str = fixture!("chromium-offer-2video.sdp");
const CHROMIUM_OFFER_SFRAME: &str = fixture!("chromium-offer-sframe.sdp");
const CHROMIUM_ANSWER_SFRAME: &str = fixture!("chromium-answer-sframe.sdp");
const FIREFOX_OFFER: &str = fixture!("firefox-offer.sdp");
const FIREFOX_ANSWER: &str = fixture!("firefox-answer.sdp");
const FIREFOX_OFFER_2VIDEO: &str = fixture!("firefox-offer-2video.sdp");
const FIREFOX_OFFER_SFRAME: &str = fixture!("firefox-offer-sframe.sdp");
const FIREFOX_ANSWER_SFRAME: &str = fixture!("firefox-answer-sframe.sdp");

/// The fixtures without a=sframe.
const PLAIN: [&str; 6] = [
    CHROMIUM_OFFER,
    CHROMIUM_ANSWER,
    CHROMIUM_OFFER_2VIDEO,
    FIREFOX_OFFER,
    FIREFOX_ANSWER,
    FIREFOX_OFFER_2VIDEO,
];

/// The example of §6, verbatim, with the session-level lines an SDP needs in front and
/// without the blank line between the two media sections (SDP has no blank lines).
const DRAFT_EXAMPLE_SECTIONS: &str = "m=audio 50000 RTP/SAVPF 10 11
a=sframe
a=rtpmap:10 opus/48000/2
a=rtpmap:11 CN/8000
m=video 50002 RTP/SAVPF 100 101
a=sframe
a=rtpmap:100 H264/90000
a=rtpmap:101 VP8/90000
";

fn draft_example() -> String {
    format!("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n{DRAFT_EXAMPLE_SECTIONS}")
}

fn outcomes(list: &[SectionOutcome]) -> Vec<Outcome> {
    list.iter().map(|o| o.outcome).collect()
}

fn all(policy: Policy) -> impl FnMut(&MediaSection<'_>) -> Policy {
    move |_| policy
}

/// The lines of `text` (terminators included), for comparing line sequences.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

#[test]
fn draft_example_reads_and_round_trips() {
    let text = draft_example();
    let sdp = SessionDescription::parse(&text).unwrap();
    let sections = sdp.sections();
    assert_eq!(sections.len(), 2);
    assert!(
        sections
            .iter()
            .all(|s| s.has_sframe() && s.is_rtp() && !s.is_stopped())
    );
    assert_eq!((sections[0].media(), sections[0].port()), ("audio", 50000));
    assert_eq!(
        sections[0].sframe_payload_types().collect::<Vec<_>>(),
        [10, 11]
    );
    assert_eq!(
        sections[1].sframe_payload_types().collect::<Vec<_>>(),
        [100, 101]
    );

    // Removing and adding back gives the draft's bytes: a=sframe goes where the draft puts it.
    let stripped = sdp::strip_sframe(&text).unwrap();
    assert!(!stripped.contains("a=sframe"));
    let readded = sdp::add_sframe(&stripped, Section::Index(0)).unwrap();
    let readded = sdp::add_sframe(&readded, Section::Index(1)).unwrap();
    assert_eq!(readded, text);

    // The example is an offer that an SFrame answerer accepts, and as its own answer it
    // negotiates SFrame in both sections.
    let plan = sdp::answer_for_offer(&text, all(Policy::Required)).unwrap();
    assert_eq!(outcomes(&plan), [Outcome::Negotiated; 2]);
    let checked = sdp::check_answer(&text, &text, all(Policy::Required)).unwrap();
    assert_eq!(outcomes(&checked), [Outcome::Negotiated; 2]);
}

#[test]
fn draft_example_fragment_alone_is_not_sdp() {
    // The draft shows media sections only; without v=0 it is not a session description.
    assert_eq!(
        SessionDescription::parse(DRAFT_EXAMPLE_SECTIONS).unwrap_err(),
        SdpError::NotSdp
    );
}

#[test]
fn browser_fixtures_read_as_expected() {
    for text in PLAIN {
        let sdp = SessionDescription::parse(text).unwrap();
        assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'));
        assert!(
            sdp.sections()
                .iter()
                .all(|s| s.is_rtp() && !s.has_sframe() && s.is_bundled())
        );
        assert!(
            sdp.sections().iter().all(|s| !s.is_stopped()),
            "bundled sections are live"
        );
        assert_eq!(sdp.bundle_groups().count(), 1);
        assert!(sdp.bundle_conflicts().is_empty());
    }
    // Firefox max-bundle: port 0 + a=bundle-only for the video section, which is not stopped.
    let firefox = SessionDescription::parse(FIREFOX_OFFER).unwrap();
    let video = firefox.section(Section::Mid("1")).unwrap();
    assert_eq!(
        (video.media(), video.port(), video.is_bundle_only()),
        ("video", 0, true)
    );
    // RTX, RED and ULPFEC are not "media encodings relevant for SFrame".
    let chromium = SessionDescription::parse(CHROMIUM_OFFER).unwrap();
    let video = chromium.section(Section::Index(1)).unwrap();
    let relevant: Vec<u8> = video.sframe_payload_types().collect();
    assert_eq!(relevant, [39, 45, 96, 98, 100, 102, 104, 108, 114, 116]);
    assert_eq!(video.payload_types().count(), 23);
    let audio = chromium.section(Section::Index(0)).unwrap();
    assert_eq!(
        audio.sframe_payload_types().collect::<Vec<_>>(),
        [0, 8, 9, 13, 110, 111, 126]
    );
}

#[test]
fn add_then_remove_is_byte_identical_in_every_browser_section() {
    for text in PLAIN {
        let sdp = SessionDescription::parse(text).unwrap();
        for section in sdp.sections() {
            for which in [
                Section::Index(section.index()),
                Section::Mid(section.mid().unwrap()),
            ] {
                let with = sdp::add_sframe(text, which).unwrap();
                assert_eq!(with.len(), text.len() + "a=sframe\r\n".len());
                assert!(sdp::has_sframe(&with, which).unwrap());
                // Exactly one new CRLF line, right after the m= and c= lines.
                let (old, new) = (lines(text), lines(&with));
                let at = new.iter().position(|l| *l == "a=sframe\r\n").unwrap();
                assert!(new[at - 2].starts_with("m=") && new[at - 1].starts_with("c="));
                let mut without = new.clone();
                without.remove(at);
                assert_eq!(without, old);
                // Idempotent, and back to the original bytes.
                assert_eq!(sdp::add_sframe(&with, which).unwrap(), with);
                assert_eq!(sdp::remove_sframe(&with, which).unwrap(), text);
            }
        }
        // Every section at once, then stripped.
        let every = sdp::prepare_offer(text, all(Policy::Required)).unwrap();
        assert_eq!(
            every.matches("\r\na=sframe\r\n").count(),
            sdp.sections().len()
        );
        assert_eq!(sdp::strip_sframe(&every).unwrap(), text);
    }
}

#[test]
fn our_placement_matches_the_captured_edited_offers() {
    // capture.mjs put a=sframe after the m= and c= lines by a regular expression in the page;
    // add_sframe gives the same bytes.
    for edited in [CHROMIUM_OFFER_SFRAME, FIREFOX_OFFER_SFRAME] {
        let original = sdp::strip_sframe(edited).unwrap();
        assert!(!original.contains("sframe"));
        assert_eq!(
            sdp::prepare_offer(&original, all(Policy::Required)).unwrap(),
            edited
        );
    }
}

#[test]
fn chromium_answers_a_sframe_offer_with_sframe() {
    // Chromium 156 negotiates a=sframe itself: its real answer negotiates SFrame everywhere.
    let checked = sdp::check_answer(
        CHROMIUM_OFFER_SFRAME,
        CHROMIUM_ANSWER_SFRAME,
        all(Policy::Required),
    )
    .unwrap();
    assert_eq!(outcomes(&checked), [Outcome::Negotiated; 2]);
    assert_eq!(checked[1].mid.as_deref(), Some("1"));
    // Chromium's a=sframe sits elsewhere (after a=rtcp-xr): found all the same, and removing it
    // removes just that line.
    let stripped = sdp::strip_sframe(CHROMIUM_ANSWER_SFRAME).unwrap();
    assert_eq!(
        stripped.len(),
        CHROMIUM_ANSWER_SFRAME.len() - 2 * "a=sframe\r\n".len()
    );
    assert_eq!(stripped, CHROMIUM_ANSWER_SFRAME.replace("a=sframe\r\n", ""));
}

#[test]
fn firefox_answer_lacks_sframe_required_stops_preferred_falls_back() {
    let required = sdp::check_answer(
        FIREFOX_OFFER_SFRAME,
        FIREFOX_ANSWER_SFRAME,
        all(Policy::Required),
    )
    .unwrap();
    assert_eq!(
        outcomes(&required),
        [Outcome::Stopped(StopReason::PeerLacksSframe); 2]
    );
    let preferred = sdp::check_answer(
        FIREFOX_OFFER_SFRAME,
        FIREFOX_ANSWER_SFRAME,
        all(Policy::Preferred),
    )
    .unwrap();
    assert_eq!(outcomes(&preferred), [Outcome::Clear; 2]);
}

#[test]
fn full_round_offer_answer_check_on_chromium() {
    let offer = sdp::prepare_offer(CHROMIUM_OFFER, all(Policy::Required)).unwrap();
    let plan = sdp::answer_for_offer(&offer, all(Policy::Preferred)).unwrap();
    assert_eq!(outcomes(&plan), [Outcome::Negotiated; 2]);
    let answer = sdp::apply_answer(CHROMIUM_ANSWER, &plan).unwrap();
    assert_eq!(sdp::strip_sframe(&answer).unwrap(), CHROMIUM_ANSWER);
    let checked = sdp::check_answer(&offer, &answer, all(Policy::Required)).unwrap();
    assert_eq!(outcomes(&checked), [Outcome::Negotiated; 2]);
}

#[test]
fn check_answer_every_rule() {
    let offer = sdp::prepare_offer(CHROMIUM_OFFER, all(Policy::Required)).unwrap();
    let audio_only = sdp::prepare_offer(CHROMIUM_OFFER, |s: &MediaSection<'_>| {
        if s.media() == "audio" {
            Policy::Required
        } else {
            Policy::Off
        }
    })
    .unwrap();
    let answer_both = sdp::prepare_offer(CHROMIUM_ANSWER, all(Policy::Required)).unwrap();

    // Offer and answer with a=sframe: Negotiated, whatever the policy.
    for policy in [Policy::Required, Policy::Preferred, Policy::Off] {
        let o = sdp::check_answer(&offer, &answer_both, all(policy)).unwrap();
        assert_eq!(outcomes(&o), [Outcome::Negotiated; 2]);
    }
    // Offered, not answered: Required stops (§6), the others accept clear media.
    let o = sdp::check_answer(&offer, CHROMIUM_ANSWER, all(Policy::Required)).unwrap();
    assert_eq!(
        outcomes(&o),
        [Outcome::Stopped(StopReason::PeerLacksSframe); 2]
    );
    let o = sdp::check_answer(&offer, CHROMIUM_ANSWER, all(Policy::Preferred)).unwrap();
    assert_eq!(outcomes(&o), [Outcome::Clear; 2]);
    // Neither side: Required never falls back to clear.
    let o = sdp::check_answer(CHROMIUM_OFFER, CHROMIUM_ANSWER, all(Policy::Required)).unwrap();
    assert_eq!(
        outcomes(&o),
        [Outcome::Stopped(StopReason::SframeNotOffered); 2]
    );
    let o = sdp::check_answer(CHROMIUM_OFFER, CHROMIUM_ANSWER, all(Policy::Off)).unwrap();
    assert_eq!(outcomes(&o), [Outcome::Clear; 2]);
    // The answer adds a=sframe the offer did not have: Rejected, whatever the policy.
    for policy in [Policy::Required, Policy::Preferred, Policy::Off] {
        let o = sdp::check_answer(&audio_only, &answer_both, all(policy)).unwrap();
        assert_eq!(o[0].outcome, Outcome::Negotiated);
        assert_eq!(
            o[1].outcome,
            Outcome::Rejected(RejectReason::AnswerAddedSframe)
        );
    }
    // The answerer rejected the video section (port 0, mid out of the BUNDLE group).
    let rejecting = sdp::apply_answer(
        &answer_both,
        &[
            SectionOutcome {
                index: 0,
                mid: None,
                outcome: Outcome::Negotiated,
            },
            SectionOutcome {
                index: 1,
                mid: None,
                outcome: Outcome::Stopped(StopReason::PeerLacksSframe),
            },
        ],
    )
    .unwrap();
    let o = sdp::check_answer(&offer, &rejecting, all(Policy::Required)).unwrap();
    assert_eq!(
        outcomes(&o),
        [
            Outcome::Negotiated,
            Outcome::Stopped(StopReason::RejectedByAnswerer)
        ]
    );
}

#[test]
fn apply_answer_stops_a_section_editing_only_port_group_and_sframe() {
    let answer = sdp::prepare_offer(CHROMIUM_ANSWER, all(Policy::Required)).unwrap();
    let plan = [
        SectionOutcome {
            index: 0,
            mid: None,
            outcome: Outcome::Negotiated,
        },
        SectionOutcome {
            index: 1,
            mid: None,
            outcome: Outcome::Stopped(StopReason::PeerLacksSframe),
        },
    ];
    let stopped = sdp::apply_answer(&answer, &plan).unwrap();
    let expected = answer
        .replacen("a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 0\r\n", 1)
        .replacen("m=video 9 ", "m=video 0 ", 1);
    let video_sframe = expected.rfind("a=sframe\r\n").unwrap();
    let expected = [
        &expected[..video_sframe],
        &expected[video_sframe + "a=sframe\r\n".len()..],
    ]
    .concat();
    assert_eq!(stopped, expected);
    let desc = SessionDescription::parse(&stopped).unwrap();
    assert!(desc.sections()[1].is_stopped() && !desc.sections()[1].has_sframe());
    assert!(desc.sections()[0].has_sframe());
}

#[test]
fn answer_for_offer_every_rule() {
    let offer = sdp::prepare_offer(FIREFOX_OFFER, all(Policy::Required)).unwrap();
    assert_eq!(
        outcomes(&sdp::answer_for_offer(&offer, all(Policy::Required)).unwrap()),
        [Outcome::Negotiated; 2]
    );
    assert_eq!(
        outcomes(&sdp::answer_for_offer(&offer, all(Policy::Preferred)).unwrap()),
        [Outcome::Negotiated; 2]
    );
    assert_eq!(
        outcomes(&sdp::answer_for_offer(&offer, all(Policy::Off)).unwrap()),
        [Outcome::Clear; 2]
    );
    assert_eq!(
        outcomes(&sdp::answer_for_offer(FIREFOX_OFFER, all(Policy::Required)).unwrap()),
        [Outcome::Stopped(StopReason::PeerLacksSframe); 2]
    );
    assert_eq!(
        outcomes(&sdp::answer_for_offer(FIREFOX_OFFER, all(Policy::Preferred)).unwrap()),
        [Outcome::Clear; 2]
    );
    // Applied to Firefox's real answer: a=sframe where negotiated, nothing else changes.
    let plan = sdp::answer_for_offer(&offer, all(Policy::Preferred)).unwrap();
    let answer = sdp::apply_answer(FIREFOX_ANSWER, &plan).unwrap();
    assert_eq!(sdp::strip_sframe(&answer).unwrap(), FIREFOX_ANSWER);
    let checked = sdp::check_answer(&offer, &answer, all(Policy::Required)).unwrap();
    assert_eq!(outcomes(&checked), [Outcome::Negotiated; 2]);
    assert_eq!(plan[0].mid.as_deref(), Some("0"));
}

const WITH_STOPPED_AND_DATA: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0 2\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n\
m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n";

#[test]
fn stopped_and_non_rtp_sections_are_left_alone() {
    let mut asked = Vec::new();
    let offer = sdp::prepare_offer(WITH_STOPPED_AND_DATA, |s: &MediaSection<'_>| {
        asked.push(s.index());
        Policy::Required
    })
    .unwrap();
    assert_eq!(asked, [0], "policy asked only for live RTP sections");
    assert_eq!(offer.matches("a=sframe").count(), 1);
    let expected = [
        Outcome::Negotiated,
        Outcome::Stopped(StopReason::StoppedInOffer),
        Outcome::NotRtp,
    ];
    assert_eq!(
        outcomes(&sdp::answer_for_offer(&offer, all(Policy::Required)).unwrap()),
        expected
    );
    assert_eq!(
        outcomes(&sdp::check_answer(&offer, &offer, all(Policy::Required)).unwrap()),
        expected
    );
    assert_eq!(
        sdp::add_sframe(WITH_STOPPED_AND_DATA, Section::Mid("2")).unwrap_err(),
        SdpError::NotRtp { index: 2 }
    );
}

#[test]
fn bundle_rule_shared_video_payload_types() {
    // Two video sections with the same payload types in one BUNDLE group: SFrame in one and
    // not the other breaks §6's rule; the first shared media encoding is Chromium's H264 39.
    let one_video = |s: &MediaSection<'_>| {
        if s.index() == 2 {
            Policy::Off
        } else {
            Policy::Required
        }
    };
    let conflict = BundleConflict {
        payload_type: 39,
        sframe_section: 1,
        clear_section: 2,
    };
    assert_eq!(
        sdp::prepare_offer(CHROMIUM_OFFER_2VIDEO, one_video).unwrap_err(),
        SdpError::BundlePayloadTypeReuse(conflict)
    );
    let firefox = BundleConflict {
        payload_type: 99,
        sframe_section: 1,
        clear_section: 2,
    };
    assert_eq!(
        sdp::prepare_offer(FIREFOX_OFFER_2VIDEO, one_video).unwrap_err(),
        SdpError::BundlePayloadTypeReuse(firefox)
    );
    // Audio and video use distinct payload types: SFrame on audio only is fine.
    let audio_only = |s: &MediaSection<'_>| {
        if s.media() == "audio" {
            Policy::Required
        } else {
            Policy::Off
        }
    };
    for text in [CHROMIUM_OFFER_2VIDEO, FIREFOX_OFFER_2VIDEO] {
        assert!(sdp::prepare_offer(text, audio_only).is_ok());
    }

    // An offer that breaks the rule (sent by someone else): the answerer rejects it.
    let bad_offer = sdp::add_sframe(CHROMIUM_OFFER_2VIDEO, Section::Index(1)).unwrap();
    let plan = sdp::answer_for_offer(&bad_offer, all(Policy::Preferred)).unwrap();
    assert_eq!(plan[0].outcome, Outcome::Clear);
    assert_eq!(
        plan[1].outcome,
        Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(conflict))
    );
    assert_eq!(
        plan[2].outcome,
        Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(conflict))
    );
    assert_eq!(
        sdp::apply_answer(CHROMIUM_OFFER_2VIDEO, &plan).unwrap_err(),
        SdpError::Rejected {
            index: 1,
            reason: RejectReason::BundlePayloadTypeReuse(conflict)
        }
    );

    // A good offer (both videos) that the answerer's own policy would split: rejected too.
    let good_offer = sdp::prepare_offer(CHROMIUM_OFFER_2VIDEO, all(Policy::Required)).unwrap();
    let plan = sdp::answer_for_offer(&good_offer, one_video).unwrap();
    assert_eq!(
        plan[1].outcome,
        Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(conflict))
    );

    // An answer that takes SFrame for one video only, to a Preferred offerer: the fallback of
    // the other would break the rule, so the answer is rejected.
    let split_answer = sdp::add_sframe(CHROMIUM_OFFER_2VIDEO, Section::Index(1)).unwrap();
    let o = sdp::check_answer(&good_offer, &split_answer, all(Policy::Preferred)).unwrap();
    assert_eq!(o[0].outcome, Outcome::Clear);
    assert_eq!(
        o[1].outcome,
        Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(conflict))
    );
    assert_eq!(
        o[2].outcome,
        Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(conflict))
    );
    // With Required, the second video is stopped instead, which takes it out of the rule.
    let o = sdp::check_answer(&good_offer, &split_answer, all(Policy::Required)).unwrap();
    assert_eq!(
        outcomes(&o)[1..],
        [
            Outcome::Negotiated,
            Outcome::Stopped(StopReason::PeerLacksSframe)
        ]
    );
}

#[test]
fn bundle_rule_ignores_shared_redundancy_payload_types_and_other_groups() {
    let text = "v=0\r\ns=-\r\na=group:BUNDLE a b\r\na=group:BUNDLE c\r\n\
                m=video 9 RTP/AVP 96 97\r\na=mid:a\r\na=sframe\r\na=rtpmap:97 rtx/90000\r\n\
                m=video 9 RTP/AVP 98 97\r\na=mid:b\r\na=rtpmap:97 RTX/90000\r\n\
                m=video 9 RTP/AVP 96\r\na=mid:c\r\n";
    // 97 is RTX in both: allowed. 96 is shared with section c, which is in another group.
    assert!(
        SessionDescription::parse(text)
            .unwrap()
            .bundle_conflicts()
            .is_empty()
    );
    // 97 a media encoding in the clear section: a conflict.
    let text2 = text.replacen("a=rtpmap:97 RTX/90000", "a=rtpmap:97 VP8/90000", 1);
    assert_eq!(
        SessionDescription::parse(&text2)
            .unwrap()
            .bundle_conflicts(),
        [BundleConflict {
            payload_type: 97,
            sframe_section: 0,
            clear_section: 1
        }]
    );
    // Without BUNDLE, no rule.
    let text3 = text2.replace("a=group:BUNDLE a b\r\n", "");
    assert!(
        SessionDescription::parse(&text3)
            .unwrap()
            .bundle_conflicts()
            .is_empty()
    );
}

#[test]
fn malformed_sdp_is_an_error() {
    let base = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n";
    let cases: [(String, SdpError); 10] = [
        (String::new(), SdpError::NotSdp),
        ("v=1\r\n".into(), SdpError::NotSdp),
        (
            "v=0\r\ns=-\r\na=sframe\r\n".into(),
            SdpError::SessionLevelSframe { line: 3 },
        ),
        (
            format!("{base}a=sframe:per-packet\r\n"),
            SdpError::SframeWithValue { line: 5 },
        ),
        (
            format!("{base}m=video 9 RTP/AVP 96\r\na=mid:0\r\n"),
            SdpError::DuplicateMid { line: 6 },
        ),
        (
            format!("{base}m=video x RTP/AVP 96\r\n"),
            SdpError::MalformedMediaLine { line: 5 },
        ),
        (
            format!("{base}m=video 9 RTP/AVP 128\r\n"),
            SdpError::MalformedMediaLine { line: 5 },
        ),
        (
            format!("{base}m=video 9\r\n"),
            SdpError::MalformedMediaLine { line: 5 },
        ),
        (format!("{base}\r\n"), SdpError::MalformedLine { line: 5 }),
        (
            format!("{base}a=x\rb\r\n"),
            SdpError::MalformedLine { line: 5 },
        ),
    ];
    for (text, err) in cases {
        assert_eq!(
            SessionDescription::parse(&text).unwrap_err(),
            err,
            "{text:?}"
        );
        assert_eq!(sdp::strip_sframe(&text).unwrap_err(), err);
    }
    let desc = SessionDescription::parse(base).unwrap();
    assert_eq!(
        desc.section(Section::Index(1)).unwrap_err(),
        SdpError::NoSuchSection
    );
    assert_eq!(
        desc.section(Section::Mid("x")).unwrap_err(),
        SdpError::NoSuchSection
    );
    // Other names that start with "sframe" are other attributes.
    assert!(!sdp::has_sframe(&format!("{base}a=sframes\r\n"), Section::Index(0)).unwrap());
    // Answer with another number of sections.
    let two = format!("{base}m=video 9 RTP/AVP 96\r\n");
    assert_eq!(
        sdp::check_answer(base, &two, all(Policy::Required)).unwrap_err(),
        SdpError::SectionCountMismatch {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(
        sdp::apply_answer(&two, &[]).unwrap_err(),
        SdpError::SectionCountMismatch {
            expected: 0,
            found: 2
        }
    );
}

#[test]
fn line_endings_are_kept() {
    // LF only.
    let lf = "v=0\ns=-\nm=audio 9 RTP/AVP 0\nc=IN IP4 0.0.0.0\nb=AS:30\na=mid:0\n";
    let with = sdp::add_sframe(lf, Section::Index(0)).unwrap();
    assert_eq!(
        with,
        "v=0\ns=-\nm=audio 9 RTP/AVP 0\nc=IN IP4 0.0.0.0\nb=AS:30\na=sframe\na=mid:0\n"
    );
    assert_eq!(sdp::remove_sframe(&with, Section::Index(0)).unwrap(), lf);
    // No terminator after the last line, which is the m= line or an attribute.
    for text in [
        "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0",
        "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=mid:0",
    ] {
        let with = sdp::add_sframe(text, Section::Index(0)).unwrap();
        assert!(with.contains("RTP/AVP 0\r\na=sframe"), "{with:?}");
        assert_eq!(sdp::remove_sframe(&with, Section::Index(0)).unwrap(), text);
    }
    let text = "v=0\ns=-\nm=audio 9 RTP/AVP 0";
    assert_eq!(
        sdp::add_sframe(text, Section::Index(0)).unwrap(),
        "v=0\ns=-\nm=audio 9 RTP/AVP 0\na=sframe"
    );
    // A last a=sframe line without terminator goes with the terminator before it.
    assert_eq!(
        sdp::strip_sframe("v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sframe").unwrap(),
        "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0"
    );
    // Two a=sframe lines in one section: both go.
    assert_eq!(
        sdp::strip_sframe("v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=sframe\r\na=sframe").unwrap(),
        "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests.

/// A line that this module does not interpret: an `x-` attribute or an `i=` line, with any
/// printable text (no CR or LF).
fn unrelated_line() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("a=x-"), Just("i="), Just("a=extmap:")],
        "[ -~]{0,40}",
    )
        .prop_map(|(kind, value)| format!("{kind}{value}"))
}

/// Lines from a vocabulary that hits every branch of the scanner, and random ones.
fn sdp_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("v=0".to_string()),
        Just("m=audio 9 UDP/TLS/RTP/SAVPF 111 0".to_string()),
        Just("m=video 0 UDP/TLS/RTP/SAVPF 96 97".to_string()),
        Just("m=application 9 UDP/DTLS/SCTP webrtc-datachannel".to_string()),
        Just("a=sframe".to_string()),
        Just("a=sframe:1".to_string()),
        Just("a=bundle-only".to_string()),
        Just("a=rtpmap:97 rtx/90000".to_string()),
        Just("c=IN IP4 0.0.0.0".to_string()),
        (0u8..4).prop_map(|m| format!("a=mid:{m}")),
        "[0-3 ]{0,8}".prop_map(|tags| format!("a=group:BUNDLE {tags}")),
        "m=[a-z]{1,5} [0-9/]{1,6} [A-Z/]{1,12}( [0-9]{1,3}){0,3}",
        "[a-z]=[ -~]{0,12}",
        "[ -~\r\n]{0,12}",
    ];
    let eol = prop_oneof![Just("\r\n"), Just("\n"), Just("")];
    prop::collection::vec((line, eol), 0..24).prop_map(|lines| {
        let mut text = String::from("v=0\r\n");
        for (line, eol) in lines {
            text.push_str(&line);
            text.push_str(eol);
        }
        text
    })
}

fn any_outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Negotiated),
        Just(Outcome::Clear),
        Just(Outcome::NotRtp),
        Just(Outcome::Stopped(StopReason::PeerLacksSframe)),
        Just(Outcome::Rejected(RejectReason::AnswerAddedSframe)),
    ]
}

fn any_policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Required),
        Just(Policy::Preferred),
        Just(Policy::Off)
    ]
}

/// Every function on `a` (and `b` as the other description); the only failure is a panic.
fn exercise(a: &str, b: &str, policy: Policy, outcomes: &[Outcome]) {
    let parsed = SessionDescription::parse(a);
    for which in [
        Section::Index(0),
        Section::Index(1),
        Section::Index(5),
        Section::Mid("0"),
    ] {
        let _ = sdp::has_sframe(a, which);
        if let Ok(with) = sdp::add_sframe(a, which) {
            let section = parsed.as_ref().unwrap().section(which).unwrap();
            if !section.has_sframe() {
                // A round trip on whatever text it was.
                assert_eq!(sdp::remove_sframe(&with, which).unwrap(), a);
            }
        }
        let _ = sdp::remove_sframe(a, which);
    }
    let _ = sdp::strip_sframe(a);
    let _ = sdp::prepare_offer(a, all(policy));
    let _ = sdp::answer_for_offer(a, all(policy));
    let list: Vec<SectionOutcome> = (0..)
        .zip(outcomes)
        .map(|(index, &outcome)| SectionOutcome {
            index,
            mid: None,
            outcome,
        })
        .collect();
    let _ = sdp::apply_answer(a, &list);
    let _ = sdp::check_answer(a, b, all(policy));
    let _ = sdp::check_answer(b, a, all(policy));
    if let Ok(desc) = parsed {
        // The documented bound: one section per m= line, nothing more.
        let m_lines = a.split('\n').filter(|l| l.starts_with("m=")).count();
        assert_eq!(desc.sections().len(), m_lines);
        let _ = desc.bundle_conflicts();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(
        a in any::<String>(),
        b in any::<String>(),
        policy in any_policy(),
        outcomes in prop::collection::vec(any_outcome(), 0..4),
    ) {
        exercise(&a, &b, policy, &outcomes);
        exercise(&format!("v=0\r\n{a}"), &b, policy, &outcomes);
    }

    #[test]
    fn never_panics_on_sdp_like_text(
        a in sdp_like(),
        b in sdp_like(),
        policy in any_policy(),
        outcomes in prop::collection::vec(any_outcome(), 0..6),
    ) {
        exercise(&a, &b, policy, &outcomes);
    }

    /// Unrelated lines inserted anywhere after `v=0` in a real browser SDP: adding a=sframe to
    /// any section inserts exactly one line and keeps every other line, in order, byte for
    /// byte; removing it gives the input back; and the negotiation functions see the same
    /// sections as in the original.
    #[test]
    fn unrelated_lines_are_preserved(
        fixture in 0..PLAIN.len(),
        inserts in prop::collection::vec((any::<prop::sample::Index>(), unrelated_line()), 0..12),
        section in 0usize..3,
    ) {
        let original = PLAIN[fixture];
        let mut lines: Vec<String> = original.split_inclusive('\n').map(String::from).collect();
        for (at, line) in inserts {
            let at = 1 + at.index(lines.len());
            lines.insert(at, format!("{line}\r\n"));
        }
        let text: String = lines.concat();
        let count = SessionDescription::parse(original).unwrap().sections().len();
        let desc = SessionDescription::parse(&text).unwrap();
        prop_assert_eq!(desc.sections().len(), count);
        let which = Section::Index(section % count);
        let with = sdp::add_sframe(&text, which).unwrap();
        let mut new: Vec<&str> = with.split_inclusive('\n').collect();
        let at = new.iter().position(|l| *l == "a=sframe\r\n").unwrap();
        new.remove(at);
        prop_assert_eq!(new.concat(), text.clone());
        prop_assert_eq!(sdp::remove_sframe(&with, which).unwrap(), text.clone());
        let every = sdp::prepare_offer(&text, all(Policy::Required)).unwrap();
        prop_assert_eq!(sdp::strip_sframe(&every).unwrap(), text.clone());
        let checked = sdp::check_answer(&every, &every, all(Policy::Required)).unwrap();
        prop_assert!(checked.iter().all(|o| o.outcome == Outcome::Negotiated));
    }
}

#[test]
fn many_bundled_sections_give_one_conflict_per_payload_type() {
    // 2,000 video sections in one BUNDLE group, every other one with a=sframe, all with the
    // same payload types: the rule's check stays linear and reports each payload type once,
    // for the first pair of sections.
    let mut text = String::from("v=0\r\ns=-\r\na=group:BUNDLE");
    for i in 0..2000 {
        text.push_str(&format!(" {i}"));
    }
    text.push_str("\r\n");
    for i in 0..2000 {
        let sframe = if i % 2 == 0 { "a=sframe\r\n" } else { "" };
        text.push_str(&format!(
            "m=video 9 RTP/AVP 96 97\r\na=mid:{i}\r\n{sframe}a=rtpmap:97 rtx/90000\r\n"
        ));
    }
    let desc = SessionDescription::parse(&text).unwrap();
    assert_eq!(desc.sections().len(), 2000);
    assert_eq!(
        desc.bundle_conflicts(),
        [BundleConflict {
            payload_type: 96,
            sframe_section: 0,
            clear_section: 1
        }]
    );
}

#[test]
fn every_sdp_error_has_its_own_code_in_codes_order() {
    let conflict = BundleConflict {
        payload_type: 96,
        sframe_section: 0,
        clear_section: 1,
    };
    let all = [
        SdpError::NotSdp,
        SdpError::MalformedLine { line: 1 },
        SdpError::MalformedMediaLine { line: 1 },
        SdpError::SessionLevelSframe { line: 1 },
        SdpError::SframeWithValue { line: 1 },
        SdpError::DuplicateMid { line: 1 },
        SdpError::NoSuchSection,
        SdpError::NotRtp { index: 0 },
        SdpError::SectionCountMismatch {
            expected: 1,
            found: 2,
        },
        SdpError::BundlePayloadTypeReuse(conflict),
        SdpError::Rejected {
            index: 0,
            reason: RejectReason::AnswerAddedSframe,
        },
    ];
    assert_eq!(all.len(), SdpError::CODES.len());
    for (e, code) in all.iter().zip(SdpError::CODES) {
        assert_eq!(e.code(), code, "{e:?}");
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
    }
    let unique: std::collections::BTreeSet<_> = SdpError::CODES.into_iter().collect();
    assert_eq!(unique.len(), SdpError::CODES.len());
}
