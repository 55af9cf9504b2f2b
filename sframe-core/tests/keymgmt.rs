//! Key management rules: replay window edges, no state change on failure, key store
//! capacity, usage limits, §5.1 ratcheting with a bounded look-ahead, §5.2 MLS epochs, and
//! header-only inspection. Every test checks behaviour through the public API only.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::{Generation, RatchetLayout};
use sframe_core::{
    CipherSuite, Error, FixedKeyStore, FrameInfo, Header, KeyUsage, Limits, Receiver,
    ReceiverConfig, Sender, inspect,
};

const SUITE: CipherSuite = CipherSuite::AesCtr128HmacSha256_80;
/// A base key no other sender of this process has used. Senders claim their keys
/// process-wide (a second live sender of a key is `KeyInUse`; a dropped sender's counters
/// resume in the next one), and cargo runs this file's tests in parallel in one process: every
/// test, and every proptest case that needs counters from 0, takes its own keys.
fn fresh_key() -> Vec<u8> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("keymgmt base key #{}", NEXT.fetch_add(1, Ordering::Relaxed)).into_bytes()
}

/// Six fresh MLS epoch secrets (see [`fresh_key`]).
fn epoch_secrets() -> [Vec<u8>; 6] {
    std::array::from_fn(|_| fresh_key())
}

fn pair(kid: u64, base: &[u8]) -> (Sender, Receiver) {
    let mut tx = Sender::new(SUITE);
    tx.set_key(kid, base).unwrap();
    let mut rx = Receiver::new(SUITE);
    rx.add_key(kid, base).unwrap();
    (tx, rx)
}

/// `n` frames with counters `first..first + n` under `tx`'s key (`base`). A sender never
/// moves a counter back (nor does a new one for the same key in this process), so callers ask
/// for counters in ascending order.
fn frames(tx: &mut Sender, base: &[u8], first: u64, n: u64) -> Vec<Vec<u8>> {
    let kid = tx.key_id().unwrap();
    tx.set_key_with_counter(kid, base, sframe_core::Counter(first))
        .unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(first),
        "counters asked in ascending order"
    );
    (0..n)
        .map(|i| tx.protect_vec(b"m", &i.to_be_bytes()).unwrap())
        .collect()
}

fn open(rx: &mut Receiver, frame: &[u8]) -> Result<Vec<u8>, Error> {
    rx.unprotect_vec(b"m", frame)
}

// ---------------------------------------------------------------- replay window edges

#[test]
fn replay_window_edges_default_size() {
    let base = &fresh_key();
    let (mut tx, mut rx) = pair(1, base);
    assert_eq!(rx.config().replay_window(), 512);
    // One sender, counters in ascending order.
    let just_outside = frames(&mut tx, base, 1000 - 512, 1);
    let oldest_inside = frames(&mut tx, base, 1000 - 511, 1);
    let f = frames(&mut tx, base, 1000, 1);
    let next = frames(&mut tx, base, 1001, 1);

    open(&mut rx, &f[0]).unwrap();
    assert_eq!(
        open(&mut rx, &f[0]),
        Err(Error::Replay),
        "duplicate of the highest"
    );
    assert_eq!(
        open(&mut rx, &just_outside[0]),
        Err(Error::Replay),
        "512 behind is too old"
    );
    open(&mut rx, &oldest_inside[0]).unwrap();
    assert_eq!(
        open(&mut rx, &oldest_inside[0]),
        Err(Error::Replay),
        "duplicate at the edge"
    );
    open(&mut rx, &next[0]).unwrap();
    // The window moves with the highest counter: on a receiver that saw 1000 and 1001 only,
    // 489 (= 1001 - 512) is outside even though never seen.
    let mut moved = Receiver::new(SUITE);
    moved.add_key(1, base).unwrap();
    open(&mut moved, &f[0]).unwrap();
    open(&mut moved, &next[0]).unwrap();
    assert_eq!(open(&mut moved, &oldest_inside[0]), Err(Error::Replay));
    assert_eq!(rx.highest_counter(1), Some(1001));
}

#[test]
fn replay_window_configurable_and_off() {
    let base = &fresh_key();
    let (mut tx, _) = pair(2, base);
    let with_window = |size| -> Result<Receiver, Error> {
        let mut rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_replay_window(size)?);
        rx.add_key(2, base)?;
        Ok(rx)
    };
    let mut rx = with_window(4).unwrap();
    let f = frames(&mut tx, base, 0, 10);
    open(&mut rx, &f[9]).unwrap();
    open(&mut rx, &f[6]).unwrap(); // 9 - 3: oldest inside
    assert_eq!(open(&mut rx, &f[5]), Err(Error::Replay)); // 9 - 4: outside
    assert_eq!(with_window(1025).err(), Some(Error::InvalidConfig));
    let mut rx = with_window(0).unwrap();
    open(&mut rx, &f[9]).unwrap(); // replay protection off: duplicates pass
    open(&mut rx, &f[9]).unwrap();
    open(&mut rx, &f[0]).unwrap();
}

