//! Janus's messages as its documentation shows them, read and written.

use super::*;

fn reply(text: &str) -> (String, Reply) {
    match parse(text).expect("readable") {
        Incoming::Reply { transaction, reply } => (transaction, reply),
        other => panic!("not a reply: {other:?}"),
    }
}

#[test]
fn every_request_carries_its_transaction_and_the_secret() {
    let session = SessionId(7);
    let handle = HandleId(9);
    let requests = [
        Request::Info,
        Request::Create,
        Request::Attach {
            session,
            plugin: VIDEOROOM,
        },
        Request::Message {
            session,
            handle,
            body: json!({"request": "exists", "room": 1}),
            jsep: Some(json!({"type": "offer", "sdp": "v=0"})),
        },
        Request::Trickle {
            session,
            handle,
            candidate: Value::Null,
        },
        Request::Keepalive { session },
        Request::Detach { session, handle },
        Request::Destroy { session },
    ];
    for request in requests {
        let sent: Value = serde_json::from_str(&request.to_json("t1", "s3cret")).unwrap();
        assert_eq!(sent["transaction"], "t1", "{request:?}");
        assert_eq!(sent["apisecret"], "s3cret", "{request:?}");
    }
}

#[test]
fn a_message_names_its_session_and_handle_and_keeps_its_sdp() {
    let request = Request::Message {
        session: SessionId(7),
        handle: HandleId(9),
        body: json!({"request": "configure", "audio": true}),
        jsep: Some(json!({"type": "offer", "sdp": "v=0"})),
    };
    let sent: Value = serde_json::from_str(&request.to_json("t", "s")).unwrap();
    assert_eq!(sent["janus"], "message");
    assert_eq!(sent["session_id"], 7);
    assert_eq!(sent["handle_id"], 9);
    assert_eq!(sent["body"]["request"], "configure");
    assert_eq!(sent["jsep"]["type"], "offer");
}

#[test]
fn only_trickles_and_keepalives_are_settled_by_an_ack() {
    let session = SessionId(1);
    let handle = HandleId(2);
    assert!(Request::Keepalive { session }.settled_by_ack());
    assert!(
        Request::Trickle {
            session,
            handle,
            candidate: Value::Null
        }
        .settled_by_ack()
    );
    let join = Request::Message {
        session,
        handle,
        body: json!({"request": "join"}),
        jsep: None,
    };
    assert!(!join.settled_by_ack());
    assert!(!Request::Create.settled_by_ack());
}

#[test]
fn a_created_session_and_a_plugin_answer_are_successes() {
    let (transaction, created) =
        reply(r#"{"janus":"success","transaction":"a","data":{"id":4242}}"#);
    assert_eq!(transaction, "a");
    assert_eq!(
        created,
        Reply::Success {
            data: json!({"id": 4242}),
            jsep: None
        }
    );
    let (_, exists) = reply(
        r#"{"janus":"success","session_id":1,"transaction":"b","sender":2,
            "plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"success","room":5,"exists":true}}}"#,
    );
    let Reply::Success { data, .. } = exists else {
        panic!("{exists:?}")
    };
    assert_eq!(data["exists"], true);
}

#[test]
fn an_answer_to_a_join_comes_as_an_event_under_its_transaction_with_its_sdp() {
    let (transaction, answer) = reply(
        r#"{"janus":"event","session_id":1,"transaction":"c","sender":2,
            "plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","configured":"ok"}},
            "jsep":{"type":"answer","sdp":"v=0"}}"#,
    );
    assert_eq!(transaction, "c");
    let Reply::Success { data, jsep } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(data["configured"], "ok");
    assert_eq!(jsep.unwrap()["type"], "answer");
}

#[test]
fn refusals_by_janus_and_by_the_plugin_are_errors_with_their_words() {
    let (_, core) = reply(
        r#"{"janus":"error","transaction":"d","error":{"code":403,"reason":"Unauthorized request (wrong or missing secret/token)"}}"#,
    );
    let Reply::Error(error) = core else {
        panic!("{core:?}")
    };
    assert_eq!(error.code, JanusError::UNAUTHORIZED);
    assert!(error.to_string().contains("Unauthorized"), "{error}");
    let (_, plugin) = reply(
        r#"{"janus":"success","transaction":"e","sender":2,
            "plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","error_code":426,"error":"No such room (9)"}}}"#,
    );
    assert_eq!(
        plugin,
        Reply::Error(JanusError {
            code: JanusError::NO_SUCH_ROOM,
            reason: "No such room (9)".into()
        })
    );
}

#[test]
fn news_without_a_transaction_are_events_about_a_handle() {
    let events = [
        (
            r#"{"janus":"webrtcup","session_id":1,"sender":2}"#,
            Event::WebRtcUp {
                handle: HandleId(2),
            },
        ),
        (
            r#"{"janus":"media","session_id":1,"sender":2,"type":"video","receiving":false}"#,
            Event::Media {
                handle: HandleId(2),
                receiving: false,
            },
        ),
        (
            r#"{"janus":"hangup","session_id":1,"sender":2,"reason":"DTLS alert"}"#,
            Event::HangUp {
                handle: HandleId(2),
                reason: "DTLS alert".into(),
            },
        ),
        (
            r#"{"janus":"timeout","session_id":1}"#,
            Event::Timeout {
                session: SessionId(1),
            },
        ),
        (
            r#"{"janus":"event","session_id":1,"sender":2,
                "plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","leaving":5}}}"#,
            Event::Plugin {
                handle: HandleId(2),
                data: json!({"videoroom": "event", "leaving": 5}),
                jsep: None,
            },
        ),
    ];
    for (text, expected) in events {
        assert_eq!(parse(text), Ok(Incoming::Event(expected)), "{text}");
    }
}

#[test]
fn what_is_not_janus_is_refused_with_a_reason() {
    for (text, says) in [
        ("not json", "not JSON"),
        (r#"{"transaction":"x"}"#, "no \"janus\" field"),
        (r#"{"janus":"ack"}"#, "without a transaction"),
        (r#"{"janus":"webrtcup","session_id":1}"#, "without a sender"),
    ] {
        let error = parse(text).expect_err(text);
        assert!(error.to_string().contains(says), "{text}: {error}");
    }
}
