//! The real `huddle-signal` binary: `--help`, `--demo`, a clean SIGTERM,
//! and `backup` of a running server.

mod common;

use clap::CommandFactory;
use common::{BINARY, ServerProcess};
use std::process::Command;
use std::time::Duration;

#[test]
fn help_explains_every_setting_and_its_variable() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    // Every flag the binary has, read from its own definition, so a new one
    // without help or a variable fails here.
    let command = signal_server::config::Args::command();
    let mut checked = 0;
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        let flag = format!(
            "--{}",
            arg.get_long().expect("every setting has a long flag")
        );
        let variable = arg.get_env().map(|v| v.to_string_lossy().into_owned());
        let variable = variable.unwrap_or_else(|| panic!("{flag} has no HUDDLE_* variable"));
        assert!(variable.starts_with("HUDDLE_"), "{flag} reads {variable}");
        assert!(
            arg.get_help().is_some_and(|h| !h.to_string().is_empty()),
            "{flag} has no help text"
        );
        for word in [&flag, &variable] {
            assert!(
                help.contains(word.as_str()),
                "--help does not mention {word}:\n{help}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 13, "only {checked} settings found");
    for sub in command.get_subcommands() {
        assert!(
            help.contains(sub.get_name()),
            "--help does not mention {}",
            sub.get_name()
        );
    }
    assert!(
        help.contains("[limits]"),
        "--help points to the [limits] table:\n{help}"
    );
}

/// The binary run to completion with `args` and no `HUDDLE_*` variable of
/// whoever runs the tests: its exit code and what it wrote to stderr.
fn run_to_the_end(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String) {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("HUDDLE_")) {
        command.env_remove(name);
    }
    let output = command.args(args).current_dir(dir).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_setting_stops_the_binary_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let malformed = file("malformed.toml", "listen = \"127.0.0.1:1\n");
    let wrong_type = file("wrong.toml", "session_ttl_hours = \"a week\"\n");
    let unreadable = dir
        .path()
        .join("missing.toml")
        .to_str()
        .unwrap()
        .to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["--config", &unreadable], "cannot read config file"),
        (&["--config", &malformed], "is not valid"),
        (&["--config", &wrong_type], "session_ttl_hours"),
        (
            &[
                "--heartbeat-interval-ms",
                "3000",
                "--heartbeat-timeout-ms",
                "1000",
            ],
            "heartbeat timeout",
        ),
    ];
    for (args, says) in cases {
        let (code, stderr) = run_to_the_end(args, dir.path());
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says),
            "{args:?} should say {says:?}: {stderr}"
        );
    }
    // A flag's bad value is clap's usage error: exit code 2, naming the flag.
    let (code, stderr) = run_to_the_end(&["--chat-retention-days", "soon"], dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--chat-retention-days"), "{stderr}");
    assert!(
        !dir.path().join("huddle.db").exists(),
        "nothing was created"
    );
}

#[test]
fn flags_win_over_variables_and_variables_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("huddle.toml");
    let at = |name: &str| dir.path().join(name);
    let file_db = at("file.db");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:1\"\ndemo = false\ndb = {:?}\n",
            file_db
        ),
    )
    .unwrap();
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("HUDDLE_")) {
        command.env_remove(name);
    }
    command
        .env("HUDDLE_CONFIG", &config)
        .env("HUDDLE_LISTEN", "127.0.0.1:0")
        .env("HUDDLE_DEMO", "true")
        .env("HUDDLE_DB", at("variable.db"))
        .arg("--db")
        .arg(at("flag.db"));
    let server = ServerProcess::start(command);
    assert!(
        !server.url.ends_with(":1"),
        "the variable's listen beat the file's: {}",
        server.url
    );
    assert!(
        server.banner.contains("Demo logins"),
        "the variable's demo beat the file's"
    );
    assert!(at("flag.db").exists(), "the flag's database is used");
    assert!(!at("variable.db").exists() && !file_db.exists());
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

#[tokio::test]
async fn a_server_whose_janus_is_missing_says_so_once_and_serves_all_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = nobody.local_addr().unwrap().port();
    drop(nobody);
    let config = dir.path().join("huddle.toml");
    let sfu = format!("[sfu]\njanus_url = \"ws://127.0.0.1:{closed}\"\napi_secret = \"s\"\n");
    std::fs::write(&config, sfu).unwrap();
    let db = dir.path().join("demo.db");
    let server = ServerProcess::start_demo(&[
        "--db".as_ref(),
        db.as_ref(),
        "--config".as_ref(),
        config.as_ref(),
    ]);
    let warnings: Vec<&str> = server
        .banner
        .lines()
        .filter(|line| line.contains("WARN"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", server.banner);
    assert!(
        warnings[0].contains("no SFU") && warnings[0].contains("stays a mesh"),
        "{}",
        warnings[0]
    );
    let login = reqwest::Client::new()
        .post(format!("{}/api/login", server.url))
        .json(&serde_json::json!({"email": "test@startup.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "the server serves without Janus");
}
