//! One error type for the whole crate; `exit_code` is the only table of codes.

use std::io;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Usage error or invalid input (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The selector matches nothing, or a name matches several keys (exit 3).
    #[error("{0}")]
    NoSuchKey(String),
    /// The store cannot be used (exit 4). The text never holds SQL or a secret.
    #[error("{0}")]
    Store(String),
    /// New keys could not be written out, so they were taken back (exit 2):
    /// unlike any other failed write, never a quiet end, even on a closed pipe.
    #[error("{0}")]
    Undelivered(String),
    /// The user declined a confirmation; nothing changed (exit 1).
    #[error("cancelled: nothing was changed")]
    Declined,
    /// Writing output or reading input failed.
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Declined => 1,
            Error::Usage(_) | Error::Undelivered(_) | Error::Io { .. } => 2,
            Error::NoSuchKey(_) => 3,
            Error::Store(_) => 4,
        }
    }

    /// A closed pipe (`keysmith list | head`) is a reader's choice, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }

    pub fn output(source: io::Error) -> Self {
        Error::Io {
            context: "cannot write output",
            source,
        }
    }

    pub fn input(source: io::Error) -> Self {
        Error::Io {
            context: "cannot read input",
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
