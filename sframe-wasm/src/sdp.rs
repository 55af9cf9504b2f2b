//! `a=sframe` SDP negotiation (draft-ietf-avtcore-rtp-sframe §6, "SFrame SDP negotiation")
//! and per-SSRC keys (§7) for JavaScript: thin shells over `sframe_core::rtp::sdp` and
//! `sframe_core::key::ssrc_base_key`. They convert SDP text, sections, policies, outcomes and
//! errors; every rule is the core's. `js/sdp.js` and `js/ssrc-keys.js` give them their public
//! names.
//!
//! JavaScript shapes: a section is its index (a number) or its mid (a string); a policy is
//! `"required"`, `"preferred"` or `"off"`, or a function given each section's facts (see
//! `sdpSections`) that returns one; an outcome is `{ index, mid, outcome, reason?, conflict? }`
//! with `outcome` one of `"negotiated"`, `"clear"`, `"stopped"`, `"rejected"`, `"not-rtp"`. An
//! `SdpError` is thrown as an `Error` named `"SFrameSdpError"` whose `code` is
//! `SdpError::code()`, with its `line`, `index`, `expected`, `found`, `reason` or `conflict`.

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use sframe_core::rtp::sdp::{
    self, BundleConflict, MediaSection, Outcome, Policy, RejectReason, SdpError, Section,
    SectionOutcome, SessionDescription, StopReason,
};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::convert::{bytes, ssrc, suite};
use crate::error::{JsResult, core_error, type_error};
use crate::set;

/// `Error { name: "SFrameSdpError", code, message, ...where }`.
fn sdp_error(e: SdpError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("SFrameSdpError");
    // Setting properties on a fresh Error cannot fail; if it somehow did, the error is still
    // thrown, with fewer details.
    let _ = sdp_error_fields(&err, &e);
    err.into()
}

