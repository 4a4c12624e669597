//! SPEC §3 selectors with `enable` / `disable`.

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
fn missing_store_is_no_such_key_and_stays_missing() {
    let env = Env::new();
    env.run(&["disable", "anything"]).error(3, "anything");
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
