//! Model-based nonce-uniqueness tests of the sender, driven only through the C ABI: no nonce
//! reuse under any sequence of API calls, in every binding (this one: C).
//!
//! Arbitrary sequences of sender calls (`set_key`, `set_key_with_counter`,
//! `set_ratcheting_key`, `ratchet`, `set_mls_key`, protect, freeing a sender in the middle and
//! creating a new one — also given a key a sender or stream used before) and of RTP
//! send-stream calls (`sframe_send_stream_*`: `set_key`, `set_ratcheting_key`, `ratchet`,
//! `send_frame`, free and re-create; streams derive per-SSRC keys, draft §7/§8, or use the
//! keys as given) run over several sender and send-stream handles that share small pools of
//! KIDs, base keys, generations, ratchet layouts (R = 1..4) and MLS epochs, for every cipher
//! suite. The handles live on several threads: each is created on its
//! slot's thread and used only there, and a new one may go to another thread. The oracle knows
//! nothing of the sender's internals: it parses each protected frame's header (KID, CTR) and
//! finds the key material that produced it by trial decryption with a fresh receiver (replay
//! window 0) for every base key the test ever supplied for that KID — the pool keys (also used
//! as MLS exported secrets: an MLS member key is §4.4.2 applied to the exported secret with the
//! member's KID), their per-SSRC keys for the streams' SSRC (computed with
//! `sframe_core::rtp::ssrc_base_key`) and every ratchet step key of either computed with
//! `sframe_core::ratchet::next_base_key`. A stream's frame is read out of its RTP packets
//! (RTP header, descriptor byte, fragments; the SFrame header from the first), and must be
//! under the stream's own kind of key (per-SSRC or as given).
//! (KID, base key, CTR) determines (derived key, nonce); no triple may repeat — between live
//! senders on any threads (the second is refused with KEY_IN_USE) and across a free (the
//! process-wide registry resumes the key's counter in the next sender). A plain sender given a
//! stream's per-SSRC key (by [`Op::Recreate`]) holds the stream's material. A call that fails
//! must leave the sender or stream as it was (same key ID and next counter) and produce no
//! frame.
//!
//! Senders claim keys process-wide and cargo runs this file's tests in parallel in one
//! process: each test has its own key pool ([`Oracle::new`]'s `test`), and each proptest case
//! too, out of a bounded number of pools (see [`case_pool`]).

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::JoinHandle;

use proptest::prelude::*;
use proptest::sample::select;
use sframe::{
    SframeMlsKidLayout, SframeReceiver, SframeReceiverConfig, SframeSendStream,
    SframeSendStreamConfig, SframeSender, SframeSentFrame, SframeStatus, sframe_header_parse,
    sframe_receiver_add_key, sframe_receiver_config_init, sframe_receiver_free,
    sframe_receiver_new_with_config, sframe_receiver_unprotect, sframe_send_stream_free,
    sframe_send_stream_key_id, sframe_send_stream_max_packet_count,
    sframe_send_stream_max_packets_len, sframe_send_stream_new, sframe_send_stream_next_counter,
    sframe_send_stream_ratchet, sframe_send_stream_send_frame, sframe_send_stream_set_key,
    sframe_send_stream_set_ratcheting_key, sframe_sender_free, sframe_sender_key_id,
    sframe_sender_max_output_len, sframe_sender_new, sframe_sender_next_counter,
    sframe_sender_protect, sframe_sender_protect_in_place, sframe_sender_ratchet,
    sframe_sender_set_key, sframe_sender_set_key_with_counter, sframe_sender_set_mls_key,
    sframe_sender_set_ratcheting_key, sframe_status_name,
};
use sframe_core::rtp::{Descriptor, Mode, RtpPacket};
use sframe_core::{CipherSuite, RETIRED_KIDS, ratchet::next_base_key};

use SframeStatus::*;

/// Every suite the core offers (1..8), by IANA value as C passes it.
const SUITES: [u16; CipherSuite::ALL.len()] = {
    let mut ids = [0; CipherSuite::ALL.len()];
    let mut i = 0;
    while i < ids.len() {
        ids[i] = CipherSuite::ALL[i].id();
        i += 1;
    }
    ids
};

/// Base keys (also MLS exported secrets), each with the name of its test (or proptest case) in
/// front. The model's pool of a suite is these, then ratchet step 1 of the first (so `set_key`
/// can reach a ratchet step's key material too), then [`SHORT_KEY`] (refused by every call).
const KEYS: [&[u8]; 3] = [
    b"pool base key 0!",
    b"pool base key number 1, 32 bytes",
    b"pool base key 2, 20b",
];
/// Valid keys in the pool; pool index `VALID_KEYS` is [`SHORT_KEY`].
const VALID_KEYS: usize = 4;
const SHORT_KEY: &[u8] = b"too short key15";

/// MLS layout of the model: E = 2 epoch bits, S = 1 index bit, the context selects the track.
const MLS_EPOCH_BITS: u8 = 2;
const MLS_INDEX_BITS: u8 = 1;

fn mls_layout(context: u64) -> SframeMlsKidLayout {
    SframeMlsKidLayout {
        epoch_bits: MLS_EPOCH_BITS,
        index_bits: MLS_INDEX_BITS,
        context,
    }
}

/// §5.2 KID, computed here independently of the library.
fn mls_kid(context: u64, leaf: u32, epoch: u64) -> u64 {
    let e = u32::from(MLS_EPOCH_BITS);
    (context << (e + u32::from(MLS_INDEX_BITS))) | (u64::from(leaf) << e) | (epoch & 3)
}

/// §5.1 KID, computed here independently of the library.
fn ratchet_kid(r: u8, generation: u64, step: u64) -> u64 {
    (generation << r) | (step & ((1u64 << r) - 1))
}

fn name(status: SframeStatus) -> String {
    // SAFETY: sframe_status_name returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sframe_status_name(status as u32)) }
        .to_string_lossy()
        .into_owned()
}

// ------------------------------------------------------------------ safe wrappers of the C ABI

/// A sender handle, freed (with `sframe_sender_free`) on drop — also when a test panics, so no
/// claim on key material outlives a proptest case.
struct Tx(*mut SframeSender);

// SAFETY: sframe.h: an object may be created, used and freed on any thread, by one thread at a
// time; a `Tx` is used by whoever owns it (and `&Tx` only for const calls).
unsafe impl Send for Tx {}

/// What the API says about a sender's state: its key ID and the counter of its next frame.
type TxState = (Result<u64, SframeStatus>, Result<u64, SframeStatus>);

impl Tx {
    fn new(suite: u16) -> Tx {
        let p = sframe_sender_new(suite);
        assert!(!p.is_null(), "sframe_sender_new({suite})");
        Tx(p)
    }

    fn set_key(&mut self, kid: u64, key: &[u8]) -> SframeStatus {
        // SAFETY: live handle, key valid for its length.
        unsafe { sframe_sender_set_key(self.0, kid, key.as_ptr(), key.len()) }
    }

    fn set_key_with_counter(&mut self, kid: u64, key: &[u8], ctr: u64) -> SframeStatus {
        // SAFETY: as above.
        unsafe { sframe_sender_set_key_with_counter(self.0, kid, key.as_ptr(), key.len(), ctr) }
    }

    fn set_ratcheting_key(&mut self, r: u8, generation: u64, key: &[u8]) -> (SframeStatus, u64) {
        let mut kid = u64::MAX;
        // SAFETY: as above; `kid` is writable.
        let st = unsafe {
            sframe_sender_set_ratcheting_key(
                self.0,
                r,
                generation,
                key.as_ptr(),
                key.len(),
                &mut kid,
            )
        };
        (st, kid)
    }

    fn ratchet(&mut self) -> (SframeStatus, u64) {
        let mut kid = u64::MAX;
        // SAFETY: live handle, `kid` is writable.
        let st = unsafe { sframe_sender_ratchet(self.0, &mut kid) };
        (st, kid)
    }

    fn set_mls_key(
        &mut self,
        context: u64,
        secret: &[u8],
        epoch: u64,
        leaf: u32,
    ) -> (SframeStatus, u64) {
        let layout = mls_layout(context);
        let mut kid = u64::MAX;
        // SAFETY: live handle, layout readable, secret valid for its length, `kid` writable.
        let st = unsafe {
            sframe_sender_set_mls_key(
                self.0,
                &layout,
                secret.as_ptr(),
                secret.len(),
                epoch,
                leaf,
                &mut kid,
            )
        };
        (st, kid)
    }

    fn state(&self) -> TxState {
        let (mut kid, mut ctr) = (0u64, 0u64);
        // SAFETY: live handle, out-pointers writable.
        let (a, b) = unsafe {
            (
                sframe_sender_key_id(self.0, &mut kid),
                sframe_sender_next_counter(self.0, &mut ctr),
            )
        };
        let ok = |st: SframeStatus, v: u64| if st == SFRAME_OK { Ok(v) } else { Err(st) };
        (ok(a, kid), ok(b, ctr))
    }

    fn next_counter(&self) -> Result<u64, SframeStatus> {
        self.state().1
    }

