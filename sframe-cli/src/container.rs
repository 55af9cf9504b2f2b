//! The encrypted recording container (`.sframe` files). See README.md, "Container format".
//!
//! ```text
//! file   = header record* end_record
//! header = "SFRC" version:u8(=1) suite:u16 kid:u64 source:u8 file_id:[16] key_check:[16]
//!          source_header_len:u16 source_header:[source_header_len]
//! record = type:u8 timestamp:u64 length:u32 sframe:[length]      (type 1 = frame, 2 = end)
//! ```
//!
//! Integers are big-endian. Each record's `sframe` is an RFC 9605 SFrame ciphertext whose
//! authenticated metadata (§4.4.3) is
//! `header ‖ type ‖ index:u64 ‖ timestamp:u64`, so every frame is bound to this file's header
//! (and so to the source file header and file ID), to its position and to its clear timestamp.
//! The end record's plaintext is `frame_count:u64 ‖ payload_bytes:u64`.

use std::io::Read;

use sframe_core::CipherSuite;

use crate::error::{CliError, Result};
use crate::keys::{FILE_ID_LEN, KEY_CHECK_LEN};
use crate::media::{MAX_FRAME_LEN, MAX_IVF_HEADER_LEN, SourceKind, read_full};

pub const MAGIC: &[u8; 4] = b"SFRC";
pub const VERSION: u8 = 1;
/// Bytes of the header before the source header.
pub const FIXED_HEADER_LEN: usize = 4 + 1 + 2 + 8 + 1 + FILE_ID_LEN + KEY_CHECK_LEN + 2;
/// Bytes of a record header.
pub const RECORD_HEADER_LEN: usize = 1 + 8 + 4;
pub const RECORD_FRAME: u8 = 1;
pub const RECORD_END: u8 = 2;
/// Plaintext length of the end record.
pub const END_PAYLOAD_LEN: usize = 16;
/// Largest SFrame overhead (longest header + tag, RFC 9605 §4.2) of any suite the core offers:
/// `sframe_core::suite::MAX_OVERHEAD` (the 96-byte keys of suites 6-8 never reach the file).
pub const MAX_SFRAME_OVERHEAD: usize = sframe_core::suite::MAX_OVERHEAD;
/// Largest `length` of a record: the largest frame plus the largest SFrame overhead.
pub const MAX_RECORD_LEN: usize = MAX_FRAME_LEN + MAX_SFRAME_OVERHEAD;

/// The parsed file header; `bytes` is its exact encoding (part of every frame's metadata).
pub struct FileHeader {
    pub suite: CipherSuite,
    pub kid: u64,
    pub source: SourceKind,
    pub file_id: [u8; FILE_ID_LEN],
    pub key_check: [u8; KEY_CHECK_LEN],
    pub source_header: Vec<u8>,
    pub bytes: Vec<u8>,
}

impl FileHeader {
    pub fn new(
        suite: CipherSuite,
        kid: u64,
        source: SourceKind,
        file_id: [u8; FILE_ID_LEN],
        key_check: [u8; KEY_CHECK_LEN],
        source_header: Vec<u8>,
    ) -> Result<Self> {
        let source_len = u16::try_from(source_header.len())
            .ok()
            .filter(|&n| usize::from(n) <= MAX_IVF_HEADER_LEN)
            .ok_or_else(|| CliError::input("source file header too long"))?;
        let mut bytes = Vec::with_capacity(FIXED_HEADER_LEN + source_header.len());
        bytes.extend_from_slice(MAGIC);
        bytes.push(VERSION);
        bytes.extend_from_slice(&suite.id().to_be_bytes());
        bytes.extend_from_slice(&kid.to_be_bytes());
        bytes.push(source.id());
        bytes.extend_from_slice(&file_id);
        bytes.extend_from_slice(&key_check);
        bytes.extend_from_slice(&source_len.to_be_bytes());
        bytes.extend_from_slice(&source_header);
        Ok(FileHeader {
            suite,
            kid,
            source,
            file_id,
            key_check,
            source_header,
            bytes,
        })
    }

