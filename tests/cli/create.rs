//! `create` (docs/src/key-format.md, docs/src/commands/create.md): one key on stdout, only its hash in the store.

use sha2::{Digest, Sha256};

use crate::common::{Cell, Env, contains};

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[test]
fn prints_one_well_formed_key_and_nothing_else_on_stdout() {
    let env = Env::new();
    let run = env.run(&["create", "--name", "x"]).code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    let key = run.stdout.strip_suffix('\n').expect("ends in a newline");
    // <prefix>_<id>_<secret><check>
    let (prefix, rest) = key.split_once('_').unwrap();
    assert_eq!(prefix, "ks");
    let (id, tail) = rest.split_once('_').unwrap();
    assert_eq!(id.len(), 12);
    assert_eq!(tail.len(), 38);
    assert!(is_base62(id) && is_base62(tail));
    let body = &key[..key.len() - 6];
    assert_eq!(
        &keysmith::key_format::checksum(body),
        &key.as_bytes()[key.len() - 6..]
    );
    assert!(keysmith::key_format::parse(key).is_some());
    assert!(
        run.stderr.contains("only time"),
        "notice on stderr: {run:#?}"
    );
    assert!(
        !run.stderr.contains(&tail[..32]),
        "the secret never reaches stderr"
    );
}

#[test]
fn command_substitution_captures_the_key_alone() {
    let env = Env::new();
    let out = env
        .shell(r#"KEY=$("$0" create --name x 2>/dev/null); printf '%s' "$KEY""#)
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(keysmith::key_format::parse(&key).is_some(), "{key:?}");
    env.run_stdin(&["verify"], &key).code(0);
}

#[test]
fn two_keys_differ() {
    let env = Env::new();
    let a = env.create("a", &[]);
    let b = env.create("a", &[]);
    assert_ne!(a, b);
    assert_ne!(Env::id_of(&a), Env::id_of(&b));
}

#[test]
fn store_holds_the_hash_never_the_key_or_secret() {
    let env = Env::new();
    env.create("seed", &[]);
    // Hold the store open so the WAL outlives the next process: its bytes are checked too.
    let holder = env.conn();
    holder
        .query_row("SELECT count(*) FROM keys", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let key = env.create("watched", &[]);
    let secret = &key[key.len() - 38..key.len() - 6];
    let wal = format!("{}-wal", env.db.display());
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false),
        "a WAL file exists"
    );
    let bytes = env.store_bytes();
    assert!(
        !contains(&bytes, key.as_bytes()),
        "the full key is in the store"
    );
    assert!(
        !contains(&bytes, secret.as_bytes()),
        "the secret is in the store"
    );
    let digest = Sha256::digest(key.as_bytes());
    assert!(
        contains(&bytes, &digest),
        "the SHA-256 of the key is in the store"
    );
    drop(holder);
}

#[test]
fn the_store_holds_the_sha256_of_each_key_and_never_the_key() {
    let env = Env::new();
    let keys = [env.create("a", &[]), env.create("b", &["--prefix", "acme"])];
    for key in &keys {
        let rows = env.query("SELECT hash FROM keys WHERE id = $1", &[&Env::id_of(key)]);
        let digest = Sha256::digest(key.as_bytes());
        assert_eq!(rows, [[Cell::Bytes(digest.to_vec())]], "{key}");
    }
    let everything = env.store_bytes();
    for key in &keys {
        assert!(!contains(
            &everything,
            &key.as_bytes()[key.len() - 38..key.len() - 6]
        ));
    }
}

#[test]
fn json_adds_the_full_key_to_the_key_object() {
    let env = Env::new();
    let run = env
        .run(&[
            "--json",
            "create",
            "--name",
            "Data Sync",
            "--service",
            "sms",
            "--description",
            "nightly",
        ])
        .code(0);
    let v = run.json();
    let key = v["key"].as_str().unwrap();
    let id = Env::id_of(key);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["name"], "Data Sync");
    assert_eq!(v["description"], "nightly");
    assert_eq!(v["service"], "sms");
    assert_eq!(v["prefix"], "ks");
    assert_eq!(v["masked"], format!("ks_{id}_********"));
    assert_eq!(v["status"], "enabled");
    assert_eq!(v["use_count"], 0);
    assert!(v["last_used_at"].is_null() && v["expires_at"].is_null());
    let created = v["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 20, "{created}");
}

#[test]
fn prefix_from_flag_or_environment() {
    let env = Env::new();
    assert!(
        env.create("a", &["--prefix", "acme2"])
            .starts_with("acme2_")
    );
    let mut cmd = env.command();
    cmd.env("KEYSMITH_PREFIX", "envp");
    let run = env.run_with(cmd, &["create", "--name", "b"], None).code(0);
    assert!(run.stdout.starts_with("envp_"), "{run:#?}");
    assert!(keysmith::key_format::parse(run.stdout.trim()).is_some());
}

#[test]
fn expiry_is_stored() {
    let env = Env::new();
    let run = env
        .run(&["--json", "create", "--name", "t", "--expires-in", "1d12h"])
        .code(0);
    let v = run.json();
    let created = v["created_at"].as_str().unwrap().to_owned();
    let expires = v["expires_at"].as_str().unwrap().to_owned();
    let secs = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
    assert_eq!(secs(&expires) - secs(&created), 36 * 3600);
}

#[test]
fn create_records_an_event() {
    let env = Env::new();
    let id = Env::id_of(&env.create("a", &[]));
    let rows = env.query_rows("SELECT action, key_id, actor FROM events", &[]);
    assert_eq!(rows.len(), 1);
    let [action, key_id, actor] = &rows[0][..] else {
        panic!("{rows:?}")
    };
    assert_eq!(
        (action.as_deref(), key_id.as_deref()),
        (Some("create"), Some(id.as_str()))
    );
    assert!(actor.as_deref().is_some_and(|a| !a.is_empty()));
}

#[test]
fn default_store_is_in_the_data_directory() {
    let env = Env::new();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB");
    env.run_with(cmd, &["create", "--name", "x"], None).code(0);
    assert!(env.dir.path().join("xdg/keysmith/keys.db").exists());
    assert!(!env.store_exists());
}

#[test]
fn db_flag_wins_over_environment() {
    let env = Env::new();
    let other = env.dir.path().join("other.db");
    env.run(&["--db", other.to_str().unwrap(), "create", "--name", "x"])
        .code(0);
    assert!(other.exists());
    assert!(!env.store_exists());
}