    /// Protects `pt`; on error checks that nothing came out (`*out_len` = 0).
    fn protect(&mut self, md: &[u8], pt: &[u8], in_place: bool) -> Result<Vec<u8>, SframeStatus> {
        // SAFETY: live handle.
        let cap = unsafe { sframe_sender_max_output_len(self.0, pt.len()) };
        let mut out = vec![0u8; cap];
        let mut n = usize::MAX;
        // SAFETY: every buffer is valid for its length; `n` is writable.
        let st = unsafe {
            if in_place {
                out[..pt.len()].copy_from_slice(pt);
                sframe_sender_protect_in_place(
                    self.0,
                    md.as_ptr(),
                    md.len(),
                    out.as_mut_ptr(),
                    cap,
                    pt.len(),
                    &mut n,
                )
            } else {
                sframe_sender_protect(
                    self.0,
                    md.as_ptr(),
                    md.len(),
                    pt.as_ptr(),
                    pt.len(),
                    out.as_mut_ptr(),
                    cap,
                    &mut n,
                )
            }
        };
        if st != SFRAME_OK {
            assert_eq!(n, 0, "a failed protect ({}) reported output", name(st));
            return Err(st);
        }
        out.truncate(n);
        Ok(out)
    }

    /// Protects one frame, which must succeed.
    fn frame(&mut self, pt: &[u8]) -> Vec<u8> {
        self.protect(b"", pt, false)
            .unwrap_or_else(|st| panic!("protect: {}", name(st)))
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // SAFETY: the handle came from sframe_sender_new and is freed once.
        unsafe { sframe_sender_free(self.0) }
    }
}

/// The send streams of the model, by slot: (SSRC, per-SSRC keys). Slots 0 and 1 share an SSRC,
/// so with the same base key and KID they derive the same key (the second must be refused);
/// slot 2 uses keys as given, like a sender (and must be refused the senders' key material).
const STREAMS: [(u32, bool); 3] = [(STREAM_SSRC, true), (STREAM_SSRC, true), (7, false)];
/// The SSRC whose per-SSRC keys the oracle knows.
const STREAM_SSRC: u32 = 0x5eed;
/// The streams' largest RTP payload: the model's frames take 2 or 3 packets.
const STREAM_MAX_PAYLOAD: usize = 32;
const STREAM_PT: u8 = 96;

/// A send-stream handle, freed (with `sframe_send_stream_free`) on drop.
struct StreamTx {
    handle: *mut SframeSendStream,
    slot: usize,
}

// SAFETY: as for `Tx` (sframe.h: any thread, one at a time).
unsafe impl Send for StreamTx {}

impl StreamTx {
    fn new(suite: u16, slot: usize) -> StreamTx {
        let (ssrc, per_ssrc_keys) = STREAMS[slot];
        let config = SframeSendStreamConfig {
            cipher_suite: suite,
            ssrc,
            payload_type: STREAM_PT,
            per_packet: false,
            max_payload_len: STREAM_MAX_PAYLOAD,
            per_ssrc_keys,
            first_sequence: 0xffff, // wraps after the first packet
        };
        let mut p = std::ptr::null_mut();
        // SAFETY: valid config and out-pointer.
        assert_eq!(
            unsafe { sframe_send_stream_new(&config, &mut p) },
            SFRAME_OK
        );
        StreamTx { handle: p, slot }
    }

    fn set_key(&mut self, kid: u64, key: &[u8]) -> SframeStatus {
        // SAFETY: live handle, key valid for its length.
        unsafe { sframe_send_stream_set_key(self.handle, kid, key.as_ptr(), key.len()) }
    }

    fn set_ratcheting_key(&mut self, r: u8, generation: u64, key: &[u8]) -> (SframeStatus, u64) {
        let mut kid = u64::MAX;
        // SAFETY: as above; `kid` is writable.
        let st = unsafe {
            sframe_send_stream_set_ratcheting_key(
                self.handle,
                r,
                generation,
                key.as_ptr(),
                key.len(),
                &mut kid,
            )
        };
        (st, kid)
    }

    fn ratchet(&mut self) -> (SframeStatus, u64) {
        let mut kid = u64::MAX;
        // SAFETY: live handle, `kid` is writable.
        let st = unsafe { sframe_send_stream_ratchet(self.handle, &mut kid) };
        (st, kid)
    }

    fn state(&self) -> TxState {
        let (mut kid, mut ctr) = (0u64, 0u64);
        // SAFETY: live handle, out-pointers writable.
        let (a, b) = unsafe {
            (
                sframe_send_stream_key_id(self.handle, &mut kid),
                sframe_send_stream_next_counter(self.handle, &mut ctr),
            )
        };
        let ok = |st: SframeStatus, v: u64| if st == SFRAME_OK { Ok(v) } else { Err(st) };
        (ok(a, kid), ok(b, ctr))
    }

    /// Sends `media` and returns the SFrame frame reassembled from its RTP packets, each
    /// checked (SSRC, payload type, consecutive sequence numbers, marker on the last,
    /// descriptor; the SFrame header read from the first fragment and compared with
    /// `SframeSentFrame`); on error checks that nothing came out.
    fn send(&mut self, media: &[u8]) -> Result<Vec<u8>, SframeStatus> {
        // SAFETY: live handle.
        let (cap, count) = unsafe {
            (
                sframe_send_stream_max_packets_len(self.handle, media.len()),
                sframe_send_stream_max_packet_count(self.handle, media.len()),
            )
        };
        let mut out = vec![0u8; cap];
        let mut lens = vec![usize::MAX; count];
        let mut sent = SframeSentFrame {
            len: 1,
            packets: 1,
            kid: 1,
            counter: 1,
            first_sequence: 1,
        };
        // SAFETY: buffers valid for their lengths, `sent` writable.
        let st = unsafe {
            sframe_send_stream_send_frame(
                self.handle,
                media.as_ptr(),
                media.len(),
                0,
                true,
                out.as_mut_ptr(),
                cap,
                lens.as_mut_ptr(),
                count,
                &mut sent,
            )
        };
        if st != SFRAME_OK {
            assert_eq!(
                sent,
                SframeSentFrame::default(),
                "a failed send reported output"
            );
            return Err(st);
        }
        assert!((1..=count).contains(&sent.packets), "{sent:?}");
        assert_eq!(sent.len, lens[..sent.packets].iter().sum::<usize>());
        let (ssrc, _) = STREAMS[self.slot];
        let mut frame = Vec::new();
        let mut at = 0;
        for (i, &len) in lens[..sent.packets].iter().enumerate() {
            let last = i + 1 == sent.packets;
            let rtp = RtpPacket::parse(&out[at..at + len]).expect("an RTP packet");
            at += len;
            let h = &rtp.header;
            assert_eq!(
                (h.ssrc, h.payload_type, h.sequence_number, h.marker),
                (
                    ssrc,
                    STREAM_PT,
                    sent.first_sequence.wrapping_add(i as u16),
                    last
                ),
                "RTP header of packet {i}"
            );
            assert!(rtp.payload.len() <= STREAM_MAX_PAYLOAD);
            let (&descriptor, fragment) = rtp.payload.split_first().expect("a descriptor");
            assert_eq!(
                Descriptor::parse(descriptor),
                Descriptor {
                    start: i == 0,
                    end: last,
                    mode: Mode::PerFrame
                },
                "descriptor of packet {i}"
            );
            if i == 0 {
                assert_eq!(parse(fragment), (sent.kid, sent.counter), "SframeSentFrame");
            }
            frame.extend_from_slice(fragment);
        }
        Ok(frame)
    }
}

impl Drop for StreamTx {
    fn drop(&mut self) {
        // SAFETY: the handle came from sframe_send_stream_new and is freed once.
        unsafe { sframe_send_stream_free(self.handle) }
    }
}

/// (KID, CTR) of a frame, from its clear header.
fn parse(frame: &[u8]) -> (u64, u64) {
    let (mut kid, mut ctr, mut hl) = (0u64, 0u64, 0usize);
    // SAFETY: frame valid for its length, out-pointers writable.
    let st =
        unsafe { sframe_header_parse(frame.as_ptr(), frame.len(), &mut kid, &mut ctr, &mut hl) };
    assert_eq!(st, SFRAME_OK, "header of a protected frame");
    (kid, ctr)
}

/// Whether `frame` authenticates (and decrypts to `pt`) under the key derived from `base_key`
/// for `kid`, on a fresh receiver with replay protection off.
fn decrypts_under(
    suite: u16,
    kid: u64,
    base_key: &[u8],
    md: &[u8],
    frame: &[u8],
    pt: &[u8],
) -> bool {
    struct Rx(*mut SframeReceiver);
    impl Drop for Rx {
        fn drop(&mut self) {
            // SAFETY: from sframe_receiver_new, freed once.
            unsafe { sframe_receiver_free(self.0) }
        }
    }
    // Replay protection off: this receiver only checks what a frame decrypts to.
    let mut config = std::mem::MaybeUninit::<SframeReceiverConfig>::uninit();
    let mut raw = std::ptr::null_mut();
    // SAFETY: `config` is writable; it is initialised by config_init before it is read.
    let rx = unsafe {
        assert_eq!(
            sframe_receiver_config_init(config.as_mut_ptr(), suite),
            SFRAME_OK
        );
        let mut config = config.assume_init();
        config.replay_window = 0;
        assert_eq!(
            sframe_receiver_new_with_config(&config, &mut raw),
            SFRAME_OK
        );
        Rx(raw)
    };
    assert!(!rx.0.is_null());
    let mut out = vec![0u8; frame.len()];
    let mut n = 0usize;
    // SAFETY: live receiver, buffers valid for their lengths.
    unsafe {
        assert_eq!(
            sframe_receiver_add_key(rx.0, kid, base_key.as_ptr(), base_key.len()),
            SFRAME_OK
        );
        let st = sframe_receiver_unprotect(
            rx.0,
            md.as_ptr(),
            md.len(),
            frame.as_ptr(),
            frame.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n,
        );
        if st != SFRAME_OK {
            return false;
        }
    }
    assert_eq!(&out[..n], pt, "authenticated but decrypted to other bytes");
    true
}

