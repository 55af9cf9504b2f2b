//! Unprotect of arbitrary bytes with keys installed (RFC 9605 §4.4.3, §9).
//!
//! Input: `[suite selector, metadata length, metadata ‖ frame]`. Checks:
//! * no panic, on either receiver API or key store;
//! * a frame is accepted only if it is genuinely valid: the plaintext re-encrypts (same key,
//!   KID, CTR, metadata) to exactly the received bytes, and the independent reference
//!   decryption (`common::reference_open`) agrees. Random bytes that pass are a forgery;
//! * the in-place and the copying API (different key stores) agree;
//! * a rejected frame changes nothing: frame bytes, keys, replay window, frame count; only
//!   `auth_failures` may grow, by one, and only on `AuthenticationFailed`.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::keystore::KeyStore;
use sframe_core::{CipherSuite, Error, FixedKeyStore, Header, Key, Receiver};

/// (KID, sframe_key, sframe_salt).
type Derived = (u64, Vec<u8>, Vec<u8>);

/// (sframe_key, sframe_salt) per suite and installed KID, derived once per process: HKDF on
/// every input would spend most of the fuzzing time re-deriving the same keys.
fn derived(suite: CipherSuite) -> &'static [Derived] {
    static CACHE: OnceLock<Vec<Vec<Derived>>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        CipherSuite::ALL
            .iter()
            .map(|&s| {
                common::installed_keys()
                    .map(|(kid, base)| {
                        let (k, salt) = derive_key_and_salt(s, kid, base).expect("derive");
                        (kid, k[..s.key_len()].to_vec(), salt.to_vec())
                    })
                    .collect()
            })
            .collect()
    });
    let i = CipherSuite::ALL
        .iter()
        .position(|&s| s == suite)
        .expect("suite");
    &all[i]
}

fn receiver<S: KeyStore>(suite: CipherSuite) -> Receiver<S> {
    let mut rx = Receiver::<S>::with_store(suite);
    for (kid, key, salt) in derived(suite) {
        // The key for the store's backend (Key::from_parts would build the default one).
        let key = Key::from_parts_with(S::Backend::default(), suite, *kid, key, salt).expect("key");
        rx.add_derived_key(key).expect("install key");
    }
    rx
}

type Snapshot = Vec<(bool, Option<sframe_core::KeyUsage>, Option<u64>)>;

fn snapshot<S: KeyStore>(rx: &Receiver<S>) -> Snapshot {
    common::installed_keys()
        .map(|(kid, _)| (rx.has_key(kid), rx.usage(kid), rx.highest_counter(kid)))
        .collect()
}

/// On error: nothing changed but (for `AuthenticationFailed`) the header KID's failure count.
fn check_unchanged(before: &Snapshot, after: &Snapshot, err: Error, kid: Option<u64>) {
    for (((kid_i, _), b), a) in common::installed_keys().zip(before).zip(after) {
        let mut expected = *b;
        if err == Error::AuthenticationFailed
            && Some(kid_i) == kid
            && let Some(u) = expected.1.as_mut()
        {
            u.auth_failures += 1;
        }
        assert_eq!(
            *a, expected,
            "failed unprotect ({err:?}) changed receiver state"
        );
    }
}

fn base_key_of(kid: u64) -> Option<&'static [u8]> {
    common::installed_keys()
        .find(|(k, _)| *k == kid)
        .map(|(_, b)| b)
}

fuzz_target!(|data: &[u8]| {
    let [sel, meta_len, rest @ ..] = data else {
        return;
    };
    let suite = common::suite(*sel);
    let (metadata, frame) = rest.split_at(usize::from(*meta_len).min(rest.len()));
    let kid = Header::parse(frame).ok().map(|(h, _)| h.key_id());

    // In place, growable store.
    let mut rx_vec = receiver::<sframe_core::VecKeyStore>(suite);
    let before = snapshot(&rx_vec);
    let mut buf = frame.to_vec();
    let in_place = rx_vec
        .unprotect_in_place(metadata, &mut buf)
        .map(|p| p.to_vec());
    let after = snapshot(&rx_vec);

    // Into a caller buffer, fixed store.
    let mut rx_fixed = receiver::<FixedKeyStore<8>>(suite);
    let mut out = vec![0xee; rx_fixed.max_output_len(frame.len())];
    let into = rx_fixed
        .unprotect(metadata, frame, &mut out)
        .map(|p| p.to_vec());
    assert_eq!(in_place, into, "unprotect_in_place and unprotect disagree");

    let reference = kid
        .and_then(base_key_of)
        .and_then(|base| common::reference_open(suite, base, metadata, frame));

    match in_place {
        Ok(pt) => {
            // Accepted: it must be a frame the key really produces.
            let (header, _) = Header::parse(frame).expect("accepted frame has a header");
            let base = base_key_of(header.key_id()).expect("accepted frame has a known KID");
            let again = common::reference_seal(
                suite,
                header.key_id(),
                base,
                header.counter(),
                metadata,
                &pt,
            );
            assert_eq!(
                again, frame,
                "accepted a frame its key did not produce (forgery)"
            );
            assert_eq!(
                reference.as_deref(),
                Some(&pt[..]),
                "reference decryption disagrees"
            );
            assert_eq!(
                rx_vec.highest_counter(header.key_id()),
                Some(header.counter())
            );
            // The same frame again is a replay, and that changes nothing either.
            let before = snapshot(&rx_vec);
            let mut again = frame.to_vec();
            assert_eq!(
                rx_vec.unprotect_in_place(metadata, &mut again).map(|_| ()),
                Err(Error::Replay)
            );
            assert_eq!(snapshot(&rx_vec), before);
        }
        Err(err) => {
            assert_eq!(buf, frame, "failed unprotect modified the frame buffer");
            assert!(
                out.iter().all(|&b| b == 0xee || b == 0),
                "plaintext left in out on error"
            );
            check_unchanged(&before, &after, err, kid);
            assert_eq!(
                reference, None,
                "reference decryption accepts a frame the receiver refused"
            );
        }
    }
});
