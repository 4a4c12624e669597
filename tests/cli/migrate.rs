//! `migrate --to` (docs/src/commands/migrate.md): a whole store copied into an empty one of either
//! kind. On the SQLite run every store is a file; in the PostgreSQL leg the
//! test's own stores are databases, so the copies go PostgreSQL → SQLite,
//! SQLite → PostgreSQL and PostgreSQL → PostgreSQL.

use serde_json::Value;

use crate::common::{Env, mode};

/// Keys of every kind, with uses and history, and the code each verifies with.
fn populate(env: &Env) -> Vec<(String, &'static str)> {
    let plain = env.create("plain", &[]);
    let sms = env.create("texts", &["--service", "sms", "--description", "nightly"]);
    let later = env.create(
        "later",
        &[
            "--expires-in",
            "30d",
            "--prefix",
            "acme",
            "--scope",
            "sms:*",
            "--uses",
            "50",
            "--rate",
            "5/1m",
        ],
    );
    let off = env.create("off", &[]);
    env.run(&["disable", &off]).code(0);
    let old = env.create("rotated", &[]);
    let new = env
        .run(&["rotate", &old, "--grace", "1h", "--yes"])
        .code(0)
        .stdout
        .trim()
        .to_owned();
    let gone = env.create("gone", &[]);
    env.run(&["delete", &gone, "--yes"]).code(0);
    env.run(&["edit", "plain", "--description", "edited"])
        .code(0);
    for key in [&sms, &sms, &new] {
        env.run_stdin(&["verify"], key).code(0);
    }
    vec![
        (plain, "VALID"),
        (sms, "VALID"),
        (later, "VALID"),
        (off, "DISABLED"),
        (old, "VALID"),
        (new, "VALID"),
        (gone, "NOT_FOUND"),
    ]
}

/// What a store shows: every key object and every event.
fn snapshot(env: &Env, store: &str) -> (Value, Value) {
    let mut list = env.command();
    list.env("KEYSMITH_DB", store);
    let mut history = env.command();
    history.env("KEYSMITH_DB", store);
    (
        env.run_with(list, &["--json", "list"], None).code(0).json(),
        env.run_with(history, &["--json", "history"], None)
            .code(0)
            .json(),
    )
}

fn codes(env: &Env, store: &str, keys: &[(String, &'static str)]) {
    for (key, code) in keys {
        let mut cmd = env.command();
        cmd.env("KEYSMITH_DB", store);
        let v = env.run_with(cmd, &["--json", "verify"], Some(key)).json();
        assert_eq!(v["code"], *code, "{key} in {store}");
    }
}

#[test]
fn a_store_goes_through_a_sqlite_file_and_back_unchanged() {
    let source = Env::new();
    let keys = populate(&source);
    let before = snapshot(&source, &source.store());
    assert_eq!(before.0.as_array().unwrap().len(), 6);

    let file = source.dir.path().join("copy.db");
    let file = file.to_str().unwrap();
    let run = source.run(&["--json", "migrate", "--to", file]).code(0);
    let v = run.json();
    assert_eq!(
        (v["keys"].as_u64(), v["events"].as_u64()),
        (Some(6), Some(11)),
        "{v}"
    );
    assert_eq!(v["to"], file);
    assert_eq!(mode(std::path::Path::new(file)), 0o600);
    assert_eq!(snapshot(&source, file), before, "the SQLite copy");

    // Back into a new, empty store of this run's kind.
    let target = Env::new();
    let mut cmd = target.command();
    cmd.env("KEYSMITH_DB", file);
    let run = target
        .run_with(cmd, &["migrate", "--to", &target.store()], None)
        .code(0);
    assert!(
        run.stderr.contains("Copied 6 keys and 11 events"),
        "{run:#?}"
    );
    assert_eq!(run.stdout, "");
    assert_eq!(
        snapshot(&target, &target.store()),
        before,
        "the copy of the copy"
    );
    codes(&target, &target.store(), &keys);
    codes(&source, file, &keys);
    // Linked as before: the replacement still names the key it replaced.
    let (list, _) = snapshot(&target, &target.store());
    let new = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| !k["rotated_from"].is_null())
        .unwrap();
    assert_eq!(new["name"], "rotated");
    // The limits came along (and the verification above spent one use).
    let limited = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "later")
        .unwrap();
    assert_eq!(limited["scopes"], serde_json::json!(["sms:*"]));
    assert_eq!(limited["remaining_uses"], 49);
    assert_eq!(
        limited["rate_limit"],
        serde_json::json!({"limit": 5, "per_seconds": 60})
    );
    // And the copy is a working store: it takes new keys.
    let added = target.create("after the move", &[]);
    target.run_stdin(&["verify"], &added).code(0);
}

#[test]
fn a_store_goes_straight_into_another_of_its_kind() {
    let source = Env::new();
    let keys = populate(&source);
    let before = snapshot(&source, &source.store());
    let target = Env::new();
    source.run(&["migrate", "--to", &target.store()]).code(0);
    assert_eq!(snapshot(&target, &target.store()), before);
    codes(&target, &target.store(), &keys);
}

#[test]
fn a_target_holding_keys_is_refused_untouched() {
    let source = Env::new();
    populate(&source);
    let target = Env::new();
    let theirs = target.create("theirs", &[]);
    let before = target.store_bytes();
    let run = source
        .run(&["migrate", "--to", &target.store()])
        .error(2, "already holds");
    assert_eq!(run.stdout, "");
    assert_eq!(target.store_bytes(), before, "the target changed");
    target.run_stdin(&["verify"], &theirs).code(0);
    assert_eq!(target.count("keys"), 1);
    // Nor may a store be copied onto itself.
    source.run(&["migrate", "--to", &source.store()]).code(2);
    assert_eq!(source.count("keys"), 6);
}

#[test]
fn a_missing_store_is_exit_4_for_backup_and_migrate_alike() {
    let env = Env::new();
    let missing = env.dir.path().join("nothing-here.db");
    let copy = env.dir.path().join("copy.db");
    let fragment = format!("there is no keysmith store at {}", missing.display());
    env.run_at(&missing, &["backup", copy.to_str().unwrap()], None)
        .error(4, &fragment);
    env.run_at(&missing, &["migrate", "--to", copy.to_str().unwrap()], None)
        .error(4, &fragment);
    assert!(!missing.exists() && !copy.exists(), "nothing was made");
}
