//! Files in and out: the output appears only complete, never in place of the input.
//!
//! The output is written to a hidden temporary file in the output's directory and renamed
//! over the output path only after everything was written and synced. On any error the
//! temporary file is removed, so a failed `decrypt` never leaves a partial plaintext behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{CliError, Result};

const BUF_LEN: usize = 256 << 10;

/// Opens the input for buffered reading; returns the reader and the input's size.
pub fn open_input(path: &Path) -> Result<(std::io::BufReader<File>, u64)> {
    let file =
        File::open(path).map_err(|e| CliError::io(format!("opening {}", path.display()), e))?;
    let len = file
        .metadata()
        .map_err(|e| CliError::io(format!("reading {}", path.display()), e))?
        .len();
    Ok((std::io::BufReader::with_capacity(BUF_LEN, file), len))
}

/// An output being written; call [`AtomicOutput::commit`] to publish it.
pub struct AtomicOutput {
    writer: BufWriter<NamedTempFile>,
    path: PathBuf,
}

impl AtomicOutput {
    /// Checks that `output` is not `input` and (unless `force`) does not exist, and opens a
    /// temporary file next to it.
    pub fn create(input: &Path, output: &Path, force: bool) -> Result<Self> {
        if same_file(input, output) {
            return Err(CliError::usage(format!(
                "refusing to write {} over the input; choose another output path",
                output.display()
            )));
        }
        if !force && output.symlink_metadata().is_ok() {
            return Err(CliError::usage(format!(
                "{} already exists; pass --force to replace it",
                output.display()
            )));
        }
        let dir = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".sframe-")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| {
                CliError::io(format!("creating a temporary file in {}", dir.display()), e)
            })?;
        Ok(AtomicOutput {
            writer: BufWriter::with_capacity(BUF_LEN, tmp),
            path: output.to_path_buf(),
        })
    }

    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.writer
    }

    /// Flushes, syncs and renames the temporary file to the output path.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let ctx = |e| CliError::io(format!("writing {}", path.display()), e);
        let tmp = self.writer.into_inner().map_err(|e| ctx(e.into_error()))?;
        tmp.as_file().sync_all().map_err(ctx)?;
        tmp.persist(&path).map_err(|e| ctx(e.error))?;
        Ok(())
    }
}

/// Whether two paths name the same existing file (also through links and `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (a.metadata(), b.metadata()) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(ca), Ok(cb)) => ca == cb,
        _ => false,
    }
}
