//! The config's layers and its errors, from the command line and files.

use super::*;

/// The command line alone: the `HUDDLE_*` variables of whoever runs the
/// tests are not read (the binary's tests cover that layer).
fn args(list: &[&str]) -> Args {
    use clap::{CommandFactory, FromArgMatches};
    let command = Args::command().mut_args(|arg| arg.env(None::<&'static str>));
    let matches =
        command.get_matches_from(std::iter::once("huddle-signal").chain(list.iter().copied()));
    Args::from_arg_matches(&matches).unwrap()
}

fn file_config(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    std::fs::write(&path, text).unwrap();
    Config::from_args(args(&["--config", path.to_str().unwrap()]))
}

#[test]
fn a_bad_config_file_is_an_error_saying_what_is_wrong() {
    let err = Config::from_args(args(&["--config", "/nonexistent/huddle.toml"])).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/huddle.toml"),
        "{err}"
    );
    let err = file_config("listen = \"127.0.0.1:1\n").unwrap_err();
    assert!(
        matches!(err, ConfigError::Parse { .. }),
        "malformed TOML: {err}"
    );
    let err = file_config("heartbeat_interval_ms = \"often\"\n").unwrap_err();
    assert!(
        err.to_string().contains("heartbeat_interval_ms"),
        "a wrong type names the setting: {err}"
    );
    let err = file_config("[limits]\nroom_size = -3\n").unwrap_err();
    assert!(err.to_string().contains("room_size"), "{err}");
}

#[test]
fn a_heartbeat_timeout_not_longer_than_the_interval_is_refused() {
    let err =
        file_config("heartbeat_interval_ms = 3000\nheartbeat_timeout_ms = 3000\n").unwrap_err();
    assert!(matches!(err, ConfigError::Heartbeat { .. }), "{err}");
    let flags = args(&[
        "--heartbeat-interval-ms",
        "500",
        "--heartbeat-timeout-ms",
        "2000",
    ]);
    let config = Config::from_args(flags).unwrap();
    assert_eq!(config.heartbeat_timeout, Duration::from_secs(2));
}

#[test]
fn flags_override_the_file_and_the_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    std::fs::write(
        &path,
        r#"
listen = "127.0.0.1:9000"
db = "/var/lib/huddle.db"
allow_registration = false
[[ice_servers]]
urls = ["turn:turn.example.org:3478"]
username = "u"
credential = "c"
[limits]
chat_per_second = 9
"#,
    )
    .unwrap();
    let config = Config::from_args(args(&[
        "--config",
        path.to_str().unwrap(),
        "--listen",
        "0.0.0.0:7000",
        "--demo",
    ]))
    .unwrap();
    assert_eq!(config.listen, "0.0.0.0:7000".parse().unwrap());
    assert_eq!(config.db, PathBuf::from("/var/lib/huddle.db"));
    assert!(config.demo);
    assert_eq!(config.allow_registration, Some(false));
    assert!(!config.registration_open());
    assert_eq!(config.ice_servers[0].username.as_deref(), Some("u"));
    assert_eq!(config.limits.chat_per_second, 9);
    assert_eq!(config.limits.chat_burst, Limits::default().chat_burst);
}

#[test]
fn an_unknown_setting_in_the_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    std::fs::write(&path, "listne = \"127.0.0.1:1\"\n").unwrap();
    let err = Config::from_args(args(&["--config", path.to_str().unwrap()])).unwrap_err();
    assert!(err.to_string().contains("listne"), "{err}");
}

#[test]
fn registration_is_open_only_on_a_demo_server_unless_set() {
    assert!(!Config::from_args(args(&[])).unwrap().registration_open());
    assert!(
        Config::from_args(args(&["--demo"]))
            .unwrap()
            .registration_open()
    );
    let set = Config::from_args(args(&["--allow-registration", "true"])).unwrap();
    assert!(set.registration_open());
}

