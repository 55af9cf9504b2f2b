//! Model-based test of `Receiver` state, and regression tests for the receiving side's
//! state-reset scenarios found in review.
//!
//! Arbitrary sequences of key management (add — as a full key or a salt-only external one —,
//! re-add identical, replace, remove keys; add, re-add and remove MLS epochs — in order, out of
//! order, after they were forgotten as the oldest, replaced by their roll-over twin or removed;
//! add ratcheting keys of any step of a chain) interleaved with frames
//! from honest senders (a plain key pair, a §5.1 ratcheting sender, two §5.2 MLS members)
//! delivered fresh, replayed, reordered and forged. Properties:
//! - an authentic frame is accepted at most once while any state for its key exists. The
//!   model forgets an acceptance only when the application explicitly dropped that state:
//!   `remove_key` of a plain key or of any key of the ratchet chain (a chain reset), or
//!   replacing a plain key with other material. It never forgets an MLS frame's acceptance:
//!   an epoch the receiver dropped (oldest, roll-over twin, removed) never comes back, and
//!   removing one MLS member's key leaves its epoch, which must not derive that key again
//!   with an empty replay window;
//! - `add_mls_epoch` does what a reference model of the kept epochs says: the same epoch
//!   again changes nothing; an epoch not kept up to the newest dropped one, older than its
//!   kept roll-over twin, or older than every kept epoch when three are kept is
//!   `Error::StaleEpoch` and changes nothing; otherwise the older twin goes, else the oldest
//!   when three are kept;
//! - a frame that fails changes nothing but the failure count (keys, counters, windows).

use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;
use sframe_core::hazmat::{Aead, derive_key_and_salt};
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::RatchetLayout;
use sframe_core::{
    CipherSuite, DefaultBackend, Error, Key, Limits, Receiver, ReceiverConfig, Sender,
};

const PLAIN: [(u64, [u8; 16]); 3] = [(100, [1; 16]), (101, [2; 16]), (100, [3; 16])];
const CHAIN_BASE: [u8; 16] = [9; 16];
const GENERATION: u64 = 1;

fn ratchet_layout() -> RatchetLayout {
    RatchetLayout::new(3).unwrap()
}

fn mls_layout() -> MlsKidLayout {
    MlsKidLayout::new(2, 2).unwrap().with_context(1).unwrap()
}

fn epoch_secret(e: u64) -> [u8; 16] {
    [0x40 + e as u8; 16]
}

/// MLS epochs the model uses: twice the `2^E = 4` the KID tells apart, so roll-over twins meet.
const EPOCHS: u64 = 8;
/// MLS epochs the receiver keeps.
const EPOCHS_KEPT: usize = 3;

/// Reference model of the receiver's MLS epochs (§5.2 with no epoch ever coming back).
#[derive(Debug, Default)]
struct EpochModel {
    kept: BTreeSet<u64>,
    /// Every epoch that was kept and is no longer.
    dropped: BTreeSet<u64>,
}

impl EpochModel {
    fn twin(&self, e: u64) -> Option<u64> {
        let low = |x: u64| mls_layout().epoch_low(x);
        self.kept.iter().copied().find(|k| low(*k) == low(e))
    }

    /// What `add_mls_epoch(e)` with the epoch's one secret must do.
    fn add(&mut self, e: u64) -> Result<(), Error> {
        if self.kept.contains(&e) {
            return Ok(());
        }
        let full = self.kept.len() == EPOCHS_KEPT;
        if self.dropped.last().is_some_and(|d| e <= *d)
            || self.twin(e).is_some_and(|t| t > e)
            || (self.twin(e).is_none() && full && self.kept.iter().all(|k| *k > e))
        {
            return Err(Error::StaleEpoch);
        }
        let gone = self.twin(e).or(if full {
            self.kept.first().copied()
        } else {
            None
        });
        if let Some(gone) = gone {
            self.kept.remove(&gone);
            self.dropped.insert(gone);
        }
        self.kept.insert(e);
        Ok(())
    }

