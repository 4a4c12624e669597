//! `keysmith serve` (docs/src/serve.md): verifications over HTTP/1.1, from the same
//! store and the same code as `keysmith verify`.
//!
//! - `listen`: the addresses and their listeners.
//! - `routes`: the endpoints, body limits and answers (async, hyper).
//! - `pool`: the threads that own store connections (sync).
//! - `engine`: the verification core, its cache and the freshness check.
//! - `metrics`: `/metrics`.
//! - `access_log`: `--access-log`, written on a thread of its own.
//!
//! The HTTP stack is hyper 1 with hyper-util on tokio: hyper parses and
//! bounds the request head (64 KiB, exactly), times out a client slow to send its headers,
//! and shuts connections down gracefully.

pub(crate) mod access_log;
pub(crate) mod client_ip;
mod engine;
mod listen;
mod metrics;
mod pool;
pub mod request;
mod routes;
mod tls;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use hyper::header::HeaderName;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};

use crate::error::{Error, Failure, Result};
use crate::store::{Location, Store};

pub(crate) use listen::DEFAULT as DEFAULT_LISTEN;
pub(crate) use listen::{DEFAULT_SOCKET_MODE, parse_mode as parse_socket_mode};
pub(crate) use tls::{config as tls_config, key_warning as tls_key_warning};

pub(crate) struct Config {
    pub location: Location,
    pub listen: Vec<String>,
    pub key_headers: Vec<String>,
    pub flush_interval: Duration,
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// `--tls-cert` and `--tls-key`: every listener speaks HTTPS.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// `--socket-mode`: the permissions of unix sockets.
    pub socket_mode: u32,
    /// `--access-log` and its format.
    pub access_log: Option<access_log::Config>,
    /// `--meta-header`: the key's metadata in `/v1/auth`'s 200 answers.
    pub meta_header: bool,
    /// `--trusted-proxy` and `--client-ip-header`: who `/v1/auth`'s client is.
    pub client_address: client_ip::ClientAddress,
}

