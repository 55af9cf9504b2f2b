//! Property tests of the frame format (RFC 9605 §4.3, §4.4.3): round trips for random inputs,
//! every single-bit change and every truncation rejected.

use proptest::prelude::*;
use sframe_core::{CipherSuite, Error, Header, Receiver, Sender, hazmat};

fn suite() -> impl Strategy<Value = CipherSuite> {
    prop::sample::select(CipherSuite::ALL.to_vec())
}

/// KIDs and CTRs of every encoded length (inline, 1..=8 bytes).
fn wide_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..8,
        any::<u8>().prop_map(u64::from),
        (0u32..64).prop_flat_map(|bits| {
            let lo = 1u64 << bits;
            lo..=lo.saturating_mul(2).saturating_sub(1).max(lo)
        }),
        Just(u64::MAX)
    ]
}

#[derive(Debug)]
struct Case {
    suite: CipherSuite,
    kid: u64,
    ctr: u64,
    key: Vec<u8>,
    metadata: Vec<u8>,
    payload: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        suite(),
        wide_u64(),
        wide_u64(),
        prop::collection::vec(any::<u8>(), 16..48),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(suite, kid, ctr, key, metadata, payload)| Case {
            suite,
            kid,
            ctr,
            key,
            metadata,
            payload,
        })
}

/// The case's frame at its counter. Through `hazmat`, not a `Sender`: cases (and proptest's
/// shrinking) repeat keys, KIDs and counters, and a sender never goes back to a used counter.
fn protect(c: &Case) -> Vec<u8> {
    let mut out = vec![0u8; c.payload.len() + c.suite.max_overhead()];
    let n = hazmat::protect_frame(
        c.suite,
        c.kid,
        sframe_core::Counter(c.ctr),
        &c.key,
        &c.metadata,
        &c.payload,
        &mut out,
    )
    .unwrap();
    out.truncate(n);
    out
}

