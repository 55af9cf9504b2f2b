//! Frames that wait for their key (`sframe_core::keywait`, RFC 9605 §4.4.4): hostile sequences
//! of holds, expiries, releases and drops against a model, and `Receiver::has_key_for` against
//! what `unprotect` does.

use proptest::prelude::*;
use sframe_core::keywait::{
    BoxedKeyWaitBuffer, DropReason, GenericKeyWaitBuffer, Held, KeyWaitBuffer, KeyWaitLimits,
    KeyWaitStats, WaitSlot, Waiting,
};
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::{Generation, RatchetLayout};
use sframe_core::{CipherSuite, Error, Receiver, ReceiverConfig, Sender};
use std::collections::{HashMap, VecDeque};

const FRAMES: usize = 8;
const BYTES: usize = 512;
type Buffer = KeyWaitBuffer<FRAMES, BYTES>;

/// The bytes of the frame with `tag`: distinct per tag and per position, so a frame released
/// from the wrong place (or another frame's bytes) shows.
fn frame_bytes(tag: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (tag.wrapping_mul(131) ^ (i as u64).wrapping_mul(7) ^ (i as u64 >> 8)) as u8)
        .collect()
}

#[derive(Clone, Debug)]
enum Op {
    Hold {
        kid: u64,
        stream: u32,
        len: usize,
        external: bool,
        dt: u64,
    },
    Expire {
        dt: u64,
    },
    Release {
        kid: u64,
        out: usize,
    },
    ReleaseWith {
        kid: u64,
    },
    DropKid {
        kid: u64,
    },
    DropStream {
        stream: u32,
    },
    /// The caller's clock jumps anywhere, backwards too.
    Clock {
        now: u64,
    },
}

fn kid() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..4, 1 => any::<u64>()]
}

/// Small frames, ring-sized ones (wrap-around, compaction) and too big ones.
fn len() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..64,
        3 => 64usize..200,
        2 => 200usize..=BYTES,
        1 => BYTES + 1..2000,
        1 => Just(usize::MAX),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (kid(), 0u32..3, len(), prop::bool::weighted(0.25), 0u64..30).prop_map(
            |(kid, stream, len, external, dt)| {
                // A stored frame of usize::MAX bytes cannot be made: keep that for external.
                let len = if external { len } else { len.min(3000) };
                Op::Hold { kid, stream, len, external, dt }
            }
        ),
        1 => (0u64..120).prop_map(|dt| Op::Expire { dt }),
        3 => (kid(), prop_oneof![3 => Just(4096usize), 1 => 0usize..300])
            .prop_map(|(kid, out)| Op::Release { kid, out }),
        2 => kid().prop_map(|kid| Op::ReleaseWith { kid }),
        1 => kid().prop_map(|kid| Op::DropKid { kid }),
        1 => (0u32..4).prop_map(|stream| Op::DropStream { stream }),
        1 => prop_oneof![any::<u64>(), 0u64..500].prop_map(|now| Op::Clock { now }),
    ]
}

fn limits() -> impl Strategy<Value = KeyWaitLimits> {
    (
        1..=FRAMES,
        prop_oneof![0usize..=BYTES, 0usize..2000],
        0u64..100,
    )
        .prop_map(|(max_frames, max_bytes, max_age)| KeyWaitLimits {
            max_frames,
            max_bytes,
            max_age,
        })
}

/// What became of a frame given to the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Released,
    Dropped(DropReason),
}

/// A plain model of the policy: a queue in arrival order, oldest dropped first.
struct Model {
    limits: KeyWaitLimits,
    queue: VecDeque<Held>,
}

impl Model {
    fn weight(&self) -> usize {
        self.queue.iter().map(|h| h.len).sum()
    }

    fn stored(&self) -> usize {
        self.queue
            .iter()
            .filter(|h| !h.external)
            .map(|h| h.len)
            .sum()
    }

    fn remove_where(
        &mut self,
        f: impl Fn(&Held) -> bool,
        why: DropReason,
    ) -> Vec<(Held, DropReason)> {
        let (gone, kept): (Vec<Held>, Vec<Held>) = self.queue.iter().partition(|h| f(h));
        self.queue = kept.into();
        gone.into_iter().map(|h| (h, why)).collect()
    }

    fn expire(&mut self, now: u64) -> Vec<(Held, DropReason)> {
        let max_age = self.limits.max_age;
        self.remove_where(
            |h| now.saturating_sub(h.arrival) > max_age,
            DropReason::Expired,
        )
    }

