//! Helpers shared by the CLI integration tests: synthetic recordings and a container parser.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const BIN: &str = env!("CARGO_BIN_EXE_sframe");

/// `assert_cmd` command for the `sframe` binary, with SFRAME_KEY cleared.
pub fn sframe() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.env_remove("SFRAME_KEY");
    cmd
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A 32-byte IVF file header (VP80, 640x360, time base 1/30).
pub fn ivf_header(frame_count: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(b"DKIF");
    h.extend_from_slice(&0u16.to_le_bytes()); // version
    h.extend_from_slice(&32u16.to_le_bytes()); // header size
    h.extend_from_slice(b"VP80");
    h.extend_from_slice(&640u16.to_le_bytes());
    h.extend_from_slice(&360u16.to_le_bytes());
    h.extend_from_slice(&30u32.to_le_bytes()); // rate (time base denominator)
    h.extend_from_slice(&1u32.to_le_bytes()); // scale (numerator)
    h.extend_from_slice(&frame_count.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // unused
    assert_eq!(h.len(), 32);
    h
}

/// Frame sizes like a real stream: a large key frame every 30 frames, small deltas,
/// and an empty frame now and then.
pub fn frame_sizes(rng: &mut Rng, frames: usize) -> Vec<usize> {
    (0..frames)
        .map(|i| match i {
            _ if i % 30 == 0 => 2000 + rng.below(3000) as usize,
            _ if i % 97 == 5 => 0,
            _ => 20 + rng.below(400) as usize,
        })
        .collect()
}

/// A valid IVF file with `frames` frames; timestamps 0, 1, 2, ... plus a jump.
pub fn synth_ivf(seed: u64, frames: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = ivf_header(frames as u32);
    for (i, size) in frame_sizes(&mut rng, frames).into_iter().enumerate() {
        let mut payload = vec![0u8; size];
        rng.fill(&mut payload);
        let ts = if i > frames / 2 {
            i as u64 + 1000
        } else {
            i as u64
        };
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&ts.to_le_bytes());
        out.extend_from_slice(&payload);
    }
    out
}

/// A raw stream: u32 big-endian length ‖ bytes, per frame.
pub fn synth_raw(seed: u64, frames: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for size in frame_sizes(&mut rng, frames) {
        let mut payload = vec![0u8; size];
        rng.fill(&mut payload);
        out.extend_from_slice(&(size as u32).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out
}

/// An encrypted recording split into its file header and records (each with its 13-byte
/// record header), parsed independently of the tool's own code.
pub struct Parsed {
    pub header: Vec<u8>,
    pub records: Vec<Vec<u8>>,
}

impl Parsed {
    pub fn parse(file: &[u8]) -> Parsed {
        assert_eq!(&file[..4], b"SFRC");
        let fixed = 4 + 1 + 2 + 8 + 1 + 16 + 16 + 2;
        let source_len = u16::from_be_bytes([file[fixed - 2], file[fixed - 1]]) as usize;
        let header_len = fixed + source_len;
        let mut records = Vec::new();
        let mut pos = header_len;
        while pos < file.len() {
            let len = u32::from_be_bytes(file[pos + 9..pos + 13].try_into().unwrap()) as usize;
            records.push(file[pos..pos + 13 + len].to_vec());
            pos += 13 + len;
        }
        assert_eq!(pos, file.len());
        Parsed {
            header: file[..header_len].to_vec(),
            records,
        }
    }

    pub fn join(&self) -> Vec<u8> {
        let mut out = self.header.clone();
        for r in &self.records {
            out.extend_from_slice(r);
        }
        out
    }
}

/// A fresh key from `sframe keygen`.
pub fn keygen() -> String {
    let out = sframe()
        .arg("keygen")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().trim().to_string()
}

/// Writes `key` to `dir/key.txt` and returns the path.
pub fn key_file(dir: &Path, key: &str) -> PathBuf {
    let p = dir.join("key.txt");
    std::fs::write(&p, format!("{key}\n")).unwrap();
    p
}

/// Names of the files in `dir`, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
