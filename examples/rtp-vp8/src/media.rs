//! Encoded VP8 frames: read from an IVF file (what `vpxenc` writes, e.g.
//! `test-vectors/tiny-vp8.ivf`) or from a directory of one-frame files (what
//! `vp8enc ! multifilesink location=DIR/%05d.vp8` writes: Debian's GStreamer 1.22 has no
//! `ivfmux`/`ivfparse` outside plugins-bad), and written back as IVF.

use std::path::Path;

/// Reads the frames of `path`: an IVF file, or a directory whose `*.vp8` files, in name
/// order, are one frame each.
pub fn load_frames(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    if path.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "vp8"))
            .collect();
        names.sort();
        let frames = names
            .iter()
            .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
            .collect::<Result<Vec<_>, _>>()?;
        if frames.is_empty() {
            return Err(format!("{}: no *.vp8 frame files", path.display()));
        }
        Ok(frames)
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        parse_ivf(&bytes)
    }
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)?.try_into().ok().map(u16::from_le_bytes)
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_le_bytes)
}

/// IVF: a 32-byte file header ("DKIF", header length at 6, FourCC at 8), then per frame a
/// 12-byte header (size u32 LE, timestamp u64 LE) and the frame.
pub fn parse_ivf(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.get(..4) != Some(b"DKIF") {
        return Err("not an IVF file (no DKIF signature)".into());
    }
    if bytes.get(8..12) != Some(b"VP80") {
        return Err("IVF file is not VP8 (FourCC is not VP80)".into());
    }
    let mut at = usize::from(le16(bytes, 6).ok_or("truncated IVF header")?).max(32);
    let mut frames = Vec::new();
    while at < bytes.len() {
        let size = le32(bytes, at).ok_or("truncated IVF frame header")? as usize;
        let start = at + 12;
        let frame = bytes
            .get(start..start + size)
            .ok_or("IVF frame runs past the end of the file")?;
        frames.push(frame.to_vec());
        at = start + size;
    }
    if frames.is_empty() {
        return Err("IVF file without frames".into());
    }
    Ok(frames)
}

/// Writes `(pts, frame)` pairs as an IVF file (30 fps time base, `pts` in frames).
pub fn write_ivf(
    path: &Path,
    width: u16,
    height: u16,
    frames: &[(u64, &[u8])],
) -> Result<(), String> {
    let mut out = Vec::new();
    out.extend_from_slice(b"DKIF");
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(b"VP80");
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&30u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for (pts, f) in frames {
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&pts.to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether a VP8 frame is a key frame (RFC 6386 §9.1: bit 0 of the frame tag is 0).
pub fn is_key_frame(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// The picture size a VP8 key frame announces (RFC 6386 §9.1: start code 9d 01 2a, then
/// 14-bit width and height, little-endian).
pub fn key_frame_size(frame: &[u8]) -> Option<(u16, u16)> {
    if !is_key_frame(frame) || frame.get(3..6)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    Some((le16(frame, 6)? & 0x3fff, le16(frame, 8)? & 0x3fff))
}

/// Bytes of one decoded I420 picture.
pub fn i420_size(width: u16, height: u16) -> usize {
    let (w, h) = (usize::from(width), usize::from(height));
    w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
}
