//! The real `huddle-signal` binary started for a test: a demo server on a
//! free port, its URL read from the banner, killed when the test ends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_huddle-signal");

pub struct ServerProcess {
    pub child: Child,
    /// What the server prints after its banner.
    pub stdout: BufReader<ChildStdout>,
    /// The banner: URL, demo logins.
    pub banner: String,
    /// `http://…` or `https://…`, as the banner says.
    pub url: String,
}

impl ServerProcess {
    /// `huddle-signal --listen 127.0.0.1:0 --demo` with `args` added, once
    /// its banner is printed.
    pub fn start_demo(args: &[&std::ffi::OsStr]) -> ServerProcess {
        let mut command = Command::new(BINARY);
        command
            .args(["--listen", "127.0.0.1:0", "--demo"])
            .args(args);
        ServerProcess::start(command)
    }

    /// The binary as `command` runs it (its settings given by flags,
    /// variables or a file), once the banner of a demo server is printed.
    pub fn start(mut command: Command) -> ServerProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        while !banner.contains("Demo meeting") {
            assert!(
                stdout.read_line(&mut banner).unwrap() > 0,
                "the server exited early:\n{banner}"
            );
        }
        let url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in the banner:\n{banner}"))
            .to_string();
        ServerProcess {
            child,
            stdout,
            banner,
            url,
        }
    }

    /// Sends a signal (`TERM`, `HUP`) as a service manager would.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
