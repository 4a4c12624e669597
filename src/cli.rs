//! The command line: every flag, its help text and its environment fallback.

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Mint, list, switch off and verify API keys. The full key is shown once;
/// the store keeps only its SHA-256 hash.
#[derive(Debug, Parser)]
#[command(
    name = "keysmith",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The store: a SQLite file path, or a postgres:// URL for a shared
    /// PostgreSQL store (default: db in ~/.config/keysmith/config.toml, then
    /// in /etc/keysmith/config.toml, else ~/.local/share/keysmith/keys.db)
    #[arg(
        long,
        global = true,
        env = "KEYSMITH_DB",
        hide_env_values = true,
        value_name = "PATH|URL",
        help_heading = GLOBAL
    )]
    pub db: Option<String>,

    /// Whether `db` came from `KEYSMITH_DB` rather than `--db` (set by
    /// `crate::run` from clap's record of where the value came from).
    #[arg(skip)]
    pub db_from_variable: bool,

    /// Print JSON on stdout instead of text
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    /// Never page long output at a terminal (default: through
    /// $KEYSMITH_PAGER, else $PAGER, else `less -FRXS`)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_pager: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the flags every subcommand takes: listed after the
/// subcommand's own, instead of before them in every help.
const GLOBAL: &str = "Global options";

/// A subcommand's `Examples:`, the end of its help: command lines that work
/// as they stand. The heading is styled as clap styles `Options:` (clap
/// drops the styling where it prints no colour); `keysmith man` prints the
/// lines as the page's EXAMPLES. They sit on the subcommand's `Args` struct,
/// so that like its flags they are made only when that subcommand is built
/// (`Deferred`; 9,000 instructions at every start otherwise); on the
/// variant where subcommands share a struct.
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("\x1b[1m\x1b[4mExamples:\x1b[0m", $("\n  ", $line),+)
    };
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mint a key and print it once (stdout carries the key alone)
    Create(Deferred<CreateArgs>),
    /// Make an empty store (for a `serve` that has no key yet)
    #[command(after_help = examples!(
        "keysmith init",
        "keysmith --db /var/lib/keysmith/keys.db init",
        "keysmith --db postgres://keysmith@db.internal/keysmith init",
    ))]
    Init,
    /// Say which store is used, why, and what it holds
    #[command(after_help = examples!(
        "keysmith info",
        "keysmith --json info | jq -r .store",
    ))]
    Info,
    /// List keys, newest first, with the secret masked
    List(Deferred<ListArgs>),
    /// Switch a key on
    #[command(after_help = examples!(
        r#"keysmith enable "billing webhook""#,
        "keysmith enable 'ks_OKnjlCW3ValJ_********'",
        "keysmith --json enable OKnjlCW3ValJ",
    ))]
    Enable(Deferred<SelectArgs>),
    /// Switch a key off: verification fails until it is enabled again
    #[command(after_help = examples!(
        r#"keysmith disable "billing webhook""#,
        "keysmith disable - < leaked-key.txt",
        "keysmith list --search zapier -q | xargs -n1 keysmith disable",
    ))]
    Disable(Deferred<SelectArgs>),
    /// Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)
    Verify(Deferred<VerifyArgs>),
    /// Show every field of a key and its history
    #[command(after_help = examples!(
        r#"keysmith show "billing webhook""#,
        "keysmith --json show OKnjlCW3ValJ",
    ))]
    Show(Deferred<SelectArgs>),
    /// Change a key's name, description, service, expiry, scopes, uses or rate limit
    Edit(Deferred<EditArgs>),
    /// Replace a key with a new one: same name, service and prefix, new secret
    Rotate(Deferred<RotateArgs>),
    /// Remove a key for good (its history stays)
    Delete(Deferred<DeleteArgs>),
    /// Show the event log, newest first
    History(Deferred<HistoryArgs>),
    /// Find keysmith keys in files, folders or stdin, and report their state
    Scan(Deferred<ScanArgs>),
    /// Write a consistent copy of the store to a new file (mode 0600)
    Backup(Deferred<BackupArgs>),
    /// Copy every key, its history and links into another, empty store
    Migrate(Deferred<MigrateArgs>),
    /// Print a shell completion script
    Completions(Deferred<CompletionsArgs>),
    /// Answer verifications over HTTP for API servers and gateways
    Serve(Deferred<ServeArgs>),
    /// Print the manual page, or write every page into a folder
    Man(Deferred<ManArgs>),
    /// Holds or clears the clipboard after `--copy` (started by keysmith itself)
    #[command(hide = true)]
    ClipboardKeeper(Deferred<KeeperArgs>),
}

