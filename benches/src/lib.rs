//! Benchmark support for `cargo bench -p benches`: the raw-AEAD floors that the
//! SFrame benchmarks are measured against.
//!
//! A floor does exactly the AEAD work of one SFrame frame and nothing else: AES-GCM, or the
//! §4.5.1 AES-CTR + HMAC composition (AES-128 + HMAC-SHA256 for suites 1-3, AES-256 +
//! HMAC-SHA512 for suites 6-8), with the key schedule precomputed and the nonce
//! given, over the same header bytes as AAD. No header encoding or parsing, no key lookup, no
//! counter or replay bookkeeping, no buffer management. The unit tests below check that every
//! floor's output is byte-for-byte the ciphertext and tag that `sframe_core::Sender` produces
//! with every backend, so a floor cannot quietly do less work than we do.
//!
//! [`RustCryptoFloor`] uses the RustCrypto crates (`aes-gcm`, `aes` + `ctr` + `hmac`),
//! [`AwsLcFloor`] uses `aws-lc-rs`. [`BenchBackend::Floor`] pairs each sframe-core backend
//! with the floor of the same crypto library, so one benchmark run measures both backends, each
//! against its own floor.

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes_gcm::aead::AeadInOut;
use hmac::{Hmac, Mac};
use sframe_core::{AwsLc, Backend, CipherSuite, RustCrypto};
use sha2::{Sha256, Sha512};

/// Nonce length of every SFrame suite.
pub const NONCE_LEN: usize = 12;

/// A raw-AEAD floor: one suite's AEAD keyed with `sframe_key`, nothing else.
pub trait Floor: Sized {
    /// `key` is the suite's `Nk` bytes (`sframe_key`); for the CTR suites the first
    /// `enc_key_len()` bytes are the AES key and the rest the HMAC key (§4.5.1).
    fn new(suite: CipherSuite, key: &[u8]) -> Self;
    /// Encrypts `buf` in place; writes the tag (`Nt` bytes) to `tag`.
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &mut [u8]);
    /// Verifies `tag` and decrypts `buf` in place; `false` if the tag does not match.
    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool;
}

/// An sframe-core backend with the floor of the same crypto library.
pub trait BenchBackend: Backend {
    /// The raw AEAD this backend's per-frame path is compared with.
    type Floor: Floor;
}

impl BenchBackend for RustCrypto {
    type Floor = RustCryptoFloor;
}

impl BenchBackend for AwsLc {
    type Floor = AwsLcFloor;
}

/// §4.5.1 tag input prefix: BE64(len(aad)) ‖ BE64(len(ct)) ‖ BE64(Nt).
fn ctr_lens(aad_len: usize, ct_len: usize, tag_len: usize) -> [u8; 24] {
    let mut lens = [0u8; 24];
    lens[..8].copy_from_slice(&(aad_len as u64).to_be_bytes());
    lens[8..16].copy_from_slice(&(ct_len as u64).to_be_bytes());
    lens[16..].copy_from_slice(&(tag_len as u64).to_be_bytes());
    lens
}

fn ctr_iv(nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..NONCE_LEN].copy_from_slice(nonce);
    iv
}

/// Raw AEAD with the RustCrypto crates.
pub enum RustCryptoFloor {
    /// AES-128-GCM.
    Gcm128(aes_gcm::Aes128Gcm),
    /// AES-256-GCM.
    Gcm256(aes_gcm::Aes256Gcm),
    /// AES-128-CTR + HMAC-SHA256 truncated to `tag_len` (suites 1-3).
    CtrHmac {
        /// AES-128 key schedule.
        aes: aes::Aes128,
        /// HMAC with the key absorbed.
        mac: Hmac<Sha256>,
        /// Nt.
        tag_len: usize,
    },
    /// AES-256-CTR + HMAC-SHA512 truncated to `tag_len` (suites 6-8).
    CtrHmac256 {
        /// AES-256 key schedule.
        aes: aes::Aes256,
        /// HMAC with the key absorbed.
        mac: Hmac<Sha512>,
        /// Nt.
        tag_len: usize,
    },
}

