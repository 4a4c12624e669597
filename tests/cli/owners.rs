//! docs/src/owners.md on the CLI: a key's owner and metadata through
//! create, create --from, edit, rotate, list, history, show, verify and the
//! key object; bad owners and metadata refused with nothing written. On
//! both backends.

use serde_json::{Value, json};

use crate::common::Env;

fn key_json(env: &Env, selector: &str) -> Value {
    env.run(&["--json", "show", selector]).code(0).json()
}

fn verify_json(env: &Env, key: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json", "verify"];
    all.extend_from_slice(args);
    let run = env.run_stdin(&all, key);
    let code = run.code;
    (code, run.json())
}

#[test]
fn a_key_carries_its_owner_and_metadata_everywhere() {
    let env = Env::new();
    let created = env
        .run(&[
            "--json",
            "create",
            "--name",
            "acme prod",
            "--service",
            "sms",
            "--owner",
            "acme",
            "--meta",
            r#"{ "region": "eu", "plan": "pro" }"#,
        ])
        .code(0)
        .json();
    assert_eq!(created["owner"], "acme");
    // Kept compact, members sorted by name.
    assert_eq!(created["meta"], json!({"plan": "pro", "region": "eu"}));
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    let shown = key_json(&env, &id);
    assert_eq!(shown["owner"], "acme");
    assert_eq!(shown["meta"], json!({"plan": "pro", "region": "eu"}));
    assert_eq!(shown["events"][0]["owner"], "acme");
    assert_eq!(
        env.query_strings("SELECT meta FROM keys WHERE id = $1", &[&id]),
        vec![r#"{"plan":"pro","region":"eu"}"#.to_owned()]
    );
    // Its owner has a record, made with the key.
    assert_eq!(
        env.query_strings("SELECT id FROM owners", &[]),
        vec!["acme".to_owned()]
    );

    let text = env.run(&["show", &id]).code(0).stdout;
    assert!(text.contains("Owner         acme"), "{text}");
    assert!(
        text.contains(r#"Metadata      {"plan":"pro","region":"eu"}"#),
        "{text}"
    );
    // A table shows the metadata's member names, not their values.
    let wide = env.run(&["list", "--wide"]).code(0).stdout;
    assert!(wide.contains("OWNER") && wide.contains("META"), "{wide}");
    assert!(wide.contains("{plan,region}"), "{wide}");
    assert!(!wide.contains("\"pro\""), "{wide}");

    // list --owner: that owner's keys only.
    let other = env.create("globex key", &["--owner", "globex"]);
    let plain = env.create("nobody's", &[]);
    let listed = env
        .run(&["--json", "list", "--owner", "acme"])
        .code(0)
        .json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    let none = env.run(&["list", "--owner", "initech"]).code(0);
    assert_eq!(none.stdout, "");

    // VALID returns the owner and metadata; a refusal returns neither.
    let (code, v) = verify_json(&env, &key, &["--service", "sms"]);
    assert_eq!(code, 0);
    assert_eq!(v["owner"], "acme");
    assert_eq!(v["meta"], json!({"plan": "pro", "region": "eu"}));
    let (code, v) = verify_json(&env, &key, &["--service", "mail"]);
    assert_eq!((code, v["code"].as_str()), (1, Some("WRONG_SERVICE")));
    assert_eq!(v["owner"], Value::Null);
    assert_eq!(v["meta"], Value::Null);
    env.run(&["disable", &id]).code(0);
    let (code, v) = verify_json(&env, &key, &[]);
    assert_eq!((code, v["code"].as_str()), (1, Some("DISABLED")));
    assert_eq!(v["owner"], Value::Null);
    assert_eq!(v["meta"], Value::Null);
    let (_, v) = verify_json(&env, &plain, &[]);
    assert_eq!(
        (v["owner"].clone(), v["meta"].clone()),
        (Value::Null, Value::Null)
    );
    drop(other);
}

#[test]
fn edit_changes_or_removes_the_owner_and_metadata_and_history_follows_the_owner() {
    let env = Env::new();
    let key = env.create(
        "moving",
        &["--owner", "acme", "--meta", r#"{"plan":"free"}"#],
    );
    let id = Env::id_of(&key);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("meta.json");
    std::fs::write(&file, "{\n  \"plan\": \"pro\",\n  \"seats\": 5\n}\n").unwrap();
    env.run(&["edit", &id, "--meta-file", file.to_str().unwrap()])
        .code(0);
    assert_eq!(
        key_json(&env, &id)["meta"],
        json!({"plan": "pro", "seats": 5})
    );
    env.run_stdin(&["edit", &id, "--meta-file", "-"], r#"{"plan":"team"}"#)
        .code(0);
    assert_eq!(key_json(&env, &id)["meta"], json!({"plan": "team"}));

    env.run(&["edit", &id, "--owner", "globex"]).code(0);
    let v = key_json(&env, &id);
    assert_eq!(v["owner"], "globex");
    assert_eq!(v["events"][0]["action"], "edit");
    assert_eq!(v["events"][0]["detail"], "owner");
    assert_eq!(v["events"][0]["owner"], "globex");

    env.run(&["edit", &id, "--no-owner", "--no-meta"]).code(0);
    let v = key_json(&env, &id);
    assert_eq!(
        (v["owner"].clone(), v["meta"].clone()),
        (Value::Null, Value::Null)
    );
    // A key that leaves its owner is in that owner's history.
    assert_eq!(v["events"][0]["owner"], "globex");

    // history --owner: each owner's events, newest first.
    let of = |owner: &str| -> Vec<(String, String)> {
        env.run(&["--json", "history", "--owner", owner])
            .code(0)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["detail"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        of("acme"),
        vec![
            ("edit".to_owned(), "metadata".to_owned()),
            ("edit".to_owned(), "metadata".to_owned()),
            ("create".to_owned(), String::new()),
        ]
    );
    assert_eq!(
        of("globex"),
        vec![
            ("edit".to_owned(), "owner, metadata".to_owned()),
            ("edit".to_owned(), "owner".to_owned()),
        ]
    );
    let none = env.run(&["history", "--owner", "initech"]).code(0);
    assert!(
        none.stderr.contains("No events match these filters."),
        "{none:#?}"
    );
    let both = env.run(&["history", &id, "--owner", "acme"]).code(2);
    assert!(both.stderr.contains("cannot be used with"), "{both:#?}");
}

#[test]
fn rotate_and_create_from_carry_the_owner_and_metadata() {
    let env = Env::new();
    let key = env.create(
        "rotating",
        &["--owner", "acme", "--meta", r#"{"plan":"pro"}"#],
    );
    let id = Env::id_of(&key);
    let rotated = env.run(&["--json", "rotate", &id, "--yes"]).code(0).json();
    assert_eq!(rotated["owner"], "acme");
    assert_eq!(rotated["meta"], json!({"plan": "pro"}));

    let lines = concat!(
        r#"{"name": "a", "owner": "acme", "meta": {"tier": 1}}"#,
        "\n",
        r#"{"name": "b", "owner": "auth0|5f1c2b", "meta": null}"#,
        "\n",
        r#"{"name": "c"}"#,
        "\n",
    );
    let out = env.run_stdin(&["create", "--from", "-"], lines).code(0);
    let made: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(made[0]["owner"], "acme");
    assert_eq!(made[0]["meta"], json!({"tier": 1}));
    assert_eq!(made[1]["owner"], "auth0|5f1c2b");
    assert_eq!(made[1]["meta"], Value::Null);
    assert_eq!(made[2]["owner"], Value::Null);
    let mut owners = env.query_strings("SELECT id FROM owners ORDER BY id", &[]);
    owners.sort();
    assert_eq!(owners, vec!["acme".to_owned(), "auth0|5f1c2b".to_owned()]);
}

#[test]
fn bad_owners_and_metadata_are_refused_and_nothing_is_written() {
    let env = Env::new();
    env.create("first", &[]);
    let before = env.count("keys");
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(4096));
    for (args, fragment) in [
        (vec!["--owner", "has space"], "invalid owner"),
        (vec!["--owner=-leading"], "invalid owner"),
        (vec!["--owner", ""], "invalid owner"),
        (
            vec!["--meta", "[1, 2]"],
            "invalid meta: must be a JSON object",
        ),
        (
            vec!["--meta", "\"plan\""],
            "invalid meta: must be a JSON object",
        ),
        (
            vec!["--meta", "{oops"],
            "invalid meta: must be a JSON object",
        ),
        (vec!["--meta", &big], "at most 4096 (4 KiB)"),
        (
            vec!["--meta-file", "/nonexistent/meta.json"],
            "cannot read the metadata file",
        ),
    ] {
        let mut all = vec!["create", "--name", "bad"];
        all.extend(args.iter().copied());
        let run = env.run(&all).error(2, fragment);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    let long_owner = "a".repeat(129);
    env.run(&["create", "--name", "bad", "--owner", &long_owner])
        .error(2, "invalid owner");
    // The largest metadata passes (4096 bytes as compact JSON).
    let largest = format!(r#"{{"pad":"{}"}}"#, "x".repeat(4096 - 10));
    assert_eq!(largest.len(), 4096);
    env.create("largest", &["--meta", &largest]);
    assert_eq!(env.count("keys"), before + 1);

    for (line, fragment) in [
        (r#"{"name": "x", "owner": "a b"}"#, "invalid owner"),
        (r#"{"name": "x", "meta": [1]}"#, "invalid meta"),
        (r#"{"name": "x", "meta": "{}"}"#, "invalid meta"),
    ] {
        env.run_stdin(&["create", "--from", "-"], &format!("{line}\n"))
            .error(2, fragment);
    }
    for conflicting in [
        ["edit", "first", "--owner", "a", "--no-owner"],
        ["edit", "first", "--meta", "{}", "--no-meta"],
    ] {
        let run = env.run(&conflicting).code(2);
        assert!(run.stderr.contains("cannot be used with"), "{run:#?}");
    }
    assert_eq!(env.count("keys"), before + 1);
    assert_eq!(env.count("owners"), 0);
}

#[test]
fn owner_commands_list_show_set_switch_and_delete() {
    let env = Env::new();
    let a = env.create("a", &["--owner", "acme"]);
    env.create("b", &["--owner", "acme"]);
    let none = env.run(&["owner", "list"]).code(0);
    assert!(none.stdout.contains("acme"), "{none:#?}");

    let set = env
        .run(&[
            "--json", "owner", "set", "acme", "--uses", "100", "--rate", "10/1s",
        ])
        .code(0)
        .json();
    assert_eq!(
        (
            set["id"].as_str(),
            set["status"].as_str(),
            set["keys"].as_u64()
        ),
        (Some("acme"), Some("enabled"), Some(2))
    );
    assert_eq!(set["remaining_uses"], 100);
    assert_eq!(set["rate_limit"], json!({"limit": 10, "per_seconds": 1}));
    // set makes an owner that has no key yet.
    env.run(&["owner", "set", "globex", "--uses", "5"]).code(0);
    let listed = env.run(&["--json", "owner", "list"]).code(0).json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "globex"]);
    let table = env.run(&["owner", "list"]).code(0).stdout;
    for cell in ["OWNER", "KEYS", "USES LEFT", "RATE", "10/1s", "100", "5"] {
        assert!(table.contains(cell), "{cell}: {table}");
    }

    // Disabled: every key of it is refused, its own status untouched.
    let off = env.run(&["owner", "disable", "acme"]).code(0);
    assert!(off.stdout.contains("its 2 keys are refused"), "{off:#?}");
    let (code, v) = verify_json(&env, &a, &[]);
    assert_eq!((code, v["code"].as_str()), (1, Some("DISABLED")));
    assert_eq!(key_json(&env, &Env::id_of(&a))["status"], "enabled");
    let again = env.run(&["owner", "disable", "acme"]).code(0);
    assert!(again.stdout.contains("already disabled"), "{again:#?}");
    env.run(&["owner", "enable", "acme"]).code(0);
    assert_eq!(verify_json(&env, &a, &[]).0, 0);

    let shown = env.run(&["--json", "owner", "show", "acme"]).code(0).json();
    let actions: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["enable", "disable", "edit", "create", "create"]);
    assert_eq!(shown["events"][0]["key_id"], Value::Null);
    let text = env.run(&["owner", "show", "acme"]).code(0).stdout;
    assert!(text.contains("Uses left     99"), "{text}");
    assert!(text.contains("owner:acme"), "{text}");

    // Not deleted while it has keys; an unknown owner is exit 3.
    let refused = env
        .run(&["owner", "delete", "acme", "--yes"])
        .error(2, "still has 2 keys");
    assert_eq!(refused.stdout, "");
    env.run(&["owner", "delete", "globex", "--yes"]).code(0);
    env.run(&["owner", "show", "globex"])
        .error(3, "no owner globex");
    env.run(&["owner", "enable", "nobody"])
        .error(3, "no owner nobody");
    env.run(&["owner", "set", "acme"])
        .error(2, "nothing to set");
    env.run(&["owner", "set", "bad id", "--uses", "1"])
        .error(2, "invalid owner");
}

#[test]
fn an_owner_s_uses_are_shared_by_all_its_keys() {
    let env = Env::new();
    let a = env.create("a", &["--owner", "acme"]);
    let b = env.create("b", &["--owner", "acme", "--uses", "1"]);
    env.run(&["owner", "set", "acme", "--uses", "3"]).code(0);
    let codes: Vec<String> = [&b, &b, &a, &a, &a]
        .iter()
        .map(|k| {
            verify_json(&env, k, &[]).1["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "VALID",
            "USAGE_EXCEEDED",
            "VALID",
            "VALID",
            "USAGE_EXCEEDED"
        ]
    );
    let owner = env.run(&["--json", "owner", "show", "acme"]).code(0).json();
    assert_eq!(owner["remaining_uses"], 0);
    assert_eq!(
        env.query_i64("SELECT remaining_uses FROM owners WHERE id = $1", &["acme"]),
        0
    );
}

#[test]
fn a_verification_may_cost_more_than_one_use() {
    let env = Env::new();
    let key = env.create("tokens", &["--uses", "12", "--owner", "acme"]);
    let id = Env::id_of(&key);
    env.run(&["owner", "set", "acme", "--uses", "100"]).code(0);
    let mut answers = Vec::new();
    for cost in ["5", "5", "5", "2", "0"] {
        let (_, v) = verify_json(&env, &key, &["--cost", cost]);
        answers.push(v["code"].as_str().unwrap().to_owned());
    }
    // 12 - 5 - 5 = 2: a cost of 5 is refused and spends nothing, 2 passes;
    // then nothing is left, and even a cost of 0 needs a use left.
    assert_eq!(
        answers,
        [
            "VALID",
            "VALID",
            "USAGE_EXCEEDED",
            "VALID",
            "USAGE_EXCEEDED"
        ]
    );
    let shown = key_json(&env, &id);
    assert_eq!(
        (
            shown["remaining_uses"].as_i64(),
            shown["use_count"].as_i64()
        ),
        (Some(0), Some(3))
    );
    let owner = env.run(&["--json", "owner", "show", "acme"]).code(0).json();
    assert_eq!(owner["remaining_uses"], 100 - 12);
    // Bad costs: one error line, exit 2, nothing spent.
    for bad in ["-1", "x", "1.5", "1000000000001"] {
        env.run_stdin(&["verify", "--cost", bad], &key)
            .error(2, "invalid --cost");
    }
    assert_eq!(key_json(&env, &id)["use_count"], 3);
}
