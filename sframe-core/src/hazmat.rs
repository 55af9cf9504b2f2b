//! Low-level building blocks — RFC 9605 §4.4.2 (key derivation), §4.4.3 (encryption of one
//! frame), §4.5 and §4.5.1 (the AEADs) — for test vectors and byte-for-byte interop checks.
//!
//! # Not for media
//!
//! Nothing here keeps state: no counter, no registry of keys in use, no usage limit. The
//! caller chooses the counter, so **calling [`protect_frame`] twice with the same base key,
//! KID and counter (on different plaintexts) reuses a nonce**: it reveals the XOR of the
//! plaintexts and, for AES-GCM, lets an attacker forge frames. Making the same frame again,
//! at any counter and in any order, is what a test-vector file or an interop harness needs,
//! and exactly what a sender of real media must never do. Send media with [`crate::Sender`],
//! which hands out each counter once and refuses a key another live sender uses, and receive
//! with [`crate::Receiver`].

pub use crate::key::derive_key_and_salt;

use crate::crypto::{AeadKey, Backend, DefaultBackend};
use crate::error::{Error, Result};
use crate::frame;
use crate::header::Counter;
use crate::key::Key;
use crate::suite::{CipherSuite, NONCE_LEN};

/// **Hazmat — not for sending media.** Protects one frame with an explicit base key, KID and
/// counter (RFC 9605 §4.4.2 derivation, §4.4.3 encryption) and writes
/// `header ‖ ciphertext ‖ tag` to `out`; returns its length. For test vectors and interop
/// harnesses, which must be able to make the same frame again and to choose any counter.
///
/// It keeps no state: nothing remembers the counter, and no [`crate::Sender`] learns of the
/// key (a live sender using the same key is neither refused nor moved). **Two calls with the
/// same `base_key`, `kid` and `ctr` use the same nonce**: on two different plaintexts that
/// breaks confidentiality and, for AES-GCM, authenticity. Real traffic goes through
/// [`crate::Sender`].
///
/// The frame is byte for byte the one a [`crate::Sender`] writes for that key at that counter.
/// The frame is the header's length + `plaintext.len()` + [`CipherSuite::tag_len`] bytes;
/// `plaintext.len() +` [`CipherSuite::max_overhead`] always suffices. If `out` is too small,
/// nothing is written and the result is [`Error::BufferTooSmall`]. A base key shorter than
/// [`crate::MIN_BASE_KEY_LEN`] is [`Error::InvalidKey`]; metadata too long for the suite is
/// [`Error::MetadataTooLong`] (see [`crate::MAX_INLINE_METADATA_LEN`]). Each call derives the
/// key anew (two HKDF-Expand): slow by design, never for a per-frame path.
///
/// ```
/// use sframe_core::{CipherSuite, Counter, Receiver, Sender, hazmat};
/// let suite = CipherSuite::AesGcm128Sha256;
/// let base_key = [0x17; 16];
///
/// // A sender's first frame under a new key is the frame at counter 0 ...
/// let mut tx = Sender::new(suite);
/// tx.set_key(9, &base_key)?;
/// let sent = tx.protect_vec(b"meta", b"frame")?;
///
/// let mut out = [0u8; 64];
/// let n = hazmat::protect_frame(suite, 9, Counter(0), &base_key, b"meta", b"frame", &mut out)?;
/// assert_eq!(&out[..n], &sent[..]);
/// // ... and the same inputs make the same bytes again (the same nonce: never for media).
/// let mut again = [0u8; 64];
/// let m = hazmat::protect_frame(suite, 9, Counter(0), &base_key, b"meta", b"frame", &mut again)?;
/// assert_eq!(out[..n], again[..m]);
///
/// // Any counter, e.g. a test vector's; a receiver opens it like any frame.
/// let n = hazmat::protect_frame(suite, 9, Counter(17767), &base_key, b"", b"x", &mut out)?;
/// let mut rx = Receiver::new(suite);
/// rx.add_key(9, &base_key)?;
/// assert_eq!(rx.unprotect_vec(b"", &out[..n])?, b"x");
/// assert_eq!(tx.next_counter(), Some(1), "the sender did not notice");
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn protect_frame(
    suite: CipherSuite,
    kid: u64,
    ctr: Counter,
    base_key: &[u8],
    metadata: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    protect_frame_with(
        DefaultBackend::default(),
        suite,
        kid,
        ctr,
        base_key,
        metadata,
        plaintext,
        out,
    )
}

