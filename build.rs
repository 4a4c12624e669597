//! Links the keysmith binary as a position-dependent executable on Linux
//! with glibc: a PIE would be relocated by the dynamic loader at every start,
//! and that (about 19,000 relocations, half the instructions of
//! `keysmith --version`) is most of the start-up a short-lived command pays.
//! The code stays position-independent; only the final link changes.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
