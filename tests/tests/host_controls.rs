//! A meeting run by its host, on a real server: what only hosts may do,
//! each action reaching the one concerned in words and carried out, a
//! removal that holds across a restart until readmitted, a locked room,
//! and the meeting ended for everyone.
use huddle_engine::signaling::SignalSession;
use huddle_tests::bots::{bot, new_user, third_user};
use huddle_tests::*;
use shared::{ClientMsg, ErrorCode, HostAction, Role, ServerMsg};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The third person (Test Startup created the all-users meeting, so hosts it).
const CAT: &str = "qa@huddle.test";

async fn refused(session: &mut SignalSession, msg: ClientMsg) -> (ErrorCode, String) {
    session.send(msg).await.unwrap();
    match wait_for(session, "an error", |m| {
        matches!(m, ServerMsg::Error { .. })
    })
    .await
    {
        ServerMsg::Error { code, message } => (code, message),
        _ => unreachable!(),
    }
}

/// The next message is the chat `text`: nothing else arrived before it.
async fn next_is_the_chat(session: &mut SignalSession, text: &str) {
    let next = wait_for(session, "the next message", |_| true).await;
    assert!(
        matches!(&next, ServerMsg::ChatMessage(m) if m.text == text),
        "something came before the chat: {next:?}"
    );
}

/// Ann (the host), Bob and Cat in the all-users meeting, each on a live session.
async fn three_in_the_meeting(server: &TestServer) -> [SignalSession; 3] {
    third_user(server).await;
    let ann_api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&ann_api, ALL_USERS).await;
    let mut ann = server.connect(&ann_api).await;
    let joined = ann.join(meeting).await.unwrap();
    assert_eq!(joined.role, Role::Host, "the creator hosts");
    let mut bob = server.connect(&server.login(CORPORATE).await).await;
    assert_eq!(bob.join(meeting).await.unwrap().role, Role::Participant);
    let mut cat = server.connect(&server.login(CAT).await).await;
    cat.join(meeting).await.unwrap();
    [ann, bob, cat]
}

#[tokio::test]
async fn every_host_action_from_a_participant_is_forbidden_and_unseen() {
    let server = TestServer::start().await;
    let [mut ann, mut bob, mut cat] = three_in_the_meeting(&server).await;
    let (a, c) = (ann.peer_id(), cat.peer_id());

    // Every action from a participant: forbidden, and nobody hears of it.
    let actions = [
        HostAction::Mute { peer: c },
        HostAction::AskUnmute { peer: c },
        HostAction::AskVideo { peer: c },
        HostAction::StopVideo { peer: c },
        HostAction::StopScreen { peer: c },
        HostAction::Remove { peer: a },
        HostAction::Readmit {
            user: shared::UserId(1),
        },
        HostAction::MakeCohost { peer: c },
        HostAction::RevokeCohost { peer: c },
        HostAction::Lock,
        HostAction::Unlock,
        HostAction::EndForAll,
    ];
    for action in actions {
        let (code, message) = refused(&mut bob, ClientMsg::Host(action)).await;
        assert_eq!(code, ErrorCode::Forbidden, "{action:?}: {message}");
    }
    // Ann and Cat are still told of joins in order, so the chat after the
    // refusals is the first thing either hears.
    drain(&mut ann, Duration::from_millis(200)).await;
    drain(&mut cat, Duration::from_millis(200)).await;
    bob.send(ClientMsg::Chat {
        text: "after".into(),
    })
    .await
    .unwrap();
    next_is_the_chat(&mut ann, "after").await;
    next_is_the_chat(&mut cat, "after").await;
    let meeting = server.app().hub.room_of(a).expect("in the room");
    assert_eq!(server.app().hub.participants_of(meeting).len(), 3);
}

/// Bob made a co-host: he may mute Cat, but not the host, and he makes no co-hosts.
#[tokio::test]
async fn a_cohost_runs_the_meeting_but_cannot_touch_the_host() {
    let server = TestServer::start().await;
    let [mut ann, mut bob, mut cat] = three_in_the_meeting(&server).await;
    let (a, c) = (ann.peer_id(), cat.peer_id());
    ann.send(ClientMsg::Host(HostAction::MakeCohost {
        peer: bob.peer_id(),
    }))
    .await
    .unwrap();
    let told = wait_for(&mut bob, "being made a co-host", |m| {
        matches!(m, ServerMsg::Moderated { .. })
    })
    .await;
    let ServerMsg::Moderated {
        by_name, action, ..
    } = told
    else {
        unreachable!()
    };
    assert_eq!(action.told(&by_name), "Test Startup made you a co-host");
    let updated = wait_for(&mut cat, "bob's new role", |m| {
        matches!(m, ServerMsg::ParticipantUpdated { .. })
    })
    .await;
    assert!(
        matches!(updated, ServerMsg::ParticipantUpdated { participant } if participant.role == Role::Cohost)
    );
    bob.send(ClientMsg::Host(HostAction::Mute { peer: c }))
        .await
        .unwrap();
    wait_for(&mut cat, "muted by the co-host", |m| {
        matches!(m, ServerMsg::Moderated { action: HostAction::Mute { .. }, by_name, .. } if by_name == "Test Corporate")
    })
    .await;
    let (code, message) = refused(&mut bob, ClientMsg::Host(HostAction::Mute { peer: a })).await;
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::Forbidden, "a co-host cannot do that to the host")
    );
    let (code, _) = refused(
        &mut bob,
        ClientMsg::Host(HostAction::MakeCohost { peer: c }),
    )
    .await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = refused(&mut ann, ClientMsg::Host(HostAction::Mute { peer: a })).await;
    assert_eq!(code, ErrorCode::BadRequest, "not on yourself");
}