/// [`protect_frame`] with the crypto backend `backend` (`RustCrypto`, `AwsLc`), e.g. to check
/// that both backends write the same bytes. **Hazmat**: the same warning applies.
///
/// ```
/// use sframe_core::{CipherSuite, Counter, RustCrypto, hazmat};
/// let suite = CipherSuite::AesCtr128HmacSha256_80;
/// let (mut a, mut b) = ([0u8; 48], [0u8; 48]);
/// let n = hazmat::protect_frame_with(RustCrypto, suite, 1, Counter(5), &[3; 16], b"", b"pt", &mut a)?;
/// let m = hazmat::protect_frame(suite, 1, Counter(5), &[3; 16], b"", b"pt", &mut b)?;
/// assert_eq!(a[..n], b[..m]); // the default backend writes the same frame
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn protect_frame_with<B: Backend>(
    backend: B,
    suite: CipherSuite,
    kid: u64,
    ctr: Counter,
    base_key: &[u8],
    metadata: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    let key = Key::derive_with(backend, suite, kid, base_key)?;
    frame::seal_into(&key, ctr.0, metadata, plaintext, out)
}

/// The AEAD of one suite (§4.5, §4.5.1), keyed with raw `Nk`-byte key material.
pub struct Aead<B: Backend = DefaultBackend> {
    key: AeadKey<B>,
    tag_len: usize,
}

impl Aead {
    /// Keys the AEAD of the [`DefaultBackend`]; `key` must be exactly
    /// [`CipherSuite::key_len`] bytes ([`Error::InvalidLength`] otherwise).
    pub fn new(suite: CipherSuite, key: &[u8]) -> Result<Self> {
        Self::new_with(DefaultBackend::default(), suite, key)
    }
}

impl<B: Backend> Aead<B> {
    /// [`Aead::new`] for `backend`.
    pub fn new_with(backend: B, suite: CipherSuite, key: &[u8]) -> Result<Self> {
        let _ = backend;
        if key.len() != suite.key_len() {
            return Err(Error::InvalidLength);
        }
        Ok(Aead {
            key: AeadKey::new(suite, key)?,
            tag_len: suite.tag_len(),
        })
    }

