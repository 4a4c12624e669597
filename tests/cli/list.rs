//! `list` (docs/src/commands/list.md): masked keys, newest first, filters, JSON fields.

use crate::common::{Env, KEY_FIELDS as FIELDS};

/// Every 8-character piece of each key's secret: none may ever be shown.
fn secret_pieces(keys: &[String]) -> Vec<String> {
    keys.iter()
        .flat_map(|k| {
            let secret = &k[k.len() - 38..];
            (0..=secret.len() - 8).map(move |i| secret[i..i + 8].to_owned())
        })
        .collect()
}

fn three_keys(env: &Env) -> Vec<String> {
    vec![
        env.create("alpha", &["--service", "sms"]),
        env.create("beta", &["--service", "email"]),
        env.create("gamma", &[]),
    ]
}

#[test]
fn table_has_the_columns_and_masks_every_key() {
    let env = Env::new();
    let keys = three_keys(&env);
    let run = env.run(&["list"]).code(0);
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        header,
        ["KEY", "NAME", "SERVICE", "STATUS", "CREATED", "LAST USED"]
    );
    for key in &keys {
        let id = Env::id_of(key);
        assert!(
            run.stdout.contains(&format!("ks_{id}_********")),
            "{run:#?}"
        );
    }
    for piece in secret_pieces(&keys) {
        assert!(!run.stdout.contains(&piece) && !run.stderr.contains(&piece));
    }
    assert!(run.stdout.contains("never"), "LAST USED shows never");
}

#[test]
fn json_has_exactly_the_key_object_fields_and_no_secret() {
    let env = Env::new();
    let keys = three_keys(&env);
    let run = env.run(&["--json", "list"]).code(0);
    let list = run.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for obj in list {
        let names: Vec<&String> = obj.as_object().unwrap().keys().collect();
        let mut want = FIELDS.to_vec();
        want.sort();
        let mut got: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        got.sort();
        assert_eq!(got, want);
    }
    for piece in secret_pieces(&keys) {
        assert!(!run.stdout.contains(&piece));
    }
}

/// `keysmith --json list ARGS`, its key objects.
fn list_json(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "list"];
    all.extend_from_slice(args);
    let list = env.run(&all).code(0).json();
    list.as_array().unwrap().clone()
}

#[test]
fn newest_first_and_filters() {
    let env = Env::new();
    three_keys(&env);
    let names = |args: &[&str]| -> Vec<String> {
        list_json(&env, args)
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&[]), ["gamma", "beta", "alpha"]);
    assert_eq!(names(&["--service", "sms"]), ["alpha"]);
    assert_eq!(names(&["--limit", "2"]), ["gamma", "beta"]);
    env.run(&["disable", "beta"]).code(0);
    assert_eq!(names(&["--status", "disabled"]), ["beta"]);
    assert_eq!(names(&["--status", "enabled"]), ["gamma", "alpha"]);
    assert!(names(&["--status", "expired"]).is_empty());
    env.create("delta", &["--expires-in", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(names(&["--status", "expired"]), ["delta"]);
    assert_eq!(names(&["--status", "enabled"]), ["gamma", "alpha"]);
    let table = env.run(&["list", "--status", "expired"]).code(0);
    assert!(table.stdout.contains("expired"), "{table:#?}");
}

#[test]
fn sort_orders_and_expiring_within_lists_soonest_first() {
    let env = Env::new();
    let beta = env.create("beta", &["--expires-in", "3d"]);
    env.create("Alpha", &[]);
    let gamma = env.create("gamma", &["--expires-in", "1d"]);
    env.create("alpha", &["--expires-in", "2d"]);
    env.run_stdin(&["verify"], &beta).code(0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.run_stdin(&["verify"], &gamma).code(0);
    let names = |args: &[&str]| -> Vec<String> {
        list_json(&env, args)
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&[]), ["alpha", "gamma", "Alpha", "beta"]);
    assert_eq!(names(&["--sort", "created"]), names(&[]));
    assert_eq!(
        names(&["--sort", "name"]),
        ["alpha", "Alpha", "beta", "gamma"]
    );
    assert_eq!(
        names(&["--sort", "last-used"]),
        ["gamma", "beta", "alpha", "Alpha"]
    );
    assert_eq!(
        names(&["--sort", "expires"]),
        ["gamma", "alpha", "beta", "Alpha"]
    );
    // --expiring-within lists what expires soonest first, unless told otherwise.
    assert_eq!(names(&["--expiring-within", "2d12h"]), ["gamma", "alpha"]);
    assert_eq!(
        names(&["--expiring-within", "7d", "--sort", "created"]),
        ["alpha", "gamma", "beta"]
    );
    // The limit counts in the chosen order; the table and -q follow it too.
    assert_eq!(
        names(&["--sort", "name", "--limit", "2"]),
        ["alpha", "Alpha"]
    );
    let table = env.run(&["list", "--sort", "expires"]).code(0).stdout;
    let order: Vec<&str> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(order, ["gamma", "alpha", "beta", "Alpha"], "{table}");
    let quiet = env.run(&["list", "-q", "--sort", "name"]).code(0).stdout;
    let by_name: Vec<String> = list_json(&env, &["--sort", "name"])
        .iter()
        .map(|k| format!("{}\n", k["id"].as_str().unwrap()))
        .collect();
    assert_eq!(quiet, by_name.concat());
    env.run(&["list", "--sort", "size"]).code(2);
}

#[test]
fn empty_store_is_friendly_and_succeeds() {
    let env = Env::new();
    env.run(&["init"]).code(0);
    let run = env.run(&["list"]).code(0);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("No keys"), "{run:#?}");
    let json = env.run(&["--json", "list"]).code(0);
    assert_eq!(json.json(), serde_json::json!([]));
}