// ------------------------------------------------------------------ the oracle

/// Who used a (KID, base key, CTR) triple first.
#[derive(Clone, Copy, Debug)]
struct Use {
    sender: usize,
    step: usize,
}

/// Records every (KID, base key, CTR) actually used and fails on a repeat.
struct Oracle {
    suite: u16,
    /// The model's valid base keys (see [`KEYS`]).
    pool: Vec<Vec<u8>>,
    /// Base keys the test supplies directly: the pool (plus a regression test's own).
    supplied: Vec<Vec<u8>>,
    /// Ratchet chains started by the test: (R, generation, index into `step_keys`).
    chains: Vec<(u8, u64, usize)>,
    /// `step_keys[k][s]` = base key of ratchet step `s` from `pool[k]` (`k < VALID_KEYS`) or
    /// from the per-SSRC key for [`STREAM_SSRC`] of `pool[k - VALID_KEYS]`.
    step_keys: Vec<Vec<Vec<u8>>>,
    used: HashMap<(u64, Vec<u8>, u64), Use>,
    frames: usize,
    /// How often a new sender given a used key resumed it ([`Op::Recreate`]).
    resumed: usize,
}

impl Oracle {
    /// `max_steps`: the most ratchet steps any chain can reach (the number of ratchet calls).
    /// `test` names the key pool: the pool keys are [`KEYS`] with `test` in front, so that no
    /// other test of the process holds or has used them.
    fn new(suite: u16, max_steps: usize, test: &str) -> Oracle {
        let id = CipherSuite::from_id(suite).expect("suite");
        let next = |key: &[u8]| {
            let mut next = [0u8; 64];
            let n = next_base_key(id, key, &mut next).expect("next_base_key");
            next[..n].to_vec()
        };
        let mut pool: Vec<Vec<u8>> = KEYS
            .iter()
            .map(|k| [test.as_bytes(), b": ", k].concat())
            .collect();
        let step1 = next(&pool[0]);
        pool.push(step1);
        assert_eq!(pool.len(), VALID_KEYS);
        let derived: Vec<Vec<u8>> = pool
            .iter()
            .map(|k| {
                let mut out = [0u8; 64];
                let n = sframe_core::rtp::ssrc_base_key(id, k, STREAM_SSRC, &mut out)
                    .expect("ssrc_base_key");
                out[..n].to_vec()
            })
            .collect();
        let step_keys = pool
            .iter()
            .chain(&derived)
            .map(|k| {
                let mut chain = vec![k.clone()];
                for _ in 0..max_steps {
                    let step = next(chain.last().expect("step 0"));
                    chain.push(step);
                }
                chain
            })
            .collect();
        Oracle {
            suite,
            supplied: pool.iter().chain(&derived).cloned().collect(),
            pool,
            chains: Vec::new(),
            step_keys,
            used: HashMap::new(),
            frames: 0,
            resumed: 0,
        }
    }

    /// Every base key the test supplied (directly or by ratcheting) that could be `kid`'s.
    fn candidates(&self, kid: u64) -> Vec<&[u8]> {
        let mut c: Vec<&[u8]> = self.supplied.iter().map(Vec::as_slice).collect();
        for &(r, generation, k) in &self.chains {
            for (s, key) in self.step_keys[k].iter().enumerate().skip(1) {
                if ratchet_kid(r, generation, s as u64) == kid && !c.contains(&key.as_slice()) {
                    c.push(key);
                }
            }
        }
        c
    }

    /// (KID, base key) of every frame recorded, with the highest counter used.
    fn used_keys(&self) -> BTreeMap<(u64, Vec<u8>), u64> {
        let mut keys = BTreeMap::new();
        for (kid, key, ctr) in self.used.keys() {
            let hi = keys.entry((*kid, key.clone())).or_insert(*ctr);
            *hi = (*hi).max(*ctr);
        }
        keys
    }

    /// The per-SSRC key for [`STREAM_SSRC`] of `pool[k]`.
    fn ssrc_key(&self, k: usize) -> &[u8] {
        &self.step_keys[VALID_KEYS + k][0]
    }

    /// Whether `key` is a per-SSRC key for [`STREAM_SSRC`] (or a ratchet step of one).
    fn is_ssrc_key(&self, key: &[u8]) -> bool {
        self.step_keys[VALID_KEYS..]
            .iter()
            .any(|chain| chain.iter().any(|k| k == key))
    }

    /// Identifies the key material of a frame `sender` protected at `step` and records it;
    /// returns the base key.
    fn record(
        &mut self,
        sender: usize,
        step: usize,
        md: &[u8],
        pt: &[u8],
        frame: &[u8],
    ) -> Vec<u8> {
        let (kid, ctr) = parse(frame);
        let matches: Vec<Vec<u8>> = self
            .candidates(kid)
            .into_iter()
            .filter(|k| decrypts_under(self.suite, kid, k, md, frame, pt))
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(
            matches.len(),
            1,
            "frame KID {kid} CTR {ctr} (sender {sender}, step {step}) authenticates under {} of \
             the supplied keys",
            matches.len()
        );
        let key = matches.into_iter().next().expect("one match");
        let triple = (kid, key.clone(), ctr);
        if let Some(first) = self.used.get(&triple) {
            panic!(
                "NONCE REUSE (suite {}): KID {kid} CTR {ctr} under the same key by sender {} \
                 (step {}) and sender {sender} (step {step})",
                self.suite, first.sender, first.step
            );
        }
        self.used.insert(triple, Use { sender, step });
        self.frames += 1;
        key
    }
}

// ------------------------------------------------------------------ the model

#[derive(Clone, Debug)]
enum Op {
    SetKey {
        s: usize,
        kid: u64,
        key: usize,
    },
    SetKeyWithCounter {
        s: usize,
        kid: u64,
        key: usize,
        ctr: u64,
    },
    SetRatchetingKey {
        s: usize,
        r: u8,
        generation: u64,
        key: usize,
    },
    Ratchet {
        s: usize,
    },
    SetMlsKey {
        s: usize,
        context: u64,
        key: usize,
        epoch: u64,
        leaf: u32,
    },
    Protect {
        s: usize,
        frames: u8,
        in_place: bool,
    },
    /// Frees the sender and creates a new one in its slot, on thread `home`.
    Free {
        s: usize,
        home: usize,
    },
    /// Frees the sender, creates a new one on thread `home` and gives it (`set_key`) key
    /// material a sender or stream of this run used before (a stream's per-SSRC key too): it
    /// must resume past every counter used.
    Recreate {
        s: usize,
        home: usize,
        used: usize,
    },
    /// `sframe_send_stream_set_key` on stream slot `t`.
    StreamSetKey {
        t: usize,
        kid: u64,
        key: usize,
    },
    StreamSetRatchetingKey {
        t: usize,
        r: u8,
        generation: u64,
        key: usize,
    },
    StreamRatchet {
        t: usize,
    },
    StreamSend {
        t: usize,
        frames: u8,
    },
    /// Frees the stream and creates a new one (same slot settings) on thread `home`.
    StreamFree {
        t: usize,
        home: usize,
    },
}

impl Op {
    /// The stream slot of a send-stream op.
    fn stream(&self) -> Option<usize> {
        match *self {
            Op::StreamSetKey { t, .. }
            | Op::StreamSetRatchetingKey { t, .. }
            | Op::StreamRatchet { t }
            | Op::StreamSend { t, .. }
            | Op::StreamFree { t, .. } => Some(t),
            _ => None,
        }
    }

    fn sender(&self) -> usize {
        match *self {
            Op::SetKey { s, .. }
            | Op::SetKeyWithCounter { s, .. }
            | Op::SetRatchetingKey { s, .. }
            | Op::Ratchet { s }
            | Op::SetMlsKey { s, .. }
            | Op::Protect { s, .. }
            | Op::Free { s, .. }
            | Op::Recreate { s, .. } => s,
            _ => unreachable!("a sender op"),
        }
    }
}

/// Threads the senders live on: the test's own (0) and two workers.
const THREADS: usize = 3;

type Job = Box<dyn FnOnce() + Send>;

/// Thread 0 is the caller's; the others are workers that run one job at a time.
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

/// A handle the model keeps in slots: a sender or a send stream.
trait Handle: Send + 'static {
    fn create(suite: u16, slot: usize) -> Self;
    fn state(&self) -> TxState;
}

impl Handle for Tx {
    fn create(suite: u16, _slot: usize) -> Self {
        Tx::new(suite)
    }

    fn state(&self) -> TxState {
        Tx::state(self)
    }
}

impl Handle for StreamTx {
    fn create(suite: u16, slot: usize) -> Self {
        StreamTx::new(suite, slot)
    }

    fn state(&self) -> TxState {
        StreamTx::state(self)
    }
}

/// The sender (or send-stream) handles of a run, each on its thread.
struct Slots<H: Handle> {
    /// `None` only while a call runs on the slot's thread.
    txs: Vec<Option<H>>,
    home: Vec<usize>,
    suite: u16,
    // Last: the threads stop after the handles on them are freed.
    threads: Threads,
}

