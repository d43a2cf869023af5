//! HTTPS and WSS end to end: huddle-signal serving TLS with a certificate
//! from a CA made in the test; bots and the app trusting that CA; and a
//! wrong CA or a wrong host name each refused in one line that says so.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use huddle_bot::{self as bot, BotOptions};
use huddle_desktop::app::{Screen, StartOptions};
use huddle_engine::{ApiClient, SignalSession, Trust};
use huddle_tests::app_harness::{log_in, start_app, wait_until};
use huddle_tests::*;
use std::time::Duration;

fn bot(server: &TestServer, email: &str, colour: (u8, u8, u8), hz: f32) -> BotOptions {
    let mut options = BotOptions::new(&server.url(), email, PASSWORD, ALL_USERS);
    options.trust = server.trust.clone();
    options.duration = Duration::from_secs(5);
    options.width = 320;
    options.height = 180;
    options.fps = 15.0;
    options.colour = colour;
    options.audio = bot::AudioChoice::Tone(hz);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_hold_a_call_over_https_and_wss() {
    let server = TestServer::start_tls().await;
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    assert!(server.ws_url().starts_with("wss://"), "{}", server.ws_url());
    let ann = tokio::spawn(bot::run(bot(&server, STARTUP, (200, 40, 40), 440.0)));
    let bob = tokio::spawn(bot::run(bot(&server, CORPORATE, (40, 40, 200), 660.0)));
    let (ann, bob) = (ann.await.unwrap().unwrap(), bob.await.unwrap().unwrap());
    for (report, other, hz) in [
        (&ann, "Test Corporate", 660.0),
        (&bob, "Test Startup", 440.0),
    ] {
        let peer = report
            .peer(other)
            .unwrap_or_else(|| panic!("{} never saw {other}", report.name));
        assert!(
            peer.video.frames_decoded >= 20,
            "{} decoded {} frames from {other}",
            report.name,
            peer.video.frames_decoded
        );
        huddle_tests::bots::assert_hears(report, other, &peer.audio, hz);
    }
}

#[tokio::test]
async fn a_server_the_client_cannot_trust_is_refused_naming_the_host_and_the_reason() {
    let server = TestServer::start_tls().await;
    // The system's roots do not include the test CA: REST and WSS both say so.
    let mut stranger = ApiClient::new(&server.url()).unwrap();
    let err = stranger.login(STARTUP, PASSWORD).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate for 127.0.0.1 is issued by an unknown authority"
    );
    assert!(err.is_tls());
    let api = server.login(STARTUP).await;
    let token = api.token().unwrap();
    let err = SignalSession::connect(&server.ws_url(), token, &Trust::system())
        .await
        .err()
        .expect("the WebSocket is refused too");
    assert_eq!(
        err.to_string(),
        "certificate for 127.0.0.1 is issued by an unknown authority"
    );

    // The right CA, but a name the certificate was not issued for.
    let by_name = server.url().replace("127.0.0.1", "localhost");
    let mut misnamed = ApiClient::with_trust(&by_name, server.trust.clone()).unwrap();
    let err = misnamed.login(STARTUP, PASSWORD).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate for localhost is not valid for that name"
    );
    let err = SignalSession::connect(
        &format!("{}/ws", by_name.replace("https", "wss")),
        token,
        &server.trust,
    )
    .await
    .err()
    .expect("the WebSocket is refused too");
    assert_eq!(
        err.to_string(),
        "certificate for localhost is not valid for that name"
    );

    // https:// to a plain server: no TLS there.
    let plain = TestServer::start().await;
    let mut confused = ApiClient::new(&plain.url().replace("http://", "https://")).unwrap();
    let err = confused.login(STARTUP, PASSWORD).await.unwrap_err();
    assert!(err.to_string().contains("does not speak TLS"), "{err}");
}

#[test]
fn the_app_logs_in_over_https_with_a_private_ca_setting() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start_tls());
    let start = StartOptions {
        server: Some(server.url()),
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    harness.run_steps(2);
    // Without the CA: the login screen says which certificate and why.
    log_in(&mut harness, Some(STARTUP), PASSWORD);
    wait_until(&mut harness, "the certificate error", |h| {
        h.query_by_label_contains("issued by an unknown authority")
            .is_some()
    });
    assert_eq!(harness.state().screen(), Screen::Login);
    // With the CA file in its field: logged in, and the dashboard lists meetings.
    let ca = server
        .ca_file
        .as_ref()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let field = harness.get_by_role_and_label(Role::TextInput, "Private CA file (optional)");
    field.focus();
    field.type_text(&ca);
    harness.step();
    log_in(&mut harness, None, PASSWORD);
    wait_until(&mut harness, "the dashboard over https", |h| {
        h.query_by_label(ALL_USERS).is_some()
    });
    assert_eq!(harness.state().screen(), Screen::Dashboard);
    assert_eq!(harness.state().settings.ca_cert, ca, "the setting is kept");
}
