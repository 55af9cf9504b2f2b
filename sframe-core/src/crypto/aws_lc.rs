//! aws-lc-rs backend (feature `aws-lc`): AES-GCM, AES-CTR, HMAC-SHA256 and HKDF from AWS-LC,
//! the BoringSSL-derived library with hand-written AES-NI/VAES/PCLMUL/AVX-512 assembly.
//! `std` targets only (it links C and assembly built by `aws-lc-sys`).
//!
//! Key schedules are built once, when a key is installed: the `EVP_AEAD_CTX` (expanded AES key
//! and GHASH table), the `AES_KEY` for CTR, and the HMAC context with the key's inner and outer
//! pads absorbed. Per frame there is only the primitive's own work.
//!
//! Zeroization: aws-lc-rs wipes the `AES_KEY` schedules in its `Drop` (`zeroize`), frees the
//! `EVP_AEAD_CTX` with `EVP_AEAD_CTX_free` (AWS-LC cleanses the AEAD state before freeing) and
//! releases HMAC contexts with `HMAC_CTX_cleanup` (which cleanses them). The PRK and derived
//! key bytes that pass through this module live in zeroizing buffers owned by the caller.
//!
//! Failed opens: AWS-LC's AES-GCM open decrypts while it authenticates and, when the tag does
//! not match, overwrites the output with zeros (`EVP_AEAD_CTX_open_gather`). The core promises
//! that a frame that fails to unprotect is left exactly as it was, so [`Gcm::open`] saves the
//! ciphertext first and puts it back on failure (see `keep_on_failure`). The CTR+HMAC suites
//! need nothing of the kind: the HMAC is checked before a byte is decrypted.

use core::cell::RefCell;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use std::boxed::Box;
use std::vec::Vec;

use super::Backend;
use super::sealed::{AesCtrOps, GcmOps, HmacOps, Primitives};
use crate::error::{Error, Result};
use crate::suite::{HashAlg, NONCE_LEN};

/// The aws-lc-rs backend (feature `aws-lc`): AWS-LC's AES-GCM, AES-CTR and HMAC, with
/// hand-written AES-NI/VAES/PCLMUL/AVX-512 (x86_64) and ARMv8 crypto-extension assembly.
/// `std` targets only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(all(feature = "aws-lc", not(target_family = "wasm")))))]
pub struct AwsLc;

impl Backend for AwsLc {
    const NAME: &'static str = "aws-lc";
}

impl Primitives for AwsLc {
    type AesCtr = AesCtr;
    type Hmac = HmacSha;
    type Gcm = Gcm;
}

/// AES-128 or AES-256 in CTR mode with the encryption key schedule precomputed. Boxed (as is the HMAC
/// context): aws-lc-rs keeps both AES schedules and the HMAC state inline, ~1.7 KB per key,
/// which would otherwise bloat every key-store slot.
pub struct AesCtr(Box<EncryptingKey>);

impl AesCtrOps for AesCtr {
    /// A 16-byte key selects AES-128, a 32-byte key AES-256.
    fn new(key: &[u8]) -> Result<Self> {
        let alg = match key.len() {
            16 => &AES_128,
            32 => &AES_256,
            _ => return Err(Error::InvalidKey),
        };
        let key = UnboundCipherKey::new(alg, key).map_err(|_| Error::InvalidKey)?;
        EncryptingKey::ctr(key)
            .map(|k| AesCtr(Box::new(k)))
            .map_err(|_| Error::InvalidKey)
    }

    /// XORs the keystream for initial counter block `iv` into `buf`. AWS-LC increments the
    /// low 32 bits and carries into the upper 96 (`CRYPTO_ctr128_encrypt_ctr32`), i.e. a
    /// 128-bit big-endian counter, as §4.5.1 requires.
    fn apply_keystream(&self, iv: &[u8; 16], buf: &mut [u8]) -> Result<()> {
        let ctx = EncryptionContext::Iv128(FixedLength::from(*iv));
        self.0
            .less_safe_encrypt(buf, ctx)
            .map(|_| ())
            .map_err(|_| Error::InvalidKey)
    }