// ------------------------------------------------------ a failure changes nothing else

#[test]
fn failed_unprotect_changes_no_state_but_auth_failures() {
    let base = &fresh_key();
    let (mut tx, mut rx) = pair(7, base);
    let f = frames(&mut tx, base, 10, 3);
    open(&mut rx, &f[1]).unwrap(); // highest = 11
    let usage_before = rx.usage(7).unwrap();

    // A frame claiming a much higher counter, with a bad tag: must not move the window.
    let mut forged = tx.protect_vec(b"m", b"x").unwrap(); // ctr 13
    let (h, hl) = Header::parse(&forged).unwrap();
    let mut hdr = [0u8; 17];
    let n = Header::new(h.key_id(), 5000).encode(&mut hdr).unwrap();
    forged.splice(..hl, hdr[..n].iter().copied());
    let before = forged.clone();
    assert_eq!(
        rx.unprotect_in_place(b"m", &mut forged),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(forged, before, "frame bytes untouched on failure");

    // Wrong metadata on a genuine frame.
    let mut genuine = f[2].clone();
    assert_eq!(
        rx.unprotect_in_place(b"other", &mut genuine),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(genuine, f[2]);

    assert_eq!(rx.highest_counter(7), Some(11), "window not moved");
    assert!(rx.has_key(7));
    assert_eq!(
        rx.usage(7).unwrap(),
        KeyUsage {
            frames: usage_before.frames,
            auth_failures: usage_before.auth_failures + 2
        }
    );
    // Both older and newer genuine frames still open: nothing was recorded as seen.
    open(&mut rx, &f[0]).unwrap();
    open(&mut rx, &f[2]).unwrap();
    assert_eq!(rx.usage(7).unwrap().frames, usage_before.frames + 2);

    // Other failures (replay, malformed, unknown key) do not count as forgeries.
    assert_eq!(open(&mut rx, &f[0]), Err(Error::Replay));
    assert_eq!(open(&mut rx, &f[0][..3]), Err(Error::MalformedFrame));
    let (mut other, _) = pair(8, base);
    assert_eq!(
        open(&mut rx, &other.protect_vec(b"m", b"?").unwrap()),
        Err(Error::UnknownKeyId)
    );
    assert_eq!(
        rx.usage(7).unwrap().auth_failures,
        usage_before.auth_failures + 2
    );
}

// ------------------------------------------------------------------ store capacity

#[test]
fn fixed_store_capacity_full() {
    let base = &fresh_key();
    let secret = fresh_key();
    let layout = MlsKidLayout::new(4, 4).unwrap();
    let config = ReceiverConfig::new(SUITE).with_mls(layout, 3).unwrap();
    let mut rx = Receiver::<FixedKeyStore<2>>::with_store(config);
    rx.add_key(1, base).unwrap();
    rx.add_key(2, base).unwrap();
    assert_eq!(rx.add_key(3, base), Err(Error::KeyStoreFull));
    assert_eq!(rx.key_count(), 2);
    rx.add_key(2, b"another 16B key!").unwrap(); // replacing needs no new slot
    assert!(rx.remove_key(1));
    assert!(!rx.remove_key(1));
    rx.add_key(3, base).unwrap();
    assert!(rx.has_key(3) && !rx.has_key(1));

    // A full store also refuses a derived (MLS) key — before decrypting anything.
    rx.add_mls_epoch(1, &secret).unwrap();
    let mut tx = Sender::new(SUITE);
    tx.set_mls_key(&layout, &secret, 1, 9).unwrap();
    let frame = tx.protect_vec(b"", b"x").unwrap();
    let mut copy = frame.clone();
    assert_eq!(
        rx.unprotect_in_place(b"", &mut copy),
        Err(Error::KeyStoreFull)
    );
    assert_eq!(copy, frame);
    rx.remove_key(2);
    assert_eq!(rx.unprotect_vec(b"", &frame).unwrap(), b"x");
}

// -------------------------------------------------------------------- usage limits

#[test]
fn sender_encryption_limit() {
    let base = &fresh_key();
    let (mut tx, mut rx) = pair(3, base);
    tx.set_limits(Limits {
        max_encryptions: 3,
        ..Limits::for_suite(SUITE)
    });
    for _ in 0..3 {
        let f = tx.protect_vec(b"m", b"ok").unwrap();
        assert_eq!(open(&mut rx, &f).unwrap(), b"ok");
    }
    assert_eq!(tx.protect_vec(b"", b"no"), Err(Error::KeyUsageLimit));
    let mut buf = [0u8; 64];
    assert_eq!(
        tx.protect(b"", b"no", &mut buf).map(|f| f.len()),
        Err(Error::KeyUsageLimit)
    );
    assert_eq!(
        tx.next_counter(),
        Some(3),
        "a refused frame uses no counter"
    );
    assert_eq!(tx.usage().unwrap().frames, 3);
    tx.set_key(4, base).unwrap(); // rotation gives a fresh budget
    assert!(tx.protect_vec(b"", b"yes").is_ok());
}

#[test]
fn receiver_forgery_limit() {
    let base = &fresh_key();
    let (mut tx, _) = pair(5, base);
    let mut rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_limits(Limits {
        max_auth_failures: 2,
        ..Limits::for_suite(SUITE)
    }));
    rx.add_key(5, base).unwrap();
    let good = tx.protect_vec(b"m", b"good").unwrap();
    for _ in 0..2 {
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(open(&mut rx, &bad), Err(Error::AuthenticationFailed));
    }
    assert_eq!(
        open(&mut rx, &good),
        Err(Error::KeyUsageLimit),
        "key refused past the limit"
    );
    assert_eq!(rx.usage(5).unwrap().auth_failures, 2);
    rx.add_key(5, base).unwrap(); // re-announcing the same key resets nothing
    assert_eq!(open(&mut rx, &good), Err(Error::KeyUsageLimit));
    rx.add_key(5, b"another 16B key!").unwrap(); // a new key starts with fresh counters
    assert_eq!(rx.usage(5).unwrap().auth_failures, 0);
}

#[test]
fn counter_exhaustion_and_counter_kept_on_same_kid() {
    let base = &fresh_key();
    let mut tx = Sender::new(SUITE);
    tx.set_key_with_counter(9, base, sframe_core::Counter(u64::MAX))
        .unwrap();
    let last = tx.protect_vec(b"", b"last").unwrap();
    assert_eq!(Header::parse(&last).unwrap().0.counter(), u64::MAX);
    assert_eq!(tx.protect_vec(b"", b"wrap"), Err(Error::CounterExhausted));
    tx.set_key(9, base).unwrap(); // same KID: the counter is not rewound
    assert_eq!(tx.protect_vec(b"", b"wrap"), Err(Error::CounterExhausted));
    tx.set_key(10, base).unwrap();
    assert_eq!(tx.next_counter(), Some(0));
}

#[test]
fn going_back_to_a_recent_kid_resumes_its_counter() {
    let base = &fresh_key();
    let mut tx = Sender::new(SUITE);
    tx.set_key(1, base).unwrap();
    for _ in 0..3 {
        tx.protect_vec(b"", b"x").unwrap();
    }
    tx.set_key(2, base).unwrap();
    tx.protect_vec(b"", b"y").unwrap();
    tx.set_key(1, base).unwrap();
    assert_eq!(tx.next_counter(), Some(3), "KID 1 resumes, no nonce reused");
    assert_eq!(tx.usage().unwrap().frames, 3);
    tx.set_key(2, base).unwrap();
    assert_eq!(tx.next_counter(), Some(1));
    // The memory holds the last RETIRED_KIDS keys; an explicit counter always wins.
    for kid in 100..100 + sframe_core::RETIRED_KIDS as u64 {
        tx.set_key(kid, base).unwrap();
        tx.protect_vec(b"", b"z").unwrap();
    }
    tx.set_key(2, base).unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(1),
        "KID 2 was retired within the last 8"
    );
    tx.set_key(1, base).unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(3),
        "with alloc a sender remembers every key it used, not only the last RETIRED_KIDS"
    );
    tx.set_key_with_counter(1, base, sframe_core::Counter(50))
        .unwrap();
    assert_eq!(tx.next_counter(), Some(50));
    // A ratcheting generation installed twice does not rewind either.
    let layout = RatchetLayout::default();
    let kid = tx.set_ratcheting_key(layout, Generation(9), base).unwrap();
    tx.protect_vec(b"", b"r").unwrap();
    assert_eq!(tx.set_ratcheting_key(layout, Generation(9), base), Ok(kid));
    assert_eq!(tx.next_counter(), Some(1));
}

