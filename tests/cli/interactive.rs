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

#[test]
fn create_prompts_then_confirms_yes() {
    let env = Env::new();
    let mut p = spawn(&env, &["create"]);
    p.exp_string("Name").unwrap();
    p.send_line("Pty Key").unwrap();
    p.exp_string("Description").unwrap();
    p.send_line("made at a terminal").unwrap();
    p.exp_string("Create key").unwrap();
    p.send_line("y").unwrap();
    let (_, key) = p.exp_regex("ks_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}").unwrap();
    p.exp_string("only time").unwrap();
    assert_eq!(exit_code(&p), 0);
    assert!(keysmith::key::parse(&key).is_some());
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
    p.exp_string("Create key").unwrap();
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
    p.exp_string("deleted").unwrap();
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
