//! The security rules of the developer guide and RFC 9605 §9, each as a test that fails if the
//! rule breaks:
//!
//! * no nonce reuse over a sender's lifetime and across key rotation (§4.4.3, §9.1);
//! * tags compared in constant time (`subtle`), never with `==` / `!=` (checked in the source);
//! * a failed unprotect changes no state but the key's authentication-failure count (§9.3);
//! * counter exhaustion and usage limits are errors, never a wrap (§4.4.3);
//! * `#![forbid(unsafe_code)]` stays on the core.
//!
//! Key zeroization is observed in `interop/tests/zeroize.rs` (it needs its own global
//! allocator, so its own test binary).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sframe_core::hazmat::{Aead, derive_key_and_salt};
use sframe_core::{
    CipherSuite, Error, Header, Key, KeyUsage, Limits, Receiver, ReceiverConfig, Sender,
};

// ---------------------------------------------------------------------------------------------
// Nonce uniqueness

/// The (sframe_key, nonce) pair a frame was really sealed with: recomputed from the header's
/// KID and CTR (§4.4.3: nonce = sframe_salt XOR BE(CTR)), then *proved* by opening the frame
/// with exactly that key and nonce through the low-level AEAD.
fn key_nonce_of(
    suite: CipherSuite,
    base_key: &[u8],
    metadata: &[u8],
    frame: &[u8],
) -> (Vec<u8>, [u8; 12]) {
    let (header, hlen) = Header::parse(frame).unwrap();
    let (key, salt) = derive_key_and_salt(suite, header.key_id(), base_key).unwrap();
    let key = key[..suite.key_len()].to_vec();
    let mut nonce = *salt;
    for (n, c) in nonce[4..].iter_mut().zip(header.counter().to_be_bytes()) {
        *n ^= c;
    }
    let (hdr, rest) = frame.split_at(hlen);
    let (ct, tag) = rest.split_at(rest.len() - suite.tag_len());
    let mut aad = hdr.to_vec();
    aad.extend_from_slice(metadata);
    let mut buf = ct.to_vec();
    Aead::new(suite, &key)
        .unwrap()
        .open(&nonce, &aad, &mut buf, tag)
        .expect("frame was sealed with the recomputed key and nonce");
    (key, nonce)
}

#[test]
fn no_nonce_reuse_over_lifetime_and_rotation() {
    for suite in CipherSuite::ALL {
        let mut seen: HashSet<(Vec<u8>, [u8; 12])> = HashSet::new();
        let mut tx = Sender::new(suite);
        let mut frames = 0;
        // Rotation through fresh KIDs (small, 1-byte, 8-byte), with the current KID
        // re-installed in between (must not rewind its counter), and all three protect APIs.
        let rotations: [(u64, &[u8]); 5] = [
            (1, b"no_nonce_reuse_over_lifetime: key 1"),
            (2, b"no_nonce_reuse_over_lifetime: key 1"), // same base key, new KID: other key and salt
            (300, b"no_nonce_reuse_over_lifetime: key 2"),
            (u64::MAX, b"no_nonce_reuse_over_lifetime: key 3"),
            (4, b"no_nonce_reuse_over_lifetime: key 4"),
        ];
        for (round, (kid, base)) in rotations.iter().enumerate() {
            tx.set_key(*kid, base).unwrap();
            for i in 0..120u32 {
                if i == 60 {
                    tx.set_key(*kid, base).unwrap(); // re-install the current key
                    assert_eq!(
                        tx.next_counter(),
                        Some(60),
                        "re-install rewound the counter"
                    );
                }
                if i == 90 {
                    // A protect that fails for lack of room uses no counter.
                    let mut tiny = [0u8; 4];
                    assert_eq!(
                        tx.protect(b"", b"too big", &mut tiny).map(|_| ()),
                        Err(Error::BufferTooSmall)
                    );
                    assert_eq!(tx.next_counter(), Some(90));
                }
                let meta = [round as u8, (i % 3) as u8];
                let pt = i.to_be_bytes();
                let frame = match i % 3 {
                    0 => tx.protect_vec(&meta, &pt).unwrap(),
                    1 => {
                        let mut out = vec![0u8; tx.max_output_len(pt.len())];
                        tx.protect(&meta, &pt, &mut out).unwrap().to_vec()
                    }
                    _ => {
                        let mut buf = vec![0u8; tx.max_output_len(pt.len())];
                        buf[..pt.len()].copy_from_slice(&pt);
                        let n = tx
                            .protect_in_place(&meta, &mut buf, pt.len())
                            .unwrap()
                            .len();
                        buf.truncate(n);
                        buf
                    }
                };
                let pair = key_nonce_of(suite, base, &meta, &frame);
                assert!(
                    seen.insert(pair),
                    "{suite:?}: (key, nonce) reused at KID {kid} frame {i}"
                );
                frames += 1;
            }
        }
        assert_eq!(seen.len(), frames);
    }
}

