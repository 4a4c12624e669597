//! docs/src/security.md: a key that could not be delivered does not stay live, input is
//! read before the write lock is taken, and a use is recorded against the
//! key that was verified or not at all.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Env, Run};

/// Where a command's stdout goes when delivery is to fail.
#[derive(Clone, Copy)]
enum Sink {
    /// A pipe whose reader has gone (`keysmith rotate ... | true`).
    ClosedPipe,
    /// A device that refuses every write (`>/dev/full`).
    Full,
    /// No stdout at all (`>&-`).
    Closed,
    /// `>/dev/null`: written, and read by nobody.
    DevNull,
}

/// Runs keysmith with stdout going to `sink`.
fn run_into(env: &Env, sink: Sink, args: &[&str]) -> Run {
    let mut cmd = match sink {
        Sink::Closed => {
            let mut shell = env.shell(r#"exec "$0" "$@" >&-"#);
            shell.stdout(Stdio::null());
            shell
        }
        Sink::ClosedPipe => {
            let mut cmd = env.command();
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stdout(writer);
            cmd
        }
        Sink::Full | Sink::DevNull => {
            let mut cmd = env.command();
            let device = if matches!(sink, Sink::Full) {
                "/dev/full"
            } else {
                "/dev/null"
            };
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(device)
                .unwrap();
            cmd.stdout(file);
            cmd
        }
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::new(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    env.assert_no_password(&run);
    run
}

fn actions(env: &Env, id: &str) -> Vec<String> {
    env.query_strings(
        "SELECT action FROM events WHERE key_id = $1 ORDER BY seq",
        &[id],
    )
}

#[test]
fn a_created_key_that_could_not_be_printed_is_removed() {
    for sink in [Sink::ClosedPipe, Sink::Full] {
        let env = Env::new();
        env.create("first", &[]);
        let run = run_into(&env, sink, &["create", "--name", "lost"]);
        assert_ne!(run.code, 0, "{run:#?}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one error line: {run:#?}");
        assert!(lines[0].starts_with("error: "), "{run:#?}");
        let ids = env.query_strings("SELECT id FROM keys WHERE name = $1", &["lost"]);
        assert!(ids.is_empty(), "the undelivered key stays live: {ids:?}");
        // The history says what happened, naming the key the error names.
        let undone = env.query_strings("SELECT key_id FROM events WHERE action = 'undo'", &[]);
        assert_eq!(undone.len(), 1, "{run:#?}");
        assert!(lines[0].contains(&undone[0]), "{run:#?}");
        assert_eq!(actions(&env, &undone[0]), ["create", "undo"]);
        assert_eq!(env.count("keys"), 1);
    }
}

/// With stdout closed or sent to /dev/null, keysmith would print a new key
/// to nobody: it refuses before it writes anything.
#[test]
fn a_new_key_is_not_made_for_a_stdout_nobody_reads() {
    let env = Env::new();
    let old = env.create("first", &[]);
    let lines = env.dir.path().join("lines.jsonl");
    std::fs::write(&lines, jsonl(3)).unwrap();
    let old_id = Env::id_of(&old);
    for args in [
        &["create", "--name", "lost"][..],
        &["--json", "create", "--name", "lost"],
        &["rotate", &old_id, "--yes"],
        &["create", "--from", lines.to_str().unwrap()],
    ] {
        for sink in [Sink::Closed, Sink::DevNull] {
            let run = run_into(&env, sink, args);
            assert_eq!(run.code, 2, "{run:#?}");
            assert!(
                run.stderr
                    .starts_with("error: stdout is closed or /dev/null"),
                "{run:#?}"
            );
            assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
            assert_eq!(env.count("keys"), 1);
            assert_eq!(env.count("events"), 1);
        }
    }
}

#[test]
fn a_rotation_nobody_received_is_undone() {
    for sink in [Sink::ClosedPipe, Sink::Full] {
        let env = Env::new();
        let old = env.create("r1", &["--expires-in", "30d"]);
        let old_id = Env::id_of(&old);
        let before = env.query_rows(
            "SELECT CAST(disabled AS INTEGER), expires_at, replaced_by FROM keys WHERE id = $1",
            &[&old_id],
        );
        for grace in [None, Some("1h")] {
            let mut args = vec!["rotate", old_id.as_str(), "--yes"];
            if let Some(grace) = grace {
                args.extend(["--grace", grace]);
            }
            let run = run_into(&env, sink, &args);
            assert_ne!(run.code, 0, "{run:#?}");
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "one error line: {run:#?}");
            assert!(lines[0].starts_with("error: "), "{run:#?}");
            assert!(lines[0].contains(&old_id), "{run:#?}");
            // The old key is as it was, and the only key.
            let after = env.query_rows(
                "SELECT CAST(disabled AS INTEGER), expires_at, replaced_by FROM keys WHERE id = $1",
                &[&old_id],
            );
            assert_eq!(after, before, "{run:#?}");
            assert_eq!(env.count("keys"), 1);
            env.run_stdin(&["verify"], &old).code(0);
            let new_ids = env.query_strings(
                "SELECT key_id FROM events WHERE action = 'undo' AND key_id <> $1",
                &[&old_id],
            );
            let new_id = new_ids.last().expect("the undone key's history");
            assert!(lines[0].contains(new_id.as_str()), "{run:#?}");
            assert_eq!(actions(&env, new_id), ["rotate", "undo"]);
        }
        let old_actions = actions(&env, &old_id);
        assert_eq!(old_actions, ["create", "rotate", "undo", "rotate", "undo"]);
    }
}

fn jsonl(count: usize) -> String {
    (0..count)
        .map(|i| format!("{{\"name\":\"bulk {i}\"}}\n"))
        .collect()
}

/// Keys already written stay (they were delivered), the rest are removed,
/// and the error line says how many of each.
#[test]
fn a_bulk_import_cut_off_keeps_the_delivered_keys_only() {
    let env = Env::new();
    let lines = env.dir.path().join("lines.jsonl");
    std::fs::write(&lines, jsonl(20_000)).unwrap();
    let mut child = env
        .command()
        .args(["create", "--from", lines.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read 100 whole lines, then stop reading, as `| head -100` would.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut received = Vec::new();
    for _ in 0..100 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let object: serde_json::Value = serde_json::from_str(&line).unwrap();
        received.push(object["key"].as_str().unwrap().to_owned());
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let kept = env.count("keys");
    assert!((100..20_000).contains(&kept), "{kept} keys kept: {stderr}");
    let removed = 20_000 - kept;
    assert!(
        errors[0].contains(&format!("{kept} ")) && errors[0].contains(&format!("{removed} ")),
        "the error names {kept} kept and {removed} removed: {stderr}"
    );
    // Every key that reached the reader is live.
    let input: String = received.iter().map(|k| format!("{k}\n")).collect();
    env.run_stdin(&["verify", "--stdin-all"], &input).code(0);
    assert_eq!(env.count("keys"), kept);
    let undone = env.query_i64("SELECT count(*) FROM events WHERE action = 'undo'", &[]);
    assert_eq!(undone, removed);
}

#[test]
fn a_bulk_import_into_a_full_disk_leaves_nothing_live() {
    let env = Env::new();
    env.create("before", &[]);
    let lines = env.dir.path().join("lines.jsonl");
    std::fs::write(&lines, jsonl(500)).unwrap();
    let run = run_into(
        &env,
        Sink::Full,
        &["create", "--from", lines.to_str().unwrap()],
    );
    assert_ne!(run.code, 0, "{run:#?}");
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{run:#?}");
    assert!(errors[0].contains("500"), "{run:#?}");
    assert_eq!(env.count("keys"), 1);
}

/// `create --from -` reads and checks all its input before it takes the
/// write lock, so a slow producer stalls nobody else.
#[test]
fn a_slow_bulk_producer_does_not_hold_the_write_lock() {
    let env = Env::new();
    let key = env.create("busy", &[]);
    let mut importer = env
        .command()
        .args(["create", "--from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut feed = importer.stdin.take().unwrap();
    feed.write_all(b"{\"name\":\"b1\"}\n").unwrap();
    feed.flush().unwrap();
    // The importer has read its first line and now waits for more.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    env.run_stdin(&["verify"], &key).code(0);
    env.create("meanwhile", &[]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "others waited for the importer's input"
    );
    feed.write_all(b"{\"name\":\"b2\"}\n").unwrap();
    drop(feed);
    let out = importer.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
    assert_eq!(env.count("keys"), 4);
}

/// A use is recorded against the key that was verified, or not at all: a
/// key deleted while its uses are pending passes none of them on to a key
/// created after it (SQLite reuses the highest row number).
#[test]
fn a_use_is_recorded_against_the_key_verified_or_not_at_all() {
    let env = Env::new();
    let a = env.create("a", &[]);
    let input = format!("{a}\n").repeat(10_000);
    let mut verify = env
        .command()
        .args(["verify", "--stdin-all"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut feed = verify.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || feed.write_all(input.as_bytes()));
    // Its first result line means the chunk has been looked up; the rest
    // of its output (250 KB) does not fit the pipe, so it is stalled there,
    // before it records the chunk's uses.
    let mut stdout = verify.stdout.take().unwrap();
    let mut first = [0u8; 8];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"1 VALID ");
    env.run(&["delete", &Env::id_of(&a), "--yes"]).code(0);
    let b = env.create("b", &[]);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let out = verify.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        env.usage(&Env::id_of(&b)),
        (None, 0),
        "b inherited a's uses"
    );
    // Nor are they kept under a row no key has.
    let orphans = env.query_i64(
        "SELECT count(*) FROM usage WHERE seq NOT IN (SELECT seq FROM keys)",
        &[],
    );
    assert_eq!(orphans, 0);
}