fn sdp_error_fields(err: &Object, e: &SdpError) -> JsResult<()> {
    set(err, "code", e.code().into())?;
    match e {
        SdpError::MalformedLine { line }
        | SdpError::MalformedMediaLine { line }
        | SdpError::SessionLevelSframe { line }
        | SdpError::SframeWithValue { line }
        | SdpError::DuplicateMid { line } => set(err, "line", number(*line))?,
        SdpError::NotRtp { index } => set(err, "index", number(*index))?,
        SdpError::SectionCountMismatch { expected, found } => {
            set(err, "expected", number(*expected))?;
            set(err, "found", number(*found))?;
        }
        SdpError::BundlePayloadTypeReuse(c) => set(err, "conflict", conflict_to_js(c)?)?,
        SdpError::Rejected { index, reason } => {
            set(err, "index", number(*index))?;
            set(err, "reason", reject_reason_name(reason).into())?;
            if let RejectReason::BundlePayloadTypeReuse(c) = reason {
                set(err, "conflict", conflict_to_js(c)?)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn number(n: usize) -> JsValue {
    (n as f64).into()
}

/// SDP text: a JavaScript string.
fn text(v: &JsValue, what: &str) -> JsResult<String> {
    v.as_string()
        .ok_or_else(|| type_error(&format!("{what} must be a string (SDP text)")))
}

/// A section given as its index (a non-negative integer) or its mid (a string).
enum Which {
    Index(usize),
    Mid(String),
}

impl Which {
    fn from_js(v: &JsValue) -> JsResult<Which> {
        if let Some(mid) = v.as_string() {
            return Ok(Which::Mid(mid));
        }
        match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 0.0 => {
                // Past usize::MAX no section exists either way.
                Ok(Which::Index(if n <= usize::MAX as f64 {
                    n as usize
                } else {
                    usize::MAX
                }))
            }
            _ => Err(type_error(
                "section must be a media section's index (an integer from 0) or its mid (a string)",
            )),
        }
    }

    fn section(&self) -> Section<'_> {
        match self {
            Which::Index(i) => Section::Index(*i),
            Which::Mid(m) => Section::Mid(m),
        }
    }
}

fn policy_from_js(v: &JsValue) -> Option<Policy> {
    match v.as_string().as_deref() {
        Some("required") => Some(Policy::Required),
        Some("preferred") => Some(Policy::Preferred),
        Some("off") => Some(Policy::Off),
        _ => None,
    }
}

const POLICY_TYPE: &str = r#"policy must be "required", "preferred" or "off""#;

/// The policy argument: one policy for every section, or a function asked per section. The
/// core's callback cannot fail, so the first exception (or bad return value) of the function is
/// kept, the core told `Required` from then on, and the exception thrown after the core returns.
struct PolicyArg {
    fixed: Option<Policy>,
    ask: Option<Function>,
    error: Option<JsValue>,
}

impl PolicyArg {
    fn from_js(v: &JsValue) -> JsResult<PolicyArg> {
        if let Some(p) = policy_from_js(v) {
            return Ok(PolicyArg {
                fixed: Some(p),
                ask: None,
                error: None,
            });
        }
        match v.dyn_ref::<Function>() {
            Some(f) => Ok(PolicyArg {
                fixed: None,
                ask: Some(f.clone()),
                error: None,
            }),
            None => Err(type_error(&format!(
                "{POLICY_TYPE}, or a function of the section returning one"
            ))),
        }
    }

    fn policy(&mut self, s: &MediaSection<'_>) -> Policy {
        if let Some(p) = self.fixed {
            return p;
        }
        if self.error.is_some() {
            return Policy::Required;
        }
        let answer = match &self.ask {
            Some(f) => section_to_js(s).and_then(|info| f.call1(&JsValue::UNDEFINED, &info)),
            None => Err(type_error(POLICY_TYPE)),
        };
        match answer.and_then(|v| {
            policy_from_js(&v).ok_or_else(|| {
                type_error(&format!(
                    "the policy function returned no policy: {POLICY_TYPE}"
                ))
            })
        }) {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(e);
                Policy::Required
            }
        }
    }

    /// The core's result, or the function's first exception.
    fn finish<T>(self, result: Result<T, SdpError>) -> JsResult<T> {
        match self.error {
            Some(e) => Err(e),
            None => result.map_err(sdp_error),
        }
    }
}

fn section_to_js(s: &MediaSection<'_>) -> JsResult<JsValue> {
    let out = Object::new();
    set(&out, "index", number(s.index()))?;
    set(
        &out,
        "mid",
        s.mid().map_or(JsValue::NULL, JsValue::from_str),
    )?;
    set(&out, "media", s.media().into())?;
    set(&out, "port", s.port().into())?;
    set(&out, "proto", s.proto().into())?;
    set(&out, "rtp", s.is_rtp().into())?;
    set(&out, "stopped", s.is_stopped().into())?;
    set(&out, "bundled", s.is_bundled().into())?;
    set(&out, "bundleOnly", s.is_bundle_only().into())?;
    set(&out, "hasSframe", s.has_sframe().into())?;
    Ok(out.into())
}

fn conflict_to_js(c: &BundleConflict) -> JsResult<JsValue> {
    let out = Object::new();
    set(&out, "payloadType", c.payload_type.into())?;
    set(&out, "sframeSection", number(c.sframe_section))?;
    set(&out, "clearSection", number(c.clear_section))?;
    Ok(out.into())
}

fn stop_reason_name(r: &StopReason) -> &'static str {
    match r {
        StopReason::StoppedInOffer => "stopped-in-offer",
        StopReason::RejectedByAnswerer => "rejected-by-answerer",
        StopReason::PeerLacksSframe => "peer-lacks-sframe",
        StopReason::SframeNotOffered => "sframe-not-offered",
        _ => "unknown",
    }
}

fn reject_reason_name(r: &RejectReason) -> &'static str {
    match r {
        RejectReason::AnswerAddedSframe => "answer-added-sframe",
        RejectReason::BundlePayloadTypeReuse(_) => "bundle-payload-type-reuse",
        _ => "unknown",
    }
}

