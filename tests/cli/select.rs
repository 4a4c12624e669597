//! Selectors (docs/src/conventions.md) with `enable` / `disable`.

use crate::common::Env;

fn disabled(env: &Env, id: &str) -> bool {
    let flag = env.query_i64(
        "SELECT CAST(disabled AS INTEGER) FROM keys WHERE id = $1",
        &[id],
    );
    assert!(flag == 0 || flag == 1, "disabled is {flag}");
    flag == 1
}

fn events(env: &Env, id: &str, action: &str) -> i64 {
    env.query_i64(
        "SELECT count(*) FROM events WHERE key_id = $1 AND action = $2",
        &[id, action],
    )
}

#[test]
fn by_id_full_key_and_unique_name() {
    let env = Env::new();
    let key = env.create("billing", &[]);
    let id = Env::id_of(&key);
    for selector in [id.as_str(), key.as_str(), "billing"] {
        let run = env.run(&["disable", selector]).code(0);
        assert!(
            run.stdout.contains(&id) && run.stdout.contains("disabled"),
            "{run:#?}"
        );
        assert!(
            !run.stdout.contains(&key[key.len() - 38..]),
            "the secret is never echoed"
        );
        assert!(disabled(&env, &id));
        env.run(&["enable", selector]).code(0);
        assert!(!disabled(&env, &id));
    }
}

#[test]
fn twice_is_fine_and_records_one_event() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    env.run(&["disable", &id]).code(0);
    let again = env.run(&["disable", &id]).code(0);
    assert!(again.stdout.contains("already"), "{again:#?}");
    assert_eq!(events(&env, &id, "disable"), 1);
    env.run(&["enable", &id]).code(0);
    env.run(&["enable", &id]).code(0);
    assert_eq!(events(&env, &id, "enable"), 1);
}

#[test]
fn json_prints_the_key_object() {
    let env = Env::new();
    let id = Env::id_of(&env.create("k", &[]));
    let v = env.run(&["--json", "disable", &id]).code(0).json();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "disabled");
    assert!(v.get("key").is_none());
}

#[test]
fn unknown_selector_exits_3() {
    let env = Env::new();
    env.create("k", &[]);
    env.run(&["disable", "nope"]).error(3, "nope");
    env.run(&["enable", "AAAAAAAAAAAA"])
        .error(3, "AAAAAAAAAAAA");
    let stranger = keysmith::mint("ks");
    let run = env
        .run(&["disable", stranger.secret.expose()])
        .error(3, &stranger.id);
    assert!(!run.stderr.contains(&stranger.secret.expose()[16..]));
    assert_eq!(
        env.count("events"),
        1,
        "nothing recorded for a failed command"
    );
}

#[test]
fn missing_store_is_refused_and_stays_missing() {
    let env = Env::new();
    env.run(&["disable", "anything"])
        .error(4, "there is no keysmith store at");
    assert!(!env.store_exists());
}

#[test]
fn shared_name_exits_3_listing_both_ids() {
    let env = Env::new();
    let a = Env::id_of(&env.create("twin", &[]));
    let b = Env::id_of(&env.create("twin", &[]));
    let run = env.run(&["disable", "twin"]).error(3, "twin");
    assert!(
        run.stderr.contains(&a) && run.stderr.contains(&b),
        "{run:#?}"
    );
    assert!(!disabled(&env, &a) && !disabled(&env, &b));
}

#[test]
fn an_id_wins_over_a_name() {
    let env = Env::new();
    let target = Env::id_of(&env.create("target", &[]));
    // A second key whose name is the first key's id.
    let decoy = Env::id_of(&env.create(&target, &[]));
    env.run(&["disable", &target]).code(0);
    assert!(disabled(&env, &target));
    assert!(!disabled(&env, &decoy));
}

#[test]
fn the_masked_key_from_the_list_and_prefix_and_id_select() {
    let env = Env::new();
    let key = env.create("zapier", &["--prefix", "acme"]);
    let id = Env::id_of(&key);
    let masked = format!("acme_{id}_********");
    env.run(&["disable", &masked]).code(0);
    assert!(disabled(&env, &id));
    env.run(&["enable", &format!("acme_{id}")]).code(0);
    assert!(!disabled(&env, &id));
    // Pasted with the spaces around it that a table leaves.
    env.run(&["disable", &format!("  {masked} ")]).code(0);
    assert!(disabled(&env, &id));
    let run = env
        .run(&["show", "acme_AAAAAAAAAAAA_********"])
        .error(3, "AAAAAAAAAAAA");
    assert!(!run.stderr.contains("********"), "{run:#?}");
}