// -------------------------------------------------------------------- §5.1 ratchet

#[test]
fn sender_ratchet_moves_kid_and_resets_counter() {
    let base = &fresh_key();
    let layout = RatchetLayout::new(2).unwrap();
    let mut tx = Sender::new(SUITE);
    assert_eq!(tx.ratchet(), Err(Error::NoKey));
    let kid0 = tx.set_ratcheting_key(layout, Generation(3), base).unwrap();
    assert_eq!(kid0, 3 << 2);
    tx.protect_vec(b"", b"a").unwrap();
    tx.protect_vec(b"", b"b").unwrap();
    let mut kids = vec![kid0];
    for step in 1..=5u64 {
        let kid = tx.ratchet().unwrap();
        assert_eq!(kid, (3 << 2) | (step % 4));
        assert_eq!(tx.next_counter(), Some(0));
        assert_eq!(tx.ratchet_step(), Some(step));
        kids.push(kid);
    }
    assert_eq!(kids[4], kids[0], "the step wraps in R = 2 bits");
    tx.set_key(1, base).unwrap();
    assert_eq!(tx.ratchet_step(), None, "a plain key ends the chain");
    assert_eq!(tx.ratchet(), Err(Error::NoKey));
}

#[test]
fn ratchet_matches_rfc_formula() {
    let base = &fresh_key();
    // base_key[1] = HKDF-Expand(HKDF-Extract("", base_key[0]), "SFrame 1.0 Ratchet", Nh);
    // a receiver given base_key[1] directly under KID (g, 1) must open step-1 frames.
    for suite in CipherSuite::ALL {
        let layout = RatchetLayout::default();
        let mut tx = Sender::new(suite);
        tx.set_ratcheting_key(layout, Generation(0), base).unwrap();
        let kid1 = tx.ratchet().unwrap();
        let mut bk1 = [0u8; 64];
        let n = sframe_core::ratchet::next_base_key(suite, base, &mut bk1).unwrap();
        assert_eq!(n, suite.hash_len());
        let mut rx = Receiver::new(suite);
        rx.add_key(kid1, &bk1[..n]).unwrap();
        let f = tx.protect_vec(b"", b"step 1").unwrap();
        assert_eq!(rx.unprotect_vec(b"", &f).unwrap(), b"step 1", "{suite}");
    }
}

