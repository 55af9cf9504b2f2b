//! Model-based nonce-uniqueness test of `Sender`, and one regression test per nonce-reuse
//! scenario found in review on the sending side.
//!
//! Arbitrary sequences of every sender call (`set_key`, `set_key_with_counter`,
//! `set_derived_key` with a full or an external (salt-only) key, `set_ratcheting_key`,
//! `ratchet`, `set_mls_key`, going back to earlier keys, the three protect calls and
//! `protect_external`, dropping a sender) run over several `Sender`s that draw from one small
//! pool of KIDs and base keys, so the same key material comes up again and again. The senders
//! mix backends: odd slots pin `RustCrypto`, even slots use `DefaultBackend` (aws-lc with the
//! default features).
//!
//! The oracle knows nothing of the sender's internals: for every frame it reads (KID, CTR) from
//! the header and finds which key material made it by trial decryption with a fresh receiver
//! per candidate base key (the pool keys, their §5.1 ratchet steps, and the MLS exported
//! secrets, which §5.2 uses as base keys); for `protect_external`, whose AEAD runs outside the
//! crate, by which candidate's §4.4.2 salt XOR CTR gives the returned nonce. (KID, material, CTR) fixes (derived key, nonce):
//! none may repeat. The library promises this within a sender and between senders alive at
//! the same time on one thread (a second one is refused with `KeyInUse`); across a sender's
//! death the application resumes with `set_key_with_counter` from a persisted counter, which
//! the model does. A call that fails must change nothing.

use std::collections::HashMap;

use proptest::prelude::*;
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::{RatchetLayout, next_base_key};
use sframe_core::{
    CipherSuite, Error, Header, Key, RETIRED_KIDS, Receiver, ReceiverConfig, RustCrypto, Sender,
};

const POOL: [[u8; 16]; 3] = [[0xa1; 16], [0xb2; 16], [0xc3; 16]];
/// Ratchet steps the oracle can recognize (the model stops ratcheting a chain there).
const MAX_STEPS: u64 = 10;
const SENDERS: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    SetKey {
        s: usize,
        kid: u64,
        base: usize,
    },
    SetKeyWithCounter {
        s: usize,
        kid: u64,
        base: usize,
        ahead: u64,
    },
    SetDerivedKey {
        s: usize,
        kid: u64,
        base: usize,
    },
    /// `set_derived_key` with `Key::external`: the salt only, the AEAD elsewhere.
    SetExternalKey {
        s: usize,
        kid: u64,
        base: usize,
    },
    SetRatchetingKey {
        s: usize,
        r: u8,
        generation: u64,
        base: usize,
    },
    Ratchet {
        s: usize,
    },
    SetMlsKey {
        s: usize,
        epoch: u64,
        leaf: u32,
        secret: usize,
    },
    /// `set_key` with the current step's base key of sender `from` (what a joiner receives).
    SetKeyFromRatchetBase {
        s: usize,
        from: usize,
    },
    Protect {
        s: usize,
        how: u8,
        len: usize,
    },
    Drop {
        s: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SENDERS;
    prop_oneof![
        1 => (s.clone(), 0..4u64, 0..3usize).prop_map(|(s, kid, base)| Op::SetKey { s, kid, base }),
        1 => (s.clone(), 0..4u64, 0..3usize, 0..4u64)
            .prop_map(|(s, kid, base, ahead)| Op::SetKeyWithCounter { s, kid, base, ahead }),
        1 => (s.clone(), 0..4u64, 0..3usize)
            .prop_map(|(s, kid, base)| Op::SetDerivedKey { s, kid, base }),
        1 => (s.clone(), 0..4u64, 0..3usize)
            .prop_map(|(s, kid, base)| Op::SetExternalKey { s, kid, base }),
        1 => (s.clone(), 2..5u8, 0..2u64, 0..3usize).prop_map(|(s, r, generation, base)| {
            Op::SetRatchetingKey { s, r, generation, base }
        }),
        1 => (s.clone()).prop_map(|s| Op::Ratchet { s }),
        1 => (s.clone(), 0..6u64, 0..3u32, 0..3usize)
            .prop_map(|(s, epoch, leaf, secret)| Op::SetMlsKey { s, epoch, leaf, secret }),
        1 => (s.clone(), 0..SENDERS).prop_map(|(s, from)| Op::SetKeyFromRatchetBase { s, from }),
        5 => (s.clone(), 0..4u8, 0..24usize).prop_map(|(s, how, len)| Op::Protect { s, how, len }),
        1 => (s).prop_map(|s| Op::Drop { s }),
    ]
}