/// A subcommand's flags, defined only when that subcommand is the one run
/// (or when help or completions need them). Without this clap defines every
/// subcommand's flags at every start: measured with callgrind, 117,000 of
/// the 1.48 million instructions a whole `keysmith verify` runs (8%), and
/// 15% of `keysmith --version`.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith create --name "billing webhook" --service billing --expires-in 90d"#,
    "KEY=$(keysmith create --name ci --expires-in 30d)",
    "keysmith create --from keys.jsonl > created.jsonl",
))]
pub struct CreateArgs {
    /// What the key is for (required unless prompted on a terminal)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<String>,

    /// A longer note about the key
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub description: Option<String>,

    /// The service the key belongs to, e.g. sms
    #[arg(long, value_name = "SERVICE", allow_hyphen_values = true)]
    pub service: Option<String>,

    /// The key's prefix
    #[arg(long, env = "KEYSMITH_PREFIX", hide_env_values = true, default_value = crate::key_format::DEFAULT_PREFIX, value_name = "PREFIX")]
    pub prefix: String,

    /// Make the key expire after this long, e.g. 30d, 12h, 1d12h
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expires_in: Option<String>,

    /// Grant this scope (repeatable), e.g. sms:send, or sms:* for every sms: scope
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<String>,

    /// Allow this many VALID verifications, then USAGE_EXCEEDED
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub uses: Option<String>,

    /// At most N VALID answers in any DURATION, in each `serve`, e.g. 100/1m
    #[arg(long, value_name = "N/DURATION")]
    pub rate: Option<String>,

    /// Skip the confirmation prompt (asked only when prompting, without --name)
    #[arg(long, short)]
    pub yes: bool,

    /// Put the key on the clipboard instead of printing it (cleared after
    /// $KEYSMITH_CLIP_TIME seconds, 45 by default)
    #[arg(long, short = 'c')]
    pub copy: bool,

    /// Create one key per line of this JSON Lines file (`-`: stdin), all or
    /// nothing; prints one JSON line per key, with the full key
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["name", "description", "service", "expires_in", "scope", "uses", "rate", "copy"]
    )]
    pub from: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith list --service billing --status enabled --sort last-used",
    r#"keysmith list --expiring-within 7d --exit-code || echo "keys expire soon""#,
    "keysmith list --search zapier -q | xargs -n1 keysmith disable",
))]
pub struct ListArgs {
    /// Only keys of this service
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,

    /// Only keys with this status
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,

    /// At most this many keys
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Only keys that expire within this time from now, e.g. 7d
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expiring_within: Option<String>,

    /// Only keys not used for this long (a key never used counts from its creation)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub unused_for: Option<String>,

    /// Exit 1 when any key is listed (for cron jobs and alerts)
    #[arg(long)]
    pub exit_code: bool,

    /// Add the other fields: description, use count, expiry, replacement, scopes, uses left, rate limit
    #[arg(long)]
    pub wide: bool,

    /// Only keys whose name or description contains TEXT (any case)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,

    /// Print only the ids, one per line (for xargs)
    #[arg(short, long, conflicts_with = "wide")]
    pub quiet: bool,

