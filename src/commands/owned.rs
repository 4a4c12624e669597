//! The flags that say whose a key is and what the application keeps with
//! it (`--owner`, `--meta`, `--meta-file`: docs/src/owners.md), shared by
//! `create` and `edit`.

use std::io::Read;
use std::path::Path;

use clap::Args;

use crate::error::{Error, Failure, Result};
use crate::input::{MAX_META_BYTES, Meta, Owner};
use crate::redact::Untrusted;

#[derive(Debug, Args)]
pub struct OwnedArgs {
    /// The application's id of the customer the key belongs to, e.g. acme
    #[arg(long, value_name = "ID")]
    pub owner: Option<Owner>,

    /// A JSON object kept with the key and returned with VALID, at most
    /// 4 KiB, e.g. '{"plan":"pro"}'
    #[arg(
        long,
        value_name = "JSON",
        conflicts_with = "meta_file",
        allow_hyphen_values = true
    )]
    pub meta: Option<Meta>,

    /// The metadata from this file (`-`: stdin)
    #[arg(long, value_name = "FILE")]
    pub meta_file: Option<std::path::PathBuf>,
}

/// The metadata given by `--meta` or `--meta-file`, compact; `None` when
/// neither was.
pub fn meta_given(meta: Option<Meta>, file: Option<&Path>) -> Result<Option<String>> {
    if let Some(meta) = meta {
        return Ok(Some(meta.into()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let path_text = path.display().to_string();
    let shown = Untrusted(&path_text);
    let cannot = |e: std::io::Error| {
        Error::failed(
            Failure::File,
            format!("cannot read the metadata file {shown}: {e}"),
        )
    };
    // Whitespace aside, a file much larger than the limit cannot hold
    // metadata within it: read a bounded amount, never a whole big file.
    let bound = (MAX_META_BYTES as u64) * 16;
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(bound + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(bound + 1).read_to_string(&mut text))
    };
    match read {
        Ok(n) if n as u64 > bound => Err(Error::Usage(format!(
            "invalid --meta-file: {shown} is larger than {bound} bytes; metadata is at most 4096 \
             bytes (4 KiB) as compact JSON"
        ))),
        Ok(_) => {
            let meta: Meta = text
                .parse()
                .map_err(|e: crate::input::Invalid| e.or_field("--meta-file"))?;
            Ok(Some(meta.into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(Error::Usage(format!(
            "invalid --meta-file: {shown} is not UTF-8 text"
        ))),
        Err(e) => Err(cannot(e)),
    }
}
