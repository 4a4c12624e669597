//! A store of every earlier schema version opens migrated, in one step, to
//! today's schema, and its keys verify and take owners (docs/src/store.md).
//! Each older store is made by the migration files themselves
//! (`src/store/*/migrations/`), the first N of them, with a key written as
//! that version's columns allow.

use std::path::Path;

use crate::common::Env;

/// The migration files of a backend, in order.
fn migrations(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/store")
        .join(backend)
        .join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// What every version's key table and event table have had.
fn key_and_event(key: &keysmith::key_format::MintedKey, hash: &str) -> String {
    format!(
        "INSERT INTO keys (id, hash, prefix, name, created_at) VALUES ('{id}', {hash}, 'ks', 'old', 1); \
         INSERT INTO events (at, action, key_id, actor) VALUES (1, 'create', '{id}', 'someone');",
        id = key.id
    )
}

/// After the first open: the key verifies, takes an owner, and its store
/// has today's version.
fn opens_migrated(env: &Env, key: &keysmith::key_format::MintedKey, from: usize) {
    let secret = key.secret.expose();
    let v = env.run_stdin(&["--json", "verify"], secret).code(0).json();
    assert_eq!(
        (v["code"].as_str(), &v["owner"]),
        (Some("VALID"), &serde_json::Value::Null),
        "from v{from}"
    );
    env.run(&["edit", &key.id, "--owner", "acme", "--meta", r#"{"v":1}"#])
        .code(0);
    let v = env.run_stdin(&["--json", "verify"], secret).code(0).json();
    assert_eq!(v["owner"], "acme", "from v{from}");
    let history = env
        .run(&["--json", "history", "--owner", "acme"])
        .code(0)
        .json();
    assert_eq!(
        history.as_array().unwrap().len(),
        1,
        "from v{from}: {history}"
    );
    let info = env.run(&["--json", "info"]).code(0).json();
    let today = if env.is_postgres() {
        migrations("postgres").len()
    } else {
        migrations("sqlite").len()
    };
    assert_eq!(info["schema_version"], today as i64, "from v{from}");
}

#[test]
fn a_sqlite_store_of_every_earlier_version_opens_migrated() {
    let steps = migrations("sqlite");
    for version in 1..steps.len() {
        let env = Env::new();
        let key = keysmith::mint("ks");
        let hash: String = key.hash.0.iter().map(|b| format!("{b:02x}")).collect();
        {
            let conn = rusqlite::Connection::open(&env.db).unwrap();
            for step in &steps[..version] {
                conn.execute_batch(step).unwrap();
            }
            conn.execute_batch(&format!(
                "PRAGMA application_id = 1263750484; PRAGMA user_version = {version}; {}",
                key_and_event(&key, &format!("x'{hash}'"))
            ))
            .unwrap();
        }
        opens_migrated(&env, &key, version);
        // The same shape as a store made new today.
        let fresh = Env::new();
        fresh.run(&["init"]).code(0);
        assert_eq!(shape(&env), shape(&fresh), "from v{version}");
    }
}

/// Tables, columns (name, type, not null) and indexes of a SQLite store.
fn shape(env: &Env) -> Vec<String> {
    env.conn()
        .prepare(
            "SELECT m.type || ' ' || m.name || ': ' || coalesce(( \
               SELECT group_concat(c.name || ' ' || c.type || ' ' || c.\"notnull\", ', ') \
               FROM pragma_table_info(m.name) AS c), '') \
             FROM sqlite_schema AS m WHERE m.name NOT LIKE 'sqlite_%' ORDER BY m.type, m.name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pg_test! {
    fn a_postgres_store_of_every_earlier_version_opens_migrated() {
        let steps = migrations("postgres");
        for version in 1..steps.len() {
            let env = Env::postgres();
            let key = keysmith::mint("ks");
            let hash: String = key.hash.0.iter().map(|b| format!("{b:02x}")).collect();
            let mut sql = steps[..version].join("\n");
            sql.push_str(&format!(
                "\nUPDATE keysmith_store SET schema_version = {version};\n{}",
                key_and_event(&key, &format!("'\\x{hash}'::bytea"))
            ));
            env.exec_batch_pg(&sql);
            opens_migrated(&env, &key, version);
        }
    }
}

/// A store of the version before root keys (docs/src/limits.md), with a key
/// holding root scopes only and one holding a `keysmith:` scope among
/// others: the first command to open it names both on stderr, once; the
/// first is a root key from then on (NOT_FOUND, and `verify` says why),
/// the second verifies as before.
fn root_scopes_named_when_migrated(env: &Env, make_store: impl FnOnce(&str)) {
    let root = keysmith::mint("ks");
    let other = keysmith::mint("ks");
    let hex = |k: &keysmith::key_format::MintedKey| -> String {
        k.hash.0.iter().map(|b| format!("{b:02x}")).collect()
    };
    let blob = |k| {
        if env.is_postgres() {
            format!("'\\x{}'::bytea", hex(k))
        } else {
            format!("x'{}'", hex(k))
        }
    };
    make_store(&format!(
        "INSERT INTO keys (id, hash, prefix, name, created_at, scopes) VALUES \
         ('{}', {}, 'ks', 'admin', 1, 'keysmith:keys:read keysmith:*'), \
         ('{}', {}, 'ks', 'deployer', 1, 'keysmith:deploy sms:send');",
        root.id,
        blob(&root),
        other.id,
        blob(&other)
    ));
    let run = env.run_stdin(&["verify"], root.secret.expose()).code(1);
    assert_eq!(run.stdout, "invalid: NOT_FOUND\n");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: ") && l.contains("reserved for root keys"))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    let named = |id: &str| warnings.iter().find(|w| w.contains(id)).copied().unwrap();
    assert!(
        named(&root.id).contains("root key from now on"),
        "{}",
        run.stderr
    );
    assert!(
        named(&other.id).contains("stays an ordinary key"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("note: this is a root key"),
        "{}",
        run.stderr
    );
    let run = env.run_stdin(&["verify"], other.secret.expose()).code(0);
    assert!(
        !run.stderr.contains("reserved for root keys"),
        "once only: {}",
        run.stderr
    );
    // Made an ordinary key again, as the warning says.
    env.run(&["edit", &root.id, "--no-scopes"]).code(0);
    env.run_stdin(&["verify"], root.secret.expose()).code(0);
}

#[test]
fn a_sqlite_store_from_before_root_keys_names_the_keys_holding_their_scopes() {
    let steps = migrations("sqlite");
    let env = Env::new();
    root_scopes_named_when_migrated(&env, |keys| {
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        for step in &steps[..7] {
            conn.execute_batch(step).unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA application_id = 1263750484; PRAGMA user_version = 7; {keys}"
        ))
        .unwrap();
    });
}

pg_test! {
    fn a_postgres_store_from_before_root_keys_names_the_keys_holding_their_scopes() {
        let steps = migrations("postgres");
        let env = Env::postgres();
        root_scopes_named_when_migrated(&env, |keys| {
            let mut sql = steps[..5].join("\n");
            sql.push_str(&format!("\nUPDATE keysmith_store SET schema_version = 5;\n{keys}"));
            env.exec_batch_pg(&sql);
        });
    }
}
