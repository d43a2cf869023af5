//! The real `huddle-signal` binary serving TLS: SIGHUP reads a renewed
//! certificate without dropping the connections already open, and a broken
//! renewal keeps the certificate in use.

#[path = "../../tests/src/certs.rs"]
#[allow(dead_code)]
mod certs;
mod common;

use common::ServerProcess;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream};

fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

type Socket = tokio_tungstenite::WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A WSS connection, and the certificate the server showed it.
async fn connect(url: &str, tls: &Arc<rustls::ClientConfig>) -> (Socket, Vec<u8>) {
    let ws = format!("{}/ws", url.replacen("https", "wss", 1));
    let connector = Connector::Rustls(tls.clone());
    let (socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(ws, None, true, Some(connector))
            .await
            .expect("a WSS connection");
    let shown = match socket.get_ref() {
        MaybeTlsStream::Rustls(stream) => {
            stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
        }
        _ => panic!("not TLS"),
    };
    (socket, shown)
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The next text message (pings skipped).
async fn next_text(socket: &mut Socket) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("no error");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Logs the demo user in over HTTPS, trusting `ca_pem`; the token.
async fn login_over_https(url: &str, ca_pem: &str) -> String {
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let login: serde_json::Value = http
        .post(format!("{url}/api/login"))
        .json(&serde_json::json!({"email": "test@startup.com", "password": "password123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"]
        .as_str()
        .expect("logged in over https")
        .to_string()
}

#[tokio::test]
async fn sighup_serves_a_renewed_certificate_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let ca = certs::TestCa::new("Huddle test CA");
    let first = ca.issue(&["127.0.0.1"], "first");
    let (cert, key) = first.write(dir.path());
    let db = dir.path().join("demo.db");
    let mut server = ServerProcess::start_demo(&[
        "--db".as_ref(),
        db.as_ref(),
        "--tls-cert".as_ref(),
        cert.as_ref(),
        "--tls-key".as_ref(),
        key.as_ref(),
    ]);
    let url = server.url.clone();
    assert!(url.starts_with("https://"), "{url}");

    let token = login_over_https(&url, &ca.pem).await;

    let tls = client_config(&ca.pem);
    let (mut open, shown) = connect(&url, &tls).await;
    assert_eq!(
        shown,
        der(&first.cert_pem),
        "the first certificate is served"
    );
    let hello = serde_json::json!({"type": "hello", "version": 1, "token": token});
    open.send(Message::text(hello.to_string())).await.unwrap();
    assert_eq!(next_text(&mut open).await["type"], "welcome");

    // Renewal: new files, SIGHUP, and new connections see the new certificate.
    let renewed = ca.issue(&["127.0.0.1"], "renewed");
    renewed.write(dir.path());
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, shown) = connect(&url, &tls).await;
        if shown == der(&renewed.cert_pem) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The connection opened before the renewal still works.
    open.send(Message::text(r#"{"type":"leave"}"#))
        .await
        .unwrap();
    assert_eq!(next_text(&mut open).await["code"], "not_in_room");

    // A broken renewal: the certificate in use stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, shown) = connect(&url, &tls).await;
    assert_eq!(
        shown,
        der(&renewed.cert_pem),
        "still the renewed certificate"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server is still running"
    );
}