fn outcome_to_js(o: &SectionOutcome) -> JsResult<JsValue> {
    let out = Object::new();
    set(&out, "index", number(o.index))?;
    set(
        &out,
        "mid",
        o.mid.as_deref().map_or(JsValue::NULL, JsValue::from_str),
    )?;
    let kind = match &o.outcome {
        Outcome::Negotiated => "negotiated",
        Outcome::Clear => "clear",
        Outcome::NotRtp => "not-rtp",
        Outcome::Stopped(r) => {
            set(&out, "reason", stop_reason_name(r).into())?;
            "stopped"
        }
        Outcome::Rejected(r) => {
            set(&out, "reason", reject_reason_name(r).into())?;
            if let RejectReason::BundlePayloadTypeReuse(c) = r {
                set(&out, "conflict", conflict_to_js(c)?)?;
            }
            "rejected"
        }
    };
    set(&out, "outcome", kind.into())?;
    Ok(out.into())
}

fn outcomes_to_js(list: &[SectionOutcome]) -> JsResult<Array> {
    let out = Array::new();
    for o in list {
        out.push(&outcome_to_js(o)?);
    }
    Ok(out)
}

fn get(obj: &JsValue, name: &str) -> JsResult<JsValue> {
    Reflect::get(obj, &JsValue::from_str(name))
}

/// A non-negative integer property (a conflict's fields).
fn index_field(obj: &JsValue, name: &str) -> JsResult<usize> {
    match get(obj, name)?.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= usize::MAX as f64 => Ok(n as usize),
        _ => Err(type_error(&format!(
            "conflict.{name} must be an integer from 0"
        ))),
    }
}

/// An outcome object back from JavaScript (`applyAnswer`): `outcome`, and `reason` (and
/// `conflict`) where the kind needs them; `index` and `mid` are not read (outcomes are taken
/// in array order).
fn outcome_from_js(v: &JsValue, index: usize) -> JsResult<SectionOutcome> {
    if !v.is_object() {
        return Err(type_error(
            "each outcome must be an object { outcome, reason? }",
        ));
    }
    let kind = get(v, "outcome")?.as_string();
    let reason = get(v, "reason")?.as_string();
    let bad = || {
        type_error(&format!(
            "outcome {index} is not an outcome of answerForOffer (outcome: {}, reason: {})",
            kind.as_deref().unwrap_or("none"),
            reason.as_deref().unwrap_or("none")
        ))
    };
    let outcome = match (kind.as_deref(), reason.as_deref()) {
        (Some("negotiated"), _) => Outcome::Negotiated,
        (Some("clear"), _) => Outcome::Clear,
        (Some("not-rtp"), _) => Outcome::NotRtp,
        (Some("stopped"), Some(r)) => Outcome::Stopped(match r {
            "stopped-in-offer" => StopReason::StoppedInOffer,
            "rejected-by-answerer" => StopReason::RejectedByAnswerer,
            "peer-lacks-sframe" => StopReason::PeerLacksSframe,
            "sframe-not-offered" => StopReason::SframeNotOffered,
            _ => return Err(bad()),
        }),
        (Some("rejected"), Some("answer-added-sframe")) => {
            Outcome::Rejected(RejectReason::AnswerAddedSframe)
        }
        (Some("rejected"), Some("bundle-payload-type-reuse")) => {
            let c = get(v, "conflict")?;
            if !c.is_object() {
                return Err(bad());
            }
            let payload_type = index_field(&c, "payloadType")?;
            Outcome::Rejected(RejectReason::BundlePayloadTypeReuse(BundleConflict {
                payload_type: u8::try_from(payload_type).map_err(|_| bad())?,
                sframe_section: index_field(&c, "sframeSection")?,
                clear_section: index_field(&c, "clearSection")?,
            }))
        }
        _ => return Err(bad()),
    };
    Ok(SectionOutcome {
        index,
        mid: None,
        outcome,
    })
}

/// `sdpSections(sdp)`: the facts of every media section, in `m=` line order:
/// `{ index, mid, media, port, proto, rtp, stopped, bundled, bundleOnly, hasSframe }`
/// (`SessionDescription::parse`).
#[wasm_bindgen(js_name = sdpSections, unchecked_return_type = "import('../index.js').SdpSection[]")]
pub fn sdp_sections(
    #[wasm_bindgen(unchecked_param_type = "string")] sdp: &JsValue,
) -> JsResult<Array> {
    let sdp = text(sdp, "sdp")?;
    let desc = SessionDescription::parse(&sdp).map_err(sdp_error)?;
    let out = Array::new();
    for s in desc.sections() {
        out.push(&section_to_js(s)?);
    }
    Ok(out)
}

