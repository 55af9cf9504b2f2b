//! Interop with the crates.io `sframe` crate (sframe-rs 2.1, `rust-crypto` backend), an
//! independent RFC 9605 implementation: for every suite both offer — RFC 9605's five with that
//! backend (its default `ring` backend has only the two GCM suites); it has none of suites
//! 6-8 (draft-barnes-sframe-iana-256), which are checked instead against the draft's published
//! vectors (`sframe-core/tests/vectors.rs`) and the independent Python SFrame
//! (`test-vectors/verify.py`, stage 72) — with random KID, CTR, base key, metadata and
//! payload:
//!
//! * our frames (`hazmat::protect_frame` at the case's counter) are unprotected by `sframe`,
//!   and `sframe`'s by our `Receiver`;
//! * both write the very same bytes for the same inputs (SFrame encryption is deterministic),
//!   and so does our `Sender` at the counter it is at;
//! * both accept or both refuse the same tampered frame, and agree on every header both parse.

use proptest::prelude::*;
use sframe::frame::{EncryptedFrame, MediaFrame, SingleUseCounter};
use sframe::header::SframeHeader;
use sframe::key::{DecryptionKey, EncryptionKey};
use sframe_core::{CipherSuite, Counter, Error, Header, Receiver, Sender, hazmat};

/// The suites both implementations offer: RFC 9605's 1-5. `sframe` 2.1.0 has no
/// `AES_256_CTR_HMAC_SHA512_*` (0x0006-0x0008, draft-barnes-sframe-iana-256; no other open
/// implementation has them yet), so suites 6-8 cannot be compared here: they are checked
/// against the draft's 3 published vectors and `test-vectors/verify.py` (see README.md).
const SHARED_SUITES: [CipherSuite; 5] = [
    CipherSuite::AesCtr128HmacSha256_80,
    CipherSuite::AesCtr128HmacSha256_64,
    CipherSuite::AesCtr128HmacSha256_32,
    CipherSuite::AesGcm128Sha256,
    CipherSuite::AesGcm256Sha512,
];

/// `sframe`'s suite for one of ours, if it has it (exhaustive: a new core suite must be
/// placed here).
fn their_suite(suite: CipherSuite) -> Option<sframe::CipherSuite> {
    match suite {
        CipherSuite::AesCtr128HmacSha256_80 => Some(sframe::CipherSuite::AesCtr128HmacSha256_80),
        CipherSuite::AesCtr128HmacSha256_64 => Some(sframe::CipherSuite::AesCtr128HmacSha256_64),
        CipherSuite::AesCtr128HmacSha256_32 => Some(sframe::CipherSuite::AesCtr128HmacSha256_32),
        CipherSuite::AesGcm128Sha256 => Some(sframe::CipherSuite::AesGcm128Sha256),
        CipherSuite::AesGcm256Sha512 => Some(sframe::CipherSuite::AesGcm256Sha512),
        CipherSuite::AesCtr256HmacSha512_80
        | CipherSuite::AesCtr256HmacSha512_64
        | CipherSuite::AesCtr256HmacSha512_32 => None,
    }
}

/// `sframe`'s suite for one of [`SHARED_SUITES`].
fn theirs(suite: CipherSuite) -> sframe::CipherSuite {
    their_suite(suite).unwrap_or_else(|| panic!("sframe 2.1.0 has no {suite}"))
}

/// One frame's inputs.
#[derive(Debug, Clone)]
struct Case {
    kid: u64,
    ctr: u64,
    base_key: Vec<u8>,
    metadata: Vec<u8>,
    payload: Vec<u8>,
}

/// KIDs and CTRs spread over every header length (inline, 1..=8 bytes), edges included.
fn header_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..8,
        (0u32..64).prop_flat_map(|bits| {
            let lo = 1u64 << bits;
            let hi = if bits == 63 {
                u64::MAX
            } else {
                (1u64 << (bits + 1)) - 1
            };
            lo..=hi
        }),
        Just(u64::MAX),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        header_value(),
        header_value(),
        proptest::collection::vec(any::<u8>(), 16..64),
        proptest::collection::vec(any::<u8>(), 0..48),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(kid, ctr, base_key, metadata, payload)| Case {
            kid,
            ctr,
            base_key,
            metadata,
            payload,
        })
}

