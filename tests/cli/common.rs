//! The harness: run the built binary in an environment of its own making
//! (see `INHERITED`) against a store in a fresh temporary folder, and look
//! inside that store.

use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub const BIN: &str = env!("CARGO_BIN_EXE_keysmith");

/// The fields of the key object (docs/src/commands/list.md, with the limits of docs/src/limits.md).
pub const KEY_FIELDS: [&str; 20] = [
    "id",
    "name",
    "description",
    "service",
    "prefix",
    "masked",
    "status",
    "created_at",
    "last_used_at",
    "use_count",
    "expires_at",
    "rotated_from",
    "replaced_by",
    "scopes",
    "remaining_uses",
    "rate_limit",
    "refill",
    "allow_ip",
    "owner",
    "meta",
];

/// All a command the harness starts takes from the test process's own
/// environment, each when set there: every other variable it sees (HOME,
/// XDG_DATA_HOME, KEYSMITH_DB, and what a test adds) the harness or the test
/// sets. Nothing else of the developer's shell (KEYSMITH_*, NO_COLOR, PG*,
/// RUST_BACKTRACE...) leaks in; `harness::keysmith_sees_only_what_the_harness_gives_it`
/// proves it.
pub const INHERITED: [&str; 2] = ["PATH", "TERM"];

/// The store backend the suite runs against: `KEYSMITH_TEST_BACKEND`,
/// `sqlite` (the default) or `postgres` (see `postgres::postgres_leg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("KEYSMITH_TEST_BACKEND").as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("KEYSMITH_TEST_BACKEND={other:?}: want sqlite or postgres"),
    }
}

/// The server the PostgreSQL leg uses: a superuser's URL
/// (`postgres://user:password@host:port/postgres`), as `.ci/postgres.sh` exports it.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("KEYSMITH_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A `postgres://user[:password]@host:port/dbname[?query]` URL, taken apart
/// so tests can vary one piece (the harness only reads URLs it was given).
#[derive(Clone, Debug)]
pub struct PgUrl {
    pub scheme: String,
    pub user: String,
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub query: Vec<(String, String)>,
}

impl PgUrl {
    pub fn parse(url: &str) -> PgUrl {
        let bad = || -> ! { panic!("cannot read the PostgreSQL URL {:?}", mask(url)) };
        let (scheme, rest) = url.split_once("://").unwrap_or_else(|| bad());
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, rest) = rest.rsplit_once('@').unwrap_or_else(|| bad());
        let (user, password) = match auth.split_once(':') {
            Some((u, p)) => (u, Some(p.to_owned())),
            None => (auth, None),
        };
        let (hostport, dbname) = rest.split_once('/').unwrap_or((rest, "postgres"));
        let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
        PgUrl {
            scheme: scheme.to_owned(),
            user: user.to_owned(),
            password,
            host: host.to_owned(),
            port: port.parse().unwrap_or_else(|_| bad()),
            dbname: dbname.to_owned(),
            query: query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
        }
    }

    /// The same URL with `key=value` added to (or replaced in) its query.
    pub fn with(mut self, key: &str, value: &str) -> PgUrl {
        self.query.retain(|(k, _)| k != key);
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }
}

impl std::fmt::Display for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.user)?;
        if let Some(p) = &self.password {
            write!(f, ":{p}")?;
        }
        write!(f, "@{}:{}/{}", self.host, self.port, self.dbname)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// A URL fit for a panic message: its password replaced by `***`.