/// `sdpHasSframe(sdp, section)`: whether the section has `a=sframe` (`sdp::has_sframe`).
#[wasm_bindgen(js_name = sdpHasSframe)]
pub fn sdp_has_sframe(
    #[wasm_bindgen(unchecked_param_type = "string")] sdp: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | string")] section: &JsValue,
) -> JsResult<bool> {
    let sdp = text(sdp, "sdp")?;
    let which = Which::from_js(section)?;
    sdp::has_sframe(&sdp, which.section()).map_err(sdp_error)
}

/// `sdpAddSframe(sdp, section)`: `a=sframe` added to an RTP section (`sdp::add_sframe`).
#[wasm_bindgen(js_name = sdpAddSframe)]
pub fn sdp_add_sframe(
    #[wasm_bindgen(unchecked_param_type = "string")] sdp: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | string")] section: &JsValue,
) -> JsResult<String> {
    let sdp = text(sdp, "sdp")?;
    let which = Which::from_js(section)?;
    sdp::add_sframe(&sdp, which.section()).map_err(sdp_error)
}

/// `sdpRemoveSframe(sdp, section)`: every `a=sframe` line of the section removed
/// (`sdp::remove_sframe`).
#[wasm_bindgen(js_name = sdpRemoveSframe)]
pub fn sdp_remove_sframe(
    #[wasm_bindgen(unchecked_param_type = "string")] sdp: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | string")] section: &JsValue,
) -> JsResult<String> {
    let sdp = text(sdp, "sdp")?;
    let which = Which::from_js(section)?;
    sdp::remove_sframe(&sdp, which.section()).map_err(sdp_error)
}

/// `sdpStripSframe(sdp)`: `a=sframe` removed from every section (`sdp::strip_sframe`).
#[wasm_bindgen(js_name = sdpStripSframe)]
pub fn sdp_strip_sframe(
    #[wasm_bindgen(unchecked_param_type = "string")] sdp: &JsValue,
) -> JsResult<String> {
    let sdp = text(sdp, "sdp")?;
    sdp::strip_sframe(&sdp).map_err(sdp_error)
}

/// `sdpPrepareOffer(offer, policy)`: the offer with `a=sframe` where the policy wants SFrame
/// (`sdp::prepare_offer`).
#[wasm_bindgen(js_name = sdpPrepareOffer)]
pub fn sdp_prepare_offer(
    #[wasm_bindgen(unchecked_param_type = "string")] offer: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "import('../index.js').SdpPolicyArg")] policy: &JsValue,
) -> JsResult<String> {
    let offer = text(offer, "offer")?;
    let mut policy = PolicyArg::from_js(policy)?;
    let result = sdp::prepare_offer(&offer, |s| policy.policy(s));
    policy.finish(result)
}

/// `sdpAnswerForOffer(offer, policy)`: the answerer's outcome for each section
/// (`sdp::answer_for_offer`).
#[wasm_bindgen(js_name = sdpAnswerForOffer, unchecked_return_type = "import('../index.js').SdpOutcome[]")]
pub fn sdp_answer_for_offer(
    #[wasm_bindgen(unchecked_param_type = "string")] offer: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "import('../index.js').SdpPolicyArg")] policy: &JsValue,
) -> JsResult<Array> {
    let offer = text(offer, "offer")?;
    let mut policy = PolicyArg::from_js(policy)?;
    let result = sdp::answer_for_offer(&offer, |s| policy.policy(s));
    outcomes_to_js(&policy.finish(result)?)
}

/// `sdpApplyAnswer(answer, outcomes)`: the local answer edited to say what the outcomes decided
/// (`sdp::apply_answer`).
#[wasm_bindgen(js_name = sdpApplyAnswer)]
pub fn sdp_apply_answer(
    #[wasm_bindgen(unchecked_param_type = "string")] answer: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "readonly import('../index.js').SdpOutcomeValue[]")]
    outcomes: &JsValue,
) -> JsResult<String> {
    let answer = text(answer, "answer")?;
    if !Array::is_array(outcomes) {
        return Err(type_error(
            "outcomes must be an array (answerForOffer's result)",
        ));
    }
    let list = Array::from(outcomes)
        .iter()
        .enumerate()
        .map(|(i, o)| outcome_from_js(&o, i))
        .collect::<JsResult<Vec<_>>>()?;
    sdp::apply_answer(&answer, &list).map_err(sdp_error)
}

