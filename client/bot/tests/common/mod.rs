//! For the binaries' tests: a real demo server on a free port, a virtual X
//! server, and child processes that die with the test.
// Each test file uses some of these.
#![allow(dead_code)]

/// A CA made in the test and the certificates it issues.
#[path = "../../../../tests/src/certs.rs"]
pub mod certs;
/// Xvfb on a display it picks, the same helper the end-to-end tests use.
#[path = "../../../../tests/src/display.rs"]
pub mod display;
pub mod pulse;

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

pub struct Server {
    pub server: Option<signal_server::RunningServer>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn url(&self) -> String {
        self.server.as_ref().expect("running").url()
    }
}

pub async fn server() -> Server {
    server_with(|_| {}).await
}

/// A demo server with its config adjusted by `adjust`.
pub async fn server_with(adjust: impl FnOnce(&mut signal_server::Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = signal_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("h.db"),
        demo: true,
        ..signal_server::Config::default()
    };
    adjust(&mut config);
    Server {
        server: Some(signal_server::start(config).await.unwrap()),
        _dir: dir,
    }
}

/// A demo server on HTTPS with a certificate for 127.0.0.1 from a test CA;
/// returns it and the CA's certificate file.
pub async fn tls_server() -> (Server, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ca = certs::TestCa::new("Huddle test CA");
    let ca_file = ca.write(dir.path());
    let (cert, key) = ca.issue(&["127.0.0.1"], "huddle").write(dir.path());
    let config = signal_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("h.db"),
        demo: true,
        tls: Some(signal_server::tls::TlsFiles { cert, key }),
        ..signal_server::Config::default()
    };
    let server = Server {
        server: Some(signal_server::start(config).await.unwrap()),
        _dir: dir,
    };
    (server, ca_file)
}

/// Waits until someone is in the room of the meeting titled `title`, as the
/// server sees it (a bot that must be there first, without a guessed sleep).
pub async fn wait_for_someone_in(server: &Server, title: &str) {
    let mut api = huddle_engine::ApiClient::new(&server.url()).unwrap();
    api.login("test@startup.com", "password123").await.unwrap();
    let meeting = api.find_meeting(title).await.unwrap().id;
    let app = server.server.as_ref().expect("running").app();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.hub.participants_of(meeting).is_empty() {
        assert!(Instant::now() < deadline, "no one joined {title:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills a child process when the test ends, however it ends.
pub struct Reaper(pub Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
