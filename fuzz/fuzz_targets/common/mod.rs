//! Shared by the fuzz targets: the keys receivers hold, an independent decryption oracle, and
//! frames sealed at a chosen counter without a `Sender`.
#![allow(dead_code)]

use sframe_core::hazmat::{Aead, derive_key_and_salt};
use sframe_core::{CipherSuite, Header};

/// KID and base key of every RFC 9605 Appendix C.3 vector and of the draft-barnes-sframe-iana-256
/// vectors (suites 6-8, same KID and key), so the seeds (built from those vectors) start as
/// valid frames and the fuzzer mutates from there.
pub const VECTOR_KID: u64 = 291;
pub const VECTOR_BASE_KEY: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];

/// Further installed keys, covering inline KIDs (< 8), 1-byte and 8-byte KIDs.
pub const EXTRA_KEYS: [(u64, [u8; 16]); 4] = [
    (0, [0xa0; 16]),
    (7, [0xa7; 16]),
    (8, [0xa8; 16]),
    (u64::MAX, [0xaf; 16]),
];

/// Every (KID, base key) a receiver in the `unprotect` target holds.
pub fn installed_keys() -> impl Iterator<Item = (u64, &'static [u8])> {
    core::iter::once((VECTOR_KID, &VECTOR_BASE_KEY[..]))
        .chain(EXTRA_KEYS.iter().map(|(k, b)| (*k, &b[..])))
}

/// Picks a suite from one fuzzer byte: `CipherSuite::ALL[b % 8]`, so every suite 1-8 is
/// reachable and byte `id - 1` (what the seeds use) selects suite `id`.
pub fn suite(b: u8) -> CipherSuite {
    CipherSuite::ALL[usize::from(b) % CipherSuite::ALL.len()]
}

/// Reference decryption written from RFC 9605 §4.4.3 with the low-level AEAD, independent of
/// the Receiver's code path: returns the plaintext iff `frame` is a valid frame under
/// (`suite`, `kid`'s `base_key`) with `metadata`.
pub fn reference_open(
    suite: CipherSuite,
    base_key: &[u8],
    metadata: &[u8],
    frame: &[u8],
) -> Option<Vec<u8>> {
    let (header, hlen) = Header::parse(frame).ok()?;
    let (key, salt) = derive_key_and_salt(suite, header.key_id(), base_key).ok()?;
    let aead = Aead::new(suite, &key[..suite.key_len()]).ok()?;
    let mut nonce = *salt;
    for (n, c) in nonce[4..].iter_mut().zip(header.counter().to_be_bytes()) {
        *n ^= c;
    }
    let (hdr, rest) = frame.split_at(hlen);
    let body_len = rest.len().checked_sub(suite.tag_len())?;
    let (ct, tag) = rest.split_at(body_len);
    let mut aad = hdr.to_vec();
    aad.extend_from_slice(metadata);
    let mut buf = ct.to_vec();
    aead.open(&nonce, &aad, &mut buf, tag).ok()?;
    Some(buf)
}

/// The frame of `payload` under (`suite`, `kid`, `base_key`) at counter `ctr`, sealed from
/// RFC 9605 §4.4.3 with the low-level AEAD. No `Sender`: senders share one process-wide
/// registry, in which a key's counter only moves up (a second sender of a key resumes where
/// the last one stood), so a `Sender` cannot make a frame at a counter of the fuzzer's
/// choosing twice — and a fuzzer replays inputs.
pub fn reference_seal(
    suite: CipherSuite,
    kid: u64,
    base_key: &[u8],
    ctr: u64,
    metadata: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let (key, salt) = derive_key_and_salt(suite, kid, base_key).expect("base key");
    let aead = Aead::new(suite, &key[..suite.key_len()]).expect("AEAD key");
    let mut nonce = *salt;
    for (n, c) in nonce[4..].iter_mut().zip(ctr.to_be_bytes()) {
        *n ^= c;
    }
    let mut frame = [0u8; sframe_core::MAX_HEADER_LEN];
    let hlen = Header::new(kid, ctr).encode(&mut frame).expect("header");
    let mut frame = frame[..hlen].to_vec();
    let mut aad = frame.clone();
    aad.extend_from_slice(metadata);
    let mut body = payload.to_vec();
    let mut tag = vec![0u8; suite.tag_len()];
    aead.seal(&nonce, &aad, &mut body, &mut tag).expect("seal");
    frame.extend_from_slice(&body);
    frame.extend_from_slice(&tag);
    frame
}
