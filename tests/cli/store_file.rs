//! docs/src/store.md: what keysmith will open, what it refuses untouched, and file modes.

use std::path::{Path, PathBuf};

use crate::common::{Env, folder_snapshot, mkfifo, mode, running_as_root};

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
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o751)).unwrap();
    let nested = env.dir.path().join("a/b/keys.db");
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", &nested);
    env.run_with(cmd, &["create", "--name", "x"], None).code(0);
    assert_eq!(mode(&nested), 0o600);
    assert_eq!(mode(&env.dir.path().join("a")), 0o700);
    assert_eq!(mode(&env.dir.path().join("a/b")), 0o700);
    // A folder that already existed keeps its mode.
    assert_eq!(mode(env.dir.path()), 0o751);
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

/// Every command that opens a store, as (arguments, stdin). `out` is a folder
/// for the files `backup` and `migrate --to` would write.
fn store_commands(out: &Path) -> Vec<(Vec<String>, Option<String>)> {
    let key = keysmith::mint("ks");
    let key = key.secret.expose().to_owned();
    let copy = out.join("copy.db").to_str().unwrap().to_owned();
    let moved = out.join("moved.db").to_str().unwrap().to_owned();
    let plain = |args: &[&str]| (args.iter().map(|a| a.to_string()).collect(), None);
    let fed =
        |args: &[&str], stdin: String| (args.iter().map(|a| a.to_string()).collect(), Some(stdin));
    vec![
        plain(&["list"]),
        plain(&["--json", "list"]),
        plain(&["create", "--name", "x"]),
        fed(&["create", "--from", "-"], "{\"name\": \"b\"}\n".into()),
        fed(&["verify"], key.clone()),
        fed(&["verify", "--stdin-all"], format!("{key}\n")),
        plain(&["show", "x"]),
        plain(&["history"]),
        plain(&["enable", "x"]),
        plain(&["disable", "x"]),
        plain(&["edit", "x", "--name", "y"]),
        plain(&["rotate", "x", "--yes"]),
        plain(&["delete", "x", "--yes"]),
        fed(&["scan", "-"], format!("token = {key}\n")),
        plain(&["scan", "--rules", "gitleaks"]),
        plain(&["backup", &copy]),
        plain(&["migrate", "--to", &moved]),
    ]
}

