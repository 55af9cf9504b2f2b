//! Crypto backends — RFC 9605 §4.5 (AEAD), §4.5.1 (AES-CTR + HMAC) and the HKDF of §4.4.2.
//!
//! Everything SFrame does with cryptography goes through this module. A backend is a value
//! (a zero-sized type implementing the sealed [`Backend`] trait) that supplies the per-frame
//! primitives:
//!
//! | primitive | what |
//! |---|---|
//! | AES-CTR | AES-128 or AES-256 key schedule (by key length); keystream in place and buffer-to-buffer (128-bit big-endian counter) |
//! | HMAC | keyed HMAC-SHA256 or HMAC-SHA512 over a list of parts |
//! | AES-GCM | AES-128/256-GCM with a detached 16-byte tag: seal/open in place and buffer-to-buffer |
//!
//! Backends: [`RustCrypto`] (always available: pure Rust, `no_std`, WebAssembly) and `AwsLc`
//! (feature `aws-lc`: AWS-LC's assembly, native `std` targets). Features only *add* backends:
//! [`Sender`](crate::Sender), [`Receiver`](crate::Receiver) and [`Key`](crate::Key) take the
//! backend as a type parameter that defaults to [`DefaultBackend`], and a program may use both
//! at once (`Sender::with_backend(RustCrypto, suite)`). Dispatch is static (generics over
//! concrete types): no trait objects on the per-frame path.
//!
//! The AEAD composition of §4.5.1 (with AES-128 + HMAC-SHA256 for suites 1-3 and, per
//! draft-barnes-sframe-iana-256, AES-256 + HMAC-SHA512 for suites 6-8), tag truncation,
//! constant-time tag comparison and AAD assembly are written once, here, for every backend.
//! HKDF (§4.4.2 key derivation, §5.1 ratchet, key fingerprints) runs only when a key is
//! installed, never per frame; it is RustCrypto's `hkdf` in every build, so derived keys do not
//! depend on the backend.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};
use crate::header::MAX_HEADER_LEN;
use crate::suite::{CipherSuite, HashAlg, NONCE_LEN};

mod rustcrypto;
pub use rustcrypto::RustCrypto;

#[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
mod aws_lc;
#[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
pub use aws_lc::AwsLc;

/// A crypto backend: supplies AES-CTR, HMAC and AES-GCM for the per-frame path. Sealed: the
/// implementations are [`RustCrypto`] and, with feature `aws-lc`, `AwsLc`.
pub trait Backend:
    sealed::Primitives + Copy + Default + core::fmt::Debug + Send + Sync + 'static
{
    /// The backend's name: `"rustcrypto"` or `"aws-lc"`.
    const NAME: &'static str;
}

/// The backend [`Sender`](crate::Sender), [`Receiver`](crate::Receiver) and
/// [`Key`](crate::Key) use unless given another: `AwsLc` when the `aws-lc` feature is on (it is
/// in the default features; 2-2.5× faster AES-GCM on x86_64 and aarch64), else
/// [`RustCrypto`]. Name a backend (`Sender::with_backend(RustCrypto, suite)`) to pin it
/// whatever features other crates in the build enable.
#[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
pub type DefaultBackend = AwsLc;
/// The backend [`Sender`](crate::Sender), [`Receiver`](crate::Receiver) and
/// [`Key`](crate::Key) use unless given another: `AwsLc` when the `aws-lc` feature is on (it is
/// in the default features), else [`RustCrypto`] (as in this build). Name a backend
/// (`Sender::with_backend(RustCrypto, suite)`) to pin it whatever features other crates in the
/// build enable.
#[cfg(not(all(feature = "aws-lc", not(target_family = "wasm"))))]
pub type DefaultBackend = RustCrypto;

/// Name of the default backend: `"rustcrypto"` or `"aws-lc"`.
pub const BACKEND: &str = DefaultBackend::NAME;

pub(crate) mod sealed {
    use crate::error::Result;
    use crate::suite::{HashAlg, NONCE_LEN};

    /// The primitive types of a backend. Implemented in this crate only.
    pub trait Primitives {
        type AesCtr: AesCtrOps;
        type Hmac: HmacOps;
        type Gcm: GcmOps;
    }

    /// AES-CTR with a precomputed key schedule (AES-128 or AES-256 by key length).
    pub trait AesCtrOps: Sized {
        fn new(key: &[u8]) -> Result<Self>;
        /// XORs the keystream starting at counter block `iv` into `buf`.
        fn apply_keystream(&self, iv: &[u8; 16], buf: &mut [u8]) -> Result<()>;
        /// `output = input XOR keystream` (same length).
        fn apply_keystream_b2b(&self, iv: &[u8; 16], input: &[u8], output: &mut [u8])
        -> Result<()>;
    }

