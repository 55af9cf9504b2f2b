//! End-to-end tests of the `sframe` binary: round trips and every way a recording can be
//! damaged. Each failing case must exit non-zero with a clear message and leave no output.

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;

/// Encrypts `input` to `output` with the key in `key_file`; extra args appended.
fn encrypt(input: &Path, output: &Path, key_file: &Path, extra: &[&str]) {
    sframe()
        .arg("encrypt")
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--key-file")
        .arg(key_file)
        .args(extra)
        .assert()
        .success()
        .stdout("");
}

/// `sframe decrypt INPUT -o OUTPUT --key-file KEY`.
fn decrypt_cmd(input: impl AsRef<Path>, output: &Path, key: &Path) -> assert_cmd::Command {
    let mut cmd = sframe();
    cmd.arg("decrypt")
        .arg(input.as_ref())
        .arg("-o")
        .arg(output)
        .arg("--key-file")
        .arg(key);
    cmd
}

/// Runs `decrypt` expecting failure: exit `code`, `message` in stderr, and no output file or
/// leftover temporary file in the directory.
fn decrypt_fails(dir: &Path, input: &Path, key_file: &Path, code: i32, message: &str) {
    let before = dir_entries(dir);
    let out = dir.join("must-not-exist.ivf");
    decrypt_cmd(input, &out, key_file)
        .assert()
        .code(code)
        .stderr(predicate::str::starts_with("sframe: error: "))
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "partial output left behind");
    assert_eq!(dir_entries(dir), before, "temporary file left behind");
}

#[test]
fn keygen_prints_a_fresh_32_byte_base64url_key() {
    let a = keygen();
    let b = keygen();
    assert_eq!(a.len(), 43, "32 bytes as unpadded base64url: {a}");
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_ne!(a, b);
}

#[test]
fn ivf_round_trip_is_byte_identical_and_inspect_shows_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let ivf = dir.path().join("talk.ivf");
    let original = synth_ivf(1, 300);
    std::fs::write(&ivf, &original).unwrap();
    let key = key_file(dir.path(), &keygen());
    let enc = dir.path().join("talk.sframe");
    encrypt(&ivf, &enc, &key, &[]);

    let sealed = std::fs::read(&enc).unwrap();
    let parsed = Parsed::parse(&sealed);
    assert_eq!(parsed.records.len(), 301, "300 frames + end record");
    // Frame payloads do not appear in the clear (check a 64-byte slice of the first frame).
    let probe = &original[32 + 12..32 + 12 + 64];
    assert!(!sealed.windows(64).any(|w| w == probe));
    // The IVF header is kept in the clear (authenticated) in the file header.
    assert_eq!(&parsed.header[parsed.header.len() - 32..], &original[..32]);

    let out = sframe().arg("inspect").arg(&enc).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("AES_128_GCM_SHA256_128 (0x0004)"), "{text}");
    assert!(
        text.contains("codec VP80, 640x360, time base 1/30"),
        "{text}"
    );
    assert!(text.contains("frames:            300"), "{text}");
    let frame_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("frame"))
        .collect();
    assert_eq!(frame_lines.len(), 300);
    // Record 7: KID 0, CTR 7, 1-byte header, 16-byte tag, overhead 17, timestamp 7.
    let cols: Vec<&str> = frame_lines[7].split_whitespace().collect();
    assert_eq!(&cols[..6], ["7", "frame", "7", "0", "7", "1"]);
    assert_eq!(
        &cols[7..],
        [
            "16",
            &(cols[6].parse::<usize>().unwrap() + 17).to_string(),
            "17"
        ]
    );
    let payload_sum: usize = frame_lines
        .iter()
        .map(|l| {
            l.split_whitespace()
                .nth(6)
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(payload_sum, original.len() - 32 - 300 * 12);
    assert!(text.contains(&format!("payload bytes:     {payload_sum}")));

    let back = dir.path().join("back.ivf");
    sframe()
        .args(["decrypt", "--quiet", "--key-file"])
        .arg(&key)
        .arg(&enc)
        .arg("-o")
        .arg(&back)
        .assert()
        .success()
        .stderr("");
    assert_eq!(std::fs::read(&back).unwrap(), original);
}

#[test]
fn raw_stream_round_trip_with_key_and_share_link_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.bin");
    let original = synth_raw(2, 200);
    std::fs::write(&raw, &original).unwrap();
    let key = keygen();
    let enc = dir.path().join("frames.sframe");
    sframe()
        .env("SFRAME_KEY", &key)
        .arg("encrypt")
        .arg(&raw)
        .arg("-o")
        .arg(&enc)
        .args(["--format", "raw"])
        .assert()
        .success()
        // No progress output when stderr is not a terminal: just the summary line.
        .stderr(
            predicate::str::is_match(
                r"\Aencrypted 200 frames \(\d+ payload bytes\) to .*frames\.sframe\n\z",
            )
            .unwrap(),
        );
    sframe()
        .arg("inspect")
        .arg("--summary")
        .arg(&enc)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "raw (u32 BE length-prefixed frames)",
        ))
        .stdout(predicate::str::contains("frames:            200"));
    let back = dir.path().join("back.bin");
    // The whole share link works as a key: only its fragment is used.
    sframe()
        .env(
            "SFRAME_KEY",
            format!("https://rec.example.invalid/r/42#{key}"),
        )
        .arg("decrypt")
        .arg(&enc)
        .arg("-o")
        .arg(&back)
        .assert()
        .success();
    assert_eq!(std::fs::read(&back).unwrap(), original);
}