#[test]
fn receiver_ratchets_forward_within_lookahead_only() {
    let base = &fresh_key();
    let layout = RatchetLayout::new(4).unwrap();
    let mut tx = Sender::new(SUITE);
    let kid0 = tx.set_ratcheting_key(layout, Generation(1), base).unwrap();
    let mut rx = Receiver::with_config(
        ReceiverConfig::new(SUITE)
            .with_ratchet_lookahead(3)
            .unwrap(),
    );
    rx.add_ratcheting_key(layout, kid0, base).unwrap();
    assert_eq!(
        ReceiverConfig::new(SUITE).with_ratchet_lookahead(1025),
        Err(Error::InvalidConfig)
    );

    let f0 = tx.protect_vec(b"", b"step 0").unwrap();
    // Jump 3 steps: exactly the look-ahead.
    tx.ratchet().unwrap();
    tx.ratchet().unwrap();
    let kid3 = tx.ratchet().unwrap();
    let f3 = tx.protect_vec(b"", b"step 3").unwrap();
    assert_eq!(open_plain(&mut rx, &f3), Ok(b"step 3".to_vec()));
    assert!(rx.has_key(kid3));
    // The previous chain head (step 0) is kept for late frames.
    assert_eq!(open_plain(&mut rx, &f0), Ok(b"step 0".to_vec()));

    // Jump 4 steps: one beyond the look-ahead — refused without deriving a key.
    for _ in 0..4 {
        tx.ratchet().unwrap();
    }
    let f7 = tx.protect_vec(b"", b"step 7").unwrap();
    assert_eq!(open_plain(&mut rx, &f7), Err(Error::UnknownKeyId));
    assert!(!rx.has_key(layout.kid(Generation(1), 7).unwrap()));

    // One step at a time works, and keeps only the newest two steps.
    let mut tx2 = Sender::new(SUITE);
    let k0 = tx2.set_ratcheting_key(layout, Generation(2), base).unwrap();
    rx.add_ratcheting_key(layout, k0, base).unwrap();
    let mut kids = vec![k0];
    for step in 1..=20u64 {
        let kid = tx2.ratchet().unwrap();
        let f = tx2.protect_vec(b"", &step.to_be_bytes()).unwrap();
        assert_eq!(
            open_plain(&mut rx, &f),
            Ok(step.to_be_bytes().to_vec()),
            "step {step}"
        );
        kids.push(kid);
        assert!(rx.has_key(kid));
        assert!(rx.has_key(kids[kids.len() - 2]), "previous step kept");
        if kids.len() >= 3 {
            assert!(!rx.has_key(kids[kids.len() - 3]), "older steps forgotten");
        }
    }
}

fn open_plain(rx: &mut Receiver, f: &[u8]) -> Result<Vec<u8>, Error> {
    rx.unprotect_vec(b"", f)
}

