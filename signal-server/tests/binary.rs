//! The real `huddle-signal` binary: `--help`, `--demo`, and a clean SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_huddle-signal");

#[test]
fn help_explains_every_setting_and_its_variable() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--db",
        "--demo",
        "--config",
        "--allow-registration",
        "--ice-servers",
        "HUDDLE_LISTEN",
        "HUDDLE_DB",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[tokio::test]
async fn the_demo_server_prints_its_logins_accepts_them_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0", "--demo", "--db"])
        .arg(dir.path().join("demo.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("Demo meeting") {
        assert!(
            stdout.read_line(&mut printed).unwrap() > 0,
            "the server exited early:\n{printed}"
        );
    }
    assert!(
        printed.contains("test@startup.com") && printed.contains("password123"),
        "{printed}"
    );
    let url = printed
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("the URL is printed")
        .to_string();

    let http = reqwest::Client::new();
    for email in ["test@startup.com", "test@corporate.com"] {
        let response = http
            .post(format!("{url}/api/login"))
            .json(&serde_json::json!({"email": email, "password": "password123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{email}");
    }

    // SIGTERM asks for a graceful stop, as a service manager would.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let exit = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
    assert!(rest.contains("Shutting down"), "{rest}");
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "the server did not stop within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
