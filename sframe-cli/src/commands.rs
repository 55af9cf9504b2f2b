//! `encrypt`, `decrypt` and `inspect`: streaming, one frame in memory at a time.

use std::io::Write;
use std::path::Path;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sframe_core::{CipherSuite, Error as SframeError, Header, MAX_HEADER_LEN, Receiver, Sender};

use crate::container::{
    END_PAYLOAD_LEN, FileHeader, RECORD_END, RECORD_FRAME, RECORD_HEADER_LEN, RecordHeader,
};
use crate::error::{CliError, Result};
use crate::keys::{self, FILE_ID_LEN, FileKeys};
use crate::media::{self, FrameReader, SourceKind};
use crate::output::{AtomicOutput, open_input};

/// Options shared by `encrypt` and `decrypt`.
pub struct Job<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub force: bool,
    pub progress: Progress,
}

/// How to show progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Off,
    /// An animated bar on the terminal (stderr).
    Bar,
    /// Plain lines on stderr about once a second, for logs (`--progress` without a terminal).
    Lines,
}

/// A progress display: an indicatif bar, plain lines, or nothing.
enum Meter {
    Off,
    Bar(ProgressBar),
    Lines {
        verb: &'static str,
        total: u64,
        done: u64,
        started: Instant,
        last: Instant,
    },
}

impl Meter {
    fn new(progress: Progress, total: u64, verb: &'static str) -> Meter {
        match progress {
            Progress::Off => Meter::Off,
            Progress::Bar => {
                let bar = ProgressBar::new(total).with_prefix(verb);
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix} {bar:40} {binary_bytes}/{binary_total_bytes} \
                     {binary_bytes_per_sec} eta {eta}",
                ) {
                    bar.set_style(style);
                }
                Meter::Bar(bar)
            }
            Progress::Lines => Meter::Lines {
                verb,
                total,
                done: 0,
                started: Instant::now(),
                last: Instant::now(),
            },
        }
    }

    fn inc(&mut self, n: u64) {
        match self {
            Meter::Off => {}
            Meter::Bar(bar) => bar.inc(n),
            Meter::Lines {
                verb,
                total,
                done,
                started,
                last,
            } => {
                *done += n;
                if last.elapsed() >= Duration::from_secs(1) {
                    *last = Instant::now();
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    eprintln!(
                        "{verb}: {}% ({} of {} MB, {:.1} MB/s)",
                        done.saturating_mul(100) / (*total).max(1),
                        *done / 1_000_000,
                        *total / 1_000_000,
                        *done as f64 / 1e6 / secs
                    );
                }
            }
        }
    }

    fn finish(self) {
        if let Meter::Bar(bar) = self {
            bar.finish();
        }
    }
}

/// Which format to read for `encrypt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// IVF if the file starts with `DKIF`, raw otherwise.
    Auto,
    /// IVF: `DKIF` file header, then per frame a 12-byte header (u32 LE size, u64 LE timestamp).
    Ivf,
    /// Raw: per frame a u32 big-endian length and that many bytes.
    Raw,
}

fn detect(input: &Path, format: InputFormat) -> Result<SourceKind> {
    Ok(match format {
        InputFormat::Ivf => SourceKind::Ivf,
        InputFormat::Raw => SourceKind::Raw,
        InputFormat::Auto => {
            let (mut r, _) = open_input(input)?;
            let mut magic = [0u8; 4];
            let n = media::read_full(&mut r, &mut magic)
                .map_err(|e| CliError::io(format!("reading {}", input.display()), e))?;
            if n == 4 && &magic == b"DKIF" {
                SourceKind::Ivf
            } else {
                SourceKind::Raw
            }
        }
    })
}

/// Summary of a finished `encrypt` / `decrypt`.
pub struct Stats {
    pub frames: u64,
    pub payload_bytes: u64,
}