#[test]
fn forged_ratchet_header_changes_nothing() {
    let base = &fresh_key();
    let layout = RatchetLayout::new(4).unwrap();
    let mut tx = Sender::new(SUITE);
    let kid0 = tx.set_ratcheting_key(layout, Generation(0), base).unwrap();
    let mut rx = Receiver::new(SUITE);
    rx.add_ratcheting_key(layout, kid0, base).unwrap();
    let f0 = tx.protect_vec(b"", b"zero").unwrap();

    // A frame claiming step 1, but encrypted under some other key.
    let mut liar = Sender::new(SUITE);
    liar.set_key(layout.kid(Generation(0), 1).unwrap(), &fresh_key())
        .unwrap();
    let forged = liar.protect_vec(b"", b"evil").unwrap();
    assert_eq!(
        open_plain(&mut rx, &forged),
        Err(Error::AuthenticationFailed)
    );
    assert!(
        !rx.has_key(layout.kid(Generation(0), 1).unwrap()),
        "no key stored for a forged step"
    );
    assert_eq!(rx.key_count(), 1);
    assert_eq!(
        rx.usage(kid0).unwrap().auth_failures,
        1,
        "counted on the chain head"
    );

    // The real chain is intact: step 0 and then step 1 both open.
    assert_eq!(open_plain(&mut rx, &f0), Ok(b"zero".to_vec()));
    tx.ratchet().unwrap();
    let f1 = tx.protect_vec(b"", b"one").unwrap();
    assert_eq!(open_plain(&mut rx, &f1), Ok(b"one".to_vec()));
}

#[test]
fn ratchet_late_joiner_gets_current_step_only() {
    let key = &fresh_key();
    let layout = RatchetLayout::new(4).unwrap();
    let mut tx = Sender::new(SUITE);
    let mut base = [0u8; 64];
    assert_eq!(tx.ratchet_base_key(&mut base), Err(Error::NoKey));
    assert_eq!(
        tx.set_ratcheting_key(layout, Generation(0), &[1; 65]),
        Ok(0)
    );
    assert_eq!(
        tx.ratchet_base_key(&mut base),
        Err(Error::InvalidKey),
        "65-byte key not kept"
    );
    tx.set_ratcheting_key(layout, Generation(0), key).unwrap();
    assert_eq!(tx.ratchet_base_key(&mut base), Ok(key.len()));
    assert_eq!(&base[..key.len()], key);

    let mut early = Receiver::new(SUITE);
    early
        .add_ratcheting_key(layout, tx.key_id().unwrap(), key)
        .unwrap();
    let old_frames: Vec<_> = (0..3)
        .map(|_| tx.protect_vec(b"", b"before").unwrap())
        .collect();

    // A newcomer: the sender ratchets, then shares base_key[1] and the KID.
    let kid1 = tx.ratchet().unwrap();
    let n = tx.ratchet_base_key(&mut base).unwrap();
    let mut expected = [0u8; 64];
    let m = sframe_core::ratchet::next_base_key(SUITE, key, &mut expected).unwrap();
    assert_eq!(
        &base[..n],
        &expected[..m],
        "the shared key is base_key[1] of §5.1"
    );
    let mut short = [0u8; 8];
    assert_eq!(tx.ratchet_base_key(&mut short), Err(Error::BufferTooSmall));
    let mut newcomer = Receiver::new(SUITE);
    newcomer
        .add_ratcheting_key(layout, kid1, &base[..n])
        .unwrap();

    tx.ratchet().unwrap(); // and later steps follow by themselves
    let f2 = tx.protect_vec(b"", b"after").unwrap();
    assert_eq!(open_plain(&mut newcomer, &f2), Ok(b"after".to_vec()));
    assert_eq!(open_plain(&mut early, &f2), Ok(b"after".to_vec()));
    for f in &old_frames {
        // Step 0's bits are 14 "ahead" of step 2 modulo 2^4, more than half the step space:
        // read as an older step, which the newcomer never had.
        assert_eq!(open_plain(&mut newcomer, f), Err(Error::UnknownKeyId));
    }
    let mut newcomer = Receiver::with_config(
        ReceiverConfig::new(SUITE)
            .with_ratchet_lookahead(1024)
            .unwrap(),
    );
    newcomer
        .add_ratcheting_key(layout, kid1, &base[..n])
        .unwrap();
    assert_eq!(open_plain(&mut newcomer, &f2), Ok(b"after".to_vec()));
    assert_eq!(
        open_plain(&mut newcomer, &old_frames[0]),
        Err(Error::UnknownKeyId),
        "a large look-ahead still never treats an old step as a future one"
    );
    assert_eq!(
        newcomer.usage(tx.key_id().unwrap()).unwrap().auth_failures,
        0
    );
}

// ------------------------------------------------------------------------ §5.2 MLS

#[test]
fn mls_kid_and_key_are_the_rfc_ones() {
    let epochs = epoch_secrets();
    let layout = MlsKidLayout::new(4, 6).unwrap();
    let key = sframe_core::mls::sender_key(SUITE, &layout, &epochs[0], 17, 51).unwrap();
    assert_eq!(key.key_id(), 0x331);
    // The same key as installing the exported secret as a base key under that KID (§4.4.2).
    let mut tx = Sender::new(SUITE);
    tx.set_derived_key(key).unwrap();
    let mut rx = Receiver::new(SUITE);
    rx.add_key(0x331, &epochs[0]).unwrap();
    let f = tx.protect_vec(b"", b"x").unwrap();
    assert_eq!(rx.unprotect_vec(b"", &f).unwrap(), b"x");
    assert_eq!(sframe_core::mls::EXPORTER_LABEL, "SFrame 1.0 Base Key");
    assert_eq!(
        sframe_core::mls::exporter_len(CipherSuite::AesGcm256Sha512),
        32
    );
}

