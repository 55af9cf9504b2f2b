//! Status codes: one per `sframe_core::Error` variant plus the C-boundary ones. The value of
//! a core error's status is `Error::number()`, and its name and message are the core's
//! `Error::c_code()` / `Error::c_message()`: only the C-boundary statuses are described here.
//! (The values are literals below because cbindgen writes `sframe.h` from this source; the
//! tests check every one against the core.)

use std::ffi::{CStr, c_char};

use sframe_core::Error;

/// The result of every fallible call. `SFRAME_OK` (0) is success; everything else is an error.
///
/// Values 1..=19 are the core library's errors (same meaning in every binding; new core errors
/// are appended, never renumbered); values from 100 on come from the C boundary itself; values
/// from 200 on are the `sframe_sdp_*` functions' errors (`sframe_core::rtp::sdp::SdpError`; the
/// `SframeSdpErrorDetail` of the call says where). Values never change meaning once released.
/// `sframe_status_str` describes any value.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum SframeStatus {
    /// Success.
    SFRAME_OK = 0,
    /// The output buffer is too small. Nothing was written and no counter was used.
    SFRAME_ERR_BUFFER_TOO_SMALL = 1,
    /// Not an SFrame frame: truncated or non-minimal header (RFC 9605 §4.3), or shorter than
    /// header plus tag.
    SFRAME_ERR_MALFORMED_FRAME = 2,
    /// No key is installed for the frame's key ID (the key may not have arrived yet).
    SFRAME_ERR_UNKNOWN_KEY_ID = 3,
    /// The frame failed authentication (wrong key, tampered frame or metadata).
    SFRAME_ERR_AUTHENTICATION_FAILED = 4,
    /// The cipher suite is unknown: not 1..5 (RFC 9605) or 6..8 (draft-barnes-sframe-iana-256).
    SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE = 5,
    /// The base key is unusable (shorter than `SFRAME_MIN_BASE_KEY_LEN` bytes).
    SFRAME_ERR_INVALID_KEY = 6,
    /// The sender used every counter value of its key: install a new key.
    SFRAME_ERR_COUNTER_EXHAUSTED = 7,
    /// The frame's counter was already seen or is older than the replay window (RFC 9605 §9.3).
    SFRAME_ERR_REPLAY = 8,
    /// The key store is full. Not returned by this library's growable key store; kept so
    /// every core error has a status.
    SFRAME_ERR_KEY_STORE_FULL = 9,
    /// The key reached its usage limit (encryptions or authentication failures): install a
    /// new key.
    SFRAME_ERR_KEY_USAGE_LIMIT = 10,
    /// The sender has no key installed.
    SFRAME_ERR_NO_KEY = 11,
    /// A configuration value is out of range (e.g. replay window > `SFRAME_MAX_REPLAY_WINDOW`).
    SFRAME_ERR_INVALID_CONFIG = 12,
    /// Metadata too long for a build without heap allocation. Not returned by this library
    /// (built with allocation); kept so every core error has a status.
    SFRAME_ERR_METADATA_TOO_LONG = 13,
    /// The key material (same base key, KID and cipher suite) is already used by another live
    /// sender of the process (on any thread): two senders counting from 0 under one key would
    /// reuse every nonce. Give each sender (each sending track) its own KID. Nothing changed:
    /// the sender keeps its previous key.
    SFRAME_ERR_KEY_IN_USE = 14,
    /// The key may have been used before and its next counter is not known: the process
    /// remembers the last 16384 keys of freed senders, and once it had to forget one, key
    /// material that neither the sender nor the process knows may be the forgotten one.
    /// Install it with `sframe_sender_set_key_with_counter` (a persisted counter, or 0 for a
    /// key known to be new). Nothing changed.
    SFRAME_ERR_COUNTER_UNKNOWN = 15,
    /// A key derived for one cipher suite was given to an object of another suite. Not
    /// returned by this library (its objects derive their keys for their own suite); kept so
    /// every core error has a status.
    SFRAME_ERR_SUITE_MISMATCH = 16,
    /// Key material or a nonce has the wrong length for the cipher suite (a derived key that
    /// is not `Nk` bytes, a salt or nonce that is not `Nn` bytes). Not returned by this library
    /// (it takes base keys only); kept so every core error has a status. A base key that is
    /// too short is `SFRAME_ERR_INVALID_KEY`.
    SFRAME_ERR_INVALID_LENGTH = 17,
    /// The key's AEAD runs outside the library (an external key). Not returned by this
    /// library (it takes base keys only); kept so every core error has a status.
    SFRAME_ERR_EXTERNAL_KEY = 18,
    /// `sframe_receiver_add_mls_epoch` refused an MLS epoch that could only come back with
    /// empty replay windows: one the receiver dropped (oldest, roll-over twin, removed,
    /// cleared), any epoch not kept up to the newest dropped one, one older than the kept
    /// epoch with its low E bits, or one older than every kept epoch when the receiver keeps
    /// `mls_epochs_kept`. Nothing changed.
    SFRAME_ERR_STALE_EPOCH = 19,
    /// A required pointer argument was NULL (a NULL data pointer with length 0 is fine).
    SFRAME_ERR_NULL_POINTER = 100,
    /// A length is impossible for a real buffer (larger than `PTRDIFF_MAX`, or the buffer
    /// would wrap around the address space).
    SFRAME_ERR_INVALID_ARGUMENT = 101,
    /// Internal error: a Rust panic was caught at the boundary (a bug; please report it).
    SFRAME_ERR_PANIC = 102,
    /// Internal error: the core returned an error this binding does not know (a bug).
    SFRAME_ERR_UNKNOWN = 103,
    /// SDP: the text does not start with the line `v=0` (RFC 8866 §5.1).
    SFRAME_ERR_SDP_NOT_SDP = 200,
    /// SDP: a line is not `<type>=<value>` with a lower-case letter type, is empty, holds a NUL
    /// or a lone CR, or is not UTF-8 (`detail.line`).
    SFRAME_ERR_SDP_MALFORMED_LINE = 201,
    /// SDP: an `m=` line lacks media, port or proto, or has a bad port or payload type
    /// (`detail.line`).
    SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE = 202,
    /// SDP: `a=sframe` at session level; it is a media-level attribute (`detail.line`).
    SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME = 203,
    /// SDP: `a=sframe:<value>`; the attribute takes no value (`detail.line`).
    SFRAME_ERR_SDP_SFRAME_WITH_VALUE = 204,
    /// SDP: two media sections have the same `a=mid` (`detail.line`: the second).
    SFRAME_ERR_SDP_DUPLICATE_MID = 205,
    /// SDP: no media section has that index or mid.
    SFRAME_ERR_SDP_NO_SUCH_SECTION = 206,
    /// SDP: `a=sframe` asked for a section that does not carry RTP (`detail.index`).
    SFRAME_ERR_SDP_NOT_RTP = 207,
    /// SDP: the answer has not one media section per offer section, or the outcomes given are
    /// not one per section (`detail.expected`, `detail.found`).
    SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH = 208,
    /// SDP: the edited description would share a payload type between a section with
    /// `a=sframe` and one without in one BUNDLE group (draft §6; `detail.conflict`).
    SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE = 209,
    /// SDP: `sframe_sdp_apply_answer` was given an outcome `SFRAME_SDP_OUTCOME_REJECTED`:
    /// reject the offer instead (`detail.index`, `detail.reason`, `detail.conflict`).
    SFRAME_ERR_SDP_REJECTED = 210,
}

