//! `verify` (docs/src/commands/verify.md): every code, its exit status, and what it records.

use crate::common::Env;

fn usage(env: &Env, id: &str) -> (Option<i64>, i64) {
    env.usage(id)
}

#[track_caller]
fn expect_code(env: &Env, key: &str, extra: &[&str], code: &str) {
    let mut args = vec!["verify"];
    args.extend_from_slice(extra);
    let exit = if code == "VALID" { 0 } else { 1 };
    let run = env.run_stdin(&args, &format!("{key}\n")).code(exit);
    if code == "VALID" {
        assert!(run.stdout.starts_with("valid "), "{run:#?}");
    } else {
        assert_eq!(run.stdout, format!("invalid: {code}\n"));
    }
    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let v = env.run_stdin(&json_args, key).code(exit).json();
    assert_eq!(v["code"], code);
    assert_eq!(v["valid"], code == "VALID");
}

#[test]
fn valid_key_records_its_use() {
    let env = Env::new();
    let key = env.create("Data Sync", &[]);
    let id = Env::id_of(&key);
    assert_eq!(usage(&env, &id), (None, 0));
    let run = env.run_stdin(&["verify"], &format!("  {key}  \n")).code(0);
    assert_eq!(run.stdout, format!("valid {id} Data Sync\n"));
    let (last_used, count) = usage(&env, &id);
    assert_eq!(count, 1);
    let now = chrono::Utc::now().timestamp();
    assert!((now - last_used.unwrap()).abs() < 60);
    let v = env.run_stdin(&["--json", "verify"], &key).code(0).json();
    assert_eq!(
        v,
        serde_json::json!({"valid": true, "code": "VALID", "id": id, "name": "Data Sync",
            "owner": null, "meta": null, "uses": null})
    );
    assert_eq!(usage(&env, &id).1, 2);
    assert_eq!(
        env.count("events"),
        1,
        "a verify is a use, not a change: no event"
    );
}

