//! `keysmith serve`: verifications over HTTP (docs/src/serve.md); the work is in
//! `crate::serve`.

use std::time::Duration;

use super::Context;
use crate::cli::{AccessLogFormatArg, ServeArgs};
use crate::error::{Error, Result};
use crate::input;
use crate::serve::access_log::{self, Destination, Format};
use crate::serve::{self, Config};
use crate::store::OpenMode;

pub fn run(ctx: &mut Context, args: ServeArgs) -> Result<u8> {
    let flush_interval = duration("--flush-interval", &args.flush_interval)?;
    let header_timeout = duration("--header-timeout", &args.header_timeout)?;
    if args.max_connections == 0 {
        return Err(Error::Usage("--max-connections must be at least 1".into()));
    }
    let listen = if args.listen.is_empty() {
        vec![serve::DEFAULT_LISTEN.to_owned()]
    } else {
        args.listen
    };
    let socket_mode = match &args.socket_mode {
        None => serve::DEFAULT_SOCKET_MODE,
        Some(_) if !listen.iter().any(|a| a.starts_with("unix:")) => {
            return Err(Error::Usage(
                "--socket-mode is for unix sockets: add --listen unix:/path".into(),
            ));
        }
        Some(raw) => serve::parse_socket_mode(raw)?,
    };
    let access_log = args.access_log.map(|path| access_log::Config {
        destination: if path.as_os_str() == "-" {
            Destination::Stdout
        } else {
            Destination::File(path)
        },
        format: match args.access_log_format {
            AccessLogFormatArg::Text => Format::Text,
            AccessLogFormatArg::Json => Format::Json,
        },
    });
    // Read before the store is opened: a bad certificate changes nothing.
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        serve::tls_config(cert, key)?;
        if let Some(warning) = serve::tls_key_warning(key) {
            ctx.out.notice(&format!("warning: {warning}"))?;
        }
    }
    let choice = ctx.choose()?;
    // A missing store is refused (docs/src/store.md): a mistyped path would answer
    // 401 to every key while /healthz said ok. `keysmith init` makes one.
    let home = ctx.open_chosen(&choice, OpenMode::NoCreate)?;
    let location = choice.location;
    ctx.out.flush()?;
    let key_headers = if args.key_header.is_empty() {
        vec!["authorization".to_owned(), "x-api-key".to_owned()]
    } else {
        args.key_header
    };
    serve::run(
        Config {
            location,
            listen,
            key_headers,
            flush_interval,
            header_timeout,
            max_connections: args.max_connections,
            tls: args.tls_cert.zip(args.tls_key),
            socket_mode,
            access_log,
        },
        home,
    )
}

/// A duration: `250ms`, or what `input::duration` reads (`1s`, `2m`...).
fn duration(flag: &str, raw: &str) -> Result<Duration> {
    let parsed = match raw.strip_suffix("ms") {
        Some(ms) => ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| input::duration(flag, "x").unwrap_err()),
        None => input::duration(flag, raw).map(|s| Duration::from_secs(s.max(0) as u64)),
    }?;
    if parsed.is_zero() {
        return Err(input::duration(flag, "0")
            .err()
            .unwrap_or_else(|| Error::Usage(format!("{flag} must be more than zero"))));
    }
    Ok(parsed)
}
