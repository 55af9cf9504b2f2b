//! Model-based nonce-uniqueness test of `Sender`, and one regression test per nonce-reuse
//! scenario found in review on the sending side.
//!
//! Arbitrary sequences of every sender call (`set_key`, `set_key_with_counter`,
//! `set_derived_key` with a full or an external (salt-only) key, `set_ratcheting_key`,
//! `ratchet`, `set_mls_key`, going back to earlier keys, the three protect calls and
//! `protect_external`, dropping a sender and re-creating it — also with a key used before)
//! run over several `Sender`s that draw from one small pool of KIDs and base keys, so the same
//! key material comes up again and again. The senders live on several threads (each is created
//! on its slot's thread and only used there; a re-created one may move to another thread) and
//! mix backends: odd slots pin `RustCrypto`, even slots use `DefaultBackend` (aws-lc with the
//! default features).
//!
//! The oracle knows nothing of the sender's internals: for every frame it reads (KID, CTR) from
//! the header and finds which key material made it by trial decryption with a fresh receiver
//! per candidate base key (the pool keys, their §5.1 ratchet steps, and the MLS exported
//! secrets, which §5.2 uses as base keys); for `protect_external`, whose AEAD runs outside the
//! crate, by which candidate's §4.4.2 salt XOR CTR gives the returned nonce. (KID, material,
//! CTR) fixes (derived key, nonce): none may repeat — within a sender, between senders alive at
//! the same time on any threads (a second one is refused with `KeyInUse`), and across a
//! sender's death (the process-wide registry resumes the key's counter in the next sender).
//! A call that fails must change nothing.
//!
//! RTP send streams (`rtp::session::SendStream`) are a way to install, ratchet and use sending
//! keys too, so they run in the same sequences, in slots of their own: created (per-SSRC keys
//! on or off, SSRCs from a set of two, so two streams of one SSRC derive the same keys) and
//! dropped on any thread, `set_key`, `set_derived_key` (the key `set_key` would derive,
//! derived outside), `set_ratcheting_key`, `ratchet`, `send_frame`. With
//! per-SSRC keys a stream's key material is `ssrc_base_key(base, ssrc)` (draft §7) and its
//! ratchet steps (§8), which a plain sender can be given directly ([`Op::SetSsrcKey`]): the
//! candidates include them, so material shared between a stream and a sender is one material
//! to the oracle. Every RTP packet is parsed (RTP header, descriptor byte) and the SFrame
//! frame reassembled from the fragments, its header read from the first.
//!
//! Senders claim keys process-wide and cargo runs this file's tests in parallel in one
//! process: every test draws its keys from a pool of its own ([`pool`]). The model's proptest
//! cases share one pool, so a case also meets the counters that earlier cases left in the
//! registry (it must resume them; the oracle checks within a case).

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::JoinHandle;

use proptest::prelude::*;
use sframe_core::hazmat::{Aead, derive_key_and_salt};
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::{Generation, RatchetLayout, next_base_key};
use sframe_core::rtp::session::{SendConfig, SendStats, SendStream};
use sframe_core::rtp::{Descriptor, Mode, RtpPacket, ssrc_base_key};
use sframe_core::{
    CipherSuite, Error, Header, Key, RETIRED_KIDS, Receiver, ReceiverConfig, RustCrypto, Sender,
};

/// The three base keys of a test: its own, so that no other test of this process (cargo runs
/// them in parallel) holds or has used them.
fn pool(test: &str) -> [Vec<u8>; 3] {
    std::array::from_fn(|i| format!("nonce_model {test}: pool key {i}").into_bytes())
}

/// Ratchet steps the oracle can recognize (the model stops ratcheting a chain there).
const MAX_STEPS: u64 = 10;
const SENDERS: usize = 3;
/// Threads the senders live on: the test's own (0) and two workers.
const THREADS: usize = 3;
/// Send-stream slots.
const STREAMS: usize = 3;
/// The SSRCs streams draw from (by index): two streams of one SSRC with per-SSRC keys, given
/// one base key and KID, derive one key.
const SSRCS: [u32; 2] = [0x5eed_0001, 0x0000_0b0e];
/// Largest RTP payload of the model's streams: a frame of 0..60 media bytes takes 1 to 3
/// packets, and the longest SFrame header (17 bytes) fits the first.
const MAX_PAYLOAD: usize = 40;
const PAYLOAD_TYPE: u8 = 96;
/// Base-key chains of the candidates: the pool keys, then their per-SSRC keys, SSRC by SSRC.
const CHAINS: usize = 3 * (1 + SSRCS.len());

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
    /// Drops the sender and creates a new one in its slot, on thread `home`.
    Drop {
        s: usize,
        home: usize,
    },
    /// Drops the sender, creates a new one on thread `home`, and gives it (`set_key`) key
    /// material a sender of this run used before: it must resume past every counter used.
    Recreate {
        s: usize,
        home: usize,
        used: usize,
    },
    /// `set_key` on a plain sender with a per-SSRC key (§7) of a pool key, computed with
    /// `ssrc_base_key`: the material a stream of that SSRC with per-SSRC keys derives.
    SetSsrcKey {
        s: usize,
        kid: u64,
        base: usize,
        ssrc: usize,
    },
    /// Drops send stream `t` (if any) and creates a new one on thread `home`.
    StreamNew {
        t: usize,
        ssrc: usize,
        per_ssrc: bool,
        home: usize,
    },
    StreamSetKey {
        t: usize,
        kid: u64,
        base: usize,
    },
    /// `set_derived_key` with the key a stream's `set_key` would derive (its §7 material),
    /// derived outside (as the JS package does from a non-extractable CryptoKey).
    StreamSetDerivedKey {
        t: usize,
        kid: u64,
        base: usize,
    },
    StreamSetRatchetingKey {
        t: usize,
        r: u8,
        generation: u64,
        base: usize,
    },
    StreamRatchet {
        t: usize,
    },
    StreamSend {
        t: usize,
        len: usize,
        marker: bool,
    },
    /// Drops send stream `t`; its slot stays empty until [`Op::StreamNew`].
    StreamDrop {
        t: usize,
    },
}