impl<H: Handle> Slots<H> {
    fn new(suite: u16, n: usize) -> Slots<H> {
        let threads = Threads::new(THREADS);
        let home: Vec<usize> = (0..n).map(|s| s % THREADS).collect();
        let txs = home
            .iter()
            .enumerate()
            .map(|(slot, &t)| Some(threads.run(t, move || H::create(suite, slot))))
            .collect();
        Slots {
            txs,
            home,
            suite,
            threads,
        }
    }

    /// Runs `f` on the handle of `slot`, on its thread.
    fn with<R: Send + 'static>(
        &mut self,
        slot: usize,
        f: impl FnOnce(&mut H) -> R + Send + 'static,
    ) -> R {
        let mut tx = self.txs[slot].take().expect("handle in its slot");
        let (tx, r) = self.threads.run(self.home[slot], move || {
            let r = f(&mut tx);
            (tx, r)
        });
        self.txs[slot] = Some(tx);
        r
    }

    fn state(&mut self, slot: usize) -> TxState {
        self.with(slot, |tx| tx.state())
    }

    /// Frees the handle of `slot` (on its thread) and creates a new one on thread `home`.
    fn recreate(&mut self, slot: usize, home: usize) {
        let old = self.txs[slot].take();
        self.threads.run(self.home[slot], move || drop(old));
        let suite = self.suite;
        self.txs[slot] = Some(self.threads.run(home, move || H::create(suite, slot)));
        self.home[slot] = home;
    }
}

/// Oracle ids of send streams start here (senders count from 0).
const STREAM_IDS: usize = 1_000_000;

/// Runs `ops` on `slots` sender handles and the [`STREAMS`] send-stream handles of `suite`
/// with the key pool of `test` (see [`Oracle::new`]) and checks every frame with the oracle.
/// Returns the number of frames checked.
fn run(suite: u16, slots: usize, ops: &[Op], test: &str) -> usize {
    run_model(suite, slots, ops, test).frames
}

/// [`run`], returning the oracle (what it saw).
fn run_model(suite: u16, slots: usize, ops: &[Op], test: &str) -> Oracle {
    let max_steps = ops
        .iter()
        .filter(|op| matches!(op, Op::Ratchet { .. } | Op::StreamRatchet { .. }))
        .count();
    let mut oracle = Oracle::new(suite, max_steps, test);
    let pool = oracle.pool.clone();
    let key_bytes = |i: usize| pool.get(i).map_or(SHORT_KEY.to_vec(), Vec::clone);
    let mut txs: Slots<Tx> = Slots::new(suite, slots);
    let mut ids: Vec<usize> = (0..slots).collect();
    let mut next_id = slots;
    let mut streams: Slots<StreamTx> = Slots::new(suite, STREAMS.len());
    let mut stream_ids: Vec<usize> = (0..STREAMS.len()).map(|t| STREAM_IDS + t).collect();
    let mut next_stream_id = STREAM_IDS + STREAMS.len();
    for (step, op) in ops.iter().enumerate() {
        if let Some(t) = op.stream() {
            let id = stream_ids[t];
            let per_ssrc = STREAMS[t].1;
            // Index of the chain's step-0 key in `oracle.step_keys`.
            let chain_of = |key: usize| if per_ssrc { VALID_KEYS + key } else { key };
            let before = streams.state(t);
            let invalid = SFRAME_ERR_INVALID_KEY;
            let (st, allowed, want_kid) = match *op {
                Op::StreamSetKey { kid, key, .. } => {
                    let allowed = if key < VALID_KEYS {
                        SFRAME_ERR_KEY_IN_USE
                    } else {
                        invalid
                    };
                    let bytes = key_bytes(key);
                    let st = streams.with(t, move |tx| tx.set_key(kid, &bytes));
                    if st == SFRAME_OK {
                        // The stream's material: resumed past every counter used with it.
                        let material = if per_ssrc {
                            oracle.ssrc_key(key).to_vec()
                        } else {
                            key_bytes(key)
                        };
                        if let Some(&hi) = oracle.used_keys().get(&(kid, material)) {
                            let next = streams.state(t).1;
                            assert!(
                                next.is_ok_and(|n| n > hi)
                                    || next == Err(SFRAME_ERR_COUNTER_EXHAUSTED),
                                "step {step} {op:?}: KID {kid} restarts at {next:?}, {hi} was used"
                            );
                            oracle.resumed += 1;
                        }
                    }
                    (st, vec![allowed], None)
                }
                Op::StreamSetRatchetingKey {
                    r, generation, key, ..
                } => {
                    let allowed = if r < 2 {
                        SFRAME_ERR_INVALID_CONFIG
                    } else if key < VALID_KEYS {
                        SFRAME_ERR_KEY_IN_USE
                    } else {
                        invalid
                    };
                    let bytes = key_bytes(key);
                    let (st, kid) =
                        streams.with(t, move |tx| tx.set_ratcheting_key(r, generation, &bytes));
                    if st == SFRAME_OK {
                        oracle.chains.push((r, generation, chain_of(key)));
                    }
                    (
                        st,
                        vec![allowed],
                        Some((kid, ratchet_kid(r, generation, 0))),
                    )
                }
                Op::StreamRatchet { .. } => {
                    let (st, kid) = streams.with(t, |tx| tx.ratchet());
                    let allowed = vec![
                        SFRAME_ERR_NO_KEY,
                        SFRAME_ERR_COUNTER_EXHAUSTED,
                        SFRAME_ERR_KEY_IN_USE,
                    ];
                    (st, allowed, Some((kid, kid)))
                }
                Op::StreamSend { frames, .. } => {
                    let first = oracle.frames;
                    // Send on the handle's thread; check the frames here.
                    let results = streams.with(t, move |tx| {
                        (0..frames)
                            .map(|i| {
                                let before = tx.state();
                                let pt = format!("stream frame {first} {i} of step {step}");
                                let r = tx.send(pt.as_bytes());
                                (before, pt, r, tx.state())
                            })
                            .collect::<Vec<_>>()
                    });
                    for (before, pt, r, after) in results {
                        match r {
                            Ok(frame) => {
                                let (kid, ctr) = parse(&frame);
                                assert_eq!((Ok(kid), Ok(ctr)), before, "step {step} {op:?}");
                                let key = oracle.record(id, step, b"", pt.as_bytes(), &frame);
                                assert_eq!(
                                    oracle.is_ssrc_key(&key),
                                    per_ssrc,
                                    "step {step} {op:?}: a frame not under the stream's own \
                                     kind of key"
                                );
                            }
                            Err(st) => {
                                assert!(
                                    [
                                        SFRAME_ERR_NO_KEY,
                                        SFRAME_ERR_COUNTER_EXHAUSTED,
                                        SFRAME_ERR_KEY_USAGE_LIMIT
                                    ]
                                    .contains(&st),
                                    "step {step} {op:?}: send failed with {}",
                                    name(st)
                                );
                                assert_eq!(after, before, "a failed send changed the stream");
                            }
                        }
                    }
                    continue;
                }
                Op::StreamFree { home, .. } => {
                    streams.recreate(t, home);
                    stream_ids[t] = next_stream_id;
                    next_stream_id += 1;
                    continue;
                }
                _ => unreachable!("a stream op"),
            };
            if st == SFRAME_OK {
                if let Some((got, want)) = want_kid {
                    let after = streams.state(t);
                    assert_eq!(after.0, Ok(got), "step {step} {op:?}: key_id after");
                    match *op {
                        Op::StreamSetRatchetingKey { r, generation, .. } if got != want => {
                            assert_eq!(got >> r, generation, "step {step} {op:?}: KID written");
                            assert_eq!(after, before, "step {step} {op:?}: chain in force");
                        }
                        _ => assert_eq!(got, want, "step {step} {op:?}: KID written"),
                    }
                }
            } else {
                assert!(
                    allowed.contains(&st),
                    "step {step} {op:?}: unexpected {} (allowed: {:?})",
                    name(st),
                    allowed.iter().map(|s| name(*s)).collect::<Vec<_>>()
                );
                assert_eq!(
                    streams.state(t),
                    before,
                    "step {step} {op:?}: failed with {} but changed the stream",
                    name(st)
                );
            }
            continue;
        }
        let slot = op.sender();
        let id = ids[slot];
        let mut before = txs.state(slot);
        // (status, statuses this call may fail with, KID it must report on success)
        let (st, allowed, want_kid): (SframeStatus, Vec<SframeStatus>, Option<(u64, u64)>) =
            match *op {
                Op::SetKey { kid, key, .. } => {
                    let allowed = if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    let key = key_bytes(key);
                    (
                        txs.with(slot, move |tx| tx.set_key(kid, &key)),
                        allowed,
                        None,
                    )
                }
                Op::SetKeyWithCounter { kid, key, ctr, .. } => {
                    let allowed = if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    let key = key_bytes(key);
                    let st = txs.with(slot, move |tx| tx.set_key_with_counter(kid, &key, ctr));
                    (st, allowed, None)
                }
                Op::SetRatchetingKey {
                    r, generation, key, ..
                } => {
                    let allowed = if r < 2 {
                        vec![SFRAME_ERR_INVALID_CONFIG] // R = 1 cannot work (stalls the receiver)
                    } else if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    let bytes = key_bytes(key);
                    let (st, kid) =
                        txs.with(slot, move |tx| tx.set_ratcheting_key(r, generation, &bytes));
                    if st == SFRAME_OK {
                        oracle.chains.push((r, generation, key));
                    }
                    (st, allowed, Some((kid, ratchet_kid(r, generation, 0))))
                }
                Op::Ratchet { .. } => {
                    let (st, kid) = txs.with(slot, |tx| tx.ratchet());
                    let allowed = vec![
                        SFRAME_ERR_NO_KEY,
                        SFRAME_ERR_COUNTER_EXHAUSTED,
                        SFRAME_ERR_KEY_IN_USE,
                    ];
                    (st, allowed, Some((kid, kid)))
                }
                Op::SetMlsKey {
                    context,
                    key,
                    epoch,
                    leaf,
                    ..
                } => {
                    let allowed = if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    let key = key_bytes(key);
                    let (st, kid) =
                        txs.with(slot, move |tx| tx.set_mls_key(context, &key, epoch, leaf));
                    (st, allowed, Some((kid, mls_kid(context, leaf, epoch))))
                }
                Op::Protect {
                    frames, in_place, ..
                } => {
                    let first = oracle.frames;
                    // Protect on the handle's thread; check the frames here.
                    let results = txs.with(slot, move |tx| {
                        (0..frames)
                            .map(|i| {
                                let before = tx.state();
                                let md: &[u8] = if i % 2 == 0 { b"" } else { b"rtp header" };
                                let pt = format!("frame {} {i} of step {step}", first);
                                let r = tx.protect(md, pt.as_bytes(), in_place);
                                (before, md, pt, r, tx.state())
                            })
                            .collect::<Vec<_>>()
                    });
                    for (before, md, pt, r, after) in results {
                        match r {
                            Ok(frame) => {
                                let (kid, ctr) = parse(&frame);
                                assert_eq!(
                                    (Ok(kid), Ok(ctr)),
                                    before,
                                    "the frame's KID/CTR are not the ones the sender announced"
                                );
                                oracle.record(id, step, md, pt.as_bytes(), &frame);
                            }
                            Err(st) => {
                                assert!(
                                    [
                                        SFRAME_ERR_NO_KEY,
                                        SFRAME_ERR_COUNTER_EXHAUSTED,
                                        SFRAME_ERR_KEY_USAGE_LIMIT
                                    ]
                                    .contains(&st),
                                    "step {step} {op:?}: protect failed with {}",
                                    name(st)
                                );
                                assert_eq!(after, before, "a failed protect changed the sender");
                            }
                        }
                    }
                    continue;
                }
                Op::Free { home, .. } => {
                    txs.recreate(slot, home);
                    ids[slot] = next_id;
                    next_id += 1;
                    continue;
                }
                Op::Recreate { home, used, .. } => {
                    let used_keys = oracle.used_keys();
                    let Some(((kid, key), hi)) =
                        used_keys.into_iter().nth(used % oracle.used.len().max(1))
                    else {
                        continue;
                    };
                    txs.recreate(slot, home);
                    ids[slot] = next_id;
                    next_id += 1;
                    before = txs.state(slot);
                    let st = txs.with(slot, move |tx| tx.set_key(kid, &key));
                    if st == SFRAME_OK {
                        // Not from 0: past every counter used with it (also by senders freed
                        // since, on other threads).
                        let next = txs.state(slot).1;
                        assert!(
                            next.is_ok_and(|n| n > hi) || next == Err(SFRAME_ERR_COUNTER_EXHAUSTED),
                            "step {step} {op:?}: KID {kid} restarts at {next:?}, {hi} was used"
                        );
                        oracle.resumed += 1;
                    }
                    (st, vec![SFRAME_ERR_KEY_IN_USE], None)
                }
                _ => unreachable!("stream ops are run above"),
            };
        if st == SFRAME_OK {
            if let Some((got, want)) = want_kid {
                let after = txs.state(slot);
                assert_eq!(after.0, Ok(got), "step {step} {op:?}: key_id after");
                match *op {
                    // The chain in force given again: nothing changes, its current step's KID
                    // is returned.
                    Op::SetRatchetingKey { r, generation, .. } if got != want => {
                        assert_eq!(got >> r, generation, "step {step} {op:?}: KID written");
                        assert_eq!(after, before, "step {step} {op:?}: chain in force");
                    }
                    _ => assert_eq!(got, want, "step {step} {op:?}: KID written"),
                }
            }
        } else {
            assert!(
                allowed.contains(&st),
                "step {step} {op:?}: unexpected {} (allowed: {:?})",
                name(st),
                allowed.iter().map(|s| name(*s)).collect::<Vec<_>>()
            );
            assert_eq!(
                txs.state(slot),
                before,
                "step {step} {op:?}: failed with {} but changed the sender",
                name(st)
            );
        }
    }
    oracle
}

