//! Per-frame cost of sframe-core against the raw AEAD floor and the crates.io `sframe` crate
//! (issue 7). Run with `cargo bench -p benches` (RustCrypto backend) and
//! `cargo bench -p benches --features aws-lc`; `benches/report` turns criterion's output into
//! the ratio table of `benches/README.md`.
//!
//! Every benchmark id starts with the sframe-core backend of the run (`rustcrypto/…` or
//! `aws-lc/…`), so the two runs land side by side in `target/criterion` and each run has its
//! own floor and `sframe` crate figures measured in the same process.
//!
//! Groups (throughput = plaintext bytes):
//! * `<backend>/protect/<suite>` and `<backend>/unprotect/<suite>`, parameter = plaintext size:
//!   - `ours-inplace`: `Sender::protect` into a reused buffer / `Receiver::unprotect` in place;
//!   - `ours-vec`: `Sender::protect_vec` / `Receiver::unprotect_vec` (allocating);
//!   - `raw`: the AEAD alone with a precomputed key and nonce (`benches::Floor`: RustCrypto in
//!     the default run, aws-lc-rs in the `aws-lc` run);
//!   - `sframe-ring`: `sframe` 2.x (ring backend) `encrypt_into` / `decrypt_into` with reused
//!     buffers (GCM suites only: ring has no AES-CTR).
//! * `<backend>/key-install/<suite>`: `Key::derive`, `Sender::set_key`, `sframe`'s
//!   `EncryptionKey::derive_from`.
//! * `header/parse` and `header/encode` (default run only; no crypto), ours vs `sframe`.
//!
//! In-place unprotect consumes its input, and our receiver rejects replayed counters, so the
//! unprotect benches decrypt a pool of fresh frames with increasing counters, produced outside
//! the timed region (`iter_custom`); the replay window stays at its default (512) and its
//! check is part of the measured cost. The pool is kept under ~256 KiB so the frames are in
//! cache, as a just-received packet is.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{Floor, nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::{BACKEND, CipherSuite, Header, Key, Receiver, Sender};

const SIZES: [usize; 4] = [64, 1200, 10 * 1024, 100 * 1024];
const KID: u64 = 42;
const BASE_KEY: [u8; 16] = [0x42; 16];
/// Pool budget for the unprotect benches (bytes of frames decrypted per timed batch).
const POOL_BYTES: usize = 256 * 1024;

fn peer_suite(suite: CipherSuite) -> Option<sframe::CipherSuite> {
    match suite {
        CipherSuite::AesGcm128Sha256 => Some(sframe::CipherSuite::AesGcm128Sha256),
        CipherSuite::AesGcm256Sha512 => Some(sframe::CipherSuite::AesGcm256Sha512),
        // ring has no AES-CTR (the peer crate's suites 1-3 need its rust-crypto backend), and the
        // peer crate has no suites 6-8 at all.
        _ => None,
    }
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Times `run` over pools of frames that `refill` prepares outside the timed region.
fn pooled(
    iters: u64,
    frame_len: usize,
    mut refill: impl FnMut(&mut Vec<u8>),
    mut run: impl FnMut(&mut [u8]),
) -> Duration {
    let per_pool = (POOL_BYTES / frame_len.max(1)).clamp(1, 512) as u64;
    let mut pool: Vec<Vec<u8>> = (0..per_pool)
        .map(|_| Vec::with_capacity(frame_len + 64))
        .collect();
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (iters - done).min(per_pool) as usize;
        for f in &mut pool[..n] {
            refill(f);
        }
        let t = Instant::now();
        for f in &mut pool[..n] {
            run(f);
        }
        total += t.elapsed();
        done += n as u64;
    }
    total
}

fn sender(suite: CipherSuite) -> Sender {
    let mut tx = Sender::new(suite);
    tx.set_key(KID, &BASE_KEY).unwrap();
    tx
}

fn receiver(suite: CipherSuite) -> Receiver {
    let mut rx = Receiver::new(suite);
    rx.add_key(KID, &BASE_KEY).unwrap();
    rx
}

/// The raw floor keyed like our KID, plus a typical header (AAD) and its nonce.
fn floor(suite: CipherSuite) -> (Floor, Vec<u8>, [u8; 12]) {
    let (key, salt) = derive_key_and_salt(suite, KID, &BASE_KEY).unwrap();
    let header = Header::new(KID, 1_000_000);
    let mut hdr = vec![0u8; header.encoded_len()];
    header.encode(&mut hdr).unwrap();
    (
        Floor::new(suite, &key[..suite.key_len()]),
        hdr,
        nonce(&salt, header.counter()),
    )
}

fn protect(c: &mut Criterion) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{BACKEND}/protect/{}", suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));

            let mut tx = sender(suite);
            let mut out = vec![0u8; tx.max_protected_len(size)];
            g.bench_with_input(BenchmarkId::new("ours-inplace", size), &pt, |b, pt| {
                b.iter(|| tx.protect(b"", black_box(pt), &mut out).unwrap().len())
            });
            // A live sender claims its key (a second one would be KeyInUse): drop it first.
            drop(tx);

            let mut tx = sender(suite);
            g.bench_with_input(BenchmarkId::new("ours-vec", size), &pt, |b, pt| {
                b.iter(|| tx.protect_vec(b"", black_box(pt)).unwrap())
            });

            let (raw, hdr, n) = floor(suite);
            let mut buf = pt.clone();
            let mut tag = vec![0u8; suite.tag_len()];
            g.bench_function(BenchmarkId::new("raw", size), |b| {
                b.iter(|| raw.seal(&n, &hdr, black_box(&mut buf), &mut tag))
            });

            if let Some(ps) = peer_suite(suite) {
                let key = sframe::key::EncryptionKey::derive_from(ps, KID, BASE_KEY).unwrap();
                let mut counter = sframe::frame::PanickingMonotonicCounter::default();
                let mut out: Vec<u8> = Vec::with_capacity(size + 64);
                g.bench_with_input(BenchmarkId::new("sframe-ring", size), &pt, |b, pt| {
                    b.iter(|| {
                        let frame = sframe::frame::MediaFrameView::new(&mut counter, black_box(pt));
                        frame
                            .encrypt_into(&key, &mut out)
                            .unwrap()
                            .cipher_text()
                            .len()
                    })
                });
            }
        }
        g.finish();
    }
}