    /// Encrypts `buf` in place and writes the `Nt`-byte tag to `tag`.
    /// A nonce that is not `Nn` (12) bytes is [`Error::InvalidLength`].
    pub fn seal(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) -> Result<()> {
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::InvalidLength)?;
        let tag = tag.get_mut(..self.tag_len).ok_or(Error::BufferTooSmall)?;
        self.key.seal(nonce, aad, &[], buf, tag)
    }

    /// Verifies `tag` and decrypts `buf` in place.
    /// A nonce that is not `Nn` (12) bytes is [`Error::InvalidLength`].
    pub fn open(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::InvalidLength)?;
        self.key.open(nonce, aad, &[], buf, tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{Header, MAX_HEADER_LEN};
    use crate::{Receiver, RustCrypto, Sender};

    /// The frame of §4.3/§4.4.3 built from the parts, independently of `frame::seal_into`.
    fn by_hand(
        suite: CipherSuite,
        kid: u64,
        ctr: u64,
        base_key: &[u8],
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (key, salt) = derive_key_and_salt(suite, kid, base_key)?;
        let mut nonce = *salt;
        for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(ctr.to_be_bytes()) {
            *n ^= c;
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let hlen = Header::new(kid, ctr).encode(&mut header)?;
        let mut aad = [0u8; MAX_HEADER_LEN + 64];
        aad[..hlen].copy_from_slice(&header[..hlen]);
        aad[hlen..hlen + metadata.len()].copy_from_slice(metadata);
        let (tag_len, len) = (suite.tag_len(), plaintext.len());
        out[..hlen].copy_from_slice(&header[..hlen]);
        out[hlen..hlen + len].copy_from_slice(plaintext);
        let (body, tag) = out[hlen..].split_at_mut(len);
        Aead::new_with(RustCrypto, suite, &key[..suite.key_len()])?.seal(
            &nonce,
            &aad[..hlen + metadata.len()],
            body,
            &mut tag[..tag_len],
        )?;
        Ok(hlen + len + tag_len)
    }

    /// Security 2, finding 6: a vector or interop harness must be able to make the frame of a
    /// (key, KID, CTR) again, at a counter a sender already used, while a sender holds that
    /// key — which no `Sender` may do (a second live sender is `KeyInUse`, a re-created one
    /// resumes its counter). The hazmat call makes it, leaves the sender alone, and the sender's
    /// own frame is the same bytes.
    #[test]
    fn security2_finding6_same_frame_again_while_a_sender_holds_the_key() -> Result<()> {
        let (suite, kid, base) = (CipherSuite::AesGcm128Sha256, 0x5eed, [0x61; 16]);
        let mut tx = Sender::with_backend(RustCrypto, suite);
        tx.set_key(kid, &base)?;
        let mut sent = [0u8; 64];
        let sent = tx.protect(b"md", b"first frame", &mut sent)?;
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        let n = protect_frame_with(
            RustCrypto,
            suite,
            kid,
            Counter(0),
            &base,
            b"md",
            b"first frame",
            &mut a,
        )?;
        let m = protect_frame_with(
            RustCrypto,
            suite,
            kid,
            Counter(0),
            &base,
            b"md",
            b"first frame",
            &mut b,
        )?;
        assert_eq!(
            &a[..n],
            &sent[..],
            "hazmat frame at counter 0 = the sender's first frame"
        );
        assert_eq!(a[..n], b[..m], "the same inputs make the same frame again");
        assert_eq!(tx.next_counter(), Some(1), "the live sender is not moved");
        let mut next = [0u8; 64];
        let next = tx.protect(b"md", b"second", &mut next)?;
        let n = protect_frame_with(
            RustCrypto,
            suite,
            kid,
            Counter(1),
            &base,
            b"md",
            b"second",
            &mut a,
        )?;
        assert_eq!(
            &a[..n],
            &next[..],
            "and the frame at counter 1 is its second frame"
        );
        Ok(())
    }

    /// No registry, no counter memory: a sender created after hazmat calls on a key it never
    /// used starts that key at counter 0.
    #[test]
    fn protect_frame_leaves_no_trace_for_senders() -> Result<()> {
        let (suite, kid, base) = (CipherSuite::AesCtr128HmacSha256_80, 77, [0x62; 16]);
        let mut out = [0u8; 64];
        for ctr in [0, 5, u64::MAX, 0] {
            protect_frame_with(
                RustCrypto,
                suite,
                kid,
                Counter(ctr),
                &base,
                b"",
                b"x",
                &mut out,
            )?;
        }
        let mut tx = Sender::with_backend(RustCrypto, suite);
        tx.set_key(kid, &base)?;
        assert_eq!(tx.next_counter(), Some(0));
        let mut sent = [0u8; 64];
        let sent = tx.protect(b"", b"x", &mut sent)?;
        let n = protect_frame_with(
            RustCrypto,
            suite,
            kid,
            Counter(0),
            &base,
            b"",
            b"x",
            &mut out,
        )?;
        assert_eq!(&out[..n], &sent[..]);
        Ok(())
    }

    /// Every suite, KIDs and counters of every header length: the frame is the §4.3/§4.4.3
    /// frame built by hand, exactly that long, and a receiver opens it.
    #[test]
    fn protect_frame_is_the_rfc_frame_at_any_counter() -> Result<()> {
        let values = [
            0u64,
            7,
            8,
            255,
            256,
            0xffff,
            1 << 24,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ];
        let base = [0x63; 20];
        for suite in CipherSuite::ALL {
            for (i, &kid) in values.iter().enumerate() {
                let ctr = values[(i * 3 + 1) % values.len()];
                let (md, pt) = (&b"metadata"[..i % 9], &b"some plaintext bytes"[..i * 2]);
                let mut out = [0u8; 64];
                let n = protect_frame_with(
                    RustCrypto,
                    suite,
                    kid,
                    Counter(ctr),
                    &base,
                    md,
                    pt,
                    &mut out,
                )?;
                let mut want = [0u8; 64];
                let w = by_hand(suite, kid, ctr, &base, md, pt, &mut want)?;
                assert_eq!(out[..n], want[..w], "{suite} kid {kid} ctr {ctr}");
                assert_eq!(
                    n,
                    Header::new(kid, ctr).encoded_len() + pt.len() + suite.tag_len()
                );
                let mut rx = Receiver::with_backend(RustCrypto, suite);
                rx.add_key(kid, &base)?;
                let mut plain = [0u8; 64];
                assert_eq!(rx.unprotect(md, &out[..n], &mut plain)?, pt);
                #[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
                {
                    let mut aws = [0u8; 64];
                    let m = protect_frame_with(
                        crate::AwsLc,
                        suite,
                        kid,
                        Counter(ctr),
                        &base,
                        md,
                        pt,
                        &mut aws,
                    )?;
                    assert_eq!(
                        out[..n],
                        aws[..m],
                        "{suite}: both backends write the same frame"
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn protect_frame_refuses_short_buffers_and_keys_writing_nothing() -> Result<()> {
        let (suite, base) = (CipherSuite::AesGcm256Sha512, [0x64; 32]);
        let exact = 1 + 5 + suite.tag_len(); // KID 1, CTR 2: one-byte header
        let mut out = [0xee; 64];
        for cap in [0, 1, exact - 1] {
            assert_eq!(
                protect_frame(suite, 1, Counter(2), &base, b"", b"hello", &mut out[..cap]),
                Err(Error::BufferTooSmall)
            );
            assert!(out.iter().all(|&b| b == 0xee), "nothing written");
        }
        assert_eq!(
            protect_frame(
                suite,
                1,
                Counter(2),
                &base,
                b"",
                b"hello",
                &mut out[..exact]
            ),
            Ok(exact)
        );
        assert_eq!(
            protect_frame(suite, 1, Counter(2), &base[..15], b"", b"hello", &mut out),
            Err(Error::InvalidKey)
        );
        Ok(())
    }
}
