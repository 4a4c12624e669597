//! Which store a command uses, and why (docs/src/store.md): `--db`, then
//! `KEYSMITH_DB`, then `db` in the user's configuration file, then in the
//! system's, then the platform data directory. The reason travels with the
//! location so that a missing store is refused naming where its path came
//! from, and `keysmith info` can say it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Failure, Result};
use crate::redact::Untrusted;
use crate::store::Location;

/// The variable naming the system configuration file in place of
/// `/etc/keysmith/config.toml` (as `GIT_CONFIG_SYSTEM` does for git): for a
/// packaged or containerised install, and the tests.
pub const SYSTEM_CONFIG_VAR: &str = "KEYSMITH_CONFIG_SYSTEM";

/// Where a store's location came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Variable,
    UserConfig(PathBuf),
    SystemConfig(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("--db"),
            Source::Variable => f.write_str("KEYSMITH_DB"),
            Source::UserConfig(file) | Source::SystemConfig(file) => {
                write!(f, "db in {}", Untrusted(&file.display().to_string()))
            }
            Source::Default => f.write_str("the default location"),
        }
    }
}

impl Source {
    /// A word for JSON (`keysmith --json info`).
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Variable => "variable",
            Source::UserConfig(_) => "user-config",
            Source::SystemConfig(_) => "system-config",
            Source::Default => "default",
        }
    }

    /// The configuration file, for a location that came from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Source::UserConfig(file) | Source::SystemConfig(file) => Some(file),
            _ => None,
        }
    }
}

/// The store a command uses, where that choice came from, and what reading
/// the configuration found worth telling.
#[derive(Debug, Clone)]
pub struct StoreChoice {
    pub location: Location,
    pub source: Source,
    pub warnings: Vec<String>,
}

/// The configuration files consulted, in order.
#[derive(Debug, Clone)]
pub struct ConfigFiles {
    /// `$XDG_CONFIG_HOME/keysmith/config.toml` (the platform's equivalent
    /// elsewhere); none without a home.
    pub user: Option<PathBuf>,
    /// `/etc/keysmith/config.toml`, or `KEYSMITH_CONFIG_SYSTEM`.
    pub system: Option<PathBuf>,
}

impl ConfigFiles {
    /// The files of this user and host.
    pub fn standard() -> Self {
        let user = directories::ProjectDirs::from("", "", "keysmith")
            .map(|dirs| dirs.config_dir().join("config.toml"));
        let system = match std::env::var_os(SYSTEM_CONFIG_VAR) {
            Some(file) if !file.is_empty() => Some(PathBuf::from(file)),
            _ if cfg!(unix) => Some(PathBuf::from("/etc/keysmith/config.toml")),
            _ => None,
        };
        ConfigFiles { user, system }
    }
}

/// What a configuration file may hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The store: a SQLite path (relative to the file's folder) or a
    /// PostgreSQL URL.
    db: Option<String>,
}

/// Chooses the store: `given` (`--db` or `KEYSMITH_DB`, with which one it
/// was), else the first configuration file that sets `db`, else the
/// platform data directory.
pub fn choose(given: Option<(&str, Source)>, files: &ConfigFiles) -> Result<StoreChoice> {
    if let Some((db, source)) = given.filter(|(db, _)| !db.is_empty()) {
        return Ok(StoreChoice {
            location: Location::parse(db)?,
            source,
            warnings: Vec::new(),
        });
    }
    let configured = [
        files.user.as_ref().map(|f| Source::UserConfig(f.clone())),
        files
            .system
            .as_ref()
            .map(|f| Source::SystemConfig(f.clone())),
    ];
    for source in configured.into_iter().flatten() {
        let file = source
            .file()
            .expect("a configuration source names its file");
        if let Some((location, warnings)) = read(file)? {
            return Ok(StoreChoice {
                location,
                source,
                warnings,
            });
        }
    }
    Ok(StoreChoice {
        location: Location::resolve(None)?,
        source: Source::Default,
        warnings: Vec::new(),
    })
}

