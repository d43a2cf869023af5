//! The real `huddle-signal` binary: `--help`, `--demo`, a clean SIGTERM,
//! and `backup` of a running server.

mod common;

use common::{BINARY, ServerProcess};
use std::process::Command;
use std::time::Duration;

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
        "--tls-cert",
        "--tls-key",
        "--trusted-proxy",
        "--chat-retention-days",
        "backup",
        "HUDDLE_LISTEN",
        "HUDDLE_DB",
        "HUDDLE_TLS_CERT",
        "HUDDLE_TLS_KEY",
        "HUDDLE_TRUSTED_PROXY",
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
    let db = dir.path().join("demo.db");
    let mut server = ServerProcess::start_demo(&["--db".as_ref(), db.as_ref()]);
    let printed = &server.banner;
    assert!(
        printed.contains("test@startup.com") && printed.contains("password123"),
        "{printed}"
    );
    let url = server.url.clone();

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
    server.signal("TERM");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut server.stdout, &mut rest).unwrap();
    let exit = wait_with_timeout(&mut server.child, Duration::from_secs(10));
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

#[tokio::test]
async fn a_running_server_is_backed_up_consistently_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let mut server = ServerProcess::start_demo(&["--db".as_ref(), db.as_ref()]);
    let url = server.url.clone();
    let login = reqwest::Client::new()
        .post(format!("{url}/api/login"))
        .json(&serde_json::json!({"email": "test@startup.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path} has mode {mode:o}");
    }

    // The backup, taken while the server runs, holds what it had stored.
    let copy = dir.path().join("copy.db");
    let back_up = || {
        Command::new(BINARY)
            .arg("--db")
            .arg(&db)
            .arg("backup")
            .arg(&copy)
            .output()
            .unwrap()
    };
    let backup = back_up();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("Wrote a consistent copy"));
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup has mode {mode:o}");
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let users: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    let sessions: i64 = conn
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert!(
        users >= 2 && sessions >= 1,
        "{users} users, {sessions} sessions in the copy"
    );

    // A backup never overwrites a file.
    let again = back_up();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("copy.db"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    server.signal("TERM");
    let exit = wait_with_timeout(&mut server.child, Duration::from_secs(10));
    assert!(exit.success());
}
