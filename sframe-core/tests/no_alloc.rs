//! Proves the per-frame paths allocate nothing: a counting global allocator records every
//! allocation made by this thread while a frame is protected or unprotected.

mod common;

use common::allocations;
use sframe_core::{Backend, CipherSuite, FixedKeyStore, KeyStore, Receiver, RustCrypto, Sender};

#[test]
fn the_counter_sees_allocations() {
    // Guards against a test that cannot fail: the allocator must notice a Vec.
    let (n, v) = allocations(|| vec![1u8; 100]);
    assert!(n >= 1, "counting allocator saw no allocation");
    drop(v);
}

fn exercise<S: KeyStore>(suite: CipherSuite, rx: &mut Receiver<S>, kids: &[u64]) {
    let metadata = [0x9du8; 300];
    for &kid in kids {
        rx.add_key(kid, &[kid as u8; 16]).unwrap();
    }
    for &kid in kids {
        let mut tx = Sender::<S::Backend>::with_backend(Default::default(), suite);
        tx.set_key(kid, &[kid as u8; 16]).unwrap();
        let plaintext = [0x42u8; 1200];
        let mut out = [0u8; 1200 + 64];
        let mut in_place = [0u8; 1200 + 64];
        in_place[..1200].copy_from_slice(&plaintext);
        let mut plain_out = [0u8; 1200];

        let (n, ()) = allocations(|| {
            let len = tx.protect(&metadata, &plaintext, &mut out).unwrap().len();
            let pt = rx.unprotect_in_place(&metadata, &mut out[..len]).unwrap();
            assert_eq!(pt, &plaintext[..]);

            let len = tx.protect_in_place(b"", &mut in_place, 1200).unwrap().len();
            let frame = in_place;
            let pt = rx.unprotect(b"", &frame[..len], &mut plain_out).unwrap();
            assert_eq!(pt, &plaintext[..]);

            // Failures must not allocate either (no formatted errors).
            let mut bad = frame;
            bad[len - 1] ^= 1;
            assert!(rx.unprotect_in_place(b"", &mut bad[..len]).is_err());
            let mut replayed = frame;
            assert_eq!(
                rx.unprotect_in_place(b"", &mut replayed[..len])
                    .map(|p| p.len()),
                Err(sframe_core::Error::Replay)
            );
        });
        assert_eq!(
            n, 0,
            "suite {suite}, kid {kid}: {n} allocation(s) on the per-frame path"
        );
    }
}

/// Every backend compiled in, each named explicitly.
#[test]
fn per_frame_paths_do_not_allocate() {
    per_frame::<RustCrypto>();
    #[cfg(feature = "aws-lc")]
    per_frame::<sframe_core::AwsLc>();
}

fn per_frame<B: Backend>() {
    for suite in CipherSuite::ALL {
        // A full fixed-capacity store.
        let mut fixed = Receiver::<FixedKeyStore<8, B>>::with_store(suite);
        let kids: Vec<u64> = (0..8).map(|i| i * 1000 + 3).collect();
        exercise(suite, &mut fixed, &kids);
        assert_eq!(
            fixed.add_key(99_999, &[1; 16]).unwrap_err(),
            sframe_core::Error::KeyStoreFull
        );

        // The growable store with many keys.
        let mut growable = Receiver::with_backend(B::default(), suite);
        for kid in 10_000..10_200u64 {
            growable.add_key(kid, &[7; 16]).unwrap();
        }
        exercise(suite, &mut growable, &[5, 10_050, u64::MAX]);
    }
}