    fn remove(&mut self, e: u64) -> bool {
        let was = self.kept.remove(&e);
        if was {
            self.dropped.insert(e);
        }
        was
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Plain(usize),
    Chain(u64),
    Mls(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Emit(u8),
    /// Deliver a logged frame; `true`: a plain-key frame through the external-AEAD split
    /// (`unprotect_external`, the AEAD outside, then `commit_external` / `reject_external`).
    Deliver(usize, bool),
    Forge(usize, usize, u8),
    /// Add a plain key: 0 `add_key`, 1 derived first and added with `add_derived_key`, 2 as a
    /// salt-only `Key::external` (its AEAD outside the receiver).
    AddPlain(usize, u8),
    RemovePlain(usize),
    AddRatchet(usize),
    /// Add a chain step's key as a salt-only `Key::external` (`add_derived_key`), as an
    /// application holding its AEAD key outside would, before or after the chain is announced.
    AddChainStepExternal(usize),
    RemoveChainKey(usize),
    SenderRatchet,
    AddEpoch(u64),
    /// Re-add an epoch the receiver dropped (forgotten as the oldest, replaced by its roll-over
    /// twin, or removed): a late or duplicated MLS message, a resync.
    ReaddDroppedEpoch(prop::sample::Index),
    /// Add an epoch below the newest kept one that is not kept (out of order).
    AddEpochOutOfOrder(prop::sample::Index),
    RemoveEpoch(u64),
    /// `remove_mls_epoch(e)`, then `add_mls_epoch(e)` at once.
    RemoveThenReaddEpoch(u64),
    RemoveMlsMember(u64, u32),
    SenderEpoch(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4u8).prop_map(Op::Emit),
        6 => (any::<prop::sample::Index>(), any::<bool>())
            .prop_map(|(i, ext)| Op::Deliver(i.index(1 << 20), ext)),
        2 => (any::<prop::sample::Index>(), 0..64usize, 0..8u8)
            .prop_map(|(i, b, bit)| Op::Forge(i.index(1 << 20), b, bit)),
        1 => (0..3usize, 0..3u8).prop_map(|(p, how)| Op::AddPlain(p, how)),
        1 => (0..3usize).prop_map(Op::RemovePlain),
        2 => (0..12usize).prop_map(Op::AddRatchet),
        1 => (0..12usize).prop_map(Op::AddChainStepExternal),
        1 => (0..12usize).prop_map(Op::RemoveChainKey),
        1 => Just(Op::SenderRatchet),
        2 => (0..EPOCHS).prop_map(Op::AddEpoch),
        1 => any::<prop::sample::Index>().prop_map(Op::ReaddDroppedEpoch),
        1 => any::<prop::sample::Index>().prop_map(Op::AddEpochOutOfOrder),
        1 => (0..EPOCHS).prop_map(Op::RemoveEpoch),
        1 => (0..EPOCHS).prop_map(Op::RemoveThenReaddEpoch),
        1 => (0..EPOCHS, 1..3u32).prop_map(|(e, l)| Op::RemoveMlsMember(e, l)),
        1 => (0..EPOCHS).prop_map(Op::SenderEpoch),
    ]
}

struct World {
    rx: Receiver,
    plain: Vec<Sender>,
    chain: Sender,
    /// (KID, base key) of every step the chain sender reached.
    steps: Vec<(u64, Vec<u8>)>,
    mls: [Sender; 2],
    mls_epoch: u64,
    epochs: EpochModel,
    log: Vec<(Vec<u8>, Origin, u64)>,
    accepted: HashSet<usize>,
    /// The plain material the application last installed per KID.
    plain_installed: Vec<Option<usize>>,
    chain_alive: bool,
}

impl World {
    fn new(suite: CipherSuite) -> Self {
        let plain = PLAIN
            .iter()
            .map(|(kid, base)| {
                let mut tx = Sender::new(suite);
                tx.set_key(*kid, base).unwrap();
                tx
            })
            .collect();
        let mut chain = Sender::new(suite);
        let kid0 = chain
            .set_ratcheting_key(
                ratchet_layout(),
                sframe_core::ratchet::Generation(GENERATION),
                &CHAIN_BASE,
            )
            .unwrap();
        let mls = [Sender::new(suite), Sender::new(suite)];
        let mls_config = ReceiverConfig::new(suite)
            .with_mls(mls_layout(), EPOCHS_KEPT)
            .unwrap();
        let rx = Receiver::with_config(mls_config);
        let mut w = World {
            rx,
            plain,
            chain,
            steps: vec![(kid0, CHAIN_BASE.to_vec())],
            mls,
            mls_epoch: 0,
            epochs: EpochModel::default(),
            log: Vec::new(),
            accepted: HashSet::new(),
            plain_installed: vec![None, None],
            chain_alive: false,
        };
        w.set_mls_epoch(0);
        w
    }