    fn hold(&mut self, held: Held) -> (bool, Vec<(Held, DropReason)>) {
        let mut reports = self.expire(held.arrival);
        let room = if held.external {
            self.limits.max_bytes
        } else {
            self.limits.max_bytes.min(BYTES)
        };
        if held.len > room {
            reports.push((held, DropReason::TooBig));
            return (false, reports);
        }
        while self.queue.len() >= self.limits.max_frames
            || self.weight() + held.len > self.limits.max_bytes
            || (!held.external && self.stored() + held.len > BYTES)
        {
            let oldest = self
                .queue
                .pop_front()
                .expect("an empty model admits the frame");
            reports.push((oldest, DropReason::Overflow));
        }
        self.queue.push_back(held);
        (true, reports)
    }

    fn oldest(&self, kid: u64) -> Option<usize> {
        self.queue.iter().position(|h| h.kid == kid)
    }
}

/// A run of the model test over a buffer with storage `S` and `B`: inline ([`Buffer`]) or
/// boxed ([`BoxedKeyWaitBuffer`] of the same capacity), which must behave the same.
struct Run<S, B> {
    buffer: GenericKeyWaitBuffer<S, B>,
    model: Model,
    now: u64,
    next_tag: u64,
    /// Every frame given: its KID and bytes.
    given: HashMap<u64, (u64, Vec<u8>)>,
    fates: HashMap<u64, Fate>,
    released_bytes: usize,
    held_bytes: usize,
}

impl Run<[WaitSlot; FRAMES], [u8; BYTES]> {
    fn inline(limits: KeyWaitLimits) -> Self {
        Run::over(Buffer::new(limits).unwrap(), limits)
    }
}

impl Run<Box<[WaitSlot]>, Box<[u8]>> {
    fn boxed(limits: KeyWaitLimits) -> Self {
        Run::over(
            BoxedKeyWaitBuffer::with_capacity(limits, FRAMES, BYTES).unwrap(),
            limits,
        )
    }
}

