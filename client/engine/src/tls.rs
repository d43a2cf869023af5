//! Which servers the client trusts: the system's certificate authorities and
//! any private CA the user adds, as one rustls configuration shared by HTTPS
//! (the REST API) and WSS (the live connection). Also the words for a
//! certificate that fails, and the warning for plain HTTP off this machine.

use crate::error::{Error, Result};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The certificate authorities a client trusts. Cheap to clone.
#[derive(Clone)]
pub struct Trust {
    config: Arc<ClientConfig>,
    extra_ca: Option<PathBuf>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("extra_ca", &self.extra_ca)
            .finish()
    }
}

impl Default for Trust {
    fn default() -> Self {
        Trust::system()
    }
}

impl Trust {
    /// The system's certificate authorities only (read once per process).
    pub fn system() -> Trust {
        static SYSTEM: OnceLock<Trust> = OnceLock::new();
        SYSTEM
            .get_or_init(|| Trust {
                config: config_for(system_roots().as_ref().clone()),
                extra_ca: None,
            })
            .clone()
    }

    /// The system's authorities and those in a PEM file (a private CA).
    pub fn with_ca_file(path: &Path) -> Result<Trust> {
        let bad = |reason: String| Error::CaFile {
            path: path.to_owned(),
            reason,
        };
        let mut roots = system_roots().as_ref().clone();
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| bad(format!("a certificate in it is not usable: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("it holds no PEM certificate".into()));
        }
        Ok(Trust {
            config: config_for(roots),
            extra_ca: Some(path.to_owned()),
        })
    }

    /// `with_ca_file` when a file is given, else `system`.
    pub fn from_option(ca_file: Option<&Path>) -> Result<Trust> {
        ca_file.map_or_else(|| Ok(Trust::system()), Trust::with_ca_file)
    }

    /// The private CA file added, if any.
    pub fn extra_ca(&self) -> Option<&Path> {
        self.extra_ca.as_deref()
    }

    pub(crate) fn rustls(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }
}

/// The system's roots, read once per process (a few hundred certificates).
fn system_roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for err in &found.errors {
            tracing::debug!("a system certificate could not be read: {err}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!("trusting {added} system certificate authorities ({ignored} unusable)");
        Arc::new(roots)
    })
}

fn config_for(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// The TLS failure somewhere in `err`'s chain, worded for a person, naming
/// the host: `certificate for 127.0.0.2 is not valid for that name`.
pub fn tls_failure(err: &(dyn std::error::Error + 'static), host: &str) -> Option<Error> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(describe(tls, host));
        }
        // An io::Error's `source` skips the error it wraps: look inside it.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn describe(err: &rustls::Error, host: &str) -> Error {
    let certificate = |reason: &str| Error::Certificate {
        host: host.to_string(),
        reason: reason.to_string(),
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                certificate("is not valid for that name")
            }
            CertificateError::UnknownIssuer => certificate("is issued by an unknown authority"),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                certificate("has expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                certificate("is not valid yet (is this computer's clock right?)")
            }
            CertificateError::Revoked => certificate("has been revoked"),
            other => certificate(&format!("is not valid ({other:?})")),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            Error::NotTls {
                host: host.to_string(),
            }
        }
        other => Error::Tls {
            host: host.to_string(),
            reason: other.to_string(),
        },
    }
}

/// The host of a URL, for messages (`127.0.0.1`, `huddle.example.org`).
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
        .unwrap_or_else(|| url.to_string())
}

/// A warning when `server` is plain `http://` to somewhere other than this
/// machine: passwords, tokens, chat and the call's keys would cross the
/// network readable by anyone on the way.
pub fn plain_http_warning(server: &str) -> Option<String> {
    let url = reqwest::Url::parse(server.trim()).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str()?.trim_matches(['[', ']']);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "{host} is plain http://: your password, chat and call set-up cross the network unencrypted; use https:// if the server offers it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_warned_about_only_off_this_machine() {
        for quiet in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
            "https://huddle.example.org",
        ] {
            assert_eq!(plain_http_warning(quiet), None, "{quiet}");
        }
        let warning = plain_http_warning("http://huddle.example.org").unwrap();
        assert!(
            warning.starts_with("huddle.example.org is plain http://"),
            "{warning}"
        );
        assert!(plain_http_warning("http://198.18.0.1:8080").is_some());
    }

    #[test]
    fn a_certificate_error_inside_an_io_error_is_found_and_worded() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let err = tls_failure(&io, "127.0.0.1").unwrap();
        assert_eq!(
            err.to_string(),
            "certificate for 127.0.0.1 is issued by an unknown authority"
        );
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(
            tls_failure(&name, "localhost").unwrap().to_string(),
            "certificate for localhost is not valid for that name"
        );
        let plain = std::io::Error::other("connection refused");
        assert!(tls_failure(&plain, "x").is_none());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = Trust::with_ca_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("ca.pem") && err.contains("no PEM certificate"),
            "{err}"
        );
        let missing = Trust::with_ca_file(&dir.path().join("nope.pem")).unwrap_err();
        assert!(missing.to_string().contains("nope.pem"), "{missing}");
    }

    #[test]
    fn the_host_is_taken_from_the_url() {
        assert_eq!(host_of("wss://127.0.0.2:4443/ws"), "127.0.0.2");
        assert_eq!(host_of("https://[::1]:8443"), "::1");
    }
}
