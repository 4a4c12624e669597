//! Bulk and safety: create --from, verify --stdin-all, cron reports, backup
//! (docs/src/commands/create.md, verify.md, list.md, backup.md).

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{Entry, Env, folder_snapshot, mkfifo, mode, running_as_root};

fn jsonl(count: usize, name: impl Fn(usize) -> String) -> String {
    (0..count)
        .map(|i| format!("{{\"name\": \"{}\"}}\n", name(i)))
        .collect()
}

fn keys_of(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["key"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn ten_thousand_lines_import_in_order_and_verify() {
    let env = Env::new();
    let input = env.dir.path().join("keys.jsonl");
    std::fs::write(&input, jsonl(10_000, |i| format!("k{i}"))).unwrap();
    let run = env
        .run(&["create", "--from", input.to_str().unwrap()])
        .code(0);
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| !l.starts_with("Created a new store"))
            .count(),
        1,
        "no progress bar off a terminal: {:?}",
        run.stderr
    );
    assert!(run.stderr.contains("Created 10000 keys"));
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10_000);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["name"], format!("k{i}"), "input order");
        let key = v["key"].as_str().unwrap();
        assert_eq!(v["id"], Env::id_of(key).as_str());
    }
    let listed = env.run(&["--json", "list"]).code(0).json();
    assert_eq!(listed.as_array().unwrap().len(), 10_000);
    assert_eq!(env.count("events"), 10_000, "one create event per key");
    let all: String = keys_of(&run.stdout)
        .iter()
        .map(|k| format!("{k}\n"))
        .collect();
    let verified = env.run_stdin(&["verify", "--stdin-all"], &all).code(0);
    assert_eq!(verified.stdout.lines().count(), 10_000);
    assert!(verified.stdout.lines().all(|l| l.contains(" VALID ")));
}

#[test]
fn a_bad_line_near_the_end_creates_nothing() {
    let env = Env::new();
    env.create("existing", &[]);
    let mut input = jsonl(10_000, |i| format!("k{i}"));
    let mut lines: Vec<&str> = input.lines().collect();
    lines[9_998] = r#"{"name": "bad", "service": "Not Valid"}"#;
    input = lines.join("\n");
    let run = env
        .run_stdin(&["create", "--from", "-"], &input)
        .error(2, "line 9999");
    assert!(run.stderr.contains("service"), "{run:#?}");
    assert_eq!(run.stdout, "");
    assert_eq!(env.count("keys"), 1);
    assert_eq!(env.count("events"), 1);
}

#[test]
fn line_errors_name_the_line_and_blank_lines_are_skipped() {
    let env = Env::new();
    env.run_stdin(&["create", "--from", "-"], "{\"name\": \"a\"}\nnot json\n")
        .error(2, "line 2");
    env.run_stdin(
        &["create", "--from", "-"],
        "{\"name\": \"a\", \"servce\": \"sms\"}\n",
    )
    .error(2, "line 1");
    env.run_stdin(
        &["create", "--from", "-"],
        "{\"description\": \"no name\"}\n",
    )
    .error(2, "line 1");
    env.run_stdin(
        &["create", "--from", "-"],
        "{\"name\": \"a\", \"expires_in\": \"soon\"}\n",
    )
    .error(2, "expires_in");
    assert_eq!(env.count("keys"), 0);
    let run = env
        .run_stdin(
            &["create", "--from", "-", "--prefix", "dflt"],
            "\n{\"name\": \"a\", \"service\": \"sms\", \"prefix\": \"acme\", \"expires_in\": \"1d\", \"description\": \"d\"}\n\n{\"name\": \"b\"}\n",
        )
        .code(0);
    let keys = keys_of(&run.stdout);
    assert_eq!(keys.len(), 2);
    assert!(keys[0].starts_with("acme_") && keys[1].starts_with("dflt_"));
    let first: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["service"], "sms");
    assert_eq!(first["description"], "d");
    assert!(first["expires_at"].is_string());
    env.run(&["create", "--from", "/no/such/file"])
        .error(2, "/no/such/file");
    env.run(&["create", "--from", "-", "--name", "x"]).code(2);
}