impl<S, B> Run<S, B>
where
    S: AsRef<[WaitSlot]> + AsMut<[WaitSlot]>,
    B: AsRef<[u8]> + AsMut<[u8]>,
{
    fn over(buffer: GenericKeyWaitBuffer<S, B>, limits: KeyWaitLimits) -> Self {
        Run {
            buffer,
            model: Model {
                limits,
                queue: VecDeque::new(),
            },
            now: 0,
            next_tag: 0,
            given: HashMap::new(),
            fates: HashMap::new(),
            released_bytes: 0,
            held_bytes: 0,
        }
    }

    /// Records a frame's fate: a frame leaves at most once, and only a frame that was given.
    fn fate(&mut self, held: &Held, fate: Fate) -> Result<(), TestCaseError> {
        prop_assert!(
            self.given.contains_key(&held.tag),
            "unknown tag {}",
            held.tag
        );
        let kid = self.given[&held.tag].0;
        prop_assert_eq!(held.kid, kid, "frame reported under another KID");
        let before = self.fates.insert(held.tag, fate);
        prop_assert!(
            before.is_none(),
            "tag {} reported twice: {:?} then {:?}",
            held.tag,
            before,
            fate
        );
        Ok(())
    }

    fn dropped(
        &mut self,
        got: Vec<(Held, DropReason)>,
        want: Vec<(Held, DropReason)>,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(&got, &want);
        for (held, why) in got {
            self.fate(&held, Fate::Dropped(why))?;
        }
        Ok(())
    }

    fn released(&mut self, kid: u64, held: Held, bytes: &[u8]) -> Result<(), TestCaseError> {
        prop_assert_eq!(held.kid, kid, "released under another KID");
        let index = self
            .model
            .oldest(kid)
            .expect("model has a frame for the KID");
        let want = self.model.queue.remove(index).unwrap();
        prop_assert_eq!(held, want, "not the oldest frame of the KID");
        if held.external {
            prop_assert!(bytes.is_empty());
        } else {
            prop_assert_eq!(
                bytes,
                &self.given[&held.tag].1[..],
                "released bytes differ from held bytes"
            );
            self.released_bytes += bytes.len();
        }
        self.fate(&held, Fate::Released)
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let mut got = Vec::new();
        match *op {
            Op::Hold {
                kid,
                stream,
                len,
                external,
                dt,
            } => {
                self.now = self.now.saturating_add(dt);
                let tag = self.next_tag;
                self.next_tag += 1;
                let waiting = Waiting { kid, tag, stream };
                let held = Held {
                    kid,
                    tag,
                    stream,
                    arrival: self.now,
                    len,
                    external,
                };
                let (kept, want) = self.model.hold(held);
                let ok = if external {
                    self.given.insert(tag, (kid, Vec::new()));
                    self.buffer
                        .hold_external(waiting, len, self.now, |h, why| got.push((h, why)))
                } else {
                    let bytes = frame_bytes(tag, len);
                    self.given.insert(tag, (kid, bytes.clone()));
                    self.buffer
                        .hold(waiting, &bytes, self.now, |h, why| got.push((h, why)))
                };
                prop_assert_eq!(ok, kept);
                if kept && !external {
                    self.held_bytes += len;
                }
                self.dropped(got, want)?;
            }
            Op::Expire { dt } => {
                self.now = self.now.saturating_add(dt);
                let want = self.model.expire(self.now);
                let n = self.buffer.expire(self.now, |h, why| got.push((h, why)));
                prop_assert_eq!(n, want.len());
                self.dropped(got, want)?;
            }
            Op::Clock { now } => self.now = now,
            Op::Release { kid, out } => {
                let mut buf = vec![0xeeu8; out];
                let want = self.model.oldest(kid).map(|i| self.model.queue[i]);
                match (self.buffer.release(kid, &mut buf), want) {
                    (Ok(None), None) => {}
                    (Err(Error::BufferTooSmall), Some(w)) => {
                        prop_assert!(!w.external && w.len > out, "refused a frame that fits");
                        // The frame stays, still the next one of its KID.
                        prop_assert_eq!(self.buffer.peek(kid), Some(w));
                    }
                    (Ok(Some(held)), Some(_)) => {
                        let bytes = if held.external {
                            &[][..]
                        } else {
                            &buf[..held.len]
                        };
                        if held.external {
                            prop_assert!(
                                buf.iter().all(|&b| b == 0xee),
                                "external release wrote bytes"
                            );
                        }
                        self.released(kid, held, bytes)?;
                    }
                    (got, want) => prop_assert!(false, "release: got {:?}, model {:?}", got, want),
                }
            }
            Op::ReleaseWith { kid } => {
                let got = self
                    .buffer
                    .release_with(kid, |h, bytes| (h, bytes.to_vec()));
                match got {
                    None => prop_assert!(self.model.oldest(kid).is_none(), "frame not released"),
                    Some((held, bytes)) => self.released(kid, held, &bytes)?,
                }
            }
            Op::DropKid { kid } => {
                let want = self
                    .model
                    .remove_where(|h| h.kid == kid, DropReason::Removed);
                let n = self.buffer.drop_kid(kid, |h, why| got.push((h, why)));
                prop_assert_eq!(n, want.len());
                self.dropped(got, want)?;
            }
            Op::DropStream { stream } => {
                let want = self
                    .model
                    .remove_where(|h| h.stream == stream, DropReason::Removed);
                let n = self
                    .buffer
                    .drop_where(|h| h.stream == stream, |h, why| got.push((h, why)));
                prop_assert_eq!(n, want.len());
                self.dropped(got, want)?;
            }
        }
        self.check()
    }

    /// What must hold after every operation.
    fn check(&self) -> Result<(), TestCaseError> {
        let b = &self.buffer;
        let limits = self.model.limits;
        let waiting: Vec<Held> = b.iter().collect();
        prop_assert_eq!(&waiting, &Vec::from(self.model.queue.clone()));
        // Bounds.
        prop_assert!(b.len() <= limits.max_frames);
        prop_assert!(b.waiting_bytes() <= limits.max_bytes);
        let stored: usize = waiting.iter().filter(|h| !h.external).map(|h| h.len).sum();
        prop_assert!(stored <= BYTES);
        prop_assert_eq!(
            b.waiting_bytes(),
            waiting.iter().map(|h| h.len).sum::<usize>()
        );
        // Queries.
        for kid in 0..4 {
            prop_assert_eq!(
                b.waiting_for(kid),
                waiting.iter().filter(|h| h.kid == kid).count()
            );
            prop_assert_eq!(b.peek(kid), waiting.iter().find(|h| h.kid == kid).copied());
        }
        for stream in 0..3 {
            prop_assert_eq!(
                b.waiting_for_stream(stream),
                waiting.iter().filter(|h| h.stream == stream).count()
            );
        }
        // Counters add up, and match what was reported.
        let count = |f: Fate| self.fates.values().filter(|&&x| x == f).count() as u64;
        let s = b.stats();
        let want = KeyWaitStats {
            held: self.fates.len() as u64 + waiting.len() as u64
                - count(Fate::Dropped(DropReason::TooBig)),
            released: count(Fate::Released),
            dropped_overflow: count(Fate::Dropped(DropReason::Overflow)),
            dropped_age: count(Fate::Dropped(DropReason::Expired)),
            dropped_too_big: count(Fate::Dropped(DropReason::TooBig)),
            dropped_removed: count(Fate::Dropped(DropReason::Removed)),
            waiting: waiting.len() as u64,
            waiting_bytes: b.waiting_bytes() as u64,
        };
        prop_assert_eq!(s, want);
        prop_assert_eq!(
            s.held,
            s.released + s.dropped_overflow + s.dropped_age + s.dropped_removed + s.waiting
        );
        prop_assert_eq!(s.held + s.dropped_too_big, self.given.len() as u64);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Hostile input is bounded and nothing is lost, duplicated or mixed up: arbitrary holds
    /// (any KID, size, time), expiries, releases, drops and clock jumps, checked after every
    /// step against a plain model of the policy (oldest dropped first) and for the limits,
    /// per-KID arrival order, exact bytes and counters. At the end every frame given has had
    /// exactly one fate, and bytes released equal bytes held.
    #[test]
    fn hostile_sequences_stay_bounded_and_exact(
        limits in limits(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        hostile_run(Run::inline(limits), &ops)?;
    }

    /// The same against a buffer whose storage was allocated on the heap in place
    /// (`BoxedKeyWaitBuffer`, as a heap receive session's slots have).
    #[test]
    fn hostile_sequences_stay_bounded_and_exact_with_boxed_storage(
        limits in limits(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        hostile_run(Run::boxed(limits), &ops)?;
    }
}

fn hostile_run<S, B>(mut run: Run<S, B>, ops: &[Op]) -> Result<(), TestCaseError>
where
    S: AsRef<[WaitSlot]> + AsMut<[WaitSlot]>,
    B: AsRef<[u8]> + AsMut<[u8]>,
{
    for op in ops {
        run.step(op)?;
    }
    // Release everything left, KID by KID: nothing is lost.
    let kids: Vec<u64> = run.buffer.iter().map(|h| h.kid).collect();
    for kid in kids {
        run.step(&Op::Release { kid, out: 4096 })?;
    }
    prop_assert!(run.buffer.is_empty());
    prop_assert_eq!(run.fates.len(), run.given.len());
    let dropped_stored: usize = run
        .fates
        .iter()
        .filter(|(_, f)| matches!(f, Fate::Dropped(r) if *r != DropReason::TooBig))
        .map(|(tag, _)| run.given[tag].1.len())
        .sum();
    prop_assert_eq!(run.released_bytes + dropped_stored, run.held_bytes);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// `Receiver::has_key_for` says exactly when `unprotect` fails with UnknownKeyId.

/// A receiver with an installed key (KID 1000), a ratchet chain (generation 5 at step 2, 4
/// step bits, look-ahead 3) and two MLS epochs (E = 2; one member key removed). MLS derives a
/// key for any KID whose low E bits match a kept epoch, so the two KID spaces overlap: the
/// chain alone decides for its generation.
fn receiver(suite: CipherSuite) -> (Receiver, RatchetLayout, MlsKidLayout) {
    let ratchet = RatchetLayout::new(4).unwrap();
    let mls = MlsKidLayout::new(2, 3).unwrap();
    let config = ReceiverConfig::new(suite)
        .with_ratchet_lookahead(3)
        .unwrap()
        .with_mls(mls, 2)
        .unwrap();
    let mut rx = Receiver::with_config(config);
    rx.add_key(1000, &[1; 16]).unwrap();
    rx.add_ratcheting_key(ratchet, ratchet.kid(Generation(5), 2).unwrap(), &[2; 16])
        .unwrap();
    rx.add_mls_epoch(6, &[3; 32]).unwrap();
    rx.add_mls_epoch(7, &[4; 32]).unwrap();
    // Derive, then remove, one member key of epoch 7: it must not come back.
    let member = mls.kid(7, 3).unwrap();
    let mut alice = Sender::new(suite);
    alice.set_mls_key(&mls, &[4; 32], 7, 3).unwrap();
    rx.unprotect_vec(b"", &alice.protect_vec(b"", b"hi").unwrap())
        .unwrap();
    assert!(rx.remove_key(member));
    (rx, ratchet, mls)
}

fn interesting_kid(ratchet: RatchetLayout, mls: MlsKidLayout) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(1000u64),
        Just(1001u64),
        (0u64..8, 0u64..16).prop_map(move |(g, s)| ratchet.kid(Generation(g), s).unwrap()),
        (4u64..10, 0u32..8).prop_map(move |(e, i)| mls.kid(e, i).unwrap()),
        0u64..256,
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn has_key_for_is_false_exactly_when_unprotect_says_unknown_key_id(
        kids in prop::collection::vec(interesting_kid(RatchetLayout::new(4).unwrap(), MlsKidLayout::new(2, 3).unwrap()), 1..6),
    ) {
        let suite = CipherSuite::AesGcm128Sha256;
        let (mut rx, _, _) = receiver(suite);
        for kid in kids {
            let predicted = rx.has_key_for(kid);
            // A frame under `kid` with a key nobody has: it can only fail, but how it fails
            // tells whether a key was found.
            let mut tx = Sender::new(suite);
            tx.set_key(kid, &[0xee; 16]).unwrap();
            let frame = tx.protect_vec(b"", b"probe").unwrap();
            let outcome = rx.unprotect_vec(b"", &frame);
            prop_assert!(outcome.is_err());
            prop_assert_eq!(
                predicted,
                outcome != Err(Error::UnknownKeyId),
                "kid {:#x}: has_key_for {} but unprotect gave {:?}", kid, predicted, outcome
            );
        }
    }
}

#[test]
fn has_key_for_covers_every_kind_of_key() {
    let (rx, ratchet, mls) = receiver(CipherSuite::AesGcm128Sha256);
    // Installed.
    assert!(rx.has_key_for(1000));
    assert!(!rx.has_key_for(1001));
    // Ratchet: steps 3..=5 are within the look-ahead (3) of step 2; step 6 is not; an older
    // step is not derived; another generation has no chain.
    let g5 = |s| ratchet.kid(Generation(5), s).unwrap();
    assert!(rx.has_key_for(g5(2)));
    assert!(rx.has_key_for(g5(3)) && rx.has_key_for(g5(5)));
    assert!(!rx.has_key(g5(3)));
    assert!(!rx.has_key_for(g5(6)));
    assert!(!rx.has_key_for(g5(1)));
    assert!(!rx.has_key_for(ratchet.kid(Generation(6), 0).unwrap()));
    // Step 7 is out of the chain's reach, even though its low bits name kept epoch 7.
    assert_eq!(mls.split(g5(7)).2, 3);
    assert!(!rx.has_key_for(g5(7)));
    // MLS: members of kept epochs, but not a removed member nor an epoch not (yet) kept.
    assert!(rx.has_key_for(mls.kid(6, 0).unwrap()));
    assert!(rx.has_key_for(mls.kid(7, 2).unwrap()));
    assert!(!rx.has_key_for(mls.kid(7, 3).unwrap()));
    assert!(!rx.has_key_for(mls.kid(8, 0).unwrap()));
}

// ---------------------------------------------------------------------------------------
// Behaviour, case by case.

fn w(kid: u64, tag: u64) -> Waiting {
    Waiting {
        kid,
        tag,
        stream: 0,
    }
}

fn no_drop(h: Held, why: DropReason) {
    panic!("unexpected drop of {h:?}: {why:?}");
}

#[test]
fn limits_are_checked_at_construction() {
    let ok = KeyWaitLimits {
        max_frames: 4,
        max_bytes: 1 << 20,
        max_age: 0,
    };
    assert!(KeyWaitBuffer::<4, 16>::new(ok).is_ok()); // max_bytes may exceed BYTES
    for max_frames in [0, 5] {
        let bad = KeyWaitLimits { max_frames, ..ok };
        assert_eq!(
            KeyWaitBuffer::<4, 16>::new(bad).err(),
            Some(Error::InvalidConfig)
        );
    }
    assert_eq!(
        KeyWaitBuffer::<0, 16>::new(KeyWaitLimits::capacity::<0, 16>(1)).err(),
        Some(Error::InvalidConfig)
    );
}

#[test]
fn oldest_frames_are_dropped_first_when_full() {
    let limits = KeyWaitLimits {
        max_frames: 3,
        max_bytes: 100,
        max_age: 1000,
    };
    let mut b = KeyWaitBuffer::<4, 100>::new(limits).unwrap();
    for tag in 0..3 {
        assert!(b.hold(w(tag, tag), &[1; 30], 0, no_drop));
    }
    // A 4th frame: over max_frames; drop tag 0 only.
    let mut dropped = Vec::new();
    assert!(b.hold(w(9, 3), &[2; 10], 0, |h, why| dropped.push((h.tag, why))));
    assert_eq!(dropped, [(0, DropReason::Overflow)]);
    // 70 bytes: over max_bytes (30 + 30 + 10 + 70): drop tags 1 and 2.
    dropped.clear();
    assert!(b.hold(w(9, 4), &[3; 70], 0, |h, why| dropped.push((h.tag, why))));
    assert_eq!(
        dropped,
        [(1, DropReason::Overflow), (2, DropReason::Overflow)]
    );
    assert_eq!(b.iter().map(|h| h.tag).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(b.stats().dropped_overflow, 3);
}

#[test]
fn a_frame_over_the_byte_limit_is_refused_counted_and_reported() {
    let limits = KeyWaitLimits {
        max_frames: 4,
        max_bytes: 64,
        max_age: 1000,
    };
    let mut b = KeyWaitBuffer::<4, 128>::new(limits).unwrap();
    assert!(b.hold(w(1, 0), &[0; 64], 0, no_drop)); // exactly the limit fits
    let mut dropped = Vec::new();
    assert!(!b.hold(w(1, 1), &[0; 65], 0, |h, why| dropped.push((h, why))));
    let refused = Held {
        kid: 1,
        tag: 1,
        stream: 0,
        arrival: 0,
        len: 65,
        external: false,
    };
    assert_eq!(dropped, [(refused, DropReason::TooBig)]);
    // Refusing drops nothing else.
    assert_eq!(b.len(), 1);
    let s = b.stats();
    assert_eq!((s.held, s.dropped_too_big, s.dropped_overflow), (1, 1, 0));
    // An external frame is bounded by max_bytes too.
    assert!(!b.hold_external(w(1, 2), 65, 0, |_, why| assert_eq!(why, DropReason::TooBig)));
    // A stored frame is bounded by BYTES even if max_bytes is larger.
    let big = KeyWaitLimits {
        max_frames: 4,
        max_bytes: 1000,
        max_age: 1000,
    };
    let mut b = KeyWaitBuffer::<4, 128>::new(big).unwrap();
    assert!(!b.hold(w(1, 0), &[0; 129], 0, |_, why| assert_eq!(
        why,
        DropReason::TooBig
    )));
    assert!(b.hold_external(w(1, 1), 900, 0, no_drop));
}

#[test]
fn frames_expire_after_max_age_not_at_it() {
    let limits = KeyWaitLimits {
        max_frames: 4,
        max_bytes: 100,
        max_age: 50,
    };
    let mut b = KeyWaitBuffer::<4, 100>::new(limits).unwrap();
    b.hold(w(1, 0), &[0; 4], 100, no_drop);
    b.hold(w(2, 1), &[0; 4], 120, no_drop);
    assert_eq!(b.expire(150, no_drop), 0); // age 50: still waits
    let mut dropped = Vec::new();
    assert_eq!(b.expire(151, |h, why| dropped.push((h.tag, why))), 1);
    assert_eq!(dropped, [(0, DropReason::Expired)]);
    // A clock that goes back expires nothing.
    assert_eq!(b.expire(0, no_drop), 0);
    // A hold expires first: tag 1 (age 51) leaves before the new frame is counted.
    dropped.clear();
    b.hold(w(3, 2), &[0; 4], 171, |h, why| dropped.push((h.tag, why)));
    assert_eq!(dropped, [(1, DropReason::Expired)]);
    assert_eq!(b.stats().dropped_age, 2);
}

#[test]
fn release_keeps_the_frame_when_the_output_is_too_small() {
    let mut b = KeyWaitBuffer::<4, 64>::new(KeyWaitLimits::capacity::<4, 64>(100)).unwrap();
    b.hold(w(5, 0), b"twelve bytes", 0, no_drop);
    let mut small = [0u8; 11];
    assert_eq!(b.release(5, &mut small), Err(Error::BufferTooSmall));
    assert_eq!(small, [0; 11]);
    assert_eq!(b.peek(5).map(|h| h.len), Some(12));
    let mut out = [0u8; 12];
    assert_eq!(b.release(5, &mut out).unwrap().map(|h| h.tag), Some(0));
    assert_eq!(&out, b"twelve bytes");
    assert_eq!(b.release(5, &mut out), Ok(None));
    assert_eq!(b.stats().released, 1);
}

/// Releasing a KID from between others leaves a hole; a later frame that fits the limits
/// but not the free end of the ring is stored by compacting, not by dropping a frame.
#[test]
fn a_hole_left_by_a_release_is_reclaimed_without_dropping() {
    let mut b = KeyWaitBuffer::<4, 100>::new(KeyWaitLimits::capacity::<4, 100>(100)).unwrap();
    let data = |tag: u64, len| frame_bytes(tag, len);
    b.hold(w(1, 0), &data(0, 30), 0, no_drop);
    b.hold(w(2, 1), &data(1, 30), 0, no_drop);
    b.hold(w(3, 2), &data(2, 30), 0, no_drop);
    let mut out = [0u8; 100];
    assert_eq!(b.release(2, &mut out).unwrap().map(|h| h.tag), Some(1));
    // 60 bytes wait; 40 more fit the limits, but the ring's free end has 10.
    assert!(b.hold(w(4, 3), &data(3, 40), 0, no_drop));
    assert_eq!(b.stats().dropped_overflow, 0);
    for (kid, tag, len) in [(1, 0, 30), (3, 2, 30), (4, 3, 40)] {
        let held = b.release(kid, &mut out).unwrap().unwrap();
        assert_eq!(held.tag, tag);
        assert_eq!(&out[..held.len], &data(tag, len)[..], "tag {tag}");
    }
}

/// A frame that would cross the end of the ring starts again at its beginning, and comes
/// back whole, also after the frames before it left (the ring's start moved).
#[test]
fn frames_wrap_around_the_ring_whole() {
    let mut b = KeyWaitBuffer::<8, 100>::new(KeyWaitLimits::capacity::<8, 100>(1000)).unwrap();
    let mut out = [0u8; 100];
    let (mut dropped, mut released) = (0, 0);
    let mut check = |b: &mut KeyWaitBuffer<8, 100>, kid| {
        while let Some(h) = b.release(kid, &mut out).unwrap() {
            assert_eq!(
                &out[..h.len],
                &frame_bytes(h.tag, h.len)[..],
                "tag {}",
                h.tag
            );
            released += 1;
        }
    };
    // Holds over 100 bytes drop the oldest; the ring turns many times.
    for tag in 0..200u64 {
        let len = 5 + (tag as usize * 13) % 40;
        assert!(
            b.hold(w(tag % 3, tag), &frame_bytes(tag, len), tag, |_, _| {
                dropped += 1
            })
        );
        assert!(b.waiting_bytes() <= 100);
        if tag % 5 == 4 {
            // Release the frames of a KID other than the newest frame's, from between others.
            check(&mut b, (tag + 1) % 3);
        }
    }
    for kid in 0..3 {
        check(&mut b, kid);
    }
    assert!(b.is_empty());
    assert!(
        dropped > 0 && released > 40,
        "{dropped} dropped, {released} released"
    );
}

#[test]
fn tags_only_buffer_without_byte_storage() {
    // The JavaScript decryptor's case: the frames live in JS, the buffer decides.
    let limits = KeyWaitLimits {
        max_frames: 2,
        max_bytes: 1000,
        max_age: 100,
    };
    let mut b = KeyWaitBuffer::<2, 0>::new(limits).unwrap();
    assert!(b.hold(w(1, 10), &[], 0, no_drop)); // a stored frame of 0 bytes
    assert!(b.hold_external(w(2, 11), 600, 0, no_drop));
    // 600 + 500 > 1000: the oldest (tag 10) goes, then still over: tag 11 goes.
    let mut freed = Vec::new();
    assert!(b.hold_external(w(1, 12), 500, 5, |h, _| freed.push(h.tag)));
    assert_eq!(freed, [10, 11]);
    assert!(!b.hold(w(1, 13), &[0], 5, |h, _| freed.push(h.tag))); // no byte storage
    assert_eq!(freed, [10, 11, 13]);
    let h = b.release_with(1, |h, bytes| {
        assert!(bytes.is_empty());
        h
    });
    assert_eq!(h.map(|h| (h.tag, h.len, h.external)), Some((12, 500, true)));
}

#[test]
fn drop_kid_and_drop_where_report_every_frame() {
    let mut b = KeyWaitBuffer::<8, 256>::new(KeyWaitLimits::capacity::<8, 256>(100)).unwrap();
    for tag in 0..6u64 {
        let waiting = Waiting {
            kid: tag % 2,
            tag,
            stream: (tag % 3) as u32,
        };
        b.hold(waiting, &frame_bytes(tag, 20), 0, no_drop);
    }
    assert_eq!((b.waiting_for(0), b.waiting_for(1)), (3, 3));
    let mut dropped = Vec::new();
    assert_eq!(b.drop_kid(1, |h, why| dropped.push((h.tag, why))), 3);
    assert_eq!(
        dropped,
        [
            (1, DropReason::Removed),
            (3, DropReason::Removed),
            (5, DropReason::Removed)
        ]
    );
    dropped.clear();
    assert_eq!(
        b.drop_where(|h| h.stream == 2, |h, why| dropped.push((h.tag, why))),
        1
    );
    assert_eq!(dropped, [(2, DropReason::Removed)]);
    // What is left is intact and in order.
    let mut out = [0u8; 20];
    for tag in [0, 4] {
        let h = b.release(0, &mut out).unwrap().unwrap();
        assert_eq!((h.tag, &out[..]), (tag, &frame_bytes(tag, 20)[..]));
    }
    assert_eq!(b.stats().dropped_removed, 4);
}

/// The use it is made for: frames of a new sender come before the key; they wait, the key
/// arrives, they are decrypted in order, straight from the buffer.
#[test]
fn frames_before_the_key_are_decrypted_in_order_when_it_arrives() {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let mut tx = Sender::new(suite);
    tx.set_key(42, &[4; 16]).unwrap();
    let mut rx = Receiver::new(suite);
    let mut b = KeyWaitBuffer::<16, 4096>::new(KeyWaitLimits::capacity::<16, 4096>(500)).unwrap();
    let mut plain = [0u8; 256];
    for i in 0..5u8 {
        let frame = tx.protect_vec(b"", &[i; 100]).unwrap();
        assert_eq!(
            rx.unprotect(b"", &frame, &mut plain).map(|_| ()),
            Err(Error::UnknownKeyId)
        );
        assert!(!rx.has_key_for(42));
        let kid = sframe_core::inspect(&frame).unwrap().key_id;
        assert!(b.hold(
            Waiting {
                kid,
                tag: u64::from(i),
                stream: 1
            },
            &frame,
            u64::from(i) * 33,
            no_drop
        ));
    }
    rx.add_key(42, &[4; 16]).unwrap();
    assert!(rx.has_key_for(42));
    b.expire(200, no_drop);
    let mut order = Vec::new();
    while let Some(r) = b.release_with(42, |h, frame| {
        let pt = rx.unprotect(b"", frame, &mut plain).unwrap();
        assert_eq!(pt, &[h.tag as u8; 100][..]);
        h.tag
    }) {
        order.push(r);
    }
    assert_eq!(order, [0, 1, 2, 3, 4]);
    // Released frames went through the receiver: a second copy is a replay.
    assert_eq!(rx.highest_counter(42), Some(4));
}

/// A buffer over run-time storage checks its limits against the storage it was given.
#[test]
fn boxed_and_borrowed_storage_check_limits_against_their_capacity() {
    let limits = |max_frames| KeyWaitLimits {
        max_frames,
        max_bytes: 64,
        max_age: 10,
    };
    let b = BoxedKeyWaitBuffer::with_capacity(limits(4), 4, 64).unwrap();
    assert_eq!((b.frame_capacity(), b.byte_capacity()), (4, 64));
    for bad in [0, 5] {
        assert_eq!(
            BoxedKeyWaitBuffer::with_capacity(limits(bad), 4, 64).err(),
            Some(Error::InvalidConfig)
        );
    }
    let mut slots = [WaitSlot::EMPTY; 2];
    let mut bytes = [0u8; 16];
    assert_eq!(
        GenericKeyWaitBuffer::with_storage(limits(3), &mut slots[..], &mut bytes[..]).err(),
        Some(Error::InvalidConfig)
    );
    let mut b =
        GenericKeyWaitBuffer::with_storage(limits(2), &mut slots[..], &mut bytes[..]).unwrap();
    // Frames are bounded by the 16 bytes given, not by max_bytes (64).
    assert!(!b.hold(w(1, 0), &[1; 17], 0, no_drop_too_big));
    assert!(b.hold(w(1, 1), &[1; 16], 0, no_drop));
    assert_eq!(b.release(1, &mut [0; 16]).unwrap().map(|h| h.tag), Some(1));
}

fn no_drop_too_big(_: Held, why: DropReason) {
    assert_eq!(why, DropReason::TooBig);
}
