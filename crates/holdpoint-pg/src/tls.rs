//! TLS for a listener, from PEM files. The key must be readable by its owner only, as
//! PostgreSQL itself demands of its own key.

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Why a listener's certificate or key is refused.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read tls_key `{path}`: {error}", path = .path.display())]
    KeyUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "tls_key `{path}` is readable by others (mode {mode:o}): chmod 600 it",
        path = .path.display()
    )]
    KeyShared { path: PathBuf, mode: u32 },
    #[error("cannot read tls_cert `{path}`: {error}", path = .path.display())]
    CertUnreadable { path: PathBuf, error: pem::Error },
    #[error("tls_cert `{path}` is not PEM certificates: {error}", path = .path.display())]
    CertNotPem { path: PathBuf, error: pem::Error },
    #[error("tls_cert `{path}` holds no certificate", path = .path.display())]
    NoCertificate { path: PathBuf },
    #[error("tls_key `{path}` is not a PEM private key: {error}", path = .path.display())]
    KeyNotPem { path: PathBuf, error: pem::Error },
    #[error("the TLS certificate and key do not fit: {0}")]
    Mismatch(rustls::Error),
}

pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key)
            .map_err(|error| TlsError::KeyUnreadable {
                path: key.to_path_buf(),
                error,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyShared {
                path: key.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|error| TlsError::CertUnreadable {
            path: cert.to_path_buf(),
            error,
        })?
        .collect::<Result<_, _>>()
        .map_err(|error| TlsError::CertNotPem {
            path: cert.to_path_buf(),
            error,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|error| TlsError::KeyNotPem {
        path: key.to_path_buf(),
        error,
    })?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Mismatch)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