    fn set_mls_epoch(&mut self, e: u64) {
        for (i, tx) in self.mls.iter_mut().enumerate() {
            tx.set_mls_key(&mls_layout(), &epoch_secret(e), e, i as u32 + 1)
                .unwrap();
        }
        self.mls_epoch = e;
    }

    /// Everything a failed unprotect must leave as it was (failure counts excluded).
    fn snapshot(&self) -> Vec<(u64, bool, Option<u64>, Option<u64>)> {
        let mut kids: Vec<u64> = PLAIN.iter().map(|p| p.0).collect();
        kids.extend(self.steps.iter().map(|s| s.0));
        for e in 0..EPOCHS {
            for l in 1..3 {
                kids.push(mls_layout().kid(e, l).unwrap());
            }
        }
        let mut snap: Vec<_> = kids
            .into_iter()
            .map(|k| {
                (
                    k,
                    self.rx.has_key(k),
                    self.rx.usage(k).map(|u| u.frames),
                    self.rx.highest_counter(k),
                )
            })
            .collect();
        snap.push((u64::MAX, false, Some(self.rx.key_count() as u64), None));
        snap
    }

    /// A plain-key frame through the split, the AEAD run outside with the key the application
    /// installed under its KID (what a browser's WebCrypto key for that KID would be).
    fn deliver_external(&mut self, i: usize) -> Result<(), Error> {
        let frame = &self.log[i].0;
        let open = self.rx.unprotect_external(frame)?;
        let slot = (open.key_id() - 100) as usize;
        let p = self.plain_installed[slot].ok_or(Error::UnknownKeyId)?;
        let suite = self.rx.suite();
        let (key, _) = derive_key_and_salt(suite, PLAIN[p].0, &PLAIN[p].1)?;
        let (header, body) = frame.split_at(open.header_len());
        let (ct, tag) = body.split_at(body.len() - open.tag_len());
        let mut pt = ct.to_vec();
        match Aead::new(suite, &key[..suite.key_len()])?.open(open.nonce(), header, &mut pt, tag) {
            Ok(()) => self.rx.commit_external(&open),
            Err(e) => {
                self.rx.reject_external(&open);
                Err(e)
            }
        }
    }

    /// `add_mls_epoch(e)` on the receiver and the model: same outcome, same epochs kept.
    fn add_epoch(&mut self, e: u64) {
        let got = self.rx.add_mls_epoch(e, &epoch_secret(e));
        let kept_before = self.epochs.kept.clone();
        let want = self.epochs.add(e);
        assert_eq!(got, want, "add_mls_epoch({e}) with {kept_before:?} kept");
        self.check_epochs();
    }

    fn check_epochs(&self) {
        let kept: BTreeSet<u64> = (0..EPOCHS).filter(|e| self.rx.has_mls_epoch(*e)).collect();
        assert_eq!(kept, self.epochs.kept, "epochs kept");
    }