#[test]
fn every_suite_and_a_large_kid_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ivf = dir.path().join("in.ivf");
    let original = synth_ivf(3, 40);
    std::fs::write(&ivf, &original).unwrap();
    let key = key_file(dir.path(), &keygen());
    let suites = [
        ("1", "AES_128_CTR_HMAC_SHA256_80", 10),
        (
            "AES_128_CTR_HMAC_SHA256_64",
            "AES_128_CTR_HMAC_SHA256_64",
            8,
        ),
        (
            "aes_128_ctr_hmac_sha256_32",
            "AES_128_CTR_HMAC_SHA256_32",
            4,
        ),
        ("4", "AES_128_GCM_SHA256_128", 16),
        ("5", "AES_256_GCM_SHA512_128", 16),
        // draft-barnes-sframe-iana-256: AES-256-CTR + HMAC-SHA512, 96-byte SFrame keys.
        ("6", "AES_256_CTR_HMAC_SHA512_80", 10),
        (
            "AES_256_CTR_HMAC_SHA512_64",
            "AES_256_CTR_HMAC_SHA512_64",
            8,
        ),
        (
            "aes_256_ctr_hmac_sha512_32",
            "AES_256_CTR_HMAC_SHA512_32",
            4,
        ),
    ];
    // Every suite the core offers is exercised, with its tag length.
    let names: Vec<&str> = suites.iter().map(|&(_, name, _)| name).collect();
    let core: Vec<&str> = sframe_core::CipherSuite::ALL
        .iter()
        .map(|s| s.name())
        .collect();
    assert_eq!(names, core);
    for (&(_, _, tag), suite) in suites.iter().zip(sframe_core::CipherSuite::ALL) {
        assert_eq!(tag, suite.tag_len(), "{suite}");
    }
    for (arg, name, tag) in suites {
        let enc = dir.path().join(format!("{name}.sframe"));
        encrypt(&ivf, &enc, &key, &["--suite", arg, "--kid", "123456789"]);
        let out = sframe().arg("inspect").arg(&enc).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(text.contains(name), "{text}");
        assert!(text.contains("key id:      123456789"), "{text}");
        // KID 123456789 takes 4 bytes, CTR 0 is inline: header 5 bytes.
        let first = text
            .lines()
            .find(|l| l.trim_start().starts_with("0 frame"))
            .unwrap();
        let cols: Vec<&str> = first.split_whitespace().collect();
        assert_eq!(
            (cols[3], cols[4], cols[5], cols[7]),
            ("123456789", "0", "5", &*tag.to_string())
        );
        let back = dir.path().join(format!("{name}.ivf"));
        decrypt_cmd(&enc, &back, &key).assert().success();
        assert_eq!(std::fs::read(&back).unwrap(), original, "{name}");
    }
}

#[test]
fn empty_recordings_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &keygen());
    for (name, content) in [("empty.ivf", ivf_header(0)), ("empty.bin", Vec::new())] {
        let input = dir.path().join(name);
        std::fs::write(&input, &content).unwrap();
        let enc = dir.path().join(format!("{name}.sframe"));
        encrypt(&input, &enc, &key, &[]);
        sframe()
            .arg("inspect")
            .arg(&enc)
            .assert()
            .success()
            .stdout(predicate::str::contains("frames:            0"));
        let back = dir.path().join(format!("{name}.back"));
        decrypt_cmd(&enc, &back, &key).assert().success();
        assert_eq!(std::fs::read(&back).unwrap(), content);
    }
}