/// `sdpCheckAnswer(offer, answer, policy)`: the offerer's outcome for each section
/// (`sdp::check_answer`).
#[wasm_bindgen(js_name = sdpCheckAnswer, unchecked_return_type = "import('../index.js').SdpOutcome[]")]
pub fn sdp_check_answer(
    #[wasm_bindgen(unchecked_param_type = "string")] offer: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] answer: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "import('../index.js').SdpPolicyArg")] policy: &JsValue,
) -> JsResult<Array> {
    let offer = text(offer, "offer")?;
    let answer = text(answer, "answer")?;
    let mut policy = PolicyArg::from_js(policy)?;
    let result = sdp::check_answer(&offer, &answer, |s| policy.policy(s));
    outcomes_to_js(&policy.finish(result)?)
}

/// `sdpErrorCodes()`: every `SdpError::code()` (`SdpError::CODES`), for the package's tests.
#[wasm_bindgen(js_name = sdpErrorCodes, unchecked_return_type = "import('../index.js').SdpErrorCode[]")]
pub fn sdp_error_codes() -> Array {
    SdpError::CODES
        .iter()
        .map(|c| JsValue::from_str(c))
        .collect()
}

/// `ssrcBaseKeyBytes(cipherSuite, baseKey, ssrc)`: the §7 per-SSRC base key of `baseKey`
/// bytes (`sframe_core::key::ssrc_base_key`): `Nh` bytes (32 for suites 1-4, 64 for 5-8), in a
/// new `Uint8Array` (the copy in wasm memory is wiped).
#[wasm_bindgen(js_name = ssrcBaseKeyBytes)]
pub fn ssrc_base_key_bytes(
    #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
    cipher_suite: &JsValue,
    #[wasm_bindgen(js_name = baseKey, unchecked_param_type = "ArrayBuffer | ArrayBufferView")]
    base_key: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ssrc_value: &JsValue,
) -> JsResult<Uint8Array> {
    let suite = suite(cipher_suite)?;
    let base_key = Zeroizing::new(bytes(base_key, "baseKey")?);
    let ssrc = ssrc(ssrc_value)?;
    let mut out = Zeroizing::new([0u8; 64]);
    let n = sframe_core::key::ssrc_base_key(suite, &base_key, ssrc, out.as_mut_slice())
        .map_err(core_error)?;
    Ok(Uint8Array::from(out.get(..n).unwrap_or_default()))
}

/// `ssrcKeyDerivation(cipherSuite, ssrc)`: the §7 derivation as WebCrypto HKDF parameters,
/// from the core: `{ hash, salt, info, length }` — the suite's hash, the 4-byte big-endian
/// SSRC as HKDF-Extract salt, `sframe_core::key::SSRC_KEY_LABEL` ("SFrame 1.0 RTP Stream") as
/// HKDF-Expand info, and `Nh` (`CipherSuite::hash_len`) in bytes.
#[wasm_bindgen(js_name = ssrcKeyDerivation, unchecked_return_type = "{ hash: 'SHA-256' | 'SHA-512', salt: Uint8Array<ArrayBuffer>, info: Uint8Array<ArrayBuffer>, length: number }")]
pub fn ssrc_key_derivation(
    #[wasm_bindgen(js_name = cipherSuite, unchecked_param_type = "number | string")]
    cipher_suite: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ssrc_value: &JsValue,
) -> JsResult<JsValue> {
    let suite = suite(cipher_suite)?;
    let ssrc = ssrc(ssrc_value)?;
    let out = Object::new();
    set(&out, "hash", suite.hash_name().into())?;
    set(
        &out,
        "salt",
        Uint8Array::from(&ssrc.to_be_bytes()[..]).into(),
    )?;
    set(
        &out,
        "info",
        Uint8Array::from(sframe_core::key::SSRC_KEY_LABEL).into(),
    )?;
    set(&out, "length", number(suite.hash_len()))?;
    Ok(out.into())
}
