//! SQLite failures turned into messages for people: what is wrong with the
//! store and what to do, never SQL text.

use rusqlite::ErrorCode;

use crate::error::{Error, StoreFault};

pub(super) fn not_a_store(shown: &str) -> Error {
    Error::store(
        StoreFault::Foreign,
        format!(
            "{shown} is not a keysmith store (or its header is damaged: restore it from a backup); \
         it was left unchanged. Point --db at a keysmith store or a new path"
        ),
    )
}

/// Turns a SQLite failure into a message for people: what is wrong with the
/// store and what to do, never SQL text.
pub(super) fn failure(shown: &str, e: &rusqlite::Error) -> Error {
    let code = e.sqlite_error_code();
    let fault = match code {
        Some(ErrorCode::NotADatabase) => return not_a_store(shown),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreFault::Busy,
        Some(
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure,
        ) => StoreFault::Unavailable,
        _ => StoreFault::Damaged,
    };
    let message = match code {
        Some(ErrorCode::DatabaseCorrupt) => format!(
            "the store {shown} is damaged; restore it from a backup (keysmith backup makes one)"
        ),
        Some(ErrorCode::ReadOnly) => {
            format!("the store {shown} is read-only for this user; check its permissions")
        }
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            format!("cannot open the store {shown}; check the path and its permissions")
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            format!("the store {shown} stayed busy; another process holds it, try again")
        }
        Some(ErrorCode::DiskFull) => format!("the disk holding the store {shown} is full"),
        Some(ErrorCode::SystemIoFailure) => {
            format!("cannot read or write the store {shown} (I/O error)")
        }
        _ => format!(
            "the store {shown} could not be used (SQLite error {}); it may be damaged, restore it from a backup",
            match e {
                rusqlite::Error::SqliteFailure(f, _) => f.extended_code.to_string(),
                _ => "in reading a row".to_owned(),
            }
        ),
    };
    Error::store(fault, message)
}
