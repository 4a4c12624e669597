//! docs/src/limits.md on the CLI: scopes, remaining uses and rate limits through
//! create, create --from, edit, rotate, verify and the key object. On both
//! backends.

use crate::common::Env;

fn key_json(env: &Env, selector: &str) -> serde_json::Value {
    env.run(&["--json", "show", selector]).code(0).json()
}

fn verify_code(env: &Env, key: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--json", "verify"];
    all.extend_from_slice(args);
    let run = env.run_stdin(&all, key);
    (run.code, run.json()["code"].as_str().unwrap().to_owned())
}

#[test]
fn create_show_list_and_the_key_object_carry_the_limits() {
    let env = Env::new();
    let run = env
        .run(&[
            "--json",
            "create",
            "--name",
            "sms sender",
            "--service",
            "sms",
            "--scope",
            "sms:send",
            "--scope",
            "sms:read",
            "--scope",
            "sms:send",
            "--uses",
            "10000",
            "--rate",
            "100/1m",
        ])
        .code(0);
    let created = run.json();
    assert_eq!(
        created["scopes"],
        serde_json::json!(["sms:send", "sms:read"])
    );
    assert_eq!(created["remaining_uses"], 10000);
    assert_eq!(
        created["rate_limit"],
        serde_json::json!({"limit": 100, "per_seconds": 60})
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let shown = key_json(&env, &id);
    for field in ["scopes", "remaining_uses", "rate_limit"] {
        assert_eq!(shown[field], created[field], "{field}");
    }
    let text = env.run(&["show", &id]).code(0).stdout;
    for row in [
        "Scopes",
        "sms:send",
        "Uses left",
        "10000",
        "Rate limit",
        "100/1m",
    ] {
        assert!(text.contains(row), "{row} missing: {text}");
    }
    let wide = env.run(&["list", "--wide"]).code(0).stdout;
    for column in ["SCOPES", "USES LEFT", "RATE", "100/1m", "10000"] {
        assert!(wide.contains(column), "{column} missing: {wide}");
    }

    // A key without limits: the fields say so, and verifies as before.
    let plain = env.create("plain", &[]);
    let v = key_json(&env, &Env::id_of(&plain));
    assert_eq!(v["scopes"], serde_json::json!([]));
    assert_eq!(v["remaining_uses"], serde_json::Value::Null);
    assert_eq!(v["rate_limit"], serde_json::Value::Null);
    assert_eq!(verify_code(&env, &plain, &[]), (0, "VALID".into()));
    assert_eq!(key_json(&env, &Env::id_of(&plain))["use_count"], 1);
}

#[test]
fn bad_limits_are_refused_with_exit_2_and_nothing_written() {
    let env = Env::new();
    let key = env.create("k", &["--uses", "5"]);
    let id = Env::id_of(&key);
    let cases: &[(&[&str], &str)] = &[
        (&["--scope", "SMS:send"], "scope"),
        (&["--scope", ""], "scope"),
        (&["--scope", "-sms"], "scope"),
        (&["--scope", "sms:*:send"], "scope"),
        (&["--scope", "*"], "scope"),
        (&["--scope", "sms send"], "scope"),
        // The keysmith: namespace is the root keys' (docs/src/limits.md).
        (&["--scope", "keysmith:deploy"], "reserved for root keys"),
        (&["--scope", "keysmith:keys:*"], "reserved for root keys"),
        (
            &["--scope", "keysmith:keys:read", "--scope", "sms:send"],
            "either keysmith: scopes",
        ),
        (&["--uses", "0"], "uses"),
        (&["--uses", "-1"], "uses"),
        (&["--uses", "1.5"], "uses"),
        (&["--uses", "1000000000001"], "uses"),
        (&["--uses", "99999999999999999999999"], "uses"),
        (&["--rate", "100"], "rate"),
        (&["--rate", "0/1m"], "rate"),
        (&["--rate", "1000001/1m"], "rate"),
        (&["--rate", "100/2d"], "rate"),
        (&["--rate", "100/0s"], "rate"),
        (&["--rate", "100/m"], "rate"),
    ];
    let before = env.store_bytes();
    for (args, field) in cases {
        let mut create = vec!["create", "--name", "new"];
        create.extend_from_slice(args);
        let run = env.run(&create).error(2, field);
        assert_eq!(run.stdout, "", "{args:?}");
        let mut edit = vec!["edit", &id];
        edit.extend_from_slice(args);
        env.run(&edit).error(2, field);
    }
    let scopes: Vec<String> = (0..65).map(|i| format!("s{i}")).collect();
    let mut many = vec!["create", "--name", "new"];
    for s in &scopes {
        many.extend(["--scope", s.as_str()]);
    }
    env.run(&many).error(2, "64 scopes");
    env.run(&["create", "--name", "new", "--scope", &"s".repeat(65)])
        .error(2, "scope");
    // A batch with one bad line writes none of it.
    let lines = "{\"name\": \"a\", \"uses\": 3}\n{\"name\": \"b\", \"rate\": \"5/1x\"}\n";
    env.run_stdin(&["create", "--from", "-"], lines)
        .error(2, "line 2");
    let lines = "{\"name\": \"a\", \"scopes\": \"sms:send\"}\n";
    env.run_stdin(&["create", "--from", "-"], lines)
        .error(2, "line 1");
    let lines = "{\"name\": \"a\", \"scopes\": [\"keysmith:*\", \"sms:*\"]}\n";
    env.run_stdin(&["create", "--from", "-"], lines)
        .error(2, "line 1");
    assert!(env.store_bytes() == before, "a refused command wrote");
}

#[test]
fn root_scopes_are_taken_alone() {
    let env = Env::new();
    let mut args = vec!["--json", "create", "--name", "admin"];
    for scope in ["keysmith:keys:create", "keysmith:keys:read", "keysmith:*"] {
        args.extend(["--scope", scope]);
    }
    let created = env.run(&args).code(0).json();
    assert_eq!(
        created["scopes"],
        serde_json::json!(["keysmith:keys:create", "keysmith:keys:read", "keysmith:*"])
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    // Never VALID for a verification: NOT_FOUND, and a note for the operator.
    let run = env.run_stdin(&["verify"], &key).code(1);
    assert_eq!(run.stdout, "invalid: NOT_FOUND\n");
    assert!(
        run.stderr.contains("note: this is a root key"),
        "{}",
        run.stderr
    );
    assert_eq!(verify_code(&env, &key, &[]), (1, "NOT_FOUND".into()));
    let run = env.run_stdin(&["verify", "--stdin-all"], &key).code(1);
    assert!(run.stdout.starts_with("1 NOT_FOUND -"), "{}", run.stdout);
    assert!(
        run.stderr.contains("note: line 1 is a root key"),
        "{}",
        run.stderr
    );
    // Replaced by ordinary scopes: still never both.
    env.run(&["edit", &id, "--scope", "sms:send"]).code(0);
    assert_eq!(
        key_json(&env, &id)["scopes"],
        serde_json::json!(["sms:send"])
    );
    assert_eq!(verify_code(&env, &key, &[]), (0, "VALID".into()));
    env.run(&["edit", &id, "--scope", "sms:send", "--scope", "keysmith:*"])
        .error(2, "either keysmith: scopes");
    assert_eq!(
        key_json(&env, &id)["scopes"],
        serde_json::json!(["sms:send"])
    );
}

#[test]
fn create_from_takes_scopes_uses_and_rate() {
    let env = Env::new();
    let lines = concat!(
        "{\"name\": \"a\", \"scopes\": [\"sms:*\"], \"uses\": 7, \"rate\": \"5/1s\"}\n",
        "{\"name\": \"b\", \"uses\": \"12\"}\n",
        "{\"name\": \"c\"}\n",
    );
    let run = env.run_stdin(&["create", "--from", "-"], lines).code(0);
    let made: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(made[0]["scopes"], serde_json::json!(["sms:*"]));
    assert_eq!(made[0]["remaining_uses"], 7);
    assert_eq!(made[0]["rate_limit"]["limit"], 5);
    assert_eq!(made[0]["rate_limit"]["per_seconds"], 1);
    assert_eq!(made[1]["remaining_uses"], 12);
    assert_eq!(made[2]["remaining_uses"], serde_json::Value::Null);
    let key = made[0]["key"].as_str().unwrap();
    assert_eq!(
        verify_code(&env, key, &["--scope", "sms:send"]),
        (0, "VALID".into())
    );
    assert_eq!(
        key_json(&env, made[0]["id"].as_str().unwrap())["remaining_uses"],
        6
    );
    // The flags cannot be mixed with --from.
    env.run_stdin(&["create", "--from", "-", "--uses", "3"], lines)
        .code(2);
}

#[test]
fn edit_sets_and_clears_the_limits_and_history_names_them() {
    let env = Env::new();
    let key = env.create("k", &["--scope", "a:b"]);
    let id = Env::id_of(&key);
    env.run(&[
        "edit", &id, "--scope", "x:y", "--scope", "x:z", "--uses", "2", "--rate", "10/1h",
    ])
    .code(0);
    let v = key_json(&env, &id);
    assert_eq!(v["scopes"], serde_json::json!(["x:y", "x:z"]), "replaced");
    assert_eq!(v["remaining_uses"], 2);
    assert_eq!(
        v["rate_limit"],
        serde_json::json!({"limit": 10, "per_seconds": 3600})
    );
    let events = env.run(&["--json", "history"]).code(0).json();
    let detail = events[0]["detail"].as_str().unwrap();
    assert_eq!(events[0]["action"], "edit");
    // In words, as people read them, not JSON field names.
    assert_eq!(detail, "scopes, uses left, rate limit");
    // Setting what is already there changes nothing and records nothing.
    let count = env.count("events");
    env.run(&["edit", &id, "--uses", "2"]).code(0);
    assert_eq!(env.count("events"), count);

    env.run(&["edit", &id, "--no-scopes", "--unlimited-uses", "--no-rate"])
        .code(0);
    let v = key_json(&env, &id);
    assert_eq!(v["scopes"], serde_json::json!([]));
    assert_eq!(v["remaining_uses"], serde_json::Value::Null);
    assert_eq!(v["rate_limit"], serde_json::Value::Null);
    assert_eq!(env.count("events"), count + 1);
    // Clearing and setting the same limit at once is a usage error.
    env.run(&["edit", &id, "--uses", "3", "--unlimited-uses"])
        .code(2);
    env.run(&["edit", &id, "--scope", "a", "--no-scopes"])
        .code(2);
    env.run(&["edit", &id, "--rate", "1/1s", "--no-rate"])
        .code(2);
}

#[test]
fn rotate_moves_the_remaining_uses_and_copies_scopes_and_rate() {
    let env = Env::new();
    let old = env.create(
        "k",
        &["--scope", "sms:send", "--uses", "5", "--rate", "10/1s"],
    );
    assert_eq!(verify_code(&env, &old, &[]), (0, "VALID".into()));
    let run = env
        .run(&["rotate", &Env::id_of(&old), "--grace", "1h", "--yes"])
        .code(0);
    assert!(run.stderr.contains("4 remaining uses moved"), "{run:#?}");
    let new = run.stdout.trim().to_owned();
    let v = key_json(&env, &Env::id_of(&new));
    assert_eq!(v["scopes"], serde_json::json!(["sms:send"]));
    assert_eq!(v["remaining_uses"], 4);
    assert_eq!(v["rate_limit"]["limit"], 10);
    // The budget moved, it was not doubled: the old key has none left.
    assert_eq!(key_json(&env, &Env::id_of(&old))["remaining_uses"], 0);
    assert_eq!(verify_code(&env, &old, &[]), (1, "USAGE_EXCEEDED".into()));
    for _ in 0..4 {
        assert_eq!(verify_code(&env, &new, &[]), (0, "VALID".into()));
    }
    assert_eq!(verify_code(&env, &new, &[]), (1, "USAGE_EXCEEDED".into()));
}

#[test]
fn verify_requires_every_scope_with_wildcards_in_spec_precedence() {
    let env = Env::new();
    let key = env.create(
        "k",
        &[
            "--service",
            "sms",
            "--scope",
            "sms:*",
            "--scope",
            "billing:read",
        ],
    );
    for (scopes, code) in [
        (&["sms:send"][..], "VALID"),
        (&["sms:send:bulk"], "VALID"),
        (&["sms:*"], "VALID"),
        (&["sms:send", "billing:read"], "VALID"),
        (&["billing:write"], "INSUFFICIENT_SCOPE"),
        (&["sms:send", "billing:write"], "INSUFFICIENT_SCOPE"),
        (&["sms"], "INSUFFICIENT_SCOPE"),
        (&["billing:*"], "INSUFFICIENT_SCOPE"),
    ] {
        let mut args = vec![];
        for s in scopes {
            args.extend(["--scope", *s]);
        }
        let want = (i32::from(code != "VALID"), code.to_owned());
        assert_eq!(verify_code(&env, &key, &args), want, "{scopes:?}");
    }
    // Plain text: the code on stdout, exit 1.
    let run = env.run_stdin(&["verify", "--scope", "admin"], &key).code(1);
    assert!(run.stdout.contains("INSUFFICIENT_SCOPE"), "{run:#?}");
    // A bad required scope is a usage error, not a verdict.
    env.run_stdin(&["verify", "--scope", "Bad Scope"], &key)
        .error(2, "scope");

    // Precedence: WRONG_SERVICE before INSUFFICIENT_SCOPE before
    // USAGE_EXCEEDED; DISABLED before them all.
    let limited = env.create(
        "l",
        &["--service", "sms", "--scope", "sms:send", "--uses", "1"],
    );
    assert_eq!(verify_code(&env, &limited, &[]), (0, "VALID".into()));
    let wrong = ["--service", "email", "--scope", "x:y"];
    assert_eq!(
        verify_code(&env, &limited, &wrong),
        (1, "WRONG_SERVICE".into())
    );
    let scope = ["--scope", "x:y"];
    assert_eq!(
        verify_code(&env, &limited, &scope),
        (1, "INSUFFICIENT_SCOPE".into())
    );
    assert_eq!(
        verify_code(&env, &limited, &[]),
        (1, "USAGE_EXCEEDED".into())
    );
    env.run(&["disable", &Env::id_of(&limited)]).code(0);
    assert_eq!(verify_code(&env, &limited, &scope), (1, "DISABLED".into()));
}

#[test]
fn a_refused_verification_spends_no_use() {
    let env = Env::new();
    let key = env.create(
        "k",
        &["--service", "sms", "--scope", "sms:send", "--uses", "2"],
    );
    let id = Env::id_of(&key);
    for _ in 0..3 {
        verify_code(&env, &key, &["--scope", "sms:admin"]);
        verify_code(&env, &key, &["--service", "email"]);
    }
    assert_eq!(key_json(&env, &id)["remaining_uses"], 2);
    assert_eq!(key_json(&env, &id)["use_count"], 0);
}

#[test]
fn uses_run_out_exactly_then_usage_exceeded() {
    let env = Env::new();
    let key = env.create("k", &["--uses", "3"]);
    let id = Env::id_of(&key);
    for left in [2, 1, 0] {
        let run = env.run_stdin(&["--json", "verify"], &key).code(0);
        assert_eq!(run.json()["code"], "VALID");
        assert_eq!(key_json(&env, &id)["remaining_uses"], left);
    }
    let run = env.run_stdin(&["verify"], &key).code(1);
    assert!(run.stdout.contains("USAGE_EXCEEDED"), "{run:#?}");
    let v = key_json(&env, &id);
    assert_eq!(v["use_count"], 3);
    assert_eq!(v["remaining_uses"], 0);
    // More uses granted by edit: valid again.
    env.run(&["edit", &id, "--uses", "1"]).code(0);
    assert_eq!(verify_code(&env, &key, &[]), (0, "VALID".into()));
    assert_eq!(verify_code(&env, &key, &[]), (1, "USAGE_EXCEEDED".into()));
}

#[test]
fn stdin_all_gives_the_uses_left_to_the_first_lines_and_requires_scopes() {
    let env = Env::new();
    let limited = env.create("l", &["--uses", "2", "--scope", "a:b"]);
    let plain = env.create("p", &["--scope", "a:*"]);
    let none = env.create("n", &[]);
    let input = format!("{limited}\n{plain}\n{limited}\n{none}\n{limited}\n");
    let run = env
        .run_stdin(
            &["--json", "verify", "--stdin-all", "--scope", "a:b"],
            &input,
        )
        .code(1);
    let codes: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "VALID",
            "VALID",
            "VALID",
            "INSUFFICIENT_SCOPE",
            "USAGE_EXCEEDED"
        ]
    );
    assert_eq!(key_json(&env, &Env::id_of(&limited))["remaining_uses"], 0);
    assert_eq!(key_json(&env, &Env::id_of(&limited))["use_count"], 2);
    assert_eq!(key_json(&env, &Env::id_of(&plain))["use_count"], 1);
}