    fn forget(&mut self, f: impl Fn(Origin) -> bool) {
        let log = &self.log;
        self.accepted.retain(|i| !f(log[*i].1));
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::Emit(which) => {
                let (frame, origin) = match which {
                    0 | 1 => {
                        let i = which as usize;
                        (
                            self.plain[i].protect_vec(b"", b"p").unwrap(),
                            Origin::Plain(i),
                        )
                    }
                    2 => (
                        self.chain.protect_vec(b"", b"c").unwrap(),
                        Origin::Chain(self.chain.ratchet_step().unwrap()),
                    ),
                    _ => {
                        let m = self.log.len() % 2;
                        (
                            self.mls[m].protect_vec(b"", b"m").unwrap(),
                            Origin::Mls(self.mls_epoch),
                        )
                    }
                };
                let kid = sframe_core::inspect(&frame).unwrap().key_id;
                self.log.push((frame, origin, kid));
            }
            Op::Deliver(i, external) if !self.log.is_empty() => {
                let i = i % self.log.len();
                let before = self.snapshot();
                let result = match self.log[i].1 {
                    Origin::Plain(_) if external => self.deliver_external(i),
                    _ => self.rx.unprotect_vec(b"", &self.log[i].0).map(|_| ()),
                };
                match result {
                    Ok(_) => assert!(
                        self.accepted.insert(i),
                        "frame {i} ({:?}, KID {}) accepted twice",
                        self.log[i].1,
                        self.log[i].2
                    ),
                    Err(_) => assert_eq!(before, self.snapshot(), "a failure changed state"),
                }
            }
            Op::Forge(i, byte, bit) if !self.log.is_empty() => {
                let i = i % self.log.len();
                let mut f = self.log[i].0.clone();
                let byte = byte % f.len();
                f[byte] ^= 1 << bit;
                let before = self.snapshot();
                assert!(self.rx.unprotect_vec(b"", &f).is_err(), "forgery accepted");
                assert_eq!(before, self.snapshot(), "a forgery changed state");
            }
            Op::AddPlain(p, how) => {
                let (kid, base) = PLAIN[p];
                let slot = (kid - 100) as usize;
                if self.plain_installed[slot] != Some(p) || !self.rx.has_key(kid) {
                    // New or other material: a fresh start the application asked for.
                    self.forget(|o| matches!(o, Origin::Plain(q) if PLAIN[q].0 == kid));
                }
                let suite = self.rx.suite();
                match how {
                    0 => self.rx.add_key(kid, &base).unwrap(),
                    1 => self
                        .rx
                        .add_derived_key(Key::derive(suite, kid, &base).unwrap())
                        .unwrap(),
                    _ => {
                        let (_, salt) = derive_key_and_salt(suite, kid, &base).unwrap();
                        let key = Key::external(DefaultBackend::default(), suite, kid, &salt[..]);
                        self.rx.add_derived_key(key.unwrap()).unwrap();
                    }
                }
                self.plain_installed[slot] = Some(p);
            }
            Op::RemovePlain(p) => {
                let kid = PLAIN[p].0;
                if self.rx.remove_key(kid) {
                    self.forget(|o| matches!(o, Origin::Plain(q) if PLAIN[q].0 == kid));
                }
            }
            Op::AddRatchet(s) => {
                let (kid, base) = self.steps[s % self.steps.len()].clone();
                if !self.chain_alive {
                    self.forget(|o| matches!(o, Origin::Chain(_)));
                }
                self.rx
                    .add_ratcheting_key(ratchet_layout(), kid, &base)
                    .unwrap();
                self.chain_alive = true;
            }
            Op::AddChainStepExternal(s) => {
                let (kid, base) = self.steps[s % self.steps.len()].clone();
                if !self.rx.has_key(kid) {
                    // A key the receiver does not hold: a fresh start for its frames.
                    self.forget(|o| matches!(o, Origin::Chain(_)));
                }
                let suite = self.rx.suite();
                let (_, salt) = derive_key_and_salt(suite, kid, &base).unwrap();
                let key = Key::external(DefaultBackend::default(), suite, kid, &salt[..]).unwrap();
                // A full store refuses and changes nothing.
                if let Err(e) = self.rx.add_derived_key(key) {
                    assert_eq!(e, Error::KeyStoreFull);
                }
            }
            Op::RemoveChainKey(s) => {
                let kid = self.steps[s % self.steps.len()].0;
                if self.rx.remove_key(kid) {
                    // Removing a key of the chain resets the chain (see the module docs).
                    self.forget(|o| matches!(o, Origin::Chain(_)));
                    self.chain_alive = false;
                }
            }
            Op::SenderRatchet => {
                if self.steps.len() < 12 {
                    let kid = self.chain.ratchet().unwrap();
                    let mut base = [0u8; 64];
                    let n = self.chain.ratchet_base_key(&mut base).unwrap();
                    self.steps.push((kid, base[..n].to_vec()));
                }
            }
            // MLS acceptances are never forgotten: a dropped epoch never comes back.
            Op::AddEpoch(e) => self.add_epoch(e),
            Op::ReaddDroppedEpoch(i) => {
                let dropped: Vec<u64> = self.epochs.dropped.iter().copied().collect();
                if !dropped.is_empty() {
                    self.add_epoch(dropped[i.index(dropped.len())]);
                }
            }
            Op::AddEpochOutOfOrder(i) => {
                let newest = self.epochs.kept.last().copied().unwrap_or(0);
                let older: Vec<u64> = (0..newest)
                    .filter(|e| !self.epochs.kept.contains(e))
                    .collect();
                if !older.is_empty() {
                    self.add_epoch(older[i.index(older.len())]);
                }
            }
            Op::RemoveEpoch(e) => {
                assert_eq!(self.rx.remove_mls_epoch(e), self.epochs.remove(e));
                self.check_epochs();
            }
            Op::RemoveThenReaddEpoch(e) => {
                assert_eq!(self.rx.remove_mls_epoch(e), self.epochs.remove(e));
                self.add_epoch(e);
            }
            Op::RemoveMlsMember(e, leaf) => {
                self.rx.remove_key(mls_layout().kid(e, leaf).unwrap());
            }
            Op::SenderEpoch(e) => self.set_mls_epoch(e),
            Op::Deliver(..) | Op::Forge(..) => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn authentic_frames_accepted_at_most_once_and_forgeries_change_nothing(
        suite in prop::sample::select(CipherSuite::ALL.to_vec()),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut world = World::new(suite);
        for op in &ops {
            world.run(op);
        }
    }
}

// --------------------------- regressions: one test per state-reset scenario found in review

/// Re-adding identical material must keep the key's state (a reset would accept replays again
/// and give forgers a fresh budget).
#[test]
fn readding_identical_key_keeps_replay_window_and_forgery_budget() {
    let suite = CipherSuite::AesCtr128HmacSha256_32;
    let mut tx = Sender::new(suite);
    tx.set_key(5, &[5; 16]).unwrap();
    let frame = tx.protect_vec(b"", b"f").unwrap();
    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_limits(Limits {
        max_auth_failures: 3,
        ..Limits::for_suite(suite)
    }));
    rx.add_key(5, &[5; 16]).unwrap();
    rx.unprotect_vec(b"", &frame).unwrap();
    let mut forged = tx.protect_vec(b"", b"g").unwrap();
    *forged.last_mut().unwrap() ^= 1;
    for _ in 0..2 {
        assert_eq!(
            rx.unprotect_vec(b"", &forged),
            Err(Error::AuthenticationFailed)
        );
    }
    rx.add_key(5, &[5; 16]).unwrap();
    rx.add_derived_key(Key::derive(suite, 5, &[5; 16]).unwrap())
        .unwrap();
    assert_eq!(rx.unprotect_vec(b"", &frame), Err(Error::Replay));
    assert_eq!(rx.usage(5).unwrap().auth_failures, 2, "forgery budget kept");
    assert_eq!(rx.usage(5).unwrap().frames, 1);
}

/// Re-adding identical material (ratchet): re-adding the chain, or an earlier step of it,
/// resets nothing.
#[test]
fn readding_ratcheting_key_or_earlier_step_keeps_state() {
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = ratchet_layout();
    let mut tx = Sender::new(suite);
    let kid0 = tx
        .set_ratcheting_key(layout, sframe_core::ratchet::Generation(2), &CHAIN_BASE)
        .unwrap();
    let mut rx = Receiver::new(suite);
    rx.add_ratcheting_key(layout, kid0, &CHAIN_BASE).unwrap();
    let f0 = tx.protect_vec(b"", b"step 0").unwrap();
    rx.unprotect_vec(b"", &f0).unwrap();
    let kid1 = tx.ratchet().unwrap();
    let mut b1 = [0u8; 64];
    let n1 = tx.ratchet_base_key(&mut b1).unwrap();
    let f1 = tx.protect_vec(b"", b"step 1").unwrap();
    rx.unprotect_vec(b"", &f1).unwrap();
    tx.ratchet().unwrap();
    let f2 = tx.protect_vec(b"", b"step 2").unwrap();
    rx.unprotect_vec(b"", &f2).unwrap();
    for (kid, base) in [(kid0, &CHAIN_BASE[..]), (kid1, &b1[..n1])] {
        rx.add_ratcheting_key(layout, kid, base).unwrap();
        for f in [&f0, &f1, &f2] {
            assert!(rx.unprotect_vec(b"", f).is_err(), "replay after re-add");
        }
    }
    // The chain still moves on.
    tx.ratchet().unwrap();
    let f3 = tx.protect_vec(b"", b"step 3").unwrap();
    assert_eq!(rx.unprotect_vec(b"", &f3).unwrap(), b"step 3");
}

/// Re-adding identical material (ratchet): a key first added with `add_key`, then announced as
/// the start of a chain with the same material, becomes the chain's head and keeps its replay
/// window (the model above does not drive this path: it resets chain state whenever the chain
/// was reset).
#[test]
fn ratcheting_key_over_same_plain_key_keeps_window() {
    let suite = CipherSuite::AesCtr128HmacSha256_32;
    let layout = ratchet_layout();
    let mut tx = Sender::new(suite);
    let kid = tx
        .set_ratcheting_key(layout, sframe_core::ratchet::Generation(3), &CHAIN_BASE)
        .unwrap();
    let f = tx.protect_vec(b"", b"step 0").unwrap();
    let mut rx = Receiver::new(suite);
    rx.add_key(kid, &CHAIN_BASE).unwrap();
    rx.unprotect_vec(b"", &f).unwrap();
    rx.add_ratcheting_key(layout, kid, &CHAIN_BASE).unwrap();
    assert_eq!(rx.unprotect_vec(b"", &f), Err(Error::Replay));
    assert_eq!(rx.usage(kid).unwrap().frames, 1);
    // It is now a chain: the next step is derived.
    tx.ratchet().unwrap();
    let g = tx.protect_vec(b"", b"step 1").unwrap();
    assert_eq!(rx.unprotect_vec(b"", &g).unwrap(), b"step 1");
}

/// Re-adding identical material (MLS): a removed member key of a kept epoch must not be
/// derived again (with an empty replay window) when the epoch is re-added.
#[test]
fn removed_mls_member_key_is_not_rederived() {
    // Its own secret: the model's MLS senders (epoch_secret) live in this process too, and
    // senders claim their keys process-wide.
    let secret: &[u8] = b"removed_mls_member_key_is_not_rederived";
    let suite = CipherSuite::AesGcm256Sha512;
    let layout = mls_layout();
    let mut tx = Sender::new(suite);
    let kid = tx.set_mls_key(&layout, secret, 3, 2).unwrap();
    let f = tx.protect_vec(b"", b"member").unwrap();
    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_mls(layout, 3).unwrap());
    rx.add_mls_epoch(3, secret).unwrap();
    rx.unprotect_vec(b"", &f).unwrap();
    assert!(rx.remove_key(kid));
    assert_eq!(rx.unprotect_vec(b"", &f), Err(Error::UnknownKeyId));
    let later = tx.protect_vec(b"", b"later").unwrap();
    assert_eq!(rx.unprotect_vec(b"", &later), Err(Error::UnknownKeyId));
    rx.add_mls_epoch(3, secret).unwrap(); // idempotent: still removed
    assert_eq!(rx.unprotect_vec(b"", &f), Err(Error::UnknownKeyId));
    // Other members of the epoch are unaffected.
    let mut other = Sender::new(suite);
    other.set_mls_key(&layout, secret, 3, 1).unwrap();
    let g = other.protect_vec(b"", b"other").unwrap();
    assert_eq!(rx.unprotect_vec(b"", &g).unwrap(), b"other");
    // Dropping the epoch is final: it does not come back with fresh windows either.
    assert!(rx.remove_mls_epoch(3));
    assert_eq!(rx.add_mls_epoch(3, secret), Err(Error::StaleEpoch));
    assert_eq!(rx.unprotect_vec(b"", &later), Err(Error::UnknownKeyId));
    assert_eq!(rx.unprotect_vec(b"", &g), Err(Error::UnknownKeyId));
}