pub fn mask(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((auth, tail)) => match auth.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{tail}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// One test's PostgreSQL database, made fresh on the test server and
/// dropped with the test.
struct PgStore {
    name: String,
    url: PgUrl,
    admin_url: String,
    /// The harness's own connection to the test database, made when first used.
    client: Mutex<Option<postgres::Client>>,
}

impl PgStore {
    fn create() -> PgStore {
        let admin_url = postgres_admin_url().expect(
            "a PostgreSQL store needs a server: set KEYSMITH_TEST_POSTGRES \
             (README, Testing on PostgreSQL; .ci/postgres.sh starts one)",
        );
        PgStore::create_at(admin_url)
    }

    fn create_at(admin_url: String) -> PgStore {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let random = RandomState::new().hash_one((std::process::id(), SEQ.fetch_add(1, Relaxed)));
        let name = format!("ks_{random:016x}");
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", mask(&admin_url)));
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let mut url = PgUrl::parse(&admin_url);
        url.dbname = name.clone();
        PgStore {
            name,
            url,
            admin_url,
            client: Mutex::new(None),
        }
    }

    fn with_client<T>(&self, f: impl FnOnce(&mut postgres::Client) -> T) -> T {
        let mut guard = self.client.lock().unwrap_or_else(|e| e.into_inner());
        let client = guard.get_or_insert_with(|| {
            postgres::Client::connect(&self.url.to_string(), postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to the test database {}: {e}", self.name))
        });
        f(client)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Best effort: a failed test must not also fail to clean up.
        if let Ok(mut guard) = self.client.lock() {
            guard.take();
        }
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// One value read back from the store, whichever the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    /// The value as text: integers in decimal, bytes in lowercase hex, NULL as None.
    pub fn text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Int(i) => Some(i.to_string()),
            Cell::Text(s) => Some(s.clone()),
            Cell::Bytes(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
        }
    }
}

/// Starts `cmd`. A binary copied a moment ago can be briefly "busy"
/// (ETXTBSY): another test thread's fork may still hold the copy's write
/// descriptor until it execs. That passes; spawning again then works.
pub fn spawn(cmd: &mut Command) -> std::process::Child {
    let mut attempts = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            spawned => return spawned.expect("spawn keysmith"),
        }
    }
}

