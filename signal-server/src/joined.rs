//! Building `joined` so that it always fits in one frame: the room's
//! participants and as much of the newest chat history as the byte budget
//! leaves room for. Older messages stay readable over REST.

use shared::protocol::{JOINED_HISTORY_BUDGET_BYTES, MAX_FRAME_BYTES};
use shared::{ChatMessage, MeetingId, Participant, ServerMsg, Topology};

/// What `joined` says of the room itself.
pub struct RoomNow {
    pub meeting_id: MeetingId,
    pub topology: Topology,
    pub locked: bool,
    /// The newcomer's own role.
    pub role: shared::Role,
}

/// `joined` for a newcomer: everyone present, and the newest messages of
/// `history` (oldest first) that fit both the history budget and the frame.
pub fn joined(
    room: RoomNow,
    participants: Vec<Participant>,
    mut history: Vec<ChatMessage>,
) -> ServerMsg {
    let mut msg = ServerMsg::Joined {
        meeting_id: room.meeting_id,
        participants,
        chat_history: Vec::new(),
        topology: room.topology,
        locked: room.locked,
        role: room.role,
    };
    // What the frame has left once the participants are in it.
    let left_in_frame = MAX_FRAME_BYTES.saturating_sub(msg.to_json().len());
    let budget = JOINED_HISTORY_BUDGET_BYTES.min(left_in_frame);
    let keep = newest_that_fit(&history, budget);
    history.drain(..history.len() - keep);
    if let ServerMsg::Joined { chat_history, .. } = &mut msg {
        *chat_history = history;
    }
    msg
}

/// How many of the newest messages fit in `budget` bytes of a JSON array.
fn newest_that_fit(history: &[ChatMessage], budget: usize) -> usize {
    let mut used = 0;
    let mut count = 0;
    for message in history.iter().rev() {
        // Each message and the comma before it.
        let size = serde_json::to_string(message).map_or(usize::MAX, |json| json.len() + 1);
        if used + size > budget {
            break;
        }
        used += size;
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{MessageId, PeerId, UserId};

    fn mesh_room() -> RoomNow {
        RoomNow {
            meeting_id: MeetingId(1),
            topology: Topology::Mesh,
            locked: false,
            role: shared::Role::Participant,
        }
    }

    fn message(id: i64, text: &str) -> ChatMessage {
        ChatMessage {
            id: MessageId(id),
            from: UserId(1),
            name: "ann".into(),
            text: text.into(),
            sent_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn person(peer: u64, name: String) -> Participant {
        Participant {
            id: PeerId(peer),
            user_id: UserId(peer as i64),
            name,
            audio: true,
            video: true,
            screen: false,
            role: Default::default(),
            hand: None,
        }
    }

    fn history_ids(msg: &ServerMsg) -> Vec<i64> {
        let ServerMsg::Joined { chat_history, .. } = msg else {
            panic!("{msg:?}")
        };
        chat_history.iter().map(|m| m.id.0).collect()
    }

    #[test]
    fn a_short_history_is_sent_whole() {
        let history: Vec<_> = (1..=50).map(|i| message(i, "hello")).collect();
        let msg = joined(mesh_room(), vec![], history);
        assert_eq!(history_ids(&msg), (1..=50).collect::<Vec<_>>());
    }

    #[test]
    fn escaped_control_characters_cannot_push_joined_past_the_frame() {
        // The attack from the issue: each \u0001 is six bytes of JSON.
        let hostile = "\u{1}".repeat(4000);
        let history: Vec<_> = (1..=50).map(|i| message(i, &hostile)).collect();
        let msg = joined(mesh_room(), vec![], history);
        let json = msg.to_json();
        assert!(json.len() <= MAX_FRAME_BYTES, "{} bytes", json.len());
        let ids = history_ids(&msg);
        assert!(!ids.is_empty(), "the newest messages still come");
        assert_eq!(*ids.last().unwrap(), 50, "the newest message is kept");
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    }

    #[test]
    fn a_full_room_of_long_names_leaves_less_for_the_history() {
        let name = "\"".repeat(200); // 400 bytes once escaped
        let people: Vec<_> = (1..=50).map(|i| person(i, name.clone())).collect();
        let history: Vec<_> = (1..=50).map(|i| message(i, &"会".repeat(1365))).collect();
        let msg = joined(mesh_room(), people, history);
        assert!(msg.to_json().len() <= MAX_FRAME_BYTES);
        assert!(!history_ids(&msg).is_empty());
    }

    #[test]
    fn the_budget_counts_bytes_of_json() {
        let history = vec![message(1, "a"), message(2, "b")];
        let one = serde_json::to_string(&history[1]).unwrap().len() + 1;
        assert_eq!(newest_that_fit(&history, one), 1);
        assert_eq!(newest_that_fit(&history, one - 1), 0);
        assert_eq!(newest_that_fit(&history, 2 * one), 2);
    }
}