fn receiver(c: &Case) -> Receiver {
    let mut rx = Receiver::new(c.suite);
    rx.add_key(c.kid, &c.key).unwrap();
    rx
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn header_round_trips(kid in wide_u64(), ctr in wide_u64(), tail in prop::collection::vec(any::<u8>(), 0..4)) {
        let h = Header::new(kid, ctr);
        let mut buf = [0u8; 17];
        let n = h.encode(&mut buf).unwrap();
        prop_assert_eq!(n, h.encoded_len());
        let mut frame = buf[..n].to_vec();
        frame.extend_from_slice(&tail);
        prop_assert_eq!(Header::parse(&frame), Ok((h, n)));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
        if let Ok((h, n)) = Header::parse(&bytes) {
            // Whatever parses re-encodes to exactly the bytes it was read from.
            let mut buf = [0u8; 17];
            prop_assert_eq!(h.encode(&mut buf), Ok(n));
            prop_assert_eq!(&buf[..n], &bytes[..n]);
        }
    }

    #[test]
    fn protect_unprotect_round_trips(c in case()) {
        let frame = protect(&c);
        let (h, hlen) = Header::parse(&frame).unwrap();
        prop_assert_eq!((h.key_id(), h.counter()), (c.kid, c.ctr));
        prop_assert_eq!(frame.len(), hlen + c.payload.len() + c.suite.tag_len());
        let mut rx = receiver(&c);
        let mut f = frame.clone();
        prop_assert_eq!(rx.unprotect_in_place(&c.metadata, &mut f).unwrap(), &c.payload[..]);
        prop_assert_eq!(receiver(&c).unprotect_vec(&c.metadata, &frame).unwrap(), c.payload.clone());
    }

    #[test]
    fn any_flipped_bit_in_frame_is_rejected(c in case(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let frame = protect(&c);
        let mut bad = frame.clone();
        let i = pick.index(bad.len());
        bad[i] ^= 1 << bit;
        let mut rx = receiver(&c);
        let before = bad.clone();
        let r = rx.unprotect_in_place(&c.metadata, &mut bad);
        prop_assert!(r.is_err(), "bit {} of byte {} flipped and accepted", bit, i);
        prop_assert_eq!(&bad, &before, "failed unprotect modified the frame");
        // The genuine frame still decrypts afterwards: the failure changed no state.
        let mut good = frame.clone();
        prop_assert_eq!(rx.unprotect_in_place(&c.metadata, &mut good).unwrap(), &c.payload[..]);
    }

    #[test]
    fn any_flipped_bit_in_metadata_is_rejected(c in case(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        prop_assume!(!c.metadata.is_empty());
        let frame = protect(&c);
        let mut meta = c.metadata.clone();
        let i = pick.index(meta.len());
        meta[i] ^= 1 << bit;
        let mut f = frame.clone();
        prop_assert_eq!(receiver(&c).unprotect_in_place(&meta, &mut f), Err(Error::AuthenticationFailed));
    }

    #[test]
    fn every_truncation_fails_cleanly(c in case()) {
        let frame = protect(&c);
        let mut rx = receiver(&c);
        for cut in 0..frame.len() {
            let mut f = frame[..cut].to_vec();
            let r = rx.unprotect_in_place(&c.metadata, &mut f);
            prop_assert!(
                matches!(r, Err(Error::MalformedFrame | Error::AuthenticationFailed)),
                "cut at {}: {:?}", cut, r
            );
        }
        // Nothing above moved the replay window: the whole frame still decrypts.
        let mut f = frame.clone();
        prop_assert_eq!(rx.unprotect_in_place(&c.metadata, &mut f).unwrap(), &c.payload[..]);
    }

    #[test]
    fn wrong_key_or_kid_is_rejected(c in case()) {
        let frame = protect(&c);
        let mut other = Receiver::new(c.suite);
        let mut key = c.key.clone();
        key[0] ^= 1;
        other.add_key(c.kid, &key).unwrap();
        prop_assert_eq!(other.unprotect_vec(&c.metadata, &frame), Err(Error::AuthenticationFailed));
        let mut none = Receiver::new(c.suite);
        none.add_key(c.kid ^ 1, &c.key).unwrap();
        prop_assert_eq!(none.unprotect_vec(&c.metadata, &frame), Err(Error::UnknownKeyId));
    }
}

#[test]
fn counter_exhaustion_is_an_error_not_a_wrap() {
    let mut tx = Sender::new(CipherSuite::AesGcm128Sha256);
    tx.set_key_with_counter(1, &[3; 16], sframe_core::Counter(u64::MAX))
        .unwrap();
    let last = tx.protect_vec(b"", b"x").unwrap();
    assert_eq!(Header::parse(&last).unwrap().0.counter(), u64::MAX);
    assert_eq!(tx.protect_vec(b"", b"x"), Err(Error::CounterExhausted));
    let mut out = [0u8; 64];
    assert_eq!(
        tx.protect(b"", b"x", &mut out).map(|f| f.len()),
        Err(Error::CounterExhausted)
    );
    // Re-installing the same KID does not rewind the counter.
    tx.set_key(1, &[3; 16]).unwrap();
    assert_eq!(tx.protect_vec(b"", b"x"), Err(Error::CounterExhausted));
}

#[test]
fn short_output_buffer_uses_no_counter() {
    let mut tx = Sender::new(CipherSuite::AesCtr128HmacSha256_32);
    tx.set_key(1, &[3; 16]).unwrap();
    let mut small = [0u8; 8];
    assert_eq!(
        tx.protect(b"", b"0123456789", &mut small).map(|f| f.len()),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(small, [0u8; 8]);
    assert_eq!(tx.next_counter(), Some(0));
    let f = tx.protect_vec(b"", b"0123456789").unwrap();
    assert_eq!(Header::parse(&f).unwrap().0.counter(), 0);
}
