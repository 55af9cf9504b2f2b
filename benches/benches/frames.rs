//! Per-frame cost of sframe-core against the raw AEAD floor and the crates.io `sframe` crate.
//! Run with `cargo bench -p benches`; `benches/report` turns criterion's output into
//! the ratio tables of `benches/README.md`.
//!
//! One run measures both backends of sframe-core, each named explicitly
//! (`Sender::with_backend(RustCrypto, …)`, `…(AwsLc, …)`) and each against the floor of its own
//! crypto library, plus the default build (`Sender::new`: sframe-core's default features, as
//! `cargo add sframe-core` gives them) against the `sframe` crate with its defaults.
//!
//! Groups (throughput = plaintext bytes):
//! * `<backend>/protect/<suite>` and `<backend>/unprotect/<suite>`, backend `rustcrypto` or
//!   `aws-lc`, parameter = plaintext size:
//!   - `ours-inplace`: `Sender::protect` into a reused buffer / `Receiver::unprotect` in place;
//!   - `ours-vec`: `Sender::protect_vec` / `Receiver::unprotect_vec` (allocating);
//!   - `raw`: the AEAD alone with a precomputed key and nonce (`BenchBackend::Floor`: the
//!     RustCrypto crates for `rustcrypto`, aws-lc-rs for `aws-lc`).
//! * `default/protect/<suite>` and `default/unprotect/<suite>` (the suites the `sframe` crate
//!   has with ring: AES-GCM):
//!   - `ours-<backend>`: `Sender::new` / `Receiver::new` in place, i.e. `DefaultBackend`
//!     (named in the id, for the report); the same code as `<backend>/…/ours-inplace`, measured
//!     again in the same run next to `sframe`, so the two ids also show the run's noise;
//!   - `sframe-ring`: `sframe` 2.x (ring backend) `encrypt_into` / `decrypt_into` with reused
//!     buffers.
//! * `<backend>/key-install/<suite>`: `Key::derive_with`, `Sender::set_key`;
//!   `default/key-install/<suite>`: `Key::derive` (`ours-<backend>`) and `sframe`'s
//!   `EncryptionKey::derive_from` (`sframe-ring`).
//! * `header/parse` and `header/encode` (no crypto), ours vs `sframe`.
//!
//! In-place unprotect consumes its input, and our receiver rejects replayed counters, so the
//! unprotect benches decrypt a pool of fresh frames with increasing counters, produced outside
//! the timed region (`iter_custom`); the replay window stays at its default (512) and its
//! check is part of the measured cost. The pool is kept under ~256 KiB so the frames are in
//! cache, as a just-received packet is.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{BenchBackend, Floor, nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::{
    AwsLc, Backend, CipherSuite, DefaultBackend, DefaultKeyStore, Header, Key, Receiver,
    RustCrypto, Sender,
};

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

fn sender<B: Backend>(backend: B, suite: CipherSuite) -> Sender<B> {
    let mut tx = Sender::with_backend(backend, suite);
    tx.set_key(KID, &BASE_KEY).unwrap();
    tx
}

fn receiver<B: Backend>(backend: B, suite: CipherSuite) -> Receiver<DefaultKeyStore<B>> {
    let mut rx = Receiver::with_backend(backend, suite);
    rx.add_key(KID, &BASE_KEY).unwrap();
    rx
}

/// The raw floor keyed like our KID, plus a typical header (AAD) and its nonce.
fn floor<F: Floor>(suite: CipherSuite) -> (F, Vec<u8>, [u8; 12]) {
    let (key, salt) = derive_key_and_salt(suite, KID, &BASE_KEY).unwrap();
    let header = Header::new(KID, 1_000_000);
    let mut hdr = vec![0u8; header.encoded_len()];
    header.encode(&mut hdr).unwrap();
    (
        F::new(suite, &key[..suite.key_len()]),
        hdr,
        nonce(&salt, header.counter()),
    )
}

/// Function id of our figures in the `default/…` groups: `ours-<DefaultBackend::NAME>`.
fn ours_default() -> String {
    format!("ours-{}", DefaultBackend::NAME)
}

fn protect<B: BenchBackend>(c: &mut Criterion, backend: B) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{}/protect/{}", B::NAME, suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));

            let mut tx = sender(backend, suite);
            let mut out = vec![0u8; tx.max_output_len(size)];
            g.bench_with_input(BenchmarkId::new("ours-inplace", size), &pt, |b, pt| {
                b.iter(|| tx.protect(b"", black_box(pt), &mut out).unwrap().len())
            });
            // A live sender claims its key (a second one would be KeyInUse): drop it first.
            drop(tx);

            let mut tx = sender(backend, suite);
            g.bench_with_input(BenchmarkId::new("ours-vec", size), &pt, |b, pt| {
                b.iter(|| tx.protect_vec(b"", black_box(pt)).unwrap())
            });
            drop(tx);

            let (raw, hdr, n) = floor::<B::Floor>(suite);
            let mut buf = pt.clone();
            let mut tag = vec![0u8; suite.tag_len()];
            g.bench_function(BenchmarkId::new("raw", size), |b| {
                b.iter(|| raw.seal(&n, &hdr, black_box(&mut buf), &mut tag))
            });
        }
        g.finish();
    }
}

