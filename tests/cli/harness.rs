//! The harness's own promise: keysmith sees the environment the harness
//! makes for it (`common::INHERITED` and the test's world), never what the
//! developer's shell holds.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Env, spawn};

/// Set in the child that `keysmith_sees_only_what_the_harness_gives_it`
/// starts with the leaks below in its own environment.
const PROBE: &str = "KEYSMITH_TEST_LEAK_PROBE";

/// What a developer's shell may hold, each of which would change what
/// keysmith does (a made-up `KEYSMITH_SOMETHING` too: nothing of the kind
/// gets through). `KEYSMITH_DB` and `TERM` are set apart, below.
const LEAKS: [(&str, &str); 8] = [
    ("KEYSMITH_PREFIX", "leaked"),
    ("KEYSMITH_SOMETHING", "leaked"),
    ("NO_COLOR", "1"),
    ("PGPASSWORD", "leaked-Pw-1"),
    ("PGHOST", "leaked.invalid"),
    ("PGSSLMODE", "verify-full"),
    ("RUST_BACKTRACE", "full"),
    ("XDG_DATA_HOME", "/nonexistent/leaked-xdg"),
];

/// A TERM the test process passes on (it is in `INHERITED`).
const TERM: &str = "keysmith-test-term";

/// A whole process environment, from `/proc/PID/environ`. That reads empty
/// for a moment after `spawn` returns: the parent resumes once the new
/// program's memory replaces the old, a little before the kernel records
/// where its environment lies.
fn environment_of(pid: u32) -> BTreeMap<OsString, OsString> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let raw = loop {
        let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("read /proc/PID/environ");
        if !raw.is_empty() {
            break raw;
        }
        assert!(
            Instant::now() < deadline,
            "no environment in /proc/{pid}/environ"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    raw.split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let at = entry.iter().position(|&b| b == b'=').expect("NAME=value");
            (
                OsString::from_vec(entry[..at].to_vec()),
                OsString::from_vec(entry[at + 1..].to_vec()),
            )
        })
        .collect()
}

/// This very test re-runs itself in a child process whose own environment
/// holds the leaks (set there, not here: `set_var` is unsafe); the child
/// then starts keysmith through the harness and reads keysmith's whole
/// environment from /proc: exactly `INHERITED`, HOME, XDG_DATA_HOME and
/// KEYSMITH_DB, the harness's values. And keysmith acts on those: with no
/// `--db`, `create` writes to the harness's store with the default prefix.
#[test]
fn keysmith_sees_only_what_the_harness_gives_it() {
    if std::env::var_os(PROBE).is_none() {
        let elsewhere = tempfile::tempdir().unwrap();
        let leaked_db = elsewhere.path().join("leaked.db");
        let out = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "harness::keysmith_sees_only_what_the_harness_gives_it",
            ])
            .args(["--test-threads", "1"])
            .env(PROBE, "1")
            .envs(LEAKS)
            .env("KEYSMITH_DB", &leaked_db)
            .env("TERM", TERM)
            .stdin(Stdio::null())
            .output()
            .expect("run the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "the check with a leaky environment failed: {out:#?}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            std::fs::read_dir(elsewhere.path())
                .unwrap()
                .next()
                .is_none(),
            "something was written at the leaked KEYSMITH_DB"
        );
        return;
    }

    // The child: the leaks are in this process's environment...
    for (name, value) in LEAKS.iter().chain([&("TERM", TERM)]) {
        assert_eq!(std::env::var(name).as_deref(), Ok(*value), "{name}");
    }
    let leaked_db = std::env::var_os("KEYSMITH_DB").expect("a leaked KEYSMITH_DB");
    let env = Env::new();
    assert_ne!(env.store(), leaked_db.to_str().unwrap());

    // ...and none of them in keysmith's, started by the harness.
    let key = env.create("probe", &[]);
    let mut cmd = env.command();
    cmd.arg("verify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut cmd);
    // `spawn` returns once keysmith runs; it now waits for its key on stdin.
    let seen = environment_of(child.id());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // PATH and TERM (`common::INHERITED`) as this process has them; the rest
    // is the harness's.
    let mut want = BTreeMap::<OsString, OsString>::new();
    want.insert("PATH".into(), std::env::var_os("PATH").expect("a PATH"));
    want.insert("TERM".into(), TERM.into());
    want.insert("HOME".into(), env.dir.path().into());
    want.insert("XDG_DATA_HOME".into(), env.dir.path().join("xdg").into());
    want.insert("KEYSMITH_DB".into(), env.store().into());
    want.insert("KEYSMITH_CONFIG_SYSTEM".into(), env.system_config().into());
    assert_eq!(seen, want, "keysmith's whole environment");

    // What keysmith did with it: the harness's store, the default prefix.
    assert!(key.starts_with("ks_"), "KEYSMITH_PREFIX leaked: {key}");
    assert_eq!(env.count("keys"), 1);

    // Through a shell, too: the shell adds only its own bookkeeping.
    let out = env.shell("exec env").output().unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = shown
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| !["PWD", "OLDPWD", "SHLVL", "_"].contains(name))
        .collect();
    let mut want: Vec<&str> = want.keys().map(|n| n.to_str().unwrap()).collect();
    want.sort();
    let mut names = names;
    names.sort();
    assert_eq!(names, want, "the shell's environment: {shown}");
}
