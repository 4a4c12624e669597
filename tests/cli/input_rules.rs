//! docs/src/input-rules.md: every rule is refused with exit 2, naming the field, writing nothing.

use crate::common::Env;

fn refused(env: &Env, args: &[&str], field: &str) {
    let keys = env.count("keys");
    let events = env.count("events");
    let mut all = vec!["create"];
    all.extend_from_slice(args);
    let run = env.run(&all).error(2, field);
    assert_eq!(run.stdout, "", "nothing printed on stdout: {run:#?}");
    assert_eq!(env.count("keys"), keys, "{args:?} wrote a key");
    assert_eq!(env.count("events"), events, "{args:?} wrote an event");
}

fn cases() -> Vec<(Vec<String>, &'static str)> {
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (s(&["--name", ""]), "name"),
        (s(&["--name", "   "]), "name"),
        (s(&["--name", &"n".repeat(129)]), "name"),
        (s(&["--name", "line\nbreak"]), "name"),
        (s(&["--name", "tab\there"]), "name"),
        (s(&["--name", "esc\u{1b}[31m"]), "name"),
        (
            s(&["--name", "ok", "--description", &"d".repeat(1025)]),
            "description",
        ),
        (
            s(&["--name", "ok", "--description", "bell\u{7}"]),
            "description",
        ),
        (s(&["--name", "ok", "--service", "SMS"]), "service"),
        (s(&["--name", "ok", "--service", "-sms"]), "service"),
        (
            s(&["--name", "ok", "--service", &"s".repeat(33)]),
            "service",
        ),
        (s(&["--name", "ok", "--service", "sms_eu"]), "service"),
        (s(&["--name", "ok", "--prefix", "1ks"]), "prefix"),
        (s(&["--name", "ok", "--prefix", "Ks"]), "prefix"),
        (s(&["--name", "ok", "--prefix", "k_s"]), "prefix"),
        (s(&["--name", "ok", "--prefix", &"p".repeat(17)]), "prefix"),
        (s(&["--name", "ok", "--expires-in", "soon"]), "expires-in"),
        (s(&["--name", "ok", "--expires-in", "0s"]), "expires-in"),
        (s(&["--name", "ok", "--expires-in", "-1d"]), "expires-in"),
        (s(&["--name", "ok", "--expires-in", "12"]), "expires-in"),
    ]
}

#[test]
fn each_rule_is_refused_on_a_new_store() {
    let env = Env::new();
    for (args, field) in cases() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&env, &args, field);
        assert!(!env.store_exists(), "{args:?} created the store");
    }
}

#[test]
fn each_rule_is_refused_on_an_existing_store() {
    let env = Env::new();
    env.create("existing", &[]);
    for (args, field) in cases() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&env, &args, field);
    }
}

#[test]
fn limits_are_inclusive_and_text_is_trimmed() {
    let env = Env::new();
    let name = "n".repeat(128);
    let description = "d".repeat(1024);
    let v = env
        .run(&[
            "--json",
            "create",
            "--name",
            &format!("  {name} "),
            "--description",
            &description,
            "--service",
            &"s".repeat(32),
            "--prefix",
            &"p".repeat(16),
        ])
        .code(0)
        .json();
    assert_eq!(v["name"], name.as_str());
    assert_eq!(v["description"], description.as_str());
    let unicode = env
        .run(&["--json", "create", "--name", "clé 🔑 ключ"])
        .code(0)
        .json();
    assert_eq!(unicode["name"], "clé 🔑 ключ");
}

#[test]
fn clap_errors_exit_2() {
    let env = Env::new();
    env.run(&["create", "--bogus"]).code(2);
    env.run(&["frobnicate"]).code(2);
    env.run(&["enable"]).code(2);
}