// ------------------------------------------------------------------ strategies

fn key_index() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0..VALID_KEYS, 1 => Just(VALID_KEYS)]
}

fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0u64..6,
        1 => Just(u64::MAX - 1),
        1 => Just(u64::MAX),
    ]
}

/// Weights of the operations of one sequence.
#[derive(Clone, Copy)]
struct Mix {
    set_key: u32,
    with_counter: u32,
    ratcheting: u32,
    ratchet: u32,
    mls: u32,
    protect: u32,
    free: u32,
    recreate: u32,
    /// Each send-stream op ([`stream_op`]: set_key, set_ratcheting_key, ratchet, free; send
    /// twice as often).
    stream: u32,
}

fn op(slots: usize, kids: &'static [u64], generations: u64, mix: Mix) -> impl Strategy<Value = Op> {
    let s = 0..slots;
    prop_oneof![
        mix.set_key => (s.clone(), select(kids), key_index())
            .prop_map(|(s, kid, key)| Op::SetKey { s, kid, key }),
        mix.with_counter => (s.clone(), select(kids), key_index(), counter())
            .prop_map(|(s, kid, key, ctr)| Op::SetKeyWithCounter { s, kid, key, ctr }),
        mix.ratcheting => (s.clone(), prop_oneof![1 => Just(1u8), 12 => 2u8..=4], 0..generations, key_index())
            .prop_map(|(s, r, generation, key)| Op::SetRatchetingKey { s, r, generation, key }),
        mix.ratchet => s.clone().prop_map(|s| Op::Ratchet { s }),
        mix.mls => (s.clone(), 0u64..2, key_index(), 0u64..6, 0u32..2)
            .prop_map(|(s, context, key, epoch, leaf)| Op::SetMlsKey { s, context, key, epoch, leaf }),
        mix.protect => (s.clone(), 1u8..=3, any::<bool>())
            .prop_map(|(s, frames, in_place)| Op::Protect { s, frames, in_place }),
        mix.free => (s.clone(), 0..THREADS).prop_map(|(s, home)| Op::Free { s, home }),
        mix.recreate => (s, 0..THREADS, any::<usize>())
            .prop_map(|(s, home, used)| Op::Recreate { s, home, used }),
        6 * mix.stream => stream_op(kids, generations),
    ]
}

/// One send-stream op (set_key, set_ratcheting_key, ratchet, send twice as often, free).
fn stream_op(kids: &'static [u64], generations: u64) -> impl Strategy<Value = Op> {
    let t = 0..STREAMS.len();
    prop_oneof![
        1 => (t.clone(), select(kids), key_index())
            .prop_map(|(t, kid, key)| Op::StreamSetKey { t, kid, key }),
        1 => (t.clone(), prop_oneof![1 => Just(1u8), 12 => 2u8..=4], 0..generations, key_index())
            .prop_map(|(t, r, generation, key)| Op::StreamSetRatchetingKey { t, r, generation, key }),
        1 => t.clone().prop_map(|t| Op::StreamRatchet { t }),
        2 => (t.clone(), 1u8..=3).prop_map(|(t, frames)| Op::StreamSend { t, frames }),
        1 => (t, 0..THREADS).prop_map(|(t, home)| Op::StreamFree { t, home }),
    ]
}

fn suite() -> impl Strategy<Value = u16> {
    select(&SUITES[..])
}

/// KIDs for `set_key`: they collide with the ratchet KIDs (generation << R | step) and the MLS
/// KIDs (context << 3 | leaf << 2 | epoch % 4) of the model, so the same key material is
/// reached through different calls.
const KIDS: &[u64] = &[0, 1, 4, 5, 8, 9, 16, 17];
/// More KIDs than a sender remembers inline (going back to a KID after many others).
const MANY_KIDS: &[u64] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];

const ALL_CALLS: Mix = Mix {
    set_key: 3,
    with_counter: 2,
    ratcheting: 3,
    ratchet: 3,
    mls: 3,
    protect: 8,
    free: 1,
    recreate: 1,
    stream: 2,
};

/// Key pools per proptest: case after case, the pools of a test come round in turn. A case
/// meets the state earlier cases of its pool left in the process's registry: counters it must
/// resume, and keys exhausted by `u64::MAX` counters, which would starve later cases of frames
/// if all cases shared one pool. A pool per case would not do either: the registry remembers
/// at most `RELEASED_KEYS` (16384) released keys and then fails closed for the whole process,
/// and 4 x 256 cases of fresh keys come close to that (about 12,500 keys, measured). With 8
/// pools per test the cases check about as many frames as with fresh keys, and the process
/// releases about 7,700 keys.
const POOLS: usize = 8;

