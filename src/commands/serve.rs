//! `keysmith serve`: verifications over HTTP (docs/src/serve.md); the work is in
//! `crate::serve`.

use super::Context;
use crate::error::{Error, Result};
use crate::help::examples;
use crate::input::{self, AllowIp, SubsecondDuration};
use crate::serve::access_log::{self, Destination, Format};
use crate::serve::client_ip::{ClientAddress, ClientIpHeader};
use crate::serve::{self, Config};
use crate::store::OpenMode;
use clap::{Args, ValueEnum};

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
    pub flush_interval: SubsecondDuration,

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

    /// Add the key's metadata to /v1/auth's 200 answers, as JSON in
    /// X-Keysmith-Meta (at most 12 KiB: see docs/src/gateways.md for the
    /// gateway's buffer)
    #[arg(long)]
    pub meta_header: bool,

    /// A proxy (a gateway) whose /v1/auth requests carry the client's
    /// address in --client-ip-header (repeatable; address or CIDR range)
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        requires = "client_ip_header"
    )]
    pub trusted_proxy: Vec<AllowIp>,

    /// The one header a trusted proxy puts the client's address in, for IP
    /// rules: x-forwarded-for (the rightmost untrusted address) or x-real-ip
    #[arg(long, value_enum, value_name = "HEADER", requires = "trusted_proxy")]
    pub client_ip_header: Option<ClientIpHeaderArg>,

    /// How long a client may take to send a request's headers
    #[arg(long, value_name = "DURATION", default_value = "10s", hide = true)]
    pub header_timeout: SubsecondDuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientIpHeaderArg {
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    #[value(name = "x-real-ip")]
    XRealIp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessLogFormatArg {
    Text,
    Json,
}

pub fn run(ctx: &mut Context, args: ServeArgs) -> Result<u8> {
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
            flush_interval: args.flush_interval.get(),
            header_timeout: args.header_timeout.get(),
            max_connections: args.max_connections,
            tls: args.tls_cert.zip(args.tls_key),
            socket_mode,
            access_log,
            meta_header: args.meta_header,
            client_address: ClientAddress {
                trusted: input::ip_rules(args.trusted_proxy)?,
                header: args.client_ip_header.map(|h| match h {
                    ClientIpHeaderArg::XForwardedFor => ClientIpHeader::XForwardedFor,
                    ClientIpHeaderArg::XRealIp => ClientIpHeader::XRealIp,
                }),
            },
        },
        home,
    )
}
