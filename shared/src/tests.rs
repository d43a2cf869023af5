//! Round trips of every protocol message, and the examples in `docs/protocol.md`.

use crate::api::*;
use crate::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::macros::datetime;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
    let json = serde_json::to_string(&value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    assert_eq!(back, value, "{json}");
}

fn person() -> Participant {
    Participant {
        id: PeerId(3),
        user_id: UserId(1),
        name: "Ann".into(),
        audio: true,
        video: false,
        screen: true,
        role: Default::default(),
        hand: None,
    }
}

fn chat() -> ChatMessage {
    ChatMessage {
        id: MessageId(5),
        from: UserId(1),
        name: "Ann".into(),
        text: "hé 👋".into(),
        sent_at: datetime!(2026-11-24 09:02:00.123 UTC),
    }
}

#[test]
fn every_client_message_round_trips() {
    for msg in [
        ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token: "t".into(),
            resume: None,
        },
        ClientMsg::Join {
            meeting_id: MeetingId(1),
        },
        ClientMsg::Signal {
            to: PeerId(2),
            payload: serde_json::json!({"kind": "candidate", "candidate": "c"}),
        },
        ClientMsg::MediaState {
            audio: true,
            video: false,
            screen: true,
        },
        ClientMsg::Chat { text: "hi".into() },
        ClientMsg::SfuSignal {
            link: SfuLink::Publish,
            payload: serde_json::json!({"kind": "candidate"}),
        },
        ClientMsg::SfuLayer {
            peer: Some(PeerId(3)),
            layer: VideoLayer::Low,
        },
        ClientMsg::SfuLayer {
            peer: None,
            layer: VideoLayer::High,
        },
        ClientMsg::Host(HostAction::Mute { peer: PeerId(3) }),
        ClientMsg::Host(HostAction::Readmit { user: UserId(4) }),
        ClientMsg::Host(HostAction::EndForAll),
        ClientMsg::Hand { raised: true },
        ClientMsg::React {
            reaction: Reaction::Party,
        },
        ClientMsg::Leave,
    ] {
        round_trip(msg);
    }
}

