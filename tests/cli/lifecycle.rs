//! The lifecycle: show, edit, rotate, delete, history, and the event log
//! (docs/src/commands/).

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{Env, KEY_FIELDS};

fn show(env: &Env, selector: &str) -> Value {
    env.run(&["--json", "show", selector]).code(0).json()
}

/// (action, key_id, detail) of every event, oldest first.
fn events(env: &Env) -> Vec<(String, String, Option<String>)> {
    env.query_rows(
        "SELECT action, key_id, detail FROM events ORDER BY seq",
        &[],
    )
    .into_iter()
    .map(|row| match &row[..] {
        [Some(action), Some(key_id), detail] => (action.clone(), key_id.clone(), detail.clone()),
        _ => panic!("an event without action or key: {row:?}"),
    })
    .collect()
}

fn ev(action: &str, key_id: &str, detail: Option<&str>) -> (String, String, Option<String>) {
    (action.into(), key_id.into(), detail.map(Into::into))
}

fn verify_code(env: &Env, key: &str) -> String {
    env.run_stdin(&["--json", "verify"], key).json()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn rotate_prints_the_new_key_like_create_and_links_both_ways() {
    let env = Env::new();
    let old = env.create(
        "Data Sync",
        &[
            "--service",
            "sms",
            "--description",
            "nightly",
            "--prefix",
            "acme",
        ],
    );
    let old_id = Env::id_of(&old);
    let run = env.run(&["rotate", &old_id, "--yes"]).code(0);
    assert_eq!(run.stdout.lines().count(), 1);
    let new = run.stdout.trim_end();
    let new_id = Env::id_of(new);
    assert!(new.starts_with("acme_"), "{run:#?}");
    assert!(run.stderr.contains("only time"), "{run:#?}");
    let new_obj = show(&env, &new_id);
    assert_eq!(new_obj["name"], "Data Sync");
    assert_eq!(new_obj["description"], "nightly");
    assert_eq!(new_obj["service"], "sms");
    assert_eq!(new_obj["prefix"], "acme");
    assert_eq!(new_obj["rotated_from"], old_id.as_str());
    assert_eq!(show(&env, &old_id)["replaced_by"], new_id.as_str());
    // Without --grace the old key is disabled at once.
    assert_eq!(verify_code(&env, &old), "DISABLED");
    assert_eq!(verify_code(&env, new), "VALID");
    assert_eq!(
        events(&env),
        [
            ev("create", &old_id, None),
            ev("rotate", &old_id, Some(&new_id)),
            ev("rotate", &new_id, Some(&old_id)),
        ]
    );
}

#[test]
fn rotate_json_carries_the_key_and_the_link() {
    let env = Env::new();
    let old_id = Env::id_of(&env.create("k", &[]));
    let v = env
        .run(&["--json", "rotate", &old_id, "--yes"])
        .code(0)
        .json();
    let key = v["key"].as_str().unwrap();
    assert_eq!(v["id"], Env::id_of(key).as_str());
    assert_eq!(v["rotated_from"], old_id.as_str());
    assert_eq!(v["status"], "enabled");
}

#[test]
fn grace_keeps_the_old_key_valid_until_it_expires() {
    let env = Env::new();
    let old = env.create("k", &[]);
    let run = env
        .run(&["rotate", &old, "--grace", "24h", "--yes"])
        .code(0);
    assert_eq!(verify_code(&env, &old), "VALID");
    let obj = show(&env, &Env::id_of(&old));
    let expires =
        chrono::DateTime::parse_from_rfc3339(obj["expires_at"].as_str().unwrap()).unwrap();
    let in_a_day = chrono::Utc::now().timestamp() + 86_400;
    assert!((expires.timestamp() - in_a_day).abs() < 60, "{obj}");
    assert_eq!(obj["status"], "enabled");
    assert!(run.stderr.contains("valid until"), "{run:#?}");

    let short = env.create("short", &[]);
    env.run(&["rotate", &short, "--grace", "1s", "--yes"])
        .code(0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(verify_code(&env, &short), "EXPIRED");
    let expired = env
        .run(&["--json", "list", "--status", "expired"])
        .code(0)
        .json();
    assert_eq!(expired.as_array().unwrap().len(), 1);
    assert_eq!(expired[0]["id"], Env::id_of(&short).as_str());
    assert!(env.run(&["list"]).stdout.contains("expired"));
}

#[test]
fn a_replacement_can_be_rotated_but_a_replaced_key_cannot() {
    let env = Env::new();
    let first = Env::id_of(&env.create("k", &[]));
    let second = Env::id_of(env.run(&["rotate", &first, "--yes"]).code(0).stdout.trim());
    let third = Env::id_of(env.run(&["rotate", &second, "--yes"]).code(0).stdout.trim());
    assert_eq!(show(&env, &third)["rotated_from"], second.as_str());
    let before = events(&env);
    let run = env.run(&["rotate", &first, "--yes"]).error(2, &second);
    assert_eq!(run.stdout, "");
    assert_eq!(events(&env), before, "a refused rotation records nothing");
    assert_eq!(env.count("keys"), 3);
}

#[test]
fn rotating_a_disabled_key_is_allowed_and_says_so() {
    let env = Env::new();
    let old = env.create("k", &[]);
    env.run(&["disable", &old]).code(0);
    let run = env.run(&["rotate", &old, "--yes"]).code(0);
    assert!(run.stderr.contains("already disabled"), "{run:#?}");
    assert_eq!(verify_code(&env, run.stdout.trim()), "VALID");
}

#[test]
fn rotate_and_delete_need_yes_without_a_terminal() {
    let env = Env::new();
    let key = env.create("k", &[]);
    let before = env.store_bytes();
    env.run(&["rotate", &key]).error(2, "--yes");
    env.run(&["delete", &key]).error(2, "--yes");
    assert_eq!(env.store_bytes(), before, "nothing changed");
}

#[test]
fn concurrent_rotations_leave_exactly_one_replacement() {
    for _ in 0..10 {
        let env = Env::new();
        let id = Env::id_of(&env.create("contested", &[]));
        let children: Vec<_> = (0..2)
            .map(|_| {
                env.command()
                    .args(["rotate", &id, "--yes"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 2], "one wins, one is refused");
        let loser = &outputs[codes.iter().position(|&c| c == 2).unwrap()];
        let stderr = String::from_utf8_lossy(&loser.stderr);
        let winner = &outputs[codes.iter().position(|&c| c == 0).unwrap()];
        let new_id = Env::id_of(String::from_utf8_lossy(&winner.stdout).trim());
        assert!(
            stderr.starts_with("error:") && stderr.contains(&new_id),
            "{stderr}"
        );
        assert_eq!(env.count("keys"), 2);
        let replacements =
            env.query_i64("SELECT count(*) FROM keys WHERE rotated_from = $1", &[&id]);
        assert_eq!(replacements, 1);
    }
}

#[test]
fn delete_removes_the_key_but_keeps_its_history() {
    let env = Env::new();
    let key = env.create("doomed", &[]);
    let id = Env::id_of(&key);
    env.run(&["disable", &id]).code(0);
    let run = env.run(&["delete", "doomed", "--yes"]).code(0);
    assert!(run.stdout.contains(&id), "{run:#?}");
    assert_eq!(verify_code(&env, &key), "NOT_FOUND");
    env.run(&["show", &id]).error(3, &id);
    assert_eq!(
        events(&env),
        [
            ev("create", &id, None),
            ev("disable", &id, None),
            ev("delete", &id, None)
        ]
    );
    let history = env.run(&["--json", "history", &id]).code(0).json();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "disable", "create"]);
    // The full key names the history too, and all of it shows in the store-wide log.
    env.run(&["history", &key]).code(0);
    assert!(env.run(&["history"]).code(0).stdout.contains("delete"));
    env.run(&["delete", &id, "--yes"]).error(3, &id);
}

#[test]
fn edit_changes_only_what_it_names_and_is_an_event() {
    let env = Env::new();
    let id = Env::id_of(&env.create(
        "old name",
        &[
            "--service",
            "sms",
            "--description",
            "d",
            "--expires-in",
            "1d",
        ],
    ));
    let before = show(&env, &id);
    let run = env
        .run(&["edit", &id, "--name", "  new name ", "--service", "email"])
        .code(0);
    assert!(run.stdout.contains("new name"), "{run:#?}");
    let after = show(&env, &id);
    assert_eq!(after["name"], "new name");
    assert_eq!(after["service"], "email");
    for field in [
        "description",
        "expires_at",
        "created_at",
        "prefix",
        "masked",
        "status",
        "use_count",
        "last_used_at",
    ] {
        assert_eq!(after[field], before[field], "{field} changed");
    }
    env.run(&["edit", &id, "--no-expiry"]).code(0);
    assert!(show(&env, &id)["expires_at"].is_null());
    env.run(&["edit", &id, "--expires-in", "2h"]).code(0);
    assert!(show(&env, &id)["expires_at"].is_string());
    env.run(&["edit", &id, "--description", ""]).code(0);
    assert!(show(&env, &id)["description"].is_null());
    let edits: Vec<_> = events(&env).into_iter().filter(|e| e.0 == "edit").collect();
    assert_eq!(edits.len(), 4);
    assert!(edits.iter().all(|e| e.1 == id));
    assert_eq!(edits[0].2.as_deref(), Some("name, service"));
    // The same values again change nothing and record nothing.
    env.run(&["edit", &id, "--name", "new name"]).code(0);
    assert_eq!(events(&env).iter().filter(|e| e.0 == "edit").count(), 4);
}

#[test]
fn edit_follows_the_input_rules_and_writes_nothing_on_error() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    let before = env.store_bytes();
    env.run(&["edit", &id]).error(2, "nothing to change");
    env.run(&["edit", &id, "--name", ""]).error(2, "name");
    env.run(&["edit", &id, "--name", "a\tb"]).error(2, "name");
    env.run(&["edit", &id, "--description", &"d".repeat(1025)])
        .error(2, "description");
    env.run(&["edit", &id, "--service", "SMS"])
        .error(2, "service");
    env.run(&["edit", &id, "--expires-in", "never"])
        .error(2, "expires-in");
    env.run(&["edit", &id, "--expires-in", "1d", "--no-expiry"])
        .code(2);
    env.run(&["edit", "nobody", "--name", "x"])
        .error(3, "nobody");
    assert_eq!(env.store_bytes(), before);
}

#[test]
fn show_prints_every_field_and_events_newest_first() {
    let env = Env::new();
    let id = Env::id_of(&env.create("shown", &["--service", "sms"]));
    env.run(&["disable", &id]).code(0);
    let run = env.run(&["show", "shown"]).code(0);
    for label in [
        "ID",
        "Name",
        "Description",
        "Service",
        "Prefix",
        "Key",
        "Status",
        "Created",
        "Last used",
        "Use count",
        "Expires",
        "Rotated from",
        "Replaced by",
        "History",
    ] {
        assert!(run.stdout.contains(label), "{label} missing: {run:#?}");
    }
    assert!(run.stdout.contains(&format!("ks_{id}_********")));
    let disable_at = run.stdout.find("disable").unwrap();
    let create_at = run.stdout.find("create").unwrap();
    assert!(disable_at < create_at, "newest first");
    let v = show(&env, &id);
    for field in KEY_FIELDS {
        assert!(v.get(field).is_some(), "{field} missing");
    }
    assert!(v.get("key").is_none());
    let evs = v["events"].as_array().unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0]["action"], "disable");
    assert_eq!(evs[1]["action"], "create");
    for e in evs {
        assert_eq!(e["key_id"], id.as_str());
        assert!(e["actor"].as_str().is_some_and(|a| !a.is_empty()));
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
        assert!(e.get("detail").is_some());
    }
}