impl Floor for RustCryptoFloor {
    fn new(suite: CipherSuite, key: &[u8]) -> Self {
        let (enc, auth) = key.split_at(suite.enc_key_len());
        let tag_len = suite.tag_len();
        match suite {
            CipherSuite::AesGcm128Sha256 => {
                Self::Gcm128(aes_gcm::Aes128Gcm::new_from_slice(key).unwrap())
            }
            CipherSuite::AesGcm256Sha512 => {
                Self::Gcm256(aes_gcm::Aes256Gcm::new_from_slice(key).unwrap())
            }
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => Self::CtrHmac {
                aes: aes::Aes128::new_from_slice(enc).unwrap(),
                mac: <Hmac<Sha256> as KeyInit>::new_from_slice(auth).unwrap(),
                tag_len,
            },
            CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => Self::CtrHmac256 {
                aes: aes::Aes256::new_from_slice(enc).unwrap(),
                mac: <Hmac<Sha512> as KeyInit>::new_from_slice(auth).unwrap(),
                tag_len,
            },
        }
    }

    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) {
        let n = aes_gcm::Nonce::from(*nonce);
        match self {
            Self::Gcm128(c) => {
                tag.copy_from_slice(&c.encrypt_inout_detached(&n, aad, buf.into()).unwrap())
            }
            Self::Gcm256(c) => {
                tag.copy_from_slice(&c.encrypt_inout_detached(&n, aad, buf.into()).unwrap())
            }
            Self::CtrHmac { aes, mac, tag_len } => {
                Self::ctr(aes, nonce, buf);
                let full = Self::mac(mac, *tag_len, nonce, aad, buf)
                    .finalize()
                    .into_bytes();
                tag.copy_from_slice(&full[..*tag_len]);
            }
            Self::CtrHmac256 { aes, mac, tag_len } => {
                Self::ctr(aes, nonce, buf);
                let full = Self::mac(mac, *tag_len, nonce, aad, buf)
                    .finalize()
                    .into_bytes();
                tag.copy_from_slice(&full[..*tag_len]);
            }
        }
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        let n = aes_gcm::Nonce::from(*nonce);
        match self {
            Self::Gcm128(c) => c
                .decrypt_inout_detached(&n, aad, buf.into(), tag.try_into().unwrap())
                .is_ok(),
            Self::Gcm256(c) => c
                .decrypt_inout_detached(&n, aad, buf.into(), tag.try_into().unwrap())
                .is_ok(),
            Self::CtrHmac { aes, mac, tag_len } => {
                let ok = Self::mac(mac, *tag_len, nonce, aad, buf)
                    .verify_truncated_left(tag)
                    .is_ok();
                if ok {
                    Self::ctr(aes, nonce, buf);
                }
                ok
            }
            Self::CtrHmac256 { aes, mac, tag_len } => {
                let ok = Self::mac(mac, *tag_len, nonce, aad, buf)
                    .verify_truncated_left(tag)
                    .is_ok();
                if ok {
                    Self::ctr(aes, nonce, buf);
                }
                ok
            }
        }
    }
}

impl RustCryptoFloor {
    fn ctr<C>(aes: &C, nonce: &[u8; NONCE_LEN], buf: &mut [u8])
    where
        C: aes::cipher::BlockCipherEncrypt
            + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>
            + Clone,
    {
        let core = ctr::CtrCore::inner_iv_init(aes.clone(), &ctr_iv(nonce).into());
        ctr::Ctr128BE::<C>::from_core(core).apply_keystream(buf);
    }

    fn mac<M: Mac + Clone>(
        mac: &M,
        tag_len: usize,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ct: &[u8],
    ) -> M {
        let mut m = mac.clone();
        m.update(&ctr_lens(aad.len(), ct.len(), tag_len));
        m.update(nonce);
        m.update(aad);
        m.update(ct);
        m
    }
}