/// The key pool of the next proptest case of `test` (a name for [`Oracle::new`]).
fn case_pool(test: &str) -> String {
    static CASES: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{test} pool {}",
        CASES.fetch_add(1, Ordering::Relaxed) % POOLS
    )
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures print the minimal sequence; nothing is written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every sender call, three live senders sharing pools of KIDs, keys, ratchet
    /// generations and MLS epochs, senders freed and replaced: no (key, nonce) repeats.
    #[test]
    fn no_nonce_reuse_under_any_call_sequence(
        suite in suite(),
        ops in prop::collection::vec(op(3, KIDS, 3, ALL_CALLS), 1..60),
    ) {
        run(suite, 3, &ops, &case_pool("no_nonce_reuse_under_any_call_sequence"));
    }

    /// Encryptors (one per track) given the same key material and KID: the second
    /// live one is refused (KEY_IN_USE), through set_key, set_key_with_counter, the ratchet
    /// and MLS alike; never two counters under one key.
    #[test]
    fn senders_sharing_key_material_never_share_a_nonce(
        suite in suite(),
        ops in prop::collection::vec(
            op(4, &[0, 4], 2, Mix { set_key: 4, with_counter: 2, ratcheting: 2, ratchet: 2, mls: 2, protect: 8, free: 2, recreate: 1, stream: 3 }),
            1..60,
        ),
    ) {
        run(suite, 4, &ops, &case_pool("senders_sharing_key_material_never_share_a_nonce"));
    }

    /// Re-installing a ratchet chain (any R in 2..4, also after more than 2^R
    /// steps, where step KIDs wrap onto earlier ones) never restarts a counter.
    #[test]
    fn ratchet_reinstall_never_restarts_counter_model(
        suite in suite(),
        ops in prop::collection::vec(
            op(2, &[0, 4, 8], 2, Mix { set_key: 1, with_counter: 1, ratcheting: 4, ratchet: 6, mls: 1, protect: 6, free: 1, recreate: 1, stream: 2 }),
            1..60,
        ),
    ) {
        run(suite, 2, &ops, &case_pool("ratchet_reinstall_never_restarts_counter_model"));
    }

    /// Going back to a KID (and key) after more than RETIRED_KIDS others resumes
    /// its counter; set_key_with_counter never moves it backwards.
    #[test]
    fn go_back_after_many_kids_model(
        suite in suite(),
        ops in prop::collection::vec(
            op(1, MANY_KIDS, 2, Mix { set_key: 6, with_counter: 3, ratcheting: 1, ratchet: 1, mls: 1, protect: 6, free: 0, recreate: 1, stream: 0 }),
            1..100,
        ),
    ) {
        run(suite, 1, &ops, &case_pool("go_back_after_many_kids_model"));
    }
}

// ------------------------------------------------------------------ regression tests

/// Two base keys of a regression test's own (no other test of the process uses them).
fn regression_keys(test: &str) -> (Vec<u8>, Vec<u8>) {
    (
        format!("{test}: regression base key").into_bytes(),
        format!("{test}: another regression base key").into_bytes(),
    )
}

/// Through the C ABI: one KID per encryptor. A second live sender given the key
/// material (base key + KID + suite) of another is refused with KEY_IN_USE whichever call
/// installs it, and keeps its own key; its own KID works; another suite is other material;
/// once the first sender is freed a successor given its key resumes its counter.
#[test]
fn second_encryptor_with_same_key_and_kid_is_refused_key_in_use() {
    let test = "second_encryptor_with_same_key_and_kid_is_refused_key_in_use";
    let (k, k2) = regression_keys(test);
    let (k, k2) = (k.as_slice(), k2.as_slice());
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 1, test);
        oracle.supplied.extend([k.to_vec(), k2.to_vec()]);
        let mut audio = Tx::new(suite);
        let mut video = Tx::new(suite);
        assert_eq!(audio.set_key(7, k), SFRAME_OK);
        for _ in 0..3 {
            oracle.record(0, 0, b"", b"audio", &audio.frame(b"audio"));
        }

        // The same KID and key on a second encryptor: refused, never silent.
        assert_eq!(video.set_key(7, k), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(name(SFRAME_ERR_KEY_IN_USE), "key_in_use");
        assert_eq!(
            video.state(),
            (Err(SFRAME_ERR_NO_KEY), Err(SFRAME_ERR_NO_KEY))
        );
        assert_eq!(
            video.set_key_with_counter(7, k, 1000),
            SFRAME_ERR_KEY_IN_USE
        );
        assert_eq!(
            video.protect(b"", b"video", false),
            Err(SFRAME_ERR_NO_KEY),
            "a refused key must not be used"
        );

        // Its own KID works; the audio key stays refused (and so does any KID audio used).
        assert_eq!(video.set_key(8, k), SFRAME_OK);
        oracle.record(1, 1, b"", b"video", &video.frame(b"video"));
        assert_eq!(video.set_key(7, k), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(
            video.state(),
            (Ok(8), Ok(1)),
            "a refused key changed the sender"
        );
        assert_eq!(
            audio.set_key(8, k),
            SFRAME_ERR_KEY_IN_USE,
            "and the other way round"
        );
        assert_eq!(audio.state(), (Ok(7), Ok(3)));

        // Ratchet and MLS keys are claimed the same way.
        let (st, kid) = audio.set_ratcheting_key(4, 3, k2);
        assert_eq!((st, kid), (SFRAME_OK, 3 << 4));
        assert_eq!(video.set_ratcheting_key(4, 3, k2).0, SFRAME_ERR_KEY_IN_USE);
        assert_eq!(
            video.set_key(3 << 4, k2),
            SFRAME_ERR_KEY_IN_USE,
            "same material via set_key"
        );
        assert_eq!(audio.ratchet(), (SFRAME_OK, (3 << 4) + 1));
        let mut step1 = [0u8; 64];
        let n = next_base_key(CipherSuite::from_id(suite).unwrap(), k2, &mut step1).unwrap();
        assert_eq!(
            video.set_key((3 << 4) + 1, &step1[..n]),
            SFRAME_ERR_KEY_IN_USE,
            "a ratchet step"
        );
        let (st, audio_kid) = audio.set_mls_key(0, k, 1, 1);
        assert_eq!((st, audio_kid), (SFRAME_OK, mls_kid(0, 1, 1)));
        assert_eq!(video.set_mls_key(0, k, 1, 1).0, SFRAME_ERR_KEY_IN_USE);
        // The MLS context carries the track: the video encryptor's own KID.
        let (st, video_kid) = video.set_mls_key(1, k, 1, 1);
        assert_eq!((st, video_kid), (SFRAME_OK, mls_kid(1, 1, 1)));
        assert_ne!(audio_kid, video_kid);
        oracle.record(0, 2, b"", b"audio", &audio.frame(b"audio"));
        oracle.record(1, 2, b"", b"video", &video.frame(b"video"));

        // Another cipher suite derives another key: not in use.
        let other = SUITES[(SUITES.iter().position(|&s| s == suite).unwrap() + 1) % SUITES.len()];
        let mut elsewhere = Tx::new(other);
        assert_eq!(elsewhere.set_key(7, k), SFRAME_OK);

        // Audio freed: its keys are free, and a successor resumes its counter (a lower
        // persisted counter does not rewind it).
        drop(audio);
        assert_eq!(video.set_key_with_counter(7, k, 1), SFRAME_OK);
        let frame = video.frame(b"resumed");
        assert_eq!(parse(&frame), (7, 3));
        oracle.record(1, 4, b"", b"resumed", &frame);
    }
}

/// Security 2, finding 2, through the C ABI: "one key, one live sender" held only within one
/// thread (the registry was per thread), so two encryptors on two threads given the same key
/// and KID both sent (KID, CTR 0), and a sender created after another one was freed restarted
/// its key at 0. Now: refused on any thread, and a new sender resumes the freed one's counter.
#[test]
fn key_in_use_and_counters_hold_across_threads_and_frees() {
    let test = "key_in_use_and_counters_hold_across_threads_and_frees";
    let (k, _) = regression_keys(test);
    let suite = 4;
    // Two threads (one per track) install the same key and KID at the same moment: one wins.
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (barrier, k) = (Arc::clone(&barrier), k.clone());
            std::thread::spawn(move || {
                let mut tx = Tx::new(suite);
                barrier.wait();
                let st = tx.set_key(7, &k);
                barrier.wait();
                (st, tx)
            })
        })
        .collect();
    let tracks: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let statuses: Vec<_> = tracks.iter().map(|(st, _)| *st).collect();
    assert!(
        statuses == [SFRAME_OK, SFRAME_ERR_KEY_IN_USE]
            || statuses == [SFRAME_ERR_KEY_IN_USE, SFRAME_OK],
        "two live encryptors of one key on two threads: {statuses:?}"
    );
    let (_, mut winner) = tracks.into_iter().find(|(st, _)| *st == SFRAME_OK).unwrap();
    // Created on another thread, used on this one: refused too.
    let mut moved = std::thread::spawn(move || Tx::new(suite)).join().unwrap();
    assert_eq!(moved.set_key(7, &k), SFRAME_ERR_KEY_IN_USE);
    for c in 0..3 {
        assert_eq!(parse(&winner.frame(b"pt")), (7, c));
    }
    // Freed on another thread; a new sender on yet another thread resumes at 3.
    std::thread::spawn(move || drop(winner)).join().unwrap();
    let key = k.clone();
    let (st, next, frame) = std::thread::spawn(move || {
        let mut tx = Tx::new(suite);
        let st = tx.set_key(7, &key);
        (st, tx.next_counter(), tx.frame(b"pt"))
    })
    .join()
    .unwrap();
    assert_eq!((st, next), (SFRAME_OK, Ok(3)));
    assert_eq!(parse(&frame), (7, 3));
    assert_eq!(moved.set_key_with_counter(7, &k, 0), SFRAME_OK);
    assert_eq!(
        moved.next_counter(),
        Ok(4),
        "a lower counter never rewinds the key"
    );
}

