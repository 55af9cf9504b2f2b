//! Instructions per frame under callgrind (noise-free, unlike wall-clock on a shared
//! machine). Used by `benches/icount.sh`; see benches/README.md.
//!
//! `icount <backend> <variant> <suite id> <size> <iterations>`, backend `rustcrypto` or
//! `aws-lc` (both are compiled in; each is named explicitly, whatever the default), variant one
//! of `protect`, `raw-seal`, `unprotect`, `raw-open`. Only the `#[inline(never)]` `measured_*`
//! functions are meant to be counted (`--toggle-collect='*measured_*'`).

use std::hint::black_box;

use benches::{BenchBackend, Floor, nonce};
use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::{AwsLc, CipherSuite, Header, KeyStore, Receiver, RustCrypto, Sender};

#[inline(never)]
fn measured_protect<B: BenchBackend>(tx: &mut Sender<B>, pt: &[u8], out: &mut [u8]) -> usize {
    tx.protect(b"", pt, out).unwrap().len()
}

#[inline(never)]
fn measured_unprotect<S: KeyStore>(rx: &mut Receiver<S>, frame: &mut [u8]) -> usize {
    rx.unprotect_in_place(b"", frame).unwrap().len()
}

#[inline(never)]
fn measured_raw_seal<F: Floor>(f: &F, n: &[u8; 12], hdr: &[u8], buf: &mut [u8], tag: &mut [u8]) {
    f.seal(n, hdr, buf, tag)
}

#[inline(never)]
fn measured_raw_open<F: Floor>(
    f: &F,
    n: &[u8; 12],
    hdr: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> bool {
    f.open(n, hdr, buf, tag)
}

fn run<B: BenchBackend>(backend: B, variant: &str, suite: CipherSuite, size: usize, iters: usize) {
    let base = [0x42u8; 16];
    let pt = vec![0x5au8; size];
    let mut tx = Sender::with_backend(backend, suite);
    tx.set_key(42, &base).unwrap();
    let mut rx = Receiver::with_backend(backend, suite);
    rx.add_key(42, &base).unwrap();
    let (key, salt) = derive_key_and_salt(suite, 42, &base).unwrap();
    let floor = B::Floor::new(suite, &key[..suite.key_len()]);
    let h = Header::new(42, 1_000_000);
    let mut hdr = vec![0u8; h.encoded_len()];
    h.encode(&mut hdr).unwrap();
    let n = nonce(&salt, h.counter());
    let mut out = vec![0u8; tx.max_output_len(size)];
    let mut tag = vec![0u8; suite.tag_len()];
    let mut buf = pt.clone();
    match variant {
        "protect" => {
            for _ in 0..iters {
                black_box(measured_protect(&mut tx, &pt, &mut out));
            }
        }
        "raw-seal" => {
            for _ in 0..iters {
                measured_raw_seal(&floor, &n, &hdr, &mut buf, &mut tag);
            }
        }
        "unprotect" => {
            for _ in 0..iters {
                let len = tx.protect(b"", &pt, &mut out).unwrap().len();
                black_box(measured_unprotect(&mut rx, &mut out[..len]));
            }
        }
        "raw-open" => {
            floor.seal(&n, &hdr, &mut buf, &mut tag);
            let sealed = buf.clone();
            for _ in 0..iters {
                buf.copy_from_slice(&sealed);
                assert!(measured_raw_open(&floor, &n, &hdr, &mut buf, &tag));
            }
        }
        _ => panic!("unknown variant {variant}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let variant = args[2].as_str();
    let suite = CipherSuite::from_id(args[3].parse().unwrap()).unwrap();
    let size: usize = args[4].parse().unwrap();
    let iters: usize = args[5].parse().unwrap();
    match args[1].as_str() {
        "rustcrypto" => run(RustCrypto, variant, suite, size, iters),
        "aws-lc" => run(AwsLc, variant, suite, size, iters),
        other => panic!("unknown backend {other} (rustcrypto, aws-lc)"),
    }
}
