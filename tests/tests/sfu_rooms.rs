//! A meeting moving to the SFU, as clients see it on the wire: huddle-signal
//! with a real Janus, clients speaking Huddle's protocol only (raw
//! WebSockets, and bare webrtc-rs peers that make real offers and answers).

use huddle_tests::janus::JanusServer;
use huddle_tests::sfu_probe::ProbePeer;
use huddle_tests::{ALL_USERS, PATIENCE, RawClient, STARTUP, TestServer};
use shared::api::{CreateMeeting, Visibility};
use shared::{
    ClientMsg, ErrorCode, MeetingId, PeerId, PeerSignal, ServerMsg, SessionDescription, SfuLink,
    SfuSource, SfuStream, Topology, VideoLayer,
};

const SECRET: &str = "janus-api-secret";

/// A raw client in the demo meeting everyone may join; what `joined` said.
async fn join(server: &TestServer, token: &str, meeting: MeetingId) -> (RawClient, Topology) {
    let mut client = RawClient::hello(server, token).await;
    client
        .send(&ClientMsg::Join {
            meeting_id: meeting,
        })
        .await;
    match client.recv().await {
        ServerMsg::Joined { topology, .. } => (client, topology),
        other => panic!("expected joined, got {other:?}"),
    }
}

/// A server that moves a room to the SFU at its second participant, and
/// two raw clients in the demo meeting, on the SFU.
async fn two_on_the_sfu(janus: &JanusServer) -> (TestServer, MeetingId, RawClient, RawClient) {
    let server = janus.signal_server(1).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let token = api.token().unwrap();
    let (ann, _) = join(&server, token, meeting).await;
    let (bob, topology) = join(&server, token, meeting).await;
    assert_eq!(topology, Topology::Sfu);
    (server, meeting, ann, bob)
}

/// The next message `pick` accepts, skipping the room's other news.
async fn next<T>(client: &mut RawClient, what: &str, pick: impl Fn(ServerMsg) -> Option<T>) -> T {
    for _ in 0..50 {
        if let Some(found) = pick(client.recv().await) {
            return found;
        }
    }
    panic!("no {what} among 50 messages");
}

/// A raw client's descriptions from the SFU, each link's in order: the
/// answer to our publishing offer and the SFU's offers may come either way round.
#[derive(Default)]
struct SfuInbox {
    held: Vec<(SfuLink, SessionDescription, Vec<SfuStream>)>,
}

impl SfuInbox {
    async fn next(
        &mut self,
        client: &mut RawClient,
        link: SfuLink,
    ) -> (SessionDescription, Vec<SfuStream>) {
        loop {
            if let Some(at) = self.held.iter().position(|(held, ..)| *held == link) {
                let (_, description, streams) = self.held.remove(at);
                return (description, streams);
            }
            let held = next(client, "an SFU description", |msg| match msg {
                ServerMsg::SfuSignal {
                    link,
                    payload,
                    streams,
                } => match serde_json::from_value(payload) {
                    Ok(PeerSignal::Description { description }) => {
                        Some((link, description, streams))
                    }
                    _ => None,
                },
                ServerMsg::Error { code, message } => panic!("refused: {code:?} {message}"),
                _ => None,
            })
            .await;
            self.held.push(held);
        }
    }
}

async fn send_description(client: &mut RawClient, link: SfuLink, description: SessionDescription) {
    let payload = serde_json::to_value(PeerSignal::Description { description }).unwrap();
    client.send(&ClientMsg::SfuSignal { link, payload }).await;
}

#[tokio::test]
async fn a_fifth_joiner_moves_the_meeting_to_the_sfu_and_everyone_is_told() {
    let janus = JanusServer::start(SECRET);
    let server = janus.signal_server(4).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let token = api.token().unwrap();
    let mut present = Vec::new();
    for _ in 0..4 {
        let (client, topology) = join(&server, token, meeting).await;
        assert_eq!(topology, Topology::Mesh, "four people are a mesh");
        present.push(client);
    }
    let (_fifth, topology) = join(&server, token, meeting).await;
    assert_eq!(topology, Topology::Sfu, "the fifth joins on the SFU");
    for client in &mut present {
        let moved = next(client, "topology", |msg| match msg {
            ServerMsg::Topology { topology } => Some(topology),
            _ => None,
        })
        .await;
        assert_eq!(moved, Topology::Sfu);
    }
}

