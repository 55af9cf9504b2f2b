//! RustCrypto backend (default): `aes`, `ctr`, `hmac`, `sha2`, `hkdf`, `aes-gcm`.
//! `no_std`, no allocation, and the backend used for WebAssembly.

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::inout::InOutBuf;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use zeroize::Zeroize;

use super::sealed::{AesCtrOps, GcmOps, HmacOps, Primitives};
use super::{Backend, Prk};
use crate::error::{Error, Result};
use crate::suite::{HashAlg, NONCE_LEN};

/// The RustCrypto backend: `aes` (AES-NI / ARMv8 detected at run time, constant-time bitsliced
/// software otherwise), `ctr`, `hmac`, `sha2`, `aes-gcm`. Pure Rust, `no_std`, no allocation;
/// the backend for WebAssembly and embedded targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RustCrypto;

impl Backend for RustCrypto {
    const NAME: &'static str = "rustcrypto";
}

impl Primitives for RustCrypto {
    type AesCtr = AesCtr;
    type Hmac = HmacSha;
    type Gcm = Gcm;
}

/// AES-128 or AES-256 key schedule (zeroized on drop by `aes`'s `zeroize` feature).
pub enum AesCtr {
    Aes128(aes::Aes128),
    Aes256(aes::Aes256),
}

impl AesCtrOps for AesCtr {
    /// A 16-byte key selects AES-128, a 32-byte key AES-256.
    fn new(key: &[u8]) -> Result<Self> {
        match key.len() {
            16 => aes::Aes128::new_from_slice(key).map(AesCtr::Aes128),
            32 => aes::Aes256::new_from_slice(key).map(AesCtr::Aes256),
            _ => return Err(Error::InvalidKey),
        }
        .map_err(|_| Error::InvalidKey)
    }

    fn apply_keystream(&self, iv: &[u8; 16], buf: &mut [u8]) -> Result<()> {
        // A 128-bit counter cannot run out within one frame (`usize` bytes); should it ever,
        // the error stops the frame rather than leave bytes unencrypted.
        match self {
            AesCtr::Aes128(k) => ctr_of(k.clone(), iv).try_apply_keystream(buf),
            AesCtr::Aes256(k) => ctr_of(k.clone(), iv).try_apply_keystream(buf),
        }
        .map_err(|_| Error::BufferTooSmall)
    }

    /// `output = input XOR keystream` (same length), in one pass.
    fn apply_keystream_b2b(&self, iv: &[u8; 16], input: &[u8], output: &mut [u8]) -> Result<()> {
        match self {
            AesCtr::Aes128(k) => ctr_of(k.clone(), iv).try_apply_keystream_b2b(input, output),
            AesCtr::Aes256(k) => ctr_of(k.clone(), iv).try_apply_keystream_b2b(input, output),
        }
        .map_err(|_| Error::BufferTooSmall)
    }
}

/// AES-CTR with a 128-bit big-endian counter starting at `iv`, over a precomputed schedule.
fn ctr_of<C>(cipher: C, iv: &[u8; 16]) -> ctr::Ctr128BE<C>
where
    C: aes::cipher::BlockCipherEncrypt
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    ctr::Ctr128BE::from_core(ctr::CtrCore::inner_iv_init(cipher, iv.into()))
}

/// HMAC-SHA256 or HMAC-SHA512 with the key already absorbed (zeroized on drop by `hmac`'s
/// `zeroize` feature).
pub enum HmacSha {
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl HmacOps for HmacSha {
    fn new(hash: HashAlg, key: &[u8]) -> Result<Self> {
        match hash {
            HashAlg::Sha256 => <Hmac<Sha256> as KeyInit>::new_from_slice(key).map(HmacSha::Sha256),
            HashAlg::Sha512 => <Hmac<Sha512> as KeyInit>::new_from_slice(key).map(HmacSha::Sha512),
        }
        .map_err(|_| Error::InvalidKey)
    }

    /// The MAC over the concatenation of `parts`: 32 bytes (SHA-256, zero-padded) or 64.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut out = [0u8; 64];
        match self {
            HmacSha::Sha256(k) => {
                let mut m = k.clone();
                parts.iter().for_each(|p| m.update(p));
                out[..32].copy_from_slice(&m.finalize().into_bytes());
            }
            HmacSha::Sha512(k) => {
                let mut m = k.clone();
                parts.iter().for_each(|p| m.update(p));
                out.copy_from_slice(&m.finalize().into_bytes());
            }
        }
        out
    }
}

