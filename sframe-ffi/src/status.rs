//! Status codes: one per `sframe_core::Error` variant plus the C-boundary ones.

use std::ffi::{CStr, c_char};

use sframe_core::Error;

/// The result of every fallible call. `SFRAME_OK` (0) is success; everything else is an error.
///
/// Values 1..=15 are the core library's errors (same meaning in every binding; new core errors
/// are appended, never renumbered); values from 100 on come from the C boundary itself. Values
/// never change meaning once released.
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
    /// The frame's counter was already seen or is older than the replay window (RFC 9605 §9).
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
    /// sender created on the same thread: two senders counting from 0 under one key would
    /// reuse every nonce. Give each sender (each sending track) its own KID. Nothing changed:
    /// the sender keeps its previous key.
    SFRAME_ERR_KEY_IN_USE = 14,
    /// The sender used this key before but no longer knows its next counter. Not returned by
    /// this library (built with allocation, its senders remember every key they used); kept
    /// so every core error has a status.
    SFRAME_ERR_COUNTER_UNKNOWN = 15,
    /// A required pointer argument was NULL (a NULL data pointer with length 0 is fine).
    SFRAME_ERR_NULL_POINTER = 100,
    /// A length is impossible for a real buffer (larger than `PTRDIFF_MAX`, or the buffer
    /// would wrap around the address space).
    SFRAME_ERR_INVALID_ARGUMENT = 101,
    /// Internal error: a Rust panic was caught at the boundary (a bug; please report it).
    SFRAME_ERR_PANIC = 102,
    /// Internal error: the core returned an error this binding does not know (a bug).
    SFRAME_ERR_UNKNOWN = 103,
}

/// The type `sframe_status_str` and `sframe_status_name` take. In C it is `SframeStatus`
/// (a `uint32_t`): any value is accepted, including ones that are not statuses.
pub type SframeStatusArg = u32;

/// Every status, in value order.
pub(crate) const ALL_STATUSES: [SframeStatus; 20] = [
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
    SframeStatus::SFRAME_ERR_NULL_POINTER,
    SframeStatus::SFRAME_ERR_INVALID_ARGUMENT,
    SframeStatus::SFRAME_ERR_PANIC,
    SframeStatus::SFRAME_ERR_UNKNOWN,
];

impl SframeStatus {
    /// The status with value `v`, if any.
    pub fn from_u32(v: u32) -> Option<SframeStatus> {
        ALL_STATUSES.into_iter().find(|s| *s as u32 == v)
    }

    /// Stable snake_case name; for core errors it is `sframe_core::Error::code`.
    pub fn name(self) -> &'static CStr {
        use SframeStatus::*;
        match self {
            SFRAME_OK => c"ok",
            SFRAME_ERR_BUFFER_TOO_SMALL => c"buffer_too_small",
            SFRAME_ERR_MALFORMED_FRAME => c"malformed_frame",
            SFRAME_ERR_UNKNOWN_KEY_ID => c"unknown_key_id",
            SFRAME_ERR_AUTHENTICATION_FAILED => c"authentication_failed",
            SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE => c"unsupported_cipher_suite",
            SFRAME_ERR_INVALID_KEY => c"invalid_key",
            SFRAME_ERR_COUNTER_EXHAUSTED => c"counter_exhausted",
            SFRAME_ERR_REPLAY => c"replay",
            SFRAME_ERR_KEY_STORE_FULL => c"key_store_full",
            SFRAME_ERR_KEY_USAGE_LIMIT => c"key_usage_limit",
            SFRAME_ERR_NO_KEY => c"no_key",
            SFRAME_ERR_INVALID_CONFIG => c"invalid_config",
            SFRAME_ERR_METADATA_TOO_LONG => c"metadata_too_long",
            SFRAME_ERR_KEY_IN_USE => c"key_in_use",
            SFRAME_ERR_COUNTER_UNKNOWN => c"counter_unknown",
            SFRAME_ERR_NULL_POINTER => c"null_pointer",
            SFRAME_ERR_INVALID_ARGUMENT => c"invalid_argument",
            SFRAME_ERR_PANIC => c"panic",
            SFRAME_ERR_UNKNOWN => c"unknown",
        }
    }

    /// Human-readable description; for core errors it is `sframe_core::Error::message`.
    pub fn message(self) -> &'static CStr {
        use SframeStatus::*;
        match self {
            SFRAME_OK => c"success",
            SFRAME_ERR_BUFFER_TOO_SMALL => c"output buffer too small",
            SFRAME_ERR_MALFORMED_FRAME => c"malformed SFrame frame",
            SFRAME_ERR_UNKNOWN_KEY_ID => c"no key for this key ID",
            SFRAME_ERR_AUTHENTICATION_FAILED => c"authentication failed",
            SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE => c"unsupported cipher suite",
            SFRAME_ERR_INVALID_KEY => c"invalid base key",
            SFRAME_ERR_COUNTER_EXHAUSTED => c"frame counter exhausted; install a new key",
            SFRAME_ERR_REPLAY => c"replayed or too old frame counter",
            SFRAME_ERR_KEY_STORE_FULL => c"key store is full",
            SFRAME_ERR_KEY_USAGE_LIMIT => c"key usage limit reached; install a new key",
            SFRAME_ERR_NO_KEY => c"no key installed",
            SFRAME_ERR_INVALID_CONFIG => c"invalid configuration value",
            SFRAME_ERR_METADATA_TOO_LONG => c"metadata too long for a build without alloc",
            SFRAME_ERR_KEY_IN_USE => {
                c"key material already used by another sender; use one KID per sender"
            }
            SFRAME_ERR_COUNTER_UNKNOWN => c"this key was used before and its counter is unknown",
            SFRAME_ERR_NULL_POINTER => c"NULL pointer argument",
            SFRAME_ERR_INVALID_ARGUMENT => c"invalid length argument",
            SFRAME_ERR_PANIC => c"internal error (panic caught at the C boundary)",
            SFRAME_ERR_UNKNOWN => c"internal error (unknown core error)",
        }
    }
}

