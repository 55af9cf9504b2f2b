//! The one error type of the crate.
//!
//! Errors are deliberately coarse where detail would help an attacker: a frame that fails
//! authentication reports [`Error::AuthenticationFailed`] and nothing about why.

use core::fmt;

/// Everything that can go wrong in SFrame processing.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm. Every variant has a stable
/// [`Error::code`] string that the C and JavaScript bindings expose unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The output buffer cannot hold the result. Nothing was written and no counter was used.
    BufferTooSmall,
    /// The input is not an SFrame frame: the header is truncated or not minimally encoded
    /// (RFC 9605 §4.3), or the frame is shorter than header plus authentication tag.
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
    /// The frame's counter was already seen, or is too old for the replay window (RFC 9605 §9).
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
    /// The key material is already used by another live [`crate::Sender`] created on the same
    /// thread (same derived key: same base key, KID and suite). Two senders counting from the
    /// same counter under one key would reuse every nonce: give each sender — each sending
    /// track — its own KID (only checked with the `std` feature).
    KeyInUse,
    /// This sender used the key before but no longer knows where its counter stood (only in
    /// builds without `alloc`, after more than [`crate::RETIRED_KIDS`] other keys): install
    /// it with [`crate::Sender::set_key_with_counter`] from a persisted counter, or use a new key.
    CounterUnknown,
}

impl Error {
    /// A stable identifier, e.g. `"authentication_failed"`, shared by all bindings.
    pub const fn code(self) -> &'static str {
        match self {
            Error::BufferTooSmall => "buffer_too_small",
            Error::MalformedFrame => "malformed_frame",
            Error::UnknownKeyId => "unknown_key_id",
            Error::AuthenticationFailed => "authentication_failed",
            Error::UnsupportedCipherSuite => "unsupported_cipher_suite",
            Error::InvalidKey => "invalid_key",
            Error::CounterExhausted => "counter_exhausted",
            Error::Replay => "replay",
            Error::KeyStoreFull => "key_store_full",
            Error::KeyUsageLimit => "key_usage_limit",
            Error::NoKey => "no_key",
            Error::InvalidConfig => "invalid_config",
            Error::MetadataTooLong => "metadata_too_long",
            Error::KeyInUse => "key_in_use",
            Error::CounterUnknown => "counter_unknown",
        }
    }

    /// A short human-readable description.
    pub const fn message(self) -> &'static str {
        match self {
            Error::BufferTooSmall => "output buffer too small",
            Error::MalformedFrame => "malformed SFrame frame",
            Error::UnknownKeyId => "no key for this key ID",
            Error::AuthenticationFailed => "authentication failed",
            Error::UnsupportedCipherSuite => "unsupported cipher suite",
            Error::InvalidKey => "invalid base key",
            Error::CounterExhausted => "frame counter exhausted; install a new key",
            Error::Replay => "replayed or too old frame counter",
            Error::KeyStoreFull => "key store is full",
            Error::KeyUsageLimit => "key usage limit reached; install a new key",
            Error::NoKey => "no key installed",
            Error::InvalidConfig => "invalid configuration value",
            Error::MetadataTooLong => "metadata too long for a build without alloc",
            Error::KeyInUse => {
                "key material already used by another sender; use one KID per sender"
            }
            Error::CounterUnknown => "this key was used before and its counter is unknown",
        }
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
