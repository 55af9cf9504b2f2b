//! Per-SSRC keys — draft-ietf-avtcore-rtp-sframe §7 (one base key per RTP stream, derived with
//! the SSRC as HKDF salt) and §8 (ratcheting on the per-SSRC key).

use crate::crypto::{hkdf_expand, hkdf_extract};
use crate::error::{Error, Result};
use crate::key::MIN_BASE_KEY_LEN;
use crate::suite::CipherSuite;

/// The HKDF-Expand info of the per-SSRC key derivation (§7), 21 bytes.
pub const SSRC_KEY_LABEL: &[u8] = b"SFrame 1.0 RTP Stream";

/// The per-SSRC base key of §7:
///
/// ```text
/// ssrc_key = HKDF-Expand(HKDF-Extract(BE32(SSRC), base_key), "SFrame 1.0 RTP Stream", Nh)
/// ```
///
/// with the hash of `suite` (HKDF-Extract's salt is the 4-byte big-endian SSRC, its input
/// key material `base_key`). Writes the `Nh`-byte key ([`CipherSuite::hash_len`]: 32 or 64)
/// to `out` and returns `Nh`. Use it as the stream's base key: [`Sender::set_key`](crate::Sender::set_key),
/// [`Receiver::add_key`](crate::Receiver::add_key), or the first key of a §5.1 ratchet (§8: each SSRC then ratchets on
/// its own, with the same KIDs). [`Error::InvalidKey`] if `base_key` is shorter than
/// [`MIN_BASE_KEY_LEN`], [`Error::BufferTooSmall`] if `out` is shorter than `Nh`.
///
/// ```
/// use sframe_core::key::ssrc_base_key;
/// use sframe_core::{CipherSuite, Receiver, Sender};
/// let suite = CipherSuite::AesGcm128Sha256;
/// let mut key = [0u8; 64];
/// let n = ssrc_base_key(suite, b"the session's base key", 0x1234_5678, &mut key)?;
/// assert_eq!(n, 32);
/// let mut tx = Sender::new(suite);
/// tx.set_key(3, &key[..n])?;
/// let mut rx = Receiver::new(suite);
/// rx.add_key(3, &key[..n])?;
/// let frame = tx.protect_vec(b"", b"media")?;
/// assert_eq!(rx.unprotect_vec(b"", &frame)?, b"media");
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn ssrc_base_key(
    suite: CipherSuite,
    base_key: &[u8],
    ssrc: u32,
    out: &mut [u8],
) -> Result<usize> {
    if base_key.len() < MIN_BASE_KEY_LEN {
        return Err(Error::InvalidKey);
    }
    let nh = suite.hash_len();
    let dst = out.get_mut(..nh).ok_or(Error::BufferTooSmall)?;
    let prk = hkdf_extract(suite.hash(), &ssrc.to_be_bytes(), base_key);
    hkdf_expand(suite.hash(), &prk, &[SSRC_KEY_LABEL], dst)?;
    Ok(nh)
}
