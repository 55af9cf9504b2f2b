//! The one error type of the crate.
//!
//! Errors are deliberately coarse where detail would help an attacker: a frame that fails
//! authentication reports [`Error::AuthenticationFailed`] and nothing about why.

use core::ffi::CStr;
use core::fmt;

/// Everything that can go wrong in SFrame processing.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm. Every variant has a stable
/// [`Error::code`] string and a stable [`Error::number`] (the discriminant: 1 for the first
/// variant, then in declaration order) that the C and JavaScript bindings expose unchanged:
/// the C library's `SframeStatus` value of an error is its number. New variants are appended
/// at the end, so they take the next number; numbers and codes never change meaning (the
/// tests here and the C library's, whose status values are literals in its header, check it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u16)]
pub enum Error {
    /// The output buffer cannot hold the result. Nothing was written and no counter was used.
    BufferTooSmall = 1,
    /// The input is not an SFrame frame: the header is truncated or not minimally encoded
    /// (RFC 9605 §4.3), or the frame is shorter than header plus authentication tag. Also an
    /// input to [`crate::rtp`] that is not an RTP packet (RFC 3550 §5.1) or whose payload lacks
    /// the SFrame payload descriptor.
    MalformedFrame,
    /// No key is installed for the frame's key ID.
    UnknownKeyId,
    /// The frame failed authentication (wrong key, tampered frame or metadata).
    AuthenticationFailed,
    /// The cipher suite value is not one this library implements: RFC 9605's 1-5 and
    /// draft-barnes-sframe-iana-256's 6-8 (the whole IANA registry as of 2026).
    UnsupportedCipherSuite,
    /// The base key is unusable (shorter than [`crate::MIN_BASE_KEY_LEN`] bytes).
    InvalidKey,
    /// The sender has used every counter value of its key (or the configured limit);
    /// install a new key. A nonce is never reused.
    CounterExhausted,
    /// The frame's counter was already seen, or is too old for the replay window (RFC 9605 §9.3).
    Replay,
    /// The fixed-capacity key store is full; remove a key first.
    KeyStoreFull,
    /// The key has reached its configured usage limit (encryptions or authentication failures);
    /// install a new key.
    KeyUsageLimit,
    /// The sender has no key installed.
    NoKey,
    /// A configuration value is out of range (e.g. a replay window larger than supported).
    InvalidConfig,
    /// The metadata is larger than this build can authenticate without allocation
    /// (only without the `alloc` feature, AES-GCM suites, over [`crate::MAX_INLINE_METADATA_LEN`]).
    MetadataTooLong,
    /// The key material is already used by another live [`crate::Sender`] of this process,
    /// on any thread (same derived key: same base key, KID and suite). Two senders counting
    /// from the same counter under one key would reuse every nonce: give each sender — each
    /// sending track — its own KID (only checked with the `std` feature: [`crate::registry`]).
    KeyInUse,
    /// The key may have been used before and where its counter stood is no longer known: this
    /// sender forgot it (builds without `alloc`, after more than [`crate::RETIRED_KIDS`] other
    /// keys), or, with `std`, the process's [`crate::registry`] had to forget a released key
    /// (more than [`crate::registry::RELEASED_KEYS`]) and this key is unknown to both, so it
    /// may be the forgotten one. Install it with [`crate::Sender::set_key_with_counter`] from a
    /// persisted counter (0 for a key the application knows is new), or use a new key.
    CounterUnknown,
    /// A [`crate::Key`] derived for one cipher suite was given to a [`crate::Sender`] or
    /// [`crate::Receiver`] of another suite (both suites are supported; they differ).
    SuiteMismatch,
    /// Key material or a nonce has the wrong length for the cipher suite: an `sframe_key` that
    /// is not `Nk` bytes or an `sframe_salt` that is not `Nn` bytes ([`crate::Key::from_parts`]),
    /// or a nonce that is not `Nn` bytes ([`crate::hazmat::Aead`]).
    InvalidLength,
    /// The key holds no AEAD key: its AEAD runs outside this library ([`crate::Key::external`],
    /// e.g. a non-extractable WebCrypto key). Use the external calls
    /// ([`crate::Sender::protect_external`], [`crate::Receiver::unprotect_external`]).
    ExternalKey,
    /// [`crate::Receiver::add_mls_epoch`] refused an MLS epoch that could only come back with
    /// empty replay windows (RFC 9605 §5.2, §9.3): an epoch the receiver held and dropped
    /// (forgotten as the oldest, replaced by a newer epoch with the same low `E` bits, removed,
    /// cleared), any epoch not newer than the newest one it dropped, an epoch older than the
    /// kept one with its low `E` bits, or one older than every kept epoch when as many are kept
    /// as configured. Nothing changed. Likewise [`crate::rtp::session::ReceiveSession::add_key`]
    /// refuses a KID the session removed and still remembers.
    StaleEpoch,
}

impl Error {
    /// Every error, in [`Error::number`] order (`ALL[i].number() == i + 1`).
    pub const ALL: [Error; 19] = [
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
        Error::SuiteMismatch,
        Error::InvalidLength,
        Error::ExternalKey,
        Error::StaleEpoch,
    ];