/// Our frame at the case's counter: `hazmat::protect_frame`, the frame code a `Sender` runs,
/// with no state. Not a `Sender`: cases (and proptest's shrinking) repeat a key, KID and
/// counter, which no sender makes twice.
fn ours_protect(suite: CipherSuite, c: &Case) -> Vec<u8> {
    let mut out = vec![0u8; c.payload.len() + suite.max_overhead()];
    let n = hazmat::protect_frame(
        suite,
        c.kid,
        Counter(c.ctr),
        &c.base_key,
        &c.metadata,
        &c.payload,
        &mut out,
    )
    .unwrap();
    out.truncate(n);
    out
}

fn ours_unprotect(suite: CipherSuite, c: &Case, frame: &[u8]) -> Result<Vec<u8>, Error> {
    let mut rx = Receiver::new(suite);
    rx.add_key(c.kid, &c.base_key)?;
    rx.unprotect_vec(&c.metadata, frame)
}

/// `sframe`'s frame: `header ‖ ciphertext ‖ tag` (its buffer is `metadata ‖ that`).
fn theirs_protect(suite: CipherSuite, c: &Case) -> Vec<u8> {
    let key = EncryptionKey::derive_from(theirs(suite), c.kid, &c.base_key).unwrap();
    let mut counter = SingleUseCounter::new(c.ctr);
    let media = MediaFrame::try_with_meta_data(&mut counter, &c.payload, &c.metadata).unwrap();
    media.encrypt(&key).unwrap().sframe_cipher_text().to_vec()
}

fn theirs_unprotect(suite: CipherSuite, c: &Case, frame: &[u8]) -> Option<Vec<u8>> {
    let key = DecryptionKey::derive_from(theirs(suite), c.kid, &c.base_key).unwrap();
    let encrypted = EncryptedFrame::try_with_meta_data(frame, &c.metadata).ok()?;
    encrypted.decrypt(&key).ok().map(|m| m.payload().to_vec())
}

fn check_both_ways(suite: CipherSuite, c: &Case) -> Result<(), TestCaseError> {
    let ours = ours_protect(suite, c);
    let theirs = theirs_protect(suite, c);
    prop_assert_eq!(&ours, &theirs, "different bytes for the same inputs");
    prop_assert_eq!(theirs_unprotect(suite, c, &ours), Some(c.payload.clone()));
    prop_assert_eq!(ours_unprotect(suite, c, &theirs), Ok(c.payload.clone()));
    // Our `Sender` writes `sframe`'s bytes too, at whatever counter it is at (0 for a key new
    // to this process; a repeated case's key resumes where it stood).
    let mut tx = Sender::new(suite);
    tx.set_key(c.kid, &c.base_key).unwrap();
    let ctr = tx.next_counter().unwrap();
    let sent = tx.protect_vec(&c.metadata, &c.payload).unwrap();
    prop_assert_eq!(sent, theirs_protect(suite, &Case { ctr, ..c.clone() }));
    Ok(())
}

fn check_tamper(suite: CipherSuite, c: &Case, bit: usize) -> Result<(), TestCaseError> {
    let mut frame = ours_protect(suite, c);
    let bit = bit % (frame.len() * 8);
    frame[bit / 8] ^= 1 << (bit % 8);
    let ours = ours_unprotect(suite, c, &frame).ok();
    let theirs = theirs_unprotect(suite, c, &frame);
    // Both decide the same; and for tags of 8+ bytes a flipped bit is never accepted.
    prop_assert_eq!(
        &ours,
        &theirs,
        "accept/refuse disagreement on a tampered frame"
    );
    if suite.tag_len() >= 8 {
        prop_assert_eq!(ours, None);
    }
    Ok(())
}

macro_rules! suite_tests {
    ($($name:ident => $suite:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(96))]
                #[test]
                fn both_ways_and_same_bytes(c in case()) {
                    check_both_ways($suite, &c)?;
                }
                #[test]
                fn tampered_frames_judged_alike(c in case(), bit in any::<usize>()) {
                    check_tamper($suite, &c, bit)?;
                }
            }
        }
    )*};
}

