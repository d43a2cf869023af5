//! HTTPS and WSS served by the server itself, with rustls: the certificate
//! chain and key are read from PEM files at start, and read again on request
//! (SIGHUP in the binary), so a renewed certificate needs no restart and
//! drops no live connection.

use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the certificate chain and its private key are, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("cannot read the TLS key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the TLS certificate {cert} and key {key} cannot be used: {source}")]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// The live TLS settings of a running server; cheap to clone.
#[derive(Clone)]
pub struct Tls {
    files: TlsFiles,
    live: RustlsConfig,
}

impl Tls {
    /// Reads the files; fails with a message naming the file at fault.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let live = RustlsConfig::from_config(server_config(&files)?);
        Ok(Tls { files, live })
    }

    /// Reads the files again. New connections get the new certificate;
    /// connections already open keep theirs. A file that fails to read keeps
    /// the old certificate in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        self.live.reload_from_config(server_config(&self.files)?);
        Ok(())
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    pub(crate) fn rustls(&self) -> RustlsConfig {
        self.live.clone()
    }
}

fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: pem_reason(e),
    })?;
    let unusable = |source| TlsError::Unusable {
        cert: files.cert.clone(),
        key: files.key.clone(),
        source,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(unusable)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(unusable)?;
    // HTTP/1.1 only: the live protocol is a WebSocket upgrade, which HTTP/2
    // clients would have to do differently.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError::Certificate {
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(pem_reason(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(pem_reason(e)))?;
    if chain.is_empty() {
        return Err(error("the file holds no PEM certificate".into()));
    }
    Ok(chain)
}

fn pem_reason(err: rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match err {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "the file holds no PEM item of that kind".into(),
        other => format!("not valid PEM: {other}"),
    }
}
