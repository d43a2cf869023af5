//! A private coturn (Debian's `turnserver`) on loopback, taking the signal
//! server's REST credentials (`use-auth-secret`): what an operator runs
//! beside `huddle-signal`, so calls can be relayed; on loopback, or in the
//! public namespace of the network rig.

use crate::rig::Netns;
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TurnServer {
    child: Child,
    ip: Ipv4Addr,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl TurnServer {
    /// Starts coturn on loopback with `secret` as its `static-auth-secret`;
    /// returns once it takes connections.
    pub fn start(secret: &str) -> TurnServer {
        let ip = Ipv4Addr::LOCALHOST;
        let port = free_port();
        let secret = secret.to_string();
        let mut command = Command::new("turnserver");
        let server = TurnServer::launch(&mut command, ip, port, |_| {
            vec![
                "-n".into(),
                format!("--listening-ip={ip}"),
                format!("--relay-ip={ip}"),
                format!("--listening-port={port}"),
                "--use-auth-secret".into(),
                format!("--static-auth-secret={secret}"),
                "--realm=huddle.test".into(),
                "--no-cli".into(),
                // Peers on loopback are refused unless allowed: only for tests.
                "--allow-loopback-peers".into(),
            ]
        });
        wait_listening(ip, port);
        server
    }

    /// Starts coturn inside the rig's namespace `ns` on `ip`, with the
    /// README's `turnserver.conf` as written (its address and secret
    /// replaced): the standard port 3478, STUN and TURN.
    pub fn start_in(ns: &Netns, ip: Ipv4Addr, secret: &str) -> TurnServer {
        let config = crate::readme_block("conf")
            .replace("203.0.113.10", &ip.to_string())
            .replace("the-secret-of-huddle-signal's-turn-table", secret);
        let mut command = ns.command("turnserver");
        let server = TurnServer::launch(&mut command, ip, 3478, |dir| {
            let file = dir.join("turnserver.conf");
            std::fs::write(&file, config).expect("the config is written");
            vec!["-c".into(), file.display().to_string()]
        });
        ns.on_thread(move || wait_listening(ip, 3478));
        server
    }

    /// Starts coturn configured by the arguments `config` returns (given
    /// the temp dir), logging every request and its outcome, with the user.
    fn launch(
        command: &mut Command,
        ip: Ipv4Addr,
        port: u16,
        config: impl FnOnce(&std::path::Path) -> Vec<String>,
    ) -> TurnServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("turn.log");
        let child = command
            .args(config(dir.path()))
            .args(["--no-tls", "--no-dtls", "--simple-log", "--verbose"])
            .arg(format!("--log-file={}", log.display()))
            .arg(format!("--pidfile={}", dir.path().join("pid").display()))
            .arg(format!("--userdb={}", dir.path().join("turndb").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver runs (the test command installs the coturn package)");
        TurnServer {
            child,
            ip,
            port,
            log,
            _dir: dir,
        }
    }

    /// `turn:IP:PORT`, for the signal server's `[turn]` urls.
    pub fn url(&self) -> String {
        format!("turn:{}:{}", self.ip, self.port)
    }

    /// `stun:IP:PORT`: coturn answers STUN binding requests too.
    pub fn stun_url(&self) -> String {
        format!("stun:{}:{}", self.ip, self.port)
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

fn wait_listening(ip: Ipv4Addr, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect((ip, port)).is_err() {
        assert!(Instant::now() < deadline, "coturn did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A port free for both UDP and TCP now (coturn listens on both).
pub(crate) fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
        let port = udp.local_addr().expect("bound").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