    /// Reads and validates a header.
    pub fn read(r: &mut impl Read) -> Result<Self> {
        let mut fixed = [0u8; FIXED_HEADER_LEN];
        let got = read_full(r, &mut fixed).map_err(|e| CliError::io("reading file header", e))?;
        if got < MAGIC.len() || fixed.get(..4) != Some(MAGIC.as_slice()) {
            return Err(CliError::input(
                "not an sframe recording (missing SFRC magic); was it made by `sframe encrypt`?",
            ));
        }
        if got != FIXED_HEADER_LEN {
            return Err(CliError::integrity("file is truncated inside its header"));
        }
        let mut c = Cursor(&fixed[4..]);
        let version = c.u8();
        if version != VERSION {
            return Err(CliError::input(format!(
                "unsupported container version {version} (this tool reads version {VERSION})"
            )));
        }
        let suite_id = c.u16();
        let suite = CipherSuite::from_id(suite_id).map_err(|_| {
            CliError::input(format!(
                "unknown cipher suite 0x{suite_id:04x} in file header"
            ))
        })?;
        let kid = c.u64();
        let source_id = c.u8();
        let source = SourceKind::from_id(source_id).ok_or_else(|| {
            CliError::input(format!("unknown source format {source_id} in file header"))
        })?;
        let file_id = c.array::<FILE_ID_LEN>();
        let key_check = c.array::<KEY_CHECK_LEN>();
        let source_len = usize::from(c.u16());
        let valid_len = match source {
            SourceKind::Raw => source_len == 0,
            SourceKind::Ivf => (32..=MAX_IVF_HEADER_LEN).contains(&source_len),
        };
        if !valid_len {
            return Err(CliError::input(format!(
                "invalid source header length {source_len} for {}",
                source.name()
            )));
        }
        let mut source_header = vec![0u8; source_len];
        let got =
            read_full(r, &mut source_header).map_err(|e| CliError::io("reading file header", e))?;
        if got != source_len {
            return Err(CliError::integrity("file is truncated inside its header"));
        }
        // Re-encoding gives back exactly the bytes read: every field has one encoding.
        FileHeader::new(suite, kid, source, file_id, key_check, source_header)
    }

    /// The authenticated metadata of record `index` (written into `out`, reused).
    pub fn metadata(&self, out: &mut Vec<u8>, record_type: u8, index: u64, timestamp: u64) {
        out.clear();
        out.extend_from_slice(&self.bytes);
        out.push(record_type);
        out.extend_from_slice(&index.to_be_bytes());
        out.extend_from_slice(&timestamp.to_be_bytes());
    }
}

/// A record header.
pub struct RecordHeader {
    pub record_type: u8,
    pub timestamp: u64,
    pub len: usize,
}

impl RecordHeader {
    pub fn encode(&self) -> [u8; RECORD_HEADER_LEN] {
        let mut out = [0u8; RECORD_HEADER_LEN];
        let (t, rest) = out.split_at_mut(1);
        let (ts, len) = rest.split_at_mut(8);
        t.copy_from_slice(&[self.record_type]);
        ts.copy_from_slice(&self.timestamp.to_be_bytes());
        len.copy_from_slice(&(self.len as u32).to_be_bytes());
        out
    }

    /// Reads the next record header. `Ok(None)` at the end of the input; a partial header,
    /// an unknown type or an oversized length is an error. `index` is for messages.
    pub fn read(r: &mut impl Read, index: u64) -> Result<Option<Self>> {
        let mut h = [0u8; RECORD_HEADER_LEN];
        let got =
            read_full(r, &mut h).map_err(|e| CliError::io(format!("reading record {index}"), e))?;
        if got == 0 {
            return Ok(None);
        }
        if got != RECORD_HEADER_LEN {
            return Err(CliError::integrity(format!(
                "file is truncated: record {index} header has {got} of {RECORD_HEADER_LEN} bytes"
            )));
        }
        let mut c = Cursor(&h);
        let record_type = c.u8();
        let timestamp = c.u64();
        let len = c.u32() as usize;
        if record_type != RECORD_FRAME && record_type != RECORD_END {
            return Err(CliError::integrity(format!(
                "record {index} has unknown type {record_type}: file corrupted"
            )));
        }
        if len > MAX_RECORD_LEN {
            return Err(CliError::integrity(format!(
                "record {index} claims {len} bytes, more than the {MAX_RECORD_LEN}-byte limit: \
                 file corrupted"
            )));
        }
        Ok(Some(RecordHeader {
            record_type,
            timestamp,
            len,
        }))
    }

    /// Reads the record's SFrame bytes into `buf` (resized).
    pub fn read_body(&self, r: &mut impl Read, buf: &mut Vec<u8>, index: u64) -> Result<()> {
        buf.clear();
        buf.resize(self.len, 0);
        let got =
            read_full(r, buf).map_err(|e| CliError::io(format!("reading record {index}"), e))?;
        if got != self.len {
            return Err(CliError::integrity(format!(
                "file is truncated: record {index} has {got} of {} bytes",
                self.len
            )));
        }
        Ok(())
    }
}

