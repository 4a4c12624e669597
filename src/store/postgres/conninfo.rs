//! Where a PostgreSQL store lives and how to reach it: the URL, completed by
//! libpq's conventions (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD,
//! ~/.pgpass, PGSSLMODE, PGSSLROOTCERT, PGCONNECT_TIMEOUT), and the URL as
//! it may be shown, with any password masked.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use tokio_postgres::config::Host;

use crate::error::{Error, Result};
use crate::redact::mask_password;

/// Long enough for a server across a continent, short enough not to look hung.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's lower bound: a shorter timeout makes no sense on a real network.
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Debian's (and most distributions') libpq looks here for the local socket.
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// libpq's `sslmode`, of which tokio-postgres knows only the first three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The certificates that `verify-ca` and `verify-full` trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// The operating system's trust store (`sslrootcert=system`).
    System,
    File(PathBuf),
}

/// A parsed `postgres://` location, ready to connect.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub ssl_mode: SslMode,
    pub root_cert: RootCert,
    /// The whole connection attempt, TLS and authentication included; `None`
    /// waits as long as the network does (`connect_timeout=0`, as in libpq).
    pub connect_timeout: Option<Duration>,
    /// The URL as given, password masked: the only form that is ever shown.
    pub shown: String,
    /// What reading the settings found worth telling (an ignored password
    /// file), for whoever opens the store to show.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.shown == other.shown
    }
}

impl Eq for Target {}

/// Whether `location` names a PostgreSQL store rather than a SQLite path.
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The environment a URL is completed from: the process's, or a test's.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn home(&self) -> Option<PathBuf>;
    fn os_user(&self) -> Option<String>;
}

pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        directories::BaseDirs::new().map(|d| d.home_dir().to_owned())
    }

    fn os_user(&self) -> Option<String> {
        whoami::username().ok()
    }
}

impl Target {
    pub fn parse(url: &str) -> Result<Self> {
        Self::parse_in(url, &ProcessEnvironment)
    }

    pub fn parse_in(url: &str, env: &dyn Environment) -> Result<Self> {
        let shown = mask_password(url);
        let invalid = |why: String| Error::Usage(format!("invalid PostgreSQL URL {shown}: {why}"));
        let (base, ours, passed_on) = split_query(url);
        let mut rebuilt = base.to_owned();
        if !passed_on.is_empty() {
            rebuilt.push('?');
            rebuilt.push_str(&passed_on.join("&"));
        }
        let mut config =
            tokio_postgres::Config::from_str(&rebuilt).map_err(|e| invalid(e.to_string()))?;

        let setting = |name: &str, env_name: &str| -> Result<Option<String>> {
            match ours.iter().find(|(k, _)| k == name) {
                Some((_, value)) => decode(value).map(Some).map_err(&invalid),
                None => Ok(env.var(env_name)),
            }
        };
        let ssl_mode = match setting("sslmode", "PGSSLMODE")?.as_deref() {
            None | Some("prefer") | Some("allow") => SslMode::Prefer,
            Some("disable") => SslMode::Disable,
            Some("require") => SslMode::Require,
            Some("verify-ca") => SslMode::VerifyCa,
            Some("verify-full") => SslMode::VerifyFull,
            Some(other) => {
                return Err(invalid(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, \
                     verify-ca, verify-full"
                )));
            }
        };
        let root_cert = match setting("sslrootcert", "PGSSLROOTCERT")? {
            Some(value) if value == "system" => RootCert::System,
            Some(path) => RootCert::File(PathBuf::from(path)),
            None => RootCert::File(env.home().unwrap_or_default().join(".postgresql/root.crt")),
        };
        let connect_timeout = match setting("connect_timeout", "PGCONNECT_TIMEOUT")? {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(Duration::from_secs(secs).max(MIN_CONNECT_TIMEOUT)),
                Err(_) => {
                    return Err(invalid(format!(
                        "connect_timeout {text:?} is not a whole number of seconds"
                    )));
                }
            },
        };
        let passfile = setting("passfile", "PGPASSFILE")?.map(PathBuf::from);

        if config.get_hosts().is_empty() {
            match env.var("PGHOST") {
                Some(host) if host.starts_with('/') => config.host_path(host),
                Some(host) => config.host(host),
                None => match DEFAULT_SOCKET_DIRS.iter().find(|d| Path::new(d).is_dir()) {
                    Some(dir) => config.host_path(dir),
                    None => config.host("localhost"),
                },
            };
        }
        if config.get_ports().is_empty() {
            let port = match env.var("PGPORT") {
                Some(text) => text
                    .parse::<u16>()
                    .map_err(|_| invalid(format!("PGPORT {text:?} is not a port number")))?,
                None => 5432,
            };
            config.port(port);
        }
        if config.get_user().is_none() {
            let user = env.var("PGUSER").or_else(|| env.os_user()).ok_or_else(|| {
                invalid("it names no user, and neither PGUSER nor the login name is set".into())
            })?;
            config.user(user);
        }
        if config.get_dbname().is_none() {
            let dbname = env
                .var("PGDATABASE")
                .or_else(|| config.get_user().map(str::to_owned))
                .unwrap_or_default();
            config.dbname(dbname);
        }
        let mut warnings = Vec::new();
        if config.get_password().is_none() {
            let password = env.var("PGPASSWORD").or_else(|| {
                let file = passfile.or_else(|| env.home().map(|h| h.join(".pgpass")))?;
                password_from_file(&file, &config, &mut warnings)
            });
            if let Some(password) = password {
                config.password(password);
            }
        }
        if config.get_application_name().is_none() {
            config.application_name("keysmith");
        }
        config.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        if let Some(timeout) = connect_timeout {
            config.connect_timeout(timeout);
        }
        Ok(Target {
            config,
            ssl_mode,
            root_cert,
            connect_timeout,
            shown,
            warnings,
        })
    }
}

