//! Test configuration, nothing else: when `KEYSMITH_TEST_POSTGRES` names no
//! PostgreSQL server at build time, the tests that need one are compiled as
//! ignored, with the reason, instead of passing without testing anything;
//! so are the TLS tests when `KEYSMITH_TEST_POSTGRES_CA` names no CA too.
//! (`cargo test` rebuilds when either variable changes.)
//! When no `nginx` is found on PATH or in /usr/sbin, or not its headers-more
//! module (Debian's libnginx-mod-http-headers-more-filter, which the
//! documented recipe needs), the test that puts a real nginx in front of `serve`
//! (tests/cli/gateway.rs) is compiled as ignored, with the reason; when
//! both are, the test runs that nginx (`KEYSMITH_TEST_NGINX`) with that
//! module (`KEYSMITH_TEST_NGINX_HEADERS_MORE`). Likewise `caddy`, for the
//! test that puts Caddy there (`KEYSMITH_TEST_CADDY`). A program found is
//! watched: removed or upgraded, it is looked for again at the next build.
//! PATH itself is not: cargo would rebuild the whole package, library
//! included, at every change of it (another shell, a virtual environment),
//! though the library depends on none of this. So one installed after a
//! build without it is seen only after `touch build.rs`, which is why
//! `.ci/run` installs them before building, and fails when a test that
//! needs one was left ignored.
//! The same goes for Xvfb and xclip, for the system-clipboard test
//! (tests/cli/clipboard.rs; `KEYSMITH_TEST_XVFB`, `KEYSMITH_TEST_XCLIP`).
//! Likewise, without `man` the test that renders the manual pages with it
//! (tests/cli/man.rs) is compiled as ignored.
//! Without `tmux`, the tests in a real tmux (`--copy` in tests/cli/clipboard.rs,
//! prompts in tests/cli/prompts.rs; `KEYSMITH_TEST_TMUX`) are compiled as
//! ignored; without Debian's `faketime`, the tests of refills at a clock
//! set past a period's end (tests/cli/refill.rs; `KEYSMITH_TEST_FAKETIME`);
//! without `systemd-analyze`, the check of the documented unit
//! (tests/cli/store_choice.rs); and so is the test that makes
//! real core dumps where the kernel's `core_pattern` does not write a plain
//! file into the dumping process's folder (a crash handler such as apport
//! or systemd-coredump gets them instead) or the hard core limit is zero:
//! read at build time (`touch build.rs` after changing either).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=KEYSMITH_TEST_POSTGRES");
    println!("cargo::rerun-if-env-changed=KEYSMITH_TEST_POSTGRES_CA");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_test_postgres)");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_test_postgres_tls)");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_nginx)");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_caddy)");
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_xvfb)");
    let found = |name: &str, env: &str| {
        let program = find_program(name)?;
        // Removed or upgraded later: found again (or not) at the next build.
        println!("cargo::rerun-if-changed={}", program.display());
        println!("cargo::rustc-env={env}={}", program.display());
        Some(())
    };
    let headers_more = || {
        let module = find_nginx_module("ngx_http_headers_more_filter_module.so")?;
        println!("cargo::rerun-if-changed={}", module.display());
        println!(
            "cargo::rustc-env=KEYSMITH_TEST_NGINX_HEADERS_MORE={}",
            module.display()
        );
        Some(())
    };
    if found("nginx", "KEYSMITH_TEST_NGINX")
        .and_then(|()| headers_more())
        .is_none()
    {
        println!("cargo::rustc-cfg=keysmith_no_nginx");
    }
    if found("caddy", "KEYSMITH_TEST_CADDY").is_none() {
        println!("cargo::rustc-cfg=keysmith_no_caddy");
    }
    let xvfb = found("Xvfb", "KEYSMITH_TEST_XVFB");
    if xvfb.and(found("xclip", "KEYSMITH_TEST_XCLIP")).is_none() {
        println!("cargo::rustc-cfg=keysmith_no_xvfb");
    }
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_systemd_analyze)");
    if found("systemd-analyze", "KEYSMITH_TEST_SYSTEMD_ANALYZE").is_none() {
        println!("cargo::rustc-cfg=keysmith_no_systemd_analyze");
    }
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_faketime)");
    if found("faketime", "KEYSMITH_TEST_FAKETIME").is_none() {
        println!("cargo::rustc-cfg=keysmith_no_faketime");
    }
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_tmux)");
    if found("tmux", "KEYSMITH_TEST_TMUX").is_none() {
        println!("cargo::rustc-cfg=keysmith_no_tmux");
    }
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_man)");
    if find_program("man").is_none() {
        println!("cargo::rustc-cfg=keysmith_no_man");
    }
    println!("cargo::rustc-check-cfg=cfg(keysmith_no_core_files)");
    if !core_files_in_cwd() {
        println!("cargo::rustc-cfg=keysmith_no_core_files");
    }
    let unset = |name| std::env::var_os(name).is_none_or(|value| value.is_empty());
    if unset("KEYSMITH_TEST_POSTGRES") {
        println!("cargo::rustc-cfg=keysmith_no_test_postgres");
    }
    if unset("KEYSMITH_TEST_POSTGRES") || unset("KEYSMITH_TEST_POSTGRES_CA") {
        println!("cargo::rustc-cfg=keysmith_no_test_postgres_tls");
    }
}

/// The gateway, clipboard and man tests run on Unix only.
#[cfg(not(unix))]
fn find_program(_name: &str) -> Option<std::path::PathBuf> {
    None
}

/// An executable `name` on PATH, else in /usr/sbin (where Debian puts
/// nginx, often off a user's PATH).
#[cfg(unix)]
fn find_program(name: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([std::path::PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|file| {
            std::fs::metadata(file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether a process that may dump core writes it as a file named by a
/// plain pattern (`core`, `core.%p`) into its own folder, where a test can
/// look for it: not piped to a handler, not into another folder, and the
/// hard limit lets `ulimit -c unlimited` allow it.
fn core_files_in_cwd() -> bool {
    let Ok(pattern) = std::fs::read_to_string("/proc/sys/kernel/core_pattern") else {
        return false;
    };
    let pattern = pattern.trim_end();
    let plain = !pattern.is_empty() && !pattern.starts_with('|') && !pattern.contains('/');
    let hard = std::process::Command::new("sh")
        .args(["-c", "ulimit -H -c"])
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"unlimited");
    plain && hard
}

/// A dynamic module of nginx where Debian installs them. Its folder is
/// watched, so a module installed later is seen at the next build.
#[cfg(unix)]
fn find_nginx_module(name: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new("/usr/lib/nginx/modules");
    if dir.is_dir() {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    let module = dir.join(name);
    module.is_file().then_some(module)
}

#[cfg(not(unix))]
fn find_nginx_module(_name: &str) -> Option<std::path::PathBuf> {
    None
}
