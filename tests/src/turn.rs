//! A private coturn (Debian's `turnserver`) on loopback, taking the signal
//! server's REST credentials (`use-auth-secret`): what an operator runs
//! beside `huddle-signal`, so calls can be relayed.

use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TurnServer {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl TurnServer {
    /// Starts coturn with `secret` as its `static-auth-secret`; returns once
    /// it takes connections.
    pub fn start(secret: &str) -> TurnServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let log = dir.path().join("turn.log");
        let child = Command::new("turnserver")
            .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1"])
            .arg(format!("--listening-port={port}"))
            .args([
                "--use-auth-secret",
                &format!("--static-auth-secret={secret}"),
            ])
            // Peers on loopback are refused unless allowed: only for tests.
            .args(["--realm=huddle.test", "--allow-loopback-peers", "--no-cli"])
            // Verbose: each request and its outcome, with the user, is logged.
            .args(["--no-tls", "--no-dtls", "--simple-log", "--verbose"])
            .arg(format!("--log-file={}", log.display()))
            .arg(format!("--pidfile={}", dir.path().join("pid").display()))
            .arg(format!("--userdb={}", dir.path().join("turndb").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver runs (the test command installs the coturn package)");
        let server = TurnServer {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "coturn did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `turn:127.0.0.1:PORT`, for the signal server's `[turn]` urls.
    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}", self.port)
    }

    /// What coturn logged so far (its log file has a date in its name).
    pub fn log(&self) -> String {
        let dir = self.log.parent().expect("the log is in the temp dir");
        let mut text = String::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("turn") && name.ends_with(".log") {
                text += &std::fs::read_to_string(entry.path()).unwrap_or_default();
            }
        }
        text
    }
}

impl Drop for TurnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free for both UDP and TCP now (coturn listens on both).
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
        let port = udp.local_addr().expect("bound").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
