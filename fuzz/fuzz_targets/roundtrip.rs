//! protect → unprotect with arbitrary suite, KID, CTR, base key, metadata and payload
//! (RFC 9605 §4.4.3): always succeeds and returns the payload; a sender's three protect APIs
//! write the bytes of `hazmat::protect_frame` at the counter they use; the header carries the
//! KID and CTR; a replay and a tampered frame fail.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sframe_core::{Counter, Error, Header, MIN_BASE_KEY_LEN, Receiver, Sender, hazmat};

#[derive(Arbitrary, Debug)]
struct Input {
    suite: u8,
    kid: u64,
    ctr: u64,
    base_key: Vec<u8>,
    metadata: Vec<u8>,
    payload: Vec<u8>,
    /// Bit to flip for the tamper check.
    flip: u32,
}

fuzz_target!(|input: Input| {
    let suite = common::suite(input.suite);
    let Input {
        kid,
        ctr,
        metadata,
        payload,
        ..
    } = &input;
    let mut base_key = input.base_key.clone();

    let mut tx = Sender::new(suite);
    if base_key.len() < MIN_BASE_KEY_LEN {
        assert_eq!(
            tx.set_key_with_counter(*kid, &base_key, Counter(*ctr)),
            Err(Error::InvalidKey)
        );
        let mut out = vec![0u8; payload.len() + suite.max_overhead()];
        assert_eq!(
            hazmat::protect_frame(
                suite,
                *kid,
                Counter(*ctr),
                &base_key,
                metadata,
                payload,
                &mut out
            ),
            Err(Error::InvalidKey)
        );
        base_key.resize(MIN_BASE_KEY_LEN, 0x55);
    }

    // The frame at (KID, CTR), made with no state (`hazmat`): fuzz inputs repeat keys, KIDs
    // and counters, and no sender makes a frame at a counter it (or, once counters are
    // remembered per key, an earlier sender of this process) already used.
    let frame_at = |c: u64| {
        let mut out = vec![0u8; payload.len() + suite.max_overhead()];
        let n = hazmat::protect_frame(
            suite,
            *kid,
            Counter(c),
            &base_key,
            metadata,
            payload,
            &mut out,
        )
        .expect("hazmat protect");
        out.truncate(n);
        out
    };
    let a = frame_at(*ctr);

    // One sender's three protect APIs each write the frame at the counter it is at: `ctr` for
    // a key new to the process. Which API goes first (at `ctr` itself) varies with the input,
    // so each one meets every counter, `u64::MAX` included.
    let mut s = Sender::new(suite);
    s.set_key_with_counter(*kid, &base_key, Counter(*ctr))
        .expect("set key");
    let max = s.max_output_len(payload.len());
    assert_eq!(max, payload.len() + suite.max_overhead());
    let first = input.flip as usize % 3;
    for api in (0..3).map(|k| (first + k) % 3) {
        let Some(c) = s.next_counter() else {
            // The counter space of this key is spent: refused, nothing used.
            assert_eq!(
                s.protect_vec(metadata, payload),
                Err(Error::CounterExhausted)
            );
            break;
        };
        let got = match api {
            0 => {
                let mut out = vec![0u8; max];
                s.protect(metadata, payload, &mut out)
                    .expect("protect")
                    .to_vec()
            }
            1 => {
                let mut buf = vec![0u8; max];
                buf[..payload.len()].copy_from_slice(payload);
                let n = s
                    .protect_in_place(metadata, &mut buf, payload.len())
                    .expect("protect_in_place")
                    .len();
                buf.truncate(n);
                buf
            }
            _ => s.protect_vec(metadata, payload).expect("protect_vec"),
        };
        assert_eq!(got, frame_at(c), "sender API {api} at counter {c}");
        assert_eq!(s.next_counter(), c.checked_add(1));
    }
    drop(s);

    let (header, hlen) = Header::parse(&a).expect("own header parses");
    assert_eq!((header.key_id(), header.counter()), (*kid, *ctr));
    assert_eq!(a.len(), hlen + payload.len() + suite.tag_len());
    assert!(a.len() <= max);

    let mut rx = Receiver::new(suite);
    rx.add_key(*kid, &base_key).expect("add key");
    let mut frame = a.clone();
    let pt = rx
        .unprotect_in_place(metadata, &mut frame)
        .expect("own frame unprotects");
    assert_eq!(pt, &payload[..]);
    assert_eq!(rx.highest_counter(*kid), Some(*ctr));
    assert_eq!(rx.unprotect_vec(metadata, &a), Err(Error::Replay));

    // Tampering with any bit fails. Skipped for the 4-byte tag (2^-32 chance of a valid
    // forgery would make a reproducible false alarm possible; the other suites are ≤ 2^-64).
    if suite.tag_len() >= 8 {
        let mut bad = a.clone();
        let bit = input.flip as usize % (bad.len() * 8);
        bad[bit / 8] ^= 1 << (bit % 8);
        let mut rx2 = Receiver::new(suite);
        rx2.add_key(*kid, &base_key).expect("add key");
        assert!(
            rx2.unprotect_vec(metadata, &bad).is_err(),
            "tampered frame accepted"
        );
        assert_eq!(rx2.highest_counter(*kid), None);
        // Different metadata fails too.
        let mut other = metadata.clone();
        other.push(0);
        assert_eq!(
            rx2.unprotect_vec(&other, &a),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(rx2.unprotect_vec(metadata, &a).as_deref(), Ok(&payload[..]));
    }
});
