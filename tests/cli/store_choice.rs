//! docs/src/store.md: which store a command uses (`--db`, `KEYSMITH_DB`, the
//! configuration files, the default), and a missing store refused by every
//! command that reads or changes keys, naming the path and where it came
//! from; `keysmith init` and `keysmith info`. Issue 24, item 1.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{Env, Run, spawn};

/// The commands that read or change keys, with what they need besides a
/// store. None of them may make one.
const READERS: &[&[&str]] = &[
    &["list"],
    &["--json", "list"],
    &["list", "--expiring-within", "7d", "--exit-code"],
    &["list", "--unused-for", "30d", "--exit-code"],
    &["info"],
    &["show", "somekey"],
    &["enable", "somekey"],
    &["disable", "somekey"],
    &["edit", "somekey", "--name", "x"],
    &["rotate", "somekey", "--yes"],
    &["delete", "somekey", "--yes"],
    &["history"],
    &["backup", "copy.db"],
    &["migrate", "--to", "other.db"],
    &["verify", "--stdin-all"],
];

/// `env`'s command with the store named only by `--db`, no configuration
/// file of the host's, and stdin from `input`.
fn run_at(env: &Env, db: &str, args: &[&str], input: &str) -> Run {
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env(
            "KEYSMITH_CONFIG_SYSTEM",
            env.dir.path().join("no-system.toml"),
        )
        .arg("--db")
        .arg(db);
    env.run_with(cmd, args, Some(input))
}

fn missing_line(path: &str, from: &str) -> String {
    format!("there is no keysmith store at {path} (from {from})")
}

#[test]
fn a_mistyped_store_is_refused_by_every_command_and_nothing_is_made() {
    let env = Env::new();
    // A real store next to the typo, so "no keys" could not be the answer.
    env.create("real", &[]);
    let typo = env.dir.path().join("keys.bd");
    let typo = typo.to_str().unwrap();
    let valid_key = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6";
    for args in READERS {
        let run = run_at(&env, typo, args, &format!("{valid_key}\n"))
            .error(4, &missing_line(typo, "--db"));
        assert!(run.stdout.is_empty(), "{args:?}: {run:#?}");
        assert!(!std::path::Path::new(typo).exists(), "{args:?} made {typo}");
    }
    // scan: every key would be `unknown`, and the CI guard would pass.
    let file = env.dir.path().join("leak.txt");
    std::fs::write(&file, format!("token = {valid_key}\n")).unwrap();
    run_at(&env, typo, &["scan", file.to_str().unwrap()], "").error(4, &missing_line(typo, "--db"));
    // verify: the store is asked only for a well-formed key.
    run_at(&env, typo, &["verify"], &format!("{valid_key}\n"))
        .error(4, &missing_line(typo, "--db"));
    assert!(!std::path::Path::new(typo).exists());
    // A blank file is no store yet either, and is left as it is.
    let blank = env.dir.path().join("blank.db");
    std::fs::write(&blank, "").unwrap();
    let blank = blank.to_str().unwrap();
    run_at(&env, blank, &["list"], "").error(4, "only a blank file");
    assert_eq!(std::fs::metadata(blank).unwrap().len(), 0);
}