/// Raw AEAD with aws-lc-rs.
#[allow(clippy::large_enum_variant)] // a handful of instances, kept inline on purpose
pub enum AwsLcFloor {
    /// AES-128/256-GCM.
    Gcm(aws_lc_rs::aead::LessSafeKey),
    /// AES-CTR + HMAC truncated to `tag_len`: AES-128 + HMAC-SHA256 (suites 1-3) or AES-256 +
    /// HMAC-SHA512 (suites 6-8).
    CtrHmac {
        /// AES-CTR key.
        aes: aws_lc_rs::cipher::EncryptingKey,
        /// HMAC key (pads absorbed).
        mac: aws_lc_rs::hmac::Key,
        /// Nt.
        tag_len: usize,
    },
}

impl Floor for AwsLcFloor {
    fn new(suite: CipherSuite, key: &[u8]) -> Self {
        use aws_lc_rs::{aead, cipher, hmac};
        match suite {
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => {
                let alg = if key.len() == 16 {
                    &aead::AES_128_GCM
                } else {
                    &aead::AES_256_GCM
                };
                Self::Gcm(aead::LessSafeKey::new(
                    aead::UnboundKey::new(alg, key).unwrap(),
                ))
            }
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32
            | CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => {
                let (enc, auth) = key.split_at(suite.enc_key_len());
                let aes = match enc.len() {
                    32 => &cipher::AES_256,
                    _ => &cipher::AES_128,
                };
                let mac = match suite.hash_name() {
                    "SHA-512" => hmac::HMAC_SHA512,
                    _ => hmac::HMAC_SHA256,
                };
                Self::CtrHmac {
                    aes: cipher::EncryptingKey::ctr(
                        cipher::UnboundCipherKey::new(aes, enc).unwrap(),
                    )
                    .unwrap(),
                    mac: hmac::Key::new(mac, auth),
                    tag_len: suite.tag_len(),
                }
            }
        }
    }

    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) {
        use aws_lc_rs::aead::{Aad, Nonce};
        match self {
            Self::Gcm(k) => {
                let t = k
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(*nonce),
                        Aad::from(aad),
                        buf,
                    )
                    .unwrap();
                tag.copy_from_slice(t.as_ref());
            }
            Self::CtrHmac { aes, mac, tag_len } => {
                Self::ctr(aes, nonce, buf);
                let full = Self::mac(mac, *tag_len, nonce, aad, buf);
                tag.copy_from_slice(&full.as_ref()[..*tag_len]);
            }
        }
    }

    /// For GCM, `buf` is overwritten when the tag does not match, as aws-lc does.
    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        use aws_lc_rs::aead::{Aad, Nonce};
        match self {
            Self::Gcm(k) => k
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    buf,
                )
                .is_ok(),
            Self::CtrHmac { aes, mac, tag_len } => {
                let full = Self::mac(mac, *tag_len, nonce, aad, buf);
                let ok = aws_lc_rs::constant_time::verify_slices_are_equal(
                    &full.as_ref()[..*tag_len],
                    tag,
                )
                .is_ok();
                if ok {
                    Self::ctr(aes, nonce, buf);
                }
                ok
            }
        }
    }
}

impl AwsLcFloor {
    fn ctr(aes: &aws_lc_rs::cipher::EncryptingKey, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) {
        use aws_lc_rs::cipher::EncryptionContext;
        use aws_lc_rs::iv::FixedLength;
        aes.less_safe_encrypt(
            buf,
            EncryptionContext::Iv128(FixedLength::from(ctr_iv(nonce))),
        )
        .unwrap();
    }

