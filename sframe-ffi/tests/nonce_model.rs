//! Model-based nonce-uniqueness tests of the sender, driven only through the C ABI: no nonce
//! reuse under any sequence of API calls, in every binding (this one: C).
//!
//! Arbitrary sequences of sender calls (`set_key`, `set_key_with_counter`,
//! `set_ratcheting_key`, `ratchet`, `set_mls_key`, protect, freeing a sender in the middle)
//! and of RTP send-stream calls (`sframe_send_stream_*`: `set_key`, `set_ratcheting_key`,
//! `ratchet`, `send_frame`, free; streams derive per-SSRC keys, draft §7/§8, or use the keys
//! as given) run over several sender and send-stream handles that share small pools of KIDs, base keys, generations,
//! ratchet layouts (R = 1..4) and MLS epochs, for every cipher suite. The oracle knows nothing
//! of the sender's internals: it parses each protected frame's header (KID, CTR) and finds the
//! key material that produced it by trial decryption with a fresh receiver (replay window 0)
//! for every base key the test ever supplied for that KID — the pool keys (also used as MLS
//! exported secrets: an MLS member key is §4.4.2 applied to the exported secret with the
//! member's KID), their per-SSRC keys for the streams' SSRC (computed with
//! `sframe_core::rtp::ssrc_base_key`) and every ratchet step key of either computed with
//! `sframe_core::ratchet::next_base_key`.
//! (KID, base key, CTR) determines (derived key, nonce); no triple may repeat. A call that
//! fails must leave the sender as it was (same key ID and next counter) and produce no frame.
//!
//! The one repeat the library cannot prevent is excused: a sender that was freed forgets its
//! counters, so a sender that installs the same key after that (with `set_key`, instead of
//! resuming from a persisted counter with `set_key_with_counter`) may repeat the freed
//! sender's nonces. While both are live the second one is refused with KEY_IN_USE.

use std::collections::HashMap;

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

/// Base keys (also MLS exported secrets). The model's pool of a suite is these, then ratchet
/// step 1 of `KEYS[0]` (so `set_key` can reach a ratchet step's key material too), then
/// [`SHORT_KEY`] (refused by every call).
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

/// A send-stream handle, freed on drop.
struct StreamTx(*mut SframeSendStream);

impl StreamTx {
    fn new(suite: u16, slot: usize) -> StreamTx {
        let (ssrc, per_ssrc_keys) = STREAMS[slot];
        let config = SframeSendStreamConfig {
            cipher_suite: suite,
            ssrc,
            payload_type: 96,
            per_packet: false,
            max_payload_len: 1200,
            per_ssrc_keys,
            first_sequence: 0,
        };
        let mut p = std::ptr::null_mut();
        // SAFETY: valid config and out-pointer.
        assert_eq!(
            unsafe { sframe_send_stream_new(&config, &mut p) },
            SFRAME_OK
        );
        StreamTx(p)
    }

    fn set_key(&mut self, kid: u64, key: &[u8]) -> SframeStatus {
        // SAFETY: live handle, key valid for its length.
        unsafe { sframe_send_stream_set_key(self.0, kid, key.as_ptr(), key.len()) }
    }