/// Candidate base keys: the pool keys and their ratchet steps 1..=MAX_STEPS.
struct Candidates {
    bases: Vec<Vec<u8>>,
}

impl Candidates {
    fn new(suite: CipherSuite) -> Self {
        let mut bases = Vec::new();
        for p in POOL {
            let mut cur = p.to_vec();
            bases.push(cur.clone());
            for _ in 0..MAX_STEPS {
                let mut next = [0u8; 64];
                let n = next_base_key(suite, &cur, &mut next).unwrap();
                cur = next[..n].to_vec();
                bases.push(cur.clone());
            }
        }
        Candidates { bases }
    }
}

/// The independent oracle: which (KID, base key) made a frame.
struct Oracle {
    suite: CipherSuite,
    candidates: Candidates,
    receivers: HashMap<(u64, usize), Receiver>,
}

impl Oracle {
    fn new(suite: CipherSuite) -> Self {
        Oracle {
            suite,
            candidates: Candidates::new(suite),
            receivers: HashMap::new(),
        }
    }

    fn identify(&mut self, meta: &[u8], frame: &[u8]) -> (u64, usize, u64) {
        let (header, _) = Header::parse(frame).expect("sender made a malformed header");
        let kid = header.key_id();
        let mut found = Vec::new();
        for (i, base) in self.candidates.bases.iter().enumerate() {
            let rx = self.receivers.entry((kid, i)).or_insert_with(|| {
                let config = ReceiverConfig::new(self.suite)
                    .with_replay_window(0)
                    .unwrap();
                let mut rx = Receiver::with_config(config);
                rx.add_key(kid, base).unwrap();
                rx
            });
            if rx.unprotect_vec(meta, frame).is_ok() {
                found.push(i);
            }
        }
        assert_eq!(
            found.len(),
            1,
            "frame KID {kid}: made by {found:?} of the candidates"
        );
        (kid, found[0], header.counter())
    }

    /// Which candidate made an external frame: the one whose §4.4.2 salt for `kid` XOR `ctr`
    /// is `nonce` (exactly one).
    fn identify_external(&self, kid: u64, ctr: u64, nonce: &[u8; 12]) -> (u64, usize, u64) {
        let found: Vec<usize> = (0..self.candidates.bases.len())
            .filter(|&i| {
                let (_, salt) =
                    derive_key_and_salt(self.suite, kid, &self.candidates.bases[i]).unwrap();
                let mut n = *salt;
                for (b, c) in n[4..].iter_mut().zip(ctr.to_be_bytes()) {
                    *b ^= c;
                }
                &n == nonce
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "external frame KID {kid}: made by {found:?}"
        );
        (kid, found[0], ctr)
    }

    /// Candidate index of a pool key (step 0 of its chain).
    fn pool(&self, i: usize) -> usize {
        i * (MAX_STEPS as usize + 1)
    }
}

/// A sender of either backend: odd sender slots pin `RustCrypto`, even ones use the
/// `DefaultBackend` (aws-lc with the default features), so one model run mixes backends on one
/// thread — the key-in-use registry and the counters must hold across them.
#[allow(clippy::large_enum_variant)] // a test helper; a few senders per run
enum AnySender {
    Default(Sender),
    RustCrypto(Sender<RustCrypto>),
}

/// Runs `$body` with `$tx` bound to the sender, whatever its backend.
macro_rules! on {
    ($sender:expr, $tx:ident => $body:expr) => {
        match $sender {
            AnySender::Default($tx) => $body,
            AnySender::RustCrypto($tx) => $body,
        }
    };
}

impl AnySender {
    fn new(slot: usize, suite: CipherSuite) -> Self {
        if slot % 2 == 1 {
            AnySender::RustCrypto(Sender::with_backend(RustCrypto, suite))
        } else {
            AnySender::Default(Sender::new(suite))
        }
    }
}

/// One use of (KID, material, CTR): by which sender instance.
#[derive(Clone, Copy)]
struct Use {
    instance: u64,
}

struct World {
    suite: CipherSuite,
    senders: Vec<AnySender>,
    instance: Vec<u64>,
    next_instance: u64,
    dropped: std::collections::HashSet<u64>,
    uses: HashMap<(u64, usize, u64), Use>,
    /// Highest counter used per (KID, material): what a persisting application stores.
    persisted: HashMap<(u64, usize), u64>,
    oracle: Oracle,
    frames: usize,
    errors: HashMap<Error, usize>,
}

fn pool_key(i: usize) -> &'static [u8] {
    &POOL[i]
}

