//! The PostgreSQL leg: the whole suite again against a PostgreSQL server,
//! and the tests of what only PostgreSQL has (URLs, passwords, TLS,
//! connection failures, a database that holds something else).
//!
//! `postgres_leg` re-runs this test binary with `KEYSMITH_TEST_BACKEND=postgres`
//! against the server `KEYSMITH_TEST_POSTGRES` names (`.ci/postgres.sh start`
//! makes one; see docs/src/development.md, Testing on PostgreSQL), this file's tests left out:
//! those run once, on the server whatever the backend, each on a fresh
//! database (`Env::postgres`). Built without `KEYSMITH_TEST_POSTGRES` (see
//! build.rs), all of them are ignored, with the reason; built with it, they
//! fail if the server cannot be used.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Backend, Env, PgUrl, Run, backend, postgres_admin_url};

/// The tests about the SQLite file itself, left out of the PostgreSQL leg
/// (libtest `--skip` filters: a test whose name contains one is skipped).
/// Their PostgreSQL counterparts, where there is one, are in this file.
pub const SQLITE_ONLY: &[(&str, &str)] = &[
    (
        "serve::faults::sqlite_",
        "holds locks on the SQLite file and damages or replaces it; on PostgreSQL: \
         serve::postgres::a_postgresql_restart_is_503_then_served_again",
    ),
    (
        "store_file::",
        "the file itself: text, random bytes, another SQLite database (one in WAL mode \
         with a live -wal too), blank SQLite files, a zero-byte file, a directory, a FIFO, \
         a socket, device nodes and /dev/null, file and folder modes, PRAGMA user_version; \
         on PostgreSQL: another_application_s_tables_are_refused_untouched, \
         a_newer_schema_is_refused_untouched",
    ),
    (
        "create::store_holds_the_hash_never_the_key_or_secret",
        "reads the SQLite file and its WAL byte for byte; \
         create::the_store_holds_the_sha256_of_each_key_and_never_the_key runs on both",
    ),
    (
        "reliability::a_version_1_store_opens_and_its_keys_verify",
        "the version 1 fixture is a SQLite file; PostgreSQL stores start at version 1",
    ),
    (
        "reliability::a_store_keysmith_cannot_write_is_exit_4",
        "a read-only store file; on PostgreSQL: a_role_that_may_only_read_gets_exit_4_on_writes",
    ),
    (
        "reliability::a_damaged_store_is_refused_never_misread",
        "damages the SQLite file's pages",
    ),
    (
        "reliability::store_readable_by_others_warns_once_with_the_fix",
        "the store file's mode",
    ),
    (
        "migrations::a_sqlite_store_of_every_earlier_version_opens_migrated",
        "builds SQLite files of each version; on PostgreSQL: \
         migrations::a_postgres_store_of_every_earlier_version_opens_migrated",
    ),
    (
        "migrations::a_sqlite_store_from_before_root_keys_names_the_keys_holding_their_scopes",
        "builds a SQLite file of version 7; on PostgreSQL: \
         migrations::a_postgres_store_from_before_root_keys_names_the_keys_holding_their_scopes",
    ),
];

/// One line on the terminal, past libtest's capture of `eprintln!`.
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The leg's run of this binary: the PostgreSQL backend, the SQLite-only
/// tests and this file's (the leg itself included) filtered out. It is the
/// test harness, not keysmith: it keeps this process's environment (the
/// server's URL and CA, TMPDIR, RUST_* settings), and every keysmith it
/// starts gets the harness's own (`common::INHERITED`).
fn leg_command() -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.env("KEYSMITH_TEST_BACKEND", "postgres")
        .env_remove("RUST_TEST_THREADS")
        .args(["--test-threads", "2"]);
    for (filter, _why) in SQLITE_ONLY {
        cmd.args(["--skip", filter]);
    }
    cmd.args(["--skip", "postgres::"]);
    cmd
}

