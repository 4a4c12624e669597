//! keysmith's behaviour, checked through the built binary.

/// A test that needs a PostgreSQL server (`tls:` one that offers TLS):
/// where there is none (`KEYSMITH_TEST_POSTGRES`, `_CA`, unset when the
/// tests were built), it is reported ignored with the reason, never passed.
macro_rules! pg_test {
    (tls: $(#[$attr:meta])* fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(
            keysmith_no_test_postgres_tls,
            ignore = "needs a PostgreSQL server with TLS: set KEYSMITH_TEST_POSTGRES and KEYSMITH_TEST_POSTGRES_CA (README, Testing on PostgreSQL)"
        )]
        $(#[$attr])*
        fn $name() $body
    };
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(
            keysmith_no_test_postgres,
            ignore = "needs a PostgreSQL server: set KEYSMITH_TEST_POSTGRES (README, Testing on PostgreSQL)"
        )]
        $(#[$attr])*
        fn $name() $body
    };
}

mod bulk;
mod clipboard;
mod color;
mod common;
mod completions;
mod create;
mod delivery;
mod docs_examples;
mod gateway;
mod harness;
mod help;
mod input_rules;
mod interactive;
mod ip_rules;
mod lifecycle;
mod limits;
mod list;
mod list_terminal;
mod man;
mod migrate;
mod migrations;
mod owners;
mod postgres;
mod prompts;
mod refill;
mod reliability;
mod scan;
mod select;
mod serve;
mod store_choice;
mod store_file;
mod verify;
