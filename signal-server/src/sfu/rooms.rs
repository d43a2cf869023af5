//! The Janus room of each meeting on the SFU: made when its first
//! participant needs it, destroyed when the meeting's room is empty. Its
//! number, secret and pin are random and never leave huddle-signal.

use super::janus_client::SfuError;
use super::videoroom::{RoomSpec, VideoRoomHandle};
use shared::MeetingId;
use std::collections::HashMap;

/// Janus's room numbers stay below 2^53, where JSON numbers are exact everywhere.
const ROOM_NUMBERS: u64 = 1 << 53;

#[derive(Default)]
pub struct JanusRooms {
    /// Held across Janus's answer, so two participants arriving at once
    /// make one room, and a room being destroyed is not handed out.
    rooms: tokio::sync::Mutex<HashMap<MeetingId, RoomSpec>>,
}

impl JanusRooms {
    /// `meeting`'s Janus room, made now if it has none.
    pub async fn ensure(
        &self,
        admin: &VideoRoomHandle,
        meeting: MeetingId,
        publishers: u32,
    ) -> Result<RoomSpec, SfuError> {
        let mut rooms = self.rooms.lock().await;
        if let Some(spec) = rooms.get(&meeting) {
            return Ok(spec.clone());
        }
        let spec = RoomSpec {
            room: rand::random::<u64>() % ROOM_NUMBERS,
            secret: random_word(),
            pin: random_word(),
            publishers,
            description: format!("huddle meeting {meeting}"),
        };
        admin.create_room(&spec).await?;
        tracing::info!("meeting {meeting} is on the SFU (Janus room {})", spec.room);
        rooms.insert(meeting, spec.clone());
        Ok(spec)
    }

    /// Destroys `meeting`'s Janus room if it has one and `still_empty`
    /// says so (asked under the lock: someone may have just arrived).
    pub async fn release(
        &self,
        admin: &VideoRoomHandle,
        meeting: MeetingId,
        still_empty: impl FnOnce() -> bool,
    ) {
        let mut rooms = self.rooms.lock().await;
        if !still_empty() {
            return;
        }
        let Some(spec) = rooms.remove(&meeting) else {
            return;
        };
        match admin.destroy_room(spec.room, &spec.secret).await {
            Ok(()) => tracing::info!("meeting {meeting} left the SFU (Janus room {})", spec.room),
            Err(err) => tracing::warn!("destroying Janus room {} failed: {err}", spec.room),
        }
    }

    /// Janus restarted: it has none of the rooms it had.
    pub async fn forget_all(&self) {
        self.rooms.lock().await.clear();
    }

    /// The Janus room of `meeting`, if it has one now.
    pub async fn room_of(&self, meeting: MeetingId) -> Option<u64> {
        self.rooms.lock().await.get(&meeting).map(|spec| spec.room)
    }
}

/// 128 random bits as hex: a secret nobody guesses.
fn random_word() -> String {
    format!("{:032x}", rand::random::<u128>())
}