/// AES-GCM with a 16-byte tag; 128- or 256-bit key.
pub enum Gcm {
    Aes128(aes_gcm::Aes128Gcm),
    Aes256(aes_gcm::Aes256Gcm),
}

impl GcmOps for Gcm {
    fn new(key: &[u8]) -> Result<Self> {
        match key.len() {
            16 => aes_gcm::Aes128Gcm::new_from_slice(key).map(Gcm::Aes128),
            32 => aes_gcm::Aes256Gcm::new_from_slice(key).map(Gcm::Aes256),
            _ => return Err(Error::InvalidKey),
        }
        .map_err(|_| Error::InvalidKey)
    }

    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16]> {
        self.seal_inout(nonce, aad, buf.into())
    }

    /// Seals `input` into `output` (same length) in one pass; returns the tag.
    fn seal_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
    ) -> Result<[u8; 16]> {
        let buf = InOutBuf::new(input, output).map_err(|_| Error::BufferTooSmall)?;
        self.seal_inout(nonce, aad, buf)
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> Result<()> {
        // aes-gcm checks the tag over the ciphertext before it decrypts a byte.
        self.open_inout(nonce, aad, buf.into(), tag)
    }

    /// Verifies `input` and decrypts it into `output` (same length). On failure `output` is
    /// not written.
    fn open_b2b(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        input: &[u8],
        output: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        let buf = InOutBuf::new(input, output).map_err(|_| Error::BufferTooSmall)?;
        self.open_inout(nonce, aad, buf, tag)
    }
}

impl Gcm {
    fn seal_inout(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: InOutBuf<'_, '_, u8>,
    ) -> Result<[u8; 16]> {
        let n = aes_gcm::Nonce::from(*nonce);
        let tag = match self {
            Gcm::Aes128(c) => c.encrypt_inout_detached(&n, aad, buf),
            Gcm::Aes256(c) => c.encrypt_inout_detached(&n, aad, buf),
        }
        .map_err(|_| Error::BufferTooSmall)?;
        Ok(tag.into())
    }

    fn open_inout(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: InOutBuf<'_, '_, u8>,
        tag: &[u8],
    ) -> Result<()> {
        let n = aes_gcm::Nonce::from(*nonce);
        let tag = aes_gcm::Tag::try_from(tag).map_err(|_| Error::MalformedFrame)?;
        match self {
            Gcm::Aes128(c) => c.decrypt_inout_detached(&n, aad, buf, &tag),
            Gcm::Aes256(c) => c.decrypt_inout_detached(&n, aad, buf, &tag),
        }
        .map_err(|_| Error::AuthenticationFailed)
    }
}

pub(crate) fn hkdf_extract(hash: HashAlg, salt: &[u8], ikm: &[u8]) -> Prk {
    match hash {
        HashAlg::Sha256 => {
            let (mut prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(salt), ikm);
            let out = Prk::new(&prk);
            prk.as_mut_slice().zeroize();
            out
        }
        HashAlg::Sha512 => {
            let (mut prk, _) = hkdf::Hkdf::<Sha512>::extract(Some(salt), ikm);
            let out = Prk::new(&prk);
            prk.as_mut_slice().zeroize();
            out
        }
    }
}

pub(crate) fn hkdf_expand(hash: HashAlg, prk: &Prk, info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    match hash {
        HashAlg::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(prk.as_bytes())
            .map_err(|_| Error::InvalidKey)?
            .expand_multi_info(info, out),
        HashAlg::Sha512 => hkdf::Hkdf::<Sha512>::from_prk(prk.as_bytes())
            .map_err(|_| Error::InvalidKey)?
            .expand_multi_info(info, out),
    }
    .map_err(|_| Error::InvalidKey)
}
