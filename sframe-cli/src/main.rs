//! `sframe`: end-to-end encrypted media recordings with RFC 9605 SFrame.
//!
//! Encrypts an IVF video file or a length-prefixed raw frame stream frame by frame into a
//! container that a server can store and serve (frame boundaries and timestamps stay in the
//! clear) without being able to read it; `decrypt` restores the original bytes exactly and
//! `inspect` shows what the server sees. The container format is specified in README.md.

mod commands;
mod container;
mod error;
mod keys;
mod media;
mod output;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sframe_core::CipherSuite;
use zeroize::Zeroizing;

use crate::commands::{InputFormat, Job, Progress};
use crate::error::{CliError, Result};

/// End-to-end encrypted media recordings with RFC 9605 SFrame.
///
/// Exit codes: 0 success, 1 input/I-O error, 2 usage error, 3 wrong key or damaged file
/// (tampered, truncated, reordered or dropped frames).
#[derive(Parser)]
#[command(name = "sframe", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a fresh random 32-byte key as base64url without padding (fits a URL fragment).
    Keygen,
    /// Encrypt an IVF file or raw frame stream frame by frame into an sframe recording.
    Encrypt {
        /// The recording to encrypt (IVF, or u32 big-endian length-prefixed frames).
        input: PathBuf,
        /// Where to write the encrypted recording.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// Cipher suite: a registry name (AES_128_GCM_SHA256_128, ...) or its number (1-8: RFC
        /// 9605's 1-5 and draft-barnes-sframe-iana-256's AES_256_CTR_HMAC_SHA512_* 6-8).
        #[arg(long, default_value = "AES_128_GCM_SHA256_128", value_parser = parse_suite)]
        suite: CipherSuite,
        /// SFrame key ID written in every frame header.
        #[arg(long, default_value_t = 0)]
        kid: u64,
        /// Input format.
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        format: InputFormat,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Decrypt an sframe recording back to the exact original file.
    Decrypt {
        /// The encrypted recording.
        input: PathBuf,
        /// Where to write the original file (written only if the whole file verifies).
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Show what a server sees without the key: each frame's KID, CTR, sizes and overhead.
    Inspect {
        /// The encrypted recording.
        input: PathBuf,
        /// Print only the file header and totals, not one line per frame.
        #[arg(long)]
        summary: bool,
    },
}

#[derive(Args)]
struct KeyArgs {
    /// The key, base64url (visible to other local users in the process list; prefer
    /// --key-file or the SFRAME_KEY environment variable, used when neither option is given).
    #[arg(long, conflicts_with = "key_file")]
    key: Option<String>,
    /// A file holding the key as base64url.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

#[derive(Args)]
struct CommonArgs {
    /// Replace the output file if it exists (never the input).
    #[arg(long)]
    force: bool,
    /// Show progress even when stderr is not a terminal (as plain lines, about one a second).
    /// On a terminal a progress bar is shown by default.
    #[arg(long, conflicts_with = "quiet")]
    progress: bool,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,
}

impl CommonArgs {
    fn job<'a>(&self, input: &'a Path, output: &'a Path) -> Job<'a> {
        Job {
            input,
            output,
            force: self.force,
            progress: match (self.quiet, self.progress, std::io::stderr().is_terminal()) {
                (true, _, _) => Progress::Off,
                (false, _, true) => Progress::Bar,
                (false, true, false) => Progress::Lines,
                (false, false, false) => Progress::Off,
            },
        }
    }
}

fn parse_suite(s: &str) -> std::result::Result<CipherSuite, String> {
    let by_id = s
        .parse::<u16>()
        .ok()
        .and_then(|n| CipherSuite::from_id(n).ok());
    by_id
        .or_else(|| CipherSuite::from_name(&s.to_ascii_uppercase()).ok())
        .ok_or_else(|| {
            let names: Vec<&str> = CipherSuite::ALL.iter().map(|c| c.name()).collect();
            let ids: Vec<u16> = CipherSuite::ALL.iter().map(|c| c.id()).collect();
            format!(
                "unknown cipher suite; use {}-{} or one of {}",
                ids.first().copied().unwrap_or_default(),
                ids.last().copied().unwrap_or_default(),
                names.join(", ")
            )
        })
}

fn master_key(args: &KeyArgs) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(path) = &args.key_file {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!("reading key file {}: {e}", path.display()))
            })?);
        return keys::decode(&text, &format!("key file {}", path.display()));
    }
    if let Some(k) = &args.key {
        return keys::decode(k, "--key");
    }
    match std::env::var("SFRAME_KEY") {
        Ok(k) => keys::decode(&Zeroizing::new(k), "SFRAME_KEY"),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(CliError::usage("SFRAME_KEY is not valid base64url"))
        }
        Err(std::env::VarError::NotPresent) => Err(CliError::usage(
            "no key given: pass --key-file FILE, --key KEY or set SFRAME_KEY (make one with \
             `sframe keygen`)",
        )),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen => {
            println!("{}", keys::generate()?);
        }
        Command::Encrypt {
            input,
            output,
            key,
            suite,
            kid,
            format,
            common,
        } => {
            let master = master_key(&key)?;
            let stats =
                commands::encrypt(&common.job(&input, &output), &master, suite, kid, format)?;
            if !common.quiet {
                eprintln!(
                    "encrypted {} frames ({} payload bytes) to {}",
                    stats.frames,
                    stats.payload_bytes,
                    output.display()
                );
            }
        }
        Command::Decrypt {
            input,
            output,
            key,
            common,
        } => {
            let master = master_key(&key)?;
            let stats = commands::decrypt(&common.job(&input, &output), &master)?;
            if !common.quiet {
                eprintln!(
                    "decrypted and verified {} frames ({} payload bytes) to {}",
                    stats.frames,
                    stats.payload_bytes,
                    output.display()
                );
            }
        }
        Command::Inspect { input, summary } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let result = commands::inspect(&input, !summary, &mut out);
            std::io::Write::flush(&mut out).map_err(|e| CliError::io("writing to stdout", e))?;
            let found = result?;
            if found.problems > 0 {
                return Err(CliError::integrity(format!(
                    "{} records out of sequence or with a foreign key ID",
                    found.problems
                )));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sframe: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