#[test]
fn history_limit_and_empty() {
    let env = Env::new();
    env.run(&["init"]).code(0);
    let empty = env.run(&["history"]).code(0);
    assert!(empty.stderr.contains("No events"));
    assert_eq!(
        env.run(&["--json", "history"]).code(0).json(),
        serde_json::json!([])
    );
    env.create("a", &[]);
    env.create("b", &[]);
    let v = env
        .run(&["--json", "history", "--limit", "1"])
        .code(0)
        .json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    env.run(&["history", "nobody"]).error(3, "nobody");
}

/// Past the 500 rows the table is laid out from, and with more keys than
/// are looked up one by one, every row still names its key.
#[test]
fn a_long_history_names_every_key() {
    let env = Env::new();
    let ids = env.create_named((0..600).map(|i| format!("bulk {i}")));
    let table = env.run(&["history"]).code(0).stdout;
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 600);
    // Newest first: the last row is the first key made.
    for (row, (i, id)) in rows.iter().rev().zip(ids.iter().enumerate()) {
        let cells: Vec<&str> = row
            .split("  ")
            .filter(|c| !c.is_empty())
            .map(str::trim)
            .collect();
        assert_eq!(
            &cells[1..4],
            ["create", id.as_str(), &format!("bulk {i}")],
            "{row}"
        );
    }
}

