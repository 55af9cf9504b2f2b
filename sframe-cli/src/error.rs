//! Errors of the command-line tool and their exit codes.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | input or I/O problem: unreadable file, not an IVF / raw stream / sframe recording, frame too large |
//! | 2 | usage: bad arguments, malformed key, output exists, output is the input |
//! | 3 | integrity: wrong key, tampered, truncated, reordered or dropped frames |

use std::fmt;

/// What went wrong, which decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unreadable or malformed input, or a failed write.
    Input,
    /// Bad arguments or key.
    Usage,
    /// The recording fails verification (wrong key, tampering, truncation, reordering).
    Integrity,
}

/// An error with a message meant for the person at the terminal.
#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    msg: String,
}

impl CliError {
    pub fn input(msg: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Input,
            msg: msg.into(),
        }
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Usage,
            msg: msg.into(),
        }
    }

    pub fn integrity(msg: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Integrity,
            msg: msg.into(),
        }
    }

    /// An I/O error, with what was being done (`"reading in.ivf"`).
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        CliError::input(format!("{context}: {err}"))
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Input => 1,
            Kind::Usage => 2,
            Kind::Integrity => 3,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

pub type Result<T> = std::result::Result<T, CliError>;
