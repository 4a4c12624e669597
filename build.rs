//! Link settings for the keysmith binary on Linux with glibc, where start-up
//! is most of what a short-lived command pays (BENCHMARKS.md):
//!
//! - Not position-independent. As a PIE it was relocated by the dynamic
//!   loader at every start (19,283 relocations, over half the instructions
//!   and 40% of the page faults of `keysmith --version`). The code stays
//!   position-independent; only the final link changes. Set
//!   KEYSMITH_BUILD_PIE=1 to keep a PIE, and with it address randomisation
//!   of the executable itself (README, Security model).
//! - The unwinder linked in from the C compiler's libgcc_eh.a instead of
//!   loading libgcc_s.so: one shared library fewer to map, and no run of
//!   libgcc_s's start-up probe of the CPU, whose CPUID instructions each trap
//!   to the hypervisor in a VM (3.5% of a `create`).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KEYSMITH_BUILD_PIE");
    println!("cargo:rerun-if-env-changed=CC");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || target_env != "gnu" {
        return;
    }
    let pie_wanted = env::var_os("KEYSMITH_BUILD_PIE").is_some_and(|v| v != "0");
    if !pie_wanted {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    // Only when building for this machine: the compiler asked is the host's.
    if env::var("TARGET").ok() == env::var("HOST").ok()
        && let Some(dir) = static_unwinder_dir()
    {
        println!("cargo:rustc-link-search=native={}", dir.display());
        // Passed to the linker ahead of std's `-lgcc_s`, which `--as-needed`
        // then drops as unneeded.
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}

/// The folder holding the C compiler's libgcc_eh.a, if it has one.
fn static_unwinder_dir() -> Option<PathBuf> {
    let cc = env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // A compiler without the file prints its bare name back.
    if !path.is_absolute() || !path.is_file() {
        return None;
    }
    path.parent().map(PathBuf::from)
}
