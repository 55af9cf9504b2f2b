//! Key derivation — RFC 9605 §4.4.2.
//!
//! ```text
//! sframe_secret = HKDF-Extract("", base_key)
//! sframe_key    = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  ‖ BE64(KID) ‖ BE16(suite), Nk)
//! sframe_salt   = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " ‖ BE64(KID) ‖ BE16(suite), Nn)
//! ```
//!
//! Derivation happens once, when a key is installed; frames only use the derived [`Key`].

use zeroize::{Zeroize, Zeroizing};

/// Per-SSRC base keys of draft-ietf-avtcore-rtp-sframe §7 (defined in [`crate::rtp`]).
pub use crate::rtp::{SSRC_KEY_LABEL, ssrc_base_key};

use crate::crypto::{AeadKey, Backend, DefaultBackend, hkdf_expand, hkdf_extract};
use crate::error::{Error, Result};
use crate::suite::{CipherSuite, MAX_KEY_LEN, NONCE_LEN};

/// Shortest base key accepted, in bytes: anything shorter cannot carry 128 bits of entropy.
pub const MIN_BASE_KEY_LEN: usize = 16;

/// The §4.4.2 label of `sframe_key`'s HKDF-Expand info (22 bytes, trailing space included).
pub const KEY_LABEL: &[u8] = b"SFrame 1.0 Secret key ";
/// The §4.4.2 label of `sframe_salt`'s HKDF-Expand info (23 bytes, trailing space included).
pub const SALT_LABEL: &[u8] = b"SFrame 1.0 Secret salt ";
/// Longest §4.4.2 HKDF-Expand info: [`SALT_LABEL`] ‖ BE64(KID) ‖ BE16(suite), 33 bytes.
pub const MAX_DERIVATION_INFO_LEN: usize = SALT_LABEL.len() + 8 + 2;
/// HKDF-Extract salt of [`Key::fingerprint`] (not an RFC 9605 label: a local identifier).
const FINGERPRINT_LABEL: &[u8] = b"sframe-core key fingerprint v2";

/// The key material derived for one KID: the AEAD key (`sframe_key`, with its key schedule
/// precomputed) and the nonce salt (`sframe_salt`). Zeroized on drop.
///
/// Most users never touch a `Key`: [`crate::Sender::set_key`] and [`crate::Receiver::add_key`]
/// take base keys. It is public for key schedules that derive elsewhere (for example WebCrypto
/// in a browser, which keeps the base key non-extractable).
///
/// `B` is the crypto backend that runs the AEAD with it ([`DefaultBackend`] unless named; see
/// [`Key::derive_with`]).
pub struct Key<B: Backend = DefaultBackend> {
    suite: CipherSuite,
    kid: u64,
    aead: AeadKey<B>,
    salt: [u8; NONCE_LEN],
    fingerprint: [u8; 16],
}

impl<B: Backend> Drop for Key<B> {
    fn drop(&mut self) {
        // The AEAD key schedules zeroize themselves (RustCrypto `zeroize` features / aws-lc).
        self.salt.zeroize();
    }
}

impl<B: Backend> core::fmt::Debug for Key<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .field("backend", &B::NAME)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Derives `sframe_key` and `sframe_salt` for `kid` from `base_key` (§4.4.2), for the
    /// [`DefaultBackend`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key};
    /// let key = Key::derive(CipherSuite::AesGcm128Sha256, 7, &[0x42; 16])?;
    /// assert_eq!(key.key_id(), 7);
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn derive(suite: CipherSuite, kid: u64, base_key: &[u8]) -> Result<Self> {
        Self::derive_with(DefaultBackend::default(), suite, kid, base_key)
    }

    /// Builds a key from an already derived `sframe_key` (`Nk` bytes) and `sframe_salt`, for the
    /// [`DefaultBackend`]. Both must come from one §4.4.2 derivation: the key material is
    /// identified by its salt ([`Key::fingerprint`]).
    pub fn from_parts(
        suite: CipherSuite,
        kid: u64,
        sframe_key: &[u8],
        sframe_salt: &[u8],
    ) -> Result<Self> {
        Self::from_parts_with(
            DefaultBackend::default(),
            suite,
            kid,
            sframe_key,
            sframe_salt,
        )
    }
}