/// Through the C ABI: for every suite and R in 2..4, installing a ratchet chain
/// again (after the sender moved to another key) resumes each step key's counter instead of
/// restarting it at 0, also after more than 2^R steps, when the step KIDs wrap onto the step-0
/// KID (the step-0 key keeps its own counter, not step 2^R's); giving the chain in force again
/// changes nothing.
#[test]
fn ratchet_reinstall_never_restarts_counter() {
    let test = "ratchet_reinstall_never_restarts_counter";
    for suite in SUITES {
        for r in 2u8..=4 {
            let steps = 1u64 << r;
            let mut oracle = Oracle::new(suite, steps as usize + 1, test);
            oracle.chains.push((r, 1, 0));
            let key = oracle.pool[0].clone();
            let key1 = oracle.pool[1].clone();
            let (key, key1) = (key.as_slice(), key1.as_slice());
            let mut tx = Tx::new(suite);
            let f = |tx: &mut Tx, oracle: &mut Oracle, want: (u64, u64)| {
                let frame = tx.frame(b"pt");
                assert_eq!(parse(&frame), want, "suite {suite} R {r}");
                oracle.record(0, 0, b"", b"pt", &frame);
            };
            let kid0 = ratchet_kid(r, 1, 0);
            let other = ratchet_kid(r, 2, 0);
            assert_eq!(tx.set_ratcheting_key(r, 1, key), (SFRAME_OK, kid0));
            for c in 0..3 {
                f(&mut tx, &mut oracle, (kid0, c));
            }
            assert_eq!(tx.ratchet(), (SFRAME_OK, kid0 + 1));
            for c in 0..2 {
                f(&mut tx, &mut oracle, (kid0 + 1, c));
            }
            // The chain in force again: nothing changes (still step 1).
            assert_eq!(tx.set_ratcheting_key(r, 1, key), (SFRAME_OK, kid0 + 1));
            assert_eq!(tx.state(), (Ok(kid0 + 1), Ok(2)), "suite {suite} R {r}");
            // Away to another key, then the chain again: step 0 resumes at 3, step 1 at 2.
            assert_eq!(tx.set_key(other, key1), SFRAME_OK);
            assert_eq!(tx.set_ratcheting_key(r, 1, key), (SFRAME_OK, kid0));
            assert_eq!(
                tx.next_counter(),
                Ok(3),
                "suite {suite} R {r}: step 0 restarted"
            );
            f(&mut tx, &mut oracle, (kid0, 3));
            assert_eq!(tx.ratchet(), (SFRAME_OK, kid0 + 1));
            assert_eq!(
                tx.next_counter(),
                Ok(2),
                "suite {suite} R {r}: step 1 restarted"
            );
            f(&mut tx, &mut oracle, (kid0 + 1, 2));
            // On to step 2^R: the step-0 KID again, with a new key that starts at 0.
            for _ in 1..steps {
                assert_eq!(tx.ratchet().0, SFRAME_OK);
            }
            assert_eq!(
                tx.state(),
                (Ok(kid0), Ok(0)),
                "suite {suite} R {r}: step 2^R"
            );
            f(&mut tx, &mut oracle, (kid0, 0));
            // Back to step 0: its own counter (4), not step 2^R's (1).
            assert_eq!(tx.set_key(other, key1), SFRAME_OK);
            assert_eq!(tx.set_ratcheting_key(r, 1, key), (SFRAME_OK, kid0));
            assert_eq!(
                tx.next_counter(),
                Ok(4),
                "suite {suite} R {r}: step 0 took step 2^R's counter"
            );
            f(&mut tx, &mut oracle, (kid0, 4));
            // And the chain walks forward again over keys that resume (step 1 at 3).
            assert_eq!(tx.ratchet(), (SFRAME_OK, kid0 + 1));
            f(&mut tx, &mut oracle, (kid0 + 1, 3));
            // A ratchet layout that cannot work (R = 1) is refused; nothing changes.
            assert_eq!(
                tx.set_ratcheting_key(1, 1, key).0,
                SFRAME_ERR_INVALID_CONFIG
            );
            assert_eq!(tx.state(), (Ok(kid0 + 1), Ok(4)));
        }
    }
}

/// Through the C ABI: going back to a KID after more than RETIRED_KIDS others
/// resumes its counter (set_key, a ratchet chain, an MLS KID reached again), and
/// set_key_with_counter never moves a known counter backwards.
#[test]
fn go_back_after_many_kids() {
    let test = "go_back_after_many_kids";
    let (k, _) = regression_keys(test);
    let k = k.as_slice();
    let others = 2 * RETIRED_KIDS as u64 + 3;
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 0, test);
        let (key0, key1) = (oracle.pool[0].clone(), oracle.pool[1].clone());
        oracle.supplied.push(k.to_vec());
        let mut tx = Tx::new(suite);
        let mut step = 0;
        let mut f = |tx: &mut Tx, oracle: &mut Oracle| {
            step += 1;
            let frame = tx.frame(b"pt");
            oracle.record(0, step, b"", b"pt", &frame);
            parse(&frame)
        };
        assert_eq!(tx.set_key(1000, k), SFRAME_OK);
        f(&mut tx, &mut oracle);
        f(&mut tx, &mut oracle);
        assert_eq!(tx.set_ratcheting_key(4, 9, &key0), (SFRAME_OK, 9 << 4));
        f(&mut tx, &mut oracle);
        let (st, mls) = tx.set_mls_key(1, &key1, 2, 0);
        assert_eq!(st, SFRAME_OK);
        f(&mut tx, &mut oracle);
        for kid in 0..others {
            assert_eq!(tx.set_key(kid, k), SFRAME_OK);
            f(&mut tx, &mut oracle);
        }
        assert_eq!(tx.set_key(1000, k), SFRAME_OK);
        assert_eq!(
            f(&mut tx, &mut oracle),
            (1000, 2),
            "suite {suite}: set_key went back to 0"
        );
        assert_eq!(tx.set_key_with_counter(1000, k, 0), SFRAME_OK);
        assert_eq!(
            tx.next_counter(),
            Ok(3),
            "suite {suite}: counter moved backwards"
        );
        assert_eq!(tx.set_key_with_counter(1000, k, 10), SFRAME_OK);
        assert_eq!(
            f(&mut tx, &mut oracle),
            (1000, 10),
            "a larger given counter is used"
        );
        assert_eq!(tx.set_ratcheting_key(4, 9, &key0), (SFRAME_OK, 9 << 4));
        assert_eq!(
            f(&mut tx, &mut oracle),
            (9 << 4, 1),
            "suite {suite}: ratchet chain restarted"
        );
        // Epoch 6 has epoch 2's KID (E = 2 bits); with the same exported secret it is the
        // same key: it resumes.
        assert_eq!(tx.set_mls_key(1, &key1, 6, 0), (SFRAME_OK, mls));
        assert_eq!(
            f(&mut tx, &mut oracle),
            (mls, 1),
            "suite {suite}: MLS KID restarted"
        );
        for kid in 0..others {
            assert_eq!(tx.set_key(kid, k), SFRAME_OK);
            assert_eq!(tx.next_counter(), Ok(1), "suite {suite}: KID {kid}");
        }
    }
}

/// The model itself on a fixed sequence: checks that the oracle sees the frames (a model that
/// checks nothing would pass every property).
#[test]
fn model_checks_frames_of_every_kind() {
    let ops = [
        Op::SetKey {
            s: 0,
            kid: 4,
            key: 0,
        },
        Op::Protect {
            s: 0,
            frames: 2,
            in_place: false,
        },
        Op::SetKey {
            s: 1,
            kid: 4,
            key: 0,
        }, // refused: KEY_IN_USE
        Op::Protect {
            s: 1,
            frames: 1,
            in_place: true,
        }, // NO_KEY
        Op::SetRatchetingKey {
            s: 1,
            r: 2,
            generation: 1,
            key: 1,
        },
        Op::Protect {
            s: 1,
            frames: 1,
            in_place: false,
        },
        Op::Ratchet { s: 1 },
        Op::Protect {
            s: 1,
            frames: 1,
            in_place: true,
        },
        Op::SetMlsKey {
            s: 2,
            context: 1,
            key: 2,
            epoch: 5,
            leaf: 1,
        },
        Op::Protect {
            s: 2,
            frames: 3,
            in_place: false,
        },
        // Sender 0 freed, a new one on thread 1: its key (KID 4, key 0) resumes at 2, also
        // when given a lower counter.
        Op::Free { s: 0, home: 1 },
        Op::SetKeyWithCounter {
            s: 0,
            kid: 4,
            key: 0,
            ctr: 1,
        },
        Op::Protect {
            s: 0,
            frames: 1,
            in_place: false,
        },
        // A new sender 1 (thread 2) given sender 0's key (the first of the used keys, by KID
        // and key): refused, sender 0 lives (on thread 1).
        Op::Recreate {
            s: 1,
            home: 2,
            used: 0,
        },
        // A new sender 2 (thread 0) given its predecessor's MLS key (KID 13, the last used
        // key) as a plain key: the same material, it resumes at 3.
        Op::Recreate {
            s: 2,
            home: 0,
            used: 3,
        },
        Op::Protect {
            s: 2,
            frames: 1,
            in_place: true,
        },
    ];
    for suite in SUITES {
        assert_eq!(run(suite, 3, &ops, "model_checks_frames_of_every_kind"), 9);
    }
}