// One module per suite of SHARED_SUITES (suites 6-8: not in `sframe`, see SHARED_SUITES).
suite_tests! {
    aes_ctr_128_hmac_sha256_80 => CipherSuite::AesCtr128HmacSha256_80,
    aes_ctr_128_hmac_sha256_64 => CipherSuite::AesCtr128HmacSha256_64,
    aes_ctr_128_hmac_sha256_32 => CipherSuite::AesCtr128HmacSha256_32,
    aes_gcm_128_sha256 => CipherSuite::AesGcm128Sha256,
    aes_gcm_256_sha512 => CipherSuite::AesGcm256Sha512,
}

/// Every suite of ours that `sframe` has maps to its suite with the same IANA id and sizes,
/// and those are exactly [`SHARED_SUITES`] (the suites the property tests above cover).
#[test]
fn suites_match() {
    let shared: Vec<CipherSuite> = CipherSuite::ALL
        .into_iter()
        .filter(|&s| their_suite(s).is_some())
        .collect();
    assert_eq!(shared, SHARED_SUITES);
    for suite in SHARED_SUITES {
        let t = theirs(suite);
        assert_eq!(t as u16, suite.id());
        assert_eq!(t.auth_tag_len(), suite.tag_len());
        assert_eq!(t.key_len(), suite.key_len());
    }
    // Not shared: suites 6-8 (`sframe` =2.1.0, pinned in Cargo.toml, defines only 1-5).
    let not_shared: Vec<u16> = CipherSuite::ALL
        .into_iter()
        .filter(|s| !SHARED_SUITES.contains(s))
        .map(CipherSuite::id)
        .collect();
    assert_eq!(not_shared, [6, 7, 8]);
}

proptest! {
    /// Headers: where both parse, they read the same KID, CTR and length. The one known
    /// difference (see README): `sframe` accepts non-minimal encodings, which we refuse.
    #[test]
    fn header_parsers_agree(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
        let ours = Header::parse(&bytes).ok();
        let theirs = SframeHeader::deserialize(&bytes).ok();
        match (ours, theirs) {
            (Some((h, len)), Some(t)) => {
                prop_assert_eq!((h.key_id(), h.counter(), len), (t.key_id(), t.counter(), t.len()));
            }
            (Some(_), None) => prop_assert!(false, "sframe refuses a header we accept: {:02x?}", bytes),
            (None, Some(_)) => prop_assert!(is_non_minimal(&bytes), "only non-minimal may differ: {:02x?}", bytes),
            (None, None) => {}
        }
    }

    /// Both write the same header bytes for any (KID, CTR).
    #[test]
    fn header_encoders_agree(kid in header_value(), ctr in header_value()) {
        let mut ours = [0u8; 17];
        let n = Header::new(kid, ctr).encode(&mut ours).unwrap();
        let t = SframeHeader::new(kid, ctr);
        let mut theirs = vec![0u8; t.len()];
        t.serialize(&mut theirs).unwrap();
        prop_assert_eq!(&ours[..n], &theirs[..]);
    }
}

/// Whether a complete header uses more bytes than needed for its KID or CTR.
fn is_non_minimal(bytes: &[u8]) -> bool {
    let Some((&cfg, rest)) = bytes.split_first() else {
        return false;
    };
    let mut rest = rest;
    let mut non_minimal = false;
    for half in [cfg >> 4, cfg & 0x0f] {
        if half & 0x08 != 0 {
            let len = usize::from(half & 0x07) + 1;
            let Some((field, r)) = rest.split_at_checked(len) else {
                return false;
            };
            let v = field.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
            non_minimal |= v < 8 || field[0] == 0;
            rest = r;
        }
    }
    non_minimal
}

/// The non-minimal header divergence, pinned: `80 05` is KID 5 written in an extended byte.
#[test]
fn non_minimal_header_divergence() {
    assert_eq!(Header::parse(&[0x80, 0x05]), Err(Error::MalformedFrame));
    let t = SframeHeader::deserialize([0x80, 0x05]).unwrap();
    assert_eq!((t.key_id(), t.counter()), (5, 0));
}