impl<B: Backend> Key<B> {
    /// [`Key::derive`] for `backend` (a value: `RustCrypto`, `AwsLc`).
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key, RustCrypto};
    /// let key = Key::derive_with(RustCrypto, CipherSuite::AesGcm128Sha256, 7, &[0x42; 16])?;
    /// assert_eq!(key.backend(), "rustcrypto");
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn derive_with(backend: B, suite: CipherSuite, kid: u64, base_key: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
        let mut salt = Zeroizing::new([0u8; NONCE_LEN]);
        derive_key_salt(suite, kid, base_key, &mut key[..], &mut salt)?;
        Self::from_parts_with(
            backend,
            suite,
            kid,
            key.get(..suite.key_len()).unwrap_or(&[]),
            &salt[..],
        )
    }

    /// [`Key::from_parts`] for the backend `_backend`.
    pub fn from_parts_with(
        _backend: B,
        suite: CipherSuite,
        kid: u64,
        sframe_key: &[u8],
        sframe_salt: &[u8],
    ) -> Result<Self> {
        if sframe_key.len() != suite.key_len() {
            return Err(Error::InvalidLength);
        }
        let salt: [u8; NONCE_LEN] = sframe_salt.try_into().map_err(|_| Error::InvalidLength)?;
        let aead = AeadKey::new(suite, sframe_key)?;
        Ok(Self::assemble(suite, kid, aead, salt))
    }

    /// A key whose AEAD runs outside this crate — e.g. a non-extractable WebCrypto AES-GCM key
    /// derived in the browser, so no AES key byte is ever in this process's memory. It holds
    /// only the `sframe_salt` (§4.4.2) for `kid`: enough to number frames and build nonces for
    /// [`Sender::protect_external`](crate::Sender::protect_external) and
    /// [`Receiver::unprotect_external`](crate::Receiver::unprotect_external), with the same
    /// counters, replay windows and limits as any key. The in-crate `protect` / `unprotect`
    /// calls refuse it with [`Error::ExternalKey`].
    ///
    /// It has the same [`Key::fingerprint`] as the full key of the same material, so a sender
    /// never restarts a counter by switching between the two forms, and a receiver keeps its
    /// replay window. A salt that is not `Nn` bytes is [`Error::InvalidLength`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key, RustCrypto, hazmat::derive_key_and_salt};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let (_, salt) = derive_key_and_salt(suite, 7, &[0x42; 16])?; // e.g. WebCrypto deriveBits
    /// let ext = Key::external(RustCrypto, suite, 7, &salt[..])?;
    /// let full = Key::derive_with(RustCrypto, suite, 7, &[0x42; 16])?;
    /// assert_eq!(ext.fingerprint(), full.fingerprint());
    /// assert!(ext.is_external() && !full.is_external());
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn external(_backend: B, suite: CipherSuite, kid: u64, sframe_salt: &[u8]) -> Result<Self> {
        let salt: [u8; NONCE_LEN] = sframe_salt.try_into().map_err(|_| Error::InvalidLength)?;
        Ok(Self::assemble(suite, kid, AeadKey::External, salt))
    }

    /// Whether the AEAD of this key runs outside this crate ([`Key::external`]).
    pub fn is_external(&self) -> bool {
        matches!(self.aead, AeadKey::External)
    }

    fn assemble(suite: CipherSuite, kid: u64, aead: AeadKey<B>, salt: [u8; NONCE_LEN]) -> Self {
        // fingerprint = HKDF-Extract(label, BE16(suite) ‖ sframe_salt)[..16]. The salt comes
        // from the same §4.4.2 secret (and KID) as the key, so it identifies the material
        // without the key, and a key held outside the crate has the same fingerprint. The KID
        // is left out on purpose: the same parts under two KIDs would repeat every nonce, so
        // they must count as the same material.
        let mut ikm = Zeroizing::new([0u8; 2 + NONCE_LEN]);
        let (s, rest) = ikm.split_at_mut(2);
        s.copy_from_slice(&suite.id().to_be_bytes());
        rest.copy_from_slice(&salt);
        let prk = hkdf_extract(suite.hash(), FINGERPRINT_LABEL, &ikm[..]);
        let mut fingerprint = [0u8; 16];
        if let Some(src) = prk.as_bytes().get(..16) {
            fingerprint.copy_from_slice(src);
        }
        Key {
            suite,
            kid,
            aead,
            salt,
            fingerprint,
        }
    }

    /// A one-way 128-bit identifier of this key material (suite and `sframe_salt`, which
    /// §4.4.2 derives from the same secret and KID as `sframe_key`): equal for equal
    /// material, and revealing nothing about the key. Senders use it to
    /// recognize key material they used before (so a counter never restarts) and receivers to
    /// recognize a key that is already installed (so its replay window is kept).
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let a = Key::derive(suite, 7, &[1; 16])?;
    /// assert_eq!(a.fingerprint(), Key::derive(suite, 7, &[1; 16])?.fingerprint());
    /// assert_ne!(a.fingerprint(), Key::derive(suite, 8, &[1; 16])?.fingerprint()); // other KID
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn fingerprint(&self) -> [u8; 16] {
        self.fingerprint
    }

    /// Constant-time equality of the key material (via [`Key::fingerprint`]).
    pub(crate) fn same_material(&self, other: &Key<B>) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.fingerprint.ct_eq(&other.fingerprint))
    }

    /// Re-adding installed material: an external key ([`Key::external`]) given again in full
    /// takes the AEAD key, so in-crate protect/unprotect work too. Everything else about the
    /// installed key (and its counters, replay window, limits: held by the caller) stays.
    /// The caller has checked [`Key::same_material`]; a key under another KID never replaces.
    pub(crate) fn upgrade(&mut self, again: Key<B>) {
        if self.is_external() && !again.is_external() && self.kid == again.kid {
            *self = again;
        }
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The key ID this key was derived for.
    pub fn key_id(&self) -> u64 {
        self.kid
    }

    /// [`Key::derive_with`] for this key type's backend (crate-internal shorthand).
    pub(crate) fn derive_in(suite: CipherSuite, kid: u64, base_key: &[u8]) -> Result<Self> {
        Self::derive_with(B::default(), suite, kid, base_key)
    }

    /// The name of the backend that runs this key's AEAD (`"rustcrypto"`, `"aws-lc"`).
    pub fn backend(&self) -> &'static str {
        B::NAME
    }

    pub(crate) fn aead(&self) -> &AeadKey<B> {
        &self.aead
    }

    /// §4.4.3: nonce = sframe_salt XOR BE(CTR, Nn).
    #[inline]
    pub(crate) fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        // One 64-bit XOR on the low 8 bytes (per frame: keep it short).
        let mut nonce = self.salt;
        let (_, low) = nonce.split_at_mut(NONCE_LEN - 8);
        if let Ok(low) = <&mut [u8; 8]>::try_from(low) {
            *low = (u64::from_be_bytes(*low) ^ ctr).to_be_bytes();
        }
        nonce
    }
}

