//! `keysmith verify`'s arguments.

use clap::Args;

use crate::help::examples;
use crate::input::{ClientIp, Cost, Scope, Service};

#[derive(Debug, Args)]
#[command(after_help = examples!(
    "keysmith verify --service billing < key.txt",
    "keysmith verify --scope sms:send --stdin-all < presented.txt",
    r#"echo "$KEY" | keysmith --json verify"#,
))]
pub struct VerifyArgs {
    /// Also require the key to belong to this service
    #[arg(long, value_name = "SERVICE", add = crate::complete::candidates::services())]
    pub service: Option<Service>,

    /// The key to check; read from stdin (first line) when omitted
    #[arg(value_name = "KEY")]
    pub key: Option<String>,

    /// Check every line of stdin, one result line per input line; exit 0 only
    /// if every key is valid
    #[arg(long, conflicts_with = "key")]
    pub stdin_all: bool,

    /// Require this scope of the key (repeatable): INSUFFICIENT_SCOPE unless every one is granted
    #[arg(long = "scope", value_name = "SCOPE", allow_hyphen_values = true)]
    pub scope: Vec<Scope>,

    /// Spend this many uses (of the key, and of its owner, when they have a
    /// limit); more than are left is USAGE_EXCEEDED and spends nothing
    #[arg(
        long,
        value_name = "N",
        default_value = "1",
        allow_negative_numbers = true
    )]
    pub cost: Cost,

    /// The client's address, for keys with IP rules (--allow-ip)
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<ClientIp>,
}
