//! One error type for the whole crate; `exit_code` is the only table of codes.

use std::io;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Usage error or invalid input (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Something other than the store failed the command (exit 2, as a
    /// usage error): `kind` says what, for a caller to tell them apart.
    #[error("{message}")]
    Failed { kind: Failure, message: String },
    /// The selector matches nothing, or a name matches several keys (exit 3).
    #[error("{0}")]
    NoSuchKey(String),
    /// The store cannot be used (exit 4). The message never holds SQL or a
    /// secret; `fault` says which kind of failure it is.
    #[error("{message}")]
    Store { fault: StoreFault, message: String },
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
            Error::Usage(_) | Error::Failed { .. } | Error::Undelivered(_) | Error::Io { .. } => 2,
            Error::NoSuchKey(_) => 3,
            Error::Store { .. } => 4,
        }
    }

    pub fn store(fault: StoreFault, message: impl Into<String>) -> Self {
        Error::Store {
            fault,
            message: message.into(),
        }
    }

    /// Which kind of store failure this is, if it is one: a caller may retry
    /// a busy store, and alert on a damaged one.
    pub fn store_fault(&self) -> Option<StoreFault> {
        match self {
            Error::Store { fault, .. } => Some(*fault),
            _ => None,
        }
    }

    pub fn failed(kind: Failure, message: impl Into<String>) -> Self {
        Error::Failed {
            kind,
            message: message.into(),
        }
    }

    /// Which kind of failure other than the store's this is, if it is one.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            Error::Failed { kind, .. } => Some(*kind),
            _ => None,
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

/// What kind of failure made a store unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFault {
    /// Another process held the store longer than the busy timeout, or a
    /// change conflicted with another: try again.
    Busy,
    /// The store is damaged: corrupt pages, rows keysmith cannot have
    /// written. Restore it from a backup.
    Damaged,
    /// Not a keysmith store: another program's file or database, a device,
    /// a folder. It was left unchanged.
    Foreign,
    /// Written by a newer keysmith; it was left unchanged.
    NewerSchema,
    /// Nothing is there (a PostgreSQL database without keysmith's schema):
    /// a command that only reads or changes keys makes no store (docs/src/store.md).
    Missing,
    /// Cannot be reached or used now: permission denied, a
    /// server down or a connection lost, a full disk.
    Unavailable,
}

/// What failed a command, when it was neither its input nor the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A file or folder could not be read or written: a backup, a
    /// `create --from` file, a scanned path, the manual pages, a
    /// configuration file, the access log.
    File,
    /// A configuration file was read but is not valid.
    Config,
    /// An address or a unix socket could not be listened on.
    Listen,
    /// `serve`'s TLS certificate or key cannot be used.
    Tls,
    /// The process could not start what it needs: the HTTP runtime, a
    /// thread, its signal handlers.
    Runtime,
    /// A new key would reach nobody (stdout is `/dev/null`, no clipboard
    /// to copy it to): nothing was created.
    Delivery,
    /// `serve` stopped with uses it could not write to the store.
    UsesNotWritten,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure's kind is told apart without changing its exit code
    /// (docs/src/exit-codes.md: 2, as before kinds were given).
    #[test]
    fn failures_have_kinds_and_keep_exit_2() {
        let e = Error::failed(Failure::Listen, "cannot listen on 127.0.0.1:1: in use");
        assert_eq!(e.failure(), Some(Failure::Listen));
        assert_eq!(e.store_fault(), None);
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.to_string(), "cannot listen on 127.0.0.1:1: in use");
        assert_eq!(Error::Usage("bad".into()).failure(), None);
    }
}