/// §4.4.2 in full: writes `sframe_key` (`out_key.len()` must be `Nk`, or at least `Nk` — only
/// the first `Nk` bytes are written) and `sframe_salt`.
pub(crate) fn derive_key_salt(
    suite: CipherSuite,
    kid: u64,
    base_key: &[u8],
    out_key: &mut [u8],
    out_salt: &mut [u8; NONCE_LEN],
) -> Result<()> {
    if base_key.len() < MIN_BASE_KEY_LEN {
        return Err(Error::InvalidKey);
    }
    let hash = suite.hash();
    let secret = hkdf_extract(hash, &[], base_key);
    let key = out_key
        .get_mut(..suite.key_len())
        .ok_or(Error::InvalidKey)?;
    let key_info = derivation_info(Derived::Key, kid, suite);
    hkdf_expand(hash, &secret, &[key_info.as_bytes()], key)?;
    let salt_info = derivation_info(Derived::Salt, kid, suite);
    hkdf_expand(hash, &secret, &[salt_info.as_bytes()], out_salt)?;
    Ok(())
}

/// Which of the two §4.4.2 outputs an HKDF-Expand info is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Derived {
    /// `sframe_key` (`Nk` bytes), label [`KEY_LABEL`].
    Key,
    /// `sframe_salt` (`Nn` bytes), label [`SALT_LABEL`].
    Salt,
}

/// The HKDF-Expand `info` of §4.4.2: `label ‖ BE64(KID) ‖ BE16(suite)` (see
/// [`derivation_info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DerivationInfo {
    bytes: [u8; MAX_DERIVATION_INFO_LEN],
    len: usize,
}