pub fn encrypt(
    job: &Job,
    master_key: &[u8],
    suite: CipherSuite,
    kid: u64,
    format: InputFormat,
) -> Result<Stats> {
    let kind = detect(job.input, format)?;
    let (input, input_len) = open_input(job.input)?;
    let (mut frames, source_header) = FrameReader::open(input, kind)?;

    let mut file_id = [0u8; FILE_ID_LEN];
    keys::random(&mut file_id)?;
    let file_keys = FileKeys::derive(master_key, &file_id)?;
    let header = FileHeader::new(
        suite,
        kid,
        kind,
        file_id,
        file_keys.key_check,
        source_header,
    )?;
    let mut sender = Sender::new(suite);
    sender
        .set_key(kid, file_keys.base_key.as_ref())
        .map_err(|e| CliError::usage(format!("cannot use this key: {}", e.message())))?;

    let mut out = AtomicOutput::create(job.input, job.output, job.force)?;
    let out_ctx = || format!("writing {}", job.output.display());
    out.writer()
        .write_all(&header.bytes)
        .map_err(|e| CliError::io(out_ctx(), e))?;

    let mut bar = Meter::new(job.progress, input_len, "encrypting");
    bar.inc(header.source_header.len() as u64);
    // One buffer: the frame is read into it and protected in place (the SFrame header
    // shifts the ciphertext right, so it gets room for the suite's overhead).
    let (mut buf, mut meta) = (Vec::new(), Vec::new());
    let mut stats = Stats {
        frames: 0,
        payload_bytes: 0,
    };
    let mut seal = |record_type: u8, timestamp: u64, index: u64, buf: &mut Vec<u8>| {
        header.metadata(&mut meta, record_type, index, timestamp);
        let plain_len = buf.len();
        buf.resize(sender.max_output_len(plain_len), 0);
        let n = sender
            .protect_in_place(&meta, buf, plain_len)
            .map_err(|e| CliError::input(format!("frame {index}: {}", e.message())))?
            .len();
        buf.truncate(n);
        let rh = RecordHeader {
            record_type,
            timestamp,
            len: n,
        };
        let w = out.writer();
        w.write_all(&rh.encode())
            .and_then(|()| w.write_all(buf))
            .map_err(|e| CliError::io(out_ctx(), e))
    };
    while let Some(frame) = frames.next_frame(&mut buf)? {
        stats.payload_bytes += buf.len() as u64;
        seal(RECORD_FRAME, frame.timestamp, stats.frames, &mut buf)?;
        stats.frames += 1;
        bar.inc(frame.input_len);
    }
    let mut end = Vec::with_capacity(END_PAYLOAD_LEN);
    end.extend_from_slice(&stats.frames.to_be_bytes());
    end.extend_from_slice(&stats.payload_bytes.to_be_bytes());
    seal(RECORD_END, 0, stats.frames, &mut end)?;
    bar.finish();
    out.commit()?;
    Ok(stats)
}

pub fn decrypt(job: &Job, master_key: &[u8]) -> Result<Stats> {
    let (mut input, input_len) = open_input(job.input)?;
    let header = FileHeader::read(&mut input)?;
    let file_keys = FileKeys::derive(master_key, &header.file_id)?;
    if !file_keys.matches(&header.key_check) {
        return Err(CliError::integrity(
            "wrong key: this recording was encrypted with a different key \
             (or its header was altered)",
        ));
    }
    let mut receiver = Receiver::new(header.suite);
    receiver
        .add_key(header.kid, file_keys.base_key.as_ref())
        .map_err(|e| CliError::usage(format!("cannot use this key: {}", e.message())))?;

    let mut out = AtomicOutput::create(job.input, job.output, job.force)?;
    let out_ctx = || format!("writing {}", job.output.display());
    out.writer()
        .write_all(&header.source_header)
        .map_err(|e| CliError::io(out_ctx(), e))?;

    let mut bar = Meter::new(job.progress, input_len, "decrypting");
    bar.inc(header.bytes.len() as u64);
    let (mut buf, mut meta) = (Vec::new(), Vec::new());
    let mut stats = Stats {
        frames: 0,
        payload_bytes: 0,
    };
    loop {
        let index = stats.frames;
        let Some(rh) = RecordHeader::read(&mut input, index)? else {
            return Err(CliError::integrity(format!(
                "file is truncated: it ends after {index} frames without its end record"
            )));
        };
        rh.read_body(&mut input, &mut buf, index)?;
        check_sframe_header(&header, &buf, index)?;
        header.metadata(&mut meta, rh.record_type, index, rh.timestamp);
        let plain = receiver
            .unprotect_in_place(&meta, &mut buf)
            .map_err(|e| match e {
                SframeError::AuthenticationFailed => CliError::integrity(format!(
                    "record {index} failed authentication: the file was tampered with or corrupted"
                )),
                other => CliError::integrity(format!("record {index}: {}", other.message())),
            })?;
        bar.inc((RECORD_HEADER_LEN + rh.len) as u64);
        if rh.record_type == RECORD_END {
            check_end(plain, &stats)?;
            break;
        }
        media::write_frame(out.writer(), header.source, rh.timestamp, plain)
            .map_err(|e| CliError::io(out_ctx(), e))?;
        stats.frames += 1;
        stats.payload_bytes += plain.len() as u64;
    }
    let mut extra = [0u8; 1];
    if media::read_full(&mut input, &mut extra).map_err(|e| CliError::io("reading input", e))? != 0
    {
        return Err(CliError::integrity(
            "unexpected data after the end record: the file was tampered with",
        ));
    }
    bar.finish();
    out.commit()?;
    Ok(stats)
}

