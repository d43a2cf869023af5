//! One participant's chat cannot lock the others out of a meeting: the
//! attack from issue 12 (messages of escaped control characters, long CJK
//! messages) is refused or trimmed to fit, for huddle-bot and for the app,
//! before and after a server restart.

use egui_kittest::kittest::Queryable;
use huddle_bot::{self as bot, BotOptions, Report};
use huddle_desktop::app::{Screen, StartOptions};
use huddle_tests::app_harness::{start_app, wait_until};
use huddle_tests::*;
use shared::ErrorCode;
use shared::protocol::MAX_FRAME_BYTES;
use shared::{ClientMsg, ServerMsg};
use std::time::Duration;

const LAST_WORD: &str = "the last word";

#[test]
fn a_flood_of_escaped_and_cjk_chat_leaves_the_meeting_joinable() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut server = runtime.block_on(TestServer::start_with(|config| {
        config.limits.chat_per_second = 1000;
        config.limits.chat_burst = 1000;
    }));
    let meeting = runtime.block_on(flood(&server));
    let title = meeting.to_string();

    let report = runtime
        .block_on(bot::run(bot_options(&server, &title)))
        .unwrap();
    assert_joined_with_history(&report);
    app_joins_and_reads_the_last_word(&server, &title);

    runtime.block_on(server.restart());
    let report = runtime
        .block_on(bot::run(bot_options(&server, &title)))
        .unwrap();
    assert_joined_with_history(&report);
    app_joins_and_reads_the_last_word(&server, &title);
    runtime.block_on(server.stop());
}

/// The attack: twelve 4000-character messages of `\u0001` (refused), fifty
/// CJK messages just under the limit (stored), and, as a server from before
/// the limits would have stored them, twelve hostile messages in the database.
async fn flood(server: &TestServer) -> shared::MeetingId {
    let api = server.login(STARTUP).await;
    let meeting = server.open_meeting(&api, "Flooded").await;
    let mut vandal = RawClient::hello(server, api.token().unwrap()).await;
    vandal
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    assert!(matches!(vandal.recv().await, ServerMsg::Joined { .. }));
    let escapes = "\u{1}".repeat(4000);
    for _ in 0..12 {
        vandal
            .send(&ClientMsg::Chat {
                text: escapes.clone(),
            })
            .await;
        match vandal.recv().await {
            ServerMsg::Error { code, message } => {
                assert_eq!(code, ErrorCode::BadRequest, "{message}");
                assert!(message.contains("U+0001"), "{message}");
            }
            other => panic!("a control-character flood was accepted: {other:?}"),
        }
    }
    let cjk = "会".repeat(1365); // 4095 bytes
    for _ in 0..50 {
        vandal.send(&ClientMsg::Chat { text: cjk.clone() }).await;
        assert!(matches!(vandal.recv().await, ServerMsg::ChatMessage(_)));
    }
    let user = api.me().await.unwrap().id;
    // Straight into the store, past the checks a message sent now goes through.
    let store = &server.app().chat;
    for text in std::iter::repeat_n(escapes.as_str(), 12).chain([LAST_WORD]) {
        let name = "Vandal".to_string();
        store
            .insert(meeting, user, name, text.into())
            .await
            .unwrap();
    }
    meeting
}

fn bot_options(server: &TestServer, meeting: &str) -> BotOptions {
    let mut options = BotOptions::new(&server.url(), CORPORATE, PASSWORD, meeting);
    options.duration = Duration::from_secs(1);
    options.width = 160;
    options.height = 90;
    options
}

fn assert_joined_with_history(report: &Report) {
    assert!(report.timings_ms.joined.is_some(), "the bot joined");
    let last = report.chat.last().expect("the bot got chat history");
    assert_eq!(last.text, LAST_WORD, "the newest message comes first");
    let history_bytes: usize = report.chat.iter().map(|line| line.text.len()).sum();
    assert!(
        history_bytes < MAX_FRAME_BYTES,
        "the history was trimmed to fit: {history_bytes} bytes"
    );
}

fn app_joins_and_reads_the_last_word(server: &TestServer, meeting: &str) {
    let start = StartOptions {
        server: Some(server.url()),
        email: Some(STARTUP.into()),
        password: Some(PASSWORD.into()),
        join: Some(meeting.into()),
        join_muted: true,
        join_camera_off: true,
        ..StartOptions::default()
    };
    let mut harness = start_app(start);
    wait_until(&mut harness, "the room", |h| {
        h.state().screen() == Screen::Room
    });
    wait_until(&mut harness, "the chat history", |h| {
        h.state()
            .room()
            .and_then(|room| room.chat.last())
            .is_some_and(|message| message.text == LAST_WORD)
    });
    harness.get_by_label("Leave").click();
    wait_until(&mut harness, "the dashboard", |h| {
        h.state().screen() == Screen::Dashboard
    });
}
