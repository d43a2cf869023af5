//! 50 clients in 5 rooms chatting at once: each receives every message of its
//! room exactly once, in each sender's order, and nothing from other rooms.

use huddle_engine::SignalEvent;
use huddle_tests::*;
use shared::{ClientMsg, ServerMsg};
use std::collections::HashMap;

const ROOMS: usize = 5;
const PER_ROOM: usize = 10;
const MESSAGES_EACH: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_in_five_rooms_get_every_message_once_in_order() {
    // Two demo accounts stand in for fifty people: each may hold 25
    // connections, sending together what 25 people would.
    let server = TestServer::start_with(|c| {
        c.limits.connections_per_user = ROOMS * PER_ROOM;
        c.limits.user_allowance_factor = (ROOMS * PER_ROOM) as u32;
    })
    .await;
    let apis = [server.login(STARTUP).await, server.login(CORPORATE).await];
    let mut meetings = Vec::new();
    for room in 0..ROOMS {
        meetings.push(
            server
                .open_meeting(&apis[0], &format!("Load room {room}"))
                .await,
        );
    }
    let mut sessions = Vec::new();
    for (room, &meeting) in meetings.iter().enumerate() {
        for seat in 0..PER_ROOM {
            let mut session = server.connect(&apis[seat % 2]).await;
            session.join(meeting).await.unwrap();
            sessions.push((room, seat, session));
        }
    }
    // Everyone is in; let the join announcements settle, then all talk at once.
    let mut tasks = Vec::new();
    for (room, seat, mut session) in sessions {
        tasks.push(tokio::spawn(async move {
            let sender = session.sender();
            let talk = tokio::spawn(async move {
                for n in 0..MESSAGES_EACH {
                    sender
                        .send(ClientMsg::Chat {
                            text: format!("r{room} s{seat} n{n}"),
                        })
                        .await
                        .unwrap();
                }
            });
            let by_sender = every_chat_of_the_room(&mut session, room).await;
            talk.await.unwrap();
            (room, seat, by_sender)
        }));
    }
    for task in tasks {
        let (room, seat, by_sender) = task.await.unwrap();
        assert_eq!(
            by_sender.len(),
            PER_ROOM,
            "room {room} seat {seat} heard every sender"
        );
        for (sender, numbers) in by_sender {
            let expected: Vec<usize> = (0..MESSAGES_EACH).collect();
            assert_eq!(
                numbers, expected,
                "room {room} seat {seat}: {sender}'s messages once each, in order"
            );
        }
    }
}

/// Every chat message of `room` as this session receives it: per sender,
/// the numbers of its messages in the order they came. Fails at once on a
/// message from another room.
async fn every_chat_of_the_room(
    session: &mut huddle_engine::SignalSession,
    room: usize,
) -> HashMap<String, Vec<usize>> {
    let mut by_sender: HashMap<String, Vec<usize>> = HashMap::new();
    let mut total = 0;
    while total < PER_ROOM * MESSAGES_EACH {
        let event = tokio::time::timeout(PATIENCE, session.recv())
            .await
            .expect("chat keeps arriving");
        if let Some(SignalEvent::Message(ServerMsg::ChatMessage(message))) = event {
            let mut parts = message.text.split(' ');
            let (r, s, n) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            assert_eq!(r, format!("r{room}"), "a message from another room arrived");
            by_sender
                .entry(s.to_string())
                .or_default()
                .push(n[1..].parse().unwrap());
            total += 1;
        }
    }
    by_sender
}
