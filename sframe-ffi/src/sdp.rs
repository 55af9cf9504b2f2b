//! `sframe_sdp_*`: `a=sframe` SDP negotiation (draft-ietf-avtcore-rtp-sframe §6, "SFrame SDP
//! negotiation") over `sframe_core::rtp::sdp`. Every function reads SDP text as given (any line
//! endings) and every edit leaves the other bytes as they were; the offer/answer rules are the
//! core's (see its `sdp` module): this layer converts text, policies, outcomes and errors.
//!
//! Media sections are named by index (0 for the first `m=` line); `sframe_sdp_find_mid` gives
//! the index of a mid. Policies come as an array: one for every section, or a single one for
//! all. SDP errors return the `SFRAME_ERR_SDP_*` statuses and, when `detail` is not NULL, fill
//! a `SframeSdpErrorDetail` (line, section, payload type).

use std::ffi::c_char;

use sframe_core::rtp::sdp::{
    self, BundleConflict, MediaSection, Outcome, Policy, RejectReason, SdpError, Section,
    SectionOutcome, SessionDescription, StopReason,
};

use crate::status::SDP_STATUSES;
use crate::{SframeStatus, check_span, guard, input, non_null, output, store};

/// What the local endpoint wants for a media section (`sframe_core::rtp::sdp::Policy`). Values
/// start at 1 so that a zeroed array is an error, not a choice.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SframeSdpPolicy {
    /// SFrame or nothing: offer `a=sframe`, and stop the section (port 0) when the peer does
    /// not support it. Never falls back to clear media.
    SFRAME_SDP_POLICY_REQUIRED = 1,
    /// SFrame when the peer supports it, clear media otherwise. Offers `a=sframe`.
    SFRAME_SDP_POLICY_PREFERRED = 2,
    /// Never SFrame: no `a=sframe`.
    SFRAME_SDP_POLICY_OFF = 3,
}

/// The result of negotiation for one media section (`sframe_core::rtp::sdp::Outcome`).
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SframeSdpOutcomeKind {
    /// Both sides expect SFrame: send and receive SFrame-protected RTP.
    SFRAME_SDP_OUTCOME_NEGOTIATED = 1,
    /// No SFrame, and the policy allows clear media.
    SFRAME_SDP_OUTCOME_CLEAR = 2,
    /// The section has, or must get, port 0: stop its transceiver (`reason` says why).
    SFRAME_SDP_OUTCOME_STOPPED = 3,
    /// A rule of the draft is broken: reject the whole description (`reason` says which).
    SFRAME_SDP_OUTCOME_REJECTED = 4,
    /// Not an RTP section (e.g. a data channel): SFrame does not apply.
    SFRAME_SDP_OUTCOME_NOT_RTP = 5,
}

/// Why a section is stopped or rejected (`sframe_core::rtp::sdp::StopReason` / `RejectReason`).
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SframeSdpReason {
    /// No reason: the outcome is neither stopped nor rejected.
    SFRAME_SDP_REASON_NONE = 0,
    /// Stopped: the offer has port 0 for the section (and it is not bundled).
    SFRAME_SDP_REASON_STOPPED_IN_OFFER = 1,
    /// Stopped: the answer has port 0 for it: the answerer rejected it.
    SFRAME_SDP_REASON_REJECTED_BY_ANSWERER = 2,
    /// Stopped: policy REQUIRED, and the peer's description lacks `a=sframe` (draft §6: "the
    /// peer is expected to stop the transceiver").
    SFRAME_SDP_REASON_PEER_LACKS_SFRAME = 3,
    /// Stopped: policy REQUIRED, and the local offer lacks `a=sframe`.
    SFRAME_SDP_REASON_SFRAME_NOT_OFFERED = 4,
    /// Rejected: the answer has `a=sframe` where the offer did not.
    SFRAME_SDP_REASON_ANSWER_ADDED_SFRAME = 5,
    /// Rejected: a payload type is shared in one BUNDLE group by a section with SFrame and one
    /// without (draft §6); `conflict` says which.
    SFRAME_SDP_REASON_BUNDLE_PAYLOAD_TYPE_REUSE = 6,
}

/// In C: `SframeSdpPolicy`, a `uint32_t`. Any value may arrive from C; unknown ones are
/// `SFRAME_ERR_INVALID_ARGUMENT`.
pub type SframeSdpPolicyArg = u32;
/// In C: `SframeSdpOutcomeKind`, a `uint32_t` (checked when read back from C).
pub type SframeSdpOutcomeKindArg = u32;
/// In C: `SframeSdpReason`, a `uint32_t` (checked when read back from C).
pub type SframeSdpReasonArg = u32;

/// A payload type one BUNDLE group uses both in a section with `a=sframe` and in one
/// without (draft §6: such payload types "MUST NOT be reused between the two media
/// sections"). All zero when there is no conflict.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSdpBundleConflict {
    /// The payload type.
    pub payload_type: u8,
    /// Index of the section with SFrame.
    pub sframe_section: usize,
    /// Index of the section without SFrame.
    pub clear_section: usize,
}

/// The outcome of negotiation for one media section.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeSdpOutcome {
    /// Position of the `m=` line, from 0 (`sframe_sdp_apply_answer` takes outcomes in array
    /// order and ignores this field).
    pub index: usize,
    /// What was negotiated: a `SframeSdpOutcomeKind`.
    pub outcome: SframeSdpOutcomeKindArg,
    /// For STOPPED and REJECTED, why (a `SframeSdpReason`); `SFRAME_SDP_REASON_NONE` otherwise.
    pub reason: SframeSdpReasonArg,
    /// For `SFRAME_SDP_REASON_BUNDLE_PAYLOAD_TYPE_REUSE`, the conflict; zero otherwise.
    pub conflict: SframeSdpBundleConflict,
}

/// Where an `SFRAME_ERR_SDP_*` error is. Every field not named by the status is 0; all are 0
/// after success or another error.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSdpErrorDetail {
    /// The line, from 1 (MALFORMED_LINE, MALFORMED_MEDIA_LINE, SESSION_LEVEL_SFRAME,
    /// SFRAME_WITH_VALUE, DUPLICATE_MID).
    pub line: usize,
    /// The section's index (NOT_RTP, REJECTED).
    pub index: usize,
    /// Sections or outcomes expected (SECTION_COUNT_MISMATCH).
    pub expected: usize,
    /// Sections found (SECTION_COUNT_MISMATCH).
    pub found: usize,
    /// Why the section is rejected (REJECTED): a `SframeSdpReason`.
    pub reason: SframeSdpReasonArg,
    /// The payload type conflict (BUNDLE_PAYLOAD_TYPE_REUSE, and REJECTED for that reason).
    pub conflict: SframeSdpBundleConflict,
}