/// Security 2, finding 1: an MLS epoch forgotten as the oldest came back, when added again
/// (a late or duplicated MLS message, a resync), with empty replay windows — a frame already
/// accepted was accepted again — and making room for it forgot a newer epoch. It is refused
/// now, whether it was forgotten as the oldest, replaced by its roll-over twin, removed or
/// cleared; so is an epoch older than every kept one when the receiver is full.
#[test]
fn evicted_mls_epoch_cannot_come_back() {
    // Secrets of its own: the model's MLS senders (epoch_secret) live in this process too, and
    // senders claim their keys process-wide.
    let own_secret = |e: u64| [0xa0 + e as u8; 16];
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = mls_layout(); // E = 2: epochs 1 and 5 are roll-over twins
    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_mls(layout, 3).unwrap());
    let mut tx = Sender::new(suite);
    let mut frames = Vec::new();
    for e in 0..3 {
        rx.add_mls_epoch(e, &own_secret(e)).unwrap();
        tx.set_mls_key(&layout, &own_secret(e), e, 1).unwrap();
        let f = tx.protect_vec(b"", b"once").unwrap();
        assert_eq!(rx.unprotect_vec(b"", &f).unwrap(), b"once");
        frames.push(f);
    }
    let kept = |rx: &Receiver| (0..8).filter(|e| rx.has_mls_epoch(*e)).collect::<Vec<_>>();

    // Epoch 3 forgets epoch 0; adding 0 again is refused and changes nothing.
    rx.add_mls_epoch(3, &own_secret(3)).unwrap();
    assert_eq!(kept(&rx), [1, 2, 3]);
    assert_eq!(rx.add_mls_epoch(0, &own_secret(0)), Err(Error::StaleEpoch));
    assert_eq!(
        kept(&rx),
        [1, 2, 3],
        "a newer epoch was forgotten for an old one"
    );
    assert_eq!(rx.unprotect_vec(b"", &frames[0]), Err(Error::UnknownKeyId));
    for f in &frames[1..] {
        assert_eq!(rx.unprotect_vec(b"", f), Err(Error::Replay));
    }

    // Epoch 5 replaces its twin 1; 1 does not come back either.
    rx.add_mls_epoch(5, &own_secret(5)).unwrap();
    assert_eq!(kept(&rx), [2, 3, 5]);
    assert_eq!(rx.add_mls_epoch(1, &own_secret(1)), Err(Error::StaleEpoch));
    // Its KID is now epoch 5's member: derived under 5's secret, it does not authenticate.
    assert_eq!(
        rx.unprotect_vec(b"", &frames[1]),
        Err(Error::AuthenticationFailed)
    );
    // Out of order, never held and newer than every dropped epoch: 4 is added, and with three
    // kept the oldest, 2, is forgotten (never 5, the newest).
    rx.add_mls_epoch(4, &own_secret(4)).unwrap();
    assert_eq!(kept(&rx), [3, 4, 5]);
    assert_eq!(rx.add_mls_epoch(2, &own_secret(2)), Err(Error::StaleEpoch));
    assert_eq!(rx.unprotect_vec(b"", &frames[2]), Err(Error::UnknownKeyId));

    // Removed, then added again: refused. Cleared, then added again: refused.
    assert!(rx.remove_mls_epoch(3));
    assert_eq!(rx.add_mls_epoch(3, &own_secret(3)), Err(Error::StaleEpoch));
    rx.clear();
    for e in 0..6 {
        assert_eq!(
            rx.add_mls_epoch(e, &own_secret(e)),
            Err(Error::StaleEpoch),
            "epoch {e}"
        );
    }
    assert_eq!(kept(&rx), [] as [u64; 0]);
    rx.add_mls_epoch(6, &own_secret(6)).unwrap();
    assert_eq!(kept(&rx), [6]);

    // A fresh receiver that is full: an epoch older than every kept one is refused, never
    // seen or not (the oldest would be forgotten for it); with room it is added.
    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_mls(layout, 2).unwrap());
    rx.add_mls_epoch(6, &own_secret(6)).unwrap();
    rx.add_mls_epoch(5, &own_secret(5)).unwrap();
    assert_eq!(rx.add_mls_epoch(4, &own_secret(4)), Err(Error::StaleEpoch));
    assert_eq!(kept(&rx), [5, 6]);
}

