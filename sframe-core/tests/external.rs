//! The external-AEAD split: `Sender::protect_external` and
//! `Receiver::unprotect_external` / `commit_external` / `reject_external`, with the AEAD run
//! outside the library (here `hazmat::Aead`, standing in for WebCrypto). Same guarantees as
//! `protect` / `unprotect`: the RFC 9605 vectors, tampering, replay, and a failed frame that
//! changes nothing but the failure count. Keys: full ones and `Key::external` (salt only).

use serde::Deserialize;
use sframe_core::hazmat::{self, Aead, derive_key_and_salt};
use sframe_core::{
    CipherSuite, Counter, Error, ExternalOpen, Key, KeyUsage, Receiver, RustCrypto, Sender,
};

#[derive(Deserialize)]
struct Vectors {
    sframe: Vec<SframeVector>,
}

#[derive(Deserialize)]
struct SframeVector {
    cipher_suite: u16,
    kid: u64,
    ctr: u64,
    base_key: String,
    sframe_key: String,
    sframe_salt: String,
    metadata: String,
    nonce: String,
    pt: String,
    ct: String,
}

fn vectors() -> Vec<SframeVector> {
    let mut all = Vec::new();
    for file in ["rfc9605.json", "iana-256.json"] {
        let path = format!("{}/../test-vectors/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("vector file");
        let v: Vectors = serde_json::from_str(&text).expect("vector JSON");
        all.extend(v.sframe);
    }
    all
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// The external AEAD: encrypt `pt` with AAD `header ‖ metadata`, return the whole frame.
fn seal_outside(
    suite: CipherSuite,
    key: &[u8],
    nonce: &[u8],
    header: &[u8],
    md: &[u8],
    pt: &[u8],
) -> Vec<u8> {
    let aad = [header, md].concat();
    let mut body = pt.to_vec();
    let mut tag = vec![0u8; suite.tag_len()];
    Aead::new_with(RustCrypto, suite, key)
        .unwrap()
        .seal(nonce, &aad, &mut body, &mut tag)
        .unwrap();
    [header, &body, &tag].concat()
}

/// The external AEAD: verify and decrypt a frame for `open`.
fn open_outside(
    suite: CipherSuite,
    key: &[u8],
    open: &ExternalOpen,
    frame: &[u8],
    md: &[u8],
) -> Result<Vec<u8>, Error> {
    let (header, body) = frame.split_at(open.header_len());
    let (ct, tag) = body.split_at(body.len() - open.tag_len());
    let aad = [header, md].concat();
    let mut pt = ct.to_vec();
    Aead::new_with(RustCrypto, suite, key)?.open(open.nonce(), &aad, &mut pt, tag)?;
    Ok(pt)
}

/// Receives through the split: begin, external AEAD, commit or reject.
fn receive(
    rx: &mut Receiver<sframe_core::VecKeyStore<RustCrypto>>,
    key: &[u8],
    frame: &[u8],
    md: &[u8],
) -> Result<Vec<u8>, Error> {
    let open = rx.unprotect_external(frame)?;
    match open_outside(rx.suite(), key, &open, frame, md) {
        Ok(pt) => {
            rx.commit_external(&open)?;
            Ok(pt)
        }
        Err(e) => {
            rx.reject_external(&open);
            Err(e)
        }
    }
}

type Rx = Receiver<sframe_core::VecKeyStore<RustCrypto>>;

#[test]
fn vectors_through_the_split_with_full_and_external_keys() {
    let mut n = 0;
    for v in vectors() {
        let suite = CipherSuite::from_id(v.cipher_suite).unwrap();
        let (key, salt, md) = (h(&v.sframe_key), h(&v.sframe_salt), h(&v.metadata));
        let pt = h(&v.pt);
        // The frame of the vector's key at counter `c`, made with no state.
        let frame_at = |c: u64| {
            let mut out = vec![0u8; pt.len() + suite.max_overhead()];
            let n = hazmat::protect_frame_with(
                RustCrypto,
                suite,
                v.kid,
                Counter(c),
                &h(&v.base_key),
                &md,
                &pt,
                &mut out,
            )
            .unwrap();
            out.truncate(n);
            out
        };
        for external in [false, true] {
            // Sender: the header and nonce it returns make exactly the frame at its counter.
            let mut tx = Sender::with_backend(RustCrypto, suite);
            if external {
                let ext = Key::external(RustCrypto, suite, v.kid, &salt).unwrap();
                let full = Key::from_parts_with(RustCrypto, suite, v.kid, &key, &salt).unwrap();
                assert_eq!(
                    ext.fingerprint(),
                    full.fingerprint(),
                    "one material, two forms"
                );
                tx.set_derived_key(ext).unwrap();
                // In-crate protect is refused for a key without its AEAD key; no counter used.
                let at = tx.next_counter().unwrap();
                assert_eq!(tx.protect_vec(&md, b"x"), Err(Error::ExternalKey));
                let seal = tx.protect_external().unwrap();
                assert_eq!((seal.key_id(), seal.counter()), (v.kid, at));
                // (0 for material new to the sender; where the first round's sender left it if
                // released keys' counters are remembered.)
                if at == 0 {
                    assert_eq!(
                        &seal.nonce()[..],
                        &salt[..],
                        "counter 0: the nonce is the salt"
                    );
                }
                let frame = seal_outside(suite, &key, seal.nonce(), seal.header(), &md, &pt);
                assert_eq!(frame, frame_at(at), "suite {suite}: external seal at {at}");
            }
            // (For the external sender: the same material as a base key upgrades it in place;
            // its counter only moves up.)
            tx.set_key_with_counter(v.kid, &h(&v.base_key), Counter(v.ctr))
                .unwrap();
            let seal = tx.protect_external().unwrap();
            assert_eq!(seal.key_id(), v.kid);
            assert!(seal.counter() >= v.ctr, "a given counter only moves up");
            if !external {
                // The first sender of this test binary to use the vector's key.
                assert_eq!(seal.counter(), v.ctr);
            }
            let frame = seal_outside(suite, &key, seal.nonce(), seal.header(), &md, &pt);
            assert_eq!(
                frame,
                frame_at(seal.counter()),
                "suite {suite}: external seal"
            );
            if seal.counter() == v.ctr {
                assert_eq!(&seal.nonce()[..], &h(&v.nonce)[..]);
                assert_eq!(
                    hex::encode(&frame),
                    v.ct,
                    "suite {suite}: external seal = vector"
                );
            }
            assert_eq!(tx.next_counter(), seal.counter().checked_add(1));
            let frame = h(&v.ct);
            // Receiver: the vector's frame opens through the split.
            let mut rx = Rx::with_backend(RustCrypto, suite);
            if external {
                rx.add_derived_key(Key::external(RustCrypto, suite, v.kid, &salt).unwrap())
                    .unwrap();
                // In-crate unprotect is refused without touching the failure count.
                assert_eq!(rx.unprotect_vec(&md, &frame), Err(Error::ExternalKey));
                assert_eq!(rx.usage(v.kid), Some(KeyUsage::default()));
            } else {
                rx.add_key(v.kid, &h(&v.base_key)).unwrap();
            }
            assert_eq!(
                hex::encode(receive(&mut rx, &key, &frame, &md).unwrap()),
                v.pt
            );
            assert_eq!(rx.highest_counter(v.kid), Some(v.ctr));
            assert_eq!(receive(&mut rx, &key, &frame, &md), Err(Error::Replay));
            n += 1;
        }
    }
    assert!(n >= 2 * 8, "{n} vector runs");
}

#[test]
fn tampering_counts_a_failure_and_changes_nothing_else() {
    for suite in CipherSuite::ALL {
        let base = [0x42; 16];
        let (key, _) = derive_key_and_salt(suite, 9, &base).unwrap();
        let key = &key[..suite.key_len()];
        let mut tx = Sender::with_backend(RustCrypto, suite);
        tx.set_key(9, &base).unwrap();
        let seal = tx.protect_external().unwrap();
        let frame = seal_outside(suite, key, seal.nonce(), seal.header(), b"md", b"payload");
        let mut rx = Rx::with_backend(RustCrypto, suite);
        rx.add_key(9, &base).unwrap();
        // Every byte flipped, and the wrong metadata: authentication fails, only the failure
        // count moves; the genuine frame still opens afterwards.
        let mut failures = 0;
        for i in 0..frame.len() {
            let mut bad = frame.clone();
            bad[i] ^= 0x01;
            let r = receive(&mut rx, key, &bad, b"md");
            assert!(r.is_err(), "suite {suite}: byte {i} flipped was accepted");
            if r == Err(Error::AuthenticationFailed) {
                failures += 1;
            }
            assert_eq!(rx.highest_counter(9), None);
        }
        assert_eq!(
            receive(&mut rx, key, &frame, b"other"),
            Err(Error::AuthenticationFailed)
        );
        failures += 1;
        assert_eq!(
            rx.usage(9).unwrap(),
            KeyUsage {
                frames: 0,
                auth_failures: failures
            }
        );
        // The begin call alone changes nothing.
        let open = rx.unprotect_external(&frame).unwrap();
        let _ = rx.unprotect_external(&frame).unwrap();
        assert_eq!(rx.usage(9).unwrap().frames, 0);
        assert_eq!(
            open_outside(suite, key, &open, &frame, b"md").unwrap(),
            b"payload"
        );
        rx.commit_external(&open).unwrap();
        assert_eq!(
            rx.usage(9).unwrap(),
            KeyUsage {
                frames: 1,
                auth_failures: failures
            }
        );
    }
}

#[test]
fn concurrent_copies_commit_once_and_replaced_keys_commit_nothing() {
    let suite = CipherSuite::AesGcm128Sha256;
    let base = [7; 16];
    let (key, _) = derive_key_and_salt(suite, 1, &base).unwrap();
    let key = &key[..suite.key_len()];
    let mut tx = Sender::with_backend(RustCrypto, suite);
    tx.set_key(1, &base).unwrap();
    let f0 = tx.protect_vec(b"", b"zero").unwrap();
    let f1 = tx.protect_vec(b"", b"one").unwrap();
    let mut rx = Rx::with_backend(RustCrypto, suite);
    rx.add_key(1, &base).unwrap();

    // Two copies of a frame in flight at once (two awaits overlapping): one commit wins.
    let a = rx.unprotect_external(&f0).unwrap();
    let b = rx.unprotect_external(&f0).unwrap();
    rx.commit_external(&a).unwrap();
    assert_eq!(rx.commit_external(&b), Err(Error::Replay));
    assert_eq!(rx.usage(1).unwrap().frames, 1);
    // An in-crate unprotect of the same frame after an external commit: replay too.
    assert_eq!(rx.unprotect_vec(b"", &f0), Err(Error::Replay));

    // The key is replaced while a frame is in flight: nothing is recorded for the new key.
    let c = rx.unprotect_external(&f1).unwrap();
    assert_eq!(open_outside(suite, key, &c, &f1, b"").unwrap(), b"one");
    rx.add_key(1, &[8; 16]).unwrap();
    assert_eq!(rx.commit_external(&c), Err(Error::UnknownKeyId));
    rx.reject_external(&c);
    assert_eq!(rx.usage(1), Some(KeyUsage::default()));
    assert_eq!(rx.highest_counter(1), None);
    rx.remove_key(1);
    assert_eq!(rx.commit_external(&c), Err(Error::UnknownKeyId));
}

#[test]
fn keys_the_receiver_would_derive_are_left_to_unprotect() {
    use sframe_core::ratchet::{Generation, RatchetLayout};
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = RatchetLayout::new(4).unwrap();
    let mut tx = Sender::with_backend(RustCrypto, suite);
    let kid = tx
        .set_ratcheting_key(layout, Generation(1), &[3; 16])
        .unwrap();
    let mut rx = Rx::with_backend(RustCrypto, suite);
    rx.add_ratcheting_key(layout, kid, &[3; 16]).unwrap();
    tx.ratchet().unwrap();
    let f = tx.protect_vec(b"", b"step 1").unwrap();
    assert_eq!(
        rx.unprotect_external(&f).map(|_| ()),
        Err(Error::UnknownKeyId)
    );
    assert_eq!(rx.unprotect_vec(b"", &f).unwrap(), b"step 1");
    // Once derived and stored, the split works for it.
    let f2 = tx.protect_vec(b"", b"again").unwrap();
    assert!(rx.unprotect_external(&f2).is_ok());
}

/// The same material added as an external key first and announced as a ratchet chain later
/// (both orders, and the chain re-announced): the chain's head takes the full key, so frames
/// of that step open in the crate too, and the replay window of the external form stays.
#[test]
fn an_external_key_announced_as_a_chain_takes_the_full_key() {
    use sframe_core::ratchet::{Generation, RatchetLayout};
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = RatchetLayout::new(4).unwrap();
    let base = [5; 16];
    let mut tx = Sender::with_backend(RustCrypto, suite);
    let kid = tx.set_ratcheting_key(layout, Generation(2), &base).unwrap();
    let (key, salt) = derive_key_and_salt(suite, kid, &base).unwrap();
    let key = &key[..suite.key_len()];
    for announce_twice in [false, true] {
        let mut rx = Rx::with_backend(RustCrypto, suite);
        let external = Key::external(RustCrypto, suite, kid, &salt[..suite.nonce_len()]).unwrap();
        rx.add_derived_key(external).unwrap();
        let f0 = tx.protect_vec(b"", b"outside").unwrap();
        assert_eq!(rx.unprotect_vec(b"", &f0), Err(Error::ExternalKey));
        assert_eq!(receive(&mut rx, key, &f0, b"").unwrap(), b"outside");
        rx.add_ratcheting_key(layout, kid, &base).unwrap();
        if announce_twice {
            rx.add_ratcheting_key(layout, kid, &base).unwrap();
        }
        let f1 = tx.protect_vec(b"", b"inside").unwrap();
        assert_eq!(rx.unprotect_vec(b"", &f1).unwrap(), b"inside");
        assert_eq!(rx.unprotect_vec(b"", &f0), Err(Error::Replay));
    }
}

#[test]
fn limits_hold_on_the_split() {
    let suite = CipherSuite::AesCtr128HmacSha256_32;
    let mut tx = Sender::with_backend(RustCrypto, suite);
    tx.set_limits(sframe_core::Limits {
        max_encryptions: 2,
        ..sframe_core::Limits::for_suite(suite)
    });
    tx.set_key(1, &[1; 16]).unwrap();
    tx.protect_external().unwrap();
    tx.protect_vec(b"", b"x").unwrap();
    assert_eq!(tx.protect_external().map(|_| ()), Err(Error::KeyUsageLimit));
    let mut tx = Sender::with_backend(RustCrypto, suite);
    tx.set_key_with_counter(2, &[1; 16], Counter(u64::MAX))
        .unwrap();
    tx.protect_external().unwrap();
    assert_eq!(
        tx.protect_external().map(|_| ()),
        Err(Error::CounterExhausted)
    );
    assert_eq!(
        Sender::with_backend(RustCrypto, suite)
            .protect_external()
            .map(|_| ()),
        Err(Error::NoKey)
    );
}

/// The forgery limit on the split is checked when a frame is opened and a failure counted when
/// it is rejected: with `k` openings of a key outstanding, at most `max_auth_failures + k - 1`
/// failed verifications (the bound `unprotect_external` documents), and exactly the limit when
/// each frame is finished before the next is opened. Once reached, the key is refused on both
/// paths.
#[test]
fn forgery_budget_on_the_split_is_the_limit_plus_openings_in_flight() {
    let suite = CipherSuite::AesCtr128HmacSha256_32;
    let max = 4;
    let base = [6; 16];
    let (key, _) = derive_key_and_salt(suite, 1, &base).unwrap();
    let key = &key[..suite.key_len()];
    let mut tx = Sender::with_backend(RustCrypto, suite);
    tx.set_key(1, &base).unwrap();
    let config = sframe_core::ReceiverConfig::new(suite).with_limits(sframe_core::Limits {
        max_auth_failures: max,
        ..sframe_core::Limits::for_suite(suite)
    });
    let mut forged = tx.protect_vec(b"", b"forged").unwrap();
    *forged.last_mut().unwrap() ^= 1;
    let genuine = tx.protect_vec(b"", b"genuine").unwrap();
    let refused = |rx: &mut Rx| {
        assert_eq!(
            rx.unprotect_external(&genuine).map(|_| ()),
            Err(Error::KeyUsageLimit)
        );
        assert_eq!(rx.unprotect_vec(b"", &genuine), Err(Error::KeyUsageLimit));
    };

    for k in [1, 2, 5] {
        let mut rx = Rx::with_backend(RustCrypto, config);
        rx.add_key(1, &base).unwrap();
        // One at a time up to one failure short of the limit.
        for _ in 0..max - 1 {
            assert_eq!(
                receive(&mut rx, key, &forged, b""),
                Err(Error::AuthenticationFailed)
            );
        }
        // Then k at once: all pass the check made before any of them is counted.
        let opens: Vec<_> = (0..k)
            .map(|_| rx.unprotect_external(&forged).unwrap())
            .collect();
        for open in &opens {
            assert!(open_outside(suite, key, open, &forged, b"").is_err());
            rx.reject_external(open);
        }
        assert_eq!(rx.usage(1).unwrap().auth_failures, max + k - 1, "k = {k}");
        refused(&mut rx);
    }
}
