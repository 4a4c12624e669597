//! Refills (docs/src/owners.md) through the binary, its clock set by
//! Debian's `faketime`: the uses left return to their amount at each
//! period's start, shown without a write and persisted by the first
//! verification that spends; for keys and owners, kept by `rotate`. On
//! both backends.

use std::path::Path;

use serde_json::Value;

use crate::common::{BIN, Env, Run};

/// keysmith, run with its clock at `at` (`faketime`'s format).
fn at(env: &Env, when: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let faketime = option_env!("KEYSMITH_TEST_FAKETIME").unwrap_or("faketime");
    let mut cmd = env.command_of(Path::new(faketime));
    cmd.args([when, BIN]);
    env.run_with(cmd, args, stdin)
}

fn code(env: &Env, when: &str, key: &str, extra: &[&str]) -> String {
    let mut args = vec!["--json", "verify"];
    args.extend_from_slice(extra);
    at(env, when, &args, Some(key)).json()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn stored_uses(env: &Env, table: &str, id: &str) -> (i64, i64) {
    let rows = env.query_rows(
        &format!("SELECT remaining_uses, refilled_at FROM {table} WHERE id = $1"),
        &[id],
    );
    let n = |i: usize| rows[0][i].as_deref().unwrap().parse::<i64>().unwrap();
    (n(0), n(1))
}

const NEW_YEAR: i64 = 1_798_761_600; // 2027-01-01T00:00:00Z

#[test]
#[cfg_attr(
    keysmith_no_faketime,
    ignore = "needs faketime: apt-get install faketime"
)]
fn a_monthly_refill_returns_the_uses_on_the_first_and_the_first_verification_writes_it() {
    refill_on_the_first(&Env::new());
}

fn refill_on_the_first(env: &Env) {
    let eve = "2026-12-31 23:59:00";
    let created = at(
        env,
        eve,
        &[
            "--json", "create", "--name", "monthly", "--uses", "3", "--refill", "monthly",
        ],
        None,
    )
    .json();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["refill"]["every"], "monthly:1");
    assert_eq!(created["refill"]["next_at"], "2027-01-01T00:00:00Z");
    let codes: Vec<String> = (0..4).map(|_| code(env, eve, &key, &[])).collect();
    assert_eq!(codes, ["VALID", "VALID", "VALID", "USAGE_EXCEEDED"]);

    // After midnight: shown refilled, not yet written.
    let after = "2027-01-01 00:00:05";
    let shown = at(env, after, &["--json", "show", &id], None).json();
    assert_eq!(shown["remaining_uses"], 3);
    assert_eq!(shown["refill"]["next_at"], "2027-02-01T00:00:00Z");
    assert_eq!(stored_uses(env, "keys", &id).0, 0);
    // The first verification writes the refill it used, with its period.
    let v = at(env, after, &["--json", "verify"], Some(&key)).json();
    assert_eq!(v["code"], "VALID");
    assert_eq!(v["uses"]["remaining"], 2);
    assert_eq!(v["uses"]["refill_at"], "2027-02-01T00:00:00Z");
    assert_eq!(stored_uses(env, "keys", &id), (2, NEW_YEAR));
    let codes: Vec<String> = (0..3).map(|_| code(env, after, &key, &[])).collect();
    assert_eq!(codes, ["VALID", "VALID", "USAGE_EXCEEDED"]);

    // A rotation keeps the schedule; the retired key keeps no uses.
    let rotated = at(env, after, &["--json", "rotate", &id, "--yes"], None).json();
    assert_eq!(rotated["refill"]["every"], "monthly:1");
    let new_key = rotated["key"].as_str().unwrap().to_owned();
    assert_eq!(code(env, "2027-02-01 00:00:01", &new_key, &[]), "VALID");
}

#[test]
#[cfg_attr(
    keysmith_no_faketime,
    ignore = "needs faketime: apt-get install faketime"
)]
fn an_owner_s_interval_refill_is_shared_by_its_keys() {
    {
        let env = Env::new();
        let start = "2026-12-07 10:00:00";
        let a = env.create("a", &["--owner", "acme"]);
        let b = env.create("b", &["--owner", "acme"]);
        at(
            &env,
            start,
            &["owner", "set", "acme", "--uses", "2", "--refill", "1h"],
            None,
        )
        .code(0);
        let codes: Vec<String> = [&a, &b, &a]
            .iter()
            .map(|k| code(&env, "2026-12-07 10:30:00", k, &[]))
            .collect();
        assert_eq!(codes, ["VALID", "VALID", "USAGE_EXCEEDED"]);
        // Counted from when it was set: not yet at 10:59:59, again at 11:00.
        assert_eq!(code(&env, "2026-12-07 10:59:59", &b, &[]), "USAGE_EXCEEDED");
        assert_eq!(code(&env, "2026-12-07 11:00:00", &b, &[]), "VALID");
        let owner = at(
            &env,
            "2026-12-07 11:00:01",
            &["--json", "owner", "show", "acme"],
            None,
        )
        .json();
        assert_eq!(owner["remaining_uses"], 1);
        assert_eq!(owner["refill"]["next_at"], "2026-12-07T12:00:00Z");
        // A cost counts against the refilled amount too.
        assert_eq!(
            code(&env, "2026-12-07 13:00:00", &a, &["--cost", "3"]),
            "USAGE_EXCEEDED"
        );
        assert_eq!(
            code(&env, "2026-12-07 13:00:00", &a, &["--cost", "2"]),
            "VALID"
        );
    }
}

#[test]
fn a_refill_needs_uses_and_a_schedule_it_knows() {
    let env = Env::new();
    env.create("first", &[]);
    for (args, fragment) in [
        (vec!["--refill", "monthly"], "--uses"),
        (
            vec!["--uses", "5", "--refill", "hourly"],
            "invalid --refill",
        ),
        (
            vec!["--uses", "5", "--refill", "monthly:32"],
            "invalid --refill",
        ),
        (
            vec!["--uses", "5", "--refill", "monthly:0"],
            "invalid --refill",
        ),
        (vec!["--uses", "5", "--refill", "0m"], "invalid --refill"),
    ] {
        let mut all = vec!["create", "--name", "bad"];
        all.extend(args.iter().copied());
        let run = env.run(&all).code(2);
        assert!(run.stderr.contains(fragment), "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
    }
    env.run_stdin(
        &["create", "--from", "-"],
        "{\"name\": \"x\", \"refill\": \"daily\"}\n",
    )
    .error(2, "invalid refill: needs uses");
    assert_eq!(env.count("keys"), 1);

    // Set, changed with the uses, and removed.
    let key = env.create("refilled", &["--uses", "10", "--refill", "weekly"]);
    let id = Env::id_of(&key);
    let json = |env: &Env| env.run(&["--json", "show", &id]).code(0).json();
    assert_eq!(json(&env)["refill"]["every"], "weekly");
    env.run(&["edit", &id, "--uses", "20"]).code(0);
    let v = json(&env);
    assert_eq!(
        (v["remaining_uses"].as_i64(), v["refill"]["uses"].as_i64()),
        (Some(20), Some(20))
    );
    env.run(&["edit", &id, "--no-refill"]).code(0);
    assert_eq!(json(&env)["refill"], Value::Null);
    let shown = env.run(&["show", &id]).code(0).stdout;
    assert!(shown.contains("Refill        -"), "{shown}");
}