/// Ratchet layouts: R = 1 stalled the receiver; jumps of 2^(R-1) steps aliased the kept old head
/// with a step ahead. Every R: in-order steps, late frames, and the largest jumps allowed.
#[test]
fn every_ratchet_layout_keeps_decrypting() {
    assert_eq!(RatchetLayout::new(1), Err(Error::InvalidConfig));
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    for r in 2..=63u8 {
        let layout = RatchetLayout::new(r).unwrap();
        // The default look-ahead is 8, and never more than 2^(R-1) - 1.
        let max_ahead = ((1u64 << (r - 1).min(4)) - 1).min(8);
        let mut tx = Sender::new(suite);
        let kid = tx
            .set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &[r; 16])
            .unwrap();
        let mut rx = Receiver::new(suite);
        rx.add_ratcheting_key(layout, kid, &[r; 16]).unwrap();
        let mut late: Option<Vec<u8>> = None;
        for round in 0..12u64 {
            // Alternate single steps and the largest jump the receiver accepts.
            let jump = if round % 2 == 0 {
                1
            } else {
                max_ahead.min(1 << (r - 1))
            };
            for _ in 0..jump {
                tx.ratchet().unwrap();
            }
            let head_kid = tx.key_id().unwrap();
            for i in 0..3u8 {
                let f = tx.protect_vec(b"", &[i]).unwrap();
                assert_eq!(
                    rx.unprotect_vec(b"", &f),
                    Ok(vec![i]),
                    "R={r} round {round}: stalled"
                );
            }
            if let Some(old) = late.take() {
                // A late frame of the previous head: its key is kept, and its KID is never
                // confused with a newer step (nor charged to the new head).
                assert_eq!(
                    rx.unprotect_vec(b"", &old),
                    Ok(b"late".to_vec()),
                    "R={r} {round}"
                );
            }
            assert_eq!(rx.usage(head_kid).unwrap().auth_failures, 0, "R={r}");
            late = Some(tx.protect_vec(b"", b"late").unwrap());
        }
    }
}