#[test]
fn the_refusal_names_where_the_path_came_from() {
    let env = Env::new();
    let typo = env.dir.path().join("typo.db");
    let typo = typo.to_str().unwrap();
    let mut cmd = env.command();
    cmd.env("KEYSMITH_DB", typo);
    env.run_with(cmd, &["list"], None)
        .error(4, &missing_line(typo, "KEYSMITH_DB"));

    let config = env.dir.path().join(".config/keysmith/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, format!("db = '{typo}'\n")).unwrap();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env("KEYSMITH_CONFIG_SYSTEM", env.dir.path().join("none.toml"));
    let from = format!("db in {}", config.display());
    env.run_with(cmd, &["list"], None)
        .error(4, &missing_line(typo, &from));

    let system = env.dir.path().join("etc-keysmith.toml");
    std::fs::write(&system, format!("db = '{typo}'\n")).unwrap();
    std::fs::remove_file(&config).unwrap();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env("KEYSMITH_CONFIG_SYSTEM", &system);
    let from = format!("db in {}", system.display());
    env.run_with(cmd, &["list"], None)
        .error(4, &missing_line(typo, &from));

    std::fs::remove_file(&system).unwrap();
    let default = env.dir.path().join("xdg/keysmith/keys.db");
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env("KEYSMITH_CONFIG_SYSTEM", &system);
    env.run_with(cmd, &["list"], None).error(
        4,
        &missing_line(default.to_str().unwrap(), "the default location"),
    );
}

/// `serve` on a missing store exits 4 before listening: it would answer
/// 401 to every key while /healthz said ok.
#[test]
fn serve_refuses_a_missing_store_and_starts_on_one_made_by_init() {
    let env = Env::new();
    let typo = env.dir.path().join("typo.db");
    let typo = typo.to_str().unwrap();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .args(["--db", typo, "serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = spawn(&mut cmd);
    let out = wait_output(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&missing_line(typo, "--db")), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
    assert!(!std::path::Path::new(typo).exists());

    // `init` makes an empty store for it; a second `init` leaves it be.
    let init = env.run(&["init"]).code(0);
    assert!(init.stderr.contains("Created a new store at"), "{init:#?}");
    assert!(env.store_exists());
    let again = env.run(&["--json", "init"]).code(0).json();
    assert_eq!(again["created"], false);
    assert_eq!(env.count("keys"), 0);
    let server = crate::serve::Server::start(&env, &[]);
    assert!(server.addr.starts_with("127.0.0.1:"));
    server.stop();
}

fn wait_output(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn commands_that_open_no_store_are_unaffected() {
    let env = Env::new();
    let typo = env.dir.path().join("typo.db");
    let typo = typo.to_str().unwrap();
    for args in [
        &["completions", "bash"][..],
        &["man"],
        &["scan", "--rules", "gitleaks"],
        &["--version"],
    ] {
        let run = run_at(&env, typo, args, "");
        assert_eq!(run.code, 0, "{args:?}: {run:#?}");
        assert!(!run.stderr.contains("error"), "{args:?}: {run:#?}");
    }
    assert!(!std::path::Path::new(typo).exists());
}

#[test]
fn info_says_which_store_why_and_what_it_holds() {
    let env = Env::new();
    let a = env.create("a", &[]);
    env.create("b", &["--expires-in", "1s"]);
    env.create("c", &[]);
    env.run(&["disable", &Env::id_of(&a)]).code(0);
    std::thread::sleep(Duration::from_millis(1100));
    let info = env.run(&["--json", "info"]).code(0).json();
    assert_eq!(info["store"], env.store_shown());
    assert_eq!(info["source"], "variable");
    assert_eq!(
        info["backend"],
        if env.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert!(info["schema_version"].as_i64().unwrap() >= 1, "{info}");
    assert_eq!(
        info["keys"],
        serde_json::json!({"total": 3, "enabled": 1, "disabled": 1, "expired": 1})
    );
    let text = env.run(&["info"]).code(0).stdout;
    assert!(text.contains("from:     KEYSMITH_DB"), "{text}");
    assert!(
        text.contains("keys:     3 (1 enabled, 1 disabled, 1 expired)"),
        "{text}"
    );
}

#[test]
fn a_configuration_file_chooses_the_store_for_every_user_of_the_host() {
    let env = Env::new();
    if env.is_postgres() {
        return; // A path of its own: the SQLite case says it all.
    }
    let system = env.dir.path().join("etc/keysmith/config.toml");
    std::fs::create_dir_all(system.parent().unwrap()).unwrap();
    let store = env.dir.path().join("var/lib/keysmith/keys.db");
    std::fs::write(
        &system,
        format!("# the host's store\ndb = \"{}\"\n", store.display()),
    )
    .unwrap();
    let configured = || {
        let mut cmd = env.command();
        cmd.env_remove("KEYSMITH_DB")
            .env("KEYSMITH_CONFIG_SYSTEM", &system);
        cmd
    };
    let key = env
        .run_with(configured(), &["create", "--name", "via config"], None)
        .code(0);
    assert!(store.exists());
    let info = env
        .run_with(configured(), &["--json", "info"], None)
        .code(0)
        .json();
    assert_eq!(info["source"], "system-config");
    assert_eq!(info["config_file"], system.to_str().unwrap());
    assert_eq!(info["keys"]["total"], 1);
    env.run_with(configured(), &["verify"], Some(&key.stdout))
        .code(0);

    // The user's own file comes first; --db and KEYSMITH_DB before both.
    let user = env.dir.path().join(".config/keysmith/config.toml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(&user, "db = \"mine.db\"\n").unwrap();
    let info = env
        .run_with(configured(), &["--json", "init"], None)
        .code(0)
        .json();
    // A relative path is the file's neighbour.
    assert_eq!(
        info["store"],
        user.with_file_name("mine.db").to_str().unwrap()
    );
    let mut cmd = configured();
    cmd.env("KEYSMITH_DB", env.store());
    env.run(&["init"]).code(0);
    let info = env.run_with(cmd, &["--json", "info"], None).code(0).json();
    assert_eq!(info["source"], "variable");

    // A file keysmith cannot read right is an error, never skipped.
    std::fs::write(&user, "dbb = \"mine.db\"\n").unwrap();
    env.run_with(configured(), &["list"], None)
        .error(2, "configuration file");
}

#[cfg(unix)]
#[test]
fn a_configuration_file_with_a_password_others_can_read_draws_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let system = env.dir.path().join("config.toml");
    // An unreachable server: the warning comes before any connection.
    std::fs::write(
        &system,
        "db = \"postgres://u:s3cr3tpw@127.0.0.1:1/k?connect_timeout=1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env("KEYSMITH_CONFIG_SYSTEM", &system);
    let run = env.run_with(cmd, &["list"], None);
    assert_eq!(run.code, 4, "{run:#?}");
    assert!(
        run.stderr.contains("warning: the configuration file"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("chmod 600"), "{run:#?}");
    assert!(!run.stderr.contains("s3cr3tpw"), "{run:#?}");
    std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = env.command();
    cmd.env_remove("KEYSMITH_DB")
        .env("KEYSMITH_CONFIG_SYSTEM", &system);
    let run = env.run_with(cmd, &["list"], None);
    assert!(!run.stderr.contains("warning"), "{run:#?}");
}

/// On PostgreSQL a database without keysmith's schema is a missing store:
/// refused, and left without a table.
#[test]
fn a_postgresql_database_without_the_schema_is_missing() {
    let env = Env::new();
    if !env.is_postgres() {
        return;
    }
    let valid_key = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6\n";
    for args in READERS {
        let run = env.run_stdin(args, valid_key);
        assert_eq!(run.code, 4, "{args:?}: {run:#?}");
        assert!(
            run.stderr.contains("there is no keysmith store at"),
            "{run:#?}"
        );
        assert!(run.stderr.contains("(from KEYSMITH_DB)"), "{run:#?}");
    }
    assert!(env.tables().is_empty());
    env.run(&["init"]).code(0);
    assert!(!env.tables().is_empty());
    env.run(&["list"]).code(0);
}

/// The systemd recipe of docs/src/gateways.md, as written: the unit passes
/// `systemd-analyze verify` where that is installed, and the CLI run as the
/// service's user (`sudo -u keysmith keysmith create`, another HOME) finds
/// the store the unit serves, through /etc/keysmith/config.toml.
#[test]
fn the_systemd_recipe_serves_the_store_the_cli_of_its_user_writes() {
    let env = Env::new();
    if env.is_postgres() {
        return;
    }
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/gateways.md"))
            .unwrap();
    let block = |start: &str| -> String {
        let at = page
            .find(start)
            .unwrap_or_else(|| panic!("docs/src/gateways.md lacks {start}"));
        let body = &page[at + start.len()..];
        body[..body.find("```").unwrap()].to_owned()
    };
    let unit = block("```ini\n[Unit]\nDescription=keysmith serve");
    let unit = format!("[Unit]\nDescription=keysmith serve{unit}");
    let config = block("```toml\n# /etc/keysmith/config.toml\n");
    assert!(
        !unit
            .lines()
            .any(|l| l.starts_with("Environment=KEYSMITH_DB")),
        "the unit must not name a store of its own: the CLI would not see it"
    );
    assert!(
        unit.contains("ExecStart=/usr/local/bin/keysmith serve"),
        "{unit}"
    );

    // The host: /etc/keysmith/config.toml as docs/src/gateways.md writes it.
    let etc = env.dir.path().join("etc/keysmith/config.toml");
    std::fs::create_dir_all(etc.parent().unwrap()).unwrap();
    let state = env.dir.path().join("var/lib/keysmith");
    let config = config.replace("/var/lib/keysmith", state.to_str().unwrap());
    std::fs::write(&etc, config).unwrap();
    let as_user = |home: &str| {
        let mut cmd = env.command();
        let home = env.dir.path().join(home);
        std::fs::create_dir_all(&home).unwrap();
        cmd.env_remove("KEYSMITH_DB")
            .env("KEYSMITH_CONFIG_SYSTEM", &etc)
            .env("HOME", &home)
            .env_remove("XDG_DATA_HOME");
        cmd
    };
    // `sudo -u keysmith keysmith create`: the service user's HOME.
    let key = env
        .run_with(as_user("home-keysmith"), &["create", "--name", "api"], None)
        .code(0)
        .stdout;
    assert!(state.join("keys.db").exists(), "not the unit's store");
    // The unit's process: no HOME of its own, no variable, the same store.
    let mut serve_env = as_user("home-service");
    serve_env.env_remove("HOME");
    let info = env
        .run_with(serve_env, &["--json", "info"], None)
        .code(0)
        .json();
    assert_eq!(info["keys"]["total"], 1, "{info}");
    assert_eq!(info["source"], "system-config");
    env.run_with(as_user("home-operator"), &["verify"], Some(&key))
        .code(0);
}

/// The code block of docs/src/gateways.md that starts with `start`, after that line.
fn recipe_block(start: &str) -> String {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/gateways.md"))
            .unwrap();
    let at = page
        .find(start)
        .unwrap_or_else(|| panic!("docs/src/gateways.md lacks {start}"));
    let body = &page[at + start.len()..];
    body[..body.find("```").unwrap()].to_owned()
}

/// The systemd unit of docs/src/gateways.md.
fn recipe_unit() -> String {
    let unit = recipe_block("```ini\n[Unit]\nDescription=keysmith serve");
    format!("[Unit]\nDescription=keysmith serve{unit}")
}

/// That unit passes `systemd-analyze verify`, with the test's own
/// build where the unit expects the binary. Only what is about the unit is
/// held against it: this host may have no user `keysmith`, and systemd may
/// not be running (a container).
#[test]
#[cfg_attr(
    keysmith_no_systemd_analyze,
    ignore = "needs systemd-analyze (apt-get install systemd; .ci/run does)"
)]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let env = Env::new();
    let unit = recipe_unit().replace("/usr/local/bin/keysmith", env!("CARGO_BIN_EXE_keysmith"));
    let file = env.dir.path().join("keysmith-serve.service");
    std::fs::write(&file, unit).unwrap();
    let out = Command::new(systemd_analyze())
        .args(["verify", "--man=no"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    let about_unit: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("keysmith-serve.service"))
        .filter(|l| !l.contains("User") && !l.contains("Failed to") && !l.contains("bus"))
        .collect();
    assert!(about_unit.is_empty(), "systemd-analyze verify:\n{text}");
    // It did read the unit: a unit with a typo is reported.
    std::fs::write(&file, recipe_unit().replace("KillSignal=", "KilSignal=")).unwrap();
    let out = Command::new(systemd_analyze())
        .args(["verify", "--man=no"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("KilSignal"), "a typo went unseen:\n{text}");
}

/// The systemd-analyze build.rs found (the test is ignored without one).
fn systemd_analyze() -> &'static str {
    option_env!("KEYSMITH_TEST_SYSTEMD_ANALYZE").unwrap_or("systemd-analyze")
}