/// One test's world: a temporary HOME, and the store, a SQLite file in
/// that folder or a fresh PostgreSQL database, as `backend()` says.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// The SQLite store's path. With PostgreSQL nothing is ever there: only
    /// SQLite-only tests (see `postgres::SQLITE_ONLY`) touch it directly;
    /// the others go through `store()`, `store_exists()` and the queries below.
    pub db: PathBuf,
    pg: Option<PgStore>,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts the run failed with exactly one `error:` line on stderr.
    #[track_caller]
    pub fn error(self, expected: i32, fragment: &str) -> Self {
        let run = self.code(expected);
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.starts_with("warning:"))
            .collect();
        assert_eq!(lines.len(), 1, "want one error line: {run:#?}");
        assert!(lines[0].starts_with("error: "), "{run:#?}");
        assert!(
            lines[0].contains(fragment),
            "error lacks {fragment:?}: {run:#?}"
        );
        assert!(!run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"));
        run
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

impl Env {
    /// A fresh world on the backend `backend()` names.
    pub fn new() -> Self {
        Self::on(backend())
    }

    /// A fresh world on PostgreSQL, whatever `backend()` says: for the
    /// PostgreSQL-only tests (postgres.rs). Panics if the server is unusable.
    pub fn postgres() -> Self {
        Self::on(Backend::Postgres)
    }

    /// A fresh world on a database of the PostgreSQL server at `admin_url`
    /// (a superuser's URL): for tests with a server of their own.
    pub fn postgres_at(admin_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("keys.db");
        let pg = Some(PgStore::create_at(admin_url.to_owned()));
        Env { dir, db, pg }
    }

    fn on(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("keys.db");
        let pg = (backend == Backend::Postgres).then(PgStore::create);
        Env { dir, db, pg }
    }

    /// Where the store is, as `--db` and `KEYSMITH_DB` take it: a path or a URL.
    pub fn store(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.to_string(),
            None => self.db.to_str().expect("a UTF-8 path").to_owned(),
        }
    }

    /// The system configuration file keysmith reads in this world (none is
    /// there unless a test writes it).
    pub fn system_config(&self) -> PathBuf {
        self.dir.path().join("etc/keysmith/config.toml")
    }

    /// Whether this world's store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// The store as keysmith shows it: a URL's password masked.
    pub fn store_shown(&self) -> String {
        match &self.pg {
            Some(pg) => mask(&pg.url.to_string()),
            None => self.store(),
        }
    }

    /// The PostgreSQL store's URL, taken apart (PostgreSQL-only tests).
    pub fn pg_url(&self) -> PgUrl {
        self.pg.as_ref().expect("a PostgreSQL store").url.clone()
    }

    /// Whether keysmith has made a store there: the SQLite file exists, or
    /// the PostgreSQL database holds a table.
    pub fn store_exists(&self) -> bool {
        match &self.pg {
            Some(_) => !self.tables().is_empty(),
            None => self.db.exists(),
        }
    }

    /// The tables of the PostgreSQL database's current schema, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.query_strings(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 1",
            &[],
        )
    }

    /// The binary, pointed at this test's store, in an environment of the
    /// harness's making: nothing of the caller's reaches it but `INHERITED`.
    pub fn command(&self) -> Command {
        self.command_of(Path::new(BIN))
    }

    /// `command()` run as another user. That user may not reach the
    /// checkout's target/ (a clone under /root or in a fresh `mktemp -d`,
    /// which is 0700), so a copy of the binary in the test's own folder,
    /// opened to everyone, is run instead. Only root can do this.
    pub fn command_as(&self, uid: u32, gid: u32) -> Command {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let bin = self.dir.path().join("bin");
        if !bin.exists() {
            std::fs::create_dir(&bin).unwrap();
            std::fs::copy(BIN, bin.join("keysmith")).unwrap();
        }
        for folder in [self.dir.path(), &bin] {
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut cmd = self.command_of(&bin.join("keysmith"));
        cmd.uid(uid).gid(gid).current_dir(self.dir.path());
        cmd
    }

    /// `command()` with another copy of the binary.
    pub fn command_of(&self, program: &Path) -> Command {
        self.scrubbed(program)
    }

    /// `sh -c SCRIPT` in `command()`'s environment, `$0` being the binary:
    /// for what only a shell does (`exec "$0" verify >&-`, `$(...)`). The
    /// shell adds its own `PWD` (and may add `SHLVL`, `_`), nothing else.
    pub fn shell(&self, script: &str) -> Command {
        let mut cmd = self.scrubbed(Path::new("sh"));
        cmd.arg("-c").arg(script).arg(BIN);
        cmd
    }

    /// `program` with an empty environment but for `INHERITED` and the
    /// test's world: its HOME, its data folder, its store.
    fn scrubbed(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear();
        for var in INHERITED {
            if let Some(value) = std::env::var_os(var) {
                cmd.env(var, value);
            }
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("xdg"))
            .env("KEYSMITH_DB", self.store())
            // Not the host's /etc/keysmith/config.toml: the test's (none).
            .env("KEYSMITH_CONFIG_SYSTEM", self.system_config());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(), args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(self.command(), args, Some(stdin))
    }

    pub fn run_with(&self, mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Run {
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(&mut cmd);
        // Fed from a thread: a command may write as it reads, and a full
        // stdout pipe must not stall the writer of its stdin.
        let feeder = stdin.map(|input| {
            let mut pipe = child.stdin.take().unwrap();
            let input = input.to_owned();
            // A command may stop reading early (verify reads one line): that is fine.
            std::thread::spawn(move || drop(pipe.write_all(input.as_bytes())))
        });
        let out = child.wait_with_output().expect("wait for keysmith");
        if let Some(feeder) = feeder {
            feeder.join().expect("stdin feeder");
        }
        let run = Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        self.assert_no_password(&run);
        run
    }

    /// The server's password never reaches the screen, whatever the command.
    #[track_caller]
    pub fn assert_no_password(&self, run: &Run) {
        if let Some(password) = self.pg.as_ref().and_then(|pg| pg.url.password.as_deref()) {
            assert!(
                !run.stdout.contains(password) && !run.stderr.contains(password),
                "the database password was printed: {run:#?}"
            );
        }
    }

    /// Creates a key and returns it as printed.
    #[track_caller]
    pub fn create(&self, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["create", "--name", name];
        args.extend_from_slice(extra);
        let run = self.run(&args).code(0);
        run.stdout.trim_end().to_owned()
    }

    /// Keys of these names, made in one `create --from -`: their ids, in order.
    pub fn create_named(&self, names: impl IntoIterator<Item = String>) -> Vec<String> {
        let lines: String = names
            .into_iter()
            .map(|name| format!("{}\n", serde_json::json!({ "name": name })))
            .collect();
        let made = self.run_stdin(&["create", "--from", "-"], &lines).code(0);
        made.stdout
            .lines()
            .map(|l| {
                let key: serde_json::Value = serde_json::from_str(l).unwrap();
                key["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// The subcommands `keysmith --help` lists (all but `help` itself).
    pub fn subcommands(&self) -> Vec<String> {
        let help = self.run(&["--help"]).code(0).stdout;
        help.lines()
            .skip_while(|l| *l != "Commands:")
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|name| *name != "help")
            .map(str::to_owned)
            .collect()
    }

    /// The id of a full key.
    pub fn id_of(key: &str) -> String {
        keysmith::key_format::parse(key)
            .expect("a well-formed key")
            .id
    }

    /// A direct connection to the SQLite store (SQLite-only tests).
    pub fn conn(&self) -> rusqlite::Connection {
        assert!(
            self.pg.is_none(),
            "a SQLite-only test ran on PostgreSQL: list it in postgres::SQLITE_ONLY"
        );
        rusqlite::Connection::open(&self.db).expect("open the store")
    }

    /// Runs `sql` on the store, whichever the backend, and returns every row.
    /// Placeholders are `$1`, `$2`...; both engines take them. Write SQL both
    /// accept: `CAST(disabled AS INTEGER)` (a boolean in PostgreSQL),
    /// `CAST(sum(x) AS BIGINT)` (numeric in PostgreSQL).
    #[track_caller]
    pub fn query(&self, sql: &str, params: &[&str]) -> Vec<Vec<Cell>> {
        match &self.pg {
            Some(pg) => pg.with_client(|c| {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = c
                    .query(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|row| (0..row.len()).map(|i| pg_cell(row, i, sql)).collect())
                    .collect()
            }),
            None => {
                let conn = self.conn();
                let mut stmt = sqlite_statement(&conn, sql, params);
                let mut rows = stmt.raw_query();
                let mut all = Vec::new();
                while let Some(row) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
                    let width = row.as_ref().column_count();
                    all.push(
                        (0..width)
                            .map(|i| match row.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Null => Cell::Null,
                                rusqlite::types::ValueRef::Integer(i) => Cell::Int(i),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Cell::Text(String::from_utf8(t.to_vec()).expect("UTF-8"))
                                }
                                rusqlite::types::ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                                rusqlite::types::ValueRef::Real(r) => {
                                    panic!("{sql}: a REAL ({r}) where no column has one")
                                }
                            })
                            .collect(),
                    );
                }
                all
            }
        }
    }

    /// Every row as text (see `Cell::text`).
    #[track_caller]
    pub fn query_rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Option<String>>> {
        self.query(sql, params)
            .iter()
            .map(|row| row.iter().map(Cell::text).collect())
            .collect()
    }

    /// The first column of every row, as text; NULL is an error.
    #[track_caller]
    pub fn query_strings(&self, sql: &str, params: &[&str]) -> Vec<String> {
        self.query(sql, params)
            .iter()
            .map(|row| row[0].text().unwrap_or_else(|| panic!("{sql}: NULL")))
            .collect()
    }

    /// The one value of a one-row, one-column query, which may be NULL.
    #[track_caller]
    pub fn query_opt_i64(&self, sql: &str, params: &[&str]) -> Option<i64> {
        let rows = self.query(sql, params);
        assert_eq!(rows.len(), 1, "{sql}: want one row, got {rows:?}");
        match &rows[0][0] {
            Cell::Null => None,
            Cell::Int(i) => Some(*i),
            other => panic!("{sql}: want an integer, got {other:?}"),
        }
    }

    /// The one integer of a one-row, one-column query.
    #[track_caller]
    pub fn query_i64(&self, sql: &str, params: &[&str]) -> i64 {
        self.query_opt_i64(sql, params)
            .unwrap_or_else(|| panic!("{sql}: NULL"))
    }

    /// Runs statements separated by `;` on the PostgreSQL store's database.
    #[track_caller]
    pub fn exec_batch_pg(&self, sql: &str) {
        let pg = self.pg.as_ref().expect("a PostgreSQL world");
        pg.with_client(|c| c.batch_execute(sql).unwrap_or_else(|e| panic!("{e}")));
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    #[track_caller]
    pub fn exec(&self, sql: &str, params: &[&str]) -> u64 {
        match &self.pg {
            Some(pg) => pg.with_client(|c| {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                c.execute(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
            None => {
                let conn = self.conn();
                let mut stmt = sqlite_statement(&conn, sql, params);
                stmt.raw_execute().unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
            }
        }
    }

    pub fn count(&self, table: &str) -> i64 {
        if !self.store_exists() {
            return 0;
        }
        self.query_i64(&format!("SELECT count(*) FROM {table}"), &[])
    }

    /// A key's (last_used_at, use_count), read from the store.
    pub fn usage(&self, id: &str) -> (Option<i64>, i64) {
        let rows = self.query(
            "SELECT u.last_used_at, coalesce(u.use_count, 0) \
             FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq WHERE k.id = $1",
            &[id],
        );
        assert_eq!(rows.len(), 1, "one key {id}: {rows:?}");
        let int = |c: &Cell| match c {
            Cell::Null => None,
            Cell::Int(i) => Some(*i),
            other => panic!("usage: {other:?}"),
        };
        (int(&rows[0][0]), int(&rows[0][1]).unwrap())
    }

    /// Whether the store's engine finds it whole after a killed writer:
    /// SQLite's integrity check; PostgreSQL keeps its own files whole, so
    /// there every table need only be readable.
    pub fn integrity_ok(&self) -> bool {
        match &self.pg {
            Some(_) => {
                for table in ["keys", "events", "usage"] {
                    self.query_i64(&format!("SELECT count(*) FROM {table}"), &[]);
                }
                true
            }
            None => {
                let check: String = self
                    .conn()
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .expect("integrity check");
                check == "ok"
            }
        }
    }

    /// Everything the store holds, to look for secrets in and to compare
    /// before and after: for SQLite all bytes of its files (main file, WAL,
    /// shared memory); for PostgreSQL every row of every table of the
    /// database's schema, as text, tables by name and rows in order.
    pub fn store_bytes(&self) -> Vec<u8> {
        if self.pg.is_some() {
            let mut text = String::new();
            for table in self.tables() {
                let rows = self.query_strings(
                    &format!(
                        "SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') \
                         FROM \"{table}\" AS t"
                    ),
                    &[],
                );
                text.push_str(&format!("== {table}\n{}\n", rows[0]));
            }
            return text.into_bytes();
        }
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = PathBuf::from(format!("{}{suffix}", self.db.display()));
            if let Ok(b) = std::fs::read(&path) {
                bytes.extend(b);
            }
        }
        bytes
    }
}

fn sqlite_statement<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    params: &[&str],
) -> rusqlite::Statement<'c> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(stmt.parameter_count(), params.len(), "{sql}: parameters");
    for (i, p) in params.iter().enumerate() {
        // SQLite reads `$1` as a named parameter: bind it by its name.
        let index = stmt
            .parameter_index(&format!("${}", i + 1))
            .unwrap()
            .unwrap_or_else(|| panic!("{sql}: no ${}", i + 1));
        stmt.raw_bind_parameter(index, p).unwrap();
    }
    stmt
}

fn pg_cell(row: &postgres::Row, i: usize, sql: &str) -> Cell {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    let cell = |v: Option<Cell>| v.unwrap_or(Cell::Null);
    if ty == Type::INT8 {
        cell(row.get::<_, Option<i64>>(i).map(Cell::Int))
    } else if ty == Type::INT4 {
        cell(row.get::<_, Option<i32>>(i).map(|v| Cell::Int(v.into())))
    } else if ty == Type::INT2 {
        cell(row.get::<_, Option<i16>>(i).map(|v| Cell::Int(v.into())))
    } else if ty == Type::BOOL {
        cell(row.get::<_, Option<bool>>(i).map(|v| Cell::Int(v.into())))
    } else if ty == Type::BYTEA {
        cell(row.get::<_, Option<Vec<u8>>>(i).map(Cell::Bytes))
    } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(&ty) {
        cell(row.get::<_, Option<String>>(i).map(Cell::Text))
    } else {
        panic!("{sql}: column {i} is {ty}: cast it to BIGINT or TEXT")
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// What one entry of a folder is: a regular file's bytes, a symlink's
/// target, or the kind of anything else (never opened: a FIFO would block).
#[derive(Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    Link(PathBuf),
    Other(String),
}

/// A file shows as its size and a hash of its bytes: a failure stays readable.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::File(bytes) => {
                // FNV-1a: stable across runs, unlike the std hasher's keys.
                let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
                });
                write!(f, "File({} bytes, fnv {hash:016x})", bytes.len())
            }
            Entry::Link(target) => write!(f, "Link({})", target.display()),
            Entry::Other(kind) => write!(f, "{kind}"),
        }
    }
}