/// Facts about one media section. `media`, `proto` and `mid` point into the SDP text given
/// to `sframe_sdp_section_info` (not NUL-terminated; valid as long as that text is).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeSdpSectionInfo {
    /// Position of the `m=` line, from 0.
    pub index: usize,
    /// The media type: `audio`, `video`, `application`, ...
    pub media: *const c_char,
    /// Length of `media` in bytes.
    pub media_len: usize,
    /// The transport protocol, e.g. `UDP/TLS/RTP/SAVPF`.
    pub proto: *const c_char,
    /// Length of `proto` in bytes.
    pub proto_len: usize,
    /// The `a=mid` value; NULL if the section has none.
    pub mid: *const c_char,
    /// Length of `mid` in bytes (0 if none).
    pub mid_len: usize,
    /// The port of the `m=` line.
    pub port: u16,
    /// Whether the section carries RTP (the only ones SFrame applies to).
    pub rtp: bool,
    /// Port 0, not `a=bundle-only` and not in a BUNDLE group: a stopped section.
    pub stopped: bool,
    /// Whether its mid is in an `a=group:BUNDLE`.
    pub bundled: bool,
    /// Whether it has `a=bundle-only`.
    pub bundle_only: bool,
    /// Whether it has `a=sframe`.
    pub has_sframe: bool,
}

/// Why a call failed: a status, or an SDP error (status + detail).
enum Fail {
    Status(SframeStatus),
    Sdp(SdpError),
}

impl From<SframeStatus> for Fail {
    fn from(s: SframeStatus) -> Self {
        Fail::Status(s)
    }
}

impl From<SdpError> for Fail {
    fn from(e: SdpError) -> Self {
        Fail::Sdp(e)
    }
}

const NONE: SframeSdpReasonArg = SframeSdpReason::SFRAME_SDP_REASON_NONE as u32;

/// The status of an SDP error: `SFRAME_ERR_SDP_*` in `SdpError::CODES` order.
fn status_of(e: &SdpError) -> SframeStatus {
    SdpError::CODES
        .iter()
        .position(|c| *c == e.code())
        .and_then(|i| SDP_STATUSES.get(i).copied())
        .unwrap_or(SframeStatus::SFRAME_ERR_UNKNOWN)
}

fn conflict_of(c: &BundleConflict) -> SframeSdpBundleConflict {
    SframeSdpBundleConflict {
        payload_type: c.payload_type,
        sframe_section: c.sframe_section,
        clear_section: c.clear_section,
    }
}

/// (reason, conflict) of a rejection.
fn reject_reason_of(r: &RejectReason) -> Option<(SframeSdpReason, SframeSdpBundleConflict)> {
    match r {
        RejectReason::AnswerAddedSframe => Some((
            SframeSdpReason::SFRAME_SDP_REASON_ANSWER_ADDED_SFRAME,
            SframeSdpBundleConflict::default(),
        )),
        RejectReason::BundlePayloadTypeReuse(c) => Some((
            SframeSdpReason::SFRAME_SDP_REASON_BUNDLE_PAYLOAD_TYPE_REUSE,
            conflict_of(c),
        )),
        _ => None,
    }
}

fn detail_of(e: &SdpError) -> SframeSdpErrorDetail {
    let mut d = SframeSdpErrorDetail::default();
    match e {
        SdpError::MalformedLine { line }
        | SdpError::MalformedMediaLine { line }
        | SdpError::SessionLevelSframe { line }
        | SdpError::SframeWithValue { line }
        | SdpError::DuplicateMid { line } => d.line = *line,
        SdpError::NotRtp { index } => d.index = *index,
        SdpError::SectionCountMismatch { expected, found } => {
            d.expected = *expected;
            d.found = *found;
        }
        SdpError::BundlePayloadTypeReuse(c) => d.conflict = conflict_of(c),
        SdpError::Rejected { index, reason } => {
            d.index = *index;
            if let Some((r, c)) = reject_reason_of(reason) {
                d.reason = r as u32;
                d.conflict = c;
            }
        }
        _ => {}
    }
    d
}

/// Runs `f`: zeroes `*detail` first, and fills it if `f` fails with an SDP error.
///
/// # Safety
/// `detail` is NULL or writable.
unsafe fn guard_sdp(
    detail: *mut SframeSdpErrorDetail,
    f: impl FnOnce() -> Result<(), Fail>,
) -> SframeStatus {
    // SAFETY: caller's contract; NULL is skipped.
    unsafe { store(detail, SframeSdpErrorDetail::default()) };
    let mut sdp_error = None;
    let status = guard(|| {
        f().map_err(|e| match e {
            Fail::Status(s) => s,
            Fail::Sdp(e) => {
                let s = status_of(&e);
                sdp_error = Some(detail_of(&e));
                s
            }
        })
    });
    if let Some(d) = sdp_error {
        // SAFETY: as above.
        unsafe { store(detail, d) };
    }
    status
}

/// SDP text as `&str`. Text that is not UTF-8 is `MalformedLine` at the line of the first
/// invalid byte (SDP is UTF-8, RFC 8866 §5).
fn text(bytes: &[u8]) -> Result<&str, SdpError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        SdpError::MalformedLine {
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
        }
    })
}

/// Reads C text as SDP. The functions compute their whole result before they write any
/// output, so an output buffer that overlaps an input is harmless.
///
/// # Safety
/// `ptr` is NULL or readable for `len` bytes for `'a`.
unsafe fn read<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, Fail> {
    // SAFETY: caller's contract.
    let bytes = unsafe { input(ptr.cast(), len)? };
    Ok(text(bytes)?)
}

/// Writes `s` to `out[0..out_cap]` and its length to `*out_len`. Too small: nothing written,
/// `*out_len` = the length needed, BUFFER_TOO_SMALL.
///
/// # Safety
/// `out` is NULL or writable for `out_cap` bytes; `out_len` is non-NULL and writable.
unsafe fn write_text(
    s: &str,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<(), Fail> {
    // SAFETY: caller's contract.
    let out = unsafe { output(out.cast(), out_cap)? };
    match out.get_mut(..s.len()) {
        Some(dst) => {
            dst.copy_from_slice(s.as_bytes());
            // SAFETY: caller's contract.
            unsafe { store(out_len, s.len()) };
            Ok(())
        }
        None => {
            // SAFETY: caller's contract.
            unsafe { store(out_len, s.len()) };
            Err(SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL.into())
        }
    }
}

/// The shape of every text-returning function: `*out_len` 0 on error (the needed length on
/// BUFFER_TOO_SMALL); the result is complete before `out` is touched.
///
/// # Safety
/// `out` is NULL or writable for `out_cap` bytes; `out_len` and `detail` are NULL or writable.
unsafe fn text_call(
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
    f: impl FnOnce() -> Result<String, Fail>,
) -> SframeStatus {
    // SAFETY: caller's contract; NULL is skipped.
    unsafe { store(out_len, 0) };
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(out_len)?;
            let s = f()?;
            write_text(&s, out, out_cap, out_len)
        })
    }
}

/// A policy from C.
fn policy(v: SframeSdpPolicyArg) -> Result<Policy, SframeStatus> {
    match v {
        1 => Ok(Policy::Required),
        2 => Ok(Policy::Preferred),
        3 => Ok(Policy::Off),
        _ => Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT),
    }
}

