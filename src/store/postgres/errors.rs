//! PostgreSQL failures turned into messages for people: what is wrong and
//! what to do, never SQL text.

use tokio_postgres::error::SqlState;

use super::Fault;
use super::conninfo::Target;
use crate::error::{Error, StoreFault};

pub(super) fn connect_failure(target: &Target, e: &tokio_postgres::Error) -> Error {
    let shown = &target.shown;
    let user = target.config.get_user().unwrap_or_default();
    let message = match e.code() {
        Some(code) if *code == SqlState::INVALID_PASSWORD => format!(
            "password authentication failed for user {user} at {shown}; check the password \
             (in the URL, PGPASSWORD or ~/.pgpass)"
        ),
        Some(code) if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
            "the PostgreSQL server at {shown} refused user {user}: {}",
            e.as_db_error().map_or("", |d| d.message())
        ),
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => format!(
            "the database of {shown} does not exist; create it first (createdb {})",
            target.config.get_dbname().unwrap_or_default()
        ),
        Some(code) if *code == SqlState::TOO_MANY_CONNECTIONS => {
            format!("the PostgreSQL server at {shown} has too many connections; try again")
        }
        _ => {
            let cause = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            if cause.to_ascii_lowercase().contains("password missing") {
                format!(
                    "the PostgreSQL server at {shown} asks for a password; give it in the URL, \
                     PGPASSWORD or ~/.pgpass"
                )
            } else if is_tls_failure(e) {
                format!(
                    "cannot set up TLS with the PostgreSQL server at {shown}: {cause}; \
                     check sslmode and sslrootcert"
                )
            } else {
                let hint = match io_error_kind(e) {
                    Some(std::io::ErrorKind::ConnectionRefused) => {
                        "; is the server running and listening on that host and port?"
                    }
                    Some(std::io::ErrorKind::NotFound) => {
                        "; no server socket there: is the server running? \
                         Name its host in the URL or in PGHOST"
                    }
                    _ => "",
                };
                format!("cannot connect to the PostgreSQL store {shown}: {cause}{hint}")
            }
        }
    };
    Error::store(StoreFault::Unavailable, message)
}

pub(super) fn io_error_kind(e: &tokio_postgres::Error) -> Option<std::io::ErrorKind> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

pub(super) fn is_tls_failure(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        source = s.source();
    }
    e.to_string().contains("TLS")
}

/// Turns a failure into a message for people: what is wrong and what to
/// do, never SQL text.
pub(super) fn failure(shown: &str, fault: Fault) -> Error {
    let e = match fault {
        Fault::Said(error) => return error,
        Fault::Damaged => {
            return Error::store(
                StoreFault::Damaged,
                format!(
                    "the PostgreSQL store {shown} holds a row keysmith did not write; \
                 restore it from a backup"
                ),
            );
        }
        Fault::Postgres(e) => e,
    };
    let Some(code) = e.code() else {
        return Error::store(
            StoreFault::Unavailable,
            format!("lost the connection to the PostgreSQL store {shown}; try again"),
        );
    };
    let detail = e.as_db_error().map_or("", |d| d.message());
    let (fault, message) = if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL user may not do this in {shown} ({detail}); \
             ask the database owner for rights on keysmith's tables"
            ),
        )
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL store {shown} is read-only (a standby?); point --db at the primary"
            ),
        )
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        (
            StoreFault::Busy,
            format!("the PostgreSQL store {shown} was busy with a conflicting change; try again"),
        )
    } else if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE {
        return Error::Usage(format!(
            "text with a NUL byte cannot be stored in the PostgreSQL store {shown}; nothing was written"
        ));
    } else if *code == SqlState::INVALID_SCHEMA_NAME {
        (
            StoreFault::Unavailable,
            format!(
                "the database of {shown} has no schema to keep keysmith's tables in; \
                 check its search_path"
            ),
        )
    } else if code.code().starts_with("53") || code.code().starts_with("57") {
        (
            StoreFault::Unavailable,
            format!(
                "the PostgreSQL server of {shown} cannot serve now ({detail}); try again later"
            ),
        )
    } else {
        (
            StoreFault::Damaged,
            format!(
                "the PostgreSQL store {shown} could not be used (SQLSTATE {}); \
                 its tables may have been changed by hand",
                code.code()
            ),
        )
    };
    Error::store(fault, message)
}

pub(super) fn not_a_store(shown: &str) -> Error {
    Error::store(
        StoreFault::Foreign,
        format!(
            "{shown} is not a keysmith store: its schema holds other tables; it was left unchanged. \
         Use an empty database, or a schema of keysmith's own (options=-csearch_path%3Dkeysmith)"
        ),
    )
}