/// Encrypts a synthetic IVF of `frames` frames; returns (dir, encrypted path, key file).
fn setup(frames: usize) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    setup_with(synth_ivf(4, frames))
}

/// A 3-frame IVF with tiny frames (5, 0 and 12 bytes), for byte-by-byte tests.
fn tiny_ivf() -> Vec<u8> {
    let mut v = ivf_header(3);
    for (ts, payload) in [(0u64, &b"key00"[..]), (3, b""), (6, b"delta-frame!")] {
        v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        v.extend_from_slice(&ts.to_le_bytes());
        v.extend_from_slice(payload);
    }
    v
}

fn setup_with(ivf_bytes: Vec<u8>) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ivf = dir.path().join("in.ivf");
    std::fs::write(&ivf, ivf_bytes).unwrap();
    let key = key_file(dir.path(), &keygen());
    let enc = dir.path().join("rec.sframe");
    encrypt(&ivf, &enc, &key, &[]);
    (dir, enc, key)
}

#[test]
fn wrong_key_is_reported_and_writes_nothing() {
    let (dir, enc, _) = setup(20);
    let other = dir.path().join("other.txt");
    std::fs::write(&other, keygen()).unwrap();
    decrypt_fails(dir.path(), &enc, &other, 3, "wrong key");
}

#[test]
fn a_tampered_frame_byte_is_reported_with_its_record() {
    let (dir, enc, key) = setup(30);
    let mut p = Parsed::parse(&std::fs::read(&enc).unwrap());
    let last = p.records[12].len() - 1;
    p.records[12][last] ^= 0x01; // last tag byte of frame 12
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, "record 12 failed authentication");
}

#[test]
fn a_changed_timestamp_or_source_header_is_detected() {
    let (dir, enc, key) = setup(10);
    let good = std::fs::read(&enc).unwrap();

    let mut p = Parsed::parse(&good);
    p.records[3][8] ^= 0x01; // low byte of the clear timestamp of frame 3
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, "record 3 failed authentication");

    let mut p = Parsed::parse(&good);
    let n = p.header.len();
    p.header[n - 32 + 12] ^= 0x01; // IVF width, in the clear source header
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, "record 0 failed authentication");
}

#[test]
fn every_single_byte_change_is_detected() {
    let (dir, enc, key) = setup_with(tiny_ivf());
    let good = std::fs::read(&enc).unwrap();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x80;
        std::fs::write(&enc, &bad).unwrap();
        let out = dir.path().join("out.ivf");
        let assert = decrypt_cmd(&enc, &out, &key)
            .assert()
            .failure()
            .stderr(predicate::str::starts_with("sframe: error: "));
        let code = assert.get_output().status.code();
        assert!(matches!(code, Some(1) | Some(3)), "byte {i}: exit {code:?}");
        assert!(!out.exists(), "byte {i}: output written");
    }
    assert_eq!(dir_entries(dir.path()), ["in.ivf", "key.txt", "rec.sframe"]);
}

#[test]
fn every_truncation_is_detected() {
    let (dir, enc, key) = setup_with(tiny_ivf());
    let good = std::fs::read(&enc).unwrap();
    let parsed = Parsed::parse(&good);
    for cut in 0..good.len() {
        std::fs::write(&enc, &good[..cut]).unwrap();
        let (code, msg) = if cut < 4 {
            (1, "not an sframe recording")
        } else {
            (3, "truncated")
        };
        decrypt_fails(dir.path(), &enc, &key, code, msg);
        // `inspect` (no key) sees the same damage.
        sframe()
            .arg("inspect")
            .arg(&enc)
            .assert()
            .code(code)
            .stderr(predicate::str::contains(msg));
    }
    // Cut exactly before the end record: all frames verify, the end is missing.
    let mut p = Parsed::parse(&good);
    p.records.pop();
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(
        dir.path(),
        &enc,
        &key,
        3,
        "ends after 3 frames without its end record",
    );
    sframe()
        .arg("inspect")
        .arg(&enc)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("truncated"));
    assert_eq!(parsed.records.len(), 4);
}

