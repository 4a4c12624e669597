//! `--listen` addresses and their listeners: TCP or a unix socket.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::redact::Untrusted;

pub const DEFAULT: &str = "127.0.0.1:7207";

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
    /// replaced; one that answers is refused.
    pub async fn bind(addr: &Addr) -> Result<Listener> {
        match addr {
            Addr::Tcp(a) => tokio::net::TcpListener::bind(a)
                .await
                .map(Listener::Tcp)
                .map_err(|e| Error::Usage(format!("cannot listen on {a}: {e}"))),
            Addr::Unix(path) => {
                let shown = path.display().to_string();
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(Error::Usage(format!(
                        "cannot listen on unix:{}: another process is listening there",
                        Untrusted(&shown)
                    )));
                }
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(path);
                    }
                }
                tokio::net::UnixListener::bind(path)
                    .map(|l| Listener::Unix(l, path.clone()))
                    .map_err(|e| {
                        Error::Usage(format!("cannot listen on unix:{}: {e}", Untrusted(&shown)))
                    })
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
