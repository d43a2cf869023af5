//! The benchmark's baseline: the least a WebSocket chat broadcast can do on
//! axum. It speaks just enough of Huddle's protocol for the load clients
//! (`join` answered with `joined`, `chat` sent to the room as
//! `chat_message`) and nothing else: no storage, no checks, no limits, axum's
//! default socket buffers. What huddle-signal costs above it is the price of
//! storing, checking and bounding.

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use shared::{ChatMessage, ClientMsg, MeetingId, MessageId, ServerMsg, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A connection's number and its writer's queue.
type Member = (u64, mpsc::UnboundedSender<Utf8Bytes>);

#[derive(Default)]
struct Rooms {
    next_id: AtomicU64,
    members: Mutex<HashMap<MeetingId, Vec<Member>>>,
}

/// Serves until the process is killed, printing `listening on http://ADDR`.
pub async fn serve() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/ws", get(upgrade))
        .with_state(Arc::new(Rooms::default()));
    axum::serve(listener, app).await?;
    Ok(())
}

async fn upgrade(State(rooms): State<Arc<Rooms>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(rooms, socket))
}

async fn connection(rooms: Arc<Rooms>, socket: WebSocket) {
    let id = rooms.next_id.fetch_add(1, Ordering::Relaxed);
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.send(Message::Text(text)).await.is_err() {
                return;
            }
        }
    });
    let mut room = None;
    while let Some(Ok(Message::Text(text))) = stream.next().await {
        match serde_json::from_str::<ClientMsg>(text.as_str()) {
            Ok(ClientMsg::Join { meeting_id }) => {
                room = Some(meeting_id);
                let mut members = rooms.members.lock().unwrap();
                members
                    .entry(meeting_id)
                    .or_default()
                    .push((id, tx.clone()));
                let joined = ServerMsg::Joined {
                    meeting_id,
                    participants: vec![],
                    chat_history: vec![],
                    topology: shared::Topology::Mesh,
                    locked: false,
                    role: shared::Role::Participant,
                };
                let _ = tx.send(joined.to_json().into());
            }
            Ok(ClientMsg::Chat { text }) => {
                let Some(meeting) = room else { continue };
                let message = ServerMsg::ChatMessage(ChatMessage {
                    id: MessageId(rooms.next_id.fetch_add(1, Ordering::Relaxed) as i64),
                    from: UserId(id as i64),
                    name: "Load".into(),
                    text,
                    sent_at: time::OffsetDateTime::now_utc(),
                });
                let json: Utf8Bytes = message.to_json().into();
                for (_, member) in rooms
                    .members
                    .lock()
                    .unwrap()
                    .get(&meeting)
                    .into_iter()
                    .flatten()
                {
                    let _ = member.send(json.clone());
                }
            }
            _ => {}
        }
    }
    if let Some(meeting) = room
        && let Some(members) = rooms.members.lock().unwrap().get_mut(&meeting)
    {
        members.retain(|(member, _)| *member != id);
    }
    writer.abort();
}