/// The policies of C: one for each section of `sdp`, or a single one for all. Checked up
/// front, so the core's callback cannot fail.
///
/// # Safety
/// `ptr` is NULL or readable for `n` values.
unsafe fn policies(
    ptr: *const SframeSdpPolicyArg,
    n: usize,
    sdp: &str,
) -> Result<Vec<Policy>, Fail> {
    let sections = SessionDescription::parse(sdp)?.sections().len();
    if n != 1 && n != sections {
        return Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT.into());
    }
    // SAFETY: caller's contract.
    let values = unsafe { array(ptr, n)? };
    Ok(values
        .iter()
        .map(|v| policy(*v))
        .collect::<Result<_, _>>()?)
}

/// `policies[section.index()]`, or the single policy for all.
fn policy_for(policies: &[Policy]) -> impl FnMut(&MediaSection<'_>) -> Policy + '_ {
    move |s| match policies {
        [one] => *one,
        many => many.get(s.index()).copied().unwrap_or(Policy::Required),
    }
}

/// Borrows a C array of `n` values of `T` (NULL only with `n == 0`).
///
/// # Safety
/// Unless NULL or `n == 0`, `ptr` is valid for reads of `n` values for `'a`.
unsafe fn array<'a, T>(ptr: *const T, n: usize) -> Result<&'a [T], SframeStatus> {
    if n == 0 {
        return Ok(&[]);
    }
    let bytes = n
        .checked_mul(size_of::<T>())
        .ok_or(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT)?;
    check_span(ptr.cast(), bytes)?;
    if !ptr.is_aligned() {
        return Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, aligned, size checked; validity is the caller's contract. Every
    // field of the element types is an integer (any bit pattern is a value).
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

fn outcome_to_c(o: &SectionOutcome) -> Result<SframeSdpOutcome, SframeStatus> {
    use SframeSdpOutcomeKind::*;
    let (kind, reason, conflict) = match &o.outcome {
        Outcome::Negotiated => (SFRAME_SDP_OUTCOME_NEGOTIATED, NONE, Default::default()),
        Outcome::Clear => (SFRAME_SDP_OUTCOME_CLEAR, NONE, Default::default()),
        Outcome::NotRtp => (SFRAME_SDP_OUTCOME_NOT_RTP, NONE, Default::default()),
        Outcome::Stopped(r) => {
            let reason = match r {
                StopReason::StoppedInOffer => SframeSdpReason::SFRAME_SDP_REASON_STOPPED_IN_OFFER,
                StopReason::RejectedByAnswerer => {
                    SframeSdpReason::SFRAME_SDP_REASON_REJECTED_BY_ANSWERER
                }
                StopReason::PeerLacksSframe => SframeSdpReason::SFRAME_SDP_REASON_PEER_LACKS_SFRAME,
                StopReason::SframeNotOffered => {
                    SframeSdpReason::SFRAME_SDP_REASON_SFRAME_NOT_OFFERED
                }
                _ => return Err(SframeStatus::SFRAME_ERR_UNKNOWN),
            };
            (
                SFRAME_SDP_OUTCOME_STOPPED,
                reason as u32,
                Default::default(),
            )
        }
        Outcome::Rejected(r) => {
            let (reason, conflict) = reject_reason_of(r).ok_or(SframeStatus::SFRAME_ERR_UNKNOWN)?;
            (SFRAME_SDP_OUTCOME_REJECTED, reason as u32, conflict)
        }
    };
    Ok(SframeSdpOutcome {
        index: o.index,
        outcome: kind as u32,
        reason,
        conflict,
    })
}

fn outcome_from_c(o: &SframeSdpOutcome, index: usize) -> Result<SectionOutcome, SframeStatus> {
    let bad = SframeStatus::SFRAME_ERR_INVALID_ARGUMENT;
    let outcome = match o.outcome {
        1 => Outcome::Negotiated,
        2 => Outcome::Clear,
        3 => Outcome::Stopped(match o.reason {
            1 => StopReason::StoppedInOffer,
            2 => StopReason::RejectedByAnswerer,
            3 => StopReason::PeerLacksSframe,
            4 => StopReason::SframeNotOffered,
            _ => return Err(bad),
        }),
        4 => Outcome::Rejected(match o.reason {
            5 => RejectReason::AnswerAddedSframe,
            6 => RejectReason::BundlePayloadTypeReuse(BundleConflict {
                payload_type: o.conflict.payload_type,
                sframe_section: o.conflict.sframe_section,
                clear_section: o.conflict.clear_section,
            }),
            _ => return Err(bad),
        }),
        5 => Outcome::NotRtp,
        _ => return Err(bad),
    };
    Ok(SectionOutcome {
        index,
        mid: None,
        outcome,
    })
}

/// Writes outcomes to a C array: too small, nothing written and `*out_len` = the count
/// needed (BUFFER_TOO_SMALL).
///
/// # Safety
/// `out` is NULL or writable for `cap` outcomes; `out_len` is non-NULL and writable.
unsafe fn write_outcomes(
    list: &[SectionOutcome],
    out: *mut SframeSdpOutcome,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Fail> {
    let converted = list
        .iter()
        .map(outcome_to_c)
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = cap
        .checked_mul(size_of::<SframeSdpOutcome>())
        .ok_or(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT)?;
    check_span(out.cast_const().cast(), bytes)?;
    if bytes != 0 && !out.is_aligned() {
        return Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT.into());
    }
    if converted.len() > cap {
        // SAFETY: caller's contract.
        unsafe { store(out_len, converted.len()) };
        return Err(SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL.into());
    }
    for (i, o) in converted.iter().enumerate() {
        // SAFETY: i < len <= cap, so `out` is not NULL (checked above) and, by the caller's
        // contract, writable there; aligned (checked above).
        unsafe { out.add(i).write(*o) };
    }
    // SAFETY: caller's contract.
    unsafe { store(out_len, converted.len()) };
    Ok(())
}

/// The shape of the outcome-returning functions: `*out_len` 0 on error (the needed count on
/// BUFFER_TOO_SMALL); the result is complete before `out` is touched.
///
/// # Safety
/// `out` is NULL or writable for `cap` outcomes; `out_len` and `detail` are NULL or writable.
unsafe fn outcomes_call(
    out: *mut SframeSdpOutcome,
    cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
    f: impl FnOnce() -> Result<Vec<SectionOutcome>, Fail>,
) -> SframeStatus {
    // SAFETY: caller's contract; NULL is skipped.
    unsafe { store(out_len, 0) };
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(out_len)?;
            let list = f()?;
            write_outcomes(&list, out, cap, out_len)
        })
    }
}

/// Writes the number of media sections (`m=` lines) of `sdp` to `*count`: the length of a
/// per-section policy array and of the outcome arrays.
/// Errors: NULL_POINTER, INVALID_ARGUMENT, SDP_* (the text does not parse; `*count`
/// unchanged).
///
/// # Safety
/// `sdp` is NULL or readable for `sdp_len` bytes; `count` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_section_count(
    sdp: *const c_char,
    sdp_len: usize,
    count: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(count)?;
            let n = SessionDescription::parse(read(sdp, sdp_len)?)?
                .sections()
                .len();
            store(count, n);
            Ok(())
        })
    }
}

