//! Cipher suites — RFC 9605 §4.5 (Table 1) and the IANA registry of §8.1, with suites
//! 0x0006-0x0008 (AES-256-CTR + HMAC-SHA512) of draft-barnes-sframe-iana-256.

use core::ffi::CStr;

use crate::error::{Error, Result};

/// Size of every suite's nonce (`Nn`), in bytes.
pub const NONCE_LEN: usize = 12;
/// Largest authentication tag of any suite (`Nt`), in bytes.
pub const MAX_TAG_LEN: usize = 16;
/// Largest key of any suite (`Nk`), in bytes.
pub const MAX_KEY_LEN: usize = 96;
/// Largest number of bytes protection adds to a frame under any suite: the longest header
/// plus the longest tag, 17 + 16 = 33 (the largest [`CipherSuite::max_overhead`]).
pub const MAX_OVERHEAD: usize = crate::header::MAX_HEADER_LEN + MAX_TAG_LEN;

/// An RFC 9605 cipher suite. The discriminant is the IANA value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CipherSuite {
    /// `AES_128_CTR_HMAC_SHA256_80` (0x0001): AES-128-CTR + HMAC-SHA256, 10-byte tag.
    AesCtr128HmacSha256_80 = 1,
    /// `AES_128_CTR_HMAC_SHA256_64` (0x0002): 8-byte tag.
    AesCtr128HmacSha256_64 = 2,
    /// `AES_128_CTR_HMAC_SHA256_32` (0x0003): 4-byte tag. Only for very low bit-rate media;
    /// forgeries are cheap, so its default forgery limit is strict (see [`crate::Limits`]).
    AesCtr128HmacSha256_32 = 3,
    /// `AES_128_GCM_SHA256_128` (0x0004).
    AesGcm128Sha256 = 4,
    /// `AES_256_GCM_SHA512_128` (0x0005).
    AesGcm256Sha512 = 5,
    /// `AES_256_CTR_HMAC_SHA512_80` (0x0006, draft-barnes-sframe-iana-256): the §4.5.1
    /// construction with AES-256-CTR and HMAC-SHA512 (`Nk` = 96: a 32-byte AES key ‖ a 64-byte
    /// HMAC key), HKDF-SHA512, 10-byte tag.
    AesCtr256HmacSha512_80 = 6,
    /// `AES_256_CTR_HMAC_SHA512_64` (0x0007): as 0x0006 with an 8-byte tag.
    AesCtr256HmacSha512_64 = 7,
    /// `AES_256_CTR_HMAC_SHA512_32` (0x0008): as 0x0006 with a 4-byte tag; the same strict
    /// forgery limit as 0x0003.
    AesCtr256HmacSha512_32 = 8,
}

mod hash {
    /// The hash used by HKDF (and HMAC for the CTR suites). Nominally public (the sealed
    /// backend traits take it) but not reachable from outside the crate.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum HashAlg {
        Sha256,
        Sha512,
    }
}
pub(crate) use hash::HashAlg;

impl CipherSuite {
    /// All suites, in IANA order.
    pub const ALL: [CipherSuite; 8] = [
        CipherSuite::AesCtr128HmacSha256_80,
        CipherSuite::AesCtr128HmacSha256_64,
        CipherSuite::AesCtr128HmacSha256_32,
        CipherSuite::AesGcm128Sha256,
        CipherSuite::AesGcm256Sha512,
        CipherSuite::AesCtr256HmacSha512_80,
        CipherSuite::AesCtr256HmacSha512_64,
        CipherSuite::AesCtr256HmacSha512_32,
    ];