/// Every entry of `dir`, by name, as `Entry` says: compared before and after
/// a run, it shows any byte changed and any file made or removed.
pub fn folder_snapshot(dir: &Path) -> std::collections::BTreeMap<String, Entry> {
    use std::os::unix::fs::FileTypeExt;
    let mut all = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read the folder") {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let what = if kind.is_symlink() {
            Entry::Link(std::fs::read_link(entry.path()).unwrap())
        } else if kind.is_file() {
            Entry::File(std::fs::read(entry.path()).unwrap())
        } else if kind.is_dir() {
            Entry::Other("directory".into())
        } else if kind.is_fifo() {
            Entry::Other("fifo".into())
        } else if kind.is_socket() {
            Entry::Other("socket".into())
        } else {
            Entry::Other(format!("device {:?}", kind))
        };
        all.insert(entry.file_name().to_string_lossy().into_owned(), what);
    }
    all
}

/// Makes a FIFO (named pipe) at `path` with mkfifo(1).
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

impl Env {
    /// Runs `cmd` with `args`, killing it and failing the test if it runs
    /// longer than 20 s (a store that is a FIFO would block a read forever).
    #[track_caller]
    pub fn run_bounded(&self, mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Run {
        const LIMIT: std::time::Duration = std::time::Duration::from_secs(20);
        let mut child = cmd
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keysmith");
        if let Some(input) = stdin {
            // Small inputs: they fit the pipe, and a command may not read them.
            let mut pipe = child.stdin.take().unwrap();
            let _ = pipe.write_all(input.as_bytes());
        }
        let began = std::time::Instant::now();
        while child.try_wait().expect("wait for keysmith").is_none() {
            if began.elapsed() > LIMIT {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "keysmith {args:?} still running after {LIMIT:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let out = child.wait_with_output().expect("wait for keysmith");
        let run = Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        self.assert_no_password(&run);
        run
    }

    /// `run_bounded` against the store at `db` instead of the test's own.
    #[track_caller]
    pub fn run_at(&self, db: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.command();
        cmd.env("KEYSMITH_DB", db);
        self.run_bounded(cmd, args, stdin)
    }
}