/// Key ID and counter checks before decryption, for precise messages (the counter is also
/// authenticated, so these only turn a generic authentication failure into a clear one).
fn check_sframe_header(header: &FileHeader, sframe: &[u8], index: u64) -> Result<()> {
    let (h, _) = Header::parse(sframe).map_err(|_| {
        CliError::integrity(format!(
            "record {index}: malformed SFrame header: file corrupted"
        ))
    })?;
    if h.key_id() != header.kid {
        return Err(CliError::integrity(format!(
            "record {index}: key ID {} where the file header says {}: file tampered with",
            h.key_id(),
            header.kid
        )));
    }
    if h.counter() != index {
        return Err(CliError::integrity(format!(
            "record {index}: frame counter {} where {index} was expected: frames were dropped, \
             duplicated or reordered",
            h.counter()
        )));
    }
    Ok(())
}

fn check_end(plain: &[u8], stats: &Stats) -> Result<()> {
    let mut count = [0u8; 8];
    let mut bytes = [0u8; 8];
    if plain.len() == END_PAYLOAD_LEN {
        count.copy_from_slice(&plain[..8]);
        bytes.copy_from_slice(&plain[8..]);
    }
    if plain.len() != END_PAYLOAD_LEN
        || u64::from_be_bytes(count) != stats.frames
        || u64::from_be_bytes(bytes) != stats.payload_bytes
    {
        return Err(CliError::integrity(
            "the end record does not match the frames read: file tampered with",
        ));
    }
    Ok(())
}

/// What `inspect` found.
pub struct InspectSummary {
    pub problems: u64,
}

