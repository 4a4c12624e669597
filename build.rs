//! Test configuration, nothing else: when `KEYSMITH_TEST_POSTGRES` names no
//! PostgreSQL server at build time, the tests that need one are compiled as
//! ignored, with the reason, instead of passing without testing anything.
//! (`cargo test` rebuilds when the variable changes.)

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=KEYSMITH_TEST_POSTGRES");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_test_postgres)");
    if std::env::var_os("KEYSMITH_TEST_POSTGRES").is_none_or(|url| url.is_empty()) {
        println!("cargo::rustc-cfg=keysmith_no_test_postgres");
    }
}
