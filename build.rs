//! Links the keysmith binary as a position-dependent executable on Linux
//! with glibc. As a PIE it was relocated by the dynamic loader at every
//! start (19,283 relocations, over half the instructions and 40% of the
//! page faults of `keysmith --version`), and start-up is most of what a
//! short-lived command pays. The code stays position-independent; only the
//! final link changes. Set KEYSMITH_BUILD_PIE=1 to keep a PIE, and with it
//! address randomisation of the executable itself (README, Security model).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KEYSMITH_BUILD_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let pie_wanted = std::env::var_os("KEYSMITH_BUILD_PIE").is_some_and(|v| v != "0");
    if os == "linux" && env == "gnu" && !pie_wanted {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