    /// `output = input XOR keystream`. aws-lc-rs only encrypts in place: copy, then encrypt.
    fn apply_keystream_b2b(&self, iv: &[u8; 16], input: &[u8], output: &mut [u8]) -> Result<()> {
        if input.len() != output.len() {
            return Err(Error::BufferTooSmall);
        }
        output.copy_from_slice(input);
        self.apply_keystream(iv, output)
    }
}

/// HMAC-SHA256 or HMAC-SHA512 with the key's pads already absorbed (`HMAC_CTX`, copied per
/// message).
pub struct HmacSha(Box<hmac::Key>);

impl HmacOps for HmacSha {
    fn new(hash: HashAlg, key: &[u8]) -> Result<Self> {
        Ok(HmacSha(Box::new(hmac::Key::new(hmac_alg(hash), key))))
    }

    /// The MAC over the concatenation of `parts`: 32 bytes (SHA-256, zero-padded) or 64.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut ctx = hmac::Context::with_key(&self.0);
        for p in parts {
            ctx.update(p);
        }
        let tag = ctx.sign();
        let mut out = [0u8; 64];
        let n = tag.as_ref().len().min(64);
        if let (Some(dst), Some(src)) = (out.get_mut(..n), tag.as_ref().get(..n)) {
            dst.copy_from_slice(src);
        }
        out
    }
}

/// AES-128/256-GCM with a 16-byte tag (`EVP_AEAD_CTX`, key schedule and GHASH table
/// precomputed).
pub struct Gcm(LessSafeKey);

impl GcmOps for Gcm {
    fn new(key: &[u8]) -> Result<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            _ => return Err(Error::InvalidKey),
        };
        UnboundKey::new(alg, key)
            .map(|k| Gcm(LessSafeKey::new(k)))
            .map_err(|_| Error::InvalidKey)
    }

    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16]> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), buf)
            .map_err(|_| Error::BufferTooSmall)?;
        tag.as_ref().try_into().map_err(|_| Error::BufferTooSmall)
    }

    /// Seals `input` into `output` (same length) in one pass; returns the tag.
    fn seal_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<[u8; 16]> {
        let mut tag = [0u8; 16];
        self.0
            .seal_out_of_place_scatter(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                input,
                output,
                &[],
                &mut tag,
            )
            .map_err(|_| Error::BufferTooSmall)?;
        Ok(tag)
    }

    /// Verifies `input` and decrypts it into `output` (same length). On failure aws-lc zeroes
    /// `output`; `input` is never written, so no copy is needed here.
    fn open_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        if tag.len() != 16 {
            return Err(Error::MalformedFrame);
        }
        if input.len() != output.len() {
            return Err(Error::BufferTooSmall);
        }
        self.0
            .open_separate_gather(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                input,
                tag,
                output,
            )
            .map_err(|_| Error::AuthenticationFailed)
    }

    /// Verifies and decrypts in place. On failure `buf` holds the ciphertext it came with.
    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        if tag.len() != 16 {
            return Err(Error::MalformedFrame);
        }
        keep_on_failure(buf, |buf| {
            self.0
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    buf,
                )
                .map(|_| ())
                .map_err(|_| Error::AuthenticationFailed)
        })
    }
}

/// Frames up to this size are saved on the stack; larger ones in a per-thread buffer.
const SMALL: usize = 256;
const MEDIUM: usize = 2048;
/// The per-thread buffer is not kept above this capacity (a one-off huge frame does not pin
/// its size for the thread's lifetime).
const RETAIN_MAX: usize = 1 << 20;