#[test]
fn a_host_action_is_one_flat_object() {
    let mute = ClientMsg::Host(HostAction::Mute { peer: PeerId(7) });
    assert_eq!(
        serde_json::to_value(&mute).unwrap(),
        serde_json::json!({"type": "host", "action": "mute", "peer": 7})
    );
    let lock = ClientMsg::Host(HostAction::Lock);
    assert_eq!(lock.to_json(), r#"{"type":"host","action":"lock"}"#);
    let told = HostAction::StopScreen { peer: PeerId(7) }.told("Ann");
    assert_eq!(told, "Ann stopped your screen share");
}

#[test]
fn every_message_of_running_a_meeting_round_trips() {
    for msg in [
        ServerMsg::MeetingEnded {
            meeting_id: MeetingId(1),
            by: Some("Ann".into()),
        },
        ServerMsg::Moderated {
            by: PeerId(2),
            by_name: "Ann".into(),
            action: HostAction::Remove { peer: PeerId(3) },
        },
        ServerMsg::RoomLocked {
            locked: true,
            by: PeerId(2),
        },
        ServerMsg::Waiting {
            meeting_id: MeetingId(1),
        },
        ServerMsg::Lobby {
            waiting: vec![person()],
        },
        ServerMsg::Reaction {
            from: PeerId(3),
            reaction: Reaction::Heart,
        },
    ] {
        round_trip(msg);
    }
}

#[test]
fn every_server_message_round_trips() {
    let user = User {
        id: UserId(1),
        email: "a@b.c".into(),
        name: "Ann".into(),
        organisation: Some(Organisation {
            id: OrganisationId(1),
            name: "Org".into(),
        }),
    };
    for msg in [
        ServerMsg::Welcome {
            user,
            peer_id: PeerId(1),
            ice_servers: vec![IceServer {
                urls: vec!["stun:x:3478".into()],
                ..IceServer::default()
            }],
            heartbeat_ms: Some(2000),
            resume_token: Some("7.3.1700000000000.bWFj".into()),
        },
        ServerMsg::Joined {
            meeting_id: MeetingId(1),
            participants: vec![person()],
            chat_history: vec![chat()],
            topology: Topology::Sfu,
            locked: true,
            role: Role::Cohost,
        },
        ServerMsg::Topology {
            topology: Topology::Sfu,
        },
        ServerMsg::SfuSignal {
            link: SfuLink::Subscribe,
            payload: serde_json::json!({"kind": "description"}),
            streams: vec![SfuStream {
                mid: "0".into(),
                peer: PeerId(2),
                source: SfuSource::Camera,
            }],
        },
        ServerMsg::ParticipantJoined {
            participant: person(),
        },
        ServerMsg::ParticipantUpdated {
            participant: person(),
        },
        ServerMsg::ParticipantLeft { id: PeerId(3) },
        ServerMsg::Signal {
            from: PeerId(2),
            payload: serde_json::json!({"sdp": "v=0"}),
        },
        ServerMsg::ChatMessage(chat()),
        ServerMsg::Left {
            meeting_id: MeetingId(1),
        },
        ServerMsg::MeetingEnded {
            meeting_id: MeetingId(1),
            by: None,
        },
        ServerMsg::ServerShutdown {
            message: "bye".into(),
        },
        ServerMsg::Error {
            code: ErrorCode::PeerNotInRoom,
            message: "no".into(),
        },
    ] {
        round_trip(msg);
    }
}

#[test]
fn peer_signals_use_the_browsers_field_names() {
    let candidate = PeerSignal::Candidate {
        candidate: IceCandidate {
            candidate: "candidate:1".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            username_fragment: None,
        },
    };
    let json = serde_json::to_string(&candidate).unwrap();
    assert!(
        json.contains(r#""sdpMLineIndex":0"#) && json.contains(r#""sdpMid":"0""#),
        "{json}"
    );
    round_trip(candidate);
    round_trip(PeerSignal::Description {
        description: SessionDescription {
            kind: "offer".into(),
            sdp: "v=0".into(),
        },
    });
}

#[test]
fn messages_are_tagged_by_snake_case_type() {
    let json = ClientMsg::MediaState {
        audio: true,
        video: true,
        screen: false,
    }
    .to_json();
    assert_eq!(
        json,
        r#"{"type":"media_state","audio":true,"video":true,"screen":false}"#
    );
    let json = ServerMsg::ChatMessage(chat()).to_json();
    assert!(
        json.starts_with(r#"{"type":"chat_message","id":5,"from":1,"#),
        "{json}"
    );
    assert!(
        json.contains(r#""sent_at":"2026-11-24T09:02:00.123Z""#),
        "{json}"
    );
}

#[test]
fn joined_from_an_older_server_means_a_mesh() {
    let joined: ServerMsg = serde_json::from_str(
        r#"{"type": "joined", "meeting_id": 1, "participants": [], "chat_history": []}"#,
    )
    .unwrap();
    let ServerMsg::Joined { topology, .. } = joined else {
        panic!("{joined:?}")
    };
    assert_eq!(topology, Topology::Mesh);
}

#[test]
fn an_unknown_error_code_from_a_newer_server_still_parses() {
    let msg: ServerMsg =
        serde_json::from_str(r#"{"type":"error","code":"brand_new","message":"m"}"#).unwrap();
    assert_eq!(
        msg,
        ServerMsg::Error {
            code: ErrorCode::Unknown,
            message: "m".into()
        }
    );
}

#[test]
fn media_state_without_screen_means_not_sharing() {
    let msg: ClientMsg =
        serde_json::from_str(r#"{"type":"media_state","audio":true,"video":true}"#).unwrap();
    assert_eq!(
        msg,
        ClientMsg::MediaState {
            audio: true,
            video: true,
            screen: false
        }
    );
}

#[test]
fn rest_bodies_round_trip() {
    let meeting = Meeting {
        id: MeetingId(1),
        title: "Sync".into(),
        host: UserRef {
            id: UserId(1),
            name: "Ann".into(),
        },
        starts_at: datetime!(2026-11-24 09:00 UTC),
        duration_minutes: 45,
        visibility: Visibility::AllUsers,
        participants_now: 1,
        people_now: vec![UserRef {
            id: UserId(2),
            name: "Bo".into(),
        }],
        topology: Topology::Sfu,
        waiting_room: WaitingRoom::Uninvited,
    };
    round_trip(meeting);
    let create: CreateMeeting = serde_json::from_str(r#"{"title": "Quick"}"#).unwrap();
    assert_eq!(
        (create.duration_minutes, create.visibility, create.starts_at),
        (30, Visibility::Organisation, None)
    );
}

/// Every ```json block of docs/protocol.md parses as what it claims to be.
#[test]
fn the_examples_in_the_protocol_doc_parse() {
    let doc = include_str!("../../docs/protocol.md");
    let mut blocks = 0;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```json") else {
            continue;
        };
        let body: String = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect::<Vec<_>>()
            .join("\n");
        match info.trim() {
            "client" => drop(
                serde_json::from_str::<ClientMsg>(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
            "server" => drop(
                serde_json::from_str::<ServerMsg>(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
            "peer" => drop(
                serde_json::from_str::<PeerSignal>(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
            "meeting" => drop(
                serde_json::from_str::<Meeting>(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
            "server_info" => drop(
                serde_json::from_str::<ServerInfo>(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
            _ => drop(
                serde_json::from_str::<serde_json::Value>(&body)
                    .unwrap_or_else(|e| panic!("{body}: {e}")),
            ),
        }
        blocks += 1;
    }
    assert!(blocks >= 20, "found only {blocks} examples");
    // Every message type has an example.
    for kind in [
        "hello",
        "join",
        "signal",
        "media_state",
        "chat",
        "leave",
        "sfu_signal",
        "welcome",
        "joined",
        "topology",
        "participant_joined",
        "participant_updated",
        "participant_left",
        "chat_message",
        "left",
        "meeting_ended",
        "host",
        "moderated",
        "room_locked",
        "waiting",
        "lobby",
        "hand",
        "react",
        "reaction",
        "server_shutdown",
        "error",
    ] {
        assert!(
            doc.contains(&format!(r#"{{"type": "{kind}""#)),
            "no example of {kind}"
        );
    }
}