/// Runs every command of `store_commands` against `db`: each is exit 4 with
/// one error line holding `fragment`, and prints nothing on stdout.
#[track_caller]
fn every_command_refuses(env: &Env, db: &Path, out: &Path, fragment: &str) {
    for (args, stdin) in store_commands(out) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.run_at(db, &args, stdin.as_deref());
        let run = run.error(4, fragment);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn a_fifo_socket_directory_or_device_is_refused_and_nothing_is_made_beside_it() {
    let env = Env::new();
    env.create("real", &[]);
    let odd = env.dir.path().join("odd");
    let out = env.dir.path().join("out");
    std::fs::create_dir(&odd).unwrap();
    std::fs::create_dir(&out).unwrap();
    mkfifo(&odd.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(odd.join("socket")).unwrap();
    std::fs::create_dir(odd.join("folder")).unwrap();
    std::os::unix::fs::symlink(odd.join("fifo"), odd.join("link-to-fifo")).unwrap();
    let mut cases = vec![
        ("fifo", "FIFO"),
        ("socket", "socket"),
        ("folder", "directory"),
        ("link-to-fifo", "FIFO"),
    ];
    if running_as_root() {
        for (name, kind, number) in [("chardev", "c", "1 3"), ("blockdev", "b", "7 200")] {
            let (major, minor) = number.split_once(' ').unwrap();
            let made = std::process::Command::new("mknod")
                .arg(odd.join(name))
                .args([kind, major, minor])
                .status()
                .unwrap();
            assert!(made.success(), "mknod {name}");
        }
        cases.push(("chardev", "character device"));
        cases.push(("blockdev", "block device"));
    } else {
        eprintln!("not root: the device nodes made with mknod are not tested (/dev/null is)");
    }
    let before = folder_snapshot(&odd);
    for (name, kind) in &cases {
        let path = odd.join(name);
        every_command_refuses(&env, &path, &out, kind);
        // Nor is one a store to copy into.
        env.run_bounded(
            env.command(),
            &["migrate", "--to", path.to_str().unwrap()],
            None,
        )
        .error(4, kind);
    }
    assert_eq!(
        folder_snapshot(&odd),
        before,
        "something changed beside them"
    );
    assert!(folder_snapshot(&out).is_empty(), "a file was written");

    // /dev/null itself: no /dev/null-journal (world-writable, as /dev is) or WAL appears.
    let beside: Vec<PathBuf> = ["-journal", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("/dev/null{s}")))
        .collect();
    for path in &beside {
        if path.exists() {
            assert!(
                running_as_root(),
                "{} exists (left by an earlier run?) and only root can remove it",
                path.display()
            );
            std::fs::remove_file(path).unwrap();
        }
    }
    every_command_refuses(&env, Path::new("/dev/null"), &out, "character device");
    for path in &beside {
        assert!(!path.exists(), "{} was made", path.display());
    }
    assert!(folder_snapshot(&out).is_empty(), "a file was written");
}

/// A foreign WAL-mode database as a writer leaves it: its header and schema
/// (or application id, or user_version) only in the -wal so far.
fn foreign_wal_database(dir: &Path, setup: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("theirs.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    conn.execute_batch(setup).unwrap();
    conn
}

#[test]
fn a_foreign_wal_database_its_wal_and_its_shm_keep_every_byte() {
    for setup in [
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');",
        "PRAGMA application_id = 1234; CREATE TABLE t (x);",
        "PRAGMA user_version = 7;",
        // The application id in the main file, and more in the -wal.
        "PRAGMA application_id = 1179602516; CREATE TABLE t (x); \
         PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t VALUES (1);",
        "CREATE TABLE t (x); INSERT INTO t VALUES (1); DROP TABLE t; CREATE TABLE u (y);",
    ] {
        let env = Env::new();
        let live = env.dir.path().join("live");
        let killed = env.dir.path().join("killed");
        let out = env.dir.path().join("out");
        for dir in [&live, &killed, &out] {
            std::fs::create_dir(dir).unwrap();
        }
        // The writer stays open on `live`; `killed` holds its files as a
        // kill -9 would leave them: a -wal with committed frames, a -shm.
        let writer = foreign_wal_database(&live, setup);
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("theirs.db{suffix}");
            std::fs::copy(live.join(&name), killed.join(&name)).unwrap();
        }
        assert!(
            std::fs::metadata(killed.join("theirs.db-wal"))
                .unwrap()
                .len()
                > 32
        );
        for dir in [&killed, &live] {
            let before = folder_snapshot(dir);
            assert_eq!(before.len(), 3, "{before:?}");
            every_command_refuses(&env, &dir.join("theirs.db"), &out, "not a keysmith store");
            assert_eq!(folder_snapshot(dir), before, "{setup}: {}", dir.display());
            assert!(folder_snapshot(&out).is_empty(), "a file was written");
        }
        drop(writer);
    }
}

/// SQLite files with nothing in them, made by `setup` (None: zero bytes);
/// `wal` leaves the file as a killed writer would, its last changes in a -wal.
fn blank_files() -> Vec<(&'static str, Option<&'static str>, bool)> {
    vec![
        ("zero bytes", None, false),
        (
            "a page size and user_version 0",
            Some("PRAGMA page_size = 8192; PRAGMA user_version = 0;"),
            false,
        ),
        (
            "its only table dropped",
            Some("CREATE TABLE t (x); INSERT INTO t VALUES (1); DROP TABLE t;"),
            false,
        ),
        (
            "a table made and dropped in its -wal",
            Some("CREATE TABLE t (x); INSERT INTO t VALUES (1); DROP TABLE t;"),
            true,
        ),
    ]
}

#[test]
fn a_command_that_only_reads_never_writes_to_a_blank_sqlite_file() {
    for (what, setup, wal) in blank_files() {
        let env = Env::new();
        let files = env.dir.path().join("files");
        let out = env.dir.path().join("out");
        std::fs::create_dir(&files).unwrap();
        std::fs::create_dir(&out).unwrap();
        let db = files.join("blank.db");
        match (setup, wal) {
            (None, _) => std::fs::write(&db, b"").unwrap(),
            (Some(sql), false) => {
                rusqlite::Connection::open(&db)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
                assert!(std::fs::metadata(&db).unwrap().len() > 0, "{what}");
            }
            (Some(sql), true) => {
                let writer = rusqlite::Connection::open(env.dir.path().join("w.db")).unwrap();
                writer
                    .execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
                    .unwrap();
                writer.execute_batch(sql).unwrap();
                for suffix in ["", "-wal", "-shm"] {
                    std::fs::copy(
                        env.dir.path().join(format!("w.db{suffix}")),
                        files.join(format!("blank.db{suffix}")),
                    )
                    .unwrap();
                }
            }
        }
        let before = folder_snapshot(&files);
        let key = keysmith::mint("ks");
        let key = key.secret.expose().to_owned();
        // Issue 24: a blank file is no store yet: refused (exit 4) by
        // every command that reads or changes keys, as a missing one is.
        let runs: Vec<(&[&str], Option<String>, i32)> = vec![
            (&["list"], None, 4),
            (&["--json", "list"], None, 4),
            (&["info"], None, 4),
            (&["verify"], Some(key.clone()), 4),
            (&["verify", "--stdin-all"], Some(format!("{key}\n")), 4),
            (&["show", "x"], None, 4),
            (&["history"], None, 4),
            (&["enable", "x"], None, 4),
            (&["disable", "x"], None, 4),
            (&["edit", "x", "--name", "y"], None, 4),
            (&["rotate", "x", "--yes"], None, 4),
            (&["delete", "x", "--yes"], None, 4),
            (&["scan", "-"], Some(format!("token = {key}\n")), 4),
            (&["scan", "--rules", "gitleaks"], None, 0),
        ];
        for (args, stdin, code) in runs {
            let run = env.run_at(&db, args, stdin.as_deref());
            assert_eq!(run.code, code, "{what}: {args:?}: {run:#?}");
            if code == 4 {
                assert!(run.stderr.contains("only a blank file"), "{what}: {run:#?}");
            }
        }
        let copy = out.join("copy.db");
        env.run_at(&db, &["backup", copy.to_str().unwrap()], None)
            .error(4, "there is no keysmith store at");
        let moved = out.join("moved.db");
        env.run_at(&db, &["migrate", "--to", moved.to_str().unwrap()], None)
            .error(4, "there is no keysmith store at");
        assert_eq!(
            folder_snapshot(&files),
            before,
            "{what}: the file was written to"
        );
        assert!(
            folder_snapshot(&out).is_empty(),
            "{what}: a file was written"
        );

        // Nothing to lose: `create` makes it a store.
        let made = env
            .run_at(&db, &["create", "--name", "first"], None)
            .code(0);
        let key = made.stdout.trim();
        env.run_at(&db, &["verify"], Some(key)).code(0);
        assert_eq!(
            env.run_at(&db, &["--json", "list"], None).code(0).json()[0]["name"],
            "first",
            "{what}"
        );
    }
}

/// A blank WAL-mode file `create` made a store while another connection
/// held it: keysmith's header is then only in the -wal, and is read there.
#[test]
fn a_blank_wal_file_made_a_store_is_read_through_its_wal() {
    let env = Env::new();
    let holder = rusqlite::Connection::open(&env.db).unwrap();
    let mode: String = holder
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    holder
        .execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x); DROP TABLE t;")
        .unwrap();
    let key = env.create("first", &[]);
    let main = std::fs::read(&env.db).unwrap();
    assert_eq!(
        &main[68..72],
        &[0, 0, 0, 0],
        "the id is not in the main file yet"
    );
    env.run_stdin(&["verify"], &key).code(0);
    env.create("second", &[]);
    assert_eq!(
        env.run(&["--json", "list"])
            .code(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    drop(holder);
}

#[test]
fn the_chmod_suggestion_is_quoted_for_a_posix_shell() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let dir = env.dir.path().join("it's a dir");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("my 'keys'.db");
    env.run_at(&db, &["create", "--name", "k"], None).code(0);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run_at(&db, &["list"], None).code(0);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning: {run:#?}"));
    let quoted = db.to_str().unwrap().replace('\'', r"'\''");
    assert!(
        warning.ends_with(&format!("chmod 600 '{quoted}'")),
        "{warning}"
    );
    let (_, fix) = warning.split_once("fix it with: ").unwrap();
    let status = std::process::Command::new("sh")
        .args(["-c", fix])
        .status()
        .unwrap();
    assert!(status.success(), "{fix}");
    assert_eq!(
        mode(&db),
        0o600,
        "the suggestion, run by sh, fixed the mode"
    );
}

/// The files `backup FILE --force` would replace or remove for each FILE
/// here are the store's own: each is refused with exit 2, changing nothing.
#[test]
fn backup_refuses_the_store_s_own_files_by_any_name() {
    let env = Env::new();
    let key = env.create("k", &[]);
    // A reader keeps the store's -wal and -shm in place.
    let reader = env.conn();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    let dir = env.dir.path();
    let db = env.db.to_str().unwrap();
    assert!(Path::new(&format!("{db}-wal")).exists());
    assert!(Path::new(&format!("{db}-shm")).exists());
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(&env.db, dir.join("link.db")).unwrap();
    std::fs::hard_link(&env.db, dir.join("hard.db")).unwrap();
    std::os::unix::fs::symlink(format!("{db}-journal"), dir.join("journal-link")).unwrap();
    std::os::unix::fs::symlink(format!("{db}-wal"), dir.join("wal-link")).unwrap();
    let sub = dir.join("sub");
    let sub = sub.to_str().unwrap();
    let dests = [
        db.to_owned(),
        format!("{sub}/../keys.db"),
        format!("{}/./keys.db", dir.display()),
        format!("{}/link.db", dir.display()),
        format!("{}/hard.db", dir.display()),
        format!("{db}-wal"),
        format!("{db}-shm"),
        format!("{db}-journal"),
        format!("{sub}/../keys.db-journal"),
        format!("{}/journal-link", dir.display()),
        format!("{}/wal-link", dir.display()),
    ];
    let before = env.store_bytes();
    let listing = folder_snapshot(dir).into_keys().collect::<Vec<_>>();
    for dest in &dests {
        for force in [false, true] {
            let mut args = vec!["backup", dest.as_str()];
            if force {
                args.push("--force");
            }
            env.run(&args).error(2, "the store");
        }
    }
    // A relative name, from the store's folder.
    let mut cmd = env.command();
    cmd.current_dir(dir);
    env.run_with(cmd, &["backup", "keys.db", "--force"], None)
        .error(2, "the store");
    assert_eq!(env.store_bytes(), before, "the store changed");
    assert_eq!(
        folder_snapshot(dir).into_keys().collect::<Vec<_>>(),
        listing
    );
    drop(reader);
    env.run_stdin(&["verify"], &key).code(0);

    // A store named like another file's -wal: backing up onto that file
    // would remove the store as the old copy's WAL.
    let odd = dir.join("odd.db-wal");
    let odd_key = env
        .run_at(&odd, &["create", "--name", "odd"], None)
        .code(0)
        .stdout
        .trim()
        .to_owned();
    let odd_before = std::fs::read(&odd).unwrap();
    let target = dir.join("odd.db");
    env.run_at(&odd, &["backup", target.to_str().unwrap(), "--force"], None)
        .error(2, "the store");
    assert_eq!(std::fs::read(&odd).unwrap(), odd_before);
    assert!(!target.exists());
    env.run_at(&odd, &["verify"], Some(&odd_key)).code(0);
}

#[test]
fn backups_onto_the_live_store_lose_no_printed_key() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::new();
    env.create("first", &[]);
    let done = AtomicBool::new(false);
    let (env, done) = (&env, &done);
    let (keys, backups) = std::thread::scope(|scope| {
        let creator = scope.spawn(move || {
            let mut keys = Vec::new();
            let mut i = 0;
            while !done.load(Ordering::Relaxed) || i < 30 {
                let run = env.run(&["create", "--name", &format!("n{i}")]);
                if run.code == 0 {
                    keys.push(run.stdout.trim().to_owned());
                }
                i += 1;
            }
            keys
        });
        let mut backups = Vec::new();
        for _ in 0..10 {
            std::thread::sleep(std::time::Duration::from_millis(40));
            backups.push(env.run(&["backup", &env.store(), "--force"]));
        }
        done.store(true, Ordering::Relaxed);
        (creator.join().unwrap(), backups)
    });
    assert!(keys.len() >= 30, "{} keys created", keys.len());
    let all: String = keys.iter().map(|k| format!("{k}\n")).collect();
    let run = env.run_stdin(&["verify", "--stdin-all"], &all);
    let lost: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.contains(" VALID "))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} printed keys lost: {lost:?}",
        lost.len(),
        keys.len()
    );
    for backup in backups {
        backup.error(2, "the store");
    }
}

