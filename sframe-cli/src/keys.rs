//! Keys: generation, the base64url text form, and the per-recording key.
//!
//! The key a person handles (printed by `sframe keygen`, kept in a share link's URL fragment)
//! is a *recording master key*. Each encrypted file gets a fresh random 16-byte file ID, and
//! its SFrame base key (RFC 9605 §4.4.1) is derived from the master key and that ID:
//!
//! ```text
//! (sframe_core::stream::derive_stream_secret)
//! PRK       = HKDF-Extract(salt = file_id, IKM = master_key)        (SHA-256)
//! base_key  = HKDF-Expand(PRK, "sframe-cli v1 base key", 32)
//! key_check = HKDF-Expand(PRK, "sframe-cli v1 key check", 16)
//! ```
//!
//! Why: every file starts its SFrame counter at 0, so encrypting two recordings with the same
//! master key and KID would otherwise reuse (key, nonce) pairs — fatal for AES-GCM. A fresh
//! base key per file rules that out and also stops frames being spliced between files.
//! `key_check`, stored in the clear header, tells a wrong key apart from a tampered frame.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// Length of keys made by `keygen`.
pub const MASTER_KEY_LEN: usize = 32;
/// Length of the random per-file ID.
pub const FILE_ID_LEN: usize = 16;
/// Length of the key check value in the container header.
pub const KEY_CHECK_LEN: usize = 16;
/// Longest master key accepted (decoded).
const MAX_MASTER_KEY_LEN: usize = 256;

/// base64url: unpadded on output, padding optional on input.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Fills `buf` from the operating system's random number generator.
pub fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf)
        .map_err(|e| CliError::input(format!("the OS random number generator failed: {e}")))
}

/// A fresh random master key in base64url without padding.
pub fn generate() -> Result<String> {
    let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    random(key.as_mut())?;
    Ok(B64.encode(key.as_ref()))
}

/// Decodes a base64url master key (surrounding whitespace ignored). A share link is accepted
/// too: only the part after its last `#` (the URL fragment, never sent to a server) is used.
pub fn decode(text: &str, source: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = text.rsplit('#').next().unwrap_or(text);
    let key =
        Zeroizing::new(B64.decode(text.trim().as_bytes()).map_err(|_| {
            CliError::usage(format!("the key from {source} is not valid base64url"))
        })?);
    if key.len() < sframe_core::MIN_BASE_KEY_LEN || key.len() > MAX_MASTER_KEY_LEN {
        return Err(CliError::usage(format!(
            "the key from {source} is {} bytes; it must be {}..={MAX_MASTER_KEY_LEN} bytes \
             (use `sframe keygen`)",
            key.len(),
            sframe_core::MIN_BASE_KEY_LEN
        )));
    }
    Ok(key)
}

/// The SFrame base key and key check value of one file.
pub struct FileKeys {
    pub base_key: Zeroizing<[u8; 32]>,
    pub key_check: [u8; KEY_CHECK_LEN],
}

impl FileKeys {
    pub fn derive(master: &[u8], file_id: &[u8; FILE_ID_LEN]) -> Result<Self> {
        // The derivation lives in the core (all crypto does): sframe_core::stream.
        use sframe_core::stream::derive_stream_secret;
        let mut base_key = Zeroizing::new([0u8; 32]);
        let mut key_check = [0u8; KEY_CHECK_LEN];
        derive_stream_secret(
            master,
            file_id,
            b"sframe-cli v1 base key",
            base_key.as_mut(),
        )
        .and_then(|()| {
            derive_stream_secret(master, file_id, b"sframe-cli v1 key check", &mut key_check)
        })
        .map_err(|_| CliError::input("key derivation failed"))?;
        Ok(FileKeys {
            base_key,
            key_check,
        })
    }

    /// Constant-time comparison with the value stored in a file.
    pub fn matches(&self, stored: &[u8]) -> bool {
        self.key_check.ct_eq(stored).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_is_unpadded_base64url_of_32_random_bytes() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
        assert_eq!(decode(&a, "test").unwrap().len(), 32);
    }

    #[test]
    fn decode_accepts_padding_and_rejects_short_or_bad_keys() {
        assert_eq!(decode("AAAAAAAAAAAAAAAAAAAAAA==", "t").unwrap().len(), 16);
        assert_eq!(decode(" AAAAAAAAAAAAAAAAAAAAAA\n", "t").unwrap().len(), 16);
        assert!(decode("AAAAAAAAAAAAAAAAAAAA", "t").is_err()); // 15 bytes
        assert!(decode("not base64!", "t").is_err());
        let link = "https://rec.example.invalid/r/42#AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(decode(link, "t").unwrap().len(), 16);
        assert!(decode("AAAAAAAAAAAAAAAAAAAAAA+/", "t").is_err()); // standard alphabet
    }

    #[test]
    fn file_keys_depend_on_key_and_file_id() {
        let k1 = FileKeys::derive(&[1; 32], &[0; 16]).unwrap();
        let k2 = FileKeys::derive(&[1; 32], &[1; 16]).unwrap();
        let k3 = FileKeys::derive(&[2; 32], &[0; 16]).unwrap();
        assert_ne!(*k1.base_key, *k2.base_key);
        assert_ne!(*k1.base_key, *k3.base_key);
        assert_ne!(k1.key_check, k3.key_check);
        assert!(k1.matches(&FileKeys::derive(&[1; 32], &[0; 16]).unwrap().key_check));
        assert!(!k1.matches(&k2.key_check));
    }
}