/// The oracle itself catches a repeat: a frame under the same key and counter as a sender's,
/// made by sframe-core's low-level AEAD (what another process without a persisted counter
/// would send), and `Oracle::record` says so.
#[test]
fn oracle_detects_nonce_reuse() {
    let suite = 4;
    let mut oracle = Oracle::new(suite, 0, "oracle_detects_nonce_reuse");
    let key = oracle.pool[0].clone();
    let mut tx = Tx::new(suite);
    assert_eq!(tx.set_key(7, &key), SFRAME_OK);
    let first = tx.frame(b"pt");
    let id = CipherSuite::from_id(suite).unwrap();
    let (aead_key, salt) = sframe_core::hazmat::derive_key_and_salt(id, 7, &key).unwrap();
    let mut second = first[..1].to_vec(); // the same header: KID 7, CTR 0
    let mut body = b"pt".to_vec();
    let mut tag = vec![0u8; id.tag_len()];
    sframe_core::hazmat::Aead::new(id, &aead_key[..id.key_len()])
        .unwrap()
        .seal(&salt[..], &first[..1], &mut body, &mut tag)
        .unwrap();
    second.extend_from_slice(&body);
    second.extend_from_slice(&tag);
    assert_eq!(
        second, first,
        "the same key, nonce and input: the same frame"
    );
    oracle.record(0, 0, b"", b"pt", &first);
    let repeat = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        oracle.record(1, 1, b"", b"pt", &second)
    }));
    let message = repeat.expect_err("a repeated nonce must fail the oracle");
    let message = message.downcast_ref::<String>().expect("panic message");
    assert!(message.contains("NONCE REUSE"), "{message}");
}

/// Send streams claim their key material as senders do, through the C ABI: two streams of one
/// SSRC with per-SSRC keys, given the same base key and KID, derive the same key, so the
/// second is refused (KEY_IN_USE); a plain sender given that per-SSRC key directly is refused
/// too (one material); a stream without per-SSRC keys is refused the key material of a live
/// sender, and the other way round; ratcheting a stream's chain claims each step; a stream
/// freed and re-created on another thread resumes its key, and so does a plain sender given
/// the per-SSRC key after it. Every frame goes through the oracle.
#[test]
fn send_streams_claim_their_key_material() {
    let test = "send_streams_claim_their_key_material";
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 2, test);
        let (k0, k1) = (oracle.pool[0].clone(), oracle.pool[1].clone());
        let (k0, k1) = (k0.as_slice(), k1.as_slice());
        let ssrc_k0 = oracle.ssrc_key(0).to_vec();
        let mut a = StreamTx::new(suite, 0);
        let mut b = StreamTx::new(suite, 1);
        let mut plain = StreamTx::new(suite, 2);
        let mut tx = Tx::new(suite);
        let send = |s: &mut StreamTx, oracle: &mut Oracle, id: usize, want: (u64, u64)| {
            let frame = s.send(b"media of a stream").expect("send");
            assert_eq!(parse(&frame), want, "suite {suite}");
            oracle.record(id, 0, b"", b"media of a stream", &frame)
        };
        assert_eq!(a.set_key(5, k0), SFRAME_OK);
        let key = send(&mut a, &mut oracle, STREAM_IDS, (5, 0));
        assert_eq!(key, ssrc_k0, "suite {suite}: the per-SSRC key (§7)");
        assert_eq!(b.set_key(5, k0), SFRAME_ERR_KEY_IN_USE, "suite {suite}");
        assert_eq!(b.state(), (Err(SFRAME_ERR_NO_KEY), Err(SFRAME_ERR_NO_KEY)));
        assert_eq!(b.send(b"x"), Err(SFRAME_ERR_NO_KEY));
        // The per-SSRC key given to a plain sender directly: the stream's material.
        assert_eq!(
            tx.set_key(5, &ssrc_k0),
            SFRAME_ERR_KEY_IN_USE,
            "suite {suite}"
        );
        // A stream without per-SSRC keys uses the key as given: a sender's material.
        assert_eq!(
            tx.set_key(5, k0),
            SFRAME_OK,
            "the per-SSRC key is other material"
        );
        assert_eq!(plain.set_key(5, k0), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(plain.set_key(6, k0), SFRAME_OK);
        assert_eq!(tx.set_key(6, k0), SFRAME_ERR_KEY_IN_USE);
        let key = send(&mut plain, &mut oracle, STREAM_IDS + 2, (6, 0));
        assert_eq!(key, k0);
        oracle.record(0, 0, b"", b"pt", &tx.frame(b"pt"));
        // Ratchet chains: a claims step 0 and 1 of generation 1; b cannot follow.
        let (st, kid) = a.set_ratcheting_key(4, 1, k1);
        assert_eq!((st, kid), (SFRAME_OK, 1 << 4));
        oracle.chains.push((4, 1, VALID_KEYS + 1));
        send(&mut a, &mut oracle, STREAM_IDS, (1 << 4, 0));
        assert_eq!(a.ratchet(), (SFRAME_OK, (1 << 4) + 1));
        send(&mut a, &mut oracle, STREAM_IDS, ((1 << 4) + 1, 0));
        assert_eq!(b.set_ratcheting_key(4, 1, k1).0, SFRAME_ERR_KEY_IN_USE);
        // Back to KID 5: its counter resumes.
        assert_eq!(a.set_key(5, k0), SFRAME_OK);
        send(&mut a, &mut oracle, STREAM_IDS, (5, 1));
        // Freed (on another thread); a new stream of the SSRC, on yet another, resumes at 2.
        std::thread::spawn(move || drop(a)).join().unwrap();
        let key = k0.to_vec();
        let mut a = std::thread::spawn(move || {
            let mut a = StreamTx::new(suite, 0);
            assert_eq!(a.set_key(5, &key), SFRAME_OK);
            a
        })
        .join()
        .unwrap();
        assert_eq!(
            a.state(),
            (Ok(5), Ok(2)),
            "suite {suite}: the stream restarted"
        );
        send(&mut a, &mut oracle, STREAM_IDS + 3, (5, 2));
        // Freed again: a plain sender given the per-SSRC key resumes the stream's counter.
        drop(a);
        let mut tx2 = Tx::new(suite);
        assert_eq!(tx2.set_key(5, &ssrc_k0), SFRAME_OK);
        let frame = tx2.frame(b"pt");
        assert_eq!(parse(&frame), (5, 3), "suite {suite}: the sender restarted");
        oracle.record(1, 0, b"", b"pt", &frame);
        // Now the sender holds it: refused to the other stream of the SSRC until it is freed.
        assert_eq!(b.set_key(5, k0), SFRAME_ERR_KEY_IN_USE);
        drop(tx2);
        assert_eq!(b.set_key(5, k0), SFRAME_OK);
        assert_eq!(b.state(), (Ok(5), Ok(4)));
        assert_eq!(oracle.frames, 8);
    }
}

/// The model over send streams on a fixed sequence: the oracle sees their frames (2 or 3 RTP
/// packets each), under per-SSRC keys and their ratchet steps as well as keys used as given;
/// a stream freed (its thread changes) and its key given to the other stream of the SSRC
/// resumes.
#[test]
fn model_checks_send_stream_frames() {
    let test = "model_checks_send_stream_frames";
    let ops = [
        Op::StreamSetKey {
            t: 0,
            kid: 4,
            key: 0,
        },
        Op::StreamSend { t: 0, frames: 2 },
        Op::StreamSetKey {
            t: 1,
            kid: 4,
            key: 0,
        }, // refused: same SSRC, same derived key
        Op::StreamSend { t: 1, frames: 1 }, // NO_KEY
        Op::StreamSetRatchetingKey {
            t: 1,
            r: 2,
            generation: 1,
            key: 1,
        },
        Op::StreamRatchet { t: 1 },
        Op::StreamSend { t: 1, frames: 2 },
        Op::SetKey {
            s: 0,
            kid: 8,
            key: 2,
        },
        Op::StreamSetKey {
            t: 2,
            kid: 8,
            key: 2,
        }, // refused: the sender's material
        Op::StreamSetKey {
            t: 2,
            kid: 9,
            key: 2,
        },
        Op::StreamSend { t: 2, frames: 1 },
        Op::StreamFree { t: 0, home: 2 },
        Op::StreamSetKey {
            t: 1,
            kid: 4,
            key: 0,
        }, // free now, and resumes at 2
        Op::StreamSend { t: 1, frames: 1 },
    ];
    for suite in SUITES {
        let oracle = run_model(suite, 1, &ops, test);
        assert_eq!(oracle.frames, 6, "suite {suite}");
        assert_eq!(oracle.resumed, 1, "suite {suite}");
        let ssrc_k0 = oracle.ssrc_key(0).to_vec();
        for ctr in 0..3 {
            assert!(oracle.used.contains_key(&(4, ssrc_k0.clone(), ctr)));
        }
    }
}
