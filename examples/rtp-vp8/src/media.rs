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
/// The frames of a VP8 IVF file (the IVF reader is the one `examples/sfu/native` uses).
pub fn parse_ivf(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let ivf = crate::ivf::parse(bytes)?;
    if &ivf.fourcc != b"VP80" {
        return Err("IVF file is not VP8 (FourCC is not VP80)".into());
    }
    Ok(ivf.frames)
}

/// Writes `(pts, frame)` pairs as a VP8 IVF file, `pts` in frames of 1/30 s.
pub fn write_ivf(
    path: &Path,
    width: u16,
    height: u16,
    frames: &[(u64, &[u8])],
) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut out = crate::ivf::IvfWriter::create(path, width, height).map_err(err)?;
    for (pts, f) in frames {
        // The writer's time base is the 90 kHz RTP video clock.
        out.write(pts * 3000, f).map_err(err)?;
    }
    out.finish().map_err(err)
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