pg_test! {
    fn postgres_leg() {
        if backend() == Backend::Postgres {
            // `KEYSMITH_TEST_BACKEND=postgres cargo test`: this run is the leg.
            say("postgres leg: not re-run, this run is on PostgreSQL already");
            return;
        }
        let admin = postgres_admin_url().expect("KEYSMITH_TEST_POSTGRES names the server");
        ::postgres::Client::connect(&admin, ::postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "the PostgreSQL server at {} cannot be used: {e}",
                crate::common::mask(&admin)
            )
        });
        let listed = leg_command()
            .args(["--list", "--format", "terse"])
            .output()
            .expect("list the leg's tests");
        assert!(listed.status.success(), "{listed:?}");
        let expected = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter(|l| l.ends_with(": test"))
            .count();
        assert!(
            expected >= 80,
            "only {expected} tests in the PostgreSQL leg"
        );

        let began = Instant::now();
        let out = leg_command()
            .stdin(Stdio::null())
            .output()
            .expect("run the PostgreSQL leg");
        let elapsed = began.elapsed().as_secs();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The names of the failed tests, then (the start of) their output: the
        // list of passing tests is noise here.
        let report = match (stdout.find("\nfailures:\n"), stdout.rfind("\nfailures:\n")) {
            (Some(first), Some(last)) if first < last => {
                let details: String = stdout[first..last].chars().take(30_000).collect();
                format!("{}\n{details}", &stdout[last..])
            }
            _ => {
                let tail = (stdout.len().saturating_sub(4000)..)
                    .find(|&i| stdout.is_char_boundary(i))
                    .unwrap();
                stdout[tail..].to_owned()
            }
        };
        assert!(
            out.status.success(),
            "the PostgreSQL leg failed after {elapsed} s ({}):\n{report}\n{stderr}",
            out.status
        );
        let passed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("test result: ok. "))
            .and_then(|rest| rest.split_once(" passed"))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no summary from the PostgreSQL leg:\n{report}"));
        assert_eq!(passed, expected, "tests ran in the leg:\n{report}");
        say(&format!(
            "postgres leg: {passed} passed in {elapsed} s ({} SQLite-only filters, see postgres::SQLITE_ONLY)",
            SQLITE_ONLY.len()
        ));
    }
}