#[test]
fn bad_filters_are_usage_errors() {
    let env = Env::new();
    env.run(&["list", "--service", "Bad_Service"])
        .error(2, "service");
    env.run(&["list", "--status", "sleeping"]).code(2);
    env.run(&["list", "--limit", "0"]).code(2);
}

/// Uses are listed with the right keys, whether the listing is unfiltered
/// (uses merged in beside the keys), limited, or filtered (uses joined).
#[test]
fn uses_are_listed_with_their_own_keys() {
    let env = Env::new();
    let keys: Vec<String> = (0..7).map(|i| env.create(&format!("k{i}"), &[])).collect();
    // k1 once, k3 three times, k6 (the newest) twice, k2 twice and then
    // deleted: its uses go with it.
    let uses = [
        &keys[1], &keys[3], &keys[3], &keys[3], &keys[6], &keys[6], &keys[2], &keys[2],
    ];
    let input: String = uses.iter().map(|k| format!("{k}\n")).collect();
    env.run_stdin(&["verify", "--stdin-all"], &input).code(0);
    env.run(&["delete", &keys[2], "--yes"]).code(0);

    let listed = |args: &[&str]| -> Vec<(String, i64, bool)> {
        list_json(&env, args)
            .iter()
            .map(|k| {
                let id = k["id"].as_str().unwrap().to_owned();
                let count = k["use_count"].as_i64().unwrap();
                let used = !k["last_used_at"].is_null();
                assert_eq!(used, count > 0, "{k}");
                // The store's own figures, read beside it.
                assert_eq!(env.usage(&id).1, count, "{k}");
                (k["name"].as_str().unwrap().to_owned(), count, used)
            })
            .collect()
    };
    let want = |names: &[(&str, i64)]| -> Vec<(String, i64, bool)> {
        names
            .iter()
            .map(|(n, c)| (n.to_string(), *c, *c > 0))
            .collect()
    };
    let all = want(&[
        ("k6", 2),
        ("k5", 0),
        ("k4", 0),
        ("k3", 3),
        ("k1", 1),
        ("k0", 0),
    ]);
    assert_eq!(listed(&[]), all);
    assert_eq!(listed(&["--limit", "4"]), all[..4]);
    assert_eq!(listed(&["--status", "enabled"]), all);
}

#[test]
fn search_matches_names_and_descriptions_and_quiet_prints_ids() {
    let env = Env::new();
    let zap = Env::id_of(&env.create("Zapier sync", &[]));
    let hook = Env::id_of(&env.create("hook", &["--description", "for ZAPIER"]));
    let other = Env::id_of(&env.create("billing", &[]));
    let run = env.run(&["list", "--search", "zapier"]).code(0);
    assert!(
        run.stdout.contains(&zap) && run.stdout.contains(&hook),
        "{run:#?}"
    );
    assert!(!run.stdout.contains(&other), "{run:#?}");
    // The limit counts what matches.
    let run = env
        .run(&["--json", "list", "--search", "ZAP", "--limit", "1"])
        .code(0);
    assert_eq!(run.json().as_array().unwrap().len(), 1);
    let run = env.run(&["list", "-q"]).code(0);
    let mut ids: Vec<&str> = run.stdout.lines().collect();
    ids.sort();
    let mut want = vec![zap.as_str(), hook.as_str(), other.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let run = env.run(&["list", "--quiet", "--search", "billing"]).code(0);
    assert_eq!(run.stdout, format!("{other}\n"));
    env.run(&["list", "--search", "nothing like it"])
        .code(0)
        .stderr
        .contains("No keys match")
        .then_some(())
        .expect("a friendly line");
    env.run(&["list", "-q", "--wide"]).code(2);
}

#[test]
fn a_missing_store_is_named_and_a_new_one_announced() {
    if crate::common::backend() != crate::common::Backend::Sqlite {
        return; // A PostgreSQL store has no path to mistype.
    }
    let env = Env::new();
    let path = env.store();
    // Issue 24: a missing store is refused (exit 4), never listed as empty.
    let refused = format!("there is no keysmith store at {path} (from KEYSMITH_DB)");
    env.run(&["list"]).error(4, &refused);
    env.run(&["history"]).error(4, &refused);
    env.run(&["disable", "zapier"]).error(4, &refused);
    assert!(!env.store_exists());
    let run = env.run(&["create", "--name", "first"]).code(0);
    assert!(
        run.stderr
            .contains(&format!("Created a new store at {path}")),
        "{run:#?}"
    );
    let run = env.run(&["create", "--name", "second"]).code(0);
    assert!(!run.stderr.contains("Created a new store"), "{run:#?}");
}