impl Op {
    /// The stream slot of a send-stream op.
    fn stream(&self) -> Option<usize> {
        match *self {
            Op::StreamNew { t, .. }
            | Op::StreamSetKey { t, .. }
            | Op::StreamSetDerivedKey { t, .. }
            | Op::StreamSetRatchetingKey { t, .. }
            | Op::StreamRatchet { t }
            | Op::StreamSend { t, .. }
            | Op::StreamDrop { t } => Some(t),
            _ => None,
        }
    }
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
        1 => (s.clone(), 0..THREADS).prop_map(|(s, home)| Op::Drop { s, home }),
        1 => (s.clone(), 0..THREADS, any::<usize>())
            .prop_map(|(s, home, used)| Op::Recreate { s, home, used }),
        2 => (s, 0..4u64, 0..3usize, 0..SSRCS.len())
            .prop_map(|(s, kid, base, ssrc)| Op::SetSsrcKey { s, kid, base, ssrc }),
        12 => stream_op(),
    ]
}

fn stream_op() -> impl Strategy<Value = Op> {
    let t = 0..STREAMS;
    prop_oneof![
        1 => (t.clone(), 0..SSRCS.len(), any::<bool>(), 0..THREADS)
            .prop_map(|(t, ssrc, per_ssrc, home)| Op::StreamNew { t, ssrc, per_ssrc, home }),
        3 => (t.clone(), 0..4u64, 0..3usize).prop_map(|(t, kid, base)| Op::StreamSetKey { t, kid, base }),
        1 => (t.clone(), 0..4u64, 0..3usize)
            .prop_map(|(t, kid, base)| Op::StreamSetDerivedKey { t, kid, base }),
        1 => (t.clone(), 2..5u8, 0..2u64, 0..3usize).prop_map(|(t, r, generation, base)| {
            Op::StreamSetRatchetingKey { t, r, generation, base }
        }),
        1 => t.clone().prop_map(|t| Op::StreamRatchet { t }),
        6 => (t.clone(), 0..60usize, any::<bool>())
            .prop_map(|(t, len, marker)| Op::StreamSend { t, len, marker }),
        1 => t.prop_map(|t| Op::StreamDrop { t }),
    ]
}

/// Candidate base keys: the [`CHAINS`] — the pool keys, and their per-SSRC keys (§7) for
/// every SSRC of [`SSRCS`] — each with its ratchet steps 1..=MAX_STEPS.
struct Candidates {
    bases: Vec<Vec<u8>>,
}