#[test]
fn mls_epoch_change_and_old_epoch_expiry() {
    let epochs = epoch_secrets();
    let layout = MlsKidLayout::new(4, 3).unwrap();
    let mut alice = Sender::new(SUITE);
    let mut bob = Receiver::new(SUITE);
    assert_eq!(bob.add_mls_epoch(0, &epochs[0]), Err(Error::InvalidConfig));
    let config = ReceiverConfig::new(SUITE);
    assert_eq!(config.with_mls(layout, 0), Err(Error::InvalidConfig));
    assert_eq!(config.with_mls(layout, 9), Err(Error::InvalidConfig));
    let mut bob = Receiver::with_config(config.with_mls(layout, 3).unwrap());
    assert_eq!(bob.add_mls_epoch(0, &[1; 15]), Err(Error::InvalidKey));

    // Epoch 0.
    bob.add_mls_epoch(0, &epochs[0]).unwrap();
    let kid_e0 = alice.set_mls_key(&layout, &epochs[0], 0, 5).unwrap();
    let e0_frames: Vec<_> = (0..3)
        .map(|_| alice.protect_vec(b"", b"e0").unwrap())
        .collect();
    assert_eq!(open_plain(&mut bob, &e0_frames[0]), Ok(b"e0".to_vec()));
    assert!(bob.has_key(kid_e0));

    // Re-adding the same epoch (idempotent key distribution) must not reset the window.
    bob.add_mls_epoch(0, &epochs[0]).unwrap();
    assert!(bob.has_key(kid_e0));
    assert_eq!(open_plain(&mut bob, &e0_frames[0]), Err(Error::Replay));
    // Epoch change: new KID, counter 0; the late epoch-0 frame still opens.
    bob.add_mls_epoch(1, &epochs[1]).unwrap();
    let kid_e1 = alice.set_mls_key(&layout, &epochs[1], 1, 5).unwrap();
    assert_ne!(kid_e0, kid_e1);
    assert_eq!(alice.next_counter(), Some(0));
    let e1 = alice.protect_vec(b"", b"e1").unwrap();
    assert_eq!(open_plain(&mut bob, &e1), Ok(b"e1".to_vec()));
    assert_eq!(open_plain(&mut bob, &e0_frames[1]), Ok(b"e0".to_vec()));

    // Epochs 2 and 3 arrive: with 3 kept, epoch 0 is forgotten with its member keys.
    bob.add_mls_epoch(2, &epochs[2]).unwrap();
    assert!(bob.has_mls_epoch(0));
    bob.add_mls_epoch(3, &epochs[3]).unwrap();
    assert!(!bob.has_mls_epoch(0) && bob.has_mls_epoch(1) && bob.has_mls_epoch(3));
    assert!(
        !bob.has_key(kid_e0),
        "member key of the expired epoch removed"
    );
    assert_eq!(
        open_plain(&mut bob, &e0_frames[2]),
        Err(Error::UnknownKeyId)
    );
    assert!(bob.has_key(kid_e1));
}

#[test]
fn mls_epoch_rollover_replaces_twin() {
    let epochs = epoch_secrets();
    // E = 2: epochs 1 and 5 share their low bits; §5.2 says the old one must go.
    let layout = MlsKidLayout::new(2, 3).unwrap();
    let mut rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_mls(layout, 8).unwrap());
    rx.add_mls_epoch(1, &epochs[1]).unwrap();
    let mut tx = Sender::new(SUITE);
    let kid = tx.set_mls_key(&layout, &epochs[1], 1, 2).unwrap();
    let old = tx.protect_vec(b"", b"old").unwrap();
    assert_eq!(open_plain(&mut rx, &old), Ok(b"old".to_vec()));
    rx.add_mls_epoch(5, &epochs[5]).unwrap();
    assert!(!rx.has_mls_epoch(1) && !rx.has_key(kid));
    let kid5 = tx.set_mls_key(&layout, &epochs[5], 5, 2).unwrap();
    assert_eq!(kid5, kid, "same KID, new epoch's key");
    let new = tx.protect_vec(b"", b"new").unwrap();
    assert_eq!(open_plain(&mut rx, &new), Ok(b"new".to_vec()));
    // A replay of an old-epoch frame under the same KID is refused (its counter 0 was also
    // the new key's first: the replay window answers before authentication would).
    assert!(matches!(
        open_plain(&mut rx, &old),
        Err(Error::Replay | Error::AuthenticationFailed)
    ));
}