#[test]
fn key_as_argument_works_with_a_warning() {
    let env = Env::new();
    let key = env.create("k", &[]);
    let run = env.run(&["verify", &key]).code(0);
    assert!(
        run.stderr.starts_with("warning:") && run.stderr.contains("stdin"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains(&key[20..]));
}

#[test]
fn every_single_character_change_and_truncation_is_malformed_without_a_store() {
    let env = Env::new();
    let key = keysmith::mint("ks");
    let key = key.secret.expose();
    let missing = env.dir.path().join("never/created.db");
    let mut variants = Vec::new();
    for i in 0..key.len() {
        let original = key.as_bytes()[i];
        let replacement = match original {
            b'_' => b'A',
            b'z' => b'y',
            _ => b'z',
        };
        let mut bytes = key.as_bytes().to_vec();
        bytes[i] = replacement;
        variants.push(String::from_utf8(bytes).unwrap());
        variants.push(key[..i].to_owned());
    }
    for variant in &variants {
        let mut cmd = env.command();
        cmd.env("KEYSMITH_DB", &missing);
        let run = env.run_with(cmd, &["verify"], Some(variant)).code(1);
        assert_eq!(run.stdout, "invalid: MALFORMED\n", "{variant}");
    }
    assert!(
        !missing.exists() && !missing.parent().unwrap().exists(),
        "the store was never opened"
    );
}

#[test]
fn malformed_json_has_null_id_and_name() {
    let env = Env::new();
    let v = env
        .run_stdin(&["--json", "verify"], "not-a-key")
        .code(1)
        .json();
    assert_eq!(
        v,
        serde_json::json!({"valid": false, "code": "MALFORMED", "id": null, "name": null,
            "owner": null, "meta": null, "uses": null})
    );
}

#[test]
fn not_found_for_unknown_keys_and_wrong_secrets() {
    let env = Env::new();
    let key = env.create("real", &[]);
    let stranger = keysmith::mint("ks");
    expect_code(&env, stranger.secret.expose(), &[], "NOT_FOUND");
    // Same id, another secret: the checksum is right but the hash is not ours.
    let forged = keysmith::key_format::mint_with_id("ks", Env::id_of(&key));
    expect_code(&env, forged.secret.expose(), &[], "NOT_FOUND");
    let v = env
        .run_stdin(&["--json", "verify"], forged.secret.expose())
        .json();
    assert!(v["id"].is_null() && v["name"].is_null());
    assert_eq!(usage(&env, &Env::id_of(&key)), (None, 0));
}

#[test]
fn disabled_expired_and_wrong_service() {
    let env = Env::new();
    let disabled = env.create("d", &["--service", "sms"]);
    env.run(&["disable", &Env::id_of(&disabled)]).code(0);
    let expiring = env.create("e", &["--expires-in", "1s", "--service", "sms"]);
    let sms = env.create("s", &["--service", "sms"]);
    let plain = env.create("p", &[]);
    expect_code(&env, &disabled, &[], "DISABLED");
    expect_code(&env, &sms, &["--service", "email"], "WRONG_SERVICE");
    expect_code(&env, &plain, &["--service", "sms"], "WRONG_SERVICE");
    expect_code(&env, &sms, &["--service", "sms"], "VALID");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    expect_code(&env, &expiring, &[], "EXPIRED");
    // Precedence: DISABLED before EXPIRED before WRONG_SERVICE.
    env.run(&["disable", &Env::id_of(&expiring)]).code(0);
    expect_code(&env, &expiring, &["--service", "email"], "DISABLED");
    env.run(&["enable", &Env::id_of(&expiring)]).code(0);
    expect_code(&env, &expiring, &["--service", "email"], "EXPIRED");
    let v = env.run_stdin(&["--json", "verify"], &disabled).json();
    assert_eq!(v["id"], Env::id_of(&disabled).as_str());
    assert_eq!(v["name"], "d");
}

#[test]
fn rejected_keys_change_nothing() {
    let env = Env::new();
    let disabled = env.create("d", &["--service", "sms"]);
    env.run(&["disable", &Env::id_of(&disabled)]).code(0);
    let sms = env.create("s", &["--service", "sms"]);
    let before = env.store_bytes();
    let events = env.count("events");
    expect_code(&env, &disabled, &[], "DISABLED");
    expect_code(&env, &sms, &["--service", "email"], "WRONG_SERVICE");
    assert_eq!(usage(&env, &Env::id_of(&disabled)), (None, 0));
    assert_eq!(usage(&env, &Env::id_of(&sms)), (None, 0));
    assert_eq!(env.count("events"), events);
    assert_eq!(
        before,
        env.store_bytes(),
        "the store file is byte-for-byte unchanged"
    );
}

#[test]
fn empty_stdin_is_malformed_and_bad_service_is_usage() {
    let env = Env::new();
    // stdin is /dev/null: an empty first line, so no key at all.
    let run = env.run(&["verify"]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stdout, "invalid: MALFORMED\n");
    env.run(&["verify", "--service", "BAD"]).error(2, "service");
}

/// Input that is not UTF-8 is no key: MALFORMED (exit 1), not a read error.
#[test]
fn input_that_is_not_utf8_is_malformed() {
    let env = Env::new();
    let key = env.create("k", &[]);
    for (args, want) in [
        (&["verify"][..], "invalid: MALFORMED\n".to_owned()),
        (
            &["--json", "verify"][..],
            "{\"valid\":false,\"code\":\"MALFORMED\",\"id\":null,\"name\":null,\"owner\":null,\"meta\":null,\"uses\":null}\n".to_owned(),
        ),
    ] {
        for input in [&b"\xff\n"[..], b"\xc3", b"ks_\x80\x80\n"] {
            let mut child = env
                .command()
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
            assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
        }
    }
    // A valid key followed by bytes that are not UTF-8 on its line is not that key.
    let mut line = key.into_bytes();
    line.extend_from_slice(b"\xff\n");
    let mut child = env
        .command()
        .arg("verify")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &line).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