    /// HMAC with the key absorbed.
    pub trait HmacOps: Sized {
        fn new(hash: HashAlg, key: &[u8]) -> Result<Self>;
        /// The MAC over the concatenation of `parts`: 32 bytes (SHA-256, zero-padded) or 64.
        fn mac(&self, parts: &[&[u8]]) -> [u8; 64];
    }

    /// AES-GCM with a detached 16-byte tag.
    pub trait GcmOps: Sized {
        fn new(key: &[u8]) -> Result<Self>;
        fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16]>;
        fn seal_b2b(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            output: &mut [u8],
        ) -> Result<[u8; 16]>;
        /// Verifies and decrypts in place; on failure `buf` holds what it held before.
        fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8],
        ) -> Result<()>;
        /// Verifies `input` and decrypts into `output`; on failure no plaintext in `output`.
        fn open_b2b(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            input: &[u8],
            output: &mut [u8],
            tag: &[u8],
        ) -> Result<()>;
    }
}

use sealed::{AesCtrOps, GcmOps, HmacOps, Primitives};

/// Metadata up to this many bytes is authenticated with no heap allocation for the AES-GCM
/// suites (their AAD must be contiguous, so header ‖ metadata is assembled on the stack).
/// Longer metadata is heap-assembled with the `alloc` feature, or refused with
/// [`Error::MetadataTooLong`] without it. The CTR+HMAC suites have no such limit.
pub const MAX_INLINE_METADATA_LEN: usize = 1024;

/// An HKDF pseudo-random key (HKDF-Extract output), zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Prk {
    bytes: [u8; 64],
    len: usize,
}

impl Prk {
    pub(crate) fn new(hash_output: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        let len = hash_output.len().min(64);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), hash_output.get(..len)) {
            dst.copy_from_slice(src);
        }
        Prk { bytes, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// HKDF-Extract(salt, ikm) with the suite's hash (RustCrypto `hkdf`, every build).
pub(crate) fn hkdf_extract(hash: HashAlg, salt: &[u8], ikm: &[u8]) -> Prk {
    rustcrypto::hkdf_extract(hash, salt, ikm)
}

/// HKDF-Expand(prk, info_0 ‖ info_1 ‖ …, out.len()).
pub(crate) fn hkdf_expand(hash: HashAlg, prk: &Prk, info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    rustcrypto::hkdf_expand(hash, prk, info, out)
}

/// An AEAD key for one suite, ready for per-frame use (key schedules precomputed).
pub(crate) enum AeadKey<B: Backend> {
    /// §4.5.1: AES-CTR for confidentiality, truncated HMAC for integrity (suites 1-3 and 6-8).
    CtrHmac {
        enc: <B as Primitives>::AesCtr,
        auth: <B as Primitives>::Hmac,
        tag_len: usize,
    },
    /// AES-GCM (suites 4 and 5).
    Gcm(<B as Primitives>::Gcm),
    /// No key here: the AEAD runs outside this crate ([`crate::Key::external`]). Every
    /// operation is [`Error::ExternalKey`] (callers check first; this is the backstop).
    External,
}

impl<B: Backend> AeadKey<B> {
    /// Builds the AEAD key from `Nk` bytes of key material.
    pub(crate) fn new(suite: CipherSuite, key: &[u8]) -> Result<Self> {
        if key.len() != suite.key_len() {
            return Err(Error::InvalidKey);
        }
        if suite.is_ctr_hmac() {
            // derive_subkeys: enc_key = key[..Nka], auth_key = key[Nka..] (Nka = 16 for
            // suites 1-3, 32 for suites 6-8).
            let (enc_key, auth_key) = key
                .split_at_checked(suite.enc_key_len())
                .ok_or(Error::InvalidKey)?;
            Ok(AeadKey::CtrHmac {
                enc: <B as Primitives>::AesCtr::new(enc_key)?,
                auth: <B as Primitives>::Hmac::new(suite.hash(), auth_key)?,
                tag_len: suite.tag_len(),
            })
        } else {
            Ok(AeadKey::Gcm(<B as Primitives>::Gcm::new(key)?))
        }
    }

    /// Encrypts `buf` in place and writes the tag (exactly `Nt` bytes) to `tag`.
    /// The AAD is `header ‖ metadata`.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        match self {
            AeadKey::CtrHmac { enc, auth, tag_len } => {
                enc.apply_keystream(&ctr_iv(nonce), buf)?;
                let full = ctr_hmac_tag(auth, *tag_len, nonce, header, metadata, buf);
                put_tag(&full, *tag_len, tag)
            }
            AeadKey::Gcm(gcm) => {
                let t = with_aad(header, metadata, |aad| gcm.seal(nonce, aad, buf))?;
                put_tag(&t, t.len(), tag)
            }
            AeadKey::External => Err(Error::ExternalKey),
        }
    }

    /// Like [`AeadKey::seal`], but encrypts `input` into `output` (same length) in one pass.
    pub(crate) fn seal_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        match self {
            AeadKey::CtrHmac { enc, auth, tag_len } => {
                enc.apply_keystream_b2b(&ctr_iv(nonce), input, output)?;
                let full = ctr_hmac_tag(auth, *tag_len, nonce, header, metadata, output);
                put_tag(&full, *tag_len, tag)
            }
            AeadKey::Gcm(gcm) => {
                let t = with_aad(header, metadata, |aad| {
                    gcm.seal_b2b(nonce, aad, input, output)
                })?;
                put_tag(&t, t.len(), tag)
            }
            AeadKey::External => Err(Error::ExternalKey),
        }
    }

    /// Like [`AeadKey::open`], but decrypts `input` into `output` (same length). `input` is
    /// never written; on failure `output` may hold zeros or be untouched, never plaintext.
    pub(crate) fn open_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        match self {
            AeadKey::CtrHmac { enc, auth, tag_len } => {
                verify_ctr_tag(auth, *tag_len, nonce, header, metadata, input, tag)?;
                enc.apply_keystream_b2b(&ctr_iv(nonce), input, output)
            }
            AeadKey::Gcm(gcm) => with_aad(header, metadata, |aad| {
                gcm.open_b2b(nonce, aad, input, output, tag)
            }),
            AeadKey::External => Err(Error::ExternalKey),
        }
    }

    /// Verifies `tag` and decrypts `buf` in place. On failure `buf` is left as it was
    /// (the tag is checked before any byte is decrypted; for aws-lc's GCM, see its module).
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        match self {
            AeadKey::CtrHmac { enc, auth, tag_len } => {
                verify_ctr_tag(auth, *tag_len, nonce, header, metadata, buf, tag)?;
                enc.apply_keystream(&ctr_iv(nonce), buf)
            }
            AeadKey::Gcm(gcm) => with_aad(header, metadata, |aad| gcm.open(nonce, aad, buf, tag)),
            AeadKey::External => Err(Error::ExternalKey),
        }
    }
}