/// Writes the facts of media section `section` (from 0) of `sdp` to `*info`; its `media`,
/// `proto` and `mid` point into `sdp`.
/// Errors: NULL_POINTER, INVALID_ARGUMENT, SDP_NO_SUCH_SECTION, SDP_* (`*info` unchanged).
///
/// # Safety
/// `sdp` is NULL or readable for `sdp_len` bytes, and stays so while `info`'s pointers are
/// used; `info` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_section_info(
    sdp: *const c_char,
    sdp_len: usize,
    section: usize,
    info: *mut SframeSdpSectionInfo,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(info)?;
            // The pointers written below are into `sdp` itself.
            let desc = SessionDescription::parse(read(sdp, sdp_len)?)?;
            let s = desc.section(Section::Index(section))?;
            let (mid, mid_len) = s
                .mid()
                .map_or((std::ptr::null(), 0), |m| (m.as_ptr().cast(), m.len()));
            store(
                info,
                SframeSdpSectionInfo {
                    index: s.index(),
                    media: s.media().as_ptr().cast(),
                    media_len: s.media().len(),
                    proto: s.proto().as_ptr().cast(),
                    proto_len: s.proto().len(),
                    mid,
                    mid_len,
                    port: s.port(),
                    rtp: s.is_rtp(),
                    stopped: s.is_stopped(),
                    bundled: s.is_bundled(),
                    bundle_only: s.is_bundle_only(),
                    has_sframe: s.has_sframe(),
                },
            );
            Ok(())
        })
    }
}

/// Writes the index of the media section whose `a=mid` is `mid[0..mid_len]` to `*section`.
/// Errors: NULL_POINTER, INVALID_ARGUMENT, SDP_NO_SUCH_SECTION, SDP_* (`*section` unchanged).
///
/// # Safety
/// `sdp` and `mid` are NULL or readable for their lengths; `section` and `detail` are NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_find_mid(
    sdp: *const c_char,
    sdp_len: usize,
    mid: *const c_char,
    mid_len: usize,
    section: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(section)?;
            let desc = SessionDescription::parse(read(sdp, sdp_len)?)?;
            // A mid that is not UTF-8 is in no section of a UTF-8 text.
            let mid = std::str::from_utf8(input(mid.cast(), mid_len)?)
                .map_err(|_| SdpError::NoSuchSection)?;
            let index = desc.section(Section::Mid(mid))?.index();
            store(section, index);
            Ok(())
        })
    }
}

/// Writes whether media section `section` has `a=sframe` to `*has`.
/// Errors: NULL_POINTER, INVALID_ARGUMENT, SDP_NO_SUCH_SECTION, SDP_* (`*has` unchanged).
///
/// # Safety
/// `sdp` is NULL or readable for `sdp_len` bytes; `has` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_has_sframe(
    sdp: *const c_char,
    sdp_len: usize,
    section: usize,
    has: *mut bool,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        guard_sdp(detail, || {
            non_null(has)?;
            let value = sdp::has_sframe(read(sdp, sdp_len)?, Section::Index(section))?;
            store(has, value);
            Ok(())
        })
    }
}

/// Adds `a=sframe` to media section `section` (an RTP section): one line right after the
/// `m=` line and its `i=`/`c=`/`b=`/`k=` lines, with the `m=` line's line ending; every other
/// byte unchanged. A section that has it already is left as it is. Writes the new text (not
/// NUL-terminated) to `out` and its length to `*out_len`.
/// Text outputs (every `sframe_sdp_*` function that writes text): if `out_cap` is too small,
/// BUFFER_TOO_SMALL, nothing written, and `*out_len` is the length needed; on any other error
/// `*out_len` is 0.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT, SDP_NO_SUCH_SECTION, SDP_NOT_RTP,
/// SDP_*.
///
/// # Safety
/// `sdp` is NULL or readable for `sdp_len` bytes; `out` is NULL or writable for `out_cap`
/// bytes; `out_len` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_add_sframe(
    sdp: *const c_char,
    sdp_len: usize,
    section: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        text_call(out, out_cap, out_len, detail, || {
            Ok(sdp::add_sframe(
                read(sdp, sdp_len)?,
                Section::Index(section),
            )?)
        })
    }
}

/// Removes every `a=sframe` line of media section `section` (each with its line ending);
/// every other byte unchanged. Output as `sframe_sdp_add_sframe`.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT, SDP_NO_SUCH_SECTION, SDP_*.
///
/// # Safety
/// As `sframe_sdp_add_sframe`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_remove_sframe(
    sdp: *const c_char,
    sdp_len: usize,
    section: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        text_call(out, out_cap, out_len, detail, || {
            Ok(sdp::remove_sframe(
                read(sdp, sdp_len)?,
                Section::Index(section),
            )?)
        })
    }
}

/// Removes `a=sframe` from every media section: what a peer that does not negotiate SFrame
/// itself should be given. Output as `sframe_sdp_add_sframe`.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT, SDP_*.
///
/// # Safety
/// `sdp` is NULL or readable for `sdp_len` bytes; `out` is NULL or writable for `out_cap`
/// bytes; `out_len` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_strip_sframe(
    sdp: *const c_char,
    sdp_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        text_call(out, out_cap, out_len, detail, || {
            Ok(sdp::strip_sframe(read(sdp, sdp_len)?)?)
        })
    }
}

/// Offerer, before sending an offer: `a=sframe` in each live RTP section whose policy is
/// REQUIRED or PREFERRED, none where it is OFF; stopped and non-RTP sections are left as
/// they are. `policies` holds `n_policies` values: one per media section
/// (`sframe_sdp_section_count`), or a single one for all. Output as `sframe_sdp_add_sframe`.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT (a policy value that is none, or
/// `n_policies` neither 1 nor the section count), SDP_BUNDLE_PAYLOAD_TYPE_REUSE (the result
/// would break §6's BUNDLE rule: give the sections with and without SFrame distinct payload
/// types, or the same policy), SDP_*.
///
/// # Safety
/// `offer` is NULL or readable for `offer_len` bytes; `policies` is NULL or readable for
/// `n_policies` values; `out` is NULL or writable for `out_cap` bytes; `out_len` and `detail`
/// are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_prepare_offer(
    offer: *const c_char,
    offer_len: usize,
    policies: *const SframeSdpPolicyArg,
    n_policies: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        text_call(out, out_cap, out_len, detail, || {
            let offer = read(offer, offer_len)?;
            let list = self::policies(policies, n_policies, offer)?;
            Ok(sdp::prepare_offer(offer, policy_for(&list))?)
        })
    }
}