    /// The stable number of the error, 1 and up (never 0): the value of the C library's
    /// `SframeStatus` for it (`SFRAME_ERR_AUTHENTICATION_FAILED` is 4).
    ///
    /// ```
    /// use sframe_core::Error;
    /// assert_eq!(Error::AuthenticationFailed.number(), 4);
    /// assert_eq!(Error::from_number(4), Some(Error::AuthenticationFailed));
    /// ```
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// The error whose [`Error::number`] is `number`, if any.
    pub const fn from_number(number: u16) -> Option<Error> {
        let mut rest: &[Error] = &Self::ALL;
        while let [first, tail @ ..] = rest {
            if *first as u16 == number {
                return Some(*first);
            }
            rest = tail;
        }
        None
    }

    /// A stable identifier, e.g. `"authentication_failed"`, shared by all bindings.
    pub const fn code(self) -> &'static str {
        as_str(self.c_code())
    }

    /// A short human-readable description.
    pub const fn message(self) -> &'static str {
        as_str(self.c_message())
    }

    /// [`Error::code`] as a NUL-terminated C string (what the C library's
    /// `sframe_status_name` returns).
    pub const fn c_code(self) -> &'static CStr {
        match self {
            Error::BufferTooSmall => c"buffer_too_small",
            Error::MalformedFrame => c"malformed_frame",
            Error::UnknownKeyId => c"unknown_key_id",
            Error::AuthenticationFailed => c"authentication_failed",
            Error::UnsupportedCipherSuite => c"unsupported_cipher_suite",
            Error::InvalidKey => c"invalid_key",
            Error::CounterExhausted => c"counter_exhausted",
            Error::Replay => c"replay",
            Error::KeyStoreFull => c"key_store_full",
            Error::KeyUsageLimit => c"key_usage_limit",
            Error::NoKey => c"no_key",
            Error::InvalidConfig => c"invalid_config",
            Error::MetadataTooLong => c"metadata_too_long",
            Error::KeyInUse => c"key_in_use",
            Error::CounterUnknown => c"counter_unknown",
            Error::SuiteMismatch => c"suite_mismatch",
            Error::InvalidLength => c"invalid_length",
            Error::ExternalKey => c"external_key",
            Error::StaleEpoch => c"stale_epoch",
        }
    }

    /// [`Error::message`] as a NUL-terminated C string (what the C library's
    /// `sframe_status_str` returns).
    pub const fn c_message(self) -> &'static CStr {
        match self {
            Error::BufferTooSmall => c"output buffer too small",
            Error::MalformedFrame => c"malformed SFrame frame",
            Error::UnknownKeyId => c"no key for this key ID",
            Error::AuthenticationFailed => c"authentication failed",
            Error::UnsupportedCipherSuite => c"unsupported cipher suite",
            Error::InvalidKey => c"invalid base key",
            Error::CounterExhausted => c"frame counter exhausted; install a new key",
            Error::Replay => c"replayed or too old frame counter",
            Error::KeyStoreFull => c"key store is full",
            Error::KeyUsageLimit => c"key usage limit reached; install a new key",
            Error::NoKey => c"no key installed",
            Error::InvalidConfig => c"invalid configuration value",
            Error::MetadataTooLong => c"metadata too long for a build without alloc",
            Error::KeyInUse => {
                c"key material already used by another sender; use one KID per sender"
            }
            Error::CounterUnknown => {
                c"this key may have been used before and its counter is unknown; give the counter"
            }
            Error::SuiteMismatch => c"the key was derived for another cipher suite",
            Error::InvalidLength => c"key, salt or nonce length does not match the cipher suite",
            Error::ExternalKey => {
                c"the key's AEAD runs outside this library; use the external calls"
            }
            Error::StaleEpoch => {
                c"MLS epoch or session key already dropped, or older than the kept epochs"
            }
        }
    }
}

/// The text of a static C string (every string here is ASCII; `""` is unreachable).
const fn as_str(s: &'static CStr) -> &'static str {
    match core::str::from_utf8(s.to_bytes()) {
        Ok(s) => s,
        Err(_) => "",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_all_is_in_number_order() {
        for (i, e) in Error::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(e.number()), i + 1, "{e:?}");
            assert_eq!(Error::from_number(e.number()), Some(e));
        }
        // Released numbers never change (they are the C library's status values).
        assert_eq!(Error::BufferTooSmall.number(), 1);
        assert_eq!(Error::AuthenticationFailed.number(), 4);
        assert_eq!(Error::KeyInUse.number(), 14);
        assert_eq!(Error::CounterUnknown.number(), 15);
        assert_eq!(Error::SuiteMismatch.number(), 16);
        assert_eq!(Error::InvalidLength.number(), 17);
        assert_eq!(Error::ExternalKey.number(), 18);
        assert_eq!(Error::StaleEpoch.number(), 19);
        for n in [0, 20, 100, u16::MAX] {
            assert_eq!(Error::from_number(n), None);
        }
    }

    #[test]
    fn codes_and_messages_are_distinct_and_match_their_c_strings() {
        for (i, a) in Error::ALL.into_iter().enumerate() {
            let code = a.code();
            assert!(!code.is_empty() && !a.message().is_empty(), "{a:?}");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}: codes are snake_case"
            );
            assert_eq!(a.c_code().to_str(), Ok(code));
            assert_eq!(a.c_message().to_str(), Ok(a.message()));
            for b in &Error::ALL[..i] {
                assert_ne!(code, b.code());
                assert_ne!(a.message(), b.message());
            }
        }
        // Codes already released keep their spelling.
        assert_eq!(Error::AuthenticationFailed.code(), "authentication_failed");
        assert_eq!(Error::KeyInUse.code(), "key_in_use");
        assert_eq!(Error::InvalidKey.code(), "invalid_key");
        assert_eq!(Error::StaleEpoch.code(), "stale_epoch");
    }
}
