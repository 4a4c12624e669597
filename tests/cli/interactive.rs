//! Prompts, driven through a pseudo-terminal; and their absence without one.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

use crate::common::Env;

fn spawn(env: &Env, args: &[&str]) -> PtySession {
    let mut cmd: Command = env.command();
    cmd.args(args).env("TERM", "dumb");
    spawn_command(cmd, Some(10_000)).expect("spawn in a pty")
}

fn exit_code(session: &PtySession) -> i32 {
    match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

/// Enter at the optional service and expiry questions.
fn skip_service_and_expiry(p: &mut PtySession) {
    p.exp_string("Service").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Expires in").unwrap();
    p.send_line("").unwrap();
}

#[test]
fn create_asks_service_and_expiry_warns_of_a_namesake_and_shows_a_summary() {
    let env = Env::new();
    let first = Env::id_of(&env.create("Shared", &[]));
    let mut p = spawn(&env, &["create", "--scope", "sms:send"]);
    p.exp_string("Name").unwrap();
    p.send_line("Shared").unwrap();
    let warned = p.exp_string("Description").unwrap();
    assert!(
        warned.contains("warning: a key is already named \"Shared\"") && warned.contains(&first),
        "{warned:?}"
    );
    p.send_line("").unwrap();
    p.exp_string("Service").unwrap();
    p.send_line("Not A Service").unwrap();
    p.exp_string("invalid service").unwrap();
    p.send_line("sms").unwrap();
    p.exp_string("Expires in").unwrap();
    p.send_line("soon").unwrap();
    p.exp_string("invalid expiry").unwrap();
    p.send_line("30d").unwrap();
    let summary = p.exp_string("Create this key?").unwrap();
    for line in [
        "Name         Shared",
        "Service      sms",
        "Scopes       sms:send",
        "Description  -",
    ] {
        assert!(summary.contains(line), "{line:?} in {summary:?}");
    }
    let in_30_days = chrono::Local::now() + chrono::Duration::days(30);
    assert!(
        summary.contains(&in_30_days.format("Expires      %Y-%m-%d").to_string()),
        "{summary:?}"
    );
    p.send_line("y").unwrap();
    let (_, key) = p.exp_regex("ks_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}").unwrap();
    assert_eq!(exit_code(&p), 0);
    let v = env
        .run(&["--json", "show", &Env::id_of(&key)])
        .code(0)
        .json();
    assert_eq!(v["service"], "sms");
    assert_eq!(v["scopes"], serde_json::json!(["sms:send"]));
    let created = chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 30 * 86_400);
}

#[test]
fn create_from_stdin_at_a_terminal_says_what_it_waits_for() {
    let env = Env::new();
    let mut p = spawn(&env, &["create", "--from", "-"]);
    p.exp_string("Reading JSON Lines from the terminal")
        .unwrap();
    p.send_line("{\"name\": \"typed\", \"service\": \"sms\"}")
        .unwrap();
    p.send_control('d').unwrap();
    let (_, key) = p.exp_regex("ks_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    env.run_stdin(&["verify", "--service", "sms"], &key).code(0);
    // Piped, nothing is said.
    let piped = env
        .run_stdin(&["create", "--from", "-"], "{\"name\": \"piped\"}\n")
        .code(0);
    assert!(!piped.stderr.contains("Reading"), "{piped:#?}");
}

#[test]
fn create_prompts_then_confirms_yes() {
    let env = Env::new();
    let mut p = spawn(&env, &["create"]);
    p.exp_string("Name").unwrap();
    p.send_line("Pty Key").unwrap();
    p.exp_string("Description").unwrap();
    p.send_line("made at a terminal").unwrap();
    skip_service_and_expiry(&mut p);
    p.exp_string("Create this key?").unwrap();
    p.send_line("y").unwrap();
    let (_, key) = p.exp_regex("ks_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}").unwrap();
    p.exp_string("only time").unwrap();
    assert_eq!(exit_code(&p), 0);
    assert!(keysmith::key_format::parse(&key).is_some());
    let rows = env.query_rows("SELECT name, description FROM keys", &[]);
    assert_eq!(
        rows,
        [[
            Some("Pty Key".to_owned()),
            Some("made at a terminal".to_owned())
        ]]
    );
}

#[test]
fn create_declined_creates_nothing() {
    let env = Env::new();
    let mut p = spawn(&env, &["create"]);
    p.exp_string("Name").unwrap();
    p.send_line("Unwanted").unwrap();
    p.exp_string("Description").unwrap();
    p.send_line("").unwrap();
    skip_service_and_expiry(&mut p);
    p.exp_string("Create this key?").unwrap();
    p.send_line("n").unwrap();
    p.exp_string("cancelled").unwrap();
    assert_eq!(exit_code(&p), 1);
    assert_eq!(env.count("keys"), 0);
    assert_eq!(env.count("events"), 0);
}

#[test]
fn create_prompt_repeats_until_the_name_is_valid() {
    let env = Env::new();
    let mut p = spawn(&env, &["create", "--yes"]);
    p.exp_string("Name").unwrap();
    p.send_line(&"x".repeat(129)).unwrap();
    p.exp_string("invalid name").unwrap();
    p.send_line("Fine").unwrap();
    p.exp_string("Description").unwrap();
    p.send_line("").unwrap();
    skip_service_and_expiry(&mut p);
    p.exp_regex("ks_[0-9A-Za-z]{12}_").unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.count("keys"), 1);
}

