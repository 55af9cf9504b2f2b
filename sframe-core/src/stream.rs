//! Per-stream base keys from a long-term secret.
//!
//! Not part of RFC 9605's wire format: §4.4.1 leaves key management to the application, and
//! this is one building block for it. A counter restarts at 0 for every new [`crate::Sender`];
//! when one long-term secret protects many independent streams (for example one key in a share
//! link for many recordings), each stream must get its own base key, or two streams with the
//! same KID would reuse nonces. Derive it from the secret and a random per-stream ID:
//!
//! ```text
//! PRK = HKDF-Extract(salt = stream_id, IKM = secret)          (SHA-256)
//! out = HKDF-Expand(PRK, label, out.len())
//! ```
//!
//! Different `label`s give independent values (e.g. a base key and a key-check value).

use crate::crypto::{hkdf_expand, hkdf_extract};
use crate::error::{Error, Result};
use crate::key::MIN_BASE_KEY_LEN;
use crate::suite::HashAlg;

/// Fills `out` (1..=8160 bytes) with HKDF-SHA256 output for `secret`, `stream_id` and `label`.
///
/// `secret` must be at least [`MIN_BASE_KEY_LEN`] bytes; use a random `stream_id` of at least
/// 16 bytes per stream.
///
/// ```
/// use sframe_core::stream::derive_stream_secret;
/// let mut base_key = [0u8; 32];
/// derive_stream_secret(&[7; 32], b"random file id..", b"my-app v1 base key", &mut base_key)?;
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn derive_stream_secret(
    secret: &[u8],
    stream_id: &[u8],
    label: &[u8],
    out: &mut [u8],
) -> Result<()> {
    if secret.len() < MIN_BASE_KEY_LEN || out.is_empty() {
        return Err(Error::InvalidKey);
    }
    let prk = hkdf_extract(HashAlg::Sha256, stream_id, secret);
    hkdf_expand(HashAlg::Sha256, &prk, &[label], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 5869 test case 1 (HKDF-SHA256) pins the construction.
    #[test]
    fn matches_rfc5869_case1() -> Result<()> {
        let ikm = [0x0bu8; 22];
        let salt: [u8; 13] = core::array::from_fn(|i| i as u8);
        let info: [u8; 10] = core::array::from_fn(|i| 0xf0 + i as u8);
        let mut okm = [0u8; 42];
        derive_stream_secret(&ikm, &salt, &info, &mut okm)?;
        assert_eq!(&okm[..8], &[0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a]);
        assert_eq!(
            &okm[32..],
            &[0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65]
        );
        Ok(())
    }

    #[test]
    fn short_secret_and_empty_output_are_refused() -> Result<()> {
        let mut out = [0u8; 32];
        assert_eq!(
            derive_stream_secret(&[1; 15], b"id", b"l", &mut out),
            Err(Error::InvalidKey)
        );
        assert_eq!(
            derive_stream_secret(&[1; 16], b"id", b"l", &mut []),
            Err(Error::InvalidKey)
        );
        Ok(())
    }
}