    fn set_ratcheting_key(&mut self, r: u8, generation: u64, key: &[u8]) -> (SframeStatus, u64) {
        let mut kid = u64::MAX;
        // SAFETY: as above; `kid` is writable.
        let st = unsafe {
            sframe_send_stream_set_ratcheting_key(
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
        let st = unsafe { sframe_send_stream_ratchet(self.0, &mut kid) };
        (st, kid)
    }

    fn state(&self) -> TxState {
        let (mut kid, mut ctr) = (0u64, 0u64);
        // SAFETY: live handle, out-pointers writable.
        let (a, b) = unsafe {
            (
                sframe_send_stream_key_id(self.0, &mut kid),
                sframe_send_stream_next_counter(self.0, &mut ctr),
            )
        };
        let ok = |st: SframeStatus, v: u64| if st == SFRAME_OK { Ok(v) } else { Err(st) };
        (ok(a, kid), ok(b, ctr))
    }

    /// Sends `media` (one packet's worth) and returns the SFrame frame in its one packet;
    /// on error checks that nothing came out.
    fn send(&mut self, media: &[u8]) -> Result<Vec<u8>, SframeStatus> {
        // SAFETY: live handle.
        let (cap, count) = unsafe {
            (
                sframe_send_stream_max_packets_len(self.0, media.len()),
                sframe_send_stream_max_packet_count(self.0, media.len()),
            )
        };
        assert_eq!(count, 1, "the model's frames fit one packet");
        let mut out = vec![0u8; cap];
        let mut lens = [usize::MAX; 1];
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
                self.0,
                media.as_ptr(),
                media.len(),
                0,
                true,
                out.as_mut_ptr(),
                cap,
                lens.as_mut_ptr(),
                1,
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
        assert_eq!((sent.packets, sent.len), (1, lens[0]));
        // RTP header (12 bytes) and SFrame descriptor (1 byte), then the SFrame frame.
        let frame = out[13..lens[0]].to_vec();
        assert_eq!(parse(&frame), (sent.kid, sent.counter), "SframeSentFrame");
        Ok(frame)
    }
}

impl Drop for StreamTx {
    fn drop(&mut self) {
        // SAFETY: the handle came from sframe_send_stream_new and is freed once.
        unsafe { sframe_send_stream_free(self.0) }
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
    /// Step at which each freed sender was freed.
    freed_at: HashMap<usize, usize>,
    /// Step of each sender's last successful key installation.
    installed_at: HashMap<usize, usize>,
    frames: usize,
}

impl Oracle {
    /// `max_steps`: the most ratchet steps any chain can reach (the number of ratchet calls).
    fn new(suite: u16, max_steps: usize) -> Oracle {
        let id = CipherSuite::from_id(suite).expect("suite");
        let next = |key: &[u8]| {
            let mut next = [0u8; 64];
            let n = next_base_key(id, key, &mut next).expect("next_base_key");
            next[..n].to_vec()
        };
        let mut pool: Vec<Vec<u8>> = KEYS.iter().map(|k| k.to_vec()).collect();
        pool.push(next(KEYS[0]));
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
            freed_at: HashMap::new(),
            installed_at: HashMap::new(),
            frames: 0,
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

    /// Identifies the key material of a frame `sender` protected at `step` and records it.
    fn record(&mut self, sender: usize, step: usize, md: &[u8], pt: &[u8], frame: &[u8]) {
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
        let triple = (kid, key, ctr);
        if let Some(first) = self.used.get(&triple) {
            let installed = self.installed_at.get(&sender).copied().unwrap_or(0);
            let excused = first.sender != sender
                && self
                    .freed_at
                    .get(&first.sender)
                    .is_some_and(|&f| f < installed);
            assert!(
                excused,
                "NONCE REUSE (suite {}): KID {kid} CTR {ctr} under the same key by sender {} \
                 (step {}) and sender {sender} (step {step})",
                self.suite, first.sender, first.step
            );
        }
        self.used.insert(triple, Use { sender, step });
        self.frames += 1;
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
    Free {
        s: usize,
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
    StreamFree {
        t: usize,
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
            | Op::StreamFree { t } => Some(t),
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
            | Op::Free { s } => s,
            _ => 0,
        }
    }
}

/// Oracle ids of send streams start here (senders count from 0).
const STREAM_IDS: usize = 1_000_000;

/// Runs `ops` on `slots` sender handles and the [`STREAMS`] send-stream handles of `suite` and checks every frame with the oracle.
/// Returns the number of frames checked.
fn run(suite: u16, slots: usize, ops: &[Op]) -> usize {
    let max_steps = ops
        .iter()
        .filter(|op| matches!(op, Op::Ratchet { .. } | Op::StreamRatchet { .. }))
        .count();
    let mut oracle = Oracle::new(suite, max_steps);
    let pool = oracle.pool.clone();
    let key_bytes = |i: usize| pool.get(i).map_or(SHORT_KEY, Vec::as_slice);
    let mut txs: Vec<Tx> = (0..slots).map(|_| Tx::new(suite)).collect();
    let mut ids: Vec<usize> = (0..slots).collect();
    let mut next_id = slots;
    let mut streams: Vec<StreamTx> = (0..STREAMS.len())
        .map(|t| StreamTx::new(suite, t))
        .collect();
    let mut stream_ids: Vec<usize> = (0..STREAMS.len()).map(|t| STREAM_IDS + t).collect();
    let mut next_stream_id = STREAM_IDS + STREAMS.len();
    for (step, op) in ops.iter().enumerate() {
        if let Some(t) = op.stream() {
            let id = stream_ids[t];
            let per_ssrc = STREAMS[t].1;
            // Index of the chain's step-0 key in `oracle.step_keys`.
            let chain_of = |key: usize| if per_ssrc { VALID_KEYS + key } else { key };
            let tx = &mut streams[t];
            let before = tx.state();
            let invalid = SFRAME_ERR_INVALID_KEY;
            let (st, allowed, want_kid) = match *op {
                Op::StreamSetKey { kid, key, .. } => {
                    let allowed = if key < VALID_KEYS {
                        SFRAME_ERR_KEY_IN_USE
                    } else {
                        invalid
                    };
                    (tx.set_key(kid, key_bytes(key)), vec![allowed], None)
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
                    let (st, kid) = tx.set_ratcheting_key(r, generation, key_bytes(key));
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
                    let (st, kid) = tx.ratchet();
                    let allowed = vec![
                        SFRAME_ERR_NO_KEY,
                        SFRAME_ERR_COUNTER_EXHAUSTED,
                        SFRAME_ERR_KEY_IN_USE,
                    ];
                    (st, allowed, Some((kid, kid)))
                }
                Op::StreamSend { frames, .. } => {
                    for _ in 0..frames {
                        let before = tx.state();
                        let pt = format!("stream frame {} of step {step}", oracle.frames);
                        match tx.send(pt.as_bytes()) {
                            Ok(frame) => {
                                let (kid, ctr) = parse(&frame);
                                assert_eq!((Ok(kid), Ok(ctr)), before, "step {step} {op:?}");
                                oracle.record(id, step, b"", pt.as_bytes(), &frame);
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
                                assert_eq!(tx.state(), before, "a failed send changed the stream");
                            }
                        }
                    }
                    continue;
                }
                Op::StreamFree { .. } => {
                    streams[t] = StreamTx::new(suite, t); // drops (frees) the old handle
                    oracle.freed_at.insert(id, step);
                    stream_ids[t] = next_stream_id;
                    next_stream_id += 1;
                    continue;
                }
                _ => unreachable!("a stream op"),
            };
            if st == SFRAME_OK {
                oracle.installed_at.insert(id, step);
                if let Some((got, want)) = want_kid {
                    assert_eq!(tx.state().0, Ok(got), "step {step} {op:?}: key_id after");
                    match *op {
                        Op::StreamSetRatchetingKey { r, generation, .. } if got != want => {
                            assert_eq!(got >> r, generation, "step {step} {op:?}: KID written");
                            assert_eq!(tx.state(), before, "step {step} {op:?}: chain in force");
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
                    tx.state(),
                    before,
                    "step {step} {op:?}: failed with {} but changed the stream",
                    name(st)
                );
            }
            continue;
        }
        let slot = op.sender();
        let id = ids[slot];
        let tx = &mut txs[slot];
        let before = tx.state();
        // (status, statuses this call may fail with, KID it must report on success)
        let (st, allowed, want_kid): (SframeStatus, Vec<SframeStatus>, Option<(u64, u64)>) =
            match *op {
                Op::SetKey { kid, key, .. } => {
                    let allowed = if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    (tx.set_key(kid, key_bytes(key)), allowed, None)
                }
                Op::SetKeyWithCounter { kid, key, ctr, .. } => {
                    let allowed = if key < VALID_KEYS {
                        vec![SFRAME_ERR_KEY_IN_USE]
                    } else {
                        vec![SFRAME_ERR_INVALID_KEY]
                    };
                    (
                        tx.set_key_with_counter(kid, key_bytes(key), ctr),
                        allowed,
                        None,
                    )
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
                    let (st, kid) = tx.set_ratcheting_key(r, generation, key_bytes(key));
                    if st == SFRAME_OK {
                        oracle.chains.push((r, generation, key));
                    }
                    (st, allowed, Some((kid, ratchet_kid(r, generation, 0))))
                }
                Op::Ratchet { .. } => {
                    let (st, kid) = tx.ratchet();
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
                    let (st, kid) = tx.set_mls_key(context, key_bytes(key), epoch, leaf);
                    (st, allowed, Some((kid, mls_kid(context, leaf, epoch))))
                }
                Op::Protect {
                    frames, in_place, ..
                } => {
                    for i in 0..frames {
                        let before = tx.state();
                        let md: &[u8] = if i % 2 == 0 { b"" } else { b"rtp header" };
                        let pt = format!("frame {} of step {step}", oracle.frames);
                        match tx.protect(md, pt.as_bytes(), in_place) {
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
                                assert_eq!(
                                    tx.state(),
                                    before,
                                    "a failed protect changed the sender"
                                );
                            }
                        }
                    }
                    continue;
                }
                Op::Free { .. } => {
                    txs[slot] = Tx::new(suite); // drops (frees) the old handle
                    oracle.freed_at.insert(id, step);
                    ids[slot] = next_id;
                    next_id += 1;
                    continue;
                }
                _ => unreachable!("stream ops are handled above"),
            };
        if st == SFRAME_OK {
            oracle.installed_at.insert(id, step);
            if let Some((got, want)) = want_kid {
                assert_eq!(tx.state().0, Ok(got), "step {step} {op:?}: key_id after");
                match *op {
                    // The chain in force given again: nothing changes, its current step's KID
                    // is returned.
                    Op::SetRatchetingKey { r, generation, .. } if got != want => {
                        assert_eq!(got >> r, generation, "step {step} {op:?}: KID written");
                        assert_eq!(tx.state(), before, "step {step} {op:?}: chain in force");
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
                tx.state(),
                before,
                "step {step} {op:?}: failed with {} but changed the sender",
                name(st)
            );
        }
    }
    oracle.frames
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
        mix.free => s.prop_map(|s| Op::Free { s }),
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
        1 => t.prop_map(|t| Op::StreamFree { t }),
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
    stream: 2,
};

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
        run(suite, 3, &ops);
    }

    /// Encryptors (one per track) given the same key material and KID: the second
    /// live one is refused (KEY_IN_USE), through set_key, set_key_with_counter, the ratchet
    /// and MLS alike; never two counters under one key.
    #[test]
    fn senders_sharing_key_material_never_share_a_nonce(
        suite in suite(),
        ops in prop::collection::vec(
            op(4, &[0, 4], 2, Mix { set_key: 4, with_counter: 2, ratcheting: 2, ratchet: 2, mls: 2, protect: 8, free: 2, stream: 3 }),
            1..60,
        ),
    ) {
        run(suite, 4, &ops);
    }

    /// Re-installing a ratchet chain (any R in 2..4, also after more than 2^R
    /// steps, where step KIDs wrap onto earlier ones) never restarts a counter.
    #[test]
    fn ratchet_reinstall_never_restarts_counter_model(
        suite in suite(),
        ops in prop::collection::vec(
            op(2, &[0, 4, 8], 2, Mix { set_key: 1, with_counter: 1, ratcheting: 4, ratchet: 6, mls: 1, protect: 6, free: 1, stream: 2 }),
            1..60,
        ),
    ) {
        run(suite, 2, &ops);
    }

    /// Going back to a KID (and key) after more than RETIRED_KIDS others resumes
    /// its counter; set_key_with_counter never moves it backwards.
    #[test]
    fn go_back_after_many_kids_model(
        suite in suite(),
        ops in prop::collection::vec(
            op(1, MANY_KIDS, 2, Mix { set_key: 6, with_counter: 3, ratcheting: 1, ratchet: 1, mls: 1, protect: 6, free: 0, stream: 0 }),
            1..100,
        ),
    ) {
        run(suite, 1, &ops);
    }
}

// ------------------------------------------------------------------ regression tests

const K: &[u8] = b"regression base key (32 bytes)!!";
const K2: &[u8] = b"another regression base key....";

/// Through the C ABI: one KID per encryptor. A second live sender given the key
/// material (base key + KID + suite) of another is refused with KEY_IN_USE whichever call
/// installs it, and keeps its own key; its own KID works; another suite is other material;
/// once the first sender is freed its key can be resumed from a persisted counter.
#[test]
fn second_encryptor_with_same_key_and_kid_is_refused_key_in_use() {
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 1);
        oracle.supplied.extend([K.to_vec(), K2.to_vec()]);
        let mut audio = Tx::new(suite);
        let mut video = Tx::new(suite);
        assert_eq!(audio.set_key(7, K), SFRAME_OK);
        for _ in 0..3 {
            oracle.record(0, 0, b"", b"audio", &audio.frame(b"audio"));
        }

        // The same KID and key on a second encryptor: refused, never silent.
        assert_eq!(video.set_key(7, K), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(name(SFRAME_ERR_KEY_IN_USE), "key_in_use");
        assert_eq!(
            video.state(),
            (Err(SFRAME_ERR_NO_KEY), Err(SFRAME_ERR_NO_KEY))
        );
        assert_eq!(
            video.set_key_with_counter(7, K, 1000),
            SFRAME_ERR_KEY_IN_USE
        );
        assert_eq!(
            video.protect(b"", b"video", false),
            Err(SFRAME_ERR_NO_KEY),
            "a refused key must not be used"
        );

        // Its own KID works; the audio key stays refused (and so does any KID audio used).
        assert_eq!(video.set_key(8, K), SFRAME_OK);
        oracle.record(1, 1, b"", b"video", &video.frame(b"video"));
        assert_eq!(video.set_key(7, K), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(
            video.state(),
            (Ok(8), Ok(1)),
            "a refused key changed the sender"
        );
        assert_eq!(
            audio.set_key(8, K),
            SFRAME_ERR_KEY_IN_USE,
            "and the other way round"
        );
        assert_eq!(audio.state(), (Ok(7), Ok(3)));

        // Ratchet and MLS keys are claimed the same way.
        let (st, kid) = audio.set_ratcheting_key(4, 3, K2);
        assert_eq!((st, kid), (SFRAME_OK, 3 << 4));
        assert_eq!(video.set_ratcheting_key(4, 3, K2).0, SFRAME_ERR_KEY_IN_USE);
        assert_eq!(
            video.set_key(3 << 4, K2),
            SFRAME_ERR_KEY_IN_USE,
            "same material via set_key"
        );
        assert_eq!(audio.ratchet(), (SFRAME_OK, (3 << 4) + 1));
        let mut step1 = [0u8; 64];
        let n = next_base_key(CipherSuite::from_id(suite).unwrap(), K2, &mut step1).unwrap();
        assert_eq!(
            video.set_key((3 << 4) + 1, &step1[..n]),
            SFRAME_ERR_KEY_IN_USE,
            "a ratchet step"
        );
        let (st, audio_kid) = audio.set_mls_key(0, K, 1, 1);
        assert_eq!((st, audio_kid), (SFRAME_OK, mls_kid(0, 1, 1)));
        assert_eq!(video.set_mls_key(0, K, 1, 1).0, SFRAME_ERR_KEY_IN_USE);
        // The MLS context carries the track: the video encryptor's own KID.
        let (st, video_kid) = video.set_mls_key(1, K, 1, 1);
        assert_eq!((st, video_kid), (SFRAME_OK, mls_kid(1, 1, 1)));
        assert_ne!(audio_kid, video_kid);
        oracle.record(0, 2, b"", b"audio", &audio.frame(b"audio"));
        oracle.record(1, 2, b"", b"video", &video.frame(b"video"));

        // Another cipher suite derives another key: not in use.
        let other = SUITES[(SUITES.iter().position(|&s| s == suite).unwrap() + 1) % SUITES.len()];
        let mut elsewhere = Tx::new(other);
        assert_eq!(elsewhere.set_key(7, K), SFRAME_OK);

        // Audio freed: its keys are free, and a successor resumes from a persisted counter.
        drop(audio);
        oracle.freed_at.insert(0, 3);
        assert_eq!(video.set_key_with_counter(7, K, 3), SFRAME_OK);
        let frame = video.frame(b"resumed");
        assert_eq!(parse(&frame), (7, 3));
        oracle.record(1, 4, b"", b"resumed", &frame);
    }
}

/// A second encryptor created on another thread is not compared (per-thread registry), so
/// nothing is refused there: the rule "one KID per encryptor" is the application's.
#[test]
fn key_in_use_is_per_thread() {
    let mut a = Tx::new(4);
    assert_eq!(a.set_key(7, K), SFRAME_OK);
    let st = std::thread::spawn(|| Tx::new(4).set_key(7, K))
        .join()
        .unwrap();
    assert_eq!(st, SFRAME_OK);
    assert_eq!(a.next_counter(), Ok(0));
}

/// Through the C ABI: for every suite and R in 2..4, installing a ratchet chain
/// again (after the sender moved to another key) resumes each step key's counter instead of
/// restarting it at 0, also after more than 2^R steps, when the step KIDs wrap onto the step-0
/// KID (the step-0 key keeps its own counter, not step 2^R's); giving the chain in force again
/// changes nothing.
#[test]
fn ratchet_reinstall_never_restarts_counter() {
    for suite in SUITES {
        for r in 2u8..=4 {
            let steps = 1u64 << r;
            let mut oracle = Oracle::new(suite, steps as usize + 1);
            oracle.chains.push((r, 1, 0));
            let key = KEYS[0];
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
            assert_eq!(tx.set_key(other, KEYS[1]), SFRAME_OK);
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
            assert_eq!(tx.set_key(other, KEYS[1]), SFRAME_OK);
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
    let others = 2 * RETIRED_KIDS as u64 + 3;
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 0);
        oracle.supplied.push(K.to_vec());
        let mut tx = Tx::new(suite);
        let mut step = 0;
        let mut f = |tx: &mut Tx, oracle: &mut Oracle| {
            step += 1;
            let frame = tx.frame(b"pt");
            oracle.record(0, step, b"", b"pt", &frame);
            parse(&frame)
        };
        assert_eq!(tx.set_key(1000, K), SFRAME_OK);
        f(&mut tx, &mut oracle);
        f(&mut tx, &mut oracle);
        assert_eq!(tx.set_ratcheting_key(4, 9, KEYS[0]), (SFRAME_OK, 9 << 4));
        f(&mut tx, &mut oracle);
        let (st, mls) = tx.set_mls_key(1, KEYS[1], 2, 0);
        assert_eq!(st, SFRAME_OK);
        f(&mut tx, &mut oracle);
        for kid in 0..others {
            assert_eq!(tx.set_key(kid, K), SFRAME_OK);
            f(&mut tx, &mut oracle);
        }
        assert_eq!(tx.set_key(1000, K), SFRAME_OK);
        assert_eq!(
            f(&mut tx, &mut oracle),
            (1000, 2),
            "suite {suite}: set_key went back to 0"
        );
        assert_eq!(tx.set_key_with_counter(1000, K, 0), SFRAME_OK);
        assert_eq!(
            tx.next_counter(),
            Ok(3),
            "suite {suite}: counter moved backwards"
        );
        assert_eq!(tx.set_key_with_counter(1000, K, 10), SFRAME_OK);
        assert_eq!(
            f(&mut tx, &mut oracle),
            (1000, 10),
            "a larger given counter is used"
        );
        assert_eq!(tx.set_ratcheting_key(4, 9, KEYS[0]), (SFRAME_OK, 9 << 4));
        assert_eq!(
            f(&mut tx, &mut oracle),
            (9 << 4, 1),
            "suite {suite}: ratchet chain restarted"
        );
        // Epoch 6 has epoch 2's KID (E = 2 bits); with the same exported secret it is the
        // same key: it resumes.
        assert_eq!(tx.set_mls_key(1, KEYS[1], 6, 0), (SFRAME_OK, mls));
        assert_eq!(
            f(&mut tx, &mut oracle),
            (mls, 1),
            "suite {suite}: MLS KID restarted"
        );
        for kid in 0..others {
            assert_eq!(tx.set_key(kid, K), SFRAME_OK);
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
        Op::Free { s: 0 },
        Op::SetKeyWithCounter {
            s: 0,
            kid: 4,
            key: 0,
            ctr: 2,
        },
        Op::Protect {
            s: 0,
            frames: 1,
            in_place: false,
        },
    ];
    for suite in SUITES {
        assert_eq!(run(suite, 3, &ops), 8);
    }
}

/// The oracle itself catches a repeat: two senders on two threads (whose registries are not
/// compared) given the same key and KID reuse a nonce, and `Oracle::record` says so.
#[test]
fn oracle_detects_nonce_reuse() {
    let suite = 4;
    let frame_from_a_thread = || {
        std::thread::spawn(move || {
            let mut tx = Tx::new(suite);
            assert_eq!(tx.set_key(7, KEYS[0]), SFRAME_OK);
            tx.frame(b"pt")
        })
        .join()
        .unwrap()
    };
    let (first, second) = (frame_from_a_thread(), frame_from_a_thread());
    assert_eq!(parse(&first), parse(&second));
    let mut oracle = Oracle::new(suite, 0);
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
/// second is refused (KEY_IN_USE); a stream of another SSRC derives another key and may use
/// the KID; a stream without per-SSRC keys is refused the key material of a live sender, and
/// the other way round; ratcheting a stream's chain claims each step. Every frame goes
/// through the oracle.
#[test]
fn send_streams_claim_their_key_material() {
    for suite in SUITES {
        let mut oracle = Oracle::new(suite, 2);
        let mut a = StreamTx::new(suite, 0);
        let mut b = StreamTx::new(suite, 1);
        let mut plain = StreamTx::new(suite, 2);
        let mut tx = Tx::new(suite);
        let send = |s: &mut StreamTx, oracle: &mut Oracle, id: usize, want: (u64, u64)| {
            let frame = s.send(b"media").expect("send");
            assert_eq!(parse(&frame), want, "suite {suite}");
            oracle.record(id, 0, b"", b"media", &frame);
        };
        assert_eq!(a.set_key(5, KEYS[0]), SFRAME_OK);
        send(&mut a, &mut oracle, STREAM_IDS, (5, 0));
        assert_eq!(
            b.set_key(5, KEYS[0]),
            SFRAME_ERR_KEY_IN_USE,
            "suite {suite}"
        );
        assert_eq!(b.state(), (Err(SFRAME_ERR_NO_KEY), Err(SFRAME_ERR_NO_KEY)));
        assert_eq!(b.send(b"x"), Err(SFRAME_ERR_NO_KEY));
        // A stream without per-SSRC keys uses the key as given: a sender's material.
        assert_eq!(
            tx.set_key(5, KEYS[0]),
            SFRAME_OK,
            "the per-SSRC key is other material"
        );
        assert_eq!(plain.set_key(5, KEYS[0]), SFRAME_ERR_KEY_IN_USE);
        assert_eq!(plain.set_key(6, KEYS[0]), SFRAME_OK);
        assert_eq!(tx.set_key(6, KEYS[0]), SFRAME_ERR_KEY_IN_USE);
        send(&mut plain, &mut oracle, STREAM_IDS + 2, (6, 0));
        oracle.record(0, 0, b"", b"pt", &tx.frame(b"pt"));
        // Ratchet chains: a claims step 0 and 1 of generation 1; b cannot follow.
        let (st, kid) = a.set_ratcheting_key(4, 1, KEYS[1]);
        assert_eq!((st, kid), (SFRAME_OK, 1 << 4));
        oracle.chains.push((4, 1, VALID_KEYS + 1));
        send(&mut a, &mut oracle, STREAM_IDS, (1 << 4, 0));
        assert_eq!(a.ratchet(), (SFRAME_OK, (1 << 4) + 1));
        send(&mut a, &mut oracle, STREAM_IDS, ((1 << 4) + 1, 0));
        assert_eq!(b.set_ratcheting_key(4, 1, KEYS[1]).0, SFRAME_ERR_KEY_IN_USE);
        // Back to KID 5: its counter resumes.
        assert_eq!(a.set_key(5, KEYS[0]), SFRAME_OK);
        send(&mut a, &mut oracle, STREAM_IDS, (5, 1));
        assert_eq!(oracle.frames, 6);
        // Freed, its material is free for another stream of the SSRC.
        drop(a);
        assert_eq!(b.set_key(5, KEYS[0]), SFRAME_OK);
    }
}

/// The model over send streams on a fixed sequence: the oracle sees their frames, under
/// per-SSRC keys and their ratchet steps as well as keys used as given.
#[test]
fn model_checks_send_stream_frames() {
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
        Op::StreamFree { t: 0 },
        Op::StreamSetKey {
            t: 1,
            kid: 4,
            key: 0,
        }, // free now
        Op::StreamSend { t: 1, frames: 1 },
    ];
    for suite in SUITES {
        assert_eq!(run(suite, 1, &ops), 6, "suite {suite}");
    }
}