/// The type `sframe_status_str` and `sframe_status_name` take. In C it is `SframeStatus`
/// (a `uint32_t`): any value is accepted, including ones that are not statuses.
pub type SframeStatusArg = u32;

/// Every status, in value order.
pub(crate) const ALL_STATUSES: [SframeStatus; 35] = [
    SframeStatus::SFRAME_OK,
    SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL,
    SframeStatus::SFRAME_ERR_MALFORMED_FRAME,
    SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID,
    SframeStatus::SFRAME_ERR_AUTHENTICATION_FAILED,
    SframeStatus::SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE,
    SframeStatus::SFRAME_ERR_INVALID_KEY,
    SframeStatus::SFRAME_ERR_COUNTER_EXHAUSTED,
    SframeStatus::SFRAME_ERR_REPLAY,
    SframeStatus::SFRAME_ERR_KEY_STORE_FULL,
    SframeStatus::SFRAME_ERR_KEY_USAGE_LIMIT,
    SframeStatus::SFRAME_ERR_NO_KEY,
    SframeStatus::SFRAME_ERR_INVALID_CONFIG,
    SframeStatus::SFRAME_ERR_METADATA_TOO_LONG,
    SframeStatus::SFRAME_ERR_KEY_IN_USE,
    SframeStatus::SFRAME_ERR_COUNTER_UNKNOWN,
    SframeStatus::SFRAME_ERR_SUITE_MISMATCH,
    SframeStatus::SFRAME_ERR_INVALID_LENGTH,
    SframeStatus::SFRAME_ERR_EXTERNAL_KEY,
    SframeStatus::SFRAME_ERR_STALE_EPOCH,
    SframeStatus::SFRAME_ERR_NULL_POINTER,
    SframeStatus::SFRAME_ERR_INVALID_ARGUMENT,
    SframeStatus::SFRAME_ERR_PANIC,
    SframeStatus::SFRAME_ERR_UNKNOWN,
    SframeStatus::SFRAME_ERR_SDP_NOT_SDP,
    SframeStatus::SFRAME_ERR_SDP_MALFORMED_LINE,
    SframeStatus::SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE,
    SframeStatus::SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME,
    SframeStatus::SFRAME_ERR_SDP_SFRAME_WITH_VALUE,
    SframeStatus::SFRAME_ERR_SDP_DUPLICATE_MID,
    SframeStatus::SFRAME_ERR_SDP_NO_SUCH_SECTION,
    SframeStatus::SFRAME_ERR_SDP_NOT_RTP,
    SframeStatus::SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH,
    SframeStatus::SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE,
    SframeStatus::SFRAME_ERR_SDP_REJECTED,
];