impl RecordHeader {
    /// Reads the first bytes of the record's SFrame data (enough for its SFrame header) into
    /// `head` and skips the rest without buffering it: `inspect` never holds a frame.
    pub fn read_head_skip_rest<'h>(
        &self,
        r: &mut impl Read,
        head: &'h mut [u8; sframe_core::MAX_HEADER_LEN],
        index: u64,
    ) -> Result<&'h [u8]> {
        let n = self.len.min(head.len());
        let head = head.get_mut(..n).unwrap_or_default();
        let err = |e| CliError::io(format!("reading record {index}"), e);
        let got = read_full(r, head).map_err(err)?;
        let rest = (self.len - n) as u64;
        let skipped = if got == n {
            std::io::copy(&mut r.take(rest), &mut std::io::sink()).map_err(err)?
        } else {
            0
        };
        if got != n || skipped != rest {
            return Err(CliError::integrity(format!(
                "file is truncated: record {index} has {} of {} bytes",
                got as u64 + skipped,
                self.len
            )));
        }
        Ok(head)
    }
}

/// Big-endian reader over a slice known to be long enough (missing bytes read as 0).
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        out.iter_mut().zip(head).for_each(|(d, s)| *d = *s);
        self.0 = rest;
        out
    }
    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = FileHeader::new(
            CipherSuite::AesGcm256Sha512,
            0x1234,
            SourceKind::Ivf,
            [7; 16],
            [9; 16],
            {
                let mut v = b"DKIF".to_vec();
                v.resize(32, 1);
                v
            },
        )
        .unwrap();
        assert_eq!(h.bytes.len(), FIXED_HEADER_LEN + 32);
        let back = FileHeader::read(&mut h.bytes.as_slice()).unwrap();
        assert_eq!(back.bytes, h.bytes);
        assert_eq!(back.suite, CipherSuite::AesGcm256Sha512);
        assert_eq!(back.kid, 0x1234);
        assert_eq!(back.source, SourceKind::Ivf);
        assert_eq!((back.file_id, back.key_check), ([7; 16], [9; 16]));
        // Every prefix is refused.
        for cut in 0..h.bytes.len() {
            assert!(
                FileHeader::read(&mut &h.bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn every_suite_survives_the_header_and_fits_the_record_limit() {
        for suite in CipherSuite::ALL {
            let h =
                FileHeader::new(suite, 7, SourceKind::Raw, [1; 16], [2; 16], Vec::new()).unwrap();
            assert_eq!(h.bytes[5..7], suite.id().to_be_bytes());
            let back = FileHeader::read(&mut h.bytes.as_slice()).unwrap();
            assert_eq!(back.suite, suite);
            assert!(
                MAX_FRAME_LEN + suite.max_overhead() <= MAX_RECORD_LEN,
                "{suite}"
            );
        }
        // The limit README.md documents ("at most 64 MiB + 33").
        assert_eq!(MAX_RECORD_LEN, (64 << 20) + 33);
        // A header naming a suite the core does not have is refused, not guessed.
        let mut bytes = FileHeader::new(
            CipherSuite::AesGcm128Sha256,
            7,
            SourceKind::Raw,
            [1; 16],
            [2; 16],
            Vec::new(),
        )
        .unwrap()
        .bytes;
        for unknown in [0u16, 9, u16::MAX] {
            bytes[5..7].copy_from_slice(&unknown.to_be_bytes());
            assert!(
                FileHeader::read(&mut bytes.as_slice()).is_err(),
                "{unknown}"
            );
        }
    }

    #[test]
    fn record_header_round_trip_and_limits() {
        let r = RecordHeader {
            record_type: RECORD_FRAME,
            timestamp: 99,
            len: 1234,
        };
        let enc = r.encode();
        let back = RecordHeader::read(&mut enc.as_slice(), 0).unwrap().unwrap();
        assert_eq!((back.record_type, back.timestamp, back.len), (1, 99, 1234));
        assert!(RecordHeader::read(&mut &[][..], 0).unwrap().is_none());
        assert!(RecordHeader::read(&mut &enc[..5], 0).is_err());
        let mut big = enc;
        big[9..].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(RecordHeader::read(&mut big.as_slice(), 0).is_err());
        let mut bad_type = enc;
        bad_type[0] = 7;
        assert!(RecordHeader::read(&mut bad_type.as_slice(), 0).is_err());
    }
}