impl Candidates {
    fn new(suite: CipherSuite, pool: &[Vec<u8>; 3]) -> Self {
        let mut chains = pool.to_vec();
        for ssrc in SSRCS {
            for p in pool {
                let mut key = [0u8; 64];
                let n = ssrc_base_key(suite, p, ssrc, &mut key).unwrap();
                chains.push(key[..n].to_vec());
            }
        }
        assert_eq!(chains.len(), CHAINS);
        let mut bases = Vec::new();
        for p in &chains {
            let mut cur = p.clone();
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
    fn new(suite: CipherSuite, pool: &[Vec<u8>; 3]) -> Self {
        Oracle {
            suite,
            candidates: Candidates::new(suite, pool),
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

    /// Candidate index of the key material made from pool key `base`: the key itself, or with
    /// `ssrc` its per-SSRC key for `SSRCS[ssrc]` (step 0 of their chains).
    fn material(&self, ssrc: Option<usize>, base: usize) -> usize {
        self.pool(ssrc.map_or(base, |i| 3 * (1 + i) + base))
    }
}

/// The chain (index into [`CHAINS`]) of a candidate.
fn chain_of(candidate: usize) -> usize {
    candidate / (MAX_STEPS as usize + 1)
}

/// A sender of either backend: odd sender slots pin `RustCrypto`, even ones use the
/// `DefaultBackend` (aws-lc with the default features), so one model run mixes backends — the
/// key-in-use registry and the counters must hold across them.
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

/// A send stream of either backend (odd stream slots pin `RustCrypto`, as senders do).
#[allow(clippy::large_enum_variant)] // a test helper; a few streams per run
enum AnyStream {
    Default(SendStream),
    RustCrypto(SendStream<RustCrypto>),
}

/// Runs `$body` with `$st` bound to the stream, whatever its backend.
macro_rules! on_stream {
    ($stream:expr, $st:ident => $body:expr) => {
        match $stream {
            AnyStream::Default($st) => $body,
            AnyStream::RustCrypto($st) => $body,
        }
    };
}

impl AnyStream {
    fn new(slot: usize, suite: CipherSuite, ssrc: usize, per_ssrc: bool) -> Self {
        let config = SendConfig::new(suite, SSRCS[ssrc], PAYLOAD_TYPE, MAX_PAYLOAD)
            .with_per_ssrc_keys(per_ssrc)
            .with_first_sequence(0xfffe - slot as u16); // wraps in the first frames
        if slot % 2 == 1 {
            AnyStream::RustCrypto(SendStream::with_backend(RustCrypto, config).unwrap())
        } else {
            AnyStream::Default(SendStream::new(config).unwrap())
        }
    }
}

/// (KID, next counter, ratchet step, next sequence number, stats): what the API says of a
/// send stream.
type StreamState = (Option<u64>, Option<u64>, Option<u64>, u16, SendStats);

/// What `send_frame` returned: KID, CTR, first sequence number, and the packets.
type Sent = (u64, u64, u16, Vec<Vec<u8>>);

type Job = Box<dyn FnOnce() + Send>;

/// The threads senders live on: thread 0 is the caller's, the others are workers that run one
/// job at a time.
struct Threads {
    workers: Vec<(mpsc::Sender<Job>, JoinHandle<()>)>,
}

impl Threads {
    fn new(n: usize) -> Self {
        let workers = (1..n)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Job>();
                (
                    tx,
                    std::thread::spawn(move || rx.into_iter().for_each(|job| job())),
                )
            })
            .collect();
        Threads { workers }
    }

    /// Runs `f` on thread `t` and returns its result (a panic there is resumed here).
    fn run<R: Send + 'static>(&self, t: usize, f: impl FnOnce() -> R + Send + 'static) -> R {
        let Some((jobs, _)) = self.workers.get(t.wrapping_sub(1)) else {
            return f();
        };
        let (done, result) = mpsc::channel();
        jobs.send(Box::new(move || {
            let _ = done.send(catch_unwind(AssertUnwindSafe(f)));
        }))
        .expect("worker alive");
        match result.recv().expect("worker answers") {
            Ok(r) => r,
            Err(panic) => resume_unwind(panic),
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        for (jobs, handle) in self.workers.drain(..) {
            drop(jobs);
            let _ = handle.join();
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
    pool: [Vec<u8>; 3],
    /// Each slot's sender; `None` only while it runs on its thread.
    senders: Vec<Option<AnySender>>,
    /// The thread each slot's sender was created on, and is used on.
    home: Vec<usize>,
    instance: Vec<u64>,
    next_instance: u64,
    uses: HashMap<(u64, usize, u64), Use>,
    /// Highest counter used per (KID, material): what a persisting application stores.
    persisted: BTreeMap<(u64, usize), u64>,
    oracle: Oracle,
    frames: usize,
    resumed: usize,
    errors: HashMap<Error, usize>,
    /// Each stream slot's stream; `None` while it runs on its thread, or dropped.
    streams: Vec<Option<AnyStream>>,
    /// Each stream slot's thread, (SSRC index, per-SSRC keys) and instance.
    stream_home: Vec<usize>,
    stream_config: Vec<(usize, bool)>,
    stream_instance: Vec<u64>,
    /// Frames sent by streams (also counted in `frames`).
    stream_frames: usize,
    /// Installs of used key material (by a stream, or by a sender given a per-SSRC key) that
    /// were checked to resume past every counter used.
    resumes_checked: usize,
    // Last: the threads stop after the senders on them are dropped.
    threads: Threads,
}

const MLS: MlsKidLayout = match MlsKidLayout::new(2, 2) {
    Ok(l) => l,
    Err(_) => panic!(),
};

/// (KID, next counter, ratchet step): what the API says of a sender.
type State = (Option<u64>, Option<u64>, Option<u64>);

impl World {
    fn new(suite: CipherSuite, pool: [Vec<u8>; 3]) -> Self {
        let mut w = World {
            suite,
            oracle: Oracle::new(suite, &pool),
            pool,
            senders: Vec::new(),
            home: Vec::new(),
            instance: Vec::new(),
            next_instance: 0,
            uses: HashMap::new(),
            persisted: BTreeMap::new(),
            frames: 0,
            resumed: 0,
            errors: HashMap::new(),
            streams: Vec::new(),
            stream_home: Vec::new(),
            stream_config: Vec::new(),
            stream_instance: Vec::new(),
            stream_frames: 0,
            resumes_checked: 0,
            threads: Threads::new(THREADS),
        };
        for slot in 0..SENDERS {
            let home = slot % THREADS;
            let tx = w.threads.run(home, move || AnySender::new(slot, suite));
            w.senders.push(Some(tx));
            w.home.push(home);
            w.instance.push(w.next_instance);
            w.next_instance += 1;
        }
        // Streams 0 and 1: one SSRC, per-SSRC keys; stream 2: keys used as given.
        for t in 0..STREAMS {
            let (home, config) = (t % THREADS, (t / 2, t < 2));
            let st = w
                .threads
                .run(home, move || AnyStream::new(t, suite, config.0, config.1));
            w.streams.push(Some(st));
            w.stream_home.push(home);
            w.stream_config.push(config);
            w.stream_instance.push(w.next_instance);
            w.next_instance += 1;
        }
        w
    }

    /// Runs `f` on stream `t`, on its thread; `None` if the slot is empty.
    fn with_stream<R: Send + 'static>(
        &mut self,
        t: usize,
        f: impl FnOnce(&mut AnyStream) -> R + Send + 'static,
    ) -> Option<R> {
        let mut st = self.streams[t].take()?;
        let (st, r) = self.threads.run(self.stream_home[t], move || {
            let r = f(&mut st);
            (st, r)
        });
        self.streams[t] = Some(st);
        Some(r)
    }

    fn stream_state(&mut self, t: usize) -> Option<StreamState> {
        self.with_stream(t, |st| {
            on_stream!(st, st => (
                st.key_id(),
                st.sender().next_counter(),
                st.sender().ratchet_step(),
                st.next_sequence(),
                st.stats(),
            ))
        })
    }

    /// Drops stream `t` (on its thread), if any.
    fn drop_stream(&mut self, t: usize) {
        let old = self.streams[t].take();
        self.threads.run(self.stream_home[t], move || drop(old));
    }

    /// After key material `material` was installed with `kid`: the counter `next` must be
    /// past every counter used with it (by any sender or stream, live or dropped).
    fn check_resumed(&mut self, op: &Op, kid: u64, material: usize, next: Option<u64>) {
        if let Some(&hi) = self.persisted.get(&(kid, material)) {
            assert!(
                next.is_none_or(|n| n > hi),
                "{op:?}: KID {kid} material {material} restarts at {next:?}, {hi} was used"
            );
            self.resumes_checked += 1;
        }
    }

    fn run_stream(&mut self, t: usize, op: &Op) {
        let suite = self.suite;
        match *op {
            Op::StreamNew {
                ssrc,
                per_ssrc,
                home,
                ..
            } => {
                self.drop_stream(t);
                self.streams[t] = Some(
                    self.threads
                        .run(home, move || AnyStream::new(t, suite, ssrc, per_ssrc)),
                );
                self.stream_home[t] = home;
                self.stream_config[t] = (ssrc, per_ssrc);
                self.stream_instance[t] = self.next_instance;
                self.next_instance += 1;
                return;
            }
            Op::StreamDrop { .. } => return self.drop_stream(t),
            _ => {}
        }
        let Some(before) = self.stream_state(t) else {
            return; // no stream in the slot
        };
        let (ssrc, per_ssrc) = self.stream_config[t];
        let material = |w: &Self, base| w.oracle.material(per_ssrc.then_some(ssrc), base);
        let result: Result<(), Error> = match *op {
            Op::StreamSetKey { kid, base, .. } => {
                let key = self.pool[base].clone();
                let r = self
                    .with_stream(t, move |st| on_stream!(st, st => st.set_key(kid, &key)))
                    .unwrap();
                if r.is_ok() {
                    let next = self.stream_state(t).unwrap().1;
                    self.check_resumed(op, kid, material(self, base), next);
                }
                r
            }
            Op::StreamSetDerivedKey { kid, base, .. } => {
                let m = material(self, base);
                let key = self.oracle.candidates.bases[m].clone();
                let r = self
                    .with_stream(t, move |st| {
                        on_stream!(st, st => {
                            let key = Key::derive_with(Default::default(), suite, kid, &key);
                            st.set_derived_key(key.unwrap())
                        })
                    })
                    .unwrap();
                if r.is_ok() {
                    let next = self.stream_state(t).unwrap().1;
                    self.check_resumed(op, kid, m, next);
                }
                r
            }
            Op::StreamSetRatchetingKey {
                r,
                generation,
                base,
                ..
            } => {
                let layout = RatchetLayout::new(r).unwrap();
                let key = self.pool[base].clone();
                self.with_stream(t, move |st| {
                    on_stream!(st, st => st.set_ratcheting_key(layout, Generation(generation), &key))
                })
                .unwrap()
                .map(|_| ())
            }
            Op::StreamRatchet { .. } => {
                if before.2.is_some_and(|step| step >= MAX_STEPS) {
                    return; // beyond what the oracle recognizes
                }
                self.with_stream(t, |st| on_stream!(st, st => st.ratchet()))
                    .unwrap()
                    .map(|_| ())
            }
            Op::StreamSend { len, marker, .. } => {
                let sent = self
                    .with_stream(t, move |st| {
                        on_stream!(st, st => {
                            let media = vec![0xa5; len];
                            let mut out = vec![0u8; st.max_packets_len(len)];
                            st.send_frame(&media, 9000, marker, &mut out).map(|p| {
                                let (kid, ctr, seq) = (p.key_id(), p.counter(), p.first_sequence());
                                (kid, ctr, seq, p.map(<[u8]>::to_vec).collect::<Vec<_>>())
                            })
                        })
                    })
                    .unwrap();
                sent.map(|sent| self.check_packets(t, op, &before, marker, sent))
            }
            _ => unreachable!("a stream op"),
        };
        if let Err(e) = result {
            *self.errors.entry(e).or_default() += 1;
            assert_eq!(
                Some(before),
                self.stream_state(t),
                "{op:?} failed with {e:?} and changed the stream"
            );
            assert!(
                matches!(e, Error::KeyInUse | Error::NoKey | Error::InvalidConfig),
                "{op:?}: unexpected {e:?}"
            );
        }
    }

    /// Checks the RTP packets of one `send_frame` of stream `t`, reassembles the SFrame frame
    /// and records its (KID, material, CTR).
    fn check_packets(&mut self, t: usize, op: &Op, before: &StreamState, marker: bool, sent: Sent) {
        let (kid, ctr, first_sequence, packets) = sent;
        let (ssrc, per_ssrc) = self.stream_config[t];
        assert_eq!(
            (before.0, before.1, before.3),
            (Some(kid), Some(ctr), first_sequence),
            "{op:?}: not the KID, CTR and sequence number the stream announced"
        );
        assert!(!packets.is_empty(), "{op:?}: no packets");
        let mut frame = Vec::new();
        let last = packets.len() - 1;
        for (i, packet) in packets.iter().enumerate() {
            let rtp = RtpPacket::parse(packet).expect("the stream wrote a malformed RTP packet");
            let h = &rtp.header;
            assert_eq!(
                (h.ssrc, h.payload_type, h.sequence_number, h.marker),
                (
                    SSRCS[ssrc],
                    PAYLOAD_TYPE,
                    first_sequence.wrapping_add(i as u16),
                    marker && i == last,
                ),
                "{op:?}: RTP header of packet {i}"
            );
            assert!(
                rtp.payload.len() <= MAX_PAYLOAD,
                "{op:?}: packet {i} too long"
            );
            let (&descriptor, fragment) = rtp.payload.split_first().expect("a descriptor");
            assert_eq!(
                Descriptor::parse(descriptor),
                Descriptor {
                    start: i == 0,
                    end: i == last,
                    mode: Mode::PerFrame
                },
                "{op:?}: descriptor of packet {i}"
            );
            if i == 0 {
                let (header, _) =
                    Header::parse(fragment).expect("the first fragment starts with the header");
                assert_eq!((header.key_id(), header.counter()), (kid, ctr), "{op:?}");
            }
            frame.extend_from_slice(fragment);
        }
        let id = self.oracle.identify(b"", &frame);
        // The stream's own key: the per-SSRC key of its SSRC (or a ratchet step of it), or,
        // without per-SSRC keys, a pool key (or a step) as given.
        let chain = chain_of(id.1);
        let want = if per_ssrc {
            3 * (1 + ssrc)..3 * (2 + ssrc)
        } else {
            0..3
        };
        assert!(
            want.contains(&chain),
            "{op:?}: frame under chain {chain}, the stream's are {want:?}"
        );
        self.record_id(self.stream_instance[t], id);
        self.stream_frames += 1;
    }

    /// Runs `f` on sender `s`, on its thread.
    fn with<R: Send + 'static>(
        &mut self,
        s: usize,
        f: impl FnOnce(&mut AnySender) -> R + Send + 'static,
    ) -> R {
        let mut tx = self.senders[s].take().expect("sender in its slot");
        let (tx, r) = self.threads.run(self.home[s], move || {
            let r = f(&mut tx);
            (tx, r)
        });
        self.senders[s] = Some(tx);
        r
    }

    fn state(&mut self, s: usize) -> State {
        self.with(
            s,
            |tx| on!(tx, tx => (tx.key_id(), tx.next_counter(), tx.ratchet_step())),
        )
    }

    /// Drops sender `s` (on its thread) and creates a new one on thread `home`.
    fn recreate(&mut self, s: usize, home: usize) {
        let old = self.senders[s].take();
        self.threads.run(self.home[s], move || drop(old));
        let suite = self.suite;
        self.senders[s] = Some(self.threads.run(home, move || AnySender::new(s, suite)));
        self.home[s] = home;
        self.instance[s] = self.next_instance;
        self.next_instance += 1;
    }

    fn run(&mut self, op: &Op) {
        if let Some(t) = op.stream() {
            return self.run_stream(t, op);
        }
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
            | Op::Drop { s, .. }
            | Op::Recreate { s, .. }
            | Op::SetSsrcKey { s, .. } => *s,
            _ => unreachable!("stream ops are run above"),
        };
        let mut before = self.state(s);
        let suite = self.suite;
        let result: Result<(), Error> = match *op {
            Op::SetKey { kid, base, .. } => {
                let key = self.pool[base].clone();
                self.with(s, move |tx| on!(tx, tx => tx.set_key(kid, &key)))
            }
            Op::SetKeyWithCounter {
                kid, base, ahead, ..
            } => {
                // Resume as a persisting application does: after the highest counter used.
                let cand = self.oracle.pool(base);
                let next = self.persisted.get(&(kid, cand)).map_or(0, |c| c + 1) + ahead;
                let next = sframe_core::Counter(next);
                let key = self.pool[base].clone();
                self.with(
                    s,
                    move |tx| on!(tx, tx => tx.set_key_with_counter(kid, &key, next)),
                )
            }
            Op::SetDerivedKey { kid, base, .. } => {
                let key = self.pool[base].clone();
                self.with(s, move |tx| {
                    on!(tx, tx => {
                        let key = Key::derive_with(Default::default(), suite, kid, &key);
                        tx.set_derived_key(key.unwrap())
                    })
                })
            }
            Op::SetExternalKey { kid, base, .. } => {
                let (_, salt) = derive_key_and_salt(suite, kid, &self.pool[base]).unwrap();
                let salt = salt.to_vec();
                self.with(s, move |tx| {
                    on!(tx, tx => {
                        let key = Key::external(Default::default(), suite, kid, &salt);
                        tx.set_derived_key(key.unwrap())
                    })
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
                let key = self.pool[base].clone();
                self.with(s, move |tx| {
                    on!(tx, tx => tx.set_ratcheting_key(layout, generation, &key).map(|_| ()))
                })
            }
            Op::Ratchet { .. } => {
                if before.2.is_some_and(|st| st >= MAX_STEPS) {
                    return; // beyond what the oracle recognizes
                }
                self.with(s, |tx| on!(tx, tx => tx.ratchet().map(|_| ())))
            }
            Op::SetMlsKey {
                epoch,
                leaf,
                secret,
                ..
            } => {
                let secret = self.pool[secret].clone();
                self.with(
                    s,
                    move |tx| on!(tx, tx => tx.set_mls_key(&MLS, &secret, epoch, leaf).map(|_| ())),
                )
            }
            Op::SetSsrcKey {
                kid, base, ssrc, ..
            } => {
                let material = self.oracle.material(Some(ssrc), base);
                let key = self.oracle.candidates.bases[material].clone();
                let r = self.with(s, move |tx| on!(tx, tx => tx.set_key(kid, &key)));
                if r.is_ok() {
                    let next = self.state(s).1;
                    self.check_resumed(op, kid, material, next);
                }
                r
            }
            Op::SetKeyFromRatchetBase { from, .. } => {
                let (base, kid) = self.with(from, |tx| {
                    let mut base = [0u8; 64];
                    on!(tx, tx => (
                        tx.ratchet_base_key(&mut base).map(|n| base[..n].to_vec()),
                        tx.key_id(),
                    ))
                });
                let (Ok(base), Some(kid)) = (base, kid) else {
                    return;
                };
                self.with(s, move |tx| on!(tx, tx => tx.set_key(kid, &base)))
            }
            Op::Protect { how: 3, .. } => {
                match self.with(s, |tx| on!(tx, tx => tx.protect_external())) {
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
                        self.record_id(self.instance[s], id);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Protect { how, len, .. } => {
                let meta = [s as u8, how];
                let frame = self.with(s, move |tx| {
                    let pt = vec![0x5a; len];
                    on!(tx, tx => match how {
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
                    })
                });
                match frame {
                    Ok(frame) => {
                        self.record(s, &meta, &frame);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Drop { home, .. } => {
                self.recreate(s, home);
                Ok(())
            }
            Op::Recreate { home, used, .. } => {
                if self.persisted.is_empty() {
                    return;
                }
                let (&(kid, cand), &hi) = self
                    .persisted
                    .iter()
                    .nth(used % self.persisted.len())
                    .unwrap();
                self.recreate(s, home);
                before = self.state(s);
                let key = self.oracle.candidates.bases[cand].clone();
                let r = self.with(s, move |tx| on!(tx, tx => tx.set_key(kid, &key)));
                if r.is_ok() {
                    // Not from 0: past every counter any sender used with it (also those of
                    // senders dropped since, on other threads).
                    let next = self.state(s).1;
                    assert!(
                        next.is_none_or(|n| n > hi),
                        "{op:?}: KID {kid} material {cand} restarts at {next:?}, {hi} was used"
                    );
                    self.resumed += 1;
                }
                r
            }
            _ => unreachable!("stream ops are run above"),
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
        self.record_id(self.instance[s], id);
    }

    /// Records a use of (KID, material, CTR) by sender or stream instance `me`.
    fn record_id(&mut self, me: u64, id: (u64, usize, u64)) {
        if let Some(prev) = self.uses.get(&id) {
            panic!(
                "(KID {}, material {}, CTR {}) used twice (instances {} and {me})",
                id.0, id.1, id.2, prev.instance
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
        let mut world = World::new(suite, pool("model"));
        for op in &ops {
            world.run(op);
        }
    }
}

/// The model itself on a fixed sequence, so that it cannot pass by never reaching the cases it
/// is about: senders on three threads, one refused (`KeyInUse`) by a sender of another thread,
/// a dropped sender's key given to a new one on another thread (it resumes), frames checked.
#[test]
fn model_drives_senders_on_threads_and_recreated_senders() {
    for suite in CipherSuite::ALL {
        let mut world = World::new(suite, pool("model_drives_senders_on_threads"));
        assert_eq!(world.home, [0, 1, 2]);
        let protect = |s| Op::Protect { s, how: 0, len: 4 };
        for op in [
            Op::SetKey {
                s: 0,
                kid: 1,
                base: 0,
            },
            protect(0),
            protect(0),
            // Same key and KID on thread 1 while the sender of thread 0 lives: refused.
            Op::SetKey {
                s: 1,
                kid: 1,
                base: 0,
            },
            Op::SetMlsKey {
                s: 2,
                epoch: 1,
                leaf: 1,
                secret: 1,
            },
            protect(2),
            // Sender 0 dropped; its key on a new sender on thread 2: resumes at 2.
            Op::Recreate {
                s: 0,
                home: 2,
                used: 0,
            },
            protect(0),
            // And back to thread 1, also for the MLS key (set_key with the exported secret
            // as base key is the same key): resumes too.
            Op::Drop { s: 2, home: 0 },
            Op::Recreate {
                s: 1,
                home: 1,
                used: 1,
            },
            protect(1),
        ] {
            world.run(&op);
        }
        assert_eq!(world.errors.get(&Error::KeyInUse), Some(&1));
        assert_eq!(world.errors.len(), 1);
        assert_eq!(world.resumed, 2);
        assert_eq!(world.frames, 5);
        assert_eq!(world.home, [2, 1, 0]);
    }
}

/// The model on a fixed sequence with send streams, so that it cannot pass by never reaching
/// the cases it is about: two streams of one SSRC with per-SSRC keys (the second refused), a
/// plain sender given that per-SSRC key directly (refused while the stream lives: one
/// material), a stream without per-SSRC keys holding the pool key itself (another material,
/// which a plain sender is then refused), a stream dropped and re-created on another thread
/// (it resumes), its per-SSRC key then given to a plain sender (it resumes the stream's
/// counter), and a per-SSRC ratchet chain; every frame of 1 to 3 packets checked.
#[test]
fn model_drives_send_streams_and_senders_sharing_their_material() {
    for suite in CipherSuite::ALL {
        let mut world = World::new(suite, pool("model_drives_send_streams"));
        assert_eq!(world.stream_config, [(0, true), (0, true), (1, false)]);
        let send = |t, len| Op::StreamSend {
            t,
            len,
            marker: true,
        };
        let ops = [
            Op::StreamSetKey {
                t: 0,
                kid: 1,
                base: 0,
            },
            send(0, 59), // 3 packets with every suite
            send(0, 0),
            // Stream 1, same SSRC, same base key and KID: the same per-SSRC key. Refused.
            Op::StreamSetKey {
                t: 1,
                kid: 1,
                base: 0,
            },
            send(1, 4), // NoKey
            // A plain sender given stream 0's per-SSRC key directly: refused.
            Op::SetSsrcKey {
                s: 0,
                kid: 1,
                base: 0,
                ssrc: 0,
            },
            // Stream 2 uses the pool key as given: not the per-SSRC key, accepted…
            Op::StreamSetKey {
                t: 2,
                kid: 1,
                base: 0,
            },
            send(2, 30),
            // …and a plain sender is refused it.
            Op::SetKey {
                s: 1,
                kid: 1,
                base: 0,
            },
            // Stream 0 dropped and re-created on thread 2: its key resumes at 2.
            Op::StreamNew {
                t: 0,
                ssrc: 0,
                per_ssrc: true,
                home: 2,
            },
            Op::StreamSetKey {
                t: 0,
                kid: 1,
                base: 0,
            },
            send(0, 10),
            // Dropped again; its per-SSRC key given to a plain sender: resumes at 3.
            Op::StreamDrop { t: 0 },
            send(0, 10), // no stream in the slot: nothing happens
            Op::SetSsrcKey {
                s: 0,
                kid: 1,
                base: 0,
                ssrc: 0,
            },
            Op::Protect {
                s: 0,
                how: 0,
                len: 4,
            },
            // Now the sender holds it: stream 1 is refused still.
            Op::StreamSetKey {
                t: 1,
                kid: 1,
                base: 0,
            },
            // A per-SSRC ratchet chain on stream 1 (§8).
            Op::StreamSetRatchetingKey {
                t: 1,
                r: 2,
                generation: 1,
                base: 1,
            },
            send(1, 20),
            Op::StreamRatchet { t: 1 },
            send(1, 20),
        ];
        for op in &ops {
            world.run(op);
        }
        assert_eq!(world.errors.get(&Error::KeyInUse), Some(&4), "{suite:?}");
        assert_eq!(world.errors.get(&Error::NoKey), Some(&1), "{suite:?}");
        assert_eq!(world.errors.len(), 2, "{suite:?}: {:?}", world.errors);
        assert_eq!(world.resumes_checked, 2, "{suite:?}");
        assert_eq!((world.stream_frames, world.frames), (6, 7), "{suite:?}");
        // The per-SSRC material of KID 1 was used at 0, 1 (stream 0), 2 (its successor) and 3
        // (the plain sender); the pool key itself at 0 (stream 2).
        let ssrc_key = world.oracle.material(Some(0), 0);
        for ctr in 0..4 {
            assert!(
                world.uses.contains_key(&(1, ssrc_key, ctr)),
                "{suite:?}: CTR {ctr}"
            );
        }
        assert!(world.uses.contains_key(&(1, world.oracle.pool(0), 0)));
        // The ratchet chain is stream 1's SSRC's per-SSRC key of pool key 1, steps 0 and 1.
        let chain = world.oracle.material(Some(0), 1);
        assert!(world.uses.contains_key(&(1 << 2, chain, 0)));
        assert!(world.uses.contains_key(&((1 << 2) + 1, chain + 1, 0)));
    }
}

/// The model finds a real reuse when one is there: a frame under the same key and counter as a
/// sender's, made by the low-level AEAD (what another process without a persisted counter
/// would send).
#[test]
fn oracle_detects_reuse() {
    let suite = CipherSuite::AesGcm128Sha256;
    let keys = pool("oracle_detects_reuse");
    let mut tx = Sender::new(suite);
    tx.set_key(1, &keys[0]).unwrap();
    let a = tx.protect_vec(b"m", b"x").unwrap();
    let (key, salt) = derive_key_and_salt(suite, 1, &keys[0]).unwrap();
    let mut b = vec![0u8; 2];
    let n = Header::new(1, 0).encode(&mut b).unwrap();
    b.truncate(n);
    let mut aad = b.clone();
    aad.extend_from_slice(b"m");
    let mut body = b"y".to_vec();
    let mut tag = [0u8; 16];
    Aead::new(suite, &key[..suite.key_len()])
        .unwrap()
        .seal(&salt[..], &aad, &mut body, &mut tag)
        .unwrap();
    b.extend_from_slice(&body);
    b.extend_from_slice(&tag);
    let mut oracle = Oracle::new(suite, &keys);
    assert_eq!(oracle.identify(b"m", &a), oracle.identify(b"m", &b));
}

// --------------------------- regressions: one test per nonce-reuse scenario found in review

/// Two encrypters (audio, video) given the same key and KID would both count from 0: the
/// second one is refused.
#[test]
fn second_sender_with_same_key_and_kid_is_refused() {
    let keys = pool("second_sender_with_same_key_and_kid_is_refused");
    for suite in CipherSuite::ALL {
        let mut audio = Sender::new(suite);
        audio.set_key(7, &keys[0]).unwrap();
        let mut video = Sender::new(suite);
        assert_eq!(video.set_key(7, &keys[0]), Err(Error::KeyInUse));
        let derived = Key::derive(suite, 7, &keys[0]).unwrap();
        assert_eq!(video.set_derived_key(derived), Err(Error::KeyInUse));
        assert_eq!(video.key_id(), None, "nothing installed");
        // One KID per track works.
        video.set_key(8, &keys[0]).unwrap();
        // A key the first sender has left (still in its history) stays claimed.
        audio.set_key(9, &keys[0]).unwrap();
        let mut third = Sender::new(suite);
        assert_eq!(third.set_key(7, &keys[0]), Err(Error::KeyInUse));
        drop(audio);
        third.set_key(7, &keys[0]).unwrap(); // released with its sender…
        assert_eq!(
            third.next_counter(),
            Some(0),
            "…which sent nothing under it"
        );
    }
}

/// Security 2, finding 2: "one key, one live sender" held only within one thread — the
/// registry was per thread. Two live senders given the same key and KID on two threads (one
/// thread per track, or a sender created on one thread and used on another) both sent
/// (KID, CTR 0): keystream reuse. And a sender re-created with a dropped sender's key started
/// at 0 again. Now the registry is the process's: the second live sender is refused on any
/// thread, and a re-created one resumes the counter.
#[test]
fn one_key_one_live_sender_holds_across_threads_and_drops() {
    let suite = CipherSuite::AesGcm128Sha256;
    let keys = pool("one_key_one_live_sender_holds_across_threads_and_drops");
    let ctr = |frame: &[u8]| Header::parse(frame).unwrap().0.counter();
    // Two threads (one per track) install the same key and KID at the same moment: one wins,
    // the other is refused. Both senders stay alive until both tried.
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (barrier, key) = (Arc::clone(&barrier), keys[0].clone());
            std::thread::spawn(move || {
                let mut tx = Sender::new(suite);
                barrier.wait();
                let r = tx.set_key(1, &key);
                barrier.wait();
                (r, tx)
            })
        })
        .collect();
    let tracks: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let results: Vec<_> = tracks.iter().map(|(r, _)| *r).collect();
    assert!(
        results == [Ok(()), Err(Error::KeyInUse)] || results == [Err(Error::KeyInUse), Ok(())],
        "two live senders of one key on two threads: {results:?}"
    );
    let (_, mut winner) = tracks.into_iter().find(|(r, _)| r.is_ok()).unwrap();
    // A sender created on another thread and used on this one: refused too.
    let mut moved = std::thread::spawn(move || Sender::new(suite))
        .join()
        .unwrap();
    assert_eq!(moved.set_key(1, &keys[0]), Err(Error::KeyInUse));
    for c in 0..3 {
        assert_eq!(ctr(&winner.protect_vec(b"", b"x").unwrap()), c);
    }
    // The winner is dropped (on yet another thread); a sender re-created with the same key and
    // KID, on another thread again, resumes at 3 instead of repeating CTR 0, 1, 2.
    std::thread::spawn(move || drop(winner)).join().unwrap();
    let key = keys[0].clone();
    let (next, frames, frame) = std::thread::spawn(move || {
        let mut tx = Sender::new(suite);
        tx.set_key(1, &key).unwrap();
        let (next, usage) = (tx.next_counter(), tx.usage().unwrap());
        (next, usage.frames, tx.protect_vec(b"", b"y").unwrap())
    })
    .join()
    .unwrap();
    assert_eq!(
        (next, frames),
        (Some(3), 3),
        "resumed, with its usage count"
    );
    assert_eq!(ctr(&frame), 3);
    // That one is gone too; an explicit lower counter does not rewind the key either.
    moved
        .set_key_with_counter(1, &keys[0], sframe_core::Counter(0))
        .unwrap();
    assert_eq!(moved.next_counter(), Some(4));
}

/// Re-installing a ratchet generation, then ratcheting, must not re-derive step 1 at counter 0.
#[test]
fn ratchet_reinstall_never_restarts_a_counter() {
    let keys = pool("ratchet_reinstall_never_restarts_a_counter");
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    for r in 2..=3u8 {
        let layout = RatchetLayout::new(r).unwrap();
        let mut tx = Sender::new(suite);
        let mut oracle = Oracle::new(suite, &keys);
        let mut seen = std::collections::HashSet::new();
        let mut send = |tx: &mut Sender| {
            let f = tx.protect_vec(b"", b"frame").unwrap();
            assert!(seen.insert(oracle.identify(b"", &f)), "R={r}: nonce reused");
        };
        tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &keys[0])
            .unwrap();
        send(&mut tx);
        tx.ratchet().unwrap();
        send(&mut tx);
        // The same generation again while it is in force: nothing changes.
        let kid = tx.key_id();
        assert_eq!(
            tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &keys[0])
                .ok(),
            kid
        );
        assert_eq!(tx.ratchet_step(), Some(1));
        send(&mut tx);
        // Leave it, come back, and walk the chain again past 2^R steps.
        tx.set_key(3, &keys[1]).unwrap();
        send(&mut tx);
        tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(1), &keys[0])
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
    let keys = pool("wrapped_step_kid_is_a_different_key");
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = RatchetLayout::new(2).unwrap();
    let mut tx = Sender::new(suite);
    let k0 = tx
        .set_ratcheting_key(layout, sframe_core::ratchet::Generation(0), &keys[2])
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
    tx.set_key(40, &keys[0]).unwrap();
    tx.set_ratcheting_key(layout, sframe_core::ratchet::Generation(0), &keys[2])
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
    let keys = pool("going_back_after_many_kids_resumes");
    let suite = CipherSuite::AesGcm256Sha512;
    let mut tx = Sender::new(suite);
    tx.set_key(1, &keys[0]).unwrap();
    for _ in 0..5 {
        tx.protect_vec(b"", b"x").unwrap();
    }
    for kid in 100..100 + 4 * RETIRED_KIDS as u64 {
        tx.set_key(kid, &keys[1]).unwrap();
        tx.protect_vec(b"", b"y").unwrap();
    }
    tx.set_key(1, &keys[0]).unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(5),
        "the counter resumes, never restarts at 0"
    );
    tx.set_key_with_counter(1, &keys[0], sframe_core::Counter(2))
        .unwrap();
    assert_eq!(
        tx.next_counter(),
        Some(5),
        "a lower explicit counter never rewinds"
    );
    tx.set_key_with_counter(1, &keys[0], sframe_core::Counter(9))
        .unwrap();
    assert_eq!(tx.next_counter(), Some(9), "a higher one moves it up");
}