    /// The order: created (newest first), name (A to Z), last-used (most
    /// recent first) or expires (soonest first); --expiring-within sorts by
    /// expires
    #[arg(long, value_enum, value_name = "ORDER")]
    pub sort: Option<SortArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Created,
    Name,
    LastUsed,
    Expires,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Enabled,
    Disabled,
    Expired,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY")]
    pub key: String,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith edit "billing webhook" --service billing-eu --expires-in 30d"#,
    r#"keysmith edit OKnjlCW3ValJ --no-expiry --description """#,
    "keysmith edit OKnjlCW3ValJ --scope sms:send --uses 5000 --rate 10/1s",
))]
pub struct EditArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY")]
    pub key: String,

    /// A new name
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub name: Option<String>,

    /// A new description ("" removes it)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub description: Option<String>,

    /// A new service
    #[arg(long, value_name = "SERVICE", allow_hyphen_values = true)]
    pub service: Option<String>,

    /// Take the key out of its service: it then verifies only without --service
    #[arg(long, conflicts_with = "service")]
    pub no_service: bool,

    /// Expire this long from now, e.g. 30d, 12h, 1d12h
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub expires_in: Option<String>,

    /// Remove the expiry
    #[arg(long, conflicts_with = "expires_in")]
    pub no_expiry: bool,

    /// Grant exactly these scopes (repeatable), replacing the key's
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<String>,

    /// Remove every scope
    #[arg(long, conflicts_with = "scope")]
    pub no_scopes: bool,

    /// Allow this many more VALID verifications from now on
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub uses: Option<String>,

    /// Remove the limit of uses
    #[arg(long, conflicts_with = "uses")]
    pub unlimited_uses: bool,

    /// A new rate limit, e.g. 100/1m
    #[arg(long, value_name = "N/DURATION")]
    pub rate: Option<String>,

    /// Remove the rate limit
    #[arg(long, conflicts_with = "rate")]
    pub no_rate: bool,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith rotate OKnjlCW3ValJ --grace 24h --yes",
    "KEY=$(keysmith rotate OKnjlCW3ValJ --yes)",
    "keysmith rotate OKnjlCW3ValJ --copy",
))]
pub struct RotateArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY")]
    pub key: String,

    /// Keep the old key valid this long (e.g. 24h) instead of disabling it now
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub grace: Option<String>,

    /// Skip the confirmation prompt (required without a terminal)
    #[arg(long, short)]
    pub yes: bool,

    /// Put the new key on the clipboard instead of printing it (cleared
    /// after $KEYSMITH_CLIP_TIME seconds, 45 by default)
    #[arg(long, short = 'c')]
    pub copy: bool,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    r#"keysmith delete "billing webhook""#,
    "keysmith delete OKnjlCW3ValJ --yes",
))]
pub struct DeleteArgs {
    /// The key: its id, its full key, a name that matches exactly one key,
    /// or - to read the full key from stdin
    #[arg(value_name = "KEY")]
    pub key: String,

    /// Skip the confirmation prompt (required without a terminal)
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith history --limit 20",
    r#"keysmith history "billing webhook""#,
    "keysmith history --action rotate --action delete --since 7d",
))]
pub struct HistoryArgs {
    /// Only this key's events (an id also works for a deleted key)
    #[arg(value_name = "KEY")]
    pub key: Option<String>,

    /// At most this many events
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Only events of this action (repeatable): create, enable, disable,
    /// edit, rotate, delete
    #[arg(long, value_name = "ACTION")]
    pub action: Vec<String>,

    /// Only events of the last DURATION, e.g. 1h, 7d
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith verify --service billing < key.txt",
    "keysmith verify --scope sms:send --stdin-all < presented.txt",
    r#"echo "$KEY" | keysmith --json verify"#,
))]
pub struct VerifyArgs {
    /// Also require the key to belong to this service
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,

    /// The key to check; read from stdin (first line) when omitted
    #[arg(value_name = "KEY")]
    pub key: Option<String>,

    /// Check every line of stdin, one result line per input line; exit 0 only
    /// if every key is valid
    #[arg(long, conflicts_with = "key")]
    pub stdin_all: bool,

