//! A recording much larger than the memory budget streams through `encrypt`, `inspect` and
//! `decrypt` with bounded memory. Writes about 600 MB of temporary files, so it is ignored by
//! default. `scripts/stages/80-cli.sh` runs it against the release binary:
//! `SFRAME_CLI_BIN=target/release/sframe cargo test -p sframe-cli --test large -- --ignored`
//! (without `SFRAME_CLI_BIN` it tests the binary cargo built with the test).

mod common;

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Rng, ivf_header, key_file};

const INPUT_MB: u64 = 200;
/// Peak resident memory allowed for each child process.
const RSS_LIMIT_KB: u64 = 64 * 1024;
/// Largest frame in the input (4 MiB key frames): memory use should be a few times this,
/// whatever the file size.
const MAX_FRAME: usize = 4 << 20;

/// The binary under test: `SFRAME_CLI_BIN` if set (e.g. a release build), else cargo's.
fn bin() -> PathBuf {
    std::env::var_os("SFRAME_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(BIN))
}

/// Writes an IVF of about `INPUT_MB` MB: a 1-4 MiB key frame every 60 frames, 10-100 KB
/// frames in between. Returns the number of frames.
fn write_big_ivf(path: &Path) -> u64 {
    let mut w = BufWriter::new(File::create(path).unwrap());
    w.write_all(&ivf_header(0)).unwrap();
    let mut rng = Rng(0x5eed);
    let (mut written, mut frames) = (32u64, 0u64);
    let mut payload = vec![0u8; MAX_FRAME];
    while written < INPUT_MB * 1_000_000 {
        let len = if frames % 60 == 0 {
            (1 << 20) + rng.below((MAX_FRAME - (1 << 20)) as u64 + 1) as usize
        } else {
            10_000 + rng.below(90_000) as usize
        };
        let p = &mut payload[..len];
        rng.fill(p);
        w.write_all(&(len as u32).to_le_bytes()).unwrap();
        w.write_all(&(frames * 3000).to_le_bytes()).unwrap();
        w.write_all(p).unwrap();
        written += 12 + len as u64;
        frames += 1;
    }
    w.flush().unwrap();
    frames
}

/// Runs the binary, polling the child's peak RSS (VmHWM) until it exits. Returns
/// (peak RSS in kB, wall time). Panics if it fails.
fn run_measured(args: &[&std::ffi::OsStr]) -> (u64, Duration) {
    let start = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .env_remove("SFRAME_KEY")
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        let hwm = std::fs::read_to_string(&status_path).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        });
        peak = peak.max(hwm.unwrap_or(0));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "{args:?} failed: {status}");
    (peak, start.elapsed())
}

/// Largest peak RSS (kB) of any child this process has waited for (getrusage).
fn children_max_rss_kb() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full `rusage` into the pointer on success.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: initialised by getrusage (and zeroed before).
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss as u64 // kilobytes on Linux
}

fn same_contents(a: &Path, b: &Path) -> bool {
    let (mut ra, mut rb) = (
        BufReader::new(File::open(a).unwrap()),
        BufReader::new(File::open(b).unwrap()),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = common_read(&mut ra, &mut ba);
        let nb = common_read(&mut rb, &mut bb);
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

fn common_read(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}

#[test]
#[ignore = "writes ~600 MB of temporary files; run in release by scripts/stages/80-cli.sh"]
fn a_200_mb_recording_streams_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.ivf");
    println!("binary under test: {}", bin().display());
    let frames = write_big_ivf(&input);
    let size = std::fs::metadata(&input).unwrap().len();
    let key = Command::new(bin()).arg("keygen").output().unwrap().stdout;
    let key = key_file(dir.path(), String::from_utf8(key).unwrap().trim());
    let enc = dir.path().join("big.sframe");
    let back = dir.path().join("back.ivf");

    let (enc_rss, enc_t) = run_measured(&[
        "encrypt".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        enc.as_os_str(),
        "--key-file".as_ref(),
        key.as_os_str(),
        "--quiet".as_ref(),
    ]);
    let (insp_rss, insp_t) =
        run_measured(&["inspect".as_ref(), "--summary".as_ref(), enc.as_os_str()]);
    let (dec_rss, dec_t) = run_measured(&[
        "decrypt".as_ref(),
        enc.as_os_str(),
        "-o".as_ref(),
        back.as_os_str(),
        "--key-file".as_ref(),
        key.as_os_str(),
        "--quiet".as_ref(),
    ]);
    let rusage_kb = children_max_rss_kb();
    let mb = size as f64 / 1e6;
    println!(
        "input {mb:.1} MB, {frames} frames (largest {MAX_FRAME} bytes); peak RSS (VmHWM): \
         encrypt {enc_rss} kB in {enc_t:.2?} ({:.0} MB/s), inspect {insp_rss} kB in {insp_t:.2?}, \
         decrypt {dec_rss} kB in {dec_t:.2?} ({:.0} MB/s); getrusage max over children \
         {rusage_kb} kB",
        mb / enc_t.as_secs_f64(),
        mb / dec_t.as_secs_f64()
    );
    assert!(size >= INPUT_MB * 1_000_000);
    assert!(
        same_contents(&input, &back),
        "decrypted file differs from the input"
    );
    for (what, kb) in [
        ("encrypt", enc_rss),
        ("inspect", insp_rss),
        ("decrypt", dec_rss),
        ("any child (getrusage)", rusage_kb),
    ] {
        assert!(kb > 0, "{what}: no RSS measured");
        assert!(
            kb < RSS_LIMIT_KB,
            "{what}: peak RSS {kb} kB over {RSS_LIMIT_KB} kB"
        );
    }
    // And far below the input size: the file is never held whole.
    assert!(rusage_kb * 1024 < size / 3);
}