/// `cmd` run with `args`, killed and failed if it outlives `limit`.
#[track_caller]
fn run_bounded(env: &Env, mut cmd: Command, args: &[&str], limit: Duration) -> (Run, Duration) {
    let began = Instant::now();
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keysmith");
    while child.try_wait().unwrap().is_none() {
        if began.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "keysmith {args:?} still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = began.elapsed();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    env.assert_no_password(&run);
    (run, elapsed)
}

/// The binary pointed at `url` instead of the test's own store.
fn at(env: &Env, url: &PgUrl) -> Command {
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", url.to_string());
    cmd
}

#[track_caller]
fn one_error_line(run: &Run) -> String {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "want one error line: {run:#?}");
    assert!(lines[0].starts_with("error: "), "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    lines[0].to_lowercase()
}

pg_test! {
    fn another_application_s_tables_are_refused_untouched() {
        let env = Env::postgres();
        env.exec("CREATE TABLE foo (x integer)", &[]);
        env.exec("INSERT INTO foo VALUES (1), (2)", &[]);
        let before = env.store_bytes();
        let valid_shape = keysmith::mint("ks");
        let key = valid_shape.secret.expose();
        let copy = env.dir.path().join("copy.db");
        let copy = copy.to_str().unwrap();
        let runs = [
            env.run(&["create", "--name", "a"]),
            env.run_stdin(&["create", "--from", "-"], "{\"name\": \"b\"}\n"),
            env.run(&["list"]),
            env.run(&["--json", "list"]),
            env.run(&["enable", "a"]),
            env.run(&["disable", "a"]),
            env.run(&["show", "a"]),
            env.run(&["edit", "a", "--name", "c"]),
            env.run(&["rotate", "a", "--yes"]),
            env.run(&["delete", "a", "--yes"]),
            env.run(&["history"]),
            env.run_stdin(&["verify"], key),
            env.run_stdin(&["verify", "--stdin-all"], &format!("{key}\n")),
            env.run_stdin(&["scan", "-"], &format!("token = {key}\n")),
            env.run(&["backup", copy]),
            env.run(&["migrate", "--to", copy]),
        ];
        for run in runs {
            let run = run.error(4, "not a keysmith store");
            assert_eq!(run.stdout, "");
        }
        assert_eq!(env.tables(), ["foo"], "no keysmith table was made");
        assert_eq!(env.store_bytes(), before, "the database was modified");
        assert!(!Path::new(copy).exists(), "a copy of nothing was written");
    }
}

pg_test! {
    fn a_version_1_store_opens_migrated_and_its_keys_verify() {
        let env = Env::postgres();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        env.exec_batch_pg(&std::fs::read_to_string(fixtures.join("postgres-v1.sql")).unwrap());
        let expected = std::fs::read_to_string(fixtures.join("store-v1.keys")).unwrap();
        for line in expected.lines() {
            let (code, key) = line.split_once(' ').unwrap();
            let v = env.run_stdin(&["--json", "verify"], key).json();
            assert_eq!(v["code"], code, "{key}");
        }
        let listed = env.run(&["--json", "list"]).code(0).json();
        assert_eq!(listed.as_array().unwrap().len(), 4);
        let history = env.run(&["--json", "history"]).code(0).json();
        assert_eq!(history.as_array().unwrap().len(), 6);
        // Brought up to the version a new store has, its change counter there.
        assert_eq!(
            env.query_i64("SELECT schema_version::bigint FROM keysmith_store", &[]),
            today_s_version()
        );
        let before = env.query_i64("SELECT n FROM key_changes", &[]);
        env.run(&["disable", "alpha"]).code(0);
        assert_eq!(env.query_i64("SELECT n FROM key_changes", &[]), before + 1);
    }
}

/// The schema version a new PostgreSQL store has: one per migration file.
fn today_s_version() -> i64 {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/postgres/migrations");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64
}

pg_test! {
    fn a_newer_schema_is_refused_untouched() {
        let env = Env::postgres();
        let key = env.create("k", &[]);
        assert_eq!(
            env.query_rows(
                "SELECT application, schema_version FROM keysmith_store",
                &[]
            ),
            [[Some("keysmith".to_owned()), Some(today_s_version().to_string())]]
        );
        env.exec("UPDATE keysmith_store SET schema_version = 99", &[]);
        let before = env.store_bytes();
        env.run(&["list"]).error(4, "newer");
        env.run(&["create", "--name", "y"]).error(4, "newer");
        env.run_stdin(&["verify"], &key).error(4, "newer");
        assert_eq!(env.store_bytes(), before);
    }
}

pg_test! {
    fn postgresql_scheme_and_the_db_flag_select_postgres() {
        let env = Env::postgres();
        let mut url = env.pg_url();
        url.scheme = "postgresql".into();
        let mut cmd = env.command();
        cmd.env_remove("KEYSMITH_DB");
        let key = env
            .run_with(
                cmd,
                &["--db", &url.to_string(), "create", "--name", "flag"],
                None,
            )
            .code(0)
            .stdout
            .trim()
            .to_owned();
        assert!(
            !env.dir.path().join("xdg").exists(),
            "no SQLite store was made"
        );
        env.run_stdin(&["verify"], &key).code(0);
        assert_eq!(env.count("keys"), 1);
    }
}

pg_test! {
    fn a_wrong_password_is_exit_4_and_never_printed() {
        let env = Env::postgres();
        let secret = "wrong-Secret-7d1f";
        let mut url = env.pg_url();
        url.password = Some(secret.into());
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "{run:#?}");
        let line = one_error_line(&run);
        assert!(!run.stderr.contains(secret), "{run:#?}");
        assert!(run.stderr.contains(":***@"), "the masked URL: {run:#?}");
        assert!(
            line.contains("password") || line.contains("authentication"),
            "{run:#?}"
        );
        // A password in the query string is a password too.
        let mut url = env.pg_url();
        url.password = None;
        let url = url.with("password", secret);
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "{run:#?}");
        one_error_line(&run);
        assert!(!run.stderr.contains(secret), "{run:#?}");
        assert_eq!(env.count("keys"), 0);
    }
}