/// Splits off the query parameters keysmith handles itself (tokio-postgres
/// refuses what it does not know, and knows only three `sslmode`s).
fn split_query(url: &str) -> (&str, Vec<(String, String)>, Vec<&str>) {
    const OURS: [&str; 4] = ["sslmode", "sslrootcert", "connect_timeout", "passfile"];
    let Some((base, query)) = url.split_once('?') else {
        return (url, Vec::new(), Vec::new());
    };
    let mut ours = Vec::new();
    let mut passed_on = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if OURS.contains(&key) {
            ours.push((key.to_owned(), value.to_owned()));
        } else {
            passed_on.push(pair);
        }
    }
    (base, ours, passed_on)
}

fn decode(value: &str) -> Result<String, String> {
    percent_decode_str(value)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| "a parameter is not valid percent-encoded UTF-8".to_owned())
}

/// libpq's password file: `host:port:database:user:password` lines, `*`
/// matching anything, `\` escaping `:` and `\`. Like libpq, a file others
/// can read is ignored, with a warning.
fn password_from_file(
    file: &Path,
    config: &tokio_postgres::Config,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    if std::fs::metadata(file).is_ok_and(|m| m.mode() & 0o077 != 0) {
        warnings.push(format!(
            "ignoring the password file {}: others can read it; fix it with: chmod 600 {}",
            file.display(),
            crate::shell::shell_word(&file.display().to_string())
        ));
        return None;
    }
    let host = match config.get_hosts().first()? {
        Host::Tcp(name) => name.clone(),
        // libpq matches a socket connection to the default directory as "localhost".
        Host::Unix(_) => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let wanted = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or_default(),
        config.get_user().unwrap_or_default(),
    ];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(pgpass_fields)
        .filter(|fields| fields.len() == 5)
        .find(|fields| {
            wanted
                .iter()
                .zip(fields)
                .all(|(want, field)| field == "*" || field == want)
        })
        .map(|mut fields| fields.swap_remove(4))
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnvironment {
        vars: HashMap<&'static str, String>,
        home: Option<PathBuf>,
    }

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn home(&self) -> Option<PathBuf> {
            self.home.clone()
        }
        fn os_user(&self) -> Option<String> {
            Some("alice".into())
        }
    }

    fn env(vars: &[(&'static str, &str)]) -> FakeEnvironment {
        FakeEnvironment {
            vars: vars.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            home: None,
        }
    }

    #[test]
    fn the_url_wins_over_the_environment() {
        let target = Target::parse_in(
            "postgres://bob:pw@db.example:6543/keys?sslmode=verify-full&connect_timeout=3",
            &env(&[
                ("PGUSER", "carol"),
                ("PGPASSWORD", "other"),
                ("PGPORT", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(target.config.get_user(), Some("bob"));
        assert_eq!(target.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(target.config.get_ports(), &[6543]);
        assert_eq!(target.config.get_dbname(), Some("keys"));
        assert_eq!(target.ssl_mode, SslMode::VerifyFull);
        assert_eq!(target.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(
            target.shown,
            "postgres://bob:***@db.example:6543/keys?sslmode=verify-full&connect_timeout=3"
        );
    }

    #[test]
    fn the_environment_fills_what_the_url_leaves_out() {
        let target = Target::parse_in(
            "postgres:///",
            &env(&[
                ("PGHOST", "pg.internal"),
                ("PGPORT", "5433"),
                ("PGUSER", "carol"),
                ("PGPASSWORD", "pw"),
                ("PGSSLMODE", "require"),
                ("PGCONNECT_TIMEOUT", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(
            target.config.get_hosts(),
            &[Host::Tcp("pg.internal".into())]
        );
        assert_eq!(target.config.get_ports(), &[5433]);
        assert_eq!(target.config.get_user(), Some("carol"));
        assert_eq!(target.config.get_dbname(), Some("carol"));
        assert_eq!(target.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(target.ssl_mode, SslMode::Require);
        assert_eq!(target.connect_timeout, None);
    }

    #[test]
    fn bad_settings_are_usage_errors_that_hide_the_password() {
        for url in [
            "postgres://bob:hunter2@db/keys?sslmode=sometimes",
            "postgres://bob:hunter2@db/keys?connect_timeout=soon",
            "postgres://bob:hunter2@db/keys?frobnicate=1",
        ] {
            let err = Target::parse_in(url, &env(&[])).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert!(err.to_string().contains("bob:***@db"), "{err}");
        }
    }

    #[test]
    fn the_password_file_is_matched_like_libpq() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:bob:wrong\ndb:*:keys:bob:p\\:w\\\\d\n*:*:*:*:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let passfile = file.display().to_string();
        let with = |url: &str| {
            Target::parse_in(url, &env(&[("PGPASSFILE", &passfile)]))
                .unwrap()
                .config
                .get_password()
                .map(|p| String::from_utf8(p.to_vec()).unwrap())
        };
        assert_eq!(with("postgres://bob@db/keys").as_deref(), Some("p:w\\d"));
        assert_eq!(with("postgres://eve@db/keys").as_deref(), Some("fallback"));
        assert_eq!(
            with("postgres://bob:given@db/keys").as_deref(),
            Some("given")
        );
    }
}
