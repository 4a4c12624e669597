//! The harness: run the built binary in a scrubbed environment against a
//! store in a fresh temporary folder, and look inside that store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_keysmith");

/// The fields of the key object of SPEC §5.
pub const KEY_FIELDS: [&str; 13] = [
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
];

/// One test's world: a temporary HOME holding the store.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
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
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("keys.db");
        Env { dir, db }
    }

    /// The binary with an environment scrubbed of the caller's keysmith
    /// settings and colour preferences, pointed at this test's store.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("KEYSMITH_PREFIX")
            .env_remove("NO_COLOR")
            .env_remove("RUST_BACKTRACE")
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("xdg"))
            .env("KEYSMITH_DB", &self.db);
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
        let mut child = cmd.spawn().expect("spawn keysmith");
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
        Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
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

    /// The id of a full key.
    pub fn id_of(key: &str) -> String {
        keysmith::key::parse(key).expect("a well-formed key").id
    }

    /// A direct connection to the store, to check what was written.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open the store")
    }

    pub fn count(&self, table: &str) -> i64 {
        if !self.db.exists() {
            return 0;
        }
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .expect("count rows")
    }

    /// A key's (last_used_at, use_count), read from the store.
    pub fn usage(&self, id: &str) -> (Option<i64>, i64) {
        self.conn()
            .query_row(
                "SELECT u.last_used_at, coalesce(u.use_count, 0) \
                 FROM keys AS k LEFT JOIN usage AS u ON u.seq = k.seq WHERE k.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("read a key's usage")
    }

    /// All bytes of the store's files (main file, WAL, shared memory).
    pub fn store_bytes(&self) -> Vec<u8> {
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