#[test]
fn without_a_terminal_create_never_waits() {
    let env = Env::new();
    // stdin is a pipe that stays open and silent: a prompt would hang here.
    let mut child = env
        .command()
        .arg("create")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(2));
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("create waited for input without a terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error:") && stderr.contains("--name"),
        "{stderr}"
    );
    assert_eq!(env.count("keys"), 0);
}

#[test]
fn verify_reads_a_hidden_key_at_a_terminal() {
    let env = Env::new();
    let key = env.create("secret", &[]);
    let mut p = spawn(&env, &["verify"]);
    p.exp_string("Key").unwrap();
    // The prompt is printed before the terminal's echo is switched off, a
    // switch that discards input typed before it (TCSAFLUSH): a person
    // types after seeing the prompt, and so must the test, a moment later.
    std::thread::sleep(Duration::from_millis(500));
    p.send_line(&key).unwrap();
    let before = p.exp_string("valid").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(
        !before.contains(&key[20..]) && !rest.contains(&key[20..]),
        "the key was echoed"
    );
    assert!(rest.contains(&Env::id_of(&key)));
    assert_eq!(exit_code(&p), 0);
}

#[test]
fn delete_asks_and_no_changes_nothing() {
    let env = Env::new();
    let id = Env::id_of(&env.create("keep me", &[]));
    let mut p = spawn(&env, &["delete", &id]);
    p.exp_string("Delete key").unwrap();
    p.send_line("n").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1);
    assert_eq!(env.count("keys"), 1);
    assert_eq!(env.count("events"), 1);

    let mut p = spawn(&env, &["delete", &id]);
    p.exp_string("Delete key").unwrap();
    p.send_line("y").unwrap();
    p.exp_string("Deleted key").unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.count("keys"), 0);
}

#[test]
fn rotate_asks_and_no_changes_nothing() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    let mut p = spawn(&env, &["rotate", &id]);
    p.exp_string("Rotate key").unwrap();
    p.send_line("n").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1);
    assert_eq!(env.count("keys"), 1);
    assert_eq!(env.count("events"), 1);
}

#[test]
fn a_confirmation_waits_for_enter_and_takes_a_typed_yes_whole() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    let mut p = spawn(&env, &["delete", &id]);
    p.exp_string("Delete key").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send("yes").unwrap();
    p.flush().unwrap();
    // One keystroke is no answer: still asking, nothing deleted.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        p.process()
            .status()
            .is_some_and(|s| matches!(s, WaitStatus::StillAlive))
    );
    assert_eq!(env.count("keys"), 1);
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("Deleted key").unwrap();
    assert_eq!(exit_code(&p), 0);
    assert_eq!(env.count("keys"), 0);
}