pg_test! {
    fn a_percent_encoded_password_is_decoded_and_never_printed() {
        let env = Env::postgres();
        // A role of this test's own, whose password needs encoding in a URL.
        let role = format!("ks_odd_{}", &env.pg_url().dbname[3..11]);
        let password = "p@ss:w/rd%?&x y";
        let encoded = "p%40ss%3Aw%2Frd%25%3F%26x%20y";
        env.exec(
            &format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'"),
            &[],
        );
        let mut url = env.pg_url();
        url.user = role.clone();
        url.password = Some(encoded.into());
        let run = env
            .run_with(at(&env, &url), &["create", "--name", "odd"], None)
            .code(0);
        let key = run.stdout.trim().to_owned();
        env.run_stdin(&["verify"], &key).code(0);
        url.password = Some(format!("{encoded}-wrong"));
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "{run:#?}");
        one_error_line(&run);
        for shown in [password, encoded, "p@ss", "p%40ss"] {
            assert!(!run.stderr.contains(shown), "{shown} printed: {run:#?}");
        }
        assert!(run.stderr.contains(&format!("{role}:***@")), "{run:#?}");
        // The role goes with the test: it owns the store's tables.
        env.exec(&format!("REASSIGN OWNED BY {role} TO CURRENT_USER"), &[]);
        env.exec(&format!("DROP OWNED BY {role}"), &[]);
        env.exec(&format!("DROP ROLE {role}"), &[]);
    }
}

pg_test! {
    fn pgpassword_supplies_a_password_the_url_lacks() {
        let env = Env::postgres();
        let mut url = env.pg_url();
        let password = url
            .password
            .take()
            .expect("the test server's URL has a password");
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "no password anywhere: {run:#?}");
        one_error_line(&run);
        let mut cmd = at(&env, &url);
        cmd.env("PGPASSWORD", &password);
        let key = env
            .run_with(cmd, &["create", "--name", "via env"], None)
            .code(0)
            .stdout
            .trim()
            .to_owned();
        env.run_stdin(&["verify"], &key).code(0);
    }
}

pg_test! {
    fn pgpass_in_home_supplies_a_password_when_private() {
        let env = Env::postgres();
        let mut url = env.pg_url();
        let password = url
            .password
            .take()
            .expect("the test server's URL has a password");
        let pgpass = env.dir.path().join(".pgpass");
        std::fs::write(
            &pgpass,
            format!(
                "# host:port:database:user:password\n\
                 otherhost:5432:*:keysmith_test:not-this-one\n\
                 {}:{}:*:{}:{password}\n",
                url.host, url.port, url.user
            ),
        )
        .unwrap();
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let key = env
            .run_with(at(&env, &url), &["create", "--name", "via pgpass"], None)
            .code(0)
            .stdout
            .trim()
            .to_owned();
        env.run_stdin(&["verify"], &key).code(0);
        // libpq ignores a password file others can read; so does keysmith.
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "a world-readable .pgpass was used: {run:#?}");
        assert!(!run.stderr.contains(&password));
    }
}

pg_test! {
    fn connection_refused_is_exit_4_at_once() {
        let env = Env::postgres();
        // A port nobody listens on: bound, then released.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut url = env.pg_url();
        url.port = port;
        for args in [&["list"][..], &["create", "--name", "x"]] {
            let (run, elapsed) = run_bounded(&env, at(&env, &url), args, Duration::from_secs(30));
            assert_eq!(run.code, 4, "{run:#?}");
            let line = one_error_line(&run);
            assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
            assert!(
                line.contains(&port.to_string()),
                "names the server: {run:#?}"
            );
            assert!(
                line.contains("refused") || line.contains("connect"),
                "says what failed: {run:#?}"
            );
            assert!(run.stderr.contains(":***@"), "the masked URL: {run:#?}");
        }
    }
}