fn unprotect(c: &mut Criterion) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{BACKEND}/unprotect/{}", suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));
            let frame_len = sender(suite).max_protected_len(size);

            // In place, then the allocating API: same fresh frames, same receiver set-up.
            type Unprotect = fn(&mut Receiver, &mut [u8]);
            let variants: [(&str, Unprotect); 2] = [
                ("ours-inplace", |rx, f| {
                    black_box(rx.unprotect(b"", f).unwrap());
                }),
                ("ours-vec", |rx, f| {
                    black_box(rx.unprotect_vec(b"", f).unwrap());
                }),
            ];
            for (name, run) in variants {
                let (mut tx, mut rx) = (sender(suite), receiver(suite));
                g.bench_function(BenchmarkId::new(name, size), |b| {
                    b.iter_custom(|iters| {
                        pooled(
                            iters,
                            frame_len,
                            |f| {
                                f.resize(frame_len, 0);
                                let n = tx.protect(b"", &pt, f).unwrap().len();
                                f.truncate(n);
                            },
                            |f| run(&mut rx, f),
                        )
                    })
                });
            }

            let (raw, hdr, n) = floor(suite);
            let tag_len = suite.tag_len();
            let mut sealed = pt.clone();
            let mut tag = vec![0u8; tag_len];
            raw.seal(&n, &hdr, &mut sealed, &mut tag);
            sealed.extend_from_slice(&tag);
            g.bench_function(BenchmarkId::new("raw", size), |b| {
                b.iter_custom(|iters| {
                    pooled(
                        iters,
                        frame_len,
                        |f| {
                            f.clear();
                            f.extend_from_slice(&sealed);
                        },
                        |f| {
                            let (ct, tag) = f.split_at_mut(size);
                            assert!(raw.open(&n, &hdr, ct, tag));
                        },
                    )
                })
            });

            if let Some(ps) = peer_suite(suite) {
                let enc = sframe::key::EncryptionKey::derive_from(ps, KID, BASE_KEY).unwrap();
                let dec = sframe::key::DecryptionKey::derive_from(ps, KID, BASE_KEY).unwrap();
                let mut counter = sframe::frame::PanickingMonotonicCounter::default();
                let frame = sframe::frame::MediaFrameView::new(&mut counter, &pt)
                    .encrypt(&enc)
                    .unwrap();
                let wire = frame.as_ref().to_vec();
                let mut out: Vec<u8> = Vec::with_capacity(size + 64);
                g.bench_function(BenchmarkId::new("sframe-ring", size), |b| {
                    b.iter(|| {
                        let f =
                            sframe::frame::EncryptedFrameView::try_new(black_box(&wire)).unwrap();
                        f.decrypt_into(&dec, &mut out).unwrap().payload().len()
                    })
                });
            }
        }
        g.finish();
    }
}

fn key_install(c: &mut Criterion) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{BACKEND}/key-install/{}", suite.name()));
        g.bench_function("ours-derive", |b| {
            b.iter(|| Key::derive(suite, KID, black_box(&BASE_KEY)).unwrap())
        });
        let mut tx = Sender::new(suite);
        g.bench_function("ours-set-key", |b| {
            b.iter(|| tx.set_key(KID, black_box(&BASE_KEY)).unwrap())
        });
        if let Some(ps) = peer_suite(suite) {
            g.bench_function("sframe-ring", |b| {
                b.iter(|| {
                    sframe::key::EncryptionKey::derive_from(ps, KID, black_box(BASE_KEY)).unwrap()
                })
            });
        }
        g.finish();
    }
}

fn header(c: &mut Criterion) {
    if BACKEND != "rustcrypto" {
        return; // no crypto involved: measured once, in the default run
    }
    let cases = [
        ("kid7-ctr0", 7u64, 0u64),
        ("kid300-ctr70000", 300, 70_000),
        ("kid-ctr-max", u64::MAX, u64::MAX),
    ];
    let mut g = c.benchmark_group("header/parse");
    for (name, kid, ctr) in cases {
        let h = Header::new(kid, ctr);
        let mut bytes = vec![0u8; h.encoded_len()];
        h.encode(&mut bytes).unwrap();
        bytes.extend_from_slice(&[0u8; 32]); // a frame follows the header
        g.bench_with_input(BenchmarkId::new("ours", name), &bytes, |b, bytes| {
            b.iter(|| Header::parse(black_box(bytes)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("sframe", name), &bytes, |b, bytes| {
            b.iter(|| sframe::header::SframeHeader::deserialize(black_box(bytes)).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("header/encode");
    for (name, kid, ctr) in cases {
        let mut out = [0u8; 17];
        g.bench_function(BenchmarkId::new("ours", name), |b| {
            b.iter(|| {
                Header::new(black_box(kid), black_box(ctr))
                    .encode(&mut out)
                    .unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("sframe", name), |b| {
            b.iter(|| {
                let h = sframe::header::SframeHeader::new(black_box(kid), black_box(ctr));
                h.serialize(&mut out[..h.len()]).unwrap()
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    // Short runs (the machine is shared); repeat whole runs and take medians instead.
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(800))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = protect, unprotect, key_install, header
}
criterion_main!(benches);
