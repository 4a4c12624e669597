//! `--listen` addresses and their listeners: TCP or a unix socket.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::error::{Error, Failure, Result};
use crate::redact::Untrusted;

pub const DEFAULT: &str = "127.0.0.1:7207";

/// The permissions of a unix socket (`--socket-mode`) when none is given:
/// its owner and its group may connect (a gateway of another user, put in
/// the socket's group), nobody else; whatever the umask.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;

/// `--socket-mode`: octal permission bits, `660` or `0660` (at most 0777).
pub fn parse_mode(raw: &str) -> Result<u32> {
    let digits = raw.strip_prefix("0o").unwrap_or(raw);
    let mode = (!digits.is_empty() && digits.len() <= 4)
        .then(|| u32::from_str_radix(digits, 8).ok())
        .flatten()
        .filter(|m| *m <= 0o777);
    mode.ok_or_else(|| {
        Error::Usage(format!(
            "--socket-mode '{}': want permissions in octal, such as 0660 or 0600",
            Untrusted(raw)
        ))
    })
}

#[derive(Debug, Clone)]
pub enum Addr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

pub fn parse(raw: &str) -> Result<Addr> {
    if let Some(path) = raw.strip_prefix("unix:") {
        if path.is_empty() {
            return Err(Error::Usage("--listen unix: needs a path".into()));
        }
        return Ok(Addr::Unix(PathBuf::from(path)));
    }
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(Addr::Tcp(addr));
    }
    let bad = || {
        Error::Usage(format!(
            "--listen '{}': want HOST:PORT, [::1]:PORT or unix:/path",
            Untrusted(raw)
        ))
    };
    raw.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .map(Addr::Tcp)
        .ok_or_else(bad)
}

pub enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, PathBuf),
}

impl Listener {
    /// Binds `addr`. A unix socket file left by a process that is gone is
    /// replaced; one that answers is refused. A unix socket gets `mode`
    /// before it listens: nobody can connect while it still has the
    /// umask's permissions (bound, not listening, it refuses everyone).
    pub async fn bind(addr: &Addr, mode: u32) -> Result<Listener> {
        match addr {
            Addr::Tcp(a) => tokio::net::TcpListener::bind(a)
                .await
                .map(Listener::Tcp)
                .map_err(|e| Error::failed(Failure::Listen, format!("cannot listen on {a}: {e}"))),
            Addr::Unix(path) => {
                let shown = path.display().to_string();
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(Error::failed(
                        Failure::Listen,
                        format!(
                            "cannot listen on unix:{}: another process is listening there",
                            Untrusted(&shown)
                        ),
                    ));
                }
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(path);
                    }
                }
                let cannot = |e: std::io::Error| {
                    Error::failed(
                        Failure::Listen,
                        format!("cannot listen on unix:{}: {e}", Untrusted(&shown)),
                    )
                };
                let socket = tokio::net::UnixSocket::new_stream().map_err(cannot)?;
                socket.bind(path).map_err(cannot)?;
                let listening = {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                        .and_then(|()| socket.listen(1024))
                };
                match listening {
                    Ok(l) => Ok(Listener::Unix(l, path.clone())),
                    Err(e) => {
                        let _ = std::fs::remove_file(path);
                        Err(cannot(e))
                    }
                }
            }
        }
    }

    /// How the ready line names it: the bound address (the port chosen
    /// for `:0`).
    pub fn shown(&self) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => format!("http://{a}"),
                Err(_) => "http://?".into(),
            },
            Listener::Unix(_, path) => format!("unix:{}", Untrusted(&path.display().to_string())),
        }
    }

    /// Whether others than this machine can reach it.
    pub fn is_exposed(&self) -> bool {
        match self {
            Listener::Tcp(l) => l.local_addr().is_ok_and(|a| !a.ip().is_loopback()),
            Listener::Unix(..) => false,
        }
    }
}