#[test]
fn mls_removed_member_and_forged_member_frame() {
    let epochs = epoch_secrets();
    let layout = MlsKidLayout::new(4, 2).unwrap();
    let config = ReceiverConfig::new(SUITE).with_mls(layout, 3).unwrap();
    let mut carol = Receiver::with_config(config); // removed after epoch 0
    carol.add_mls_epoch(0, &epochs[0]).unwrap();
    let mut bob = Receiver::with_config(config);
    bob.add_mls_epoch(1, &epochs[1]).unwrap();

    let mut alice = Sender::new(SUITE);
    alice.set_mls_key(&layout, &epochs[1], 1, 0).unwrap();
    let f = alice.protect_vec(b"", b"after removal").unwrap();
    assert_eq!(open_plain(&mut carol, &f), Err(Error::UnknownKeyId));
    assert_eq!(open_plain(&mut bob, &f), Ok(b"after removal".to_vec()));

    // Carol forges a frame under epoch 1 with her old secret: refused, nothing stored.
    let mut forger = Sender::new(SUITE);
    forger.set_mls_key(&layout, &epochs[0], 1, 3).unwrap();
    let forged = forger.protect_vec(b"", b"fake").unwrap();
    let kid = inspect(&forged).unwrap().key_id;
    assert_eq!(
        open_plain(&mut bob, &forged),
        Err(Error::AuthenticationFailed)
    );
    assert!(!bob.has_key(kid));
}

// ------------------------------------------------------------------------ inspect

#[test]
fn inspect_reports_header_and_payload() {
    let base = &fresh_key();
    let (mut tx, _) = pair(0x1_0000, base);
    tx.set_key_with_counter(0x1_0000, base, sframe_core::Counter(300))
        .unwrap();
    let f = tx.protect_vec(b"", &[0; 100]).unwrap();
    assert_eq!(
        inspect(&f),
        Ok(FrameInfo {
            key_id: 0x1_0000,
            counter: 300,
            header_len: 1 + 3 + 2,
            payload_len: 100 + 10
        })
    );
    assert_eq!(inspect(&[0x90]), Err(Error::MalformedFrame));
}

// --------------------------------------------------- delivery orders with duplicates

