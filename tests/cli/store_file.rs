//! SPEC §2: what keysmith will open, what it refuses untouched, and file modes.

use crate::common::{Env, mode};

/// Every command that opens a store refuses `contents` with exit 4 and leaves it unchanged.
fn refused_untouched(contents: &[u8], fragment: &str) {
    let env = Env::new();
    std::fs::write(&env.db, contents).unwrap();
    let valid_shape = keysmith::mint("ks");
    let valid_shape = valid_shape.secret.expose();
    let runs = [
        env.run(&["create", "--name", "x"]),
        env.run(&["list"]),
        env.run(&["--json", "list"]),
        env.run(&["disable", "x"]),
        env.run_stdin(&["verify"], valid_shape),
    ];
    for run in runs {
        let run = run.error(4, fragment);
        assert_eq!(run.stdout, "");
    }
    assert_eq!(
        std::fs::read(&env.db).unwrap(),
        contents,
        "the file was modified"
    );
    assert!(!std::path::Path::new(&format!("{}-wal", env.db.display())).exists());
}

#[test]
fn a_text_file_is_refused() {
    refused_untouched(
        b"these are my notes\nnot a database\n",
        "not a keysmith store",
    );
}

#[test]
fn random_bytes_are_refused() {
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    refused_untouched(&bytes, "not a keysmith store");
}

#[test]
fn another_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');")
        .unwrap();
    drop(conn);
    refused_untouched(&std::fs::read(&path).unwrap(), "not a keysmith store");
}

#[test]
fn a_newer_schema_is_refused() {
    let env = Env::new();
    env.create("k", &[]);
    env.conn().pragma_update(None, "user_version", 99).unwrap();
    let before = std::fs::read(&env.db).unwrap();
    env.run(&["list"]).error(4, "newer");
    env.run(&["create", "--name", "y"]).error(4, "newer");
    assert_eq!(std::fs::read(&env.db).unwrap(), before);
}

#[test]
fn a_zero_byte_file_becomes_a_store() {
    let env = Env::new();
    std::fs::write(&env.db, b"").unwrap();
    let key = env.create("k", &[]);
    env.run_stdin(&["verify"], &key).code(0);
}

#[test]
fn a_directory_is_refused() {
    let env = Env::new();
    std::fs::create_dir(&env.db).unwrap();
    env.run(&["list"]).error(4, "directory");
}

#[test]
fn new_store_is_0600_in_new_0700_folders() {
    let env = Env::new();
    let nested = env.dir.path().join("a/b/keys.db");
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &nested);
    env.run_with(cmd, &["create", "--name", "x"], None).code(0);
    assert_eq!(mode(&nested), 0o600);
    assert_eq!(mode(&env.dir.path().join("a")), 0o700);
    assert_eq!(mode(&env.dir.path().join("a/b")), 0o700);
    // A folder that already existed keeps its mode.
    assert_ne!(mode(env.dir.path()), 0o000);
}

#[test]
fn a_store_others_can_read_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.create("k", &[]);
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["list"]).code(0);
    assert!(run.stderr.contains("chmod 600"), "{run:#?}");
}
