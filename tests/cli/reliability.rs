//! Reliability and security: contention, crashes, old and damaged stores,
//! hostile text, secrets on screen, permissions.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::common::{Env, Run, contains, running_as_root};

#[test]
fn sixteen_processes_create_and_verify_without_a_failure() {
    const WORKERS: usize = 16;
    const EACH: usize = 200;
    let env = Env::new();
    let env = &env;
    let keys: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..EACH {
                        let run = env.run(&["create", "--name", &format!("w{w}-{i}")]);
                        assert_eq!(run.code, 0, "create failed: {run:#?}");
                        assert!(!run.stderr.contains("locked") && !run.stderr.contains("busy"));
                        let key = run.stdout.trim().to_owned();
                        let verified = env.run_stdin(&["verify"], &key);
                        assert_eq!(verified.code, 0, "verify failed: {verified:#?}");
                        mine.push(key);
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(keys.len(), WORKERS * EACH);
    assert_eq!(env.count("keys"), (WORKERS * EACH) as i64);
    let all: String = keys.iter().map(|k| format!("{k}\n")).collect();
    let run = env.run_stdin(&["verify", "--stdin-all"], &all).code(0);
    assert_eq!(
        run.stdout.lines().filter(|l| l.contains(" VALID ")).count(),
        WORKERS * EACH
    );
    let uses = env.query_i64("SELECT CAST(sum(use_count) AS BIGINT) FROM usage", &[]);
    assert_eq!(uses, 2 * (WORKERS * EACH) as i64, "no use was lost");
}

#[test]
fn processes_starting_on_a_new_store_at_once_all_succeed() {
    // The first use creates the schema: several at once must agree on it.
    for _ in 0..5 {
        let env = Env::new();
        let env = &env;
        std::thread::scope(|scope| {
            let creators: Vec<_> = (0..8)
                .map(|i| scope.spawn(move || env.run(&["create", "--name", &format!("first{i}")])))
                .collect();
            for creator in creators {
                let run = creator.join().unwrap();
                assert_eq!(run.code, 0, "{run:#?}");
            }
        });
        assert_eq!(env.count("keys"), 8);
        assert_eq!(env.count("events"), 8);
    }
}

#[test]
fn a_disable_is_seen_by_the_very_next_verify_from_another_process() {
    let env = Env::new();
    let key = env.create("switch", &[]);
    let id = Env::id_of(&key);
    for _ in 0..5 {
        env.run(&["disable", &id]).code(0);
        assert_eq!(
            env.run_stdin(&["verify"], &key).code(1).stdout,
            "invalid: DISABLED\n"
        );
        env.run(&["enable", &id]).code(0);
        env.run_stdin(&["verify"], &key).code(0);
    }
    // Verifiers keep running while another process disables the key: each
    // verify that started after the disable exited says DISABLED, each that
    // ended before it began says VALID.
    let began_disable: OnceLock<Instant> = OnceLock::new();
    let disabled_at: OnceLock<Instant> = OnceLock::new();
    let (env, key) = (&env, &key);
    let (began_disable, disabled_at) = (&began_disable, &disabled_at);
    let seen: Vec<(Instant, Instant, String)> = std::thread::scope(|scope| {
        let verifiers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    let mut after = 0;
                    while after < 3 && seen.len() < 500 {
                        let start = Instant::now();
                        let run = env.run_stdin(&["--json", "verify"], key);
                        let code = run.json()["code"].as_str().unwrap().to_owned();
                        if disabled_at.get().is_some_and(|&d| start > d) {
                            after += 1;
                        }
                        seen.push((start, Instant::now(), code));
                    }
                    seen
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        began_disable.set(Instant::now()).unwrap();
        env.run(&["disable", key]).code(0);
        disabled_at.set(Instant::now()).unwrap();
        verifiers
            .into_iter()
            .flat_map(|v| v.join().unwrap())
            .collect()
    });
    let (began, done) = (began_disable.get().unwrap(), disabled_at.get().unwrap());
    let mut after = 0;
    for (start, end, code) in &seen {
        if start > done {
            after += 1;
            assert_eq!(code, "DISABLED", "a verify after the disable");
        } else if end < began {
            assert_eq!(code, "VALID", "a verify before the disable");
        }
    }
    assert!(after >= 9, "{after} verifies after the disable");
}

/// The first line a child writes on its piped stdout; the pipe is closed after.
fn first_stdout_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn a_printed_key_survives_a_kill_right_after_printing() {
    let env = Env::new();
    for _ in 0..5 {
        let mut child = env
            .command()
            .args(["create", "--name", "durable"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let line = first_stdout_line(&mut child);
        let _ = child.kill();
        child.wait().unwrap();
        env.run_stdin(&["verify"], &line).code(0);
    }
}

fn jsonl(count: usize) -> String {
    (0..count)
        .map(|i| format!("{{\"name\": \"bulk {i}\"}}\n"))
        .collect()
}

#[test]
fn killed_bulk_imports_leave_none_or_all() {
    const LINES: i64 = 100_000;
    let env = Env::new();
    env.create("before", &[]);
    let input = env.dir.path().join("bulk.jsonl");
    std::fs::write(&input, jsonl(LINES as usize)).unwrap();
    let start = |env: &Env| {
        env.command()
            .args(["create", "--from", input.to_str().unwrap()])
            .stdout(std::fs::File::create(env.dir.path().join("keys.out")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // One full run tells how long an import takes here, so the kills can
    // land anywhere in it, the commit and the printing included.
    let calibration = Env::new();
    let began = Instant::now();
    assert!(start(&calibration).wait().unwrap().success());
    let full = began.elapsed();
    let mut outcomes = (0, 0);
    for round in 0..20u32 {
        let delay = full.mul_f64(f64::from(round * 7 % 20) / 16.0);
        let mut child = start(&env);
        std::thread::sleep(delay);
        let _ = child.kill();
        child.wait().unwrap();
        assert!(env.integrity_ok(), "round {round}");
        let before = 1 + outcomes.1 * LINES;
        let keys = env.count("keys");
        assert!(
            keys == before || keys == before + LINES,
            "round {round}: {keys} keys"
        );
        let events = env.count("events");
        assert_eq!(events, keys, "events match keys");
        if keys == before {
            outcomes.0 += 1
        } else {
            outcomes.1 += 1
        }
    }
    eprintln!(
        "killed imports: {} left nothing, {} had committed",
        outcomes.0, outcomes.1
    );
}

#[test]
fn a_version_1_store_opens_and_its_keys_verify() {
    let env = Env::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(fixture.join("store-v1.db"), &env.db).unwrap();
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o600)).unwrap();
    // The schema version is the header's user_version (bytes 60-63).
    let header = std::fs::read(&env.db).unwrap();
    assert_eq!(
        header[60..64],
        [0, 0, 0, 1],
        "the fixture is a version 1 store"
    );
    let expected = std::fs::read_to_string(fixture.join("store-v1.keys")).unwrap();
    for line in expected.lines() {
        let (code, key) = line.split_once(' ').unwrap();
        let v = env.run_stdin(&["--json", "verify"], key).json();
        assert_eq!(v["code"], code, "{key}");
    }
    let listed = env.run(&["--json", "list"]).code(0).json();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(
        env.run(&["--json", "history"])
            .code(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // Brought up to the version a new store has.
    let version = |env: &Env| -> i64 {
        env.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let new = Env::new();
    new.create("new", &[]);
    assert!(version(&new) > 1);
    assert_eq!(version(&env), version(&new));
}

#[test]
fn names_written_by_another_program_are_escaped_on_screen() {
    let env = Env::new();
    let key = env.create("plain", &[]);
    let id = Env::id_of(&key);
    env.exec(
        "UPDATE keys SET name = $1, description = $2, service = $3 WHERE id = $4",
        &[
            "\u{1b}[31mred\u{1b}]0;title\u{7}",
            "bell\u{7}\u{9b}2J",
            "svc\u{1b}",
            &id,
        ],
    );
    env.exec("UPDATE events SET actor = 'ev\u{1b}[2J'", &[]);
    for args in [
        &["list"][..],
        &["show", &id],
        &["history"],
        &["disable", &id],
        &["enable", &id],
    ] {
        let run = env.run(args).code(0);
        for raw in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(
                !run.stdout.contains(raw) && !run.stderr.contains(raw),
                "{args:?}: {run:#?}"
            );
        }
        if args[0] != "history" {
            assert!(
                run.stdout.contains("\\u{1b}"),
                "{args:?} shows the escape: {run:#?}"
            );
        }
    }
    let verified = env.run_stdin(&["verify"], &key).code(0);
    assert!(!verified.stdout.contains('\u{1b}'));
    // JSON carries the text itself, escaped by JSON's own rules.
    let v = env.run(&["--json", "show", &id]).code(0);
    assert!(!v.stdout.contains('\u{1b}'));
    assert_eq!(v.json()["name"], "\u{1b}[31mred\u{1b}]0;title\u{7}");
}

/// Characters a terminal obeys or hides: C0 and C1 controls, DEL, format
/// characters (bidi marks, zero-width, BOM, soft hyphen, tags), separators.
const HIDDEN: [char; 12] = [
    '\u{1b}',
    '\u{7}',
    '\u{9b}',
    '\u{7f}',
    '\u{ad}',
    '\u{61c}',
    '\u{200b}',
    '\u{202e}',
    '\u{2028}',
    '\u{2060}',
    '\u{feff}',
    '\u{e0041}',
];

/// Text that would drive or fool a terminal, tagged with `field`.
fn hostile(field: &str) -> String {
    format!(
        "{field}\u{1b}[31m\u{7}\u{9b}2J\u{7f}\u{ad}\u{61c}\u{200b}\u{202e}\u{2028}\u{2060}\u{feff}\u{e0041}."
    )
}

#[track_caller]
fn assert_nothing_hidden(run: &Run, what: &str) {
    for c in HIDDEN {
        assert!(
            !run.stdout.contains(c) && !run.stderr.contains(c),
            "{what}: U+{:04X} reached the terminal: {run:#?}",
            c as u32
        );
    }
}

#[test]
fn every_field_from_the_store_and_every_scanned_path_is_escaped_on_screen() {
    let env = Env::new();
    let first = env.create("first", &[]);
    let second = env.create("second", &["--service", "sms"]);
    let second_id = Env::id_of(&second);
    env.exec(
        "UPDATE keys SET prefix = $1, id = $2, name = $3, description = $4, service = $5, \
         replaced_by = $6, rotated_from = $7 WHERE id = $8",
        &[
            &hostile("prefix"),
            &hostile("id"),
            &hostile("name"),
            &hostile("description"),
            &hostile("service"),
            &hostile("replaced"),
            &hostile("rotated"),
            &Env::id_of(&first),
        ],
    );
    env.exec(
        "UPDATE keys SET name = $1, description = $2 WHERE id = $3",
        &[&hostile("other"), &hostile("about"), &second_id],
    );
    env.exec(
        "UPDATE events SET action = $1, actor = $2, detail = $3",
        &[&hostile("action"), &hostile("actor"), &hostile("detail")],
    );
    env.exec(
        "UPDATE events SET key_id = $1 WHERE key_id = $2",
        &[&hostile("id"), &Env::id_of(&first)],
    );
    let folder = env.dir.path().join(hostile("folder"));
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join(hostile("file")), format!("{second}\n")).unwrap();
    let binary = folder.join(hostile("binary"));
    std::fs::write(&binary, b"\0\0").unwrap();

    let name = hostile("name");
    let runs = [
        ("list", env.run(&["list"]).code(0)),
        ("show first", env.run(&["show", &name]).code(0)),
        ("show second", env.run(&["show", &second_id]).code(0)),
        ("history", env.run(&["history"]).code(0)),
        ("history second", env.run(&["history", &second_id]).code(0)),
        ("verify", env.run_stdin(&["verify"], &second).code(0)),
        ("disable", env.run(&["disable", &second_id]).code(0)),
        ("enable", env.run(&["enable", &second_id]).code(0)),
        ("rotate", env.run(&["rotate", &name, "--yes"]).code(2)),
        ("scan", env.run(&["scan", folder.to_str().unwrap()]).code(1)),
        (
            "scan binary",
            env.run(&["scan", binary.to_str().unwrap()]).code(0),
        ),
        (
            "no such key",
            env.run(&["show", &hostile("selector")]).code(3),
        ),
    ];
    for (what, run) in &runs {
        assert_nothing_hidden(run, what);
    }
    let shown = |what: &str| &runs.iter().find(|(w, _)| *w == what).unwrap().1;
    // Each field is there, escaped: `\u{1b}` in place of ESC.
    for field in ["prefix", "id", "name", "service"] {
        assert!(
            shown("list")
                .stdout
                .contains(&format!("{field}\\u{{1b}}[31m")),
            "list shows {field}: {:#?}",
            shown("list")
        );
    }
    for field in [
        "prefix",
        "id",
        "name",
        "description",
        "service",
        "replaced",
        "rotated",
        "action",
        "actor",
        "detail",
    ] {
        assert!(
            shown("show first")
                .stdout
                .contains(&format!("{field}\\u{{1b}}")),
            "show shows {field}: {:#?}",
            shown("show first")
        );
    }
    assert!(
        shown("verify")
            .stdout
            .starts_with(&format!("valid {second_id} other\\u{{1b}}[31m")),
        "{:#?}",
        shown("verify")
    );
    assert!(shown("scan").stdout.contains("file\\u{1b}[31m"));
    // JSON carries the text itself, escaped by JSON's own rules only.
    let json = env.run(&["--json", "show", &second_id]).code(0).json();
    assert_eq!(json["name"], hostile("other"));
    let oldest = json["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(oldest["action"], hostile("action"));
}

#[test]
fn no_error_path_prints_a_key() {
    let env = Env::new();
    let stored = env.create("stored", &[]);
    let stranger = keysmith::mint("ks");
    let stranger = stranger.secret.expose().to_owned();
    let secret = |k: &str| k[k.len() - 38..].to_owned();
    // A folder cannot be made under a file, not even by root.
    let blocker = env.dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let bad_dir = format!("{}/{stranger}/keys.db", blocker.display());
    let runs = vec![
        env.run(&["enable", &stranger]),
        env.run(&["disable", &stranger[..stranger.len() - 1]]),
        env.run(&["show", &stranger]),
        env.run(&["history", &stranger]),
        env.run(&["rotate", &stranger, "--yes"]),
        env.run(&["delete", &stranger, "--yes"]),
        env.run(&["edit", &stranger, "--name", "x"]),
        env.run(&["edit", &stored, "--name", ""]),
        env.run(&["rotate", &stored]),
        env.run(&["verify", &stored, "--service", "BAD"]),
        env.run(&["--db", &bad_dir, "create", "--name", "x"]),
        env.run(&["create", "--name", &stranger, "--service", "BAD"]),
        env.run(&["verify", &stored, &stranger]),
        env.run(&["enable", &stranger, "--bogus"]),
        env.run_stdin(
            &["create", "--from", "-"],
            &format!("{{\"name\": \"{stranger}\", \"bogus\": 1}}\n"),
        ),
    ];
    for run in runs {
        assert_ne!(run.code, 0, "{run:#?}");
        for k in [&stored, &stranger] {
            let s = secret(k);
            assert!(
                !run.stdout.contains(&s[..20]) && !run.stderr.contains(&s[..20]),
                "{run:#?}"
            );
        }
    }
}

/// The secret of a full key (the 32 characters after the id) and every
/// 16-character window of it: none may reach the screen after creation.
fn secret_windows(key: &str) -> Vec<&str> {
    let start = key.len() - 38;
    let secret = &key[start..start + 32];
    (0..=16).map(|i| &secret[i..i + 16]).collect()
}

#[track_caller]
fn assert_no_secret_shown(run: &Run, keys: &[&str], what: &str) {
    for key in keys {
        for window in secret_windows(key) {
            assert!(
                !run.stdout.contains(window) && !run.stderr.contains(window),
                "{what}: {window:?} of a secret was printed: {run:#?}"
            );
        }
    }
}

#[test]
fn a_key_glued_into_an_argument_is_masked_in_every_message() {
    let env = Env::new();
    let key = env.create("k", &[]);
    let other = env.create("o", &["--prefix", "acme"]);
    let (id, other_id) = (Env::id_of(&key), Env::id_of(&other));
    let blocker = env.dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let long_tail: String = "Zy8".repeat(70)[..200].to_owned();
    let cases: Vec<(Vec<String>, i32)> = [
        (vec!["disable", &format!("X{key}x")], 3),
        (vec!["show", &format!("Bearer:{key}0")], 3),
        (vec!["list", &format!("X{key}x")], 2),
        (vec!["list", "--status", &format!("X{key}x")], 2),
        (vec!["scan", &format!("X{key}x")], 2),
        (vec!["history", &format!("https://x/?k={key}")], 3),
        (vec!["enable", &format!("https://x/?k={key}&v=1")], 3),
        (vec!["show", &format!("ABCDEF{key}")], 3),
        (vec!["show", &format!("{key}{other}")], 3),
        (
            vec!["show", &format!("{}{long_tail}", &key[..key.len() - 38])],
            3,
        ),
        // A URL-encoded underscore, and a key split by an escaped character.
        (vec!["show", &key.replace('_', "%5F")], 3),
        (vec!["show", &format!("{}%41{}", &key[..30], &key[30..])], 3),
        (
            vec!["show", &format!("{}%255F{}", &key[..15], &key[16..])],
            3,
        ),
        (
            vec![
                "--db",
                &format!("{}/X{key}x/keys.db", blocker.display()),
                "create",
                "--name",
                "n",
            ],
            4,
        ),
    ]
    .into_iter()
    .map(|(args, code)| (args.into_iter().map(str::to_owned).collect(), code))
    .collect();
    for (args, code) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.run(&args).code(code);
        assert_no_secret_shown(&run, &[&key, &other], &format!("{args:?}"));
        assert!(
            run.stderr.contains(&format!("{id}_********")),
            "{args:?}: the key is shown masked: {run:#?}"
        );
    }
    let run = env.run(&["show", &format!("{key}{other}")]).code(3);
    assert!(
        run.stderr.contains(&format!("{other_id}_********")),
        "{run:#?}"
    );
}

#[test]
fn a_store_keysmith_cannot_write_is_exit_4() {
    let env = Env::new();
    let key = env.create("k", &[]);
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    let as_nobody = || {
        if !running_as_root() {
            return env.command();
        }
        // Root writes anything: run as nobody, who can read but not write.
        env.command_as(65534, 65534)
    };
    let run = env.run_with(as_nobody(), &["create", "--name", "x"], None);
    let run = run.error(4, "store");
    assert!(!run.stderr.contains("panicked"));
    let verified = env.run_with(as_nobody(), &["verify"], Some(&key));
    assert!(verified.code == 4 || verified.code == 0, "{verified:#?}");
    assert_eq!(env.count("keys"), 1);
}

/// Every answer from a damaged store is either right or a clean exit 4.
fn assert_right_or_refused(env: &Env, keys: &[String]) {
    let all: String = keys.iter().map(|k| format!("{k}\n")).collect();
    let run = env.run_stdin(&["verify", "--stdin-all"], &all);
    for line in run.stdout.lines() {
        assert!(
            line.contains(" VALID "),
            "a wrong answer from a damaged store: {line}"
        );
    }
    match run.code {
        0 => assert_eq!(run.stdout.lines().count(), keys.len()),
        4 => {
            assert!(run.stderr.contains("backup"), "{run:#?}");
            assert!(!run.stderr.contains("panicked"));
        }
        other => panic!("exit {other}: {run:#?}"),
    }
    let list = env.run(&["--json", "list"]);
    assert!(list.code == 0 || list.code == 4, "{list:#?}");
    assert!(!list.stderr.contains("panicked"));
}

#[test]
fn a_damaged_store_is_refused_never_misread() {
    let pristine = Env::new();
    let input: String = jsonl(400);
    let run = pristine
        .run_stdin(&["create", "--from", "-"], &input)
        .code(0);
    let keys: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let bytes = std::fs::read(&pristine.db).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    let mut refused = 0;
    for target in 1..pages {
        let env = Env::new();
        let mut damaged = bytes.clone();
        for (i, b) in damaged[target * page..(target + 1) * page]
            .iter_mut()
            .enumerate()
        {
            *b = (i as u8).wrapping_mul(31).wrapping_add(target as u8) ^ 0x5a;
        }
        std::fs::write(&env.db, &damaged).unwrap();
        std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_right_or_refused(&env, &keys);
        refused += usize::from(env.run(&["--json", "list"]).code == 4);
    }
    assert!(refused > 0, "some damage was noticed");
    for keep in [bytes.len() / 2, page + 100, 100] {
        let env = Env::new();
        std::fs::write(&env.db, &bytes[..keep]).unwrap();
        std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_right_or_refused(&env, &keys);
    }
}

#[test]
fn store_readable_by_others_warns_once_with_the_fix() {
    let env = Env::new();
    let key = env.create("k", &[]);
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = env.run_stdin(&["verify"], &key).code(0);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{run:#?}");
    assert!(warnings[0].contains(&format!("chmod 600 '{}'", env.db.display())));
}

#[test]
fn argument_keys_warn_and_stdin_keys_do_not() {
    let env = Env::new();
    let key = env.create("k", &[]);
    let arg = env.run(&["verify", &key]).code(0);
    assert_eq!(arg.stderr.lines().count(), 1);
    assert!(arg.stderr.starts_with("warning:") && arg.stderr.contains("stdin"));
    let piped = env.run_stdin(&["verify"], &key).code(0);
    assert_eq!(piped.stderr, "");
    let _ = std::io::stderr().flush();
}

#[test]
fn the_store_never_holds_secrets_after_many_operations() {
    let env = Env::new();
    let mut keys = Vec::new();
    for i in 0..5 {
        keys.push(env.create(&format!("k{i}"), &[]));
    }
    let rotated = env
        .run(&["rotate", &keys[0], "--yes"])
        .code(0)
        .stdout
        .trim()
        .to_owned();
    keys.push(rotated);
    let bytes = env.store_bytes();
    for k in &keys {
        assert!(!contains(&bytes, &k.as_bytes()[k.len() - 38..k.len() - 6]));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn unicode_names_survive_a_store_round_trip(name in "\\PC{1,128}", description in proptest::option::of("\\PC{0,200}")) {
        let Ok(name) = keysmith::input::name(&name) else { return Ok(()) };
        let description = description.and_then(|d| keysmith::input::description(&d).ok().flatten());
        // In-process, through the library, on this run's backend.
        let env = Env::new();
        let location = keysmith::Location::parse(&env.store()).unwrap();
        let mut store = keysmith::store::open(&location, keysmith::OpenMode::Create).unwrap().store;
        let minted = keysmith::mint("ks");
        let record = keysmith::store::KeyRecord {
            id: minted.id.clone(),
            hash: minted.hash,
            prefix: "ks".into(),
            name: name.clone(),
            description: description.clone(),
            service: None,
            disabled: false,
            created_at: 1,
            expires_at: None,
            last_used_at: None,
            use_count: 0,
            rotated_from: None,
            replaced_by: None,
            limits: Default::default(),
            owner: None,
            meta: None,
        };
        let event = keysmith::store::Event { at: 1, action: "create".into(), key_id: Some(minted.id.clone()), actor: "t".into(), detail: None, owner: None };
        let inserted = keysmith::store::transaction(store.as_mut(), |tx| {
            let inserted = tx.insert_key(&record)?;
            tx.append_event(&event)?;
            Ok(inserted)
        });
        prop_assert!(inserted.unwrap());
        let stored = store.key_by_id(&minted.id).unwrap().unwrap();
        prop_assert_eq!(&stored, &record);
        prop_assert_eq!(store.keys_by_name(&name).unwrap(), vec![record]);
    }
}

/// A reader that stops early (`keysmith list --json | head -1`) is not an
/// error: keysmith stops writing and exits 0, saying nothing.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    let env = Env::new();
    let lines = env.dir.path().join("lines.jsonl");
    std::fs::write(&lines, jsonl(3_000)).unwrap();
    env.run(&["create", "--from", lines.to_str().unwrap()])
        .code(0);
    let mut child = env
        .command()
        .args(["--json", "list"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_stdout_line(&mut child), "[\n");
    // The rest of the listing (about 1 MB) no longer fits the pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Started with stdout closed, keysmith puts /dev/null in its place before
/// opening anything: otherwise the next file or connection it opened (a
/// PostgreSQL socket, say) would receive what it prints, keys included.
#[test]
fn a_closed_stdout_is_replaced_by_dev_null() {
    let env = Env::new();
    let mut child = env
        .shell(r#"exec "$0" verify >&-"#)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `exec` keeps the pid; keysmith is now waiting for its key on stdin.
    let fd1 = format!("/proc/{}/fd/1", child.id());
    // (While it starts, the loader may briefly hold fd 1 for a library.)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let target = std::fs::read_link(&fd1);
        if target
            .as_ref()
            .is_ok_and(|t| t == std::path::Path::new("/dev/null"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "fd 1 is {target:?}, not /dev/null"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"not-a-key\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// A panic (a bug) is one `error:` line, none of its message (which could
/// quote a key), and exit 101. Debug builds panic on request for this test.
#[test]
fn a_panic_is_one_line_without_its_message_and_exit_101() {
    let env = Env::new();
    let mut cmd = env.command();
    cmd.env("KEYSMITH_TEST_PANIC", "1");
    let run = env.run_with(cmd, &["list"], None).code(101);
    assert_eq!(
        run.stderr,
        "error: keysmith hit an internal error (a bug); nothing more is shown\n"
    );
    assert_eq!(run.stdout, "");
    assert!(!env.store_exists(), "nothing was written");
}

/// A URL's password never reaches the screen, however the URL is written
/// and whoever quotes it: keysmith's own messages, or clap's, for a URL
/// given where none was expected. Runs on both legs: nothing listens on
/// port 1, so no server is needed.
#[test]
fn a_url_s_password_is_masked_wherever_the_url_is_quoted() {
    let env = Env::new();
    env.create("here", &[]);
    // Raw `/`, `?`, `@` and a space, as pasted generated passwords have:
    // tokio-postgres still reads each as the password.
    for password in [
        "s3cret-Pw",
        "s3cret/Pw+q==",
        "s3cret?Pw#x",
        "s3cret@Pw",
        "s3cret Pw",
    ] {
        let url = format!("postgres://bob:{password}@127.0.0.1:1/keys");
        let runs = [
            (4, env.run(&["--db", &url, "list"])),
            (4, env.run(&["migrate", "--to", &url])),
            (
                2,
                env.run(&["--db", &format!("{url}?sslmode=sometimes"), "list"]),
            ),
            // `--to` forgotten: clap quotes the stray argument.
            (2, env.run(&["migrate", &url])),
            (2, env.run(&["list", &url])),
        ];
        for (code, run) in runs {
            assert_eq!(run.code, code, "{password}: {run:#?}");
            assert!(run.stderr.starts_with("error: "), "{run:#?}");
            assert!(!run.stderr.contains("panicked"), "{run:#?}");
            assert!(
                !run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"),
                "the password was printed: {run:#?}"
            );
            assert!(run.stderr.contains("bob:***@"), "the masked URL: {run:#?}");
        }
    }
}