impl From<Error> for SframeStatus {
    fn from(e: Error) -> Self {
        match e {
            Error::BufferTooSmall => SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL,
            Error::MalformedFrame => SframeStatus::SFRAME_ERR_MALFORMED_FRAME,
            Error::UnknownKeyId => SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID,
            Error::AuthenticationFailed => SframeStatus::SFRAME_ERR_AUTHENTICATION_FAILED,
            Error::UnsupportedCipherSuite => SframeStatus::SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE,
            Error::InvalidKey => SframeStatus::SFRAME_ERR_INVALID_KEY,
            Error::CounterExhausted => SframeStatus::SFRAME_ERR_COUNTER_EXHAUSTED,
            Error::Replay => SframeStatus::SFRAME_ERR_REPLAY,
            Error::KeyStoreFull => SframeStatus::SFRAME_ERR_KEY_STORE_FULL,
            Error::KeyUsageLimit => SframeStatus::SFRAME_ERR_KEY_USAGE_LIMIT,
            Error::NoKey => SframeStatus::SFRAME_ERR_NO_KEY,
            Error::InvalidConfig => SframeStatus::SFRAME_ERR_INVALID_CONFIG,
            Error::MetadataTooLong => SframeStatus::SFRAME_ERR_METADATA_TOO_LONG,
            Error::KeyInUse => SframeStatus::SFRAME_ERR_KEY_IN_USE,
            Error::CounterUnknown => SframeStatus::SFRAME_ERR_COUNTER_UNKNOWN,
            // `Error` is non_exhaustive: a variant added to the core without a status here.
            _ => SframeStatus::SFRAME_ERR_UNKNOWN,
        }
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

    const CORE_ERRORS: [Error; 15] = [
        Error::BufferTooSmall,
        Error::MalformedFrame,
        Error::UnknownKeyId,
        Error::AuthenticationFailed,
        Error::UnsupportedCipherSuite,
        Error::InvalidKey,
        Error::CounterExhausted,
        Error::Replay,
        Error::KeyStoreFull,
        Error::KeyUsageLimit,
        Error::NoKey,
        Error::InvalidConfig,
        Error::MetadataTooLong,
        Error::KeyInUse,
        Error::CounterUnknown,
    ];

    #[test]
    fn every_core_error_has_its_own_status_with_the_core_strings() {
        let mut seen = std::collections::HashSet::new();
        for e in CORE_ERRORS {
            let s = SframeStatus::from(e);
            assert_ne!(s, SframeStatus::SFRAME_OK);
            assert_ne!(s, SframeStatus::SFRAME_ERR_UNKNOWN);
            assert!(seen.insert(s), "{e:?} shares a status");
            assert_eq!(s.name().to_str(), Ok(e.code()));
            assert_eq!(s.message().to_str(), Ok(e.message()));
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
        assert_eq!(SframeStatus::from_u32(16), None);
        assert_eq!(SframeStatus::from_u32(u32::MAX), None);
    }

    #[test]
    fn status_strings_are_static_and_never_null() {
        for v in [0u32, 4, 13, 14, 15, 100, 103, 16, 99, 104, u32::MAX] {
            for p in [sframe_status_str(v), sframe_status_name(v)] {
                assert!(!p.is_null());
                // SAFETY: the functions return static NUL-terminated strings.
                let s = unsafe { CStr::from_ptr(p) };
                assert!(!s.to_bytes().is_empty());
            }
        }
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(sframe_status_str(16)) };
        assert_eq!(s, UNKNOWN_STATUS);
        // SAFETY: as above.
        let s = unsafe { CStr::from_ptr(sframe_status_name(4)) };
        assert_eq!(s, c"authentication_failed");
    }
}
