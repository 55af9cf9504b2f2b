//! RFC 9605 Appendix C test vectors (C.1 header, C.2 AES-CTR+HMAC, C.3 SFrame) and the
//! draft-barnes-sframe-iana-256 vectors (suites 0x0006-0x0008, same schema).
//!
//! Reads `test-vectors/rfc9605.json` and `test-vectors/iana-256.json`, or only the file named by
//! `SFRAME_TEST_VECTORS` (same schema, any suite 1-8, plus an optional `must_fail` array whose
//! frames must not unprotect).

use serde::Deserialize;
use sframe_core::hazmat::{self, Aead, derive_key_and_salt};
use sframe_core::{Backend, CipherSuite, Counter, Header, Receiver, RustCrypto};

#[derive(Deserialize)]
#[serde(untagged)]
enum U64Repr {
    Num(u64),
    Str(String),
}

impl U64Repr {
    fn get(&self) -> u64 {
        match self {
            U64Repr::Num(n) => *n,
            U64Repr::Str(s) => s.parse().expect("decimal u64 string"),
        }
    }
}

#[derive(Deserialize)]
struct HeaderVector {
    kid: U64Repr,
    ctr: U64Repr,
    header: String,
}

#[derive(Deserialize)]
struct AeadVector {
    cipher_suite: u16,
    key: String,
    enc_key: String,
    auth_key: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

#[derive(Deserialize)]
struct SframeVector {
    cipher_suite: u16,
    kid: U64Repr,
    ctr: U64Repr,
    base_key: String,
    sframe_key: String,
    sframe_salt: String,
    metadata: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

#[derive(Deserialize)]
struct MustFail {
    cipher_suite: u16,
    kid: U64Repr,
    base_key: String,
    metadata: String,
    ct: String,
}

#[derive(Deserialize)]
struct Vectors {
    #[serde(default)]
    header: Vec<HeaderVector>,
    #[serde(default)]
    aes_ctr_hmac: Vec<AeadVector>,
    #[serde(default)]
    sframe: Vec<SframeVector>,
    #[serde(default)]
    must_fail: Vec<MustFail>,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// The vector files to check: `SFRAME_TEST_VECTORS` alone, or both shipped files.
fn vector_files() -> Vec<String> {
    match std::env::var("SFRAME_TEST_VECTORS") {
        Ok(p) => vec![p],
        Err(_) => ["rfc9605.json", "iana-256.json"]
            .iter()
            .map(|f| format!("{}/../test-vectors/{f}", env!("CARGO_MANIFEST_DIR")))
            .collect(),
    }
}

fn load(path: &str) -> Vectors {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn check_header(v: &HeaderVector) -> Result<(), String> {
    let (kid, ctr, want) = (v.kid.get(), v.ctr.get(), h(&v.header));
    let hd = Header::new(kid, ctr);
    let mut buf = [0u8; sframe_core::MAX_HEADER_LEN];
    let n = hd.encode(&mut buf).map_err(|e| format!("encode: {e}"))?;
    if buf[..n] != want[..] {
        return Err(format!(
            "encode kid={kid} ctr={ctr}: got {}, want {}",
            hex::encode(&buf[..n]),
            v.header
        ));
    }
    let mut with_tail = want.clone();
    with_tail.extend_from_slice(b"payload");
    match Header::parse(&with_tail) {
        Ok((p, len)) if p == hd && len == want.len() => {}
        other => return Err(format!("parse {}: {other:?}", v.header)),
    }
    for cut in 0..want.len() {
        if Header::parse(&want[..cut]).is_ok() {
            return Err(format!("truncated header {} at {cut} parsed", v.header));
        }
    }
    Ok(())
}

fn check_aead<B: Backend>(v: &AeadVector) -> Result<(), String> {
    let suite = CipherSuite::from_id(v.cipher_suite).map_err(|e| e.to_string())?;
    let key = h(&v.key);
    if key[..16] != h(&v.enc_key)[..] || key[16..] != h(&v.auth_key)[..] {
        return Err("enc_key/auth_key are not key[..16]/key[16..]".into());
    }
    let aead = Aead::new_with(B::default(), suite, &key).map_err(|e| e.to_string())?;
    let (nonce, aad, pt, ct) = (h(&v.nonce), h(&v.aad), h(&v.pt), h(&v.ct));
    let mut buf = pt.clone();
    let mut tag = vec![0u8; suite.tag_len()];
    aead.seal(&nonce, &aad, &mut buf, &mut tag)
        .map_err(|e| e.to_string())?;
    buf.extend_from_slice(&tag);
    if buf != ct {
        return Err(format!(
            "suite {}: encrypt got {}, want {}",
            v.cipher_suite,
            hex::encode(&buf),
            v.ct
        ));
    }
    let split = ct.len() - suite.tag_len();
    let mut body = ct[..split].to_vec();
    aead.open(&nonce, &aad, &mut body, &ct[split..])
        .map_err(|e| format!("decrypt: {e}"))?;
    if body != pt {
        return Err("decrypt returned wrong plaintext".into());
    }
    let mut tampered = ct[..split].to_vec();
    if let Some(b) = tampered.first_mut() {
        *b ^= 1;
        if aead.open(&nonce, &aad, &mut tampered, &ct[split..]).is_ok() {
            return Err("tampered ciphertext accepted".into());
        }
    }
    Ok(())
}

fn check_sframe<B: Backend>(v: &SframeVector) -> Result<(), String> {
    let suite = CipherSuite::from_id(v.cipher_suite).map_err(|e| e.to_string())?;
    let (kid, ctr) = (v.kid.get(), v.ctr.get());
    let base = h(&v.base_key);
    let (key, salt) = derive_key_and_salt(suite, kid, &base).map_err(|e| e.to_string())?;
    if key[..suite.key_len()] != h(&v.sframe_key)[..] || salt[..] != h(&v.sframe_salt)[..] {
        return Err(format!("suite {}: derived key/salt differ", v.cipher_suite));
    }
    let nonce: Vec<u8> = salt
        .iter()
        .zip((ctr as u128).to_be_bytes()[4..].iter())
        .map(|(s, c)| s ^ c)
        .collect();
    if nonce != h(&v.nonce) {
        return Err("nonce differs".into());
    }
    let (meta, pt, ct) = (h(&v.metadata), h(&v.pt), h(&v.ct));
    let mut hdr = [0u8; 17];
    let hl = Header::new(kid, ctr)
        .encode(&mut hdr)
        .map_err(|e| e.to_string())?;
    if [&hdr[..hl], &meta[..]].concat() != h(&v.aad) {
        return Err("aad differs".into());
    }

    // The frame at the vector's counter, made with no state: each backend makes it again (and
    // `rfc9605_vectors` once more for its summary), which no `Sender` may do.
    let mut got = vec![0u8; pt.len() + suite.max_overhead()];
    let n = hazmat::protect_frame_with(
        B::default(),
        suite,
        kid,
        Counter(ctr),
        &base,
        &meta,
        &pt,
        &mut got,
    )
    .map_err(|e| e.to_string())?;
    got.truncate(n);
    if got != ct {
        return Err(format!(
            "suite {}: protect got {}, want {}",
            v.cipher_suite,
            hex::encode(&got),
            v.ct
        ));
    }

    let mut rx = Receiver::with_backend(B::default(), suite);
    rx.add_key(kid, &base).map_err(|e| e.to_string())?;
    let mut frame = ct.clone();
    let out = rx
        .unprotect_in_place(&meta, &mut frame)
        .map_err(|e| format!("unprotect: {e}"))?;
    if *out != pt[..] {
        return Err("unprotect returned wrong plaintext".into());
    }
    let mut rx2 = Receiver::with_backend(B::default(), suite);
    rx2.add_key(kid, &base).map_err(|e| e.to_string())?;
    let mut bad = ct.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    if rx2.unprotect_in_place(&meta, &mut bad).is_ok() {
        return Err("tampered frame accepted".into());
    }
    Ok(())
}

fn check_must_fail<B: Backend>(v: &MustFail) -> Result<(), String> {
    let suite = CipherSuite::from_id(v.cipher_suite).map_err(|e| e.to_string())?;
    let mut rx = Receiver::with_backend(B::default(), suite);
    rx.add_key(v.kid.get(), &h(&v.base_key))
        .map_err(|e| e.to_string())?;
    let mut frame = h(&v.ct);
    match rx.unprotect_in_place(&h(&v.metadata), &mut frame) {
        Ok(pt) => Err(format!(
            "must_fail frame {} unprotected to {}",
            v.ct,
            hex::encode(pt)
        )),
        Err(_) => Ok(()),
    }
}

type Checked = Vec<(&'static str, Result<(), String>)>;

/// `$all(v)` runs `$one` for every backend compiled in, each named explicitly (both in one
/// `cargo test --all-features` run).
macro_rules! all_backends {
    ($all:ident, $one:ident, $ty:ty) => {
        fn $all(v: &$ty) -> Checked {
            #[allow(unused_mut)]
            let mut out = vec![(RustCrypto::NAME, $one::<RustCrypto>(v))];
            #[cfg(feature = "aws-lc")]
            out.push((sframe_core::AwsLc::NAME, $one::<sframe_core::AwsLc>(v)));
            out
        }
    };
}
all_backends!(check_aead_all, check_aead, AeadVector);
all_backends!(check_sframe_all, check_sframe, SframeVector);
all_backends!(check_must_fail_all, check_must_fail, MustFail);

#[test]
fn rfc9605_vectors() {
    let mut failures = Vec::new();
    let mut suites_seen = std::collections::BTreeSet::new();
    let mut total = [0usize; 4];
    for path in vector_files() {
        let v = load(&path);
        let mut run = |name: &str, i: usize, r: Result<(), String>| {
            if let Err(e) = r {
                failures.push(format!("{path}: {name}[{i}]: {e}"));
            }
        };
        for (i, x) in v.header.iter().enumerate() {
            run("header", i, check_header(x));
        }
        for (i, x) in v.aes_ctr_hmac.iter().enumerate() {
            for (name, r) in check_aead_all(x) {
                run(&format!("aes_ctr_hmac/{name}"), i, r);
            }
        }
        for (i, x) in v.sframe.iter().enumerate() {
            for (name, r) in check_sframe_all(x) {
                run(&format!("sframe/{name}"), i, r);
            }
            suites_seen.insert(x.cipher_suite);
        }
        for (i, x) in v.must_fail.iter().enumerate() {
            for (name, r) in check_must_fail_all(x) {
                run(&format!("must_fail/{name}"), i, r);
            }
        }
        let counts = [
            v.header.len(),
            v.aes_ctr_hmac.len(),
            v.sframe.len(),
            v.must_fail.len(),
        ];
        println!(
            "vectors: {} header, {} aes_ctr_hmac, {} sframe, {} must_fail checked ({path})",
            counts[0], counts[1], counts[2], counts[3]
        );
        assert!(
            counts.iter().any(|&n| n > 0),
            "the vector file {path} holds no vectors"
        );
        for (t, n) in total.iter_mut().zip(counts) {
            *t += n;
        }
    }
    println!(
        "vectors total: {} header, {} aes_ctr_hmac, {} sframe, {} must_fail; sframe suites {:?}; \
         backends {:?}",
        total[0],
        total[1],
        total[2],
        total[3],
        suites_seen,
        check_sframe_all(&load(&vector_files()[0]).sframe[0])
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
    );
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if std::env::var_os("SFRAME_TEST_VECTORS").is_none() {
        // The shipped files: RFC 9605 C.1-C.3 and the draft's one vector per suite 6-8.
        assert_eq!(total, [289, 3, 8, 0]);
        assert_eq!(
            suites_seen.into_iter().collect::<Vec<_>>(),
            (1..=8).collect::<Vec<u16>>()
        );
    }
}