/// Ann mutes Bob, stops his screen share, turns his camera off and asks
/// for it back; Bob is told each in words, his engine carries them out, and
/// he unmutes himself.
#[tokio::test]
async fn a_host_mutes_and_stops_a_camera_and_the_participant_is_told_in_words() {
    let server = TestServer::start().await;
    let ann_script = r#"
        [[at]]
        time = 2.5
        host = { mute = "Test Corporate" }
        [[at]]
        time = 2.8
        host = { stop_screen = "Test Corporate" }
        [[at]]
        time = 3.0
        host = { stop_video = "Test Corporate" }
        [[at]]
        time = 3.5
        host = { ask_video = "Test Corporate" }
        [[expect]]
        seen_muted = "Test Corporate"
        [[expect]]
        seen_video_off = "Test Corporate"
        [[expect]]
        screen_from = "Test Corporate"
    "#;
    let bob_script = r#"
        [[at]]
        time = 0.5
        action = "share_start"
        [[at]]
        time = 5.0
        action = "unmute"
        [[expect]]
        host_notice = "Test Startup turned off your camera"
    "#;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 8.0, ann_script);
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 8.0, bob_script);
    let (ann, bob) = tokio::join!(huddle_bot::run(ann), async {
        server.wait_for_participants(ALL_USERS, 1).await;
        huddle_bot::run(bob).await
    });
    let ended_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    for report in [&ann, &bob] {
        assert!(
            report.failed_expectations().is_empty(),
            "{}: {:?}",
            report.name,
            report.failed_expectations()
        );
    }
    assert_eq!((ann.role, bob.role), (Role::Host, Role::Participant));
    assert_eq!(
        bob.host_notices,
        [
            "Test Startup muted your microphone",
            "Test Startup stopped your screen share",
            "Test Startup turned off your camera",
            "Test Startup asks you to turn on your camera",
        ]
    );
    assert!(!bob.removed && ann.host_notices.is_empty());
    bob_as_ann_last_saw_him(&ann, ended_ms);
}

/// Bob in Ann's report: unmuted by himself; his share and camera stopped,
/// and their frames stopped coming.
fn bob_as_ann_last_saw_him(ann: &huddle_bot::Report, ended_ms: u64) {
    let seen = ann
        .peers
        .iter()
        .find(|p| p.name == "Test Corporate")
        .unwrap();
    assert!(seen.state.audio, "unmuting stayed with Bob");
    assert!(!seen.state.screen, "his share stopped");
    let shared = seen
        .screen
        .last_frame
        .as_ref()
        .expect("his share came first");
    assert!(
        shared.decoded_unix_ms + 3_000 < ended_ms,
        "and stopped coming"
    );
    assert!(
        !seen.state.video,
        "the camera stayed off: only Bob may turn it on"
    );
    // His camera really stopped: nothing came in the last seconds of the call.
    let last = seen.video.last_frame.as_ref().expect("video came before");
    assert!(
        last.decoded_unix_ms + 2_500 < ended_ms,
        "frames came {} ms before the end",
        ended_ms - last.decoded_unix_ms
    );
}

/// Bob, removed, is sent out and told; he cannot join again, even after
/// a restart, until Ann readmits him.
#[tokio::test]
async fn a_removed_participant_stays_out_until_readmitted() {
    let mut server = TestServer::start().await;
    let ann_script = r#"
        [[at]]
        time = 2.5
        host = { remove = "Test Corporate" }
        [[expect]]
        seen_leave = "Test Corporate"
    "#;
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 5.0, ann_script);
    let bob = bot(
        &server,
        CORPORATE,
        660.0,
        (40, 200, 40),
        20.0,
        "[[expect]]\nremoved = true\n",
    );
    let (ann, bob) = tokio::join!(huddle_bot::run(ann), async {
        server.wait_for_participants(ALL_USERS, 1).await;
        huddle_bot::run(bob).await
    });
    let (ann, bob) = (ann.unwrap(), bob.unwrap());
    assert!(
        ann.failed_expectations().is_empty(),
        "{:?}",
        ann.failed_expectations()
    );
    assert!(
        bob.failed_expectations().is_empty(),
        "{:?}",
        bob.failed_expectations()
    );
    assert_eq!(
        bob.host_notices,
        ["Test Startup removed you from the meeting"]
    );

    let again = bot(&server, CORPORATE, 660.0, (40, 200, 40), 2.0, "");
    let refusal = huddle_bot::run(again.clone())
        .await
        .expect_err("refused")
        .to_string();
    assert!(refusal.contains("removed you"), "{refusal}");
    server.restart().await;
    let refusal = huddle_bot::run(again)
        .await
        .expect_err("still refused")
        .to_string();
    assert!(refusal.contains("removed you"), "{refusal}");

    ann_lets_him_back_in(&server).await;
}