std::thread_local! {
    /// Saved ciphertext of large frames (public bytes: nothing secret is ever stored here).
    static SAVED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `open` on `buf`; if it fails, puts back the bytes `buf` had before (AWS-LC zeroes its
/// output on a tag mismatch). Costs one copy of the ciphertext on every call. No allocation
/// for frames up to `MEDIUM` bytes; larger frames reuse a per-thread buffer.
fn keep_on_failure(buf: &mut [u8], open: impl FnOnce(&mut [u8]) -> Result<()>) -> Result<()> {
    fn on_stack<const N: usize>(
        buf: &mut [u8],
        open: impl FnOnce(&mut [u8]) -> Result<()>,
    ) -> Result<()> {
        let mut saved = [0u8; N];
        let saved = saved.get_mut(..buf.len()).ok_or(Error::BufferTooSmall)?;
        saved.copy_from_slice(buf);
        open(buf).inspect_err(|_| buf.copy_from_slice(saved))
    }
    fn in_vec(
        saved: &mut Vec<u8>,
        buf: &mut [u8],
        open: impl FnOnce(&mut [u8]) -> Result<()>,
    ) -> Result<()> {
        saved.clear();
        saved.extend_from_slice(buf);
        let r = open(buf).inspect_err(|_| buf.copy_from_slice(saved));
        if saved.capacity() > RETAIN_MAX {
            *saved = Vec::new();
        }
        r
    }

    if buf.len() <= SMALL {
        return on_stack::<SMALL>(buf, open);
    }
    if buf.len() <= MEDIUM {
        return on_stack::<MEDIUM>(buf, open);
    }
    let mut open = Some(open);
    let via_tls = SAVED.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .and_then(|mut saved| open.take().map(|f| in_vec(&mut saved, buf, f)))
    });
    match (via_tls, open) {
        (Ok(Some(r)), _) => r,
        // Thread-local gone (thread teardown) or busy: a one-off buffer.
        (_, Some(f)) => in_vec(&mut Vec::new(), buf, f),
        (_, None) => Err(Error::AuthenticationFailed),
    }
}

fn hmac_alg(hash: HashAlg) -> hmac::Algorithm {
    match hash {
        HashAlg::Sha256 => hmac::HMAC_SHA256,
        HashAlg::Sha512 => hmac::HMAC_SHA512,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why `keep_on_failure` exists: AWS-LC does write to the buffer when a tag does not
    /// match. If this ever stops failing, the copy can go.
    #[test]
    fn aws_lc_overwrites_buffer_on_failed_open()
    -> core::result::Result<(), aws_lc_rs::error::Unspecified> {
        let key = LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &[3u8; 16])?);
        let nonce = [5u8; NONCE_LEN];
        let mut buf = [0x11u8; 100];
        let tag = key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut buf,
        )?;
        let ct = buf;
        let mut bad = [0u8; 16];
        bad.copy_from_slice(tag.as_ref());
        bad[0] ^= 1;
        assert!(
            key.open_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &bad,
                &mut buf
            )
            .is_err()
        );
        assert_ne!(buf, ct, "aws-lc left the buffer alone");
        Ok(())
    }

    #[test]
    fn failed_open_restores_every_size_class() -> Result<()> {
        let gcm = Gcm::new(&[9u8; 32])?;
        let nonce = [1u8; NONCE_LEN];
        for len in [0, 1, SMALL, SMALL + 1, MEDIUM, MEDIUM + 1, 100_000] {
            let mut buf: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut tag = gcm.seal(&nonce, b"aad", &mut buf)?;
            let ct = buf.clone();
            tag[15] ^= 0x80;
            assert_eq!(
                gcm.open(&nonce, b"aad", &mut buf, &tag),
                Err(Error::AuthenticationFailed)
            );
            assert_eq!(buf, ct, "len {len}");
            tag[15] ^= 0x80;
            gcm.open(&nonce, b"aad", &mut buf, &tag)?;
            assert!(buf.iter().enumerate().all(|(i, b)| *b == i as u8));
        }
        Ok(())
    }
}