/// The statuses of `SdpError`s, in `SdpError::CODES` order (value 200 + position).
pub(crate) const SDP_STATUSES: [SframeStatus; 11] = [
    SframeStatus::SFRAME_ERR_SDP_NOT_SDP,
    SframeStatus::SFRAME_ERR_SDP_MALFORMED_LINE,
    SframeStatus::SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE,
    SframeStatus::SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME,
    SframeStatus::SFRAME_ERR_SDP_SFRAME_WITH_VALUE,
    SframeStatus::SFRAME_ERR_SDP_DUPLICATE_MID,
    SframeStatus::SFRAME_ERR_SDP_NO_SUCH_SECTION,
    SframeStatus::SFRAME_ERR_SDP_NOT_RTP,
    SframeStatus::SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH,
    SframeStatus::SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE,
    SframeStatus::SFRAME_ERR_SDP_REJECTED,
];

impl SframeStatus {
    /// The status with value `v`, if any.
    pub fn from_u32(v: u32) -> Option<SframeStatus> {
        ALL_STATUSES.into_iter().find(|s| *s as u32 == v)
    }

    /// The core error this status reports, if it is one (its value is `Error::number()`).
    pub fn core_error(self) -> Option<Error> {
        u16::try_from(self as u32).ok().and_then(Error::from_number)
    }