#[tokio::test]
async fn publishers_get_janus_answers_and_each_receives_the_other_through_it() {
    let janus = JanusServer::start(SECRET);
    let (_server, _, mut ann, mut bob) = two_on_the_sfu(&janus).await;

    let (mut ann_inbox, mut bob_inbox) = (SfuInbox::default(), SfuInbox::default());
    let mut ann_sends = ProbePeer::new().await;
    let offer = ann_sends.offer_to_send().await;
    send_description(&mut ann, SfuLink::Publish, offer).await;
    let (answer, _) = ann_inbox.next(&mut ann, SfuLink::Publish).await;
    assert_eq!(answer.kind, "answer");
    assert!(
        answer.sdp.contains("H264/90000"),
        "Janus takes our H.264:\n{}",
        answer.sdp
    );
    assert!(answer.sdp.contains("opus/48000"), "and our Opus");
    ann_sends.take_answer(answer).await;
    ann_sends.connected(PATIENCE).await;

    // Bob publishes too; he is offered Ann's streams, she is offered his.
    let mut bob_sends = ProbePeer::new().await;
    send_description(&mut bob, SfuLink::Publish, bob_sends.offer_to_send().await).await;
    let (answer, _) = bob_inbox.next(&mut bob, SfuLink::Publish).await;
    bob_sends.take_answer(answer).await;
    let ann_id = ann.peer_id.unwrap();
    let bob_id = bob.peer_id.unwrap();
    let receivers = [
        (&mut bob, &mut bob_inbox, ann_id),
        (&mut ann, &mut ann_inbox, bob_id),
    ];
    for (receiver, inbox, sender) in receivers {
        let (offer, streams) = inbox.next(receiver, SfuLink::Subscribe).await;
        assert_eq!(offer.kind, "offer");
        assert_eq!(
            sources(&streams),
            [
                (sender, SfuSource::Microphone),
                (sender, SfuSource::Camera),
                (sender, SfuSource::Screen)
            ]
        );
        let mut receives = ProbePeer::new().await;
        let answer = receives.answer(offer).await;
        send_description(receiver, SfuLink::Subscribe, answer).await;
        receives.connected(PATIENCE).await;
    }
}

fn sources(streams: &[SfuStream]) -> Vec<(PeerId, SfuSource)> {
    streams.iter().map(|s| (s.peer, s.source)).collect()
}

#[tokio::test]
async fn sfu_signals_in_a_mesh_or_of_the_wrong_shape_are_refused_with_why() {
    let janus = JanusServer::start(SECRET);
    let server = janus.signal_server(4).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let (mut client, _) = join(&server, api.token().unwrap(), meeting).await;
    let payload =
        serde_json::json!({"kind": "description", "description": {"type": "offer", "sdp": "v=0"}});
    let link = SfuLink::Publish;
    client
        .send(&ClientMsg::SfuSignal {
            link,
            payload: payload.clone(),
        })
        .await;
    let (code, message) = error(&mut client).await;
    assert_eq!(code, ErrorCode::SfuUnavailable);
    assert!(message.contains("mesh"), "{message}");

    let (server, meeting, mut ann, _bob) = two_on_the_sfu(&janus).await;
    let mut ann_sends = ProbePeer::new().await;
    send_description(&mut ann, link, ann_sends.offer_to_send().await).await;
    let (answer, _) = SfuInbox::default().next(&mut ann, link).await;
    ann_sends.take_answer(answer).await;
    ann_sends.connected(PATIENCE).await;
    let garbage = serde_json::json!({"kind": "sdp", "text": "v=0"});
    ann.send(&ClientMsg::SfuSignal {
        link,
        payload: garbage,
    })
    .await;
    let (code, _) = error(&mut ann).await;
    assert_eq!(code, ErrorCode::BadRequest);
    ann.send(&ClientMsg::SfuSignal { link, payload }).await;
    let (code, message) = error(&mut ann).await;
    assert_eq!(
        code,
        ErrorCode::SfuUnavailable,
        "Janus refused an SDP that is not one: {message}"
    );
    // Her place on the SFU outlived the refusal: she still publishes there.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ann_id = ann.peer_id.unwrap();
    assert!(publishes_on_janus(&server, meeting, ann_id).await);
}