    /// Require this scope of the key (repeatable): INSUFFICIENT_SCOPE unless every one is granted
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<String>,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith serve --listen 127.0.0.1:7207",
    "keysmith serve --listen unix:/run/keysmith/serve.sock --key-header X-Token",
    "keysmith serve --listen 0.0.0.0:7443 --tls-cert cert.pem --tls-key key.pem",
    "keysmith serve --access-log access.log --access-log-format json",
))]
pub struct ServeArgs {
    /// Where to listen: HOST:PORT, [::1]:PORT or unix:/path (repeatable;
    /// default 127.0.0.1:7207)
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<String>,

    /// The headers a key is read from, in order (repeatable; default
    /// Authorization (Bearer), then X-API-Key)
    #[arg(long, value_name = "NAME")]
    pub key_header: Vec<String>,

    /// How often counted uses are written to the store, e.g. 1s, 500ms
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub flush_interval: String,

    /// The most connections open at once; more are closed at once
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,

    /// Speak HTTPS on every listener, with this certificate chain (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// The permissions of --listen unix: sockets, in octal (default 0660:
    /// the owner and the socket's group may connect; 0600: the owner only)
    #[arg(long, value_name = "MODE")]
    pub socket_mode: Option<String>,

    /// Log one line per request to this file (appended), or to stdout with `-`
    #[arg(long, value_name = "FILE|-")]
    pub access_log: Option<std::path::PathBuf>,

    /// How --access-log writes a line: text, or one JSON object
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value = "text",
        requires = "access_log"
    )]
    pub access_log_format: AccessLogFormatArg,

    /// How long a client may take to send a request's headers
    #[arg(long, value_name = "DURATION", default_value = "10s", hide = true)]
    pub header_timeout: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessLogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith scan .",
    "git diff --cached | keysmith scan",
    "keysmith scan --rules gitleaks > keysmith.gitleaks.toml",
))]
pub struct ScanArgs {
    /// Files or folders to scan (folders recursively, skipping .git); `-` or
    /// nothing reads stdin
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Print a rule for this scanner that finds keysmith keys, instead of scanning
    #[arg(long, value_enum, value_name = "SCANNER", conflicts_with = "paths")]
    pub rules: Option<ScannerArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScannerArg {
    Gitleaks,
    Trufflehog,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith backup ~/backups/keys-$(date +%F).db",
    "keysmith --db postgres://keysmith@db.internal/keysmith backup keys.db",
))]
pub struct BackupArgs {
    /// Where to write the copy
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith migrate --to postgres://keysmith@db.internal/keysmith",
    "keysmith --db postgres://keysmith@db.internal/keysmith migrate --to keys.db",
))]
pub struct MigrateArgs {
    /// The empty store to copy into: a SQLite path or a postgres:// URL
    #[arg(long, value_name = "URL|PATH")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct KeeperArgs {
    /// Hold the system clipboard (the key comes on stdin)
    #[arg(
        long,
        conflicts_with = "terminal",
        required_unless_present = "terminal"
    )]
    pub system: bool,

    /// Clear the terminal's clipboard when the time is up
    #[arg(long)]
    pub terminal: bool,

    /// Also delete tmux's paste buffers of the key (its SHA-256 comes on stdin)
    #[arg(long, requires = "terminal")]
    pub tmux: bool,

    /// How long to hold it
    #[arg(long, value_name = "SECONDS")]
    pub seconds: u64,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "source <(COMPLETE=bash keysmith)",
    r#"keysmith completions zsh > "${fpath[1]}/_keysmith""#,
    "keysmith completions fish > ~/.config/fish/completions/keysmith.fish",
))]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith man --dir ~/.local/share/man/man1",
    "keysmith man create | man -l -",
))]
pub struct ManArgs {
    /// Print this subcommand's page (keysmith-SUBCOMMAND.1) instead
    #[arg(value_name = "SUBCOMMAND")]
    pub command: Option<String>,

    /// Write keysmith.1 and a page per subcommand (keysmith-create.1, ...)
    /// into DIR, made if missing, instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<std::path::PathBuf>,
}

#[cfg(test)]
mod tests;
