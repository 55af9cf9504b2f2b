//! Backends are values, and features only add them: a program can use RustCrypto
//! and aws-lc side by side, each named explicitly, whatever features the build unified.
//! Run with `--all-features` (stage 10) to exercise both in one run.

use sframe_core::{
    Backend, CipherSuite, Counter, DefaultBackend, Error, FixedKeyStore, Key, Receiver, RustCrypto,
    Sender, hazmat,
};

const BASE: &[u8] = b"sixteen+ byte base key";

/// A frame protected by a sender of backend `T` under `kid` (each test its own: tests run
/// concurrently, and a key is one live sender's), checked by a receiver of backend `R`.
/// Returns the frame's counter and the frame.
fn cross<T: Backend, R: Backend>(suite: CipherSuite, kid: u64, len: usize) -> (u64, Vec<u8>) {
    let mut tx = Sender::with_backend(T::default(), suite);
    tx.set_key(kid, BASE).unwrap();
    assert_eq!(tx.backend(), T::NAME);
    let pt = plaintext(len);
    let ctr = tx.next_counter().unwrap();
    let frame = tx.protect_vec(b"meta", &pt).unwrap();
    let mut rx = Receiver::with_backend(R::default(), suite);
    assert_eq!(rx.backend(), R::NAME);
    rx.add_key(kid, BASE).unwrap();
    let mut bad = frame.clone();
    if let Some(b) = bad.last_mut() {
        *b ^= 1;
    }
    assert_eq!(
        rx.unprotect_vec(b"meta", &bad),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(rx.unprotect_vec(b"meta", &frame).unwrap(), pt);
    (ctr, frame)
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 + 5) as u8).collect()
}

/// The frame backend `B` makes for `cross`'s inputs at counter `ctr`, with no state.
fn frame_at<B: Backend>(suite: CipherSuite, kid: u64, ctr: u64, len: usize) -> Vec<u8> {
    let pt = plaintext(len);
    let mut out = vec![0u8; len + suite.max_overhead()];
    let n = hazmat::protect_frame_with(
        B::default(),
        suite,
        kid,
        Counter(ctr),
        BASE,
        b"meta",
        &pt,
        &mut out,
    )
    .unwrap();
    out.truncate(n);
    out
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
            cross::<RustCrypto, RustCrypto>(suite, 0x77, len);
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

    /// Both backends in one program: identical bytes for identical input (each sender's frame
    /// is the other backend's frame at its counter), and each opens the other's frames, for
    /// every suite and the size classes the backends treat differently.
    #[test]
    fn backends_interoperate_byte_for_byte() {
        for suite in CipherSuite::ALL {
            for len in [0, 1, 255, 257, 1200, 2049, 10 * 1024, 100 * 1024] {
                let (ca, a) = cross::<RustCrypto, AwsLc>(suite, 0x78, len);
                let (cb, b) = cross::<AwsLc, RustCrypto>(suite, 0x79, len);
                assert_eq!(a, frame_at::<AwsLc>(suite, 0x78, ca, len), "{suite} {len}");
                assert_eq!(
                    b,
                    frame_at::<RustCrypto>(suite, 0x79, cb, len),
                    "{suite} {len}"
                );
                for ctr in [0, ca, u64::MAX] {
                    assert_eq!(
                        frame_at::<RustCrypto>(suite, 0x78, ctr, len),
                        frame_at::<AwsLc>(suite, 0x78, ctr, len),
                        "{suite} {len} at {ctr}: backends differ"
                    );
                }
            }
        }
    }

    /// Key material is one thing whatever backend runs it: a live RustCrypto sender and a
    /// live aws-lc sender may not share a key (both would count from 0: nonce reuse).
    #[test]
    fn one_key_one_sender_across_backends() {
        let suite = CipherSuite::AesGcm128Sha256;
        let mut a = Sender::with_backend(RustCrypto, suite);
        a.set_key(5, BASE).unwrap();
        let mut b = Sender::with_backend(AwsLc, suite);
        assert_eq!(b.set_key(5, BASE), Err(Error::KeyInUse));
        drop(a);
        b.set_key(5, BASE).unwrap();
        let ka = Key::derive_with(RustCrypto, suite, 5, BASE).unwrap();
        let kb = Key::derive_with(AwsLc, suite, 5, BASE).unwrap();
        assert_eq!(ka.fingerprint(), kb.fingerprint());
    }
}