#[test]
fn tls_and_trusted_proxies_are_read_and_checked() {
    let config = Config::from_args(args(&[
        "--tls-cert",
        "/etc/huddle/cert.pem",
        "--tls-key",
        "/etc/huddle/key.pem",
        "--trusted-proxy",
        "127.0.0.1,198.18.0.0/15",
    ]))
    .unwrap();
    assert_eq!(
        config.tls.unwrap().key,
        PathBuf::from("/etc/huddle/key.pem")
    );
    assert_eq!(config.trusted_proxies.len(), 2);
    assert!(config.trusted_proxies[0].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
    let err = Config::from_args(args(&["--trusted-proxy", "the office"])).unwrap_err();
    assert!(err.to_string().contains("the office"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    std::fs::write(&path, "tls_cert = \"/c.pem\"\n").unwrap();
    let err = Config::from_args(args(&["--config", path.to_str().unwrap()])).unwrap_err();
    assert!(err.to_string().contains("tls_key"), "{err}");
}

#[test]
fn comma_separated_ice_urls_become_servers() {
    let config = Config::from_args(args(&["--ice-servers", "stun:a:3478,stun:b:3478"])).unwrap();
    assert_eq!(config.ice_servers.len(), 2);
    assert_eq!(config.ice_servers[1].urls, vec!["stun:b:3478".to_string()]);
}

#[test]
fn session_ttl_hours_sets_how_long_a_login_lasts() {
    assert_eq!(
        Config::from_args(args(&[])).unwrap().session_ttl,
        Duration::from_secs(720 * 3600)
    );
    let config = Config::from_args(args(&["--session-ttl-hours", "3"])).unwrap();
    assert_eq!(config.session_ttl, Duration::from_secs(3 * 3600));
    assert_eq!(
        file_config("session_ttl_hours = 5\n").unwrap().session_ttl,
        Duration::from_secs(5 * 3600)
    );
}

#[test]
fn a_turn_table_is_read_and_a_broken_one_refused_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        Config::from_args(args(&["--config", path.to_str().unwrap()]))
    };
    let config = read("[turn]\nurls = [\"turn:198.18.0.1:3478\"]\nsecret = \"s3cret\"\n").unwrap();
    let turn = config.turn.expect("the table is read");
    assert_eq!(turn.urls, ["turn:198.18.0.1:3478"]);
    assert_eq!(turn.ttl_s, 24 * 3600, "a day unless set");
    let empty_secret = read("[turn]\nurls = [\"turn:198.18.0.1\"]\nsecret = \"\"\n").unwrap_err();
    assert!(
        empty_secret.to_string().contains("secret is empty"),
        "{empty_secret}"
    );
    let typo = read("[turn]\nurls = [\"turn:198.18.0.1\"]\nsecret = \"s\"\nttl = 5\n").unwrap_err();
    assert!(typo.to_string().contains("ttl"), "{typo}");
}

#[test]
fn the_readme_example_config_is_valid() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README");
    let example = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block in the README");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    std::fs::write(&path, example).unwrap();
    let config = Config::from_args(args(&["--config", path.to_str().unwrap()])).unwrap();
    assert_eq!(config.turn.expect("the example has a relay").ttl_s, 86_400);
    assert_eq!(config.ice_servers.len(), 1);
    assert_eq!(config.sfu.expect("the example has Janus").mesh_max, 4);
}

#[test]
fn an_sfu_table_is_read_and_a_broken_one_refused_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huddle.toml");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        Config::from_args(args(&["--config", path.to_str().unwrap()]))
    };
    let table = "[sfu]\njanus_url = \"ws://127.0.0.1:8188\"\napi_secret = \"s3cret\"\n";
    let sfu = read(table).unwrap().sfu.expect("the table is read");
    assert_eq!(sfu.janus_url, "ws://127.0.0.1:8188");
    assert_eq!(sfu.mesh_max, 4, "four unless set");
    assert!(
        !format!("{sfu:?}").contains("s3cret"),
        "the secret stays out of logs"
    );
    let refusals = [
        (
            "[sfu]\njanus_url = \"http://127.0.0.1:8088/janus\"\napi_secret = \"s\"\n",
            "WebSocket API",
        ),
        (
            "[sfu]\njanus_url = \"ws://127.0.0.1:8188\"\napi_secret = \" \"\n",
            "api_secret is empty",
        ),
        (&format!("{table}mesh_max = 0\n"), "at least 1"),
        (&format!("{table}mesh = 5\n"), "mesh"),
    ];
    for (text, says) in refusals {
        let error = read(text).unwrap_err();
        assert!(error.to_string().contains(says), "{text}: {error}");
    }
}