pg_test! {
    fn a_server_that_never_answers_times_out_with_exit_4() {
        let env = Env::postgres();
        // The kernel completes the handshake; nobody ever reads or writes.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut url = env.pg_url();
        url.port = silent.local_addr().unwrap().port();
        for sslmode in ["disable", "prefer", "require"] {
            let url = url
                .clone()
                .with("connect_timeout", "2")
                .with("sslmode", sslmode);
            let (run, elapsed) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(30));
            assert_eq!(run.code, 4, "{sslmode}: {run:#?}");
            let line = one_error_line(&run);
            assert!(line.contains("time"), "says it timed out: {run:#?}");
            assert!(
                elapsed < Duration::from_secs(10),
                "{sslmode}: took {elapsed:?}"
            );
        }
        // PGCONNECT_TIMEOUT as libpq reads it; and without any, a default bound.
        let mut cmd = at(&env, &url);
        cmd.env("PGCONNECT_TIMEOUT", "2");
        let (run, elapsed) = run_bounded(&env, cmd, &["list"], Duration::from_secs(30));
        assert_eq!(run.code, 4, "{run:#?}");
        assert!(
            elapsed < Duration::from_secs(10),
            "PGCONNECT_TIMEOUT: took {elapsed:?}"
        );
        let (run, _) = run_bounded(&env, at(&env, &url), &["list"], Duration::from_secs(60));
        assert_eq!(run.code, 4, "no connect_timeout: {run:#?}");
        one_error_line(&run);
        drop(silent);
    }
}

/// The CA of the test server's certificate (`.ci/postgres.sh` makes one).
fn test_ca() -> PathBuf {
    std::env::var_os("KEYSMITH_TEST_POSTGRES_CA")
        .filter(|ca| !ca.is_empty())
        .map(PathBuf::from)
        .expect("KEYSMITH_TEST_POSTGRES_CA names the test server's CA")
}

