//! The real `huddle-bot` binary: one-line errors and exit codes a QA script can rely on.

use std::process::Command;
use std::time::Duration;

mod common;
use common::{server, tls_server, wait_for_someone_in};

const BOT: &str = env!("CARGO_BIN_EXE_huddle-bot");

/// Runs the bot off the async runtime, with no display; returns (exit code, stderr).
async fn bot(args: Vec<String>) -> (i32, String) {
    bot_with_env(args, Vec::new()).await
}

/// The same, with these variables set too.
async fn bot_with_env(args: Vec<String>, env: Vec<(&'static str, String)>) -> (i32, String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BOT)
            .args(args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XDG_SESSION_TYPE")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn args(server: &str, email: &str, password: &str, meeting: &str, extra: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = [
        "--server",
        server,
        "--email",
        email,
        "--password",
        password,
        "--meeting",
        meeting,
        "--duration",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all.extend(extra.iter().map(|s| s.to_string()));
    all
}

/// The demo user Test Startup in the all-users meeting for `seconds`.
fn startup_for(server: &str, seconds: u32) -> Vec<String> {
    let mut all = args(
        server,
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &[],
    );
    let duration = all.iter().position(|a| a == "--duration").unwrap() + 1;
    all[duration] = seconds.to_string();
    all
}

/// The error is one line (ignoring library warnings) that says what is wrong.
fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("huddle-bot:"))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line in:\n{stderr}");
    lines[0].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_one_line_and_exit_2_and_a_private_ca_fixes_it() {
    let (s, ca_file) = tls_server().await;
    let url = s.url();
    let meeting = "All Users Weekly Sync";
    let (code, stderr) = bot(args(&url, "test@startup.com", "password123", meeting, &[])).await;
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        error_line(&stderr),
        "huddle-bot: certificate for 127.0.0.1 is issued by an unknown authority"
    );
    let ca = ca_file.to_str().unwrap();
    let extra = ["--ca-cert", ca, "--video", "none"];
    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "password123",
        meeting,
        &extra,
    ))
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("plain http"),
        "no warning for https: {stderr}"
    );
    let (code, stderr) = bot(args(
        &url,
        "a@b.c",
        "x",
        meeting,
        &["--ca-cert", "/nonexistent.pem"],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(error_line(&stderr).contains("/nonexistent.pem"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_one_clear_line_with_a_nonzero_exit() {
    let (code, stderr) = bot(args("http://127.0.0.1:9", "a@b.c", "x", "m", &[])).await;
    assert_eq!(code, 2);
    assert!(error_line(&stderr).contains("unreachable"), "{stderr}");

    let s = server().await;
    let url = s.url();
    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "wrong-password",
        "All Users Weekly Sync",
        &[],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(
        error_line(&stderr).contains("wrong email or password"),
        "{stderr}"
    );

    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "password123",
        "No Such Meeting",
        &[],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(error_line(&stderr).contains("No Such Meeting"), "{stderr}");

    let (code, stderr) = bot(args(
        &url,
        "test@corporate.com",
        "password123",
        "Startup Standup",
        &[],
    ))
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        error_line(&stderr).contains("no meeting called \"Startup Standup\""),
        "{stderr}"
    );

    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &["--audio", "tone:abc"],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(error_line(&stderr).contains("frequency"), "{stderr}");

    // `--share screen` with no display to capture.
    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &["--share", "screen"],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(
        error_line(&stderr).contains("cannot share the screen: there is no display to share"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_network_profile_it_cannot_read_says_why() {
    let s = server().await;
    let (code, stderr) = bot(args(
        &s.url(),
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &["--network", "custom:loss=150"],
    ))
    .await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("loss is a percentage, at most 100"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_wayland_the_bot_says_only_the_desktop_portal_shares_a_screen() {
    // The bot links no D-Bus or PipeWire: the portal is the desktop app's.
    let s = server().await;
    let share = args(
        &s.url(),
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &["--share", "screen"],
    );
    let wayland = ("XDG_SESSION_TYPE", "wayland".to_string());
    let (code, stderr) = bot_with_env(share, vec![wayland]).await;
    assert_eq!(code, 2);
    assert!(
        error_line(&stderr).contains("only the desktop's portal can share a screen"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_expectation_exits_1_and_is_named_in_the_report() {
    let s = server().await;
    let url = s.url();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.toml");
    std::fs::write(&script, "[[expect]]\nparticipants_at_least = 5\n").unwrap();
    let report = dir.path().join("report.json");
    let extra = [
        "--script",
        script.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--size",
        "320x240",
    ];
    let (code, stderr) = bot(args(
        &url,
        "test@startup.com",
        "password123",
        "All Users Weekly Sync",
        &extra,
    ))
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        error_line(&stderr).contains("sees 5 participants"),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["expectations"][0]["name"], "sees 5 participants");
    assert_eq!(json["expectations"][0]["ok"], false);
    assert!(json["timings_ms"]["joined"].as_u64().is_some());
    tokio::time::sleep(Duration::from_millis(10)).await;
    s.server.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_until_met_the_bot_leaves_once_it_has_seen_all_it_expects() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.toml");
    let expect = "[[expect]]\nchat_seen = \"bye\"\n[[expect]]\nseen_leave = \"Test Corporate\"\n";
    std::fs::write(&script, expect).unwrap();
    let report = dir.path().join("report.json");
    // 120 s is only the limit: it must leave when the other one does.
    let mut all = startup_for(&s.url(), 120);
    let extra = ["--until-met", "--video", "none", "--audio", "none"];
    all.extend(extra.iter().map(|a| a.to_string()));
    all.extend(["--script".into(), script.to_str().unwrap().into()]);
    all.extend(["--report".into(), report.to_str().unwrap().into()]);
    let waiting = tokio::spawn(bot(all));
    wait_for_someone_in(&s, "All Users Weekly Sync").await;

    let mut other = huddle_bot::BotOptions::new(
        &s.url(),
        "test@corporate.com",
        "password123",
        "All Users Weekly Sync",
    );
    other.video = huddle_bot::VideoChoice::None;
    other.audio = huddle_bot::AudioChoice::None;
    other.duration = Duration::from_secs(30);
    let steps = "[[at]]\ntime = 0.5\nchat = \"bye\"\n[[at]]\ntime = 1.0\naction = \"leave\"\n";
    other.script = huddle_bot::Script::parse(steps).unwrap();
    huddle_bot::run(other).await.expect("the other bot ran");

    let (code, stderr) = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the bot left once it had seen it all, long before its 120 s")
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let names: Vec<&str> = json["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ok"] == true)
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["chat \"bye\" seen", "Test Corporate seen leaving"]);

    // A script with nothing to wait for is refused, not run to no end.
    std::fs::write(&script, "").unwrap();
    let mut all = startup_for(&s.url(), 120);
    all.extend([
        "--until-met".into(),
        "--script".into(),
        script.to_str().unwrap().into(),
    ]);
    let (code, stderr) = bot(all).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        error_line(&stderr).contains("--until-met needs"),
        "{stderr}"
    );
    s.server.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_bots_in_one_process_each_send_their_own_tone_and_fail_together() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.toml");
    // Each of the three is in a room of three, so "at least four" fails for each.
    std::fs::write(&script, "[[expect]]\nparticipants_at_least = 4\n").unwrap();
    let report = dir.path().join("report.json");
    let mut all = startup_for(&s.url(), 6);
    let extra = [
        "--bots", "3", "--audio", "tone:440", "--size", "320x180", "--fps", "10",
    ];
    all.extend(extra.iter().map(|a| a.to_string()));
    all.extend(["--script".into(), script.to_str().unwrap().into()]);
    all.extend(["--report".into(), report.to_str().unwrap().into()]);
    let (code, stderr) = bot(all).await;

    // One failure line per bot, and exit 1: the run failed as a whole.
    assert_eq!(code, 1, "{stderr}");
    let failures = stderr
        .lines()
        .filter(|l| l.starts_with("huddle-bot: expectation failed"))
        .count();
    assert_eq!(failures, 3, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let bots = json["bots"].as_array().expect("a {\"bots\": [...]} report");
    assert_eq!(bots.len(), 3);
    // Bot n sends 440 + 110·n Hz; each hears the other two's.
    let tone = |n: usize| 440.0 + 110.0 * n as f64;
    for (n, report) in bots.iter().enumerate() {
        let mut heard: Vec<f64> = report["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["audio"]["dominant_hz"].as_f64().unwrap_or(0.0))
            .collect();
        heard.sort_by(f64::total_cmp);
        let expected: Vec<f64> = (0..3).filter(|&m| m != n).map(tone).collect();
        assert_eq!(heard.len(), 2, "bot {n} saw {heard:?}");
        for (got, want) in heard.iter().zip(&expected) {
            assert!(
                (got - want).abs() < 10.0,
                "bot {n} heard {heard:?}, not {expected:?}"
            );
        }
        assert_eq!(report["expectations"][0]["ok"], false);
    }
    s.server.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_freezes_is_reported_disconnected_then_failed() {
    use std::io::BufRead;
    // The server waits a minute before it takes a silent client for gone:
    // the peer's media dies while its signaling looks alive.
    let s = common::server_with(|c| c.heartbeat_timeout = Duration::from_secs(60)).await;
    let all = startup_for(&s.url(), 60);
    let mut frozen = Command::new(BOT);
    frozen
        .args(all)
        .args(["--size", "320x180", "--fps", "10", "--live"])
        .env_remove("DISPLAY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut frozen = common::Reaper(frozen.spawn().unwrap());
    let mut watcher = huddle_bot::BotOptions::new(
        &s.url(),
        "test@corporate.com",
        "password123",
        "All Users Weekly Sync",
    );
    watcher.duration = Duration::from_secs(20);
    watcher.width = 320;
    watcher.height = 180;
    let watcher = tokio::spawn(huddle_bot::run(watcher));
    // The frozen-to-be bot's status line shows the watcher's video arriving:
    // the call is up. Then the process stops dead, as a laptop lid closing.
    let stdout = frozen.0.stdout.take().unwrap();
    let pid = frozen.0.id() as i32;
    tokio::task::spawn_blocking(move || {
        let receiving = |line: &str| line.contains("Test Corporate:") && !line.contains(": 0 fps");
        let mut lines = std::io::BufReader::new(stdout).lines();
        assert!(
            lines.any(|line| receiving(&line.unwrap())),
            "the call never came up"
        );
        // SAFETY: a plain kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
    })
    .await
    .unwrap();
    let report = watcher.await.unwrap().unwrap();
    let events: Vec<&str> = report.events.iter().map(|e| e.event.as_str()).collect();
    let at = |what: &str| events.iter().position(|e| *e == what);
    let (disconnected, failed) = (
        at("link to Test Startup Disconnected"),
        at("link to Test Startup Failed"),
    );
    assert!(
        disconnected.is_some() && failed > disconnected,
        "{events:#?}"
    );
    let peer = report.peer("Test Startup").unwrap();
    assert!(!peer.left, "still in the room as far as the server knows");
    // SAFETY: as above; the reaper kills it after.
    unsafe { libc::kill(pid, libc::SIGCONT) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_given_emails_are_each_a_person_of_their_own() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut all = startup_for(&s.url(), 4);
    let extra = [
        "--emails",
        "test@startup.com,test@corporate.com",
        "--size",
        "320x180",
    ];
    all.extend(extra.iter().map(|a| a.to_string()));
    all.extend(["--report".into(), report.to_str().unwrap().into()]);
    let (code, stderr) = bot(all).await;
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let bots = json["bots"].as_array().expect("one report per email");
    let names: Vec<&str> = bots.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Test Startup", "Test Corporate"]);
    for (report, other) in bots.iter().zip(["Test Corporate", "Test Startup"]) {
        let seen = report["peers"][0]["name"].as_str();
        assert_eq!(seen, Some(other), "each sees the other by name");
    }
    let mut too_few = startup_for(&s.url(), 1);
    too_few.extend(["--bots", "3", "--emails", "test@startup.com"].map(String::from));
    let (code, stderr) = bot(too_few).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        error_line(&stderr).contains("--bots 3 needs 3 --emails"),
        "{stderr}"
    );
    s.server.unwrap().shutdown().await;
}
