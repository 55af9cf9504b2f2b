//! Writes SFrame test vectors produced by sframe-core, for every suite 1-8, in the schema of
//! `test-vectors/README.md`, so that an independent implementation can check them:
//!
//! ```sh
//! cargo run -p examples --bin gen-vectors > /tmp/sframe-core-vectors.json
//! python3 test-vectors/verify.py /tmp/sframe-core-vectors.json
//! ```
//!
//! `verify.py` is a from-scratch Python SFrame (stdlib HMAC/HKDF, `cryptography` for AES): it
//! re-derives key and salt, re-encrypts, decrypts and rejects a tampered frame. The published
//! vectors have one frame per suite; for suites 6-8 (draft-barnes-sframe-iana-256) no other open
//! implementation exists, so these cover what three vectors cannot: KIDs and counters of every
//! header length, empty to multi-block plaintexts, metadata, base keys of several lengths. CI
//! runs this (stage 72-interop). Inputs come from a fixed-seed generator: the output is the same
//! on every run.

use sframe_core::hazmat::{self, derive_key_and_salt};
use sframe_core::{CipherSuite, Counter, Header};

/// SplitMix64: deterministic test inputs (not a key generator).
struct Inputs(u64);

impl Inputs {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A u64 as the schema wants it: a JSON number up to 2^53 - 1, else a decimal string.
fn int(v: u64) -> String {
    if v < (1 << 53) {
        v.to_string()
    } else {
        format!("\"{v}\"")
    }
}

fn vector(suite: CipherSuite, kid: u64, ctr: u64, base_key: &[u8], md: &[u8], pt: &[u8]) -> String {
    // A stateless frame at the chosen counter (a `Sender` never goes back to a counter it, or
    // an earlier sender of this process, used for the key).
    let mut ct = vec![0u8; pt.len() + suite.max_overhead()];
    let n = hazmat::protect_frame(suite, kid, Counter(ctr), base_key, md, pt, &mut ct)
        .unwrap_or_else(|e| panic!("protect {suite} kid {kid} ctr {ctr}: {e}"));
    ct.truncate(n);
    let (key, salt) = derive_key_and_salt(suite, kid, base_key)
        .unwrap_or_else(|e| panic!("derive {suite} kid {kid}: {e}"));
    let mut header = [0u8; 17];
    let hlen = Header::new(kid, ctr)
        .encode(&mut header)
        .unwrap_or_else(|e| panic!("header: {e}"));
    let mut nonce = *salt;
    for (n, c) in nonce.iter_mut().rev().zip(ctr.to_le_bytes()) {
        *n ^= c;
    }
    let aad = [&header[..hlen], md].concat();
    format!(
        "{{\"cipher_suite\": {}, \"kid\": {}, \"ctr\": {}, \"base_key\": \"{}\", \
         \"sframe_key\": \"{}\", \"sframe_salt\": \"{}\", \"metadata\": \"{}\", \
         \"nonce\": \"{}\", \"aad\": \"{}\", \"header\": \"{}\", \"pt\": \"{}\", \"ct\": \"{}\"}}",
        suite.id(),
        int(kid),
        int(ctr),
        hex(base_key),
        hex(&key[..suite.key_len()]),
        hex(&salt[..]),
        hex(md),
        hex(&nonce),
        hex(&aad),
        hex(&header[..hlen]),
        hex(pt),
        hex(&ct)
    )
}

fn main() {
    let mut rng = Inputs(0x5f72_616d_6520_3936);
    // KIDs and counters of every header length class: inline (< 8), 1..8 extra bytes.
    let values = [
        0u64,
        1,
        7,
        8,
        255,
        256,
        0xffff,
        1 << 24,
        1 << 40,
        (1 << 53) + 3,
        u64::MAX,
    ];
    let lens = [0usize, 1, 15, 16, 17, 63, 64, 65, 1200, 4099];
    let mut out = Vec::new();
    for suite in CipherSuite::ALL {
        for (i, &kid) in values.iter().enumerate() {
            let ctr = values[(i * 7 + 3) % values.len()];
            let pt = rng.bytes(lens[i % lens.len()]);
            let md = rng.bytes([0usize, 0, 3, 40][i % 4]);
            let base_key = rng.bytes([16usize, 32, 48, 64, 96][i % 5]);
            out.push(vector(suite, kid, ctr, &base_key, &md, &pt));
        }
    }
    println!(
        "{{\n\"source\": \"sframe-core (examples/src/bin/gen-vectors.rs), suites 1-8\",\n\
         \"header\": [],\n\"aes_ctr_hmac\": [],\n\"sframe\": [\n{}\n]\n}}",
        out.join(",\n")
    );
}
