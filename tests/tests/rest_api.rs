//! The REST API as a client sees it: logins, limits, meetings, visibility,
//! registration, errors, health and metrics.

use huddle_engine::{ApiClient, Error};
use huddle_tests::*;
use shared::api::{CreateMeeting, RegisterRequest, Visibility};
use shared::{ClientMsg, ErrorCode, ServerMsg};

fn api_error(err: Error) -> (u16, ErrorCode, String) {
    match err {
        Error::Api {
            status,
            code,
            message,
        } => (status, code, message),
        other => panic!("expected an API error, got {other}"),
    }
}

#[tokio::test]
async fn demo_logins_work_and_wrong_passwords_do_not() {
    let server = TestServer::start().await;
    for email in [STARTUP, CORPORATE] {
        let api = server.login(email).await;
        let me = api.me().await.unwrap();
        assert_eq!(me.email, email);
        assert!(me.organisation.is_some());
    }
    let mut api = ApiClient::new(&server.url()).unwrap();
    let (status, code, message) = api_error(api.login(STARTUP, "password124").await.unwrap_err());
    assert_eq!((status, code), (401, ErrorCode::Unauthorized));
    assert_eq!(message, "wrong email or password");
    let (status, _, _) = api_error(api.login("nobody@nowhere.org", PASSWORD).await.unwrap_err());
    assert_eq!(status, 401, "an unknown email looks like a wrong password");
    let metrics = metrics_text(&server).await;
    assert!(
        metrics.contains("huddle_login_failures_total 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_server_without_demo_has_no_demo_users() {
    let server = TestServer::start_with(|c| c.demo = false).await;
    let mut api = ApiClient::new(&server.url()).unwrap();
    let (status, _, _) = api_error(api.login(STARTUP, PASSWORD).await.unwrap_err());
    assert_eq!(status, 401);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account_and_per_address() {
    let server = TestServer::start_with(|c| {
        c.limits.logins_per_account_per_minute = 3;
        c.limits.logins_per_address_per_minute = 6;
    })
    .await;
    let mut api = ApiClient::new(&server.url()).unwrap();
    for _ in 0..3 {
        assert_eq!(
            api_error(api.login(STARTUP, "guess").await.unwrap_err()).0,
            401
        );
    }
    let (status, code, _) = api_error(api.login(STARTUP, PASSWORD).await.unwrap_err());
    assert_eq!(
        (status, code),
        (429, ErrorCode::RateLimited),
        "even the right password waits"
    );
    // Another account from the same address still works, until the address limit.
    api.login(CORPORATE, PASSWORD).await.unwrap();
    api.login(CORPORATE, PASSWORD).await.unwrap();
    let (status, _, _) = api_error(api.login(CORPORATE, PASSWORD).await.unwrap_err());
    assert_eq!(status, 429);
}

#[tokio::test]
async fn calls_without_a_valid_token_are_refused_in_json() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/api/me"),
        ("GET", "/api/meetings"),
        ("POST", "/api/logout"),
    ] {
        let response = http
            .request(method.parse().unwrap(), format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );
    }
    let api = ApiClient::with_token(&server.url(), "made-up").unwrap();
    assert_eq!(api_error(api.me().await.unwrap_err()).0, 401);
    let response = http
        .get(format!("{}/api/nothing-here", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn malformed_bodies_get_a_400_that_says_why() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/meetings", server.url());
    let response = http
        .post(&url)
        .bearer_auth(api.token().unwrap())
        .header("content-type", "application/json")
        .body(r#"{"title": 5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("title"),
        "{body}"
    );
    let response = http
        .get(format!("{url}/not-a-number"))
        .bearer_auth(api.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_dashboard_lists_what_each_user_may_see_with_live_counts() {
    let server = TestServer::start().await;
    let startup = server.login(STARTUP).await;
    let corporate = server.login(CORPORATE).await;
    let titles =
        |list: Vec<shared::api::Meeting>| list.into_iter().map(|m| m.title).collect::<Vec<_>>();
    let startup_sees = titles(startup.meetings().await.unwrap());
    assert!(startup_sees.contains(&ALL_USERS.to_string()));
    assert!(startup_sees.contains(&"Startup Standup".to_string()));
    assert!(!startup_sees.contains(&"Corporate Quarterly Review".to_string()));
    let corporate_sees = titles(corporate.meetings().await.unwrap());
    assert!(corporate_sees.contains(&ALL_USERS.to_string()));
    assert!(!corporate_sees.contains(&"Startup Standup".to_string()));

    // An invitation makes an organisation meeting visible to an outsider.
    let request = CreateMeeting {
        title: "Partner call".into(),
        starts_at: Some(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
        duration_minutes: 45,
        visibility: Visibility::InviteOnly,
        invitees: vec![CORPORATE.into()],
        topology: Default::default(),
        waiting_room: Default::default(),
    };
    let created = startup.create_meeting(&request).await.unwrap();
    assert_eq!(
        (created.host.name.as_str(), created.duration_minutes),
        ("Test Startup", 45)
    );
    assert!(titles(corporate.meetings().await.unwrap()).contains(&"Partner call".to_string()));
    assert_eq!(
        corporate.meeting(created.id).await.unwrap().title,
        "Partner call"
    );

    // participants_now counts who is in the room right now.
    let all = server.meeting_id(&startup, ALL_USERS).await;
    let mut session = server.connect(&corporate).await;
    session.join(all).await.unwrap();
    assert_eq!(startup.meeting(all).await.unwrap().participants_now, 1);
    let listed = startup
        .meetings()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == all)
        .unwrap();
    assert_eq!(listed.participants_now, 1);
    let names: Vec<&str> = listed.people_now.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Test Corporate"]);

    // Hidden meetings are 403, missing ones 404.
    let standup = server.meeting_id(&startup, "Startup Standup").await;
    assert_eq!(
        api_error(corporate.meeting(standup).await.unwrap_err()).0,
        403
    );
    assert_eq!(
        api_error(
            corporate
                .meeting(shared::MeetingId(99_999))
                .await
                .unwrap_err()
        )
        .0,
        404
    );
    assert_eq!(
        api_error(corporate.messages(standup, None, 10).await.unwrap_err()).0,
        403
    );
}

#[tokio::test]
async fn only_the_host_deletes_a_meeting() {
    let server = TestServer::start().await;
    let host = server.login(STARTUP).await;
    let guest = server.login(CORPORATE).await;
    let id = server.open_meeting(&host, "Doomed").await;
    let (status, code, _) = api_error(guest.delete_meeting(id).await.unwrap_err());
    assert_eq!((status, code), (403, ErrorCode::Forbidden));
    host.delete_meeting(id).await.unwrap();
    assert_eq!(api_error(host.meeting(id).await.unwrap_err()).0, 404);
}

#[tokio::test]
async fn bad_meeting_requests_are_refused() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let mut request = CreateMeeting {
        title: "  ".into(),
        starts_at: None,
        duration_minutes: 30,
        visibility: Visibility::Organisation,
        invitees: vec![],
        topology: Default::default(),
        waiting_room: Default::default(),
    };
    assert_eq!(
        api_error(api.create_meeting(&request).await.unwrap_err()).0,
        400
    );
    request.title = "Fine".into();
    request.duration_minutes = 0;
    assert_eq!(
        api_error(api.create_meeting(&request).await.unwrap_err()).0,
        400
    );
    request.duration_minutes = 30;
    request.invitees = vec!["ghost@nowhere.org".into()];
    let (status, _, message) = api_error(api.create_meeting(&request).await.unwrap_err());
    assert_eq!(status, 400);
    assert!(message.contains("ghost@nowhere.org"));
}

#[tokio::test]
async fn registration_creates_an_account_unless_turned_off() {
    let server = TestServer::start().await;
    let mut api = ApiClient::new(&server.url()).unwrap();
    let request = RegisterRequest {
        email: "new@person.org".into(),
        password: "longenough".into(),
        name: "New Person".into(),
        organisation: Some("Newco".into()),
    };
    let created = api.register(&request).await.unwrap();
    assert_eq!(created.user.organisation.unwrap().name, "Newco");
    assert_eq!(api.me().await.unwrap().name, "New Person");
    // The same email again, a taken organisation, a short password.
    let (status, code, _) = api_error(api.register(&request).await.unwrap_err());
    assert_eq!((status, code), (409, ErrorCode::Conflict));
    let taken = RegisterRequest {
        email: "other@person.org".into(),
        organisation: Some("Startup".into()),
        ..request.clone()
    };
    assert_eq!(api_error(api.register(&taken).await.unwrap_err()).0, 409);
    let short = RegisterRequest {
        email: "third@person.org".into(),
        password: "short".into(),
        organisation: None,
        ..request.clone()
    };
    assert_eq!(api_error(api.register(&short).await.unwrap_err()).0, 400);
    // And a new user logs in with the password given.
    let mut again = ApiClient::new(&server.url()).unwrap();
    again
        .login("NEW@person.org", "longenough")
        .await
        .expect("emails are case-insensitive");

    let closed = TestServer::start_with(|c| c.allow_registration = Some(false)).await;
    let mut api = ApiClient::new(&closed.url()).unwrap();
    let (status, code, _) = api_error(api.register(&request).await.unwrap_err());
    assert_eq!((status, code), (403, ErrorCode::RegistrationClosed));
}

#[tokio::test]
async fn a_user_renames_themselves_and_others_see_it_at_the_next_join() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let renamed = api.rename("  Ann from Startup ").await.unwrap();
    assert_eq!(renamed.name, "Ann from Startup");
    assert_eq!(api.me().await.unwrap().name, "Ann from Startup");
    // Limits are bytes of UTF-8: 67 CJK characters are 201 bytes.
    let too_long = ["x".repeat(201), "名".repeat(67)];
    let bad_names = [
        "",
        "   ",
        &too_long[0],
        &too_long[1],
        "two\nlines",
        "evil\u{202E}txt.exe",
    ];
    for bad in bad_names {
        let (status, code, message) = api_error(api.rename(bad).await.unwrap_err());
        assert_eq!((status, code), (400, ErrorCode::BadRequest), "{bad:?}");
        assert!(message.starts_with("the name "), "{message}");
    }
    assert!(api.rename(&"名".repeat(66)).await.is_ok(), "198 bytes fit");
    api.rename("Ann from Startup").await.unwrap();
    assert_eq!(api.me().await.unwrap().name, "Ann from Startup");
    // The room and the dashboard name the participant by the new name.
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut session = server.connect(&api).await;
    session.join(meeting).await.unwrap();
    let other = server.login(CORPORATE).await;
    let listed = other.meeting(meeting).await.unwrap();
    assert_eq!(listed.people_now[0].name, "Ann from Startup");
    // Without a token: 401.
    let anonymous = ApiClient::new(&server.url()).unwrap();
    assert_eq!(api_error(anonymous.rename("x").await.unwrap_err()).0, 401);
}

#[tokio::test]
async fn server_info_offers_the_demo_login_only_with_demo_data() {
    let server = TestServer::start().await;
    let anonymous = ApiClient::new(&server.url()).unwrap();
    let info = anonymous.server_info().await.unwrap();
    assert_eq!(info.protocol_version, shared::PROTOCOL_VERSION);
    let demo = info.demo.expect("the test server runs with demo data");
    let mut api = ApiClient::new(&server.url()).unwrap();
    api.login(&demo.email, &demo.password)
        .await
        .expect("the offered demo login works");

    let plain = TestServer::start_with(|c| {
        c.demo = false;
        c.allow_registration = Some(false);
    })
    .await;
    let info = ApiClient::new(&plain.url())
        .unwrap()
        .server_info()
        .await
        .unwrap();
    assert_eq!((info.demo, info.registration), (None, false));
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let server = TestServer::start().await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let mut session = server.connect(&api).await;
    session.join(meeting).await.unwrap();
    let health = reqwest::get(format!("{}/healthz", server.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let joined = [
        "huddle_connections 1",
        "huddle_rooms 1",
        "huddle_participants 1",
    ];
    metrics_show(&server, &joined).await;
    // The gauges come back down: leaving empties the room...
    session.send(ClientMsg::Leave).await.unwrap();
    wait_for(&mut session, "left", |m| {
        matches!(m, ServerMsg::Left { .. })
    })
    .await;
    let left = [
        "huddle_connections 1",
        "huddle_rooms 0",
        "huddle_participants 0",
    ];
    metrics_show(&server, &left).await;
    // ...and closing ends the connection.
    session.close().await;
    metrics_show(&server, &["huddle_connections 0"]).await;
}

async fn metrics_text(server: &TestServer) -> String {
    let response = reqwest::get(format!("{}/metrics", server.url())).await;
    response.unwrap().text().await.unwrap()
}

/// Waits until `/metrics` has each of `lines` (the server updates its
/// gauges as it notices, not at once).
async fn metrics_show(server: &TestServer, lines: &[&str]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let metrics = metrics_text(server).await;
        let missing: Vec<_> = lines
            .iter()
            .filter(|line| !metrics.lines().any(|l| l == **line))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing {missing:?} in\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_unreachable_server_is_reported_as_such() {
    let mut api = ApiClient::new("http://127.0.0.1:9").unwrap();
    let err = api.login(STARTUP, PASSWORD).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("unreachable"), "{err}");
    assert!(matches!(
        ApiClient::new("ftp://x"),
        Err(Error::BadUrl { .. })
    ));
}