/// Prints what a server without the key can see. Returns an error for structural damage
/// (truncation, bad records); counter or key ID anomalies are printed and counted.
pub fn inspect(path: &Path, per_frame: bool, w: &mut impl Write) -> Result<InspectSummary> {
    let (mut input, file_len) = open_input(path)?;
    let header = FileHeader::read(&mut input)?;
    let suite = header.suite;
    let tag_len = suite.tag_len();
    let out_err = |e| CliError::io("writing to stdout", e);
    let hex: String = header.file_id.iter().map(|b| format!("{b:02x}")).collect();
    writeln!(w, "file:        {}", path.display()).map_err(out_err)?;
    writeln!(w, "container:   sframe recording v1, {} bytes", file_len).map_err(out_err)?;
    writeln!(w, "suite:       {} (0x{:04x})", suite.name(), suite.id()).map_err(out_err)?;
    writeln!(w, "key id:      {}", header.kid).map_err(out_err)?;
    writeln!(w, "file id:     {hex}").map_err(out_err)?;
    let source = match header.source {
        SourceKind::Ivf => format!(
            "IVF ({})",
            media::describe_ivf_header(&header.source_header)
        ),
        SourceKind::Raw => SourceKind::Raw.name().to_string(),
    };
    writeln!(w, "source:      {source}").map_err(out_err)?;
    if per_frame {
        writeln!(
            w,
            "{:>8} {:>5} {:>20} {:>6} {:>10} {:>4} {:>10} {:>3} {:>10} {:>8}",
            "record",
            "type",
            "timestamp",
            "kid",
            "ctr",
            "hdr",
            "payload",
            "tag",
            "sframe",
            "overhead"
        )
        .map_err(out_err)?;
    }
    let mut head_buf = [0u8; MAX_HEADER_LEN];
    let (mut frames, mut payload, mut sframe_total, mut problems) = (0u64, 0u64, 0u64, 0u64);
    let mut frame_overhead = 0u64;
    let mut index = 0u64;
    let mut ended = false;
    while let Some(rh) = RecordHeader::read(&mut input, index)? {
        if ended {
            return Err(CliError::integrity(format!(
                "record {index} follows the end record: file tampered with"
            )));
        }
        let head = rh.read_head_skip_rest(&mut input, &mut head_buf, index)?;
        let (h, hlen) = Header::parse(head)
            .map_err(|_| CliError::integrity(format!("record {index}: malformed SFrame header")))?;
        let body = rh.len.checked_sub(hlen + tag_len).ok_or_else(|| {
            CliError::integrity(format!("record {index}: shorter than header plus tag"))
        })?;
        let is_end = rh.record_type == RECORD_END;
        let mut note = String::new();
        if h.key_id() != header.kid {
            note.push_str(" !kid differs from file header");
        }
        if h.counter() != index {
            note.push_str(" !counter out of sequence (dropped/reordered frames)");
        }
        if is_end && body != END_PAYLOAD_LEN {
            note.push_str(" !bad end record size");
        }
        if !note.is_empty() {
            problems += 1;
        }
        if per_frame || !note.is_empty() {
            let (kind, ts) = if is_end {
                ("end", "-".to_string())
            } else {
                ("frame", rh.timestamp.to_string())
            };
            writeln!(
                w,
                "{index:>8} {kind:>5} {ts:>20} {:>6} {:>10} {hlen:>4} {body:>10} {tag_len:>3} {:>10} {:>8}{note}",
                h.key_id(),
                h.counter(),
                rh.len,
                hlen + tag_len
            )
            .map_err(out_err)?;
        }
        sframe_total += rh.len as u64;
        if is_end {
            ended = true;
        } else {
            frames += 1;
            payload += body as u64;
            frame_overhead += (hlen + tag_len) as u64;
        }
        index += 1;
    }
    let pct = |n: u64| {
        if payload == 0 {
            0.0
        } else {
            n as f64 * 100.0 / payload as f64
        }
    };
    let per_frame_avg = if frames == 0 {
        0.0
    } else {
        frame_overhead as f64 / frames as f64
    };
    let total = file_len.saturating_sub(payload);
    writeln!(w, "totals:").map_err(out_err)?;
    writeln!(w, "  frames:            {frames}").map_err(out_err)?;
    writeln!(w, "  payload bytes:     {payload}").map_err(out_err)?;
    writeln!(
        w,
        "  sframe bytes:      {sframe_total} (all records, end record included)"
    )
    .map_err(out_err)?;
    writeln!(
        w,
        "  sframe overhead:   {frame_overhead} bytes in frames ({per_frame_avg:.2} per frame, \
         {:.3}% of payload: SFrame header + tag)",
        pct(frame_overhead)
    )
    .map_err(out_err)?;
    writeln!(
        w,
        "  file overhead:     {total} bytes ({:.3}% of payload: file header, record headers, \
         SFrame overhead, end record)",
        pct(total)
    )
    .map_err(out_err)?;
    if !ended {
        return Err(CliError::integrity(format!(
            "file is truncated: no end record after {frames} frames"
        )));
    }
    writeln!(w, "  end record:        present").map_err(out_err)?;
    if problems > 0 {
        writeln!(w, "  problems:          {problems} (see lines marked !)").map_err(out_err)?;
    }
    Ok(InspectSummary { problems })
}