/// Whether Janus lists `peer` as publishing in `meeting`'s room.
async fn publishes_on_janus(server: &TestServer, meeting: MeetingId, peer: PeerId) -> bool {
    let sfu = server.app().sfu.as_ref().expect("the server holds Janus");
    let room = sfu.rooms.room_of(meeting).await.expect("a Janus room");
    let list = serde_json::json!({ "request": "listparticipants", "room": room });
    let answer = sfu.admin().message(list, None).await.expect("a list");
    let participants = answer.data["participants"].as_array().cloned();
    participants
        .unwrap_or_default()
        .iter()
        .any(|p| p["id"] == peer.0 && p["publisher"] == true)
}

#[tokio::test]
async fn layer_wishes_in_a_mesh_or_for_strangers_are_refused_with_why() {
    let janus = JanusServer::start(SECRET);
    let server = janus.signal_server(4).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let (mut client, _) = join(&server, api.token().unwrap(), meeting).await;
    let low = |peer| ClientMsg::SfuLayer {
        peer,
        layer: VideoLayer::Low,
    };
    client.send(&low(None)).await;
    assert_eq!(error(&mut client).await.0, ErrorCode::SfuUnavailable);

    let (_server, _, mut ann, mut bob) = two_on_the_sfu(&janus).await;
    let bob_id = next(&mut ann, "bob's arrival", |msg| match msg {
        ServerMsg::ParticipantJoined { participant } => Some(participant.id),
        _ => None,
    })
    .await;
    for stranger in [PeerId(987_654), bob_id] {
        bob.send(&low(Some(stranger))).await;
        let (code, message) = error(&mut bob).await;
        assert_eq!(code, ErrorCode::BadRequest, "{message}");
        assert!(
            message.contains("not someone else in your room"),
            "{message}"
        );
    }
    // A wish for someone in the room is taken without a word; the next
    // request's answer is the first thing back.
    ann.send(&low(Some(bob_id))).await;
    ann.send(&low(Some(PeerId(987_654)))).await;
    let (code, message) = error(&mut ann).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(
        message.contains("987654"),
        "only the stranger refused: {message}"
    );
}

async fn error(client: &mut RawClient) -> (ErrorCode, String) {
    next(client, "an error", |msg| match msg {
        ServerMsg::Error { code, message } => Some((code, message)),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn the_janus_room_is_destroyed_when_the_meeting_empties() {
    let janus = JanusServer::start(SECRET);
    let (server, meeting, mut ann, mut bob) = two_on_the_sfu(&janus).await;
    let mut ann_sends = ProbePeer::new().await;
    send_description(&mut ann, SfuLink::Publish, ann_sends.offer_to_send().await).await;
    let (answer, _) = SfuInbox::default().next(&mut ann, SfuLink::Publish).await;
    ann_sends.take_answer(answer).await;
    let sfu = server.app().sfu.as_ref().expect("the server holds Janus");
    let room = sfu
        .rooms
        .room_of(meeting)
        .await
        .expect("the meeting has a Janus room");
    assert!(sfu.admin().room_exists(room).await.unwrap());
    ann.send(&ClientMsg::Leave).await;
    bob.send(&ClientMsg::Leave).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while sfu.admin().room_exists(room).await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Janus room outlived the meeting"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sfu.rooms.room_of(meeting).await.is_none());
    assert_eq!(
        sfu.client().handles_listened(),
        0,
        "the seats' handles are forgotten"
    );
}

fn made_for_the_sfu(title: &str) -> CreateMeeting {
    CreateMeeting {
        title: title.into(),
        starts_at: None,
        duration_minutes: 30,
        visibility: Visibility::AllUsers,
        invitees: vec![],
        topology: Topology::Sfu,
        waiting_room: Default::default(),
    }
}

#[tokio::test]
async fn a_meeting_made_for_the_sfu_is_on_it_from_its_first_join() {
    let janus = JanusServer::start(SECRET);
    let server = janus.signal_server(4).await;
    let api = server.login(STARTUP).await;
    let meeting = api
        .create_meeting(&made_for_the_sfu("All hands"))
        .await
        .unwrap();
    assert_eq!(meeting.topology, Topology::Sfu, "the meeting says so");
    let (_first, topology) = join(&server, api.token().unwrap(), meeting.id).await;
    assert_eq!(topology, Topology::Sfu);
}

#[tokio::test]
async fn a_server_without_an_sfu_refuses_a_meeting_made_for_one() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let refused = api.create_meeting(&made_for_the_sfu("All hands")).await;
    let message = refused.expect_err("no SFU, no such meeting").to_string();
    assert!(message.contains("no SFU"), "{message}");
}