#[test]
fn a_killed_import_leaves_nothing_half_done() {
    let env = Env::new();
    env.create("before", &[]);
    let input = env.dir.path().join("big.jsonl");
    std::fs::write(&input, jsonl(200_000, |i| format!("k{i}"))).unwrap();
    let mut child = env
        .command()
        .args(["create", "--from", input.to_str().unwrap()])
        .stdout(std::fs::File::create(env.dir.path().join("keys.out")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(env.integrity_ok());
    let keys = env.count("keys");
    assert!(keys == 1 || keys == 200_001, "all or nothing, got {keys}");
}

#[test]
fn verify_stdin_all_reports_each_line_and_records_uses() {
    let env = Env::new();
    let good = env.create("good", &["--service", "sms"]);
    let off = env.create("off", &[]);
    env.run(&["disable", &off]).code(0);
    let stranger = keysmith::mint("ks");
    let input = format!(
        "{good}\n\n  {off}  \nnot-a-key\n{}\n{good}\n",
        stranger.secret.expose()
    );
    let run = env.run_stdin(&["verify", "--stdin-all"], &input).code(1);
    let good_id = Env::id_of(&good);
    let off_id = Env::id_of(&off);
    assert_eq!(
        run.stdout,
        format!(
            "1 VALID {good_id}\n2 MALFORMED -\n3 DISABLED {off_id}\n4 MALFORMED -\n5 NOT_FOUND -\n6 VALID {good_id}\n"
        )
    );
    let (last, count) = env.usage(&good_id);
    assert_eq!(count, 2, "both uses recorded");
    assert!(last.is_some());
    assert_eq!(
        env.usage(&off_id),
        (None, 0),
        "a rejected key changes nothing"
    );

    let json = env
        .run_stdin(
            &["--json", "verify", "--stdin-all", "--service", "sms"],
            &format!("{good}\n{off}\n"),
        )
        .code(1);
    let lines: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"valid": true, "code": "VALID", "id": good_id, "name": "good", "owner": null, "meta": null, "uses": null, "line": 1})
    );
    assert_eq!(lines[1]["code"], "DISABLED");
    assert_eq!(lines[1]["line"], 2);
    env.run_stdin(&["verify", "--stdin-all"], &format!("{good}\n{good}\n"))
        .code(0);
    env.run_stdin(&["verify", "--stdin-all", &good], "").code(2);
}

#[test]
fn cron_reports_with_exit_code() {
    let env = Env::new();
    let soon = Env::id_of(&env.create("soon", &["--expires-in", "1h"]));
    env.create("later", &["--expires-in", "30d"]);
    env.create("forever", &[]);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "list"];
        all.extend_from_slice(args);
        let run = env.run(&all);
        run.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&["--expiring-within", "2h"]), [soon]);
    env.run(&["list", "--expiring-within", "2h", "--exit-code"])
        .code(1);
    env.run(&["list", "--expiring-within", "1m", "--exit-code"])
        .code(0);
    env.run(&["list", "--expiring-within", "2h"]).code(0);
    env.run(&["list", "--expiring-within", "nope"])
        .error(2, "expiring-within");

    // Age two keys by 100 days; use one of them now.
    let stale = Env::id_of(&env.create("stale", &[]));
    let used = env.create("used", &[]);
    env.exec(
        "UPDATE keys SET created_at = created_at - 8640000 WHERE name IN ('stale', 'used')",
        &[],
    );
    env.run_stdin(&["verify"], &used).code(0);
    assert_eq!(ids(&["--unused-for", "90d"]), [stale]);
    env.run(&["list", "--unused-for", "90d", "--exit-code"])
        .code(1);
    env.run(&["list", "--unused-for", "200d", "--exit-code"])
        .code(0);
    env.run(&["list", "--unused-for", "0s"])
        .error(2, "unused-for");
}