/// Copies the first `len` bytes of `src` into `tag[..len]`.
#[inline]
fn put_tag(src: &[u8], len: usize, tag: &mut [u8]) -> Result<()> {
    let src = src.get(..len).ok_or(Error::BufferTooSmall)?;
    tag.get_mut(..len)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(src);
    Ok(())
}

/// §4.5.1 verification: recomputes the truncated HMAC over `ct` and compares it with `tag` in
/// constant time.
fn verify_ctr_tag(
    auth: &impl HmacOps,
    tag_len: usize,
    nonce: &[u8; NONCE_LEN],
    header: &[u8],
    metadata: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Result<()> {
    if tag.len() != tag_len {
        return Err(Error::MalformedFrame);
    }
    let full = ctr_hmac_tag(auth, tag_len, nonce, header, metadata, ct);
    let expected = full.get(..tag_len).ok_or(Error::MalformedFrame)?;
    if bool::from(expected.ct_eq(tag)) {
        Ok(())
    } else {
        Err(Error::AuthenticationFailed)
    }
}

/// §4.5.1: the AES-CTR initial counter block is `nonce ‖ 0x00000000`.
fn ctr_iv(nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..NONCE_LEN].copy_from_slice(nonce);
    iv
}

/// §4.5.1 `compute_tag`: HMAC(auth_key, len(aad) ‖ len(ct) ‖ Nt ‖ nonce ‖ aad ‖ ct), each
/// length a big-endian u64; the caller truncates to `Nt` (at most 10 bytes, so the 32 bytes of
/// HMAC-SHA256 and the 64 of HMAC-SHA512 both suffice).
fn ctr_hmac_tag(
    auth: &impl HmacOps,
    tag_len: usize,
    nonce: &[u8; NONCE_LEN],
    header: &[u8],
    metadata: &[u8],
    ct: &[u8],
) -> [u8; 64] {
    let aad_len = (header.len() as u64).saturating_add(metadata.len() as u64);
    let mut lens = [0u8; 24];
    lens[..8].copy_from_slice(&aad_len.to_be_bytes());
    lens[8..16].copy_from_slice(&(ct.len() as u64).to_be_bytes());
    lens[16..].copy_from_slice(&(tag_len as u64).to_be_bytes());
    auth.mac(&[&lens, nonce, header, metadata, ct])
}

