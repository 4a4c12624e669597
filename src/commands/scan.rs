//! `keysmith scan`: find keysmith keys in files and report their state.

use super::Context;
use crate::cli::ScanArgs;
use crate::error::{Error, Result};

pub fn run(_ctx: &mut Context, _args: ScanArgs) -> Result<u8> {
    Err(Error::Usage("scan is not built yet".into()))
}