impl DerivationInfo {
    /// The info bytes (32 for [`Derived::Key`], 33 for [`Derived::Salt`]).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

impl AsRef<[u8]> for DerivationInfo {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The HKDF-Expand `info` this crate's §4.4.2 key schedule uses for `which` output of the key
/// for `kid` under `suite`: `"SFrame 1.0 Secret key " ‖ BE64(KID) ‖ BE16(suite)` (or the salt
/// label). For key schedules run elsewhere (WebCrypto's HKDF in a browser, with
/// [`CipherSuite::hash_name`] as the hash and an empty salt), so that no one re-types the labels.
///
/// ```
/// use sframe_core::CipherSuite;
/// use sframe_core::key::{Derived, derivation_info};
/// let info = derivation_info(Derived::Salt, 0x0102, CipherSuite::AesGcm128Sha256);
/// assert_eq!(info.as_bytes(), b"SFrame 1.0 Secret salt \0\0\0\0\0\0\x01\x02\0\x04");
/// ```
pub fn derivation_info(which: Derived, kid: u64, suite: CipherSuite) -> DerivationInfo {
    let label = match which {
        Derived::Key => KEY_LABEL,
        Derived::Salt => SALT_LABEL,
    };
    let mut bytes = [0u8; MAX_DERIVATION_INFO_LEN];
    let mut len = 0;
    for part in [label, &kid.to_be_bytes(), &suite.id().to_be_bytes()] {
        let end = len + part.len();
        if let Some(dst) = bytes.get_mut(len..end) {
            dst.copy_from_slice(part);
            len = end;
        }
    }
    DerivationInfo { bytes, len }
}

/// `(sframe_key, sframe_salt)` as returned by [`derive_key_and_salt`].
pub type DerivedKeySalt = (Zeroizing<[u8; MAX_KEY_LEN]>, Zeroizing<[u8; NONCE_LEN]>);

/// Low-level access to the §4.4.2 derivation, for tests and for checking other implementations.
///
/// Returns `(sframe_key, sframe_salt)`; only the first [`CipherSuite::key_len`] bytes of the
/// key array are meaningful. Both are zeroized when dropped.
pub fn derive_key_and_salt(
    suite: CipherSuite,
    kid: u64,
    base_key: &[u8],
) -> Result<DerivedKeySalt> {
    let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
    let mut salt = Zeroizing::new([0u8; NONCE_LEN]);
    derive_key_salt(suite, kid, base_key, &mut key[..], &mut salt)?;
    Ok((key, salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_base_key_is_refused() {
        assert_eq!(
            Key::derive(CipherSuite::AesGcm128Sha256, 1, &[1u8; 15]).map(|_| ()),
            Err(Error::InvalidKey)
        );
    }

    #[test]
    fn nonce_xors_counter_into_low_bytes() -> Result<()> {
        let k = Key::from_parts(CipherSuite::AesGcm128Sha256, 0, &[0u8; 16], &[0xff; 12])?;
        let n = k.nonce(0x0102);
        assert_eq!(n[..10], [0xff; 10]);
        assert_eq!(n[10..], [0xfe, 0xfd]);
        Ok(())
    }

    #[test]
    fn derivation_info_is_label_kid_suite() {
        for suite in CipherSuite::ALL {
            for kid in [0, 1, 0x0123_4567_89ab_cdef, u64::MAX] {
                for (which, label) in [(Derived::Key, KEY_LABEL), (Derived::Salt, SALT_LABEL)] {
                    let info = derivation_info(which, kid, suite);
                    let bytes = info.as_bytes();
                    assert_eq!(bytes.len(), label.len() + 10);
                    assert_eq!(&bytes[..label.len()], label);
                    assert_eq!(bytes[label.len()..][..8], kid.to_be_bytes());
                    assert_eq!(bytes[label.len() + 8..], suite.id().to_be_bytes());
                }
            }
        }
        assert_eq!(
            derivation_info(Derived::Salt, 0, CipherSuite::AesGcm128Sha256)
                .as_bytes()
                .len(),
            MAX_DERIVATION_INFO_LEN
        );
        assert_eq!(KEY_LABEL, b"SFrame 1.0 Secret key ");
    }

    #[test]
    fn from_parts_refuses_wrong_lengths_as_invalid_length() {
        let suite = CipherSuite::AesGcm128Sha256;
        let ok = Key::from_parts(suite, 1, &[0; 16], &[0; 12]);
        assert!(ok.is_ok());
        for (key, salt) in [
            (&[0u8; 15][..], &[0u8; 12][..]),
            (&[0; 32], &[0; 12]),
            (&[0; 16], &[0; 11]),
            (&[0; 16], &[0; 13]),
        ] {
            assert_eq!(
                Key::from_parts(suite, 1, key, salt).map(|_| ()),
                Err(Error::InvalidLength),
                "key {} salt {}",
                key.len(),
                salt.len()
            );
        }
    }

    #[test]
    fn kid_and_suite_separate_keys() -> Result<()> {
        let (a, sa) = derive_key_and_salt(CipherSuite::AesGcm128Sha256, 1, &[9; 16])?;
        let (b, sb) = derive_key_and_salt(CipherSuite::AesGcm128Sha256, 2, &[9; 16])?;
        let (c, _) = derive_key_and_salt(CipherSuite::AesCtr128HmacSha256_80, 1, &[9; 16])?;
        assert_ne!(a[..16], b[..16]);
        assert_ne!(sa, sb);
        assert_ne!(a[..16], c[..16]);
        Ok(())
    }
}