/// Runs `f` on the contiguous AAD `header ‖ metadata`, without allocating when it fits.
fn with_aad<R>(header: &[u8], metadata: &[u8], f: impl FnOnce(&[u8]) -> Result<R>) -> Result<R> {
    if metadata.is_empty() {
        return f(header);
    }
    let total = header.len() + metadata.len();
    if total <= MAX_HEADER_LEN + MAX_INLINE_METADATA_LEN {
        let mut buf = [0u8; MAX_HEADER_LEN + MAX_INLINE_METADATA_LEN];
        let aad = buf.get_mut(..total).ok_or(Error::MetadataTooLong)?;
        let (h, m) = aad.split_at_mut(header.len());
        h.copy_from_slice(header);
        m.copy_from_slice(metadata);
        return f(aad);
    }
    #[cfg(feature = "alloc")]
    {
        let mut aad = alloc::vec::Vec::with_capacity(total);
        aad.extend_from_slice(header);
        aad.extend_from_slice(metadata);
        f(&aad)
    }
    #[cfg(not(feature = "alloc"))]
    {
        Err(Error::MetadataTooLong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `$f::<B>()` for every backend compiled in.
    macro_rules! each_backend {
        ($f:ident) => {{
            $f::<RustCrypto>()?;
            #[cfg(all(feature = "aws-lc", not(target_family = "wasm")))]
            $f::<AwsLc>()?;
        }};
    }

    // RFC 4231 test case 2 (HMAC-SHA256), to pin the backend's HMAC independently of SFrame.
    #[test]
    fn hmac_sha256_rfc4231_case2() -> Result<()> {
        each_backend!(hmac_sha256_case2);
        Ok(())
    }

    fn hmac_sha256_case2<B: Backend>() -> Result<()> {
        let mac = <B as Primitives>::Hmac::new(HashAlg::Sha256, b"Jefe")?;
        let out = mac.mac(&[b"what do ya want ", b"for nothing?"]);
        let expected: [u8; 32] = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        assert_eq!(out[..32], expected);
        assert_eq!(out[32..], [0u8; 32]);
        Ok(())
    }

    // RFC 4231 test case 2 (HMAC-SHA512), for the suites 6-8 tag function.
    #[test]
    fn hmac_sha512_rfc4231_case2() -> Result<()> {
        each_backend!(hmac_sha512_case2);
        Ok(())
    }

    fn hmac_sha512_case2<B: Backend>() -> Result<()> {
        let mac = <B as Primitives>::Hmac::new(HashAlg::Sha512, b"Jefe")?;
        let out = mac.mac(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(&out[..8], &[0x16, 0x4b, 0x7a, 0x7b, 0xfc, 0xf8, 0x19, 0xe2]);
        assert_eq!(
            &out[56..],
            &[0x63, 0x6e, 0x07, 0x0a, 0x38, 0xbc, 0xe7, 0x37]
        );
        Ok(())
    }

    // RFC 5869 test case 1 (HKDF-SHA256).
    #[test]
    fn hkdf_sha256_rfc5869_case1() -> Result<()> {
        let ikm = [0x0bu8; 22];
        let salt: [u8; 13] = core::array::from_fn(|i| i as u8);
        let info: [u8; 10] = core::array::from_fn(|i| 0xf0 + i as u8);
        let prk = hkdf_extract(HashAlg::Sha256, &salt, &ikm);
        let mut okm = [0u8; 42];
        hkdf_expand(HashAlg::Sha256, &prk, &[&info[..4], &info[4..]], &mut okm)?;
        assert_eq!(&okm[..8], &[0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a]);
        assert_eq!(
            &okm[32..],
            &[0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65]
        );
        Ok(())
    }

    /// The core's promise, for whichever backend is compiled in: a failed open leaves the
    /// ciphertext exactly as it was, at every size class the backends treat differently.
    #[cfg(feature = "std")]
    #[test]
    fn failed_open_leaves_buffer_unchanged() -> Result<()> {
        each_backend!(failed_open_unchanged);
        Ok(())
    }

    #[cfg(feature = "std")]
    fn failed_open_unchanged<B: Backend>() -> Result<()> {
        for suite in CipherSuite::ALL {
            let key_bytes = [0x5au8; 96];
            let key = AeadKey::<B>::new(suite, &key_bytes[..suite.key_len()])?;
            let nonce = [3u8; NONCE_LEN];
            for len in [0usize, 1, 64, 257, 1200, 2049, 10 * 1024, 100 * 1024] {
                let mut buf: std::vec::Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let mut tag = [0u8; 16];
                let tag_len = suite.tag_len();
                key.seal(&nonce, &[0x10], b"m", &mut buf, &mut tag[..tag_len])?;
                let ct = buf.clone();
                for (what, hdr, meta, flip_tag) in [
                    ("tag", &[0x10u8][..], &b"m"[..], true),
                    ("header", &[0x11u8][..], &b"m"[..], false),
                    ("metadata", &[0x10u8][..], &b"n"[..], false),
                ] {
                    let mut t = tag;
                    if flip_tag {
                        t[tag_len - 1] ^= 1;
                    }
                    assert_eq!(
                        key.open(&nonce, hdr, meta, &mut buf, &t[..tag_len]),
                        Err(Error::AuthenticationFailed),
                        "{suite} {len} {what}"
                    );
                    assert!(
                        buf == ct,
                        "{suite} len {len}: bad {what} changed the buffer"
                    );
                }
                key.open(&nonce, &[0x10], b"m", &mut buf, &tag[..tag_len])?;
                assert!(buf.iter().enumerate().all(|(i, b)| *b == (i * 7) as u8));
            }
        }
        Ok(())
    }

    /// The buffer-to-buffer forms produce exactly what the in-place forms do, and a failed
    /// `open_b2b` leaves no plaintext in `output`.
    #[cfg(feature = "std")]
    #[test]
    fn b2b_matches_in_place() -> Result<()> {
        each_backend!(b2b_matches);
        Ok(())
    }

    #[cfg(feature = "std")]
    fn b2b_matches<B: Backend>() -> Result<()> {
        for suite in CipherSuite::ALL {
            let key = AeadKey::<B>::new(suite, &[0x33u8; 96][..suite.key_len()])?;
            let nonce = [9u8; NONCE_LEN];
            let tl = suite.tag_len();
            for len in [0usize, 1, 17, 1200, 4099] {
                let pt: std::vec::Vec<u8> = (0..len).map(|i| (i * 3 + 1) as u8).collect();
                let (mut a, mut ta) = (pt.clone(), [0u8; 16]);
                key.seal(&nonce, &[1], b"md", &mut a, &mut ta[..tl])?;
                let (mut b, mut tb) = (std::vec![0u8; len], [0u8; 16]);
                key.seal_b2b(&nonce, &[1], b"md", &pt, &mut b, &mut tb[..tl])?;
                assert_eq!((&a, ta), (&b, tb), "{suite} {len}");
                let mut out = std::vec![0xeeu8; len];
                key.open_b2b(&nonce, &[1], b"md", &b, &mut out, &tb[..tl])?;
                assert_eq!(out, pt);
                let mut bad = tb;
                bad[0] ^= 1;
                let mut out = std::vec![0xeeu8; len];
                assert_eq!(
                    key.open_b2b(&nonce, &[1], b"md", &b, &mut out, &bad[..tl]),
                    Err(Error::AuthenticationFailed)
                );
                assert!(len == 0 || out != pt, "{suite} {len}: plaintext released");
            }
        }
        Ok(())
    }

    #[test]
    fn long_metadata_is_authenticated() -> Result<()> {
        each_backend!(long_metadata);
        Ok(())
    }

    fn long_metadata<B: Backend>() -> Result<()> {
        let key = AeadKey::<B>::new(CipherSuite::AesGcm128Sha256, &[7u8; 16])?;
        let meta = [0xabu8; MAX_INLINE_METADATA_LEN + 100];
        let nonce = [1u8; NONCE_LEN];
        let mut buf = *b"payload";
        let mut tag = [0u8; 16];
        let r = key.seal(&nonce, &[0x00], &meta, &mut buf, &mut tag);
        if cfg!(feature = "alloc") {
            r?;
            let mut bad = meta;
            bad[MAX_INLINE_METADATA_LEN + 50] ^= 1;
            let mut b2 = buf;
            assert_eq!(
                key.open(&nonce, &[0x00], &bad, &mut b2, &tag),
                Err(Error::AuthenticationFailed)
            );
            key.open(&nonce, &[0x00], &meta, &mut buf, &tag)?;
            assert_eq!(&buf, b"payload");
        } else {
            assert_eq!(r, Err(Error::MetadataTooLong));
        }
        Ok(())
    }
}
