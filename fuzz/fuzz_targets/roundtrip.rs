//! protect → unprotect with arbitrary suite, KID, CTR, base key, metadata and payload
//! (RFC 9605 §4.4.3): always succeeds and returns the payload; each of the three protect APIs
//! writes exactly the reference frame at its counter (the given one, or above where the
//! process's registry knows the key); the header carries the KID and CTR; a replay and a
//! tampered frame fail.
#![no_main]

mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sframe_core::{Error, Header, MIN_BASE_KEY_LEN, Receiver, Sender};

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
            tx.set_key_with_counter(*kid, &base_key, sframe_core::Counter(*ctr)),
            Err(Error::InvalidKey)
        );
        base_key.resize(MIN_BASE_KEY_LEN, 0x55);
    }

    // The three protect APIs, each on a sender of its own, one after the other (a live sender
    // claims its key: a second one alive at the same time is refused with KeyInUse). Senders
    // share the process's registry, so a key that an earlier sender — of this input or an
    // earlier one — used resumes where it stood: the counter is `ctr` or above, and each frame
    // is exactly the §4.4.3 reference seal at its counter.
    let fresh = || {
        let mut s = Sender::new(suite);
        s.set_key_with_counter(*kid, &base_key, sframe_core::Counter(*ctr))
            .expect("set key");
        s
    };
    let max = fresh().max_output_len(payload.len());
    let mut frames = Vec::new();
    for api in 0..3 {
        let mut s = fresh();
        let Some(c) = s.next_counter() else {
            // Every counter of this key was used (by an earlier input): nothing more to send.
            assert_eq!(
                s.protect_vec(metadata, payload),
                Err(Error::CounterExhausted)
            );
            return;
        };
        assert!(
            c >= *ctr,
            "a given counter moves the key's counter up, never down"
        );
        let frame = match api {
            0 => {
                let mut out = vec![0u8; max];
                s.protect(metadata, payload, &mut out)
                    .expect("protect")
                    .to_vec()
            }
            1 => {
                let mut inplace = vec![0u8; max];
                inplace[..payload.len()].copy_from_slice(payload);
                let n = s
                    .protect_in_place(metadata, &mut inplace, payload.len())
                    .expect("protect_in_place")
                    .len();
                inplace.truncate(n);
                inplace
            }
            _ => s.protect_vec(metadata, payload).expect("protect_vec"),
        };
        assert_eq!(s.next_counter(), c.checked_add(1));
        assert_eq!(
            frame,
            common::reference_seal(suite, *kid, &base_key, c, metadata, payload),
            "API {api} at counter {c}"
        );
        frames.push((c, frame));
    }
    let (ctr, a) = frames.swap_remove(0);
    let ctr = &ctr;

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
