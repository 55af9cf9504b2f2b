//! Nonce uniqueness: arbitrary sequences of every `Sender` call (set_key, set_key_with_counter,
//! set_derived_key, set_ratcheting_key, ratchet, set_mls_key, going back to earlier keys,
//! protect, dropping a sender) over three senders sharing a small pool of KIDs and base
//! keys. Every frame is attributed to its (KID, base key) by the reference decryption of
//! `common` (RFC 9605 §4.4.3 written independently of the library) over every candidate base
//! key (pool keys and their §5.1 ratchet steps); no (KID, base key, CTR) — that is, no
//! (key, nonce) — may repeat, also across a sender that was dropped before (the process-wide
//! registry resumes its keys' counters in the next sender; it also carries them from one input
//! to the next, which only moves counters up). A failing call must change nothing.
#![no_main]

mod common;

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::{RatchetLayout, next_base_key};
use sframe_core::{CipherSuite, Header, Key, Sender};

const POOL: [[u8; 16]; 3] = [[0xa1; 16], [0xb2; 16], [0xc3; 16]];
const MAX_STEPS: u64 = 6;

#[derive(Arbitrary, Debug)]
enum Op {
    SetKey {
        s: u8,
        kid: u8,
        base: u8,
    },
    SetKeyWithCounter {
        s: u8,
        kid: u8,
        base: u8,
        ahead: u8,
    },
    SetDerivedKey {
        s: u8,
        kid: u8,
        base: u8,
    },
    SetRatchetingKey {
        s: u8,
        r: u8,
        generation: u8,
        base: u8,
    },
    Ratchet {
        s: u8,
    },
    SetMlsKey {
        s: u8,
        epoch: u8,
        leaf: u8,
        secret: u8,
    },
    Protect {
        s: u8,
        len: u8,
    },
    Drop {
        s: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    suite: u8,
    ops: Vec<Op>,
}

fn candidates(suite: CipherSuite) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p in POOL {
        let mut cur = p.to_vec();
        out.push(cur.clone());
        for _ in 0..MAX_STEPS {
            let mut next = [0u8; 64];
            let n = next_base_key(suite, &cur, &mut next).expect("ratchet step");
            cur = next[..n].to_vec();
            out.push(cur.clone());
        }
    }
    out
}

fuzz_target!(|input: Input| {
    let suite = common::suite(input.suite);
    let cands = candidates(suite);
    let mls = MlsKidLayout::new(2, 2).expect("layout");
    let mut senders: Vec<Sender> = (0..3).map(|_| Sender::new(suite)).collect();
    let mut instance = [0u64, 1, 2];
    let mut next_instance = 3;
    let mut uses: BTreeMap<(u64, usize, u64), u64> = BTreeMap::new();
    let mut persisted: BTreeMap<(u64, usize), u64> = BTreeMap::new();
    for op in input.ops.iter().take(64) {
        let s = match op {
            Op::SetKey { s, .. }
            | Op::SetKeyWithCounter { s, .. }
            | Op::SetDerivedKey { s, .. }
            | Op::SetRatchetingKey { s, .. }
            | Op::Ratchet { s }
            | Op::SetMlsKey { s, .. }
            | Op::Protect { s, .. }
            | Op::Drop { s } => usize::from(*s) % 3,
        };
        let pool = |b: u8| &POOL[usize::from(b) % 3];
        let before = (senders[s].key_id(), senders[s].next_counter());
        let result = match *op {
            Op::SetKey { kid, base, .. } => senders[s].set_key(u64::from(kid % 4), pool(base)),
            Op::SetKeyWithCounter {
                kid, base, ahead, ..
            } => {
                let (kid, b) = (u64::from(kid % 4), usize::from(base) % 3);
                let cand = b * (MAX_STEPS as usize + 1);
                let next = persisted.get(&(kid, cand)).map_or(0, |c| c + 1) + u64::from(ahead % 4);
                senders[s].set_key_with_counter(kid, pool(base), sframe_core::Counter(next))
            }
            Op::SetDerivedKey { kid, base, .. } => {
                let key = Key::derive(suite, u64::from(kid % 4), pool(base)).expect("derive");
                senders[s].set_derived_key(key)
            }
            Op::SetRatchetingKey {
                r,
                generation,
                base,
                ..
            } => {
                let layout = RatchetLayout::new(2 + r % 3).expect("layout");
                senders[s]
                    .set_ratcheting_key(
                        layout,
                        sframe_core::ratchet::Generation(u64::from(generation % 2)),
                        pool(base),
                    )
                    .map(|_| ())
            }
            Op::Ratchet { .. } => {
                if senders[s].ratchet_step().is_some_and(|st| st >= MAX_STEPS) {
                    continue;
                }
                senders[s].ratchet().map(|_| ())
            }
            Op::SetMlsKey {
                epoch,
                leaf,
                secret,
                ..
            } => senders[s]
                .set_mls_key(
                    &mls,
                    pool(secret),
                    u64::from(epoch % 6),
                    u32::from(leaf % 3),
                )
                .map(|_| ()),
            Op::Protect { len, .. } => {
                let pt = vec![0x5a; usize::from(len % 32)];
                match senders[s].protect_vec(b"m", &pt) {
                    Ok(frame) => {
                        let (header, _) = Header::parse(&frame).expect("header");
                        let kid = header.key_id();
                        let found: Vec<usize> = (0..cands.len())
                            .filter(|&i| {
                                common::reference_open(suite, &cands[i], b"m", &frame).is_some()
                            })
                            .collect();
                        assert_eq!(found.len(), 1, "frame not attributable: {found:?}");
                        let id = (kid, found[0], header.counter());
                        if let Some(prev) = uses.get(&id) {
                            panic!(
                                "nonce reused: {id:?} by instances {prev} and {}",
                                instance[s]
                            );
                        }
                        uses.insert(id, instance[s]);
                        let hi = persisted.entry((id.0, id.1)).or_insert(id.2);
                        *hi = (*hi).max(id.2);
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Drop { .. } => {
                senders[s] = Sender::new(suite);
                instance[s] = next_instance;
                next_instance += 1;
                Ok(())
            }
        };
        if result.is_err() {
            assert_eq!(before, (senders[s].key_id(), senders[s].next_counter()));
        }
    }
});