#[test]
fn after_a_rotation_the_name_lists_each_key_with_its_state() {
    let env = Env::new();
    let old = Env::id_of(&env.create("zapier", &[]));
    let run = env.run(&["rotate", &old, "--yes"]).code(0);
    let new = Env::id_of(run.stdout.trim());
    let run = env.run(&["show", "zapier"]).error(3, "matches 2 keys");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    let line = &run.stderr;
    assert!(
        line.contains(&format!("{old} (disabled, created ")),
        "{line}"
    );
    assert!(line.contains(&format!("replaced by {new})")), "{line}");
    assert!(
        line.contains(&format!("{new} (enabled, created ")),
        "{line}"
    );
}

/// Issue 24, item 12: `-` reads a full key from stdin for every command
/// that takes one, so a leaked key never goes on a command line.
#[test]
fn a_dash_reads_the_full_key_from_stdin() {
    let env = Env::new();
    let key = env.create("leaked", &[]);
    let id = Env::id_of(&key);
    let stdin = format!("{key}\n");
    let run = env.run_stdin(&["disable", "-"], &stdin).code(0);
    assert!(run.stdout.contains(&id), "{run:#?}");
    assert!(disabled(&env, &id));
    env.run_stdin(&["enable", "-"], &stdin).code(0);
    assert!(!disabled(&env, &id));
    let shown = env
        .run_stdin(&["--json", "show", "-"], &stdin)
        .code(0)
        .json();
    assert_eq!(shown["id"], id.as_str());
    env.run_stdin(&["edit", "-", "--description", "from stdin"], &stdin)
        .code(0);
    let history = env
        .run_stdin(&["--json", "history", "-"], &stdin)
        .code(0)
        .json();
    assert_eq!(history.as_array().unwrap().len(), 4, "{history}");
    let rotated = env.run_stdin(&["rotate", "-", "--yes"], &stdin).code(0);
    assert!(rotated.stdout.starts_with("ks_"), "{rotated:#?}");
    env.run_stdin(&["delete", "-", "--yes"], &stdin).code(0);
    env.run_stdin(&["verify", "-"], &stdin).code(1);
    assert!(!rotated.stderr.contains(&key), "{rotated:#?}");
}

#[test]
fn a_dash_with_no_key_on_stdin_is_refused_quoting_nothing() {
    let env = Env::new();
    let key = env.create("k", &[]);
    let id = Env::id_of(&key);
    // A key cut short: said what is wrong, never shown.
    let cut = &key[..key.len() - 2];
    let run = env
        .run_stdin(&["disable", "-"], &format!("{cut}\n"))
        .error(2, "reads a full key from stdin");
    assert!(!run.stderr.contains(cut), "{run:#?}");
    env.run_stdin(&["disable", "-"], "")
        .error(2, "reads a full key from stdin");
    assert!(!disabled(&env, &id));
    assert_eq!(events(&env, &id, "disable"), 0);
}

/// A key that is optional (history's) never makes a command read stdin:
/// only `-` does.
#[test]
fn without_a_dash_stdin_is_never_read() {
    let env = Env::new();
    env.create("k", &[]);
    // stdin left open and empty: a read would wait for ever.
    let mut cmd = env.command();
    cmd.args(["history"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::common::spawn(&mut cmd);
    let _stdin = child.stdin.take();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "history waited for stdin"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
}

/// Issue 24, item 10: a name given to `create` that other keys have draws
/// a warning with their ids (a shared name cannot select a key later);
/// the key and JSON on stdout are as ever.
#[test]
fn a_name_already_taken_draws_a_warning_naming_the_keys() {
    let env = Env::new();
    let first = Env::id_of(&env.create("shared", &[]));
    let run = env.run(&["create", "--name", "shared"]).code(0);
    assert!(
        run.stdout.starts_with("ks_") && run.stdout.lines().count() == 1,
        "{run:#?}"
    );
    assert!(run.stderr.contains("warning:"), "{run:#?}");
    assert!(run.stderr.contains(&first), "{run:#?}");
    let json = env.run(&["--json", "create", "--name", "shared"]).code(0);
    json.json();
    assert!(json.stderr.contains("warning:"), "{json:#?}");
    // Unique names: no warning.
    let run = env.run(&["create", "--name", "unique"]).code(0);
    assert!(!run.stderr.contains("warning"), "{run:#?}");

    // create --from: names taken in the store and repeated in the input.
    let input = "{\"name\": \"shared\"}\n{\"name\": \"twin\"}\n{\"name\": \"twin\"}\n{\"name\": \"alone\"}\n";
    let run = env.run_stdin(&["create", "--from", "-"], input).code(0);
    assert_eq!(run.stdout.lines().count(), 4, "{run:#?}");
    assert!(run.stderr.contains("line 1"), "{run:#?}");
    assert!(run.stderr.contains(&first), "{run:#?}");
    assert!(run.stderr.contains("line 3"), "{run:#?}");
    assert!(!run.stderr.contains("alone"), "{run:#?}");
}