/// Ann readmits Bob on her own connection (a bot readmits only whom it
/// saw), and he gets in again.
async fn ann_lets_him_back_in(server: &TestServer) {
    let bob_user = server
        .connect(&server.login(CORPORATE).await)
        .await
        .welcome()
        .user
        .id;
    let ann_api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&ann_api, ALL_USERS).await;
    let mut ann = server.connect(&ann_api).await;
    ann.join(meeting).await.unwrap();
    ann.send(ClientMsg::Host(HostAction::Readmit { user: bob_user }))
        .await
        .unwrap();
    server
        .wait_for_room(ALL_USERS, "ann alone", |room| room.len() == 1)
        .await;
    let mut back = bot(server, CORPORATE, 660.0, (40, 200, 40), 2.0, "");
    back.script = huddle_bot::Script::parse("[[expect]]\nparticipants_at_least = 2\n").unwrap();
    let mut tries = 0;
    let report = loop {
        // The readmission is stored as Ann's message is handled: retry a beat.
        match huddle_bot::run(back.clone()).await {
            Ok(report) => break report,
            Err(err) if tries < 20 => {
                tries += 1;
                assert!(err.to_string().contains("removed you"), "{err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("never readmitted: {err}"),
        }
    };
    assert!(
        report.failed_expectations().is_empty(),
        "{:?}",
        report.failed_expectations()
    );
}

/// A locked room refuses a newcomer, lets in the host's second device, and
/// opens again when unlocked.
#[tokio::test]
async fn a_locked_meeting_lets_in_only_its_hosts() {
    let server = TestServer::start().await;
    let ann_api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&ann_api, ALL_USERS).await;
    let mut ann = server.connect(&ann_api).await;
    ann.join(meeting).await.unwrap();
    ann.send(ClientMsg::Host(HostAction::Lock)).await.unwrap();
    let locked = wait_for(&mut ann, "the lock", |m| {
        matches!(m, ServerMsg::RoomLocked { .. })
    })
    .await;
    assert_eq!(
        locked,
        ServerMsg::RoomLocked {
            locked: true,
            by: ann.peer_id()
        }
    );

    let bob = || bot(&server, CORPORATE, 660.0, (40, 200, 40), 2.0, "");
    let refusal = huddle_bot::run(bob())
        .await
        .expect_err("locked out")
        .to_string();
    assert!(refusal.contains("locked"), "{refusal}");
    let mut laptop = server.connect(&server.login(STARTUP).await).await;
    let joined = laptop
        .join(meeting)
        .await
        .expect("the host's other device gets in");
    assert!(joined.locked && joined.role == Role::Host);

    ann.send(ClientMsg::Host(HostAction::Unlock)).await.unwrap();
    wait_for(&mut laptop, "the unlock", |m| {
        matches!(m, ServerMsg::RoomLocked { locked: false, .. })
    })
    .await;
    let report = huddle_bot::run(bob()).await.expect("in once unlocked");
    assert_eq!(report.peers.len(), 2, "{:?}", report.peers);
}

/// Ann ends the meeting for everyone: Bob and Cat are sent out and told by whom.
#[tokio::test]
async fn ending_for_all_sends_everyone_out_with_the_hosts_name() {
    let server = TestServer::start().await;
    new_user(&server, CAT, "QA Bot").await;
    let ann_script = "[[at]]\ntime = 3.0\nhost = \"end_for_all\"\n";
    let told = "[[expect]]\nhost_notice = \"Test Startup ended the meeting for everyone\"\n";
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 20.0, ann_script);
    let bob = bot(&server, CORPORATE, 660.0, (40, 200, 40), 20.0, told);
    let cat = bot(&server, CAT, 880.0, (40, 40, 200), 20.0, told);
    let started = std::time::Instant::now();
    let reports = huddle_tests::bots::run_in_turn(&server, [ann, bob, cat]).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "everyone left at the end, not at 20 s"
    );
    for report in &reports[1..] {
        assert!(
            report.failed_expectations().is_empty(),
            "{}: {:?}",
            report.name,
            report.failed_expectations()
        );
    }
    assert!(
        server
            .app()
            .hub
            .participants_of(
                server
                    .meeting_id(&server.login(STARTUP).await, ALL_USERS)
                    .await
            )
            .is_empty()
    );
}