    /// Stable snake_case name; for core errors it is `sframe_core::Error::code`.
    pub fn name(self) -> &'static CStr {
        self.strings().0
    }

    /// Human-readable description; for core errors it is `sframe_core::Error::message`.
    pub fn message(self) -> &'static CStr {
        self.strings().1
    }

    /// (name, message): the core's for core errors; the C boundary's own are described here.
    fn strings(self) -> (&'static CStr, &'static CStr) {
        use SframeStatus::*;
        if let Some(e) = self.core_error() {
            return (e.c_code(), e.c_message());
        }
        match self {
            SFRAME_OK => (c"ok", c"success"),
            SFRAME_ERR_NULL_POINTER => (c"null_pointer", c"NULL pointer argument"),
            SFRAME_ERR_INVALID_ARGUMENT => (c"invalid_argument", c"invalid length argument"),
            SFRAME_ERR_PANIC => (c"panic", c"internal error (panic caught at the C boundary)"),
            SFRAME_ERR_SDP_NOT_SDP => (
                c"sdp_not_sdp",
                c"SDP: not an SDP (the first line is not v=0)",
            ),
            SFRAME_ERR_SDP_MALFORMED_LINE => (
                c"sdp_malformed_line",
                c"SDP: a line is not <type>=<value> (or not UTF-8)",
            ),
            SFRAME_ERR_SDP_MALFORMED_MEDIA_LINE => {
                (c"sdp_malformed_media_line", c"SDP: malformed m= line")
            }
            SFRAME_ERR_SDP_SESSION_LEVEL_SFRAME => (
                c"sdp_session_level_sframe",
                c"SDP: a=sframe at session level (media level only)",
            ),
            SFRAME_ERR_SDP_SFRAME_WITH_VALUE => {
                (c"sdp_sframe_with_value", c"SDP: a=sframe takes no value")
            }
            SFRAME_ERR_SDP_DUPLICATE_MID => (c"sdp_duplicate_mid", c"SDP: duplicate a=mid"),
            SFRAME_ERR_SDP_NO_SUCH_SECTION => {
                (c"sdp_no_such_section", c"SDP: no such media section")
            }
            SFRAME_ERR_SDP_NOT_RTP => {
                (c"sdp_not_rtp", c"SDP: the media section does not carry RTP")
            }
            SFRAME_ERR_SDP_SECTION_COUNT_MISMATCH => (
                c"sdp_section_count_mismatch",
                c"SDP: not one media section (or outcome) per offer section",
            ),
            SFRAME_ERR_SDP_BUNDLE_PAYLOAD_TYPE_REUSE => (
                c"sdp_bundle_payload_type_reuse",
                c"SDP: a payload type is shared in BUNDLE by sections with and without a=sframe",
            ),
            SFRAME_ERR_SDP_REJECTED => (
                c"sdp_rejected",
                c"SDP: an outcome is rejected: reject the description",
            ),
            // SFRAME_ERR_UNKNOWN; core errors returned above.
            _ => (c"unknown", c"internal error (unknown core error)"),
        }
    }
}

impl From<Error> for SframeStatus {
    /// The status whose value is `e.number()`; `SFRAME_ERR_UNKNOWN` for a core error this
    /// binding has no status for (a test makes sure there is none).
    fn from(e: Error) -> Self {
        SframeStatus::from_u32(u32::from(e.number())).unwrap_or(SframeStatus::SFRAME_ERR_UNKNOWN)
    }
}

const UNKNOWN_STATUS: &CStr = c"unknown status";

/// A static, NUL-terminated English description of `status`; never NULL (a value that is no
/// status gives "unknown status"). Do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_status_str(status: SframeStatusArg) -> *const c_char {
    crate::guard_value(UNKNOWN_STATUS.as_ptr(), || {
        SframeStatus::from_u32(status)
            .map_or(UNKNOWN_STATUS, SframeStatus::message)
            .as_ptr()
    })
}