/// A blank SQLite file beside the rollback journal of a program killed in a
/// transaction: rolling the journal back would write, so it is refused, and
/// neither file changes.
#[test]
fn a_blank_file_beside_a_hot_journal_is_refused_untouched() {
    let env = Env::new();
    let work = env.dir.path().join("work");
    let killed = env.dir.path().join("killed");
    let out = env.dir.path().join("out");
    for dir in [&work, &killed, &out] {
        std::fs::create_dir(dir).unwrap();
    }
    let conn = rusqlite::Connection::open(work.join("theirs.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 0; BEGIN; CREATE TABLE t (x);")
        .unwrap();
    for name in ["theirs.db", "theirs.db-journal"] {
        std::fs::copy(work.join(name), killed.join(name)).unwrap();
    }
    conn.execute_batch("ROLLBACK").unwrap();
    // SQLite writes the journal's magic and record count when it syncs the
    // journal, just before it writes the main file: a kill then leaves this.
    let journal = killed.join("theirs.db-journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    assert_eq!(bytes[..8], [0; 8], "not synced yet");
    bytes[..8].copy_from_slice(&[0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
    bytes[8..12].copy_from_slice(&1u32.to_be_bytes());
    std::fs::write(&journal, &bytes).unwrap();
    let before = folder_snapshot(&killed);
    assert_eq!(before.len(), 2, "{before:?}");
    let db = killed.join("theirs.db");
    for args in [&["list"][..], &["create", "--name", "x"]] {
        let run = env.run_at(&db, args, None).error(4, "-journal");
        assert_eq!(run.stdout, "");
    }
    assert_eq!(folder_snapshot(&killed), before);
    assert!(folder_snapshot(&out).is_empty());
}

/// Processes making a blank SQLite file a store at once all succeed: one
/// makes it, the others wait out its journal and use the store it made.
#[test]
fn processes_making_a_blank_file_a_store_at_once_all_succeed() {
    for _ in 0..5 {
        let env = Env::new();
        rusqlite::Connection::open(&env.db)
            .unwrap()
            .execute_batch("PRAGMA user_version = 0;")
            .unwrap();
        assert!(std::fs::metadata(&env.db).unwrap().len() > 0);
        let env = &env;
        std::thread::scope(|scope| {
            let creators: Vec<_> = (0..8)
                .map(|i| scope.spawn(move || env.run(&["create", "--name", &format!("first{i}")])))
                .collect();
            for creator in creators {
                let run = creator.join().unwrap();
                assert_eq!(run.code, 0, "{run:#?}");
            }
        });
        assert_eq!(env.count("keys"), 8);
    }
}

/// keysmith's application id with a negative user_version (damage, or a
/// hand edit) is refused as damaged, untouched: not a panic.
#[test]
fn a_negative_schema_version_is_refused_untouched() {
    let env = Env::new();
    env.create("k", &[]);
    env.conn().pragma_update(None, "user_version", -1).unwrap();
    let before = env.store_bytes();
    env.run(&["list"]).error(4, "not a keysmith store");
    env.run(&["create", "--name", "y"])
        .error(4, "not a keysmith store");
    assert_eq!(env.store_bytes(), before);
}

/// Issue 24, item 8: "Created a new store" is said only of a store that
/// could be used; a planted `-shm` symlink stops the first write.
#[cfg(unix)]
#[test]
fn a_store_that_could_not_be_used_is_not_announced() {
    let env = Env::new();
    if env.is_postgres() {
        return;
    }
    let shm = env.db.with_file_name("keys.db-shm");
    std::os::unix::fs::symlink(env.dir.path().join("no/such/folder/x"), &shm).unwrap();
    let run = env.run(&["create", "--name", "k"]);
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(!run.stderr.contains("Created a new store"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
    std::fs::remove_file(&shm).unwrap();
    let _ = std::fs::remove_file(env.db.with_file_name("keys.db-wal"));
    let _ = std::fs::remove_file(&env.db);
    let run = env.run(&["create", "--name", "k"]).code(0);
    assert!(run.stderr.contains("Created a new store at"), "{run:#?}");
}

/// Issue 24, item 13: `backup` into a folder that is not there makes it,
/// private (0700), as for the store.
#[cfg(unix)]
#[test]
fn backup_makes_a_missing_folder_private() {
    let env = Env::new();
    env.create("k", &[]);
    let dest = env.dir.path().join("backups/2026/keys.db");
    env.run(&["backup", dest.to_str().unwrap()]).code(0);
    assert!(dest.exists());
    assert_eq!(crate::common::mode(dest.parent().unwrap()) & 0o777, 0o700);
    assert_eq!(
        crate::common::mode(&env.dir.path().join("backups")) & 0o777,
        0o700
    );
    assert_eq!(crate::common::mode(&dest) & 0o777, 0o600);
}
