//! The waiting room on a real server: those it covers knock and wait in
//! the lobby, the hosts see them, and a host lets them in or turns them away.

use huddle_engine::ApiClient;
use huddle_engine::signaling::SignalSession;
use huddle_tests::bots::bot;
use huddle_tests::*;
use shared::api::{CreateMeeting, Visibility, WaitingRoom};
use shared::{ClientMsg, HostAction, MeetingId, ServerMsg};

const TITLE: &str = "Interviews";

/// Ann (Test Startup) makes a meeting for everyone on the server whose
/// waiting room covers `covers`, inviting `invitees`.
async fn meeting_with_lobby(
    api: &ApiClient,
    covers: WaitingRoom,
    invitees: Vec<String>,
) -> MeetingId {
    let request = CreateMeeting {
        title: TITLE.into(),
        starts_at: None,
        duration_minutes: 30,
        visibility: Visibility::AllUsers,
        invitees,
        topology: Default::default(),
        waiting_room: covers,
    };
    api.create_meeting(&request).await.expect("created").id
}

/// The lobby as the host was last told, by name.
async fn lobby_news(host: &mut SignalSession) -> Vec<String> {
    match wait_for(host, "the lobby", |m| matches!(m, ServerMsg::Lobby { .. })).await {
        ServerMsg::Lobby { waiting } => waiting.into_iter().map(|p| p.name).collect(),
        _ => unreachable!(),
    }
}

async fn knocks(session: &mut SignalSession, meeting: MeetingId) {
    session
        .send(ClientMsg::Join {
            meeting_id: meeting,
        })
        .await
        .unwrap();
    let answer = wait_for(session, "the answer to join", |m| {
        matches!(m, ServerMsg::Waiting { .. } | ServerMsg::Joined { .. })
    })
    .await;
    assert_eq!(
        answer,
        ServerMsg::Waiting {
            meeting_id: meeting
        },
        "waits in the lobby"
    );
}

/// Bob knocks; Ann, hosting, lets him in after a second; both see each
/// other's media, and Bob's report says how long he waited.
#[tokio::test]
async fn a_knock_is_seen_by_the_host_who_lets_them_in() {
    let server = TestServer::start().await;
    meeting_with_lobby(&server.login(STARTUP).await, WaitingRoom::Uninvited, vec![]).await;
    let ann_script = r#"
        [[at]]
        time = 2.0
        admit = "Test Corporate"
        [[expect]]
        knocked = "Test Corporate"
        [[expect]]
        video_from = "Test Corporate"
    "#;
    let bob_script = "[[expect]]\nvideo_from = \"Test Startup\"\n";
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 7.0, ann_script);
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 5.0, bob_script);
    ann.meeting = TITLE.into();
    bob.meeting = TITLE.into();
    let (ann, bob) = tokio::join!(huddle_bot::run(ann), async {
        server.wait_for_participants(TITLE, 1).await;
        huddle_bot::run(bob).await
    });
    let (ann, bob) = (ann.unwrap(), bob.expect("let in"));
    for report in [&ann, &bob] {
        let failed = report.failed_expectations();
        assert!(failed.is_empty(), "{}: {failed:?}", report.name);
    }
    assert_eq!(ann.knocked, ["Test Corporate"]);
    let waited = bob.waited_in_lobby_ms.expect("Bob waited");
    assert!(waited >= 800, "let in at Ann's 2 s, Bob waited {waited} ms");
    assert_eq!(ann.waited_in_lobby_ms, None, "the host walks in");
    assert_eq!(
        bob.host_notices,
        Vec::<String>::new(),
        "the admission is the join itself"
    );
}

/// Bob knocks and Ann turns him away: the bot fails, saying who did it.
#[tokio::test]
async fn a_host_turns_a_knocker_away() {
    let server = TestServer::start().await;
    meeting_with_lobby(&server.login(STARTUP).await, WaitingRoom::Everyone, vec![]).await;
    let mut ann = bot(
        &server,
        STARTUP,
        440.0,
        (200, 40, 40),
        4.0,
        "[[at]]\ntime = 0.5\ndeny = \"Test Corporate\"\n",
    );
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 4.0, "");
    ann.meeting = TITLE.into();
    bob.meeting = TITLE.into();
    let (ann, bob) = tokio::join!(huddle_bot::run(ann), async {
        server.wait_for_participants(TITLE, 1).await;
        huddle_bot::run(bob).await
    });
    let refusal = bob.expect_err("turned away").to_string();
    assert!(
        refusal.contains("Test Startup did not let you in"),
        "{refusal}"
    );
    assert_eq!(ann.unwrap().knocked, ["Test Corporate"]);
}

/// Who waits: the uninvited (not the invited) under `uninvited`; everyone
/// but the host under `everyone`. A knock before any host is there is
/// shown to the host who comes; one who gives up leaves the lobby.
#[tokio::test]
async fn the_setting_says_who_waits_and_the_lobby_follows_them() {
    let server = TestServer::start().await;
    let ann_api = server.login(STARTUP).await;
    let invited =
        meeting_with_lobby(&ann_api, WaitingRoom::Uninvited, vec![CORPORATE.into()]).await;
    let mut bob = server.connect(&server.login(CORPORATE).await).await;
    let walks_in = tokio::time::timeout(PATIENCE, bob.join(invited)).await;
    walks_in.expect("the invited do not wait").expect("joined");
    bob.send(ClientMsg::Leave).await.unwrap();

    let everyone =
        meeting_with_lobby(&ann_api, WaitingRoom::Everyone, vec![CORPORATE.into()]).await;
    knocks(&mut bob, everyone).await;
    assert!(
        server.app().hub.participants_of(everyone).is_empty(),
        "nobody is in the room"
    );
    let mut ann = server.connect(&ann_api).await;
    ann.join(everyone).await.expect("the host walks in");
    assert_eq!(
        lobby_news(&mut ann).await,
        ["Test Corporate"],
        "told at once who waits"
    );
    let msg = ClientMsg::Chat {
        text: "let me in".into(),
    };
    bob.send(msg).await.unwrap();
    wait_for(&mut bob, "no chat from the lobby", |m| {
        matches!(m, ServerMsg::Error { .. })
    })
    .await;

    bob.close().await;
    assert_eq!(
        lobby_news(&mut ann).await,
        Vec::<String>::new(),
        "gone from the lobby"
    );
    let mut bob = server.connect(&server.login(CORPORATE).await).await;
    knocks(&mut bob, everyone).await;
    assert_eq!(lobby_news(&mut ann).await, ["Test Corporate"]);
    ann.send(ClientMsg::Host(HostAction::Admit {
        peer: bob.peer_id(),
    }))
    .await
    .unwrap();
    wait_for(&mut bob, "let in", |m| {
        matches!(m, ServerMsg::Moderated { .. })
    })
    .await;
    let joined = tokio::time::timeout(PATIENCE, bob.join(everyone)).await;
    let joined = joined.expect("no second wait").expect("in once admitted");
    assert_eq!(joined.participants.len(), 1);
}