const MLS: MlsKidLayout = match MlsKidLayout::new(2, 2) {
    Ok(l) => l,
    Err(_) => panic!(),
};

impl World {
    fn new(suite: CipherSuite) -> Self {
        let mut w = World {
            suite,
            senders: Vec::new(),
            instance: Vec::new(),
            next_instance: 0,
            dropped: Default::default(),
            uses: HashMap::new(),
            persisted: HashMap::new(),
            oracle: Oracle::new(suite),
            frames: 0,
            errors: HashMap::new(),
        };
        for slot in 0..SENDERS {
            w.senders.push(AnySender::new(slot, suite));
            w.instance.push(w.next_instance);
            w.next_instance += 1;
        }
        w
    }

    fn state(&self, s: usize) -> (Option<u64>, Option<u64>, Option<u64>) {
        on!(&self.senders[s], tx => (tx.key_id(), tx.next_counter(), tx.ratchet_step()))
    }

    fn run(&mut self, op: &Op) {
        let s = match op {
            Op::SetKey { s, .. }
            | Op::SetKeyWithCounter { s, .. }
            | Op::SetDerivedKey { s, .. }
            | Op::SetExternalKey { s, .. }
            | Op::SetRatchetingKey { s, .. }
            | Op::Ratchet { s }
            | Op::SetMlsKey { s, .. }
            | Op::SetKeyFromRatchetBase { s, .. }
            | Op::Protect { s, .. }
            | Op::Drop { s } => *s,
        };
        let before = self.state(s);
        let suite = self.suite;
        let result: Result<(), Error> = match *op {
            Op::SetKey { kid, base, .. } => {
                on!(&mut self.senders[s], tx => tx.set_key(kid, pool_key(base)))
            }
            Op::SetKeyWithCounter {
                kid, base, ahead, ..
            } => {
                // Resume as a persisting application does: after the highest counter used.
                let cand = self.oracle.pool(base);
                let next = self.persisted.get(&(kid, cand)).map_or(0, |c| c + 1) + ahead;
                let next = sframe_core::Counter(next);
                on!(&mut self.senders[s], tx => tx.set_key_with_counter(kid, pool_key(base), next))
            }
            Op::SetDerivedKey { kid, base, .. } => {
                on!(&mut self.senders[s], tx => {
                    let key = Key::derive_with(Default::default(), suite, kid, pool_key(base));
                    tx.set_derived_key(key.unwrap())
                })
            }
            Op::SetExternalKey { kid, base, .. } => {
                let (_, salt) = derive_key_and_salt(suite, kid, pool_key(base)).unwrap();
                on!(&mut self.senders[s], tx => {
                    let key = Key::external(Default::default(), suite, kid, &salt[..]);
                    tx.set_derived_key(key.unwrap())
                })
            }
            Op::SetRatchetingKey {
                r,
                generation,
                base,
                ..
            } => {
                let layout = RatchetLayout::new(r).unwrap();
                let generation = sframe_core::ratchet::Generation(generation);
                on!(&mut self.senders[s], tx => tx
                    .set_ratcheting_key(layout, generation, pool_key(base))
                    .map(|_| ()))
            }
            Op::Ratchet { .. } => {
                let step = on!(&self.senders[s], tx => tx.ratchet_step());
                if step.is_some_and(|st| st >= MAX_STEPS) {
                    return; // beyond what the oracle recognizes
                }
                on!(&mut self.senders[s], tx => tx.ratchet().map(|_| ()))
            }
            Op::SetMlsKey {
                epoch,
                leaf,
                secret,
                ..
            } => on!(&mut self.senders[s], tx => tx
                .set_mls_key(&MLS, pool_key(secret), epoch, leaf)
                .map(|_| ())),
            Op::SetKeyFromRatchetBase { from, .. } => {
                let mut base = [0u8; 64];
                let (Ok(n), Some(kid)) = on!(&self.senders[from], tx => (
                    tx.ratchet_base_key(&mut base),
                    tx.key_id(),
                )) else {
                    return;
                };
                on!(&mut self.senders[s], tx => tx.set_key(kid, &base[..n]))
            }
            Op::Protect { how: 3, .. } => {
                match on!(&mut self.senders[s], tx => tx.protect_external()) {
                    Ok(seal) => {
                        let (header, _) = Header::parse(seal.header()).unwrap();
                        assert_eq!(
                            (header.key_id(), header.counter()),
                            (seal.key_id(), seal.counter())
                        );
                        let id = self.oracle.identify_external(
                            seal.key_id(),
                            seal.counter(),
                            seal.nonce(),
                        );
                        self.record_id(s, id);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Protect { how, len, .. } => {
                let meta = [s as u8, how];
                let pt = vec![0x5a; len];
                let frame = on!(&mut self.senders[s], tx => match how {
                    0 => tx.protect_vec(&meta, &pt),
                    1 => {
                        let mut out = vec![0u8; tx.max_output_len(len)];
                        tx.protect(&meta, &pt, &mut out).map(|f| f.to_vec())
                    }
                    _ => {
                        let mut buf = vec![0u8; tx.max_output_len(len)];
                        buf[..len].copy_from_slice(&pt);
                        let n = tx.protect_in_place(&meta, &mut buf, len).map(|f| f.len());
                        n.map(|n| {
                            buf.truncate(n);
                            buf
                        })
                    }
                });
                match frame {
                    Ok(frame) => {
                        self.record(s, &meta, &frame);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Drop { .. } => {
                self.dropped.insert(self.instance[s]);
                self.senders[s] = AnySender::new(s, suite);
                self.instance[s] = self.next_instance;
                self.next_instance += 1;
                Ok(())
            }
        };
        if let Err(e) = result {
            *self.errors.entry(e).or_default() += 1;
            assert_eq!(
                before,
                self.state(s),
                "{op:?} failed with {e:?} and changed the sender"
            );
            assert!(
                matches!(
                    e,
                    Error::KeyInUse | Error::NoKey | Error::InvalidConfig | Error::ExternalKey
                ),
                "{op:?}: unexpected {e:?}"
            );
        }
    }

    fn record(&mut self, s: usize, meta: &[u8], frame: &[u8]) {
        let id = self.oracle.identify(meta, frame);
        self.record_id(s, id);
    }

    fn record_id(&mut self, s: usize, id: (u64, usize, u64)) {
        let me = self.instance[s];
        if let Some(prev) = self.uses.get(&id) {
            // Only a sender that died before may have used it (the application's job to
            // persist counters then, as the model's SetKeyWithCounter does).
            assert!(
                prev.instance != me && self.dropped.contains(&prev.instance),
                "(KID {}, material {}, CTR {}) used twice (instances {} and {me})",
                id.0,
                id.1,
                id.2,
                prev.instance
            );
        }
        self.uses.insert(id, Use { instance: me });
        let hi = self.persisted.entry((id.0, id.1)).or_insert(id.2);
        *hi = (*hi).max(id.2);
        self.frames += 1;
    }
}

fn suite() -> impl Strategy<Value = CipherSuite> {
    prop::sample::select(CipherSuite::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// The property: no (derived key, nonce) pair is ever used twice.
    #[test]
    fn no_nonce_repeats_under_any_sender_call_sequence(
        suite in suite(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let mut world = World::new(suite);
        for op in &ops {
            world.run(op);
        }
    }
}

/// The model finds a real reuse when one is there: two senders that never met (no registry
/// between threads) with one key both start at 0.
#[test]
fn oracle_detects_reuse_across_threads() {
    let suite = CipherSuite::AesGcm128Sha256;
    let a = std::thread::spawn(move || {
        let mut tx = Sender::new(suite);
        tx.set_key(1, &POOL[0]).unwrap();
        tx.protect_vec(b"m", b"x").unwrap()
    })
    .join()
    .unwrap();
    let mut tx = Sender::new(suite);
    tx.set_key(1, &POOL[0]).unwrap();
    let b = tx.protect_vec(b"m", b"x").unwrap();
    let mut oracle = Oracle::new(suite);
    assert_eq!(oracle.identify(b"m", &a), oracle.identify(b"m", &b));
}

// --------------------------- regressions: one test per nonce-reuse scenario found in review

/// Two encrypters (audio, video) given the same key and KID would both count from 0: the
/// second one is refused.
#[test]
fn second_sender_with_same_key_and_kid_is_refused() {
    for suite in CipherSuite::ALL {
        let mut audio = Sender::new(suite);
        audio.set_key(7, &POOL[0]).unwrap();
        let mut video = Sender::new(suite);
        assert_eq!(video.set_key(7, &POOL[0]), Err(Error::KeyInUse));
        let derived = Key::derive(suite, 7, &POOL[0]).unwrap();
        assert_eq!(video.set_derived_key(derived), Err(Error::KeyInUse));
        assert_eq!(video.key_id(), None, "nothing installed");
        // One KID per track works.
        video.set_key(8, &POOL[0]).unwrap();
        // A key the first sender has left (still in its history) stays claimed.
        audio.set_key(9, &POOL[0]).unwrap();
        let mut third = Sender::new(suite);
        assert_eq!(third.set_key(7, &POOL[0]), Err(Error::KeyInUse));
        drop(audio);
        third.set_key(7, &POOL[0]).unwrap(); // released with its sender
    }
}

/// Re-installing a ratchet generation, then ratcheting, must not re-derive step 1 at counter 0.
#[test]
fn ratchet_reinstall_never_restarts_a_counter() {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    for r in 2..=3u8 {
        let layout = RatchetLayout::new(r).unwrap();
        let mut tx = Sender::new(suite);
        let mut oracle = Oracle::new(suite);
        let mut seen = std::collections::HashSet::new();
        let mut send = |tx: &mut Sender| {
            let f = tx.protect_vec(b"", b"frame").unwrap();
            assert!(seen.insert(oracle.identify(b"", &f)), "R={r}: nonce reused");
        };
        tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &POOL[0])
            .unwrap();
        send(&mut tx);
        tx.ratchet().unwrap();
        send(&mut tx);
        // The same generation again while it is in force: nothing changes.
        let kid = tx.key_id();
        assert_eq!(
            tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &POOL[0])
                .ok(),
            kid
        );
        assert_eq!(tx.ratchet_step(), Some(1));
        send(&mut tx);
        // Leave it, come back, and walk the chain again past 2^R steps.
        tx.set_key(3, &POOL[1]).unwrap();
        send(&mut tx);
        tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &POOL[0])
            .unwrap();
        send(&mut tx);
        for _ in 0..(1u64 << r) + 1 {
            tx.ratchet().unwrap();
            send(&mut tx);
        }
    }
}

/// Ratchet re-install (R <= 3): step 2^R has step 0's KID; a re-install must not resume step
/// 0's key at step 2^R's counter, nor step 2^R's at step 0's.
#[test]
fn wrapped_step_kid_is_a_different_key() {
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = RatchetLayout::new(2).unwrap();
    let mut tx = Sender::new(suite);
    let k0 = tx
        .set_ratcheting_key(layout, sframe_core::ratchet::Generation(0), &POOL[2])
        .unwrap();
    for _ in 0..3 {
        tx.protect_vec(b"", b"s0").unwrap();
    }
    for _ in 0..4 {
        tx.ratchet().unwrap();
    }
    assert_eq!(tx.key_id(), Some(k0), "step 4 wraps to step 0's KID");
    assert_eq!(tx.next_counter(), Some(0), "but it is a new key");
    tx.protect_vec(b"", b"s4").unwrap();
    tx.set_key(40, &POOL[0]).unwrap();
    tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(0), &POOL[2])
        .unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(3),
        "step 0's key resumes its own counter"
    );
}

/// Going back to a KID after more than RETIRED_KIDS others resumes its counter.
#[test]
fn going_back_after_many_kids_resumes() {
    let suite = CipherSuite::AesGcm256Sha512;
    let mut tx = Sender::new(suite);
    tx.set_key(1, &POOL[0]).unwrap();
    for _ in 0..5 {
        tx.protect_vec(b"", b"x").unwrap();
    }
    for kid in 100..100 + 4 * RETIRED_KIDS as u64 {
        tx.set_key(kid, &POOL[1]).unwrap();
        tx.protect_vec(b"", b"y").unwrap();
    }
    tx.set_key(1, &POOL[0]).unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(5),
        "the counter resumes, never restarts at 0"
    );
    tx.set_key_with_counter(1, &POOL[0], sframe_core::Counter(2))
        .unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(5),
        "a lower explicit counter never rewinds"
    );
    tx.set_key_with_counter(1, &POOL[0], sframe_core::Counter(9))
        .unwrap();
    assert_eq!(tx.next_counter(), Some(9), "a higher one moves it up");
}