#[test]
fn history_names_keys_shows_seconds_and_filters_by_action_and_age() {
    let env = Env::new();
    let a = Env::id_of(&env.create("alpha key", &[]));
    let b = Env::id_of(&env.create("beta key", &[]));
    env.run(&["disable", &a]).code(0);
    env.run(&["edit", &b, "--expires-in", "30d"]).code(0);
    env.run(&["delete", &b, "--yes"]).code(0);
    let table = env.run(&["history"]).code(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("NAME"), "{table}");
    // Newest first: the delete of b, whose name is gone with it.
    assert!(
        lines[1].contains("delete") && lines[1].contains("(deleted)"),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("disable") && l.contains("alpha key")),
        "{table}"
    );
    // The time has seconds: YYYY-MM-DD HH:MM:SS.
    let when = &lines[1].trim_start()[..19];
    assert!(
        when.as_bytes()[16] == b':' && when[17..].chars().all(|c| c.is_ascii_digit()),
        "{when}"
    );
    // The edit detail is in words.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("edit") && l.contains("expiry")),
        "{table}"
    );

    let actions = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "history"];
        all.extend_from_slice(args);
        env.run(&all)
            .code(0)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["action"].as_str().unwrap(),
                    e["key_id"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(actions(&["--action", "disable"]), [format!("disable {a}")]);
    assert_eq!(
        actions(&["--action", "CREATE", "--action", "delete"]),
        [
            format!("delete {b}"),
            format!("create {b}"),
            format!("create {a}")
        ]
    );
    assert_eq!(
        actions(&["--action", "create", "--limit", "1"]),
        [format!("create {b}")]
    );
    assert_eq!(actions(&[&b, "--action", "edit"]), [format!("edit {b}")]);
    // --since: the last hour holds all five; an event older than a day does not count.
    assert_eq!(actions(&["--since", "1h"]).len(), 5);
    env.exec(
        "UPDATE events SET at = at - 2 * 86400 WHERE action = 'create'",
        &[],
    );
    assert_eq!(
        actions(&["--since", "1d", "--action", "create"]),
        Vec::<String>::new()
    );
    assert_eq!(actions(&["--since", "3d", "--action", "create"]).len(), 2);
    let none = env
        .run(&["history", "--since", "1d", "--action", "create"])
        .code(0);
    assert!(none.stderr.contains("No events match"), "{}", none.stderr);

    // Bad filters: exit 2, nothing else said.
    env.run(&["history", "--action", "explode"])
        .error(2, "--action");
    env.run(&["history", "--since", "soon"]).error(2, "--since");
}