#[test]
fn backup_is_private_consistent_and_refuses_to_overwrite() {
    let env = Env::new();
    let key = env.create(
        "backed up",
        &["--scope", "a:b", "--uses", "9", "--rate", "1/1d"],
    );
    let copy = env.dir.path().join("copy.db");
    let copy_str = copy.to_str().unwrap();
    env.run(&["backup", copy_str]).code(0);
    assert_eq!(mode(&copy), 0o600);
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &copy);
    env.run_with(cmd, &["verify", "--scope", "a:b"], Some(&key))
        .code(0);
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &copy);
    let copied = env
        .run_with(cmd, &["--json", "show", &Env::id_of(&key)], None)
        .code(0)
        .json();
    assert_eq!(copied["scopes"], serde_json::json!(["a:b"]));
    assert_eq!(copied["remaining_uses"], 8);
    assert_eq!(
        copied["rate_limit"],
        serde_json::json!({"limit": 1, "per_seconds": 86400})
    );

    let before = std::fs::read(&copy).unwrap();
    env.run(&["backup", copy_str]).error(2, "--force");
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let second = env.create("second", &[]);
    env.run(&["backup", copy_str, "--force"]).code(0);
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &copy);
    env.run_with(cmd, &["verify"], Some(&second)).code(0);

    let missing = Env::new();
    missing
        .run(&["backup", copy_str, "--force"])
        .error(4, "there is no keysmith store at");
}

#[test]
fn backup_during_an_import_is_consistent() {
    let env = Env::new();
    env.create("before", &[]);
    let input = env.dir.path().join("big.jsonl");
    std::fs::write(&input, jsonl(100_000, |i| format!("k{i}"))).unwrap();
    let mut importer = env
        .command()
        .args(["create", "--from", input.to_str().unwrap()])
        .stdout(std::fs::File::create(env.dir.path().join("keys.out")).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let copy = env.dir.path().join("during.db");
    env.run(&["backup", copy.to_str().unwrap()]).code(0);
    assert!(importer.wait().unwrap().success());
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let keys: i64 = conn
        .query_row("SELECT count(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    assert!(
        keys == 1 || keys == 100_001,
        "a snapshot, not a mix: {keys}"
    );
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &copy);
    env.run_with(cmd, &["list", "--limit", "1"], None).code(0);
}

#[test]
fn progress_bar_on_a_terminal() {
    let env = Env::new();
    let input = env.dir.path().join("keys.jsonl");
    std::fs::write(&input, jsonl(30_000, |i| format!("k{i}"))).unwrap();
    let mut cmd = env.command();
    cmd.args(["create", "--from", input.to_str().unwrap()])
        .env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    let all = p.exp_eof().unwrap();
    assert!(all.contains('%'), "a progress bar was drawn");
    assert!(all.contains("Created 30000 keys"));
    let _ = std::io::stdout().flush();
}

/// `backup --force` replaces a regular file only: a FIFO, a socket, a
/// directory or a device (also behind a symlink) is refused and left as it is.
#[test]
fn backup_force_replaces_regular_files_only() {
    let env = Env::new();
    env.create("k", &[]);
    let odd = env.dir.path().join("odd");
    std::fs::create_dir(&odd).unwrap();
    mkfifo(&odd.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(odd.join("socket")).unwrap();
    std::fs::create_dir(odd.join("folder")).unwrap();
    std::os::unix::fs::symlink(odd.join("fifo"), odd.join("link-to-fifo")).unwrap();
    let mut dests = vec!["fifo", "socket", "folder", "link-to-fifo"];
    if running_as_root() {
        let made = std::process::Command::new("mknod")
            .arg(odd.join("null"))
            .args(["c", "1", "3"])
            .status()
            .unwrap();
        assert!(made.success());
        dests.push("null");
    } else {
        eprintln!("not root: backup onto a device node made with mknod is not tested");
    }
    let before = folder_snapshot(&odd);
    for name in &dests {
        let dest = odd.join(name);
        for force in [false, true] {
            let mut args = vec!["backup", dest.to_str().unwrap()];
            if force {
                args.push("--force");
            }
            env.run_bounded(env.command(), &args, None)
                .error(2, "not a regular file");
        }
    }
    assert_eq!(folder_snapshot(&odd), before, "a special file was replaced");
    assert!(matches!(before["link-to-fifo"], Entry::Link(_)));
}

/// Issue 24, item 13: an error quotes keysmith's line number, not serde's
/// "line 1" of the one line it was given.
#[test]
fn a_json_error_names_the_input_line_and_column_only() {
    let env = Env::new();
    let run = env
        .run_stdin(
            &["create", "--from", "-"],
            "{\"name\": \"a\"}\n{\"name\": \"b\", \"nmae\": 1}\n",
        )
        .error(2, "line 2: not a key object (unknown field `nmae`");
    assert!(run.stderr.contains("at column"), "{run:#?}");
    assert!(!run.stderr.contains("at line 1"), "{run:#?}");
}
