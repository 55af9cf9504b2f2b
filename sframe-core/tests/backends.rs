//! Backends are values, and features only add them: a program can use RustCrypto
//! and aws-lc side by side, each named explicitly, whatever features the build unified.
//! Run with `--all-features` (stage 10) to exercise both in one run.

use std::sync::atomic::{AtomicU64, Ordering};

use sframe_core::hazmat::{Aead, derive_key_and_salt};
use sframe_core::{
    Backend, CipherSuite, DefaultBackend, Error, FixedKeyStore, Header, Key, Receiver, RustCrypto,
    Sender,
};

const BASE: &[u8] = b"sixteen+ byte base key";

/// A base key no other sender of this process has used: senders claim their keys
/// process-wide, and cargo runs these tests in parallel in one process.
fn fresh_key() -> Vec<u8> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "backends base key #{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

/// A frame protected with backend `T` (under a fresh key, counter 0), checked by a receiver of
/// backend `R`, and sealed again by `R`'s AEAD from the same key, nonce and AAD: the same bytes.
fn cross<T: Backend, R: Backend>(suite: CipherSuite, len: usize) {
    let base = fresh_key();
    let mut tx = Sender::with_backend(T::default(), suite);
    tx.set_key(0x77, &base).unwrap();
    assert_eq!(tx.backend(), T::NAME);
    let pt: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
    let frame = tx.protect_vec(b"meta", &pt).unwrap();
    let mut rx = Receiver::with_backend(R::default(), suite);
    assert_eq!(rx.backend(), R::NAME);
    rx.add_key(0x77, &base).unwrap();
    let mut bad = frame.clone();
    if let Some(b) = bad.last_mut() {
        *b ^= 1;
    }
    assert_eq!(
        rx.unprotect_vec(b"meta", &bad),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(rx.unprotect_vec(b"meta", &frame).unwrap(), pt);

    // Byte for byte: `R`'s AEAD, keyed with the §4.4.2 key, at counter 0 (nonce = salt),
    // AAD = header ‖ metadata (§4.4.3).
    let (header, header_len) = Header::parse(&frame).unwrap();
    assert_eq!((header.key_id(), header.counter()), (0x77, 0));
    let (key, salt) = derive_key_and_salt(suite, 0x77, &base).unwrap();
    let mut aad = frame[..header_len].to_vec();
    aad.extend_from_slice(b"meta");
    let mut sealed = pt.clone();
    let mut tag = vec![0u8; suite.tag_len()];
    Aead::new_with(R::default(), suite, &key[..suite.key_len()])
        .unwrap()
        .seal(&salt[..], &aad, &mut sealed, &mut tag)
        .unwrap();
    sealed.extend_from_slice(&tag);
    assert_eq!(
        &frame[header_len..],
        &sealed[..],
        "{suite} {len}: {} and {} differ",
        T::NAME,
        R::NAME
    );
}

#[test]
fn rustcrypto_is_always_there_and_named() {
    let tx = Sender::with_backend(RustCrypto, CipherSuite::AesGcm128Sha256);
    assert_eq!(tx.backend(), "rustcrypto");
    let rx = Receiver::<FixedKeyStore<2, RustCrypto>>::with_store(CipherSuite::AesGcm128Sha256);
    assert_eq!(rx.backend(), "rustcrypto");
    let key = Key::derive_with(RustCrypto, CipherSuite::AesGcm128Sha256, 1, BASE).unwrap();
    assert_eq!(key.backend(), "rustcrypto");
    // The default types use DefaultBackend.
    assert_eq!(
        Sender::new(CipherSuite::AesGcm128Sha256).backend(),
        DefaultBackend::NAME
    );
    assert_eq!(sframe_core::BACKEND, DefaultBackend::NAME);
}

#[test]
fn rustcrypto_round_trips_every_suite() {
    for suite in CipherSuite::ALL {
        for len in [0, 1, 1200, 10 * 1024] {
            cross::<RustCrypto, RustCrypto>(suite, len);
        }
    }
}

#[cfg(feature = "aws-lc")]
mod with_aws_lc {
    use super::*;
    use sframe_core::AwsLc;

    #[test]
    fn aws_lc_is_the_default_when_enabled() {
        assert_eq!(DefaultBackend::NAME, "aws-lc");
        assert_eq!(AwsLc::NAME, "aws-lc");
    }

    /// Both backends in one program: identical bytes for identical input, and each opens the
    /// other's frames, for every suite and the size classes the backends treat differently.
    #[test]
    fn backends_interoperate_byte_for_byte() {
        for suite in CipherSuite::ALL {
            for len in [0, 1, 255, 257, 1200, 2049, 10 * 1024, 100 * 1024] {
                cross::<RustCrypto, AwsLc>(suite, len);
                cross::<AwsLc, RustCrypto>(suite, len);
            }
        }
    }

    /// Key material is one thing whatever backend runs it: a live RustCrypto sender and a
    /// live aws-lc sender may not share a key (both would count from 0: nonce reuse), and the
    /// counter a dropped one leaves is where the other resumes.
    #[test]
    fn one_key_one_sender_across_backends() {
        let suite = CipherSuite::AesGcm128Sha256;
        let mut a = Sender::with_backend(RustCrypto, suite);
        a.set_key(5, BASE).unwrap();
        a.protect_vec(b"", b"a").unwrap();
        let mut b = Sender::with_backend(AwsLc, suite);
        assert_eq!(b.set_key(5, BASE), Err(Error::KeyInUse));
        drop(a);
        b.set_key(5, BASE).unwrap();
        assert_eq!(b.next_counter(), Some(1), "resumed, not restarted");
        let ka = Key::derive_with(RustCrypto, suite, 5, BASE).unwrap();
        let kb = Key::derive_with(AwsLc, suite, 5, BASE).unwrap();
        assert_eq!(ka.fingerprint(), kb.fingerprint());
    }
}
