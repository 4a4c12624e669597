//! Test configuration, nothing else: when `KEYSMITH_TEST_POSTGRES` names no
//! PostgreSQL server at build time, the tests that need one are compiled as
//! ignored, with the reason, instead of passing without testing anything;
//! so are the TLS tests when `KEYSMITH_TEST_POSTGRES_CA` names no CA too.
//! (`cargo test` rebuilds when either variable changes.)

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=KEYSMITH_TEST_POSTGRES");
    println!("cargo::rerun-if-env-changed=KEYSMITH_TEST_POSTGRES_CA");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_test_postgres)");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_test_postgres_tls)");
    let unset = |name| std::env::var_os(name).is_none_or(|value| value.is_empty());
    if unset("KEYSMITH_TEST_POSTGRES") {
        println!("cargo::rustc-cfg=keysmith_no_test_postgres");
    }
    if unset("KEYSMITH_TEST_POSTGRES") || unset("KEYSMITH_TEST_POSTGRES_CA") {
        println!("cargo::rustc-cfg=keysmith_no_test_postgres_tls");
    }
}