/// The actor of an event is the user database's name for the uid; a uid
/// with no entry there is recorded as `uid:N`, and `$USER` (which anyone can
/// set) only as a note beside it.
#[test]
fn a_user_without_a_passwd_entry_is_recorded_by_uid() {
    if !crate::common::running_as_root() {
        eprintln!("skipped: only root can run keysmith as a uid without a passwd entry");
        return;
    }
    let env = Env::new();
    let mut cmd = env.command_as(54_321, 54_321);
    cmd.env("USER", "root");
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    env.run_with(cmd, &["create", "--name", "nobody's"], None)
        .code(0);
    let actors = env.query_strings("SELECT actor FROM events", &[]);
    assert_eq!(actors, ["uid:54321 (USER=root)"]);
    // A user the database knows is recorded by name.
    env.create("root's", &[]);
    let actors = env.query_strings("SELECT actor FROM events ORDER BY seq", &[]);
    assert_eq!(actors[1], "root");
}

#[test]
fn edit_no_service_and_enable_hints() {
    let env = Env::new();
    let key = env.create("k", &["--service", "sms"]);
    let id = Env::id_of(&key);
    env.run(&["edit", &id, "--no-service"]).code(0);
    assert_eq!(show(&env, &id)["service"], serde_json::Value::Null);
    env.run_stdin(&["verify"], &key).code(0);
    env.run(&["edit", &id, "--service", "sms", "--no-service"])
        .code(2);
    let events = env.run(&["--json", "history", &id]).code(0).json();
    assert!(
        events[0]["detail"].as_str().unwrap().contains("service"),
        "{events}"
    );

    // Enabling an expired key says why it still fails, and how to lift it.
    let gone = Env::id_of(&env.create("short", &["--expires-in", "1s"]));
    env.run(&["disable", &gone]).code(0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let run = env.run(&["enable", &gone]).code(0);
    assert!(
        run.stderr
            .contains(&format!("keysmith edit {gone} --no-expiry")),
        "{run:#?}"
    );
    // Enabling a replaced key warns of its replacement.
    let run = env.run(&["rotate", &id, "--yes"]).code(0);
    let new = Env::id_of(run.stdout.trim());
    let run = env.run(&["enable", &id]).code(0);
    assert!(
        run.stderr.contains(&format!("replaced by {new}")),
        "{run:#?}"
    );
}

/// One style for what people read: a sentence, capitalised and ended, that
/// names the key; edit details in words, not JSON field names.
#[test]
fn human_messages_are_sentences_in_words() {
    let env = Env::new();
    let id = Env::id_of(&env.create("Data Sync", &[]));
    let said = |args: &[&str]| env.run(args).code(0).stdout;
    assert_eq!(
        said(&["disable", &id]),
        format!("Key {id} (Data Sync) is now disabled.\n")
    );
    assert_eq!(
        said(&["disable", &id]),
        format!("Key {id} (Data Sync) was already disabled; status: disabled.\n")
    );
    assert_eq!(
        said(&["enable", &id]),
        format!("Key {id} (Data Sync) is now enabled.\n")
    );
    assert_eq!(
        said(&[
            "edit",
            &id,
            "--expires-in",
            "30d",
            "--uses",
            "5",
            "--rate",
            "1/1m"
        ]),
        format!("Updated key {id} (Data Sync): expiry, uses left, rate limit.\n")
    );
    assert_eq!(
        said(&["edit", &id, "--uses", "5"]),
        format!("Key {id} (Data Sync) already had these values; nothing changed.\n")
    );
    assert_eq!(
        said(&["delete", &id, "--yes"]),
        format!("Deleted key {id} (Data Sync).\n")
    );
}