/// The largest request head (request line, headers and the blank line
/// that ends them), in bytes as sent: one byte more is answered 431.
const HEAD_LIMIT: usize = 64 * 1024;
/// hyper's read buffer: room for a head just over the limit to be read
/// whole (so that the client, having sent it all, reads the 431 rather
/// than a reset for bytes left unread), and bounded all the same.
const READ_BUFFER: usize = HEAD_LIMIT + 16 * 1024;
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves until SIGTERM or SIGINT, then drains, writes the pending uses
/// and returns 0. `home` is a store already open at `config.location`.
pub(crate) fn run(config: Config, home: Box<dyn Store>) -> Result<u8> {
    let tls = match &config.tls {
        Some((cert, key)) => Some(tokio_rustls::TlsAcceptor::from(tls::config(cert, key)?)),
        None => None,
    };
    let addrs = config
        .listen
        .iter()
        .map(|a| listen::parse(a))
        .collect::<Result<Vec<_>>>()?;
    let key_headers = config
        .key_headers
        .iter()
        .map(|h| {
            HeaderName::try_from(h.as_str()).map_err(|_| {
                Error::Usage(format!(
                    "--key-header '{}' is not a header name",
                    crate::redact::Untrusted(h)
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (access_log, log_writer) = match &config.access_log {
        Some(c) => {
            let (log, writer) = access_log::AccessLog::start(c)?;
            (Some(log), Some(writer))
        }
        None => (None, None),
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let engine = Arc::new(engine::Engine::new(config.location.clone(), home, threads)?);
    let (pool, pool_threads) = pool::Pool::start(engine.clone(), threads);
    let state = Arc::new(routes::State::new(
        engine.clone(),
        pool,
        key_headers,
        access_log,
        config.meta_header,
        config.client_address.clone(),
    ));

    let (stop_flusher, flusher) = start_flusher(engine.clone(), config.flush_interval);
    let (stop_renewer, renewer) = start_renewer(engine.clone());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("keysmith-http")
        .enable_all()
        .build()
        .map_err(|e| {
            Error::failed(
                Failure::Runtime,
                format!("cannot start the HTTP runtime: {e}"),
            )
        })?;
    let served = runtime.block_on(serve(
        state.clone(),
        addrs,
        tls,
        config.header_timeout,
        config.max_connections,
        config.socket_mode,
    ));
    drop(runtime);
    // No request is in flight any more: stop the threads (the access log's
    // once its last lines are written), then write every use still pending.
    drop(state);
    for t in pool_threads.into_iter().chain(log_writer) {
        let _ = t.join();
    }
    let _ = stop_flusher.send(());
    let _ = flusher.join();
    let _ = stop_renewer.send(());
    let _ = renewer.join();
    // Best effort: budget not given back is counted until its window passes.
    let _ = engine.give_back_leases();
    served?;
    // Nothing else uses the store now: wait for it as long as the CLI would.
    match engine.flush(Duration::from_secs(30)) {
        Ok(n) => {
            eprintln!("keysmith serve: stopped; {n} pending uses written");
            Ok(0)
        }
        Err(e) => Err(Error::failed(
            Failure::UsesNotWritten,
            format!(
                "stopped, but {} uses could not be written: {}",
                engine.pending(),
                crate::redact::mask_passwords_in(&e.to_string())
            ),
        )),
    }
}

/// Writes pending uses every `interval` until told to stop. Niced:
/// requests first, a flush is a burst of CPU (tens of ms for tens of
/// thousands of keys) that would otherwise take its share of a core from
/// the threads answering, and show in their tail latency; niced, it still
/// finishes well within an interval on a busy machine.
fn start_flusher(
    engine: Arc<engine::Engine>,
    interval: Duration,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    every("keysmith-flush", interval, true, move || {
        engine.flush(engine::BUSY_TIMEOUT).map(|_| ()).map_err(|e| {
            engine.metrics.store_errors.fetch_add(1, Relaxed);
            format!("could not write uses (kept, tried again): {e}")
        })
    })
}

/// Renews the leases of busy rate-limited keys and owners ahead of need,
/// and gives back idle ones (docs/src/fleet-limits.md), until told to stop.
fn start_renewer(
    engine: Arc<engine::Engine>,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    every("keysmith-lease", engine::RENEW_EVERY, false, move || {
        engine.renew().map_err(|e| {
            engine.metrics.store_errors.fetch_add(1, Relaxed);
            format!("could not renew rate-limit leases (asked again when needed): {e}")
        })
    })
}

/// A thread named `name` running `work` every `interval` until told to
/// stop, saying on stderr why a round failed (passwords masked).
fn every(
    name: &str,
    interval: Duration,
    niced: bool,
    work: impl Fn() -> std::result::Result<(), String> + Send + 'static,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if niced {
                // On Linux a thread id names the thread alone. Best
                // effort: nothing to do if refused.
                let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
            }
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                if let Err(why) = work() {
                    let text = crate::redact::mask_passwords_in(&why);
                    eprintln!("keysmith serve: {}", crate::redact::Untrusted(&text));
                }
            }
        })
        .expect("start a thread of serve");
    (tx, handle)
}

async fn serve(
    state: Arc<routes::State>,
    addrs: Vec<listen::Addr>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: Duration,
    max_connections: usize,
    socket_mode: u32,
) -> Result<()> {
    // Before anything is bound or said: a SIGTERM sent as soon as the
    // ready line is read must stop serve as promised, not kill it.
    let signals = Signals::new()?;
    let mut listeners = Vec::new();
    for addr in &addrs {
        listeners.push(listen::Listener::bind(addr, socket_mode).await?);
    }
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        // max_buf_size alone is checked only while a head is incomplete,
        // so a head that arrived in one read could pass it by up to that
        // read's size (112 KiB were taken): max_header_size is checked
        // on the complete head as well, exactly.
        .max_header_size(HEAD_LIMIT)
        .max_buf_size(READ_BUFFER)
        .keep_alive(true);
    let http = Arc::new(http);
    let graceful = Arc::new(GracefulShutdown::new());
    let permits = Arc::new(Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut unix_paths = Vec::new();
    let mut accepting = Vec::new();
    for listener in listeners {
        if listener.is_exposed() && tls.is_none() {
            eprintln!(
                "warning: {} is reachable from other machines; keys travel in clear text without TLS",
                listener.shown()
            );
        }
        if matches!(listener, listen::Listener::Unix(..)) && socket_mode & 0o002 != 0 {
            eprintln!(
                "warning: {} accepts connections from every user of this machine (--socket-mode {socket_mode:04o})",
                listener.shown()
            );
        }
        let shown = listener.shown();
        let shown = match (&tls, shown.strip_prefix("http://")) {
            (Some(_), Some(rest)) => format!("https://{rest}"),
            (Some(_), None) => format!("{shown} (TLS)"),
            (None, _) => shown,
        };
        eprintln!("keysmith serve: listening on {shown}");
        if let listen::Listener::Unix(_, path) = &listener {
            unix_paths.push(path.clone());
        }
        let ctx = Accept {
            state: state.clone(),
            http: http.clone(),
            graceful: graceful.clone(),
            permits: permits.clone(),
            stop: stop_rx.clone(),
            tls: tls.clone(),
            handshake_timeout: header_timeout,
        };
        accepting.push(tokio::spawn(accept(listener, ctx)));
    }

    signals.wait().await;
    eprintln!("keysmith serve: stopping: finishing the requests in flight");
    let _ = stop_tx.send(true);
    for task in accepting {
        let _ = task.await;
    }
    for path in unix_paths {
        let _ = std::fs::remove_file(path);
    }
    // A TLS handshake still finishing holds a reference for a moment.
    let mut graceful = graceful;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let graceful = loop {
        match Arc::try_unwrap(graceful) {
            Ok(g) => break g,
            Err(g) if std::time::Instant::now() < deadline => {
                graceful = g;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(_) => break GracefulShutdown::new(),
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("keysmith serve: some connections did not finish in time; closed");
    }
    Ok(())
}

/// SIGTERM and SIGINT, caught from the moment this is made.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |kind| {
            signal(kind).map_err(|e| {
                Error::failed(
                    Failure::Runtime,
                    format!("cannot catch SIGTERM or SIGINT: {e}"),
                )
            })
        };
        Ok(Signals {
            term: catch(SignalKind::terminate())?,
            int: catch(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

struct Accept {
    state: Arc<routes::State>,
    http: Arc<hyper::server::conn::http1::Builder>,
    graceful: Arc<GracefulShutdown>,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// How long a TLS client may take over its handshake.
    handshake_timeout: Duration,
}

async fn accept(listener: listen::Listener, mut ctx: Accept) {
    loop {
        let stopped = async {
            let _ = ctx.stop.wait_for(|s| *s).await;
        };
        match &listener {
            listen::Listener::Tcp(l) => tokio::select! {
                _ = stopped => return,
                got = l.accept() => match got {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        connection(stream, access_log::Client::Tcp(peer), &ctx);
                    }
                    Err(e) => accept_failed(e).await,
                },
            },
            listen::Listener::Unix(l, _) => tokio::select! {
                _ = stopped => return,
                got = l.accept() => match got {
                    Ok((stream, _)) => connection(stream, access_log::Client::Unix, &ctx),
                    Err(e) => accept_failed(e).await,
                },
            },
        }
    }
}

/// Out of descriptors, say: wait a little rather than spin.
async fn accept_failed(e: std::io::Error) {
    eprintln!("keysmith serve: accept failed: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Serves one connection, if the limit of open connections allows; past
/// it the connection is closed at once (counted in `/metrics`), so a flood
/// of idle connections cannot hold more than the limit, and each of those
/// is cut off by the header timeout (and, with TLS, a handshake that does
/// not finish within it).
fn connection<S>(stream: S, client: access_log::Client, ctx: &Accept)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let metrics = &ctx.state.engine.metrics;
    let Ok(permit) = ctx.permits.clone().try_acquire_owned() else {
        metrics.refused_connections.fetch_add(1, Relaxed);
        drop(stream);
        return;
    };
    let engine = ctx.state.engine.clone();
    engine.metrics.open_connections.fetch_add(1, Relaxed);
    let Some(tls) = ctx.tls.clone() else {
        let conn = serve_http(stream, client, &ctx.state, &ctx.http, &ctx.graceful);
        tokio::spawn(async move {
            let _ = conn.await;
            engine.metrics.open_connections.fetch_sub(1, Relaxed);
            drop(permit);
        });
        return;
    };
    let (state, http) = (ctx.state.clone(), ctx.http.clone());
    // Weak: shutdown takes the only strong reference to wait on it.
    let graceful = Arc::downgrade(&ctx.graceful);
    let stop = ctx.stop.clone();
    let limit = ctx.handshake_timeout;
    tokio::spawn(async move {
        let shaken = tokio::time::timeout(limit, tls.accept(stream)).await;
        let stopping = *stop.borrow();
        if let (Ok(Ok(stream)), false) = (shaken, stopping) {
            let conn = graceful
                .upgrade()
                .map(|graceful| serve_http(stream, client, &state, &http, &graceful));
            if let Some(conn) = conn {
                let _ = conn.await;
            }
        }
        engine.metrics.open_connections.fetch_sub(1, Relaxed);
        drop(permit);
    });
}

/// The HTTP/1.1 connection over `stream`, watched for graceful shutdown.
fn serve_http<S>(
    stream: S,
    client: access_log::Client,
    state: &Arc<routes::State>,
    http: &hyper::server::conn::http1::Builder,
    graceful: &GracefulShutdown,
) -> impl std::future::Future<Output = std::result::Result<(), hyper::Error>> + Send + use<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = state.clone();
    let service = hyper::service::service_fn(move |req| routes::handle(req, state.clone(), client));
    let conn = http.serve_connection(TokioIo::new(stream), service);
    graceful.watch(conn)
}
