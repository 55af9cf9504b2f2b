//! The clear-text inputs: IVF files and length-prefixed raw frame streams.
//!
//! * **IVF** (the container VP8/VP9/AV1 encoders write): a file header that starts with
//!   `DKIF`, a little-endian `u16` version at offset 4 and a little-endian `u16` header size at
//!   offset 6 (32 in practice), then per frame a 12-byte header — `u32` LE payload size,
//!   `u64` LE timestamp — followed by the payload.
//! * **raw**: a sequence of records `u32` big-endian length ‖ that many bytes; no file header
//!   and no timestamps.
//!
//! Frames larger than [`MAX_FRAME_LEN`] are refused, so a corrupt or hostile length can never
//! make the tool allocate more than that.

use std::io::{self, Read, Write};

use crate::error::{CliError, Result};

/// Largest frame (payload) the tool accepts: 64 MiB.
pub const MAX_FRAME_LEN: usize = 64 << 20;
/// Largest IVF file header accepted (the header size field; 32 in every known writer).
pub const MAX_IVF_HEADER_LEN: usize = 1024;
/// Size of the fixed part of an IVF file header.
pub const IVF_HEADER_LEN: usize = 32;
/// Size of an IVF frame header.
pub const IVF_FRAME_HEADER_LEN: usize = 12;

/// Which clear-text format a recording has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Ivf,
    Raw,
}

impl SourceKind {
    /// The byte stored in the container header.
    pub fn id(self) -> u8 {
        match self {
            SourceKind::Ivf => 1,
            SourceKind::Raw => 2,
        }
    }

    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(SourceKind::Ivf),
            2 => Some(SourceKind::Raw),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Ivf => "IVF",
            SourceKind::Raw => "raw (u32 BE length-prefixed frames)",
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let Some(rest) = buf.get_mut(done..) else {
            break;
        };
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// One frame of a clear-text recording.
pub struct Frame {
    pub timestamp: u64,
    /// Bytes of the input consumed by this frame (headers included), for progress.
    pub input_len: u64,
}

/// Reads frames of an IVF file or raw stream, one at a time into a reused buffer.
pub struct FrameReader<R> {
    inner: R,
    kind: SourceKind,
    index: u64,
}

impl<R: Read> FrameReader<R> {
    /// Reads the file header (if any) and returns the reader plus the header bytes to keep.
    pub fn open(mut inner: R, kind: SourceKind) -> Result<(Self, Vec<u8>)> {
        let header = match kind {
            SourceKind::Raw => Vec::new(),
            SourceKind::Ivf => read_ivf_header(&mut inner)?,
        };
        Ok((
            FrameReader {
                inner,
                kind,
                index: 0,
            },
            header,
        ))
    }

    /// Reads the next frame's payload into `buf` (resized to fit). `None` at a clean end.
    pub fn next_frame(&mut self, buf: &mut Vec<u8>) -> Result<Option<Frame>> {
        let index = self.index;
        let (len, timestamp, header_len) = match self.kind {
            SourceKind::Ivf => {
                let mut h = [0u8; IVF_FRAME_HEADER_LEN];
                match read_full(&mut self.inner, &mut h).map_err(|e| read_err(index, e))? {
                    0 => return Ok(None),
                    IVF_FRAME_HEADER_LEN => {}
                    n => {
                        return Err(CliError::input(format!(
                            "input IVF is truncated: frame {index} header has {n} of 12 bytes"
                        )));
                    }
                }
                let (size, ts) = h.split_at(4);
                (le_u32(size), le_u64(ts), IVF_FRAME_HEADER_LEN)
            }
            SourceKind::Raw => {
                let mut h = [0u8; 4];
                match read_full(&mut self.inner, &mut h).map_err(|e| read_err(index, e))? {
                    0 => return Ok(None),
                    4 => {}
                    n => {
                        return Err(CliError::input(format!(
                            "input stream is truncated: frame {index} length prefix has {n} of 4 bytes"
                        )));
                    }
                }
                (u32::from_be_bytes(h), 0, 4)
            }
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_FRAME_LEN {
            return Err(CliError::input(format!(
                "input frame {index} is {len} bytes, larger than the {MAX_FRAME_LEN}-byte limit \
                 (is this really a {} file?)",
                self.kind.name()
            )));
        }
        buf.clear();
        buf.resize(len, 0);
        let got = read_full(&mut self.inner, buf).map_err(|e| read_err(index, e))?;
        if got != len {
            return Err(CliError::input(format!(
                "input is truncated: frame {index} has {got} of {len} bytes"
            )));
        }
        self.index += 1;
        Ok(Some(Frame {
            timestamp,
            input_len: (header_len + len) as u64,
        }))
    }
}

fn read_err(index: u64, e: io::Error) -> CliError {
    CliError::io(format!("reading input frame {index}"), e)
}

fn read_ivf_header(r: &mut impl Read) -> Result<Vec<u8>> {
    let mut header = vec![0u8; IVF_HEADER_LEN];
    let got = read_full(r, &mut header).map_err(|e| CliError::io("reading IVF header", e))?;
    if got != IVF_HEADER_LEN || !header.starts_with(b"DKIF") {
        return Err(CliError::input(
            "input is not an IVF file (no 32-byte header starting with DKIF)",
        ));
    }
    let declared = usize::from(u16::from_le_bytes([
        header.get(6).copied().unwrap_or(0),
        header.get(7).copied().unwrap_or(0),
    ]));
    if !(IVF_HEADER_LEN..=MAX_IVF_HEADER_LEN).contains(&declared) {
        return Err(CliError::input(format!(
            "IVF header size field is {declared}; expected 32..={MAX_IVF_HEADER_LEN}"
        )));
    }
    header.resize(declared, 0);
    let rest = header.get_mut(IVF_HEADER_LEN..).unwrap_or_default();
    let want = rest.len();
    let got = read_full(r, rest).map_err(|e| CliError::io("reading IVF header", e))?;
    if got != want {
        return Err(CliError::input("input IVF is truncated inside its header"));
    }
    Ok(header)
}

/// Writes one frame in the clear-text format (the file header is written by the caller).
pub fn write_frame(
    w: &mut impl Write,
    kind: SourceKind,
    timestamp: u64,
    payload: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| io::Error::other("frame too large"))?;
    match kind {
        SourceKind::Ivf => {
            w.write_all(&len.to_le_bytes())?;
            w.write_all(&timestamp.to_le_bytes())?;
        }
        SourceKind::Raw => w.write_all(&len.to_be_bytes())?,
    }
    w.write_all(payload)
}

/// A short description of an IVF file header: codec, size, time base, frame count.
pub fn describe_ivf_header(h: &[u8]) -> String {
    let get = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default();
    if h.len() < IVF_HEADER_LEN || !h.starts_with(b"DKIF") {
        return format!("{} bytes, not a valid IVF header", h.len());
    }
    let fourcc: String = get(8..12)
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    format!(
        "codec {fourcc}, {}x{}, time base {}/{}, frame count field {}, header {} bytes",
        le_u16(get(12..14)),
        le_u16(get(14..16)),
        le_u32(get(20..24)),
        le_u32(get(16..20)),
        le_u32(get(24..28)),
        h.len()
    )
}

fn le_u16(b: &[u8]) -> u16 {
    let mut a = [0u8; 2];
    a.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
    u16::from_le_bytes(a)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
    u64::from_le_bytes(a)
}
