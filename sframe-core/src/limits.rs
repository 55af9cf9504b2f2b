//! AEAD usage limits per key (RFC 9605 §7, "Security Considerations": short tags, key
//! management; and the AEAD limits analysis of draft-irtf-cfrg-aead-limits).
//!
//! Two numbers bound how long one key may be used:
//!
//! * **Encryptions** (confidentiality): how many frames a sender protects under one key.
//! * **Authentication failures** (integrity): how many forged frames a receiver tries under
//!   one key. Each try succeeds with probability about `2^-(8·Nt)`, so short tags make this
//!   the limit that matters: with the 4-byte tag of `AES_128_CTR_HMAC_SHA256_32`, 2^12 failures
//!   give an attacker at most a 2^-20 chance of one accepted forgery.
//!
//! Defaults ([`Limits::for_suite`]):
//!
//! | suite | max encryptions | max authentication failures | forgery chance at the limit |
//! |---|---|---|---|
//! | `AES_128_CTR_HMAC_SHA256_80` | 2^48 | 2^36 | ≤ 2^-44 |
//! | `AES_128_CTR_HMAC_SHA256_64` | 2^48 | 2^28 | ≤ 2^-36 |
//! | `AES_128_CTR_HMAC_SHA256_32` | 2^48 | 2^12 | ≤ 2^-20 |
//! | `AES_128_GCM_SHA256_128` | 2^32 | 2^36 | ≤ 2^-60 (for frames under 2^32 blocks) |
//! | `AES_256_GCM_SHA512_128` | 2^32 | 2^36 | as above |
//! | `AES_256_CTR_HMAC_SHA512_80` | 2^48 | 2^36 | ≤ 2^-44 |
//! | `AES_256_CTR_HMAC_SHA512_64` | 2^48 | 2^28 | ≤ 2^-36 |
//! | `AES_256_CTR_HMAC_SHA512_32` | 2^48 | 2^12 | ≤ 2^-20 |
//!
//! The forgery bound depends only on the tag length, so suites 6-8 (draft-barnes-sframe-iana-256)
//! take the limits of the suite 1-3 with the same tag length.
//!
//! 2^32 frames is 2.2 years of 60 fps video under one key, the classic per-key invocation
//! bound for GCM (NIST SP 800-38D); the CTR suites' AES-CTR/HMAC composition has no such
//! nonce-related limit below the 2^64 counter space, so 2^48 is a generous sanity bound.
//! A key that reaches a limit is refused with [`crate::Error::KeyUsageLimit`]; install a new one.
//! With an AEAD outside the crate, frames verified concurrently can pass the forgery limit by
//! the number in flight, less one: see [`crate::Receiver::unprotect_external`].

use crate::suite::CipherSuite;

/// Per-key usage limits. See the [module docs](self) for the defaults and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Frames one key may protect.
    pub max_encryptions: u64,
    /// Failed authentications one key may see before the receiver refuses it.
    pub max_auth_failures: u64,
}

impl Limits {
    /// No limits beyond the 2^64 counter space.
    pub const UNLIMITED: Limits = Limits {
        max_encryptions: u64::MAX,
        max_auth_failures: u64::MAX,
    };

    /// The recommended limits for `suite`.
    pub const fn for_suite(suite: CipherSuite) -> Limits {
        match suite {
            CipherSuite::AesCtr128HmacSha256_80 | CipherSuite::AesCtr256HmacSha512_80 => Limits {
                max_encryptions: 1 << 48,
                max_auth_failures: 1 << 36,
            },
            CipherSuite::AesCtr128HmacSha256_64 | CipherSuite::AesCtr256HmacSha512_64 => Limits {
                max_encryptions: 1 << 48,
                max_auth_failures: 1 << 28,
            },
            CipherSuite::AesCtr128HmacSha256_32 | CipherSuite::AesCtr256HmacSha512_32 => Limits {
                max_encryptions: 1 << 48,
                max_auth_failures: 1 << 12,
            },
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => Limits {
                max_encryptions: 1 << 32,
                max_auth_failures: 1 << 36,
            },
        }
    }
}

/// Usage counters of one installed key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyUsage {
    /// Frames protected (sender) or successfully unprotected (receiver) with this key.
    pub frames: u64,
    /// Frames that failed authentication under this key (receiver only).
    pub auth_failures: u64,
}