#[test]
fn dropped_duplicated_and_reordered_frames_are_detected() {
    let (dir, enc, key) = setup(20);
    let good = Parsed::parse(&std::fs::read(&enc).unwrap());
    let msg = "frames were dropped, duplicated or reordered";

    let mut p = Parsed {
        header: good.header.clone(),
        records: good.records.clone(),
    };
    p.records.remove(5);
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(
        dir.path(),
        &enc,
        &key,
        3,
        "record 5: frame counter 6 where 5 was expected",
    );

    let mut p = Parsed {
        header: good.header.clone(),
        records: good.records.clone(),
    };
    p.records.swap(8, 9);
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, msg);
    sframe()
        .arg("inspect")
        .arg(&enc)
        .assert()
        .code(3)
        .stdout(predicate::str::contains("!counter out of sequence"));

    let mut p = Parsed {
        header: good.header.clone(),
        records: good.records.clone(),
    };
    let dup = p.records[4].clone();
    p.records.insert(5, dup);
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, msg);

    // Dropping the last frame: the end record arrives one position early.
    let mut p = Parsed {
        header: good.header.clone(),
        records: good.records.clone(),
    };
    p.records.remove(19);
    std::fs::write(&enc, p.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, msg);

    // Anything after the end record.
    let mut bytes = good.join();
    bytes.extend_from_slice(&good.records[0]);
    std::fs::write(&enc, bytes).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, "after the end record");
}

#[test]
fn frames_from_another_recording_with_the_same_key_are_rejected() {
    let (dir, enc, key) = setup(10);
    let other = dir.path().join("other.sframe");
    encrypt(&dir.path().join("in.ivf"), &other, &key, &[]);
    let a = Parsed::parse(&std::fs::read(&enc).unwrap());
    let b = Parsed::parse(&std::fs::read(&other).unwrap());
    // Same plaintext and key, but each file has its own file ID and so its own SFrame key.
    assert_ne!(a.records[2], b.records[2]);
    let mut spliced = Parsed {
        header: a.header.clone(),
        records: a.records.clone(),
    };
    spliced.records[2] = b.records[2].clone();
    std::fs::write(&enc, spliced.join()).unwrap();
    decrypt_fails(dir.path(), &enc, &key, 3, "record 2 failed authentication");
}

#[test]
fn never_overwrites_the_input_or_an_existing_file_unless_forced() {
    let (dir, enc, key) = setup(5);
    let ivf = dir.path().join("in.ivf");
    let original = std::fs::read(&ivf).unwrap();
    // Output is the input, also through another spelling of the path.
    for out in [ivf.clone(), dir.path().join(".").join("in.ivf")] {
        sframe()
            .arg("encrypt")
            .arg(&ivf)
            .arg("-o")
            .arg(&out)
            .arg("--key-file")
            .arg(&key)
            .arg("--force")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("over the input"));
    }
    assert_eq!(std::fs::read(&ivf).unwrap(), original);

    let existing = dir.path().join("existing.ivf");
    std::fs::write(&existing, b"keep me").unwrap();
    decrypt_cmd(&enc, &existing, &key)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists; pass --force"));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    // A failing decrypt with --force leaves the existing file untouched.
    let mut p = Parsed::parse(&std::fs::read(&enc).unwrap());
    p.records[3][20] ^= 1;
    let bad = dir.path().join("bad.sframe");
    std::fs::write(&bad, p.join()).unwrap();
    decrypt_cmd(&bad, &existing, &key)
        .arg("--force")
        .assert()
        .code(3);
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    decrypt_cmd(&enc, &existing, &key)
        .arg("--force")
        .assert()
        .success();
    assert_eq!(std::fs::read(&existing).unwrap(), original);
}

#[test]
fn bad_inputs_are_refused_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &keygen());
    let out = dir.path().join("out.sframe");
    let run = |input: &[u8], format: &str, msg: &str| {
        let path = dir.path().join("input");
        std::fs::write(&path, input).unwrap();
        sframe()
            .arg("encrypt")
            .arg(&path)
            .arg("-o")
            .arg(&out)
            .arg("--key-file")
            .arg(&key)
            .args(["--format", format])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(msg));
        assert!(!out.exists());
    };
    run(
        b"RIFF....WAVEfmt some other file format here",
        "ivf",
        "not an IVF file",
    );
    // A length prefix over the 64 MiB limit is refused before any allocation.
    run(
        &(64u32 << 20 | 1).to_be_bytes(),
        "raw",
        "larger than the 67108864-byte limit",
    );
    let mut ivf = synth_ivf(5, 5);
    ivf.truncate(ivf.len() - 3);
    run(&ivf, "auto", "input is truncated: frame 4");
    run(&[0, 0, 0, 9, 1, 2], "raw", "frame 0 has 2 of 9 bytes");
    assert_eq!(dir_entries(dir.path()), ["input", "key.txt"]);

    decrypt_cmd(dir.path().join("input"), &out, &key)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an sframe recording"));
}