/// The reference rule: a counter is accepted iff not seen before and either above the highest
/// seen or less than `window` behind it.
fn model(order: &[usize], window: u64) -> Vec<bool> {
    let mut seen = BTreeSet::new();
    let mut highest: Option<u64> = None;
    order
        .iter()
        .map(|&i| {
            let c = i as u64;
            let ok = match highest {
                None => true,
                Some(h) => c > h || (h - c < window && !seen.contains(&c)),
            };
            if ok {
                seen.insert(c);
                highest = Some(highest.map_or(c, |h| h.max(c)));
            }
            ok
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random delivery orders with duplicates: inside the window, every distinct counter is
    /// accepted exactly once; outside it, the receiver matches the reference rule exactly.
    #[test]
    fn delivery_orders_with_duplicates(
        n in 1usize..80,
        window in prop_oneof![Just(512u32), 1u32..40],
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..120),
        seed in any::<u64>(),
    ) {
        let base = &fresh_key();
        let (mut tx, _) = pair(11, base);
        let mut rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_replay_window(window).unwrap());
        rx.add_key(11, base).unwrap();
        let fs = frames(&mut tx, base, 0, n as u64);
        // A shuffled permutation of all frames, then duplicates spliced in at random places.
        let mut order: Vec<usize> = (0..n).collect();
        let mut s = seed | 1;
        for i in (1..n).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            order.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for p in &picks {
            let dup = order[p.index(order.len())];
            order.insert(p.index(order.len() + 1), dup);
        }
        let expected = model(&order, u64::from(window));
        let mut accepted = BTreeSet::new();
        for (&i, &want) in order.iter().zip(&expected) {
            let got = open(&mut rx, &fs[i]);
            match got {
                Ok(pt) => {
                    prop_assert!(want, "counter {} accepted, model says no", i);
                    prop_assert_eq!(pt, (i as u64).to_be_bytes().to_vec());
                    prop_assert!(accepted.insert(i), "counter {} accepted twice", i);
                }
                Err(e) => {
                    prop_assert!(!want, "counter {} refused ({:?}), model says yes", i, e);
                    prop_assert_eq!(e, Error::Replay);
                }
            }
        }
        if u64::from(window) >= n as u64 {
            prop_assert_eq!(accepted.len(), n, "each distinct counter accepted exactly once");
        }
        prop_assert_eq!(rx.usage(11).unwrap().frames, accepted.len() as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Arbitrary bytes — including well-formed headers naming a later ratchet step or a kept
    /// MLS epoch — never authenticate and never change which keys the receiver holds or what
    /// its windows have seen: the genuine frames open afterwards exactly as before.
    #[test]
    fn forged_frames_change_nothing(
        kid_pick in 0usize..4,
        ctr in any::<u64>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        raw in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let base = &fresh_key();
        let epochs = epoch_secrets();
        let ratchet = RatchetLayout::new(4).unwrap();
        let mls = MlsKidLayout::new(4, 4).unwrap();
        let mut rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_mls(mls, 3).unwrap());
        let mut alice = Sender::new(SUITE);
        let kid0 = alice.set_ratcheting_key(ratchet, Generation(2), base).unwrap();
        rx.add_ratcheting_key(ratchet, kid0, base).unwrap();
        rx.add_mls_epoch(1, &epochs[1]).unwrap();
        let mut bob = Sender::new(SUITE);
        bob.set_mls_key(&mls, &epochs[1], 1, 7).unwrap();
        let a0 = alice.protect_vec(b"", b"a0").unwrap();
        alice.ratchet().unwrap();
        let a1 = alice.protect_vec(b"", b"a1").unwrap();
        let b0 = bob.protect_vec(b"", b"b0").unwrap();

        let kids = [kid0, ratchet.kid(Generation(2), 1).unwrap(), mls.kid(1, 7).unwrap(), mls.kid(1, 3).unwrap()];
        let mut forged = vec![0u8; 17];
        let n = Header::new(kids[kid_pick], ctr).encode(&mut forged).unwrap();
        forged.truncate(n);
        forged.extend_from_slice(&body);
        for frame in [forged, raw] {
            prop_assert!(rx.unprotect_vec(b"", &frame).is_err());
            prop_assert_eq!(rx.key_count(), 1);
            prop_assert_eq!(rx.highest_counter(kid0), None);
        }
        prop_assert_eq!(rx.unprotect_vec(b"", &a0).unwrap(), b"a0");
        prop_assert_eq!(rx.unprotect_vec(b"", &a1).unwrap(), b"a1");
        prop_assert_eq!(rx.unprotect_vec(b"", &b0).unwrap(), b"b0");
        prop_assert_eq!(rx.key_count(), 3);
    }
}

// ------------------------------------- no allocation when deriving keys per frame

/// With the RustCrypto backend (the `no_std` one), named explicitly: aws-lc-rs allocates when
/// it builds a key, so with `AwsLc` deriving a key per frame does too.
mod common;

mod no_alloc {
    use super::*;
    use sframe_core::RustCrypto;

    fn allocations(f: impl FnOnce()) -> usize {
        super::common::allocations(f).0
    }

    #[test]
    fn counter_sees_allocations() {
        assert!(allocations(|| drop(vec![0u8; 64])) >= 1);
    }

    /// Ratchet look-ahead and MLS member-key derivation happen on the per-frame path: with
    /// a fixed store they must not allocate, on success or on a forged frame.
    #[test]
    fn derived_keys_do_not_allocate() {
        let base = &fresh_key();
        let epochs = epoch_secrets();
        let ratchet = RatchetLayout::new(4).unwrap();
        let mls = MlsKidLayout::new(4, 4).unwrap();
        let config = ReceiverConfig::new(SUITE).with_mls(mls, 3).unwrap();
        let mut rx = Receiver::<FixedKeyStore<4, RustCrypto>>::with_store(config);
        let mut alice = Sender::with_backend(RustCrypto, SUITE);
        let kid = alice
            .set_ratcheting_key(ratchet, Generation(1), base)
            .unwrap();
        rx.add_ratcheting_key(ratchet, kid, base).unwrap();
        alice.ratchet().unwrap();
        alice.ratchet().unwrap();
        rx.add_mls_epoch(3, &epochs[3]).unwrap();
        let mut bob = Sender::with_backend(RustCrypto, SUITE);
        bob.set_mls_key(&mls, &epochs[3], 3, 2).unwrap();

        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        let mut forged = [0u8; 64];
        let na = alice.protect(b"", b"ratcheted", &mut a).unwrap().len();
        let nb = bob.protect(b"", b"mls member", &mut b).unwrap().len();
        forged[..nb].copy_from_slice(&b[..nb]);
        forged[nb - 1] ^= 1;
        let n = allocations(|| {
            assert_eq!(
                rx.unprotect_in_place(b"", &mut forged[..nb]),
                Err(Error::AuthenticationFailed)
            );
            assert_eq!(
                rx.unprotect_in_place(b"", &mut a[..na]).unwrap(),
                b"ratcheted"
            );
            assert_eq!(
                rx.unprotect_in_place(b"", &mut b[..nb]).unwrap(),
                b"mls member"
            );
        });
        assert_eq!(n, 0, "{n} allocation(s) while deriving keys per frame");
        assert_eq!(rx.key_count(), 3);
    }
}