/// Answerer, on a received offer: the outcome of each media section under `policies` (as in
/// `sframe_sdp_prepare_offer`), which the answer must then express (`sframe_sdp_apply_answer`
/// on the local answer text, or stopping transceivers before creating the answer):
/// offer with `a=sframe` + REQUIRED/PREFERRED: NEGOTIATED; + OFF: CLEAR; offer without it +
/// REQUIRED: STOPPED (PEER_LACKS_SFRAME); + PREFERRED/OFF: CLEAR; port 0 not bundled: STOPPED
/// (STOPPED_IN_OFFER); a BUNDLE payload type conflict: REJECTED (reject the offer).
/// Writes one outcome per section to `outcomes` and their number to `*outcomes_len`; if
/// `outcomes_cap` is too small, BUFFER_TOO_SMALL, nothing written, and `*outcomes_len` is the
/// count needed; on any other error `*outcomes_len` is 0.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT, SDP_*.
///
/// # Safety
/// `offer` is NULL or readable for `offer_len` bytes; `policies` is NULL or readable for
/// `n_policies` values; `outcomes` is NULL or writable for `outcomes_cap` outcomes;
/// `outcomes_len` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_answer_for_offer(
    offer: *const c_char,
    offer_len: usize,
    policies: *const SframeSdpPolicyArg,
    n_policies: usize,
    outcomes: *mut SframeSdpOutcome,
    outcomes_cap: usize,
    outcomes_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        outcomes_call(outcomes, outcomes_cap, outcomes_len, detail, || {
            let offer = read(offer, offer_len)?;
            let list = self::policies(policies, n_policies, offer)?;
            Ok(sdp::answer_for_offer(offer, policy_for(&list))?)
        })
    }
}

/// Answerer: edits its own answer text (one media section per offer section) to say what
/// `sframe_sdp_answer_for_offer` decided, given its `n_outcomes` outcomes in section order:
/// `a=sframe` added where NEGOTIATED, removed where CLEAR; where STOPPED, port 0, no
/// `a=sframe`, and the mid taken out of `a=group:BUNDLE`; NOT_RTP sections unchanged.
/// Output as `sframe_sdp_add_sframe`. A browser does not take an edited local description:
/// with one, stop the transceivers before creating the answer instead.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT (an outcome or reason value that is
/// none, or a STOPPED / REJECTED outcome without a matching reason),
/// SDP_SECTION_COUNT_MISMATCH, SDP_REJECTED (an outcome is REJECTED: reject the offer),
/// SDP_NOT_RTP, SDP_BUNDLE_PAYLOAD_TYPE_REUSE, SDP_*.
///
/// # Safety
/// `answer` is NULL or readable for `answer_len` bytes; `outcomes` is NULL or readable for
/// `n_outcomes` outcomes; `out` is NULL or writable for `out_cap` bytes; `out_len` and
/// `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_apply_answer(
    answer: *const c_char,
    answer_len: usize,
    outcomes: *const SframeSdpOutcome,
    n_outcomes: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        text_call(out, out_cap, out_len, detail, || {
            let list = array(outcomes, n_outcomes)?
                .iter()
                .enumerate()
                .map(|(i, c)| outcome_from_c(c, i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(sdp::apply_answer(read(answer, answer_len)?, &list)?)
        })
    }
}