#[test]
fn sixteen_processes_share_1000_uses_exactly() {
    let env = Env::new();
    let key = env.create("k", &["--uses", "1000"]);
    let id = Env::id_of(&key);
    // 16 at once: each verifies one key a time (a process each) and in
    // batches (`--stdin-all`), 1,280 presentations for 1,000 uses.
    let tallies: Vec<(usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..16)
            .map(|w| {
                let (env, key) = (&env, &key);
                s.spawn(move || {
                    let (mut valid, mut exceeded) = (0, 0);
                    let mut tally = |stdout: &str| {
                        for line in stdout.lines() {
                            let v: serde_json::Value = serde_json::from_str(line).unwrap();
                            match v["code"].as_str().unwrap() {
                                "VALID" => valid += 1,
                                "USAGE_EXCEEDED" => exceeded += 1,
                                other => panic!("worker {w}: {other}: {line}"),
                            }
                        }
                    };
                    for _ in 0..20 {
                        tally(&env.run_stdin(&["--json", "verify"], key).stdout);
                    }
                    let batch = format!("{key}\n").repeat(30);
                    for _ in 0..2 {
                        let all = ["--json", "verify", "--stdin-all"];
                        tally(&env.run_stdin(&all, &batch).stdout);
                    }
                    (valid, exceeded)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let valid: usize = tallies.iter().map(|t| t.0).sum();
    let exceeded: usize = tallies.iter().map(|t| t.1).sum();
    assert_eq!((valid, exceeded), (1000, 280), "{tallies:?}");
    let v = key_json(&env, &id);
    assert_eq!(v["remaining_uses"], 0);
    assert_eq!(v["use_count"], 1000);
}