/// A self-signed CA certificate that signed nothing the server has.
fn stranger_ca(dir: &Path) -> PathBuf {
    let cert = dir.join("stranger-ca.crt");
    let status = Command::new("openssl")
        .args(["req", "-x509", "-new", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=keysmith stranger CA"])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .arg("-keyout")
        .arg(dir.join("stranger-ca.key"))
        .arg("-out")
        .arg(&cert)
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl made no certificate");
    cert
}

pg_test! {
    tls:
    fn tls_require_and_verify_full() {
        let env = Env::postgres();
        let ca = test_ca();
        let ca = ca.to_str().unwrap();
        let url = env.pg_url();
        let mut localhost = url.clone();
        localhost.host = "localhost".into();
        let good = [
            url.clone().with("sslmode", "require"),
            localhost
                .clone()
                .with("sslmode", "verify-full")
                .with("sslrootcert", ca),
            // The server's certificate names 127.0.0.1 too (.ci/postgres.sh).
            url.clone()
                .with("sslmode", "verify-full")
                .with("sslrootcert", ca),
            url.clone().with("sslmode", "disable"),
        ];
        for (i, url) in good.iter().enumerate() {
            let key = env
                .run_with(
                    at(&env, url),
                    &["create", "--name", &format!("tls{i}")],
                    None,
                )
                .code(0)
                .stdout
                .trim()
                .to_owned();
            env.run_with(at(&env, url), &["verify"], Some(&key)).code(0);
        }
        assert_eq!(env.count("keys"), good.len() as i64);
    }
}

pg_test! {
    tls:
    fn tls_verify_full_refuses_a_server_it_cannot_verify() {
        let env = Env::postgres();
        let stranger = stranger_ca(env.dir.path());
        let not_a_cert = env.dir.path().join("notes.txt");
        std::fs::write(&not_a_cert, "not a certificate\n").unwrap();
        let mut localhost = env.pg_url();
        localhost.host = "localhost".into();
        let bad = [
            // Another CA: the chain does not verify.
            localhost
                .clone()
                .with("sslmode", "verify-full")
                .with("sslrootcert", stranger.to_str().unwrap()),
            // No sslrootcert: libpq's default, ~/.postgresql/root.crt, is missing.
            localhost.clone().with("sslmode", "verify-full"),
            // The system's roots: they never signed the test CA.
            localhost
                .clone()
                .with("sslmode", "verify-full")
                .with("sslrootcert", "system"),
            // A root file with no certificate in it.
            localhost
                .clone()
                .with("sslmode", "verify-full")
                .with("sslrootcert", not_a_cert.to_str().unwrap()),
        ];
        for url in &bad {
            let (run, elapsed) = run_bounded(
                &env,
                at(&env, url),
                &["create", "--name", "x"],
                Duration::from_secs(30),
            );
            assert_eq!(run.code, 4, "{run:#?}");
            let line = one_error_line(&run);
            assert!(
                ["certificate", "tls", "ssl"]
                    .iter()
                    .any(|w| line.contains(w)),
                "says TLS failed: {run:#?}"
            );
            assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
        }
        assert!(!env.store_exists(), "nothing was written");
    }
}

pg_test! {
    tls:
    fn tls_verify_full_checks_the_host_name_and_verify_ca_does_not() {
        let env = Env::postgres();
        let ca = test_ca();
        // A name the server's certificate does not carry, reached at its address
        // (`hostaddr`): the chain verifies, the name does not.
        let mut url = env.pg_url();
        url.host = "keysmith-elsewhere.invalid".into();
        let url = url
            .with("hostaddr", "127.0.0.1")
            .with("sslrootcert", ca.to_str().unwrap());
        let (run, _) = run_bounded(
            &env,
            at(&env, &url.clone().with("sslmode", "verify-full")),
            &["create", "--name", "x"],
            Duration::from_secs(30),
        );
        assert_eq!(
            run.code, 4,
            "verify-full took a certificate for another name: {run:#?}"
        );
        let line = one_error_line(&run);
        assert!(
            line.contains("tls") || line.contains("certificate"),
            "{run:#?}"
        );
        assert!(!env.store_exists(), "nothing was written");
        let ca_only = url.with("sslmode", "verify-ca");
        let key = env
            .run_with(at(&env, &ca_only), &["create", "--name", "ca only"], None)
            .code(0)
            .stdout
            .trim()
            .to_owned();
        env.run_with(at(&env, &ca_only), &["verify"], Some(&key))
            .code(0);
    }
}

/// What another host holding keysmith's schema lock looks like: the
/// session lock blocks the transaction lock keysmith takes (`SCHEMA_LOCK`
/// in src/store/postgres/mod.rs, "KSMT").
const SCHEMA_LOCK: i64 = 0x4B53_4D54;

pg_test! {
    fn creating_the_schema_waits_for_another_host_holding_the_lock() {
        let env = Env::postgres();
        env.exec(&format!("SELECT pg_advisory_lock({SCHEMA_LOCK})"), &[]);
        let mut child = env
            .command()
            .args(["create", "--name", "waited"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "create did not wait for the schema lock"
        );
        assert!(env.tables().is_empty(), "tables made without the lock");
        env.exec(&format!("SELECT pg_advisory_unlock({SCHEMA_LOCK})"), &[]);
        let began = Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(began.elapsed() < Duration::from_secs(30), "create hung");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        env.run_stdin(&["verify"], &key).code(0);
        assert_eq!(env.count("keys"), 1);
    }
}

pg_test! {
    fn a_schema_creation_that_fails_midway_leaves_nothing() {
        let env = Env::postgres();
        // An event trigger (database-wide, not a table in the schema) fails the
        // creation of `usage`, the last table of version 1.
        env.exec(
            "CREATE FUNCTION ks_test_no_usage() RETURNS event_trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                            WHERE object_identity LIKE '%.usage') THEN
                     RAISE EXCEPTION 'no usage table today';
                 END IF;
             END $$",
            &[],
        );
        env.exec(
            "CREATE EVENT TRIGGER ks_test_no_usage ON ddl_command_end \
             WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION ks_test_no_usage()",
            &[],
        );
        let run = env.run(&["create", "--name", "x"]);
        assert_eq!(run.code, 4, "{run:#?}");
        one_error_line(&run);
        assert!(
            !run.stderr.contains("no usage table"),
            "no SQL text: {run:#?}"
        );
        assert_eq!(
            env.tables(),
            Vec::<String>::new(),
            "the tables made before the failure were kept"
        );
        env.exec("DROP EVENT TRIGGER ks_test_no_usage", &[]);
        let key = env.create("after", &[]);
        env.run_stdin(&["verify"], &key).code(0);
    }
}

pg_test! {
    /// `migrate` into an empty PostgreSQL store whose history table refuses
    /// rows: the keys, copied first, must go with them.
    fn a_migration_that_fails_midway_leaves_the_target_empty() {
        let source = Env::postgres();
        for name in ["one", "two", "three"] {
            source.create(name, &[]);
        }
        let file = source.dir.path().join("copy.db");
        let file = file.to_str().unwrap();
        source.run(&["migrate", "--to", file]).code(0);

        let target = Env::postgres();
        target.create("scratch", &[]);
        for table in ["usage", "keys", "events"] {
            target.exec(&format!("DELETE FROM {table}"), &[]);
        }
        target.exec(
            "CREATE FUNCTION ks_test_no_events() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'no history today'; END $$",
            &[],
        );
        target.exec(
            "CREATE TRIGGER ks_test_no_events BEFORE INSERT ON events \
             FOR EACH STATEMENT EXECUTE FUNCTION ks_test_no_events()",
            &[],
        );
        let from_file = |env: &Env| {
            let mut cmd = env.command();
            cmd.env("KEYSMITH_DB", file);
            cmd
        };
        for run in [
            source.run(&["migrate", "--to", &target.store()]),
            source.run_with(
                from_file(&source),
                &["migrate", "--to", &target.store()],
                None,
            ),
        ] {
            assert_eq!(run.code, 4, "{run:#?}");
            one_error_line(&run);
            assert_eq!(target.count("keys"), 0, "keys copied without their history");
            assert_eq!(target.count("events"), 0);
        }
        target.exec("DROP TRIGGER ks_test_no_events ON events", &[]);
        source.run(&["migrate", "--to", &target.store()]).code(0);
        assert_eq!(target.count("keys"), 3);
    }
}

pg_test! {
    fn migrate_refuses_an_occupied_or_foreign_target_of_the_other_kind() {
        let env = Env::postgres();
        let ours = env.create("ours", &[]);
        // A SQLite file that holds a key: PostgreSQL → SQLite is refused.
        let file = env.dir.path().join("theirs.db");
        let file = file.to_str().unwrap();
        let mut cmd = env.command();
        cmd.env("KEYSMITH_DB", file);
        env.run_with(cmd, &["create", "--name", "theirs"], None)
            .code(0);
        let before = std::fs::read(file).unwrap();
        let run = env
            .run(&["migrate", "--to", file])
            .error(2, "already holds");
        assert_eq!(run.stdout, "");
        assert_eq!(
            std::fs::read(file).unwrap(),
            before,
            "the SQLite target changed"
        );

        // SQLite → an occupied PostgreSQL store (this test's own) is refused.
        let source = env.dir.path().join("source.db");
        let source = source.to_str().unwrap();
        env.run(&["migrate", "--to", source]).code(0);
        let before = env.store_bytes();
        let mut cmd = env.command();
        cmd.env("KEYSMITH_DB", source);
        let run = env
            .run_with(cmd, &["migrate", "--to", &env.store()], None)
            .error(2, "already holds");
        assert_eq!(run.stdout, "");
        assert_eq!(env.store_bytes(), before, "the PostgreSQL target changed");

        // A database of another application's is refused untouched, from either kind.
        let foreign = Env::postgres();
        foreign.exec("CREATE TABLE foo (x integer)", &[]);
        let foreign_before = foreign.store_bytes();
        env.run(&["migrate", "--to", &foreign.store()])
            .error(4, "not a keysmith store");
        let mut cmd = env.command();
        cmd.env("KEYSMITH_DB", source);
        env.run_with(cmd, &["migrate", "--to", &foreign.store()], None)
            .error(4, "not a keysmith store");
        assert_eq!(foreign.store_bytes(), foreign_before);
        assert_eq!(foreign.tables(), ["foo"]);
        env.run_stdin(&["verify"], &ours).code(0);
    }
}

pg_test! {
    fn a_new_key_s_commit_waits_for_the_disk_even_with_synchronous_commit_off() {
        let env = Env::postgres();
        let key = env.create("first", &[]);
        // A database tuned for speed: commits return before the WAL is flushed.
        let dbname = env.pg_url().dbname;
        env.exec(
            &format!("ALTER DATABASE \"{dbname}\" SET synchronous_commit = off"),
            &[],
        );
        // Each statement that adds keys notes the setting its transaction
        // commits with, in a schema of the test's own.
        env.exec("CREATE SCHEMA probe", &[]);
        env.exec("CREATE TABLE probe.seen (setting text NOT NULL)", &[]);
        env.exec(
            "CREATE FUNCTION probe.note() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 INSERT INTO probe.seen VALUES (current_setting('synchronous_commit'));
                 RETURN NULL;
             END $$",
            &[],
        );
        env.exec(
            "CREATE TRIGGER note AFTER INSERT ON keys \
             FOR EACH STATEMENT EXECUTE FUNCTION probe.note()",
            &[],
        );
        env.create("second", &[]);
        env.run_stdin(&["create", "--from", "-"], "{\"name\": \"bulk\"}\n")
            .code(0);
        env.run(&["rotate", &key, "--yes"]).code(0);
        assert_eq!(
            env.query_strings("SELECT setting FROM probe.seen", &[]),
            ["on", "on", "on"]
        );
        // The control: the setting is off for everyone else.
        assert_eq!(
            env.query_strings(
                "SELECT setting FROM pg_db_role_setting, unnest(setconfig) AS setting \
                 WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[]
            ),
            ["synchronous_commit=off"]
        );
    }
}

pg_test! {
    /// The counterpart of `reliability::a_store_keysmith_cannot_write_is_exit_4`:
    /// a role that may only read the store.
    fn a_role_that_may_only_read_gets_exit_4_on_writes() {
        let env = Env::postgres();
        let key = env.create("k", &[]);
        let role = format!("ks_ro_{}", &env.pg_url().dbname[3..11]);
        let password = "read-Only-Pw-1";
        env.exec(
            &format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'"),
            &[],
        );
        env.exec(
            &format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
            &[],
        );
        let mut url = env.pg_url();
        url.user = role.clone();
        url.password = Some(password.into());
        let before = env.store_bytes();
        env.run_with(at(&env, &url), &["list"], None).code(0);
        for args in [
            &["create", "--name", "x"][..],
            &["disable", "k"],
            &["rotate", "k", "--yes"],
        ] {
            let (run, _) = run_bounded(&env, at(&env, &url), args, Duration::from_secs(30));
            assert_eq!(run.code, 4, "{args:?}: {run:#?}");
            let line = one_error_line(&run);
            assert!(line.contains("may not"), "says it lacks rights: {run:#?}");
            assert!(!run.stderr.contains(password), "{run:#?}");
        }
        // verify records a use, which this role may not: a right answer or a
        // clean exit 4, as on a read-only SQLite file.
        let run = env.run_with(at(&env, &url), &["verify"], Some(&key));
        assert!(run.code == 0 || run.code == 4, "{run:#?}");
        if run.code == 4 {
            one_error_line(&run);
        }
        assert_eq!(env.store_bytes(), before, "a write got through");
        env.exec(&format!("DROP OWNED BY {role}"), &[]);
        env.exec(&format!("DROP ROLE {role}"), &[]);
    }
}
