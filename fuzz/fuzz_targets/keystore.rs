//! The receiver's key store driven by arbitrary add / remove / unprotect / clear sequences
//! under an arbitrary replay window (RFC 9605 §4.4.1 keys by KID, §9.3 anti-replay), compared
//! after every step with a simple model (a map of KID → key, seen counters, usage), for both
//! key stores. The window is part of the `ReceiverConfig`, validated at construction.
#![no_main]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sframe_core::keystore::KeyStore;
use sframe_core::{
    CipherSuite, Error, FixedKeyStore, KeyUsage, Limits, MAX_REPLAY_WINDOW, Receiver,
    ReceiverConfig, VecKeyStore,
};

const KIDS: [u64; 6] = [0, 1, 7, 8, 255, 1 << 40];
const BASE_KEYS: [[u8; 16]; 3] = [[0x11; 16], [0x22; 16], [0x33; 16]];
const FIXED_CAP: usize = 4;
const MAX_AUTH_FAILURES: u64 = 3;

#[derive(Arbitrary, Debug)]
enum Op {
    Add {
        kid: u8,
        key: u8,
    },
    Remove {
        kid: u8,
    },
    Unprotect {
        kid: u8,
        key: u8,
        ctr: u16,
        tamper: bool,
    },
    Clear,
}

#[derive(Arbitrary, Debug)]
struct Input {
    suite: u8,
    fixed: bool,
    window: u16,
    ops: Vec<Op>,
}

#[derive(Default)]
struct ModelKey {
    key: usize,
    seen: BTreeSet<u64>,
    usage: KeyUsage,
}

struct Model {
    keys: BTreeMap<u64, ModelKey>,
    window: u32,
    cap: Option<usize>,
}

impl Model {
    fn expect_unprotect(
        &self,
        kid: u64,
        ctr: u64,
        genuine_under: impl Fn(usize) -> bool,
    ) -> Result<(), Error> {
        let k = self.keys.get(&kid).ok_or(Error::UnknownKeyId)?;
        if k.usage.auth_failures >= MAX_AUTH_FAILURES {
            return Err(Error::KeyUsageLimit);
        }
        if self.window > 0
            && let Some(&h) = k.seen.last()
            && ctr <= h
            && (h - ctr >= u64::from(self.window) || k.seen.contains(&ctr))
        {
            return Err(Error::Replay);
        }
        if genuine_under(k.key) {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed)
        }
    }
}

fn run<S: KeyStore>(suite: CipherSuite, window: u16, cap: Option<usize>, ops: &[Op]) {
    let size = u32::from(window) % (MAX_REPLAY_WINDOW + 100);
    let config = ReceiverConfig::new(suite).with_limits(Limits {
        max_encryptions: u64::MAX,
        max_auth_failures: MAX_AUTH_FAILURES,
    });
    let config = match config.with_replay_window(size) {
        Ok(c) => c,
        Err(e) => {
            assert!(size > MAX_REPLAY_WINDOW && e == Error::InvalidConfig);
            return;
        }
    };
    assert!(size <= MAX_REPLAY_WINDOW);
    let mut rx = Receiver::<S>::with_store(config);
    let mut model = Model {
        keys: BTreeMap::new(),
        window: size,
        cap,
    };

    for op in ops {
        match *op {
            Op::Add { kid, key } => {
                let kid = KIDS[usize::from(kid) % KIDS.len()];
                let key = usize::from(key) % BASE_KEYS.len();
                let full = model
                    .cap
                    .is_some_and(|c| model.keys.len() >= c && !model.keys.contains_key(&kid));
                let r = rx.add_key(kid, &BASE_KEYS[key]);
                if full {
                    assert_eq!(r, Err(Error::KeyStoreFull));
                } else if model.keys.get(&kid).is_some_and(|k| k.key == key) {
                    // Identical material again: nothing changes (the replay window and the
                    // forgery budget are kept).
                    assert_eq!(r, Ok(()));
                } else {
                    assert_eq!(r, Ok(()));
                    model.keys.insert(
                        kid,
                        ModelKey {
                            key,
                            ..Default::default()
                        },
                    );
                }
            }
            Op::Remove { kid } => {
                let kid = KIDS[usize::from(kid) % KIDS.len()];
                assert_eq!(rx.remove_key(kid), model.keys.remove(&kid).is_some());
            }
            Op::Unprotect {
                kid,
                key,
                ctr,
                tamper,
            } => {
                let kid = KIDS[usize::from(kid) % KIDS.len()];
                let key = usize::from(key) % BASE_KEYS.len();
                let ctr = u64::from(ctr);
                let payload = ctr.to_le_bytes();
                // At exactly `ctr`, whatever frames of this key earlier inputs made: no Sender.
                let mut frame =
                    common::reference_seal(suite, kid, &BASE_KEYS[key], ctr, b"meta", &payload);
                if tamper {
                    *frame.last_mut().expect("tag byte") ^= 0x01;
                }
                let expected = model.expect_unprotect(kid, ctr, |installed| {
                    common::reference_open(suite, &BASE_KEYS[installed], b"meta", &frame).is_some()
                });
                let got = rx.unprotect_vec(b"meta", &frame);
                match expected {
                    Ok(()) => {
                        assert_eq!(got.as_deref(), Ok(&payload[..]));
                        let k = model.keys.get_mut(&kid).expect("model key");
                        k.seen.insert(ctr);
                        k.usage.frames += 1;
                    }
                    Err(e) => {
                        assert_eq!(got, Err(e));
                        if e == Error::AuthenticationFailed {
                            model
                                .keys
                                .get_mut(&kid)
                                .expect("model key")
                                .usage
                                .auth_failures += 1;
                        }
                    }
                }
            }
            Op::Clear => {
                rx.clear();
                model.keys.clear();
            }
        }

        // Compare the whole observable state after every step.
        assert_eq!(rx.key_count(), model.keys.len());
        assert_eq!(rx.config().replay_window(), model.window);
        for kid in KIDS {
            let m = model.keys.get(&kid);
            assert_eq!(rx.has_key(kid), m.is_some());
            assert_eq!(rx.usage(kid), m.map(|k| k.usage));
            assert_eq!(
                rx.highest_counter(kid),
                m.and_then(|k| k.seen.last().copied())
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let suite = common::suite(input.suite);
    if input.fixed {
        run::<FixedKeyStore<FIXED_CAP>>(suite, input.window, Some(FIXED_CAP), &input.ops);
    } else {
        run::<VecKeyStore>(suite, input.window, None, &input.ops);
    }
});