    fn mac(
        mac: &aws_lc_rs::hmac::Key,
        tag_len: usize,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ct: &[u8],
    ) -> aws_lc_rs::hmac::Tag {
        let mut m = aws_lc_rs::hmac::Context::with_key(mac);
        m.update(&ctr_lens(aad.len(), ct.len(), tag_len));
        m.update(nonce);
        m.update(aad);
        m.update(ct);
        m.sign()
    }
}

/// `sframe_salt XOR BE(ctr)`, §4.4.3.
pub fn nonce(salt: &[u8; NONCE_LEN], ctr: u64) -> [u8; NONCE_LEN] {
    let mut n = *salt;
    for (b, c) in n[NONCE_LEN - 8..].iter_mut().zip(ctr.to_be_bytes()) {
        *b ^= c;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use sframe_core::hazmat::derive_key_and_salt;
    use sframe_core::{DefaultBackend, Header, Receiver, Sender};

    /// Both floors compute exactly the bytes sframe-core puts on the wire with `backend`, and
    /// `backend`'s own floor (the one its benches compare with) opens them.
    fn floors_match<B: BenchBackend>(backend: B) {
        for suite in CipherSuite::ALL {
            let (kid, base) = (3u64, [0x61u8; 16]);
            let (key, salt) = derive_key_and_salt(suite, kid, &base).unwrap();
            let key = &key[..suite.key_len()];
            let mut tx = Sender::with_backend(backend, suite);
            tx.set_key_with_counter(kid, &base, sframe_core::Counter(1000))
                .unwrap();
            let name = format!("{} {suite}", B::NAME);
            for len in [0usize, 64, 1200, 10 * 1024] {
                let pt: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
                let frame = tx.protect_vec(b"", &pt).unwrap();
                let (header, hlen) = Header::parse(&frame).unwrap();
                let n = nonce(&salt, header.counter());
                let tag_len = suite.tag_len();

                let hdr = &frame[..hlen];
                let seal_with = |seal: &dyn Fn(&mut [u8], &mut [u8])| {
                    let (mut buf, mut tag) = (pt.clone(), vec![0u8; tag_len]);
                    seal(&mut buf, &mut tag);
                    (buf, tag)
                };
                let rc = RustCryptoFloor::new(suite, key);
                let al = AwsLcFloor::new(suite, key);
                for (ct, tag) in [
                    seal_with(&|b, t| rc.seal(&n, hdr, b, t)),
                    seal_with(&|b, t| al.seal(&n, hdr, b, t)),
                ] {
                    assert_eq!(ct, frame[hlen..frame.len() - tag_len], "{name} {len} ct");
                    assert_eq!(tag, frame[frame.len() - tag_len..], "{name} {len} tag");
                }

                let floor = B::Floor::new(suite, key);
                let mut buf = frame[hlen..frame.len() - tag_len].to_vec();
                let mut bad = frame[frame.len() - tag_len..].to_vec();
                bad[0] ^= 1;
                assert!(!floor.open(&n, hdr, &mut buf.clone(), &bad), "{name} {len}");
                assert!(floor.open(&n, hdr, &mut buf, &frame[frame.len() - tag_len..]));
                assert_eq!(buf, pt, "{name} {len} open");

                let mut rx = Receiver::with_backend(backend, suite);
                rx.add_key(kid, &base).unwrap();
                assert_eq!(rx.unprotect_vec(b"", &frame).unwrap(), pt, "{name} {len}");
            }
        }
    }

    #[test]
    fn floors_match_sframe_core_byte_for_byte() {
        floors_match(RustCrypto);
        floors_match(AwsLc);
    }

    /// The `default/…` benchmarks measure what `cargo add sframe-core` gives: this crate takes
    /// sframe-core's default features, whose `DefaultBackend` is aws-lc on native targets.
    #[test]
    fn default_backend_is_aws_lc() {
        assert_eq!(<DefaultBackend as Backend>::NAME, "aws-lc");
        assert_eq!(
            Sender::new(CipherSuite::AesGcm128Sha256).backend(),
            "aws-lc"
        );
    }
}