/// The store `file` names, if it exists and sets `db`; a file that cannot
/// be read or parsed is an error, never skipped: a typo there would
/// otherwise send every command to another store.
fn read(file: &Path) -> Result<Option<(Location, Vec<String>)>> {
    let shown = || Untrusted(&file.display().to_string()).to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::failed(
                Failure::File,
                format!("cannot read the configuration file {}: {e}", shown()),
            ));
        }
    };
    let parsed: ConfigFile = toml::from_str(&text).map_err(|e| {
        // toml's own rendering quotes the line, which may hold a password.
        let line = e
            .span()
            .map_or(1, |span| text[..span.start].matches('\n').count() + 1);
        Error::failed(
            Failure::Config,
            format!(
                "the configuration file {} is not valid at line {line}: {}",
                shown(),
                e.message().trim_end_matches('\n')
            ),
        )
    })?;
    let Some(db) = parsed.db else {
        return Ok(None);
    };
    if db.is_empty() {
        return Err(Error::failed(
            Failure::Config,
            format!(
                "db is empty in the configuration file {}; set it to a path or a postgres:// URL, \
             or remove it",
                shown()
            ),
        ));
    }
    let location = Location::parse(&db)?.beside(file.parent().unwrap_or(Path::new("/")));
    let mut warnings = Vec::new();
    // A URL with a password is shown masked: that is how it is known.
    let holds_password = crate::redact::mask_passwords_in(&db) != db;
    if holds_password && readable_by_others(file) {
        warnings.push(format!(
            "the configuration file {} holds a database password and can be read by other \
             users; fix it with: chmod 600 {}",
            shown(),
            crate::shell::shell_word(&shown())
        ));
    }
    Ok(Some((location, warnings)))
}

fn readable_by_others(file: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file).is_ok_and(|m| m.mode() & 0o077 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> ConfigFiles {
        ConfigFiles {
            user: Some(dir.join("user.toml")),
            system: Some(dir.join("system.toml")),
        }
    }

    #[test]
    fn the_first_that_names_a_store_wins() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        std::fs::write(dir.path().join("system.toml"), "db = \"/srv/keys.db\"\n").unwrap();
        let chosen = choose(None, &files).unwrap();
        assert_eq!(chosen.location, Location::Sqlite("/srv/keys.db".into()));
        assert_eq!(
            chosen.source,
            Source::SystemConfig(dir.path().join("system.toml"))
        );

        // A user file without db leaves the choice to the system's.
        std::fs::write(dir.path().join("user.toml"), "# nothing yet\n").unwrap();
        assert_eq!(choose(None, &files).unwrap().source.kind(), "system-config");

        std::fs::write(dir.path().join("user.toml"), "db = 'mine.db'\n").unwrap();
        let chosen = choose(None, &files).unwrap();
        assert_eq!(
            chosen.location,
            Location::Sqlite(dir.path().join("mine.db"))
        );
        assert_eq!(chosen.source.kind(), "user-config");

        let chosen = choose(Some(("/x.db", Source::Variable)), &files).unwrap();
        assert_eq!(chosen.location, Location::Sqlite("/x.db".into()));
        assert_eq!(chosen.source, Source::Variable);
    }

    #[test]
    fn no_file_means_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let chosen = choose(None, &files(dir.path())).unwrap();
        assert_eq!(chosen.source, Source::Default);
    }

    #[test]
    fn a_broken_file_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let user = dir.path().join("user.toml");
        std::fs::write(&user, "\ndb = postgres://u:hunter2@h/k\n").unwrap();
        let message = choose(None, &files).unwrap_err().to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");

        std::fs::write(&user, "dbb = '/x.db'\n").unwrap();
        let message = choose(None, &files).unwrap_err().to_string();
        assert!(message.contains("dbb"), "{message}");

        std::fs::write(&user, "db = ''\n").unwrap();
        assert!(choose(None, &files).is_err());
    }

    #[test]
    fn a_password_others_can_read_draws_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let user = dir.path().join("user.toml");
        std::fs::write(&user, "db = 'postgres://u:hunter2@h/k'\n").unwrap();
        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o640)).unwrap();
        let chosen = choose(None, &files).unwrap();
        assert_eq!(chosen.warnings.len(), 1, "{:?}", chosen.warnings);
        assert!(chosen.warnings[0].contains("chmod 600"));
        assert!(!chosen.warnings[0].contains("hunter2"));

        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(choose(None, &files).unwrap().warnings.is_empty());

        // No password: nothing to hide.
        std::fs::write(&user, "db = 'postgres://u@h/k'\n").unwrap();
        std::fs::set_permissions(&user, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(choose(None, &files).unwrap().warnings.is_empty());
    }
}