    /// The suite with IANA value `id`.
    ///
    /// ```
    /// use sframe_core::CipherSuite;
    /// assert_eq!(CipherSuite::from_id(4), Ok(CipherSuite::AesGcm128Sha256));
    /// assert!(CipherSuite::from_id(9).is_err());
    /// ```
    pub const fn from_id(id: u16) -> Result<Self> {
        match id {
            1 => Ok(CipherSuite::AesCtr128HmacSha256_80),
            2 => Ok(CipherSuite::AesCtr128HmacSha256_64),
            3 => Ok(CipherSuite::AesCtr128HmacSha256_32),
            4 => Ok(CipherSuite::AesGcm128Sha256),
            5 => Ok(CipherSuite::AesGcm256Sha512),
            6 => Ok(CipherSuite::AesCtr256HmacSha512_80),
            7 => Ok(CipherSuite::AesCtr256HmacSha512_64),
            8 => Ok(CipherSuite::AesCtr256HmacSha512_32),
            _ => Err(Error::UnsupportedCipherSuite),
        }
    }

    /// The suite whose registry name is `name` (e.g. `"AES_128_GCM_SHA256_128"`).
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.name() == name)
            .ok_or(Error::UnsupportedCipherSuite)
    }

    /// The IANA value.
    pub const fn id(self) -> u16 {
        self as u16
    }

    /// The registry name, as used by the W3C API.
    pub const fn name(self) -> &'static str {
        match core::str::from_utf8(self.c_name().to_bytes()) {
            Ok(name) => name,
            Err(_) => "",
        }
    }

    /// [`CipherSuite::name`] as a NUL-terminated C string (for the C library).
    pub const fn c_name(self) -> &'static CStr {
        match self {
            CipherSuite::AesCtr128HmacSha256_80 => c"AES_128_CTR_HMAC_SHA256_80",
            CipherSuite::AesCtr128HmacSha256_64 => c"AES_128_CTR_HMAC_SHA256_64",
            CipherSuite::AesCtr128HmacSha256_32 => c"AES_128_CTR_HMAC_SHA256_32",
            CipherSuite::AesGcm128Sha256 => c"AES_128_GCM_SHA256_128",
            CipherSuite::AesGcm256Sha512 => c"AES_256_GCM_SHA512_128",
            CipherSuite::AesCtr256HmacSha512_80 => c"AES_256_CTR_HMAC_SHA512_80",
            CipherSuite::AesCtr256HmacSha512_64 => c"AES_256_CTR_HMAC_SHA512_64",
            CipherSuite::AesCtr256HmacSha512_32 => c"AES_256_CTR_HMAC_SHA512_32",
        }
    }

    /// `Nk`: AEAD key size in bytes (for the CTR suites, AES key ‖ HMAC key).
    pub const fn key_len(self) -> usize {
        match self {
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => 48,
            CipherSuite::AesGcm128Sha256 => 16,
            CipherSuite::AesGcm256Sha512 => 32,
            CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => 96,
        }
    }

    /// `Nka`: the AES key's share of `Nk` — all of it for the GCM suites; for the CTR+HMAC suites
    /// the first `Nka` bytes are the AES-CTR key and the rest the HMAC key (§4.5.1
    /// `derive_subkeys`): 16 for suites 1-3, 32 for suites 6-8.
    pub const fn enc_key_len(self) -> usize {
        match self {
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => 16,
            CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => 32,
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => self.key_len(),
        }
    }

    /// `Nn`: nonce size in bytes (12 for every suite).
    pub const fn nonce_len(self) -> usize {
        NONCE_LEN
    }

    /// `Nt`: authentication tag size in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            CipherSuite::AesCtr128HmacSha256_80 | CipherSuite::AesCtr256HmacSha512_80 => 10,
            CipherSuite::AesCtr128HmacSha256_64 | CipherSuite::AesCtr256HmacSha512_64 => 8,
            CipherSuite::AesCtr128HmacSha256_32 | CipherSuite::AesCtr256HmacSha512_32 => 4,
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => 16,
        }
    }

    /// `Nh`: output size of the suite's hash in bytes.
    pub const fn hash_len(self) -> usize {
        match self.hash() {
            HashAlg::Sha256 => 32,
            HashAlg::Sha512 => 64,
        }
    }

    /// Whether this is one of the AES-CTR + HMAC suites of §4.5.1 (1-3, 6-8).
    pub const fn is_ctr_hmac(self) -> bool {
        !matches!(
            self,
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512
        )
    }

    pub(crate) const fn hash(self) -> HashAlg {
        match self {
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32
            | CipherSuite::AesGcm128Sha256 => HashAlg::Sha256,
            CipherSuite::AesGcm256Sha512
            | CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => HashAlg::Sha512,
        }
    }

    /// The hash's name as WebCrypto spells it (`"SHA-256"` or `"SHA-512"`), for HKDF and HMAC
    /// done by a browser.
    pub const fn hash_name(self) -> &'static str {
        match self.hash() {
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha512 => "SHA-512",
        }
    }

    #[cfg(test)]
    const MAX_KEY_LEN_CHECK: usize = {
        let mut i = 0;
        let mut m = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i].key_len() > m {
                m = Self::ALL[i].key_len();
            }
            i += 1;
        }
        m
    };

    /// Largest number of bytes protection adds to a frame: the longest header plus the tag.
    pub const fn max_overhead(self) -> usize {
        crate::header::MAX_HEADER_LEN + self.tag_len()
    }
}

