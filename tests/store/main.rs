//! The store conformance suite: every promise of the `Store` and
//! `Transaction` interfaces (src/store/mod.rs) and of the operations written
//! over them (src/lifecycle/, src/verify/), checked in-process through the
//! library API, once, against every backend.
//!
//! Each check is a function of a `Backend` (a fresh, empty store location and
//! the means to open stores on it); the `conformance!` list at the end of
//! each module makes one `#[test]` of it per backend: `MODULE::sqlite::CHECK`
//! on a temporary SQLite file, always, and `MODULE::postgres::CHECK` on a
//! fresh database of the server `KEYSMITH_TEST_POSTGRES` names. When that
//! variable was unset at build time (`build.rs` then sets
//! `cfg(keysmith_no_test_postgres)`), the PostgreSQL tests are reported as
//! ignored, with the reason, instead of passing without testing anything.
//!
//! A check reads or writes SQL itself only to look at the raw state (that
//! only a hash is stored, that uses are gone) or to set up a hostile one
//! (a table that refuses writes).

/// One `#[test]` per backend for each check named, in `sqlite` and
/// `postgres` submodules of the calling module. A check known to fail on a
/// backend because of a bug in src/ carries the reason for that backend:
/// `check [sqlite: "bug: ..."]` (or `[postgres: ...]`, or both); its test
/// there is ignored with that reason, and runs with `--ignored`.
macro_rules! conformance {
    ($($check:ident $([$($bug:tt)*])?),* $(,)?) => {
        mod sqlite {
            $( conformance!(@sqlite $check $($($bug)*)?); )*
        }
        mod postgres {
            $( conformance!(@postgres $check $($($bug)*)?); )*
        }
    };

    (@sqlite $check:ident) => {
        #[test]
        fn $check() {
            super::$check(&crate::backend::Backend::sqlite());
        }
    };
    (@sqlite $check:ident sqlite: $bug:literal $(, postgres: $_pg:literal)?) => {
        #[test]
        #[ignore = $bug]
        fn $check() {
            super::$check(&crate::backend::Backend::sqlite());
        }
    };
    (@sqlite $check:ident postgres: $_pg:literal) => {
        conformance!(@sqlite $check);
    };

    (@postgres $check:ident) => {
        #[test]
        #[cfg_attr(
            keysmith_no_test_postgres,
            ignore = "needs a PostgreSQL server: set KEYSMITH_TEST_POSTGRES (README, Testing on PostgreSQL)"
        )]
        fn $check() {
            super::$check(&crate::backend::Backend::postgres());
        }
    };
    (@postgres $check:ident $(sqlite: $_sq:literal,)? postgres: $bug:literal) => {
        #[test]
        #[ignore = $bug]
        fn $check() {
            super::$check(&crate::backend::Backend::postgres());
        }
    };
    (@postgres $check:ident sqlite: $_sq:literal) => {
        conformance!(@postgres $check);
    };
}

mod backend;

mod changes;
mod concurrency;
mod copies;
mod counter;
mod leases;
mod owners;
mod reads;
mod transactions;
mod uses;
