//! IVF (the container `vpxenc` writes): a 32-byte file header, then per frame a 12-byte header
//! (size, u32 LE; timestamp, u64 LE) and the frame's bytes.
//!
//! Shared by the examples that carry real VP8 (`examples/sfu/native`, `examples/rtp-vp8`),
//! which include it with `#[path]`: each example is a workspace of its own.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

pub struct Ivf {
    pub fourcc: [u8; 4],
    pub width: u16,
    pub height: u16,
    /// Frames per second as rate / scale.
    pub rate: u32,
    pub scale: u32,
    pub frames: Vec<Vec<u8>>,
    /// Presentation timestamps, in units of scale / rate seconds.
    pub pts: Vec<u64>,
}

impl Ivf {
    /// The mean time between frames, from the timestamps (1/30 s if they say nothing).
    pub fn frame_interval(&self) -> std::time::Duration {
        let (Some(first), Some(last)) = (self.pts.first(), self.pts.last()) else {
            return std::time::Duration::from_secs_f64(1.0 / 30.0);
        };
        let n = self.pts.len().saturating_sub(1) as f64;
        let secs =
            last.saturating_sub(*first) as f64 / n * f64::from(self.scale) / f64::from(self.rate);
        if secs.is_finite() && secs > 0.001 && secs < 1.0 {
            std::time::Duration::from_secs_f64(secs)
        } else {
            std::time::Duration::from_secs_f64(1.0 / 30.0)
        }
    }
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)?.try_into().ok().map(u16::from_le_bytes)
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_le_bytes)
}

pub fn parse(bytes: &[u8]) -> Result<Ivf, String> {
    if bytes.get(..4) != Some(b"DKIF") {
        return Err("not an IVF file (no DKIF signature)".into());
    }
    let header_len = usize::from(le16(bytes, 6).ok_or("truncated IVF header")?);
    let mut fourcc = [0u8; 4];
    fourcc.copy_from_slice(bytes.get(8..12).ok_or("truncated IVF header")?);
    let width = le16(bytes, 12).ok_or("truncated IVF header")?;
    let height = le16(bytes, 14).ok_or("truncated IVF header")?;
    let rate = le32(bytes, 16).ok_or("truncated IVF header")?;
    let scale = le32(bytes, 20).ok_or("truncated IVF header")?;
    let mut frames = Vec::new();
    let mut pts = Vec::new();
    let mut at = header_len.max(32);
    while at < bytes.len() {
        let size = le32(bytes, at).ok_or("truncated frame header")? as usize;
        let stamp = bytes
            .get(at + 4..at + 12)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or("truncated frame header")?;
        pts.push(stamp);
        let start = at + 12;
        let frame = bytes
            .get(start..start + size)
            .ok_or("frame runs past the end of the file")?;
        frames.push(frame.to_vec());
        at = start + size;
    }
    if frames.is_empty() {
        return Err("IVF file without frames".into());
    }
    Ok(Ivf {
        fourcc,
        width,
        height,
        rate: if rate == 0 { 30 } else { rate },
        scale: if scale == 0 { 1 } else { scale },
        frames,
        pts,
    })
}

/// Writes frames as they come; the frame count in the header is fixed up by `finish`.
pub struct IvfWriter {
    out: BufWriter<File>,
    frames: u32,
}

impl IvfWriter {
    pub fn create(path: &Path, width: u16, height: u16) -> std::io::Result<Self> {
        let mut out = BufWriter::new(File::create(path)?);
        let mut h = Vec::with_capacity(32);
        h.extend_from_slice(b"DKIF");
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&32u16.to_le_bytes());
        h.extend_from_slice(b"VP80");
        h.extend_from_slice(&width.to_le_bytes());
        h.extend_from_slice(&height.to_le_bytes());
        h.extend_from_slice(&90_000u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        out.write_all(&h)?;
        Ok(IvfWriter { out, frames: 0 })
    }

    /// `pts` in 1/90000 s (the RTP clock of video).
    pub fn write(&mut self, pts: u64, frame: &[u8]) -> std::io::Result<()> {
        let size = u32::try_from(frame.len()).map_err(std::io::Error::other)?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&pts.to_le_bytes())?;
        self.out.write_all(frame)?;
        self.frames += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()?;
        let mut f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.seek(SeekFrom::Start(24))?;
        f.write_all(&self.frames.to_le_bytes())?;
        f.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Relative to this file, so it holds in every example that includes it.
    const TINY_VP8: &[u8] = include_bytes!("../../test-vectors/tiny-vp8.ivf");

    #[test]
    fn reads_the_project_test_vector() {
        let ivf = parse(TINY_VP8).unwrap();
        assert_eq!(&ivf.fourcc, b"VP80");
        assert_eq!((ivf.width, ivf.height), (64, 48));
        assert_eq!(ivf.frames.len(), 30);
        // 30 fps in a 1/1000 s time base (timestamps 0, 33, 66, ...).
        let ms = ivf.frame_interval().as_secs_f64() * 1000.0;
        assert!((33.0..34.0).contains(&ms), "{ms} ms");
        // Key frames at 0 and 15 (README-ivf.md).
        let keys: Vec<usize> = (0..30)
            .filter(|&i| ivf.frames[i][0] & 1 == 0) // RFC 6386 §9.1: bit 0 of the tag
            .collect();
        assert_eq!(keys, vec![0, 15]);
    }

    #[test]
    fn refuses_truncated_files() {
        let bytes = TINY_VP8;
        assert!(parse(&bytes[..bytes.len() - 1]).is_err());
        assert!(parse(&bytes[..20]).is_err());
        assert!(parse(b"RIFF").is_err());
    }
}
