//! `--tls-cert` and `--tls-key`: the rustls server configuration every
//! listener speaks HTTPS with, on the same crypto provider (ring) as the
//! PostgreSQL client.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Failure, Result};
use crate::redact::Untrusted;

/// Reads the certificate chain and its key; refuses files that are not
/// PEM, hold none, or do not match. Messages name the file, never a key.
pub fn config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let shown = |p: &Path| Untrusted(&p.display().to_string()).to_string();
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::failed(
                Failure::Tls,
                format!(
                    "--tls-cert {}: cannot read a PEM certificate: {e}",
                    shown(cert)
                ),
            )
        })?;
    if certs.is_empty() {
        return Err(Error::failed(
            Failure::Tls,
            format!(
                "--tls-cert {}: no certificate in it (want PEM: -----BEGIN CERTIFICATE-----)",
                shown(cert)
            ),
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::failed(
            Failure::Tls,
            format!(
                "--tls-key {}: cannot read a PEM private key: {e}",
                shown(key)
            ),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failed(Failure::Tls, format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| {
            Error::failed(
                Failure::Tls,
                format!(
                    "--tls-cert {} and --tls-key {} cannot be used together: {e}",
                    shown(cert),
                    shown(key)
                ),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What to say when the private key of `--tls-key` can be read by every
/// user of the machine, as the store's own warning says it. Only the
/// world's read bit counts: a key readable by its group is how Debian
/// shares keys with services (`root:ssl-cert`, 0640), on purpose.
pub fn key_warning(key: &Path) -> Option<String> {
    readable_by_everyone(key).then(|| {
        let shown = key.display().to_string();
        format!(
            "the TLS key {shown} can be read by every user; fix it with: chmod o-r {}",
            crate::shell::shell_word(&shown)
        )
    })
}

fn readable_by_everyone(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}
