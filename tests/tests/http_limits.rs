//! The HTTP side under abuse: idle and slow sockets are closed, a body that
//! dribbles in gets an answer instead of holding a worker, an oversized email
//! never reaches the limiter or the password hasher, and chat past its
//! retention is deleted.

use huddle_tests::*;
use shared::ErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn quick_timeouts() -> TestServer {
    TestServer::start_with(|c| {
        c.limits.http_header_timeout_ms = 500;
        c.limits.http_body_timeout_ms = 500;
    })
    .await
}

/// Everything the server sends until it closes the socket.
async fn read_until_closed(socket: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server never closed the socket");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_socket_that_sends_nothing_or_half_a_request_is_closed() {
    let server = quick_timeouts().await;
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    assert_eq!(
        read_until_closed(&mut idle).await,
        "",
        "closed without a word"
    );

    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: huddle\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    // A whole request in time is served.
    let mut quick = TcpStream::connect(server.addr()).await.unwrap();
    quick
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: huddle\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(
        read_until_closed(&mut quick)
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test]
async fn a_body_that_never_finishes_is_answered_not_waited_for() {
    let server = quick_timeouts().await;
    let mut socket = TcpStream::connect(server.addr()).await.unwrap();
    let head = "POST /api/login HTTP/1.1\r\nHost: huddle\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\nConnection: close\r\n\r\n{\"email\":";
    socket.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut socket).await;
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    assert!((400..500).contains(&status), "{answer}");
}

#[tokio::test]
async fn an_oversized_email_is_refused_before_it_becomes_a_limiter_key() {
    let server = TestServer::start_with(|c| c.limits.logins_per_address_per_minute = 3).await;
    let huge = format!("{}@example.org", "a".repeat(100_000));
    for _ in 0..5 {
        let mut api = huddle_engine::ApiClient::new(&server.url()).unwrap();
        match api.login(&huge, PASSWORD).await {
            Err(huddle_engine::Error::Api {
                status: 401, code, ..
            }) => {
                assert_eq!(code, ErrorCode::Unauthorized)
            }
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }
    // None of them counted against the address: a real login still works.
    server.login(STARTUP).await;
}

#[tokio::test]
async fn chat_older_than_the_retention_is_deleted_and_newer_chat_kept() {
    let server = TestServer::start_with(|c| c.chat_retention_days = Some(30)).await;
    let api = server.login(STARTUP).await;
    let meeting = server.meeting_id(&api, ALL_USERS).await;
    let user = api.me().await.unwrap().id;
    let day = 24 * 3600 * 1000;
    for (text, age_days) in [("last year", 365), ("last month", 31), ("last week", 7)] {
        let name = "Ann".to_string();
        let message = server.app().chat.insert(meeting, user, name, text.into());
        let id = message.await.unwrap().id;
        let backdate = move |conn: &mut rusqlite::Connection| {
            let sql = "UPDATE chat_messages SET sent_at = sent_at - ?1 WHERE id = ?2";
            Ok(conn.execute(sql, [age_days * day, id.0])?)
        };
        server.app().db.call(backdate).await.unwrap();
    }
    signal_server::maintenance::clean_up_once(server.app()).await;
    let page = api.messages(meeting, None, 50).await.unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["last week"]);
}