#[test]
fn resuming_counter_continues_without_overlap() {
    // A sender that persisted its counter and resumes (set_key_with_counter) must not repeat
    // the nonces of its first life.
    let suite = CipherSuite::AesGcm128Sha256;
    let base: &[u8] = b"resuming_counter_continues_without_overlap";
    let mut seen = HashSet::new();
    let mut tx = Sender::new(suite);
    tx.set_key(9, base).unwrap();
    for _ in 0..50 {
        let f = tx.protect_vec(b"", b"x").unwrap();
        assert!(seen.insert(key_nonce_of(suite, base, b"", &f)));
    }
    let persisted = tx.next_counter().unwrap();
    drop(tx); // the first life ends (a live one would make the resume KeyInUse)
    // (In one process the registry would resume the counter by itself; a persisted counter is
    // what a new process has.)
    let mut resumed = Sender::new(suite);
    resumed
        .set_key_with_counter(9, base, sframe_core::Counter(persisted))
        .unwrap();
    for _ in 0..50 {
        let f = resumed.protect_vec(b"", b"x").unwrap();
        assert!(
            seen.insert(key_nonce_of(suite, base, b"", &f)),
            "resumed sender reused a nonce"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Counter exhaustion and usage limits

#[test]
fn counter_exhaustion_is_an_error() {
    for suite in CipherSuite::ALL {
        let mut tx = Sender::new(suite);
        tx.set_key_with_counter(
            5,
            b"counter_exhaustion_is_an_error 1",
            sframe_core::Counter(u64::MAX),
        )
        .unwrap();
        let last = tx.protect_vec(b"", b"last frame").unwrap();
        assert_eq!(Header::parse(&last).unwrap().0.counter(), u64::MAX);
        assert_eq!(tx.next_counter(), None);

        assert_eq!(
            tx.protect_vec(b"", b"one more"),
            Err(Error::CounterExhausted)
        );
        let mut out = [0xabu8; 64];
        assert_eq!(
            tx.protect(b"", b"one more", &mut out).map(|_| ()),
            Err(Error::CounterExhausted)
        );
        assert_eq!(out, [0xab; 64], "a refused protect wrote to the output");
        let mut buf = [0u8; 64];
        assert_eq!(
            tx.protect_in_place(b"", &mut buf, 8),
            Err(Error::CounterExhausted)
        );
        assert_eq!(tx.usage().unwrap().frames, 1);

        // Rotation to a fresh KID is the way out.
        tx.set_key(6, b"counter_exhaustion_is_an_error 2").unwrap();
        assert_eq!(tx.next_counter(), Some(0));
        tx.protect_vec(b"", b"after rotation").unwrap();
    }
}

#[test]
fn encryption_limit_is_an_error() {
    let mut tx = Sender::new(CipherSuite::AesCtr128HmacSha256_32);
    tx.set_limits(Limits {
        max_encryptions: 3,
        ..Limits::for_suite(tx.suite())
    });
    tx.set_key(1, b"encryption_limit_is_an_error").unwrap();
    for _ in 0..3 {
        tx.protect_vec(b"", b"ok").unwrap();
    }
    assert_eq!(tx.protect_vec(b"", b"no"), Err(Error::KeyUsageLimit));
    assert_eq!(tx.next_counter(), Some(3));
}

// ---------------------------------------------------------------------------------------------
// A failed unprotect changes no state

#[derive(Debug, PartialEq)]
struct State {
    keys: Vec<(u64, bool, Option<KeyUsage>, Option<u64>)>,
    count: usize,
    window: u32,
}

const KIDS: [u64; 3] = [1, 2, 1000];

fn state(rx: &Receiver) -> State {
    State {
        keys: KIDS
            .iter()
            .map(|&k| (k, rx.has_key(k), rx.usage(k), rx.highest_counter(k)))
            .collect(),
        count: rx.key_count(),
        window: rx.config().replay_window(),
    }
}

#[test]
fn failed_unprotect_changes_no_state() {
    for suite in CipherSuite::ALL {
        let mut tx1 = Sender::new(suite);
        tx1.set_key(1, b"failed_unprotect_changes_no_state 1")
            .unwrap();
        let mut tx2 = Sender::new(suite);
        tx2.set_key(2, b"failed_unprotect_changes_no_state 2")
            .unwrap();
        let f1: Vec<Vec<u8>> = (0..8)
            .map(|i| tx1.protect_vec(b"m", &[i; 33]).unwrap())
            .collect();
        let f2: Vec<Vec<u8>> = (0..8)
            .map(|i| tx2.protect_vec(b"m", &[i; 5]).unwrap())
            .collect();

        let mut rx = Receiver::new(suite);
        rx.add_key(1, b"failed_unprotect_changes_no_state 1")
            .unwrap();
        rx.add_key(2, b"failed_unprotect_changes_no_state 2")
            .unwrap();
        // Accept counters 0, 1, 2, 5 of KID 1 (3 and 4 still outstanding) and 0 of KID 2.
        for i in [0usize, 2, 1, 5] {
            rx.unprotect_vec(b"m", &f1[i]).unwrap();
        }
        rx.unprotect_vec(b"m", &f2[0]).unwrap();

        // A forged frame claiming a far-ahead counter: if it moved the window, counters 3
        // and 4 would then be refused as too old.
        let mut forged_ahead = Vec::new();
        let mut hdr = [0u8; 17];
        let n = Header::new(1, 5_000).encode(&mut hdr).unwrap();
        forged_ahead.extend_from_slice(&hdr[..n]);
        forged_ahead.extend_from_slice(&[0u8; 40]);

        let flip = |f: &[u8], at: usize| {
            let mut f = f.to_vec();
            f[at] ^= 0x01;
            f
        };
        let last = f1[3].len() - 1;
        let mut other_ctr = f1[3].clone();
        other_ctr[0] = 0x04; // header KID 0 CTR 4 → unknown KID 0
        let cases: Vec<(&str, Vec<u8>, &[u8], Error)> = vec![
            (
                "flipped tag",
                flip(&f1[3], last),
                b"m",
                Error::AuthenticationFailed,
            ),
            (
                "flipped ciphertext",
                flip(&f1[3], 3),
                b"m",
                Error::AuthenticationFailed,
            ),
            (
                "wrong metadata",
                f1[3].clone(),
                b"M",
                Error::AuthenticationFailed,
            ),
            (
                "missing metadata",
                f1[4].clone(),
                b"",
                Error::AuthenticationFailed,
            ),
            (
                "header moved to counter 4",
                {
                    let mut f = f1[3].clone();
                    f[0] = 0x14; // KID 1, CTR 3 → CTR 4 (not yet seen)
                    f
                },
                b"m",
                Error::AuthenticationFailed,
            ),
            (
                "forged far-ahead counter",
                forged_ahead,
                b"m",
                Error::AuthenticationFailed,
            ),
            (
                "KID 2 frame under KID 1",
                {
                    let mut f = f2[6].clone(); // CTR 6: new to KID 1's window
                    f[0] = (f[0] & 0x0f) | 0x10; // KID 2 → KID 1
                    f
                },
                b"m",
                Error::AuthenticationFailed,
            ),
            ("unknown KID", other_ctr, b"m", Error::UnknownKeyId),
            ("replay", f1[2].clone(), b"m", Error::Replay),
            (
                "truncated below the tag",
                f1[3][..2].to_vec(),
                b"m",
                Error::MalformedFrame,
            ),
            ("empty", Vec::new(), b"m", Error::MalformedFrame),
            (
                "truncated header",
                vec![0xff, 1, 2],
                b"m",
                Error::MalformedFrame,
            ),
        ];

        let mut expected = state(&rx);
        for (what, frame, meta, err) in cases {
            let kid = Header::parse(&frame).ok().map(|(h, _)| h.key_id());
            // In place: the frame bytes must not change on failure.
            let mut buf = frame.clone();
            assert_eq!(
                rx.unprotect_in_place(meta, &mut buf).map(|_| ()),
                Err(err),
                "{suite:?} {what}"
            );
            assert_eq!(
                buf, frame,
                "{suite:?} {what}: failed unprotect altered the frame"
            );
            // Into a buffer: no decrypted byte left behind.
            let mut out = vec![0u8; rx.max_output_len(frame.len())];
            assert_eq!(
                rx.unprotect(meta, &frame, &mut out).map(|_| ()),
                Err(err),
                "{suite:?} {what}"
            );
            assert!(
                out.iter().all(|&b| b == 0),
                "{suite:?} {what}: bytes left in out"
            );

            if err == Error::AuthenticationFailed {
                let entry = expected.keys.iter_mut().find(|e| Some(e.0) == kid).unwrap();
                entry.2.as_mut().unwrap().auth_failures += 2; // both calls failed
            }
            assert_eq!(state(&rx), expected, "{suite:?} {what}: state changed");
        }

        // The outstanding genuine frames still pass, the failed ones' counters were not burnt.
        assert_eq!(rx.unprotect_vec(b"m", &f1[3]).unwrap(), vec![3; 33]);
        assert_eq!(rx.unprotect_vec(b"m", &f1[4]).unwrap(), vec![4; 33]);
        assert_eq!(rx.unprotect_vec(b"m", &f2[1]).unwrap(), vec![1; 5]);
        assert_eq!(rx.highest_counter(1), Some(5));
    }
}

#[test]
fn forgery_limit_stops_a_key() {
    let suite = CipherSuite::AesCtr128HmacSha256_32;
    let mut tx = Sender::new(suite);
    tx.set_key(1, b"forgery_limit_stops_a_key").unwrap();
    let good = tx.protect_vec(b"", b"genuine").unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 0x80;

    let mut rx = Receiver::with_config(ReceiverConfig::new(suite).with_limits(Limits {
        max_auth_failures: 2,
        ..Limits::for_suite(suite)
    }));
    rx.add_key(1, b"forgery_limit_stops_a_key").unwrap();
    assert_eq!(
        rx.unprotect_vec(b"", &bad),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(
        rx.unprotect_vec(b"", &bad),
        Err(Error::AuthenticationFailed)
    );
    // Limit reached: even the genuine frame is refused, and the count stops.
    assert_eq!(rx.unprotect_vec(b"", &good), Err(Error::KeyUsageLimit));
    assert_eq!(
        rx.usage(1).unwrap(),
        KeyUsage {
            frames: 0,
            auth_failures: 2
        }
    );
    assert_eq!(rx.highest_counter(1), None);
}

#[test]
fn derived_key_suite_mismatch_is_refused() {
    let key = Key::derive(CipherSuite::AesGcm128Sha256, 1, &[1; 16]).unwrap();
    let mut rx = Receiver::new(CipherSuite::AesGcm256Sha512);
    assert_eq!(rx.add_derived_key(key), Err(Error::SuiteMismatch));
    assert_eq!(rx.key_count(), 0);
    let key = Key::derive(CipherSuite::AesGcm128Sha256, 1, &[1; 16]).unwrap();
    let mut tx = Sender::new(CipherSuite::AesCtr128HmacSha256_80);
    assert_eq!(tx.set_derived_key(key), Err(Error::SuiteMismatch));
    assert_eq!(tx.key_id(), None);
}

#[test]
fn wrong_nonce_or_key_length_is_invalid_length_not_invalid_key() {
    let suite = CipherSuite::AesGcm128Sha256;
    assert_eq!(
        Aead::new(suite, &[0; 15]).map(|_| ()),
        Err(Error::InvalidLength)
    );
    let aead = Aead::new(suite, &[0; 16]).unwrap();
    let (mut buf, mut tag) = ([0u8; 4], [0u8; 16]);
    for nonce in [&[0u8; 11][..], &[0; 13], &[]] {
        assert_eq!(
            aead.seal(nonce, b"", &mut buf, &mut tag),
            Err(Error::InvalidLength)
        );
        assert_eq!(
            aead.open(nonce, b"", &mut buf, &tag),
            Err(Error::InvalidLength)
        );
    }
    aead.seal(&[0; 12], b"", &mut buf, &mut tag).unwrap();
    assert_eq!(aead.open(&[0; 12], b"", &mut buf, &tag), Ok(()));
    // A base key that is too short is still InvalidKey.
    assert_eq!(
        Key::derive(suite, 1, &[0; 15]).map(|_| ()),
        Err(Error::InvalidKey)
    );
}

// ---------------------------------------------------------------------------------------------
// Source checks: constant-time tag comparison, no unsafe code

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The library part of a source file: code before its `#[cfg(test)]` module, `//` comments
/// and string literals removed (so documentation and messages cannot trigger the checks).
fn library_code(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut code = String::new();
        let mut in_str = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => in_str = !in_str,
                '\\' if in_str => {
                    chars.next();
                }
                '/' if !in_str && chars.peek() == Some(&'/') => break,
                _ if !in_str => code.push(c),
                _ => {}
            }
        }
        lines.push((i + 1, code));
    }
    lines
}

/// Operands of `==` / `!=` on a line that name a tag or MAC (and are not a length).
fn tag_equality_comparisons(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let is_operand = |c: char| c.is_alphanumeric() || "_.*&()[]:".contains(c);
    for (i, _) in code.match_indices(['=', '!']) {
        if bytes.get(i + 1) != Some(&b'=')
            || (i > 0 && matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>'))
        {
            continue;
        }
        let left: String = code[..i]
            .trim_end()
            .chars()
            .rev()
            .take_while(|&c| is_operand(c))
            .collect();
        let left: String = left.chars().rev().collect();
        let right: String = code[i + 2..]
            .trim_start()
            .chars()
            .take_while(|&c| is_operand(c))
            .collect();
        for operand in [left, right] {
            let lower = operand.to_ascii_lowercase();
            let names_tag = lower.contains("tag") || lower.contains("mac");
            let is_length = lower.contains("len");
            if names_tag && !is_length {
                found.push(operand);
            }
        }
    }
    found
}

#[test]
fn tag_check_detector_detects() {
    // The detector must catch the patterns it exists for, or the next test proves nothing.
    assert_eq!(
        tag_equality_comparisons("if expected != tag {"),
        vec!["tag"]
    );
    assert_eq!(
        tag_equality_comparisons("if full[..n] == *tag {"),
        vec!["*tag"]
    );
    assert_eq!(
        tag_equality_comparisons("return computed_mac == received;"),
        vec!["computed_mac"]
    );
    assert!(tag_equality_comparisons("if tag.len() != *tag_len {").is_empty());
    assert!(tag_equality_comparisons("if !bool::from(expected.ct_eq(tag)) {").is_empty());
    assert!(tag_equality_comparisons("let t = tag_len >= 8;").is_empty());
    assert_eq!(
        library_code("let a = 1; // tag == x\n#[cfg(test)]\nx == tag").len(),
        1
    );
}

#[test]
fn tags_are_compared_in_constant_time() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, code) in library_code(&text) {
            for operand in tag_equality_comparisons(&code) {
                violations.push(format!(
                    "{}:{n}: `{operand}` compared with ==/!=: {}",
                    file.display(),
                    code.trim()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "tags/MACs must be compared with subtle's ct_eq:\n{}",
        violations.join("\n")
    );

    // The one place SFrame itself checks a tag (§4.5.1, the CTR+HMAC suites) uses subtle;
    // AES-GCM's tag check is inside aes-gcm (subtle) / aws-lc.
    let crypto = std::fs::read_to_string(src_dir().join("crypto").join("mod.rs")).unwrap();
    let code: String = library_code(&crypto)
        .into_iter()
        .map(|(_, l)| l + "\n")
        .collect();
    assert!(
        code.contains("use subtle::ConstantTimeEq"),
        "crypto/mod.rs no longer imports subtle"
    );
    assert!(
        code.contains(".ct_eq(tag)"),
        "crypto/mod.rs no longer checks the CTR+HMAC tag with ct_eq"
    );
}

#[test]
fn core_forbids_unsafe_code() {
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    assert!(
        lib.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
        "sframe-core/src/lib.rs must keep #![forbid(unsafe_code)]"
    );
    // forbid cannot be lifted by a later allow, but say so early if someone tries.
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, code) in library_code(&text) {
            assert!(
                !code.contains("unsafe_code)]") || code.contains("forbid(unsafe_code)"),
                "{}:{n}: unsafe_code lint changed",
                file.display()
            );
            let has_unsafe = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == "unsafe");
            assert!(!has_unsafe, "{}:{n}: `unsafe` in the core", file.display());
        }
    }
}
