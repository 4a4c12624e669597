//! The command line: the top-level `Cli`, its global flags and the
//! `Command` enum. Each subcommand's flags (its `Args`) are declared beside
//! its handler in `crate::commands`, their values typed by the input rules
//! of `crate::input`.

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::clipboard::KeeperArgs;
use crate::commands::{
    self, AnyKey, BackupArgs, CompletionsArgs, CreateArgs, DeleteArgs, DisabledKeys, EditArgs,
    EnabledKeys, HistoryArgs, ListArgs, ManArgs, MigrateArgs, OwnerArgs, RotateArgs, ScanArgs,
    SelectArgs, ServeArgs, VerifyArgs, backup, completions, create, delete, edit, history, info,
    init, list, man, migrate, owner, rotate, scan, serve, show, switch, verify,
};
use crate::config::Source;
use crate::error::Result;

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

use crate::help::examples;

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
    Enable(Deferred<SelectArgs<DisabledKeys>>),
    /// Switch a key off: verification fails until it is enabled again
    #[command(after_help = examples!(
        r#"keysmith disable "billing webhook""#,
        "keysmith disable - < leaked-key.txt",
        "keysmith list --search zapier -q | xargs -n1 keysmith disable",
    ))]
    Disable(Deferred<SelectArgs<EnabledKeys>>),
    /// Check a key: exit 0 when valid, 1 when not (prefer passing it on stdin)
    Verify(Deferred<VerifyArgs>),
    /// Show every field of a key and its history
    #[command(after_help = examples!(
        r#"keysmith show "billing webhook""#,
        "keysmith --json show OKnjlCW3ValJ",
    ))]
    Show(Deferred<SelectArgs<AnyKey>>),
    /// Change a key's name, description, service, expiry, scopes, uses or rate limit
    Edit(Deferred<EditArgs>),
    /// Replace a key with a new one: same name, service and prefix, new secret
    Rotate(Deferred<RotateArgs>),
    /// Remove a key for good (its history stays)
    Delete(Deferred<DeleteArgs>),
    /// Show the event log, newest first
    History(Deferred<HistoryArgs>),
    /// The owners keys belong to: list, show, set limits, enable, disable, delete
    Owner(Deferred<OwnerArgs>),
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

/// Runs the parsed command line: its command, in the context the global
/// flags describe; `Ok` carries the exit code of an answer (0 or 1).
pub fn run(cli: Cli) -> Result<u8> {
    let given = cli.db.map(|db| {
        let source = if cli.db_from_variable {
            Source::Variable
        } else {
            Source::Flag
        };
        (db, source)
    });
    commands::run(given, cli.json, cli.no_pager, |ctx| match cli.command {
        Command::Create(Deferred(args)) => create::run(ctx, args),
        Command::Init => init::run(ctx),
        Command::Info => info::run(ctx),
        Command::List(Deferred(args)) => list::run(ctx, args),
        Command::Enable(Deferred(args)) => switch::run(ctx, args, false),
        Command::Disable(Deferred(args)) => switch::run(ctx, args, true),
        Command::Verify(Deferred(args)) => verify::run(ctx, args),
        Command::Show(Deferred(args)) => show::run(ctx, args),
        Command::Edit(Deferred(args)) => edit::run(ctx, args),
        Command::Rotate(Deferred(args)) => rotate::run(ctx, args),
        Command::ClipboardKeeper(Deferred(args)) => crate::clipboard::keep(args),
        Command::Delete(Deferred(args)) => delete::run(ctx, args),
        Command::History(Deferred(args)) => history::run(ctx, args),
        Command::Scan(Deferred(args)) => scan::run(ctx, args),
        Command::Backup(Deferred(args)) => backup::run(ctx, args),
        Command::Migrate(Deferred(args)) => migrate::run(ctx, args),
        // The whole command line, for the pages and scripts made of it.
        Command::Completions(Deferred(args)) => completions::run(ctx, args, Cli::command()),
        Command::Serve(Deferred(args)) => serve::run(ctx, args),
        Command::Man(Deferred(args)) => man::run(ctx, args, Cli::command()),
        Command::Owner(Deferred(args)) => owner::run(ctx, args),
    })
}

mod rules;

#[cfg(test)]
mod tests;