/// Offerer, on the answer to its offer (`offer` as sent, with its `a=sframe` lines): the
/// outcome of each media section under `policies` (as in `sframe_sdp_prepare_offer`; asked
/// only where the answer lacks `a=sframe`). Both with `a=sframe`: NEGOTIATED; offered, not
/// answered: REQUIRED → STOPPED (PEER_LACKS_SFRAME), else CLEAR; neither, REQUIRED → STOPPED
/// (SFRAME_NOT_OFFERED); answered but not offered: REJECTED (ANSWER_ADDED_SFRAME); port 0 in
/// the offer or the answer: STOPPED; a BUNDLE payload type conflict: REJECTED. Reject the
/// whole answer if any outcome is REJECTED; stop the transceiver of each STOPPED section.
/// Outcomes written as by `sframe_sdp_answer_for_offer`.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, INVALID_ARGUMENT, SDP_SECTION_COUNT_MISMATCH (the
/// answer has not one section per offer section), SDP_*.
///
/// # Safety
/// `offer` and `answer` are NULL or readable for their lengths; `policies` is NULL or
/// readable for `n_policies` values; `outcomes` is NULL or writable for `outcomes_cap`
/// outcomes; `outcomes_len` and `detail` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sdp_check_answer(
    offer: *const c_char,
    offer_len: usize,
    answer: *const c_char,
    answer_len: usize,
    policies: *const SframeSdpPolicyArg,
    n_policies: usize,
    outcomes: *mut SframeSdpOutcome,
    outcomes_cap: usize,
    outcomes_len: *mut usize,
    detail: *mut SframeSdpErrorDetail,
) -> SframeStatus {
    // SAFETY: caller's contract.
    unsafe {
        outcomes_call(outcomes, outcomes_cap, outcomes_len, detail, || {
            let offer = read(offer, offer_len)?;
            let answer = read(answer, answer_len)?;
            let list = self::policies(policies, n_policies, offer)?;
            Ok(sdp::check_answer(offer, answer, policy_for(&list))?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::{null, null_mut};

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
    const FIREFOX_OFFER_SFRAME: &str = fixture!("firefox-offer-sframe.sdp");
    const FIREFOX_ANSWER_SFRAME: &str = fixture!("firefox-answer-sframe.sdp");

    const REQUIRED: u32 = SframeSdpPolicy::SFRAME_SDP_POLICY_REQUIRED as u32;
    const PREFERRED: u32 = SframeSdpPolicy::SFRAME_SDP_POLICY_PREFERRED as u32;
    const OFF: u32 = SframeSdpPolicy::SFRAME_SDP_POLICY_OFF as u32;

    type TextFn = unsafe extern "C" fn(
        *const c_char,
        usize,
        usize,
        *mut c_char,
        usize,
        *mut usize,
        *mut SframeSdpErrorDetail,
    ) -> SframeStatus;

    /// Calls a text function with the exact buffer its first call says it needs.
    fn edit(
        f: TextFn,
        sdp: &str,
        section: usize,
    ) -> Result<String, (SframeStatus, SframeSdpErrorDetail)> {
        let mut detail = SframeSdpErrorDetail::default();
        let mut needed = 0;
        // SAFETY: valid pointers; NULL/0 output asks for the length.
        let st = unsafe {
            f(
                sdp.as_ptr().cast(),
                sdp.len(),
                section,
                null_mut(),
                0,
                &mut needed,
                &mut detail,
            )
        };
        if st != SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL {
            assert_eq!(needed, 0);
            return Err((st, detail));
        }
        let mut out = vec![0u8; needed];
        let mut len = 0;
        // SAFETY: valid pointers and lengths.
        let st = unsafe {
            f(
                sdp.as_ptr().cast(),
                sdp.len(),
                section,
                out.as_mut_ptr().cast(),
                out.len(),
                &mut len,
                &mut detail,
            )
        };
        assert_eq!((st, len), (SframeStatus::SFRAME_OK, needed));
        assert_eq!(detail, SframeSdpErrorDetail::default());
        Ok(String::from_utf8(out).unwrap())
    }

    fn check(
        offer: &str,
        answer: &str,
        policies: &[u32],
    ) -> Result<Vec<SframeSdpOutcome>, (SframeStatus, SframeSdpErrorDetail)> {
        let mut out = vec![
            SframeSdpOutcome {
                index: 99,
                outcome: 0,
                reason: 99,
                conflict: Default::default()
            };
            8
        ];
        let mut n = 0;
        let mut detail = SframeSdpErrorDetail::default();
        // SAFETY: valid pointers and lengths.
        let st = unsafe {
            sframe_sdp_check_answer(
                offer.as_ptr().cast(),
                offer.len(),
                answer.as_ptr().cast(),
                answer.len(),
                policies.as_ptr(),
                policies.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                &mut detail,
            )
        };
        if st != SframeStatus::SFRAME_OK {
            assert_eq!(n, 0);
            return Err((st, detail));
        }
        out.truncate(n);
        Ok(out)
    }

    fn plan(offer: &str, policies: &[u32]) -> Vec<SframeSdpOutcome> {
        let mut out = vec![
            SframeSdpOutcome {
                index: 0,
                outcome: 0,
                reason: 0,
                conflict: Default::default()
            };
            8
        ];
        let mut n = 0;
        // SAFETY: valid pointers and lengths.
        let st = unsafe {
            sframe_sdp_answer_for_offer(
                offer.as_ptr().cast(),
                offer.len(),
                policies.as_ptr(),
                policies.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                null_mut(),
            )
        };
        assert_eq!(st, SframeStatus::SFRAME_OK);
        out.truncate(n);
        out
    }

    fn text_with(
        f: impl FnOnce(*mut c_char, usize, *mut usize, *mut SframeSdpErrorDetail) -> SframeStatus,
    ) -> Result<String, (SframeStatus, SframeSdpErrorDetail)> {
        let mut out = vec![0u8; 64 * 1024];
        let mut len = 0;
        let mut detail = SframeSdpErrorDetail::default();
        let st = f(out.as_mut_ptr().cast(), out.len(), &mut len, &mut detail);
        if st != SframeStatus::SFRAME_OK {
            return Err((st, detail));
        }
        out.truncate(len);
        Ok(String::from_utf8(out).unwrap())
    }

    fn prepare(
        offer: &str,
        policies: &[u32],
    ) -> Result<String, (SframeStatus, SframeSdpErrorDetail)> {
        text_with(|o, cap, len, d| {
            // SAFETY: valid pointers and lengths.
            unsafe {
                sframe_sdp_prepare_offer(
                    offer.as_ptr().cast(),
                    offer.len(),
                    policies.as_ptr(),
                    policies.len(),
                    o,
                    cap,
                    len,
                    d,
                )
            }
        })
    }

    fn apply(
        answer: &str,
        outcomes: &[SframeSdpOutcome],
    ) -> Result<String, (SframeStatus, SframeSdpErrorDetail)> {
        text_with(|o, cap, len, d| {
            // SAFETY: valid pointers and lengths.
            unsafe {
                sframe_sdp_apply_answer(
                    answer.as_ptr().cast(),
                    answer.len(),
                    outcomes.as_ptr(),
                    outcomes.len(),
                    o,
                    cap,
                    len,
                    d,
                )
            }
        })
    }

    fn kinds(list: &[SframeSdpOutcome]) -> Vec<(u32, u32)> {
        list.iter().map(|o| (o.outcome, o.reason)).collect()
    }

    const NEGOTIATED: (u32, u32) = (
        SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_NEGOTIATED as u32,
        0,
    );
    const CLEAR: (u32, u32) = (SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_CLEAR as u32, 0);
    const PEER_LACKS: (u32, u32) = (
        SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_STOPPED as u32,
        SframeSdpReason::SFRAME_SDP_REASON_PEER_LACKS_SFRAME as u32,
    );

    #[test]
    fn add_remove_round_trip_the_browser_fixtures_byte_for_byte() {
        for text in [CHROMIUM_OFFER, CHROMIUM_ANSWER, FIREFOX_OFFER] {
            for section in 0..2 {
                let with = edit(sframe_sdp_add_sframe, text, section).unwrap();
                assert_eq!(
                    with,
                    sdp::add_sframe(text, Section::Index(section)).unwrap()
                );
                assert_eq!(with.len(), text.len() + "a=sframe\r\n".len());
                let mut has = false;
                // SAFETY: valid pointers.
                let st = unsafe {
                    sframe_sdp_has_sframe(
                        with.as_ptr().cast(),
                        with.len(),
                        section,
                        &mut has,
                        null_mut(),
                    )
                };
                assert_eq!((st, has), (SframeStatus::SFRAME_OK, true));
                assert_eq!(
                    edit(sframe_sdp_remove_sframe, &with, section).unwrap(),
                    text
                );
            }
        }
        // The captured edited offers are what prepare_offer makes, and strip undoes it.
        for edited in [CHROMIUM_OFFER_SFRAME, FIREFOX_OFFER_SFRAME] {
            let stripped = text_with(|o, cap, len, d| {
                // SAFETY: valid pointers.
                unsafe {
                    sframe_sdp_strip_sframe(edited.as_ptr().cast(), edited.len(), o, cap, len, d)
                }
            })
            .unwrap();
            assert!(!stripped.contains("sframe"));
            assert_eq!(prepare(&stripped, &[REQUIRED]).unwrap(), edited);
            assert_eq!(prepare(&stripped, &[REQUIRED, PREFERRED]).unwrap(), edited);
            assert_eq!(prepare(edited, &[OFF]).unwrap(), stripped);
        }
    }

    #[test]
    fn check_answer_outcomes_of_the_real_browser_answers() {
        let chromium = check(CHROMIUM_OFFER_SFRAME, CHROMIUM_ANSWER_SFRAME, &[REQUIRED]).unwrap();
        assert_eq!(kinds(&chromium), [NEGOTIATED; 2]);
        assert_eq!((chromium[0].index, chromium[1].index), (0, 1));
        let firefox = check(FIREFOX_OFFER_SFRAME, FIREFOX_ANSWER_SFRAME, &[REQUIRED]).unwrap();
        assert_eq!(kinds(&firefox), [PEER_LACKS; 2]);
        let firefox = check(
            FIREFOX_OFFER_SFRAME,
            FIREFOX_ANSWER_SFRAME,
            &[PREFERRED, REQUIRED],
        )
        .unwrap();
        assert_eq!(kinds(&firefox), [CLEAR, PEER_LACKS]);
    }

    #[test]
    fn answer_round_trip_through_the_c_outcomes() {
        let offer = prepare(CHROMIUM_OFFER, &[REQUIRED]).unwrap();
        let p = plan(&offer, &[PREFERRED]);
        assert_eq!(kinds(&p), [NEGOTIATED; 2]);
        let answer = apply(CHROMIUM_ANSWER, &p).unwrap();
        assert_eq!(
            answer,
            sdp::prepare_offer(CHROMIUM_ANSWER, |_| Policy::Required).unwrap()
        );
        assert_eq!(
            kinds(&check(&offer, &answer, &[REQUIRED]).unwrap()),
            [NEGOTIATED; 2]
        );
        // A Required answerer to an offer without a=sframe: stopped, port 0, out of BUNDLE.
        let p = plan(CHROMIUM_OFFER, &[REQUIRED]);
        assert_eq!(kinds(&p), [PEER_LACKS; 2]);
        let answer = apply(CHROMIUM_ANSWER, &p).unwrap();
        assert!(answer.contains("m=audio 0 ") && answer.contains("a=group:BUNDLE\r\n"));
    }

    #[test]
    fn bundle_conflicts_carry_their_payload_type() {
        let conflict = SframeSdpBundleConflict {
            payload_type: 39,
            sframe_section: 1,
            clear_section: 2,
        };
        let (st, d) = prepare(CHROMIUM_OFFER_2VIDEO, &[REQUIRED, REQUIRED, OFF]).unwrap_err();
        assert_eq!(st, SframeStatus::SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE);
        assert_eq!(
            d,
            SframeSdpErrorDetail {
                conflict,
                ..Default::default()
            }
        );
        // The answerer's plan rejects such an offer; applying the plan is SDP_REJECTED.
        let bad = sdp::add_sframe(CHROMIUM_OFFER_2VIDEO, Section::Index(1)).unwrap();
        let p = plan(&bad, &[PREFERRED]);
        let rejected = SframeSdpOutcome {
            index: 1,
            outcome: SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_REJECTED as u32,
            reason: SframeSdpReason::SFRAME_SDP_REASON_BUNDLE_PAYLOAD_TYPE_REUSE as u32,
            conflict,
        };
        assert_eq!(p[1], rejected);
        assert_eq!(
            p[2],
            SframeSdpOutcome {
                index: 2,
                ..rejected
            }
        );
        let (st, d) = apply(CHROMIUM_OFFER_2VIDEO, &p).unwrap_err();
        assert_eq!(st, SframeStatus::SFRAME_ERR_SDP_REJECTED);
        assert_eq!(
            d,
            SframeSdpErrorDetail {
                index: 1,
                reason: rejected.reason,
                conflict,
                ..Default::default()
            }
        );
    }

    #[test]
    fn sdp_errors_fill_the_detail() {
        let cases: [(&[u8], SframeStatus, SframeSdpErrorDetail); 6] = [
            (
                b"",
                SframeStatus::SFRAME_ERR_SDP_NOT_SDP,
                Default::default(),
            ),
            (
                b"v=0\r\ns=-\r\nbogus\r\n",
                SframeStatus::SFRAME_ERR_SDP_MALFORMED_LINE,
                SframeSdpErrorDetail {
                    line: 3,
                    ..Default::default()
                },
            ),
            // Not UTF-8: the line of the first invalid byte.
            (
                b"v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=x:\xff\r\n",
                SframeStatus::SFRAME_ERR_SDP_MALFORMED_LINE,
                SframeSdpErrorDetail {
                    line: 4,
                    ..Default::default()
                },
            ),
            (
                b"v=0\r\na=sframe\r\n",
                SframeStatus::SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME,
                SframeSdpErrorDetail {
                    line: 2,
                    ..Default::default()
                },
            ),
            (
                b"v=0\r\nm=audio 9 RTP/AVP 0\r\na=sframe:1\r\n",
                SframeStatus::SFRAME_ERR_SDP_SFRAME_WITH_VALUE,
                SframeSdpErrorDetail {
                    line: 3,
                    ..Default::default()
                },
            ),
            (
                b"v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
                SframeStatus::SFRAME_ERR_SDP_NOT_RTP,
                SframeSdpErrorDetail {
                    index: 0,
                    ..Default::default()
                },
            ),
        ];
        for (text, status, want) in cases {
            let mut detail = SframeSdpErrorDetail {
                line: 77,
                index: 77,
                ..Default::default()
            };
            let mut len = 77;
            let mut out = [0u8; 256];
            // SAFETY: valid pointers and lengths.
            let st = unsafe {
                sframe_sdp_add_sframe(
                    text.as_ptr().cast(),
                    text.len(),
                    0,
                    out.as_mut_ptr().cast(),
                    out.len(),
                    &mut len,
                    &mut detail,
                )
            };
            assert_eq!(
                (st, len, detail),
                (status, 0, want),
                "{}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(
                status_name(st),
                format!("sdp_{}", SdpError::CODES[st as usize - 200])
            );
        }
        // Section count mismatch (answer with one section less), no such section.
        let (st, d) = check(
            CHROMIUM_OFFER,
            "v=0\r\nm=audio 9 RTP/AVP 0\r\n",
            &[REQUIRED],
        )
        .unwrap_err();
        assert_eq!(st, SframeStatus::SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH);
        assert_eq!((d.expected, d.found), (2, 1));
        assert_eq!(
            edit(sframe_sdp_add_sframe, CHROMIUM_OFFER, 2)
                .unwrap_err()
                .0,
            SframeStatus::SFRAME_ERR_SDP_NO_SUCH_SECTION
        );
    }

    fn status_name(s: SframeStatus) -> String {
        // SAFETY: static C string.
        unsafe { std::ffi::CStr::from_ptr(crate::sframe_status_name(s as u32)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn short_buffers_report_the_length_needed_and_write_nothing() {
        let want = sdp::add_sframe(CHROMIUM_OFFER, Section::Index(0)).unwrap();
        let mut out = vec![0xeeu8; want.len()];
        let mut len = 0;
        // SAFETY: valid pointers; capacity one byte short.
        let st = unsafe {
            sframe_sdp_add_sframe(
                CHROMIUM_OFFER.as_ptr().cast(),
                CHROMIUM_OFFER.len(),
                0,
                out.as_mut_ptr().cast(),
                want.len() - 1,
                &mut len,
                null_mut(),
            )
        };
        assert_eq!(
            (st, len),
            (SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL, want.len())
        );
        assert!(out.iter().all(|&b| b == 0xee));
        // Outcomes: one short.
        let mut outcomes = [SframeSdpOutcome {
            index: 9,
            outcome: 9,
            reason: 9,
            conflict: Default::default(),
        }; 1];
        let mut n = 0;
        // SAFETY: valid pointers; room for one outcome of two.
        let st = unsafe {
            sframe_sdp_answer_for_offer(
                CHROMIUM_OFFER.as_ptr().cast(),
                CHROMIUM_OFFER.len(),
                [REQUIRED].as_ptr(),
                1,
                outcomes.as_mut_ptr(),
                1,
                &mut n,
                null_mut(),
            )
        };
        assert_eq!((st, n), (SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL, 2));
        assert_eq!(outcomes[0].index, 9);
        // NULL with capacity 0 asks for the count.
        // SAFETY: NULL with capacity 0.
        let st = unsafe {
            sframe_sdp_answer_for_offer(
                CHROMIUM_OFFER.as_ptr().cast(),
                CHROMIUM_OFFER.len(),
                [REQUIRED].as_ptr(),
                1,
                null_mut(),
                0,
                &mut n,
                null_mut(),
            )
        };
        assert_eq!((st, n), (SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL, 2));
    }

    #[test]
    fn bad_policies_and_outcomes_are_invalid_arguments() {
        // A zeroed policy, an unknown one, and a count neither 1 nor the section count.
        for policies in [&[0u32][..], &[4], &[REQUIRED, REQUIRED, REQUIRED], &[]] {
            let (st, _) = prepare(CHROMIUM_OFFER, policies).unwrap_err();
            assert_eq!(
                st,
                SframeStatus::SFRAME_ERR_INVALID_ARGUMENT,
                "{policies:?}"
            );
            let (st, _) = check(CHROMIUM_OFFER, CHROMIUM_ANSWER, policies).unwrap_err();
            assert_eq!(
                st,
                SframeStatus::SFRAME_ERR_INVALID_ARGUMENT,
                "{policies:?}"
            );
        }
        let good = plan(CHROMIUM_OFFER_SFRAME, &[REQUIRED]);
        assert!(apply(CHROMIUM_ANSWER, &good).is_ok());
        let stopped = SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_STOPPED as u32;
        let rejected = SframeSdpOutcomeKind::SFRAME_SDP_OUTCOME_REJECTED as u32;
        for (outcome, reason) in [
            (0, 0),
            (6, 0),
            (stopped, 0),
            (stopped, 5),
            (rejected, 1),
            (rejected, 7),
        ] {
            let mut bad = good.clone();
            bad[1].outcome = outcome;
            bad[1].reason = reason;
            let (st, _) = apply(CHROMIUM_ANSWER, &bad).unwrap_err();
            assert_eq!(
                st,
                SframeStatus::SFRAME_ERR_INVALID_ARGUMENT,
                "{outcome} {reason}"
            );
        }
        // Fewer outcomes than sections.
        let (st, d) = apply(CHROMIUM_ANSWER, &good[..1]).unwrap_err();
        assert_eq!(
            (st, d.expected, d.found),
            (SframeStatus::SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH, 1, 2)
        );
    }

    #[test]
    fn section_info_find_mid_and_count() {
        let text = FIREFOX_OFFER;
        let mut count = 0;
        // SAFETY: valid pointers.
        let st = unsafe {
            sframe_sdp_section_count(text.as_ptr().cast(), text.len(), &mut count, null_mut())
        };
        assert_eq!((st, count), (SframeStatus::SFRAME_OK, 2));
        let mut index = 9;
        // SAFETY: valid pointers.
        let st = unsafe {
            sframe_sdp_find_mid(
                text.as_ptr().cast(),
                text.len(),
                c"1".as_ptr(),
                1,
                &mut index,
                null_mut(),
            )
        };
        assert_eq!((st, index), (SframeStatus::SFRAME_OK, 1));
        // SAFETY: valid pointers; a mid no section has, and one that is not UTF-8.
        for mid in [&b"7"[..], b"\xff"] {
            let st = unsafe {
                sframe_sdp_find_mid(
                    text.as_ptr().cast(),
                    text.len(),
                    mid.as_ptr().cast(),
                    mid.len(),
                    &mut index,
                    null_mut(),
                )
            };
            assert_eq!(st, SframeStatus::SFRAME_ERR_SDP_NO_SUCH_SECTION);
        }
        let mut info = SframeSdpSectionInfo {
            index: 9,
            media: null(),
            media_len: 0,
            proto: null(),
            proto_len: 0,
            mid: null(),
            mid_len: 0,
            port: 9,
            rtp: false,
            stopped: true,
            bundled: false,
            bundle_only: false,
            has_sframe: true,
        };
        // SAFETY: valid pointers.
        let st = unsafe {
            sframe_sdp_section_info(text.as_ptr().cast(), text.len(), 1, &mut info, null_mut())
        };
        assert_eq!(st, SframeStatus::SFRAME_OK);
        // SAFETY: the pointers are into `text`, with their lengths.
        let field =
            |p: *const c_char, n: usize| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) };
        assert_eq!(field(info.media, info.media_len), b"video");
        assert_eq!(field(info.proto, info.proto_len), b"UDP/TLS/RTP/SAVPF");
        assert_eq!(field(info.mid, info.mid_len), b"1");
        let start = text.as_ptr() as usize;
        assert!((start..start + text.len()).contains(&(info.media as usize)));
        assert_eq!(
            (
                info.index,
                info.port,
                info.rtp,
                info.stopped,
                info.bundled,
                info.bundle_only,
                info.has_sframe
            ),
            (1, 0, true, false, true, true, false)
        );
    }

    #[test]
    fn null_pointers() {
        let t = CHROMIUM_OFFER;
        let mut len = 5;
        let mut detail = SframeSdpErrorDetail {
            line: 5,
            ..Default::default()
        };
        // SAFETY: NULL where a value is needed.
        unsafe {
            assert_eq!(
                sframe_sdp_section_count(t.as_ptr().cast(), t.len(), null_mut(), null_mut()),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_has_sframe(t.as_ptr().cast(), t.len(), 0, null_mut(), &mut detail),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(detail, SframeSdpErrorDetail::default());
            assert_eq!(
                sframe_sdp_section_info(t.as_ptr().cast(), t.len(), 0, null_mut(), null_mut()),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_find_mid(
                    t.as_ptr().cast(),
                    t.len(),
                    c"0".as_ptr(),
                    1,
                    null_mut(),
                    null_mut()
                ),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_strip_sframe(
                    t.as_ptr().cast(),
                    t.len(),
                    null_mut(),
                    0,
                    null_mut(),
                    null_mut()
                ),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_strip_sframe(null(), 5, null_mut(), 0, &mut len, null_mut()),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(len, 0);
            assert_eq!(
                sframe_sdp_prepare_offer(
                    t.as_ptr().cast(),
                    t.len(),
                    null(),
                    1,
                    null_mut(),
                    0,
                    &mut len,
                    null_mut()
                ),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_apply_answer(
                    t.as_ptr().cast(),
                    t.len(),
                    null(),
                    2,
                    null_mut(),
                    0,
                    &mut len,
                    null_mut()
                ),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_sdp_check_answer(
                    t.as_ptr().cast(),
                    t.len(),
                    t.as_ptr().cast(),
                    t.len(),
                    [REQUIRED].as_ptr(),
                    1,
                    null_mut(),
                    2,
                    &mut len,
                    null_mut()
                ),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            // An empty SDP (NULL with length 0) is a valid input that is not an SDP.
            assert_eq!(
                sframe_sdp_strip_sframe(null(), 0, null_mut(), 0, &mut len, null_mut()),
                SframeStatus::SFRAME_ERR_SDP_NOT_SDP
            );
        }
    }

    #[test]
    fn output_overlapping_the_input_is_still_right() {
        let want = sdp::add_sframe(CHROMIUM_OFFER, Section::Index(1)).unwrap();
        let mut buf = vec![0u8; want.len()];
        buf[..CHROMIUM_OFFER.len()].copy_from_slice(CHROMIUM_OFFER.as_bytes());
        let mut len = 0;
        let p = buf.as_mut_ptr();
        // SAFETY: `p` is valid for `buf.len()` bytes; input and output are the same buffer.
        let st = unsafe {
            sframe_sdp_add_sframe(
                p.cast(),
                CHROMIUM_OFFER.len(),
                1,
                p.cast(),
                want.len(),
                &mut len,
                null_mut(),
            )
        };
        assert_eq!((st, len), (SframeStatus::SFRAME_OK, want.len()));
        assert_eq!(buf, want.as_bytes());
    }
}