/// A static, NUL-terminated stable identifier of `status`, e.g. "authentication_failed" (the
/// same code every sframe binding uses); "unknown" for a value that is no status. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_status_name(status: SframeStatusArg) -> *const c_char {
    crate::guard_value(c"unknown".as_ptr(), || {
        SframeStatus::from_u32(status)
            .map_or(c"unknown", SframeStatus::name)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_own_status_and_back() {
        let mut seen = std::collections::HashSet::new();
        for e in Error::ALL {
            let s = SframeStatus::from(e);
            assert_ne!(s, SframeStatus::SFRAME_OK);
            assert_ne!(s, SframeStatus::SFRAME_ERR_UNKNOWN, "{e:?} has no status");
            assert_eq!(s as u32, u32::from(e.number()), "{e:?}");
            assert_eq!(s.core_error(), Some(e), "{s:?}");
            assert!(seen.insert(s), "{e:?} shares a status");
            assert_eq!(s.name().to_str(), Ok(e.code()));
            assert_eq!(s.message().to_str(), Ok(e.message()));
            // ...and the status's C name is SFRAME_ERR_ + the code in capitals.
            let variant = format!("{s:?}");
            assert_eq!(
                variant.strip_prefix("SFRAME_ERR_"),
                Some(e.code().to_ascii_uppercase().as_str())
            );
        }
        // Every status below 100 (but OK) is a core error; the C-boundary and SDP ones are
        // not, and their names collide with no core code.
        for s in ALL_STATUSES {
            let core = (1..100).contains(&(s as u32));
            assert_eq!(s.core_error().is_some(), core, "{s:?}");
            assert_eq!(seen.contains(&s), core, "{s:?}");
            if !core {
                let name = s.name().to_str().unwrap();
                assert!(Error::ALL.iter().all(|e| e.code() != name), "{name}");
            }
        }
    }

    #[test]
    fn every_sdp_error_code_has_its_status_named_after_it() {
        use sframe_core::rtp::sdp::SdpError;
        assert_eq!(SDP_STATUSES.len(), SdpError::CODES.len());
        for (i, (s, code)) in SDP_STATUSES.into_iter().zip(SdpError::CODES).enumerate() {
            assert_eq!(s as u32, 200 + i as u32, "{s:?}");
            assert!(ALL_STATUSES.contains(&s), "{s:?}");
            assert_eq!(s.name().to_str(), Ok(format!("sdp_{code}").as_str()));
            assert_eq!(
                format!("{s:?}").strip_prefix("SFRAME_ERR_"),
                Some(format!("SDP_{}", code.to_ascii_uppercase()).as_str())
            );
            assert!(s.message().to_bytes().starts_with(b"SDP: "), "{s:?}");
        }
        // Nothing else from 200 on.
        for s in ALL_STATUSES {
            assert_eq!(s as u32 >= 200, SDP_STATUSES.contains(&s), "{s:?}");
        }
    }

    #[test]
    fn all_is_complete_and_values_round_trip() {
        for s in ALL_STATUSES {
            assert_eq!(SframeStatus::from_u32(s as u32), Some(s));
        }
        for pair in ALL_STATUSES.windows(2) {
            assert!((pair[0] as u32) < pair[1] as u32, "{pair:?} out of order");
        }
        assert_eq!(SframeStatus::from_u32(20), None);
        assert_eq!(SframeStatus::from_u32(99), None);
        assert_eq!(SframeStatus::from_u32(104), None);
        assert_eq!(SframeStatus::from_u32(199), None);
        assert_eq!(SframeStatus::from_u32(211), None);
        assert_eq!(SframeStatus::from_u32(u32::MAX), None);
    }

    #[test]
    fn status_strings_are_static_and_never_null() {
        let probes = (0u32..=20).chain([99, 100, 103, 104, 200, 210, 211, u32::MAX]);
        for v in probes {
            for p in [sframe_status_str(v), sframe_status_name(v)] {
                assert!(!p.is_null());
                // SAFETY: the functions return static NUL-terminated strings.
                let s = unsafe { CStr::from_ptr(p) };
                assert!(!s.to_bytes().is_empty());
            }
        }
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(sframe_status_str(20)) };
        assert_eq!(s, UNKNOWN_STATUS);
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(sframe_status_name(20)) };
        assert_eq!(s, c"unknown");
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(sframe_status_name(4)) };
        assert_eq!(s, c"authentication_failed");
    }
}