#[test]
fn missing_or_malformed_keys_are_usage_errors() {
    let (dir, enc, _) = setup(2);
    let out = dir.path().join("out.ivf");
    let cases: [(&[&str], &str); 4] = [
        (&[], "no key given"),
        (&["--key", "AAAA"], "must be 16..=256 bytes"),
        (&["--key", "not*base64url"], "not valid base64url"),
        (&["--key-file", "/nonexistent/key"], "reading key file"),
    ];
    for (args, msg) in cases {
        sframe()
            .arg("decrypt")
            .arg(&enc)
            .arg("-o")
            .arg(&out)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
        assert!(!out.exists());
    }
    for bad in ["AES_512", "0", "9", "65535", "AES_256_CTR_HMAC_SHA512"] {
        sframe()
            .args(["encrypt", "x", "-o", "y", "--suite", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "unknown cipher suite; use 1-8 or one of",
            ))
            .stderr(predicate::str::contains("AES_256_CTR_HMAC_SHA512_32"));
    }
}

#[test]
fn a_real_vp8_ivf_from_vpxenc_round_trips() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/tiny-vp8.ivf");
    let original = std::fs::read(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &keygen());
    let enc = dir.path().join("tiny.sframe");
    encrypt(&src, &enc, &key, &[]);
    sframe()
        .arg("inspect")
        .arg(&enc)
        .assert()
        .success()
        .stdout(predicate::str::contains("IVF (codec VP80, 64x48"))
        .stdout(predicate::str::contains("frames:            30"));
    let back = dir.path().join("tiny.ivf");
    decrypt_cmd(&enc, &back, &key)
        .assert()
        .success()
        .stderr(predicate::str::contains("verified 30 frames"));
    assert_eq!(std::fs::read(&back).unwrap(), original);
}

#[test]
fn random_damage_never_crashes_decrypt_or_inspect() {
    let (dir, enc, key) = setup(8);
    let good = std::fs::read(&enc).unwrap();
    let mut rng = Rng(77);
    let out = dir.path().join("out.ivf");
    for round in 0..40 {
        let mut bad = good.clone();
        match round % 4 {
            // Several random bytes changed (a non-zero XOR, so each one really changes;
            // two hits on one byte could cancel, so the first is kept apart).
            0 | 1 => {
                let first = rng.below(bad.len() as u64) as usize;
                bad[first] ^= 0x80;
                for _ in 0..rng.below(6) {
                    let i = rng.below(bad.len() as u64) as usize;
                    if i != first {
                        bad[i] ^= 1 + rng.below(255) as u8;
                    }
                }
            }
            // A random slice removed.
            2 => {
                let a = rng.below(bad.len() as u64) as usize;
                let b = a + rng.below((bad.len() - a) as u64 + 1) as usize;
                bad.drain(a..b.max(a + 1).min(bad.len()));
            }
            // Random bytes inserted.
            _ => {
                let at = rng.below(bad.len() as u64) as usize;
                let mut junk = vec![0u8; 1 + rng.below(40) as usize];
                rng.fill(&mut junk);
                bad.splice(at..at, junk);
            }
        }
        std::fs::write(&enc, &bad).unwrap();
        let dec = decrypt_cmd(&enc, &out, &key).assert().failure();
        let code = dec.get_output().status.code();
        assert!(
            matches!(code, Some(1) | Some(3)),
            "round {round}: exit {code:?}"
        );
        assert!(!out.exists());
        // inspect has no key: it may accept a change it cannot see, but never crashes.
        let code = sframe()
            .arg("inspect")
            .arg(&enc)
            .output()
            .unwrap()
            .status
            .code();
        assert!(
            matches!(code, Some(0) | Some(1) | Some(3)),
            "round {round}: inspect {code:?}"
        );
    }
}