/// Times `rx.unprotect` (in place) or `rx.unprotect_vec` over pools of fresh frames from `tx`.
fn bench_unprotect<B: Backend, S: sframe_core::KeyStore>(
    b: &mut criterion::Bencher<'_>,
    tx: &mut Sender<B>,
    rx: &mut Receiver<S>,
    pt: &[u8],
    in_place: bool,
) {
    let frame_len = tx.max_output_len(pt.len());
    b.iter_custom(|iters| {
        pooled(
            iters,
            frame_len,
            |f| {
                f.resize(frame_len, 0);
                let n = tx.protect(b"", pt, f).unwrap().len();
                f.truncate(n);
            },
            |f| {
                if in_place {
                    black_box(rx.unprotect_in_place(b"", f).unwrap());
                } else {
                    black_box(rx.unprotect_vec(b"", f).unwrap());
                }
            },
        )
    })
}

fn unprotect<B: BenchBackend>(c: &mut Criterion, backend: B) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{}/unprotect/{}", B::NAME, suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));

            // In place, then the allocating API: same fresh frames, same receiver set-up.
            for (name, in_place) in [("ours-inplace", true), ("ours-vec", false)] {
                let (mut tx, mut rx) = (sender(backend, suite), receiver(backend, suite));
                g.bench_function(BenchmarkId::new(name, size), |b| {
                    bench_unprotect(b, &mut tx, &mut rx, &pt, in_place)
                });
            }

            let frame_len = Sender::with_backend(backend, suite).max_output_len(size);
            let (raw, hdr, n) = floor::<B::Floor>(suite);
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
        }
        g.finish();
    }
}

/// The default build (`Sender::new`, `Receiver::new`, `Key::derive`: `DefaultBackend`) against
/// the `sframe` crate with its defaults (ring), for the suites both have.
fn default_vs_sframe(c: &mut Criterion) {
    let ours = ours_default();
    for suite in CipherSuite::ALL {
        let Some(ps) = peer_suite(suite) else {
            continue;
        };

        let mut g = c.benchmark_group(format!("default/protect/{}", suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));
            let mut tx = Sender::new(suite);
            tx.set_key(KID, &BASE_KEY).unwrap();
            let mut out = vec![0u8; tx.max_output_len(size)];
            g.bench_with_input(BenchmarkId::new(&ours, size), &pt, |b, pt| {
                b.iter(|| tx.protect(b"", black_box(pt), &mut out).unwrap().len())
            });
            drop(tx);

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
        g.finish();

        let mut g = c.benchmark_group(format!("default/unprotect/{}", suite.name()));
        for size in SIZES {
            let pt = plaintext(size);
            g.throughput(Throughput::Bytes(size as u64));
            let mut tx = Sender::new(suite);
            tx.set_key(KID, &BASE_KEY).unwrap();
            let mut rx = Receiver::new(suite);
            rx.add_key(KID, &BASE_KEY).unwrap();
            g.bench_function(BenchmarkId::new(&ours, size), |b| {
                bench_unprotect(b, &mut tx, &mut rx, &pt, true)
            });
            drop(tx);

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
                    let f = sframe::frame::EncryptedFrameView::try_new(black_box(&wire)).unwrap();
                    f.decrypt_into(&dec, &mut out).unwrap().payload().len()
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("default/key-install/{}", suite.name()));
        g.bench_function(ours.as_str(), |b| {
            b.iter(|| Key::derive(suite, KID, black_box(&BASE_KEY)).unwrap())
        });
        g.bench_function("sframe-ring", |b| {
            b.iter(|| {
                sframe::key::EncryptionKey::derive_from(ps, KID, black_box(BASE_KEY)).unwrap()
            })
        });
        g.finish();
    }
}

fn key_install<B: BenchBackend>(c: &mut Criterion, backend: B) {
    for suite in CipherSuite::ALL {
        let mut g = c.benchmark_group(format!("{}/key-install/{}", B::NAME, suite.name()));
        g.bench_function("ours-derive", |b| {
            b.iter(|| Key::derive_with(backend, suite, KID, black_box(&BASE_KEY)).unwrap())
        });
        let mut tx = Sender::with_backend(backend, suite);
        g.bench_function("ours-set-key", |b| {
            b.iter(|| tx.set_key(KID, black_box(&BASE_KEY)).unwrap())
        });
        g.finish();
    }
}

/// Every benchmark of one backend, named by the backend (not by the build's features).
fn backend<B: BenchBackend>(c: &mut Criterion, backend: B) {
    protect(c, backend);
    unprotect(c, backend);
    key_install(c, backend);
}

fn rustcrypto(c: &mut Criterion) {
    backend(c, RustCrypto);
}

fn aws_lc(c: &mut Criterion) {
    backend(c, AwsLc);
}

fn header(c: &mut Criterion) {
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
    targets = rustcrypto, aws_lc, default_vs_sframe, header
}
criterion_main!(benches);