#[test]
fn ctrl_c_at_a_confirmation_changes_nothing_and_ends_on_a_line_of_its_own() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    for (args, question) in [
        (vec!["delete", id.as_str()], "Delete it? [y/N] "),
        (vec!["rotate", id.as_str()], "Rotate it? [y/N] "),
    ] {
        let mut cmd: Command = env.command();
        cmd.args(&args).env("TERM", "xterm-256color");
        let mut p = spawn_command(cmd, Some(10_000)).expect("spawn in a pty");
        let before = p.exp_string(question).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        p.send_control('c').unwrap();
        let rest = p.exp_eof().unwrap();
        let all = format!("{before}{question}{rest}");
        // A cursor hidden on the way must be shown again.
        if let Some(hidden) = all.rfind("\x1b[?25l") {
            assert!(
                all.rfind("\x1b[?25h").is_some_and(|at| at > hidden),
                "{args:?}: the cursor was left hidden: {all:?}"
            );
        }
        // Nothing is glued onto the question's line (the terminal echoes ^C).
        let after = rest
            .trim_start_matches("^C")
            .trim_start_matches("\x1b[?25h");
        assert!(
            after.starts_with("\r\n") || after.starts_with('\n'),
            "{args:?}: {rest:?}"
        );
        assert_eq!(exit_code(&p), 1, "{args:?}");
        assert_eq!(env.count("keys"), 1);
        assert_eq!(env.count("events"), 1);
    }
}

/// `keysmith verify` at a terminal, the key on stdin from a file: what the
/// terminal shows (stdout and stderr both), and the exit code.
fn verify_at_terminal(env: &Env, key: &str, args: &str) -> (String, i32) {
    let file = env.dir.path().join("presented");
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let mut cmd = env.shell(&format!("exec \"$0\" verify {args} < '{}'", file.display()));
    cmd.env("TERM", "dumb");
    let mut p = spawn_command(cmd, Some(10_000)).expect("spawn in a pty");
    let shown = p.exp_eof().unwrap();
    (shown, exit_code(&p))
}

#[test]
fn verify_says_why_on_a_terminal_and_never_shows_the_key() {
    let env = Env::new();
    let key = env.create(
        "sms sender",
        &["--service", "sms", "--scope", "sms:send", "--uses", "1"],
    );
    let id = Env::id_of(&key);
    let mut typo = key.clone().into_bytes();
    let at = typo.len() - 10;
    typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let cases = [
        (key[..key.len() - 4].to_owned(), "", "truncated"),
        (typo, "", "checksum does not match"),
        (String::new(), "", "empty"),
        (
            key.clone(),
            "--service email",
            "belongs to the service 'sms', not 'email'",
        ),
        (
            key.clone(),
            "--scope sms:read",
            "lacks the scope sms:read (it holds: sms:send)",
        ),
    ];
    for (presented, args, why) in &cases {
        let (shown, code) = verify_at_terminal(&env, presented, args);
        assert_eq!(code, 1, "{shown}");
        assert!(shown.contains("invalid: "), "{shown}");
        assert!(shown.contains(why), "{why}: {shown}");
        assert!(!shown.contains(&key[16..]), "the key was shown: {shown}");
    }
    assert_eq!(verify_at_terminal(&env, &key, "").1, 0, "VALID once");
    let (shown, _) = verify_at_terminal(&env, &key, "");
    assert!(
        shown.contains(&format!("keysmith edit {id} --uses N")),
        "{shown}"
    );
    env.run(&["disable", &id]).code(0);
    let (shown, _) = verify_at_terminal(&env, &key, "");
    assert!(shown.contains(&format!("keysmith enable {id}")), "{shown}");
    // Piped, stderr says nothing more: stdout is the answer.
    let run = env.run_stdin(&["verify", "--service", "email"], &key);
    assert_eq!(run.stderr, "", "{run:#?}");
}

/// Issue 24, item 10: a name several keys share offers a choice at a
/// terminal (newest first, each with its status and creation); without
/// one, exit 3 as ever (select.rs).
#[test]
fn a_shared_name_at_a_terminal_offers_a_choice() {
    let env = Env::new();
    let older = Env::id_of(&env.create("twin", &[]));
    let newer = Env::id_of(&env.create("twin", &[]));
    let mut p = spawn(&env, &["disable", "twin"]);
    p.exp_string("matches 2 keys; which one?").unwrap();
    p.exp_string(&older).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Down to the older one, then Enter.
    p.send("j").unwrap();
    p.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("disabled").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
    let status = |id: &str| env.run(&["--json", "show", id]).code(0).json()["status"].clone();
    assert_eq!(status(&older), "disabled");
    assert_eq!(status(&newer), "enabled");

    // Esc chooses nothing: exit 1, nothing changed.
    let mut p = spawn(&env, &["delete", "twin", "--yes"]);
    p.exp_string("which one?").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send("\x1b").unwrap();
    p.flush().unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1);
    assert_eq!(env.count("keys"), 2);
}