impl TryFrom<u16> for CipherSuite {
    type Error = Error;
    fn try_from(id: u16) -> Result<Self> {
        Self::from_id(id)
    }
}

impl From<CipherSuite> for u16 {
    fn from(s: CipherSuite) -> u16 {
        s.id()
    }
}

impl core::fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for s in CipherSuite::ALL {
            assert_eq!(CipherSuite::from_id(s.id()), Ok(s));
            assert_eq!(CipherSuite::from_name(s.name()), Ok(s));
            assert!(s.name().starts_with("AES_"), "{s:?}");
            assert_eq!(s.c_name().to_str(), Ok(s.name()));
        }
        assert_eq!(CipherSuite::from_id(0), Err(Error::UnsupportedCipherSuite));
        assert_eq!(CipherSuite::from_id(9), Err(Error::UnsupportedCipherSuite));
        assert!(CipherSuite::from_name("AES_128_GCM").is_err());
    }

    #[test]
    fn sizes_match_rfc_table() {
        let t: [(u16, usize, usize, usize); 8] = [
            (1, 48, 12, 10),
            (2, 48, 12, 8),
            (3, 48, 12, 4),
            (4, 16, 12, 16),
            (5, 32, 12, 16),
            (6, 96, 12, 10),
            (7, 96, 12, 8),
            (8, 96, 12, 4),
        ];
        for (id, nk, nn, nt) in t {
            let sizes = CipherSuite::from_id(id).map(|s| (s.key_len(), s.nonce_len(), s.tag_len()));
            assert_eq!(sizes, Ok((nk, nn, nt)), "suite {id}");
        }
        assert_eq!(CipherSuite::AesGcm256Sha512.hash_len(), 64);
        assert_eq!(CipherSuite::AesGcm128Sha256.hash_len(), 32);
        assert_eq!(CipherSuite::AesCtr256HmacSha512_32.hash_len(), 64);
        assert_eq!(CipherSuite::AesCtr256HmacSha512_64.enc_key_len(), 32);
        assert_eq!(CipherSuite::AesCtr128HmacSha256_64.enc_key_len(), 16);
        assert_eq!(CipherSuite::MAX_KEY_LEN_CHECK, MAX_KEY_LEN);
        let overheads = CipherSuite::ALL.map(CipherSuite::max_overhead);
        assert_eq!(overheads.iter().max(), Some(&MAX_OVERHEAD));
        assert_eq!(MAX_OVERHEAD, 33);
        let tags = CipherSuite::ALL.map(CipherSuite::tag_len);
        assert_eq!(tags.iter().max(), Some(&MAX_TAG_LEN));
    }
}
