//! Joining a room: the meeting looked up (visible, not removed from it,
//! whether its waiting room covers the one joining), then, in order with
//! the room's chat, its history read and the room entered or its lobby.

use super::Session;
use crate::hub::MeetingRoom;
use crate::room::RoomError;
use crate::store::{chat, meetings, removals};
use shared::api::WaitingRoom;
use shared::{ErrorCode, MeetingId, Participant, PeerId, Role, User};

impl Session {
    pub(super) async fn join(&mut self, user: &User, peer: PeerId, meeting_id: MeetingId) {
        if self.app.hub.is_settled_in_room(peer) {
            return self.reply_room_error(RoomError::AlreadyInRoom);
        }
        let Some(room) = self.room_to_join(user, meeting_id).await else {
            return;
        };
        // Gates exist only for meetings found above, so strangers cannot grow the map.
        let gate = self.app.hub.gate(meeting_id);
        let _in_order = gate.lock().await;
        let limit = self.app.config.limits.chat_history_on_join;
        let history = self.app.db.call(move |conn| {
            // Checked again under the gate: the meeting may have been deleted meanwhile.
            Ok(match meetings::exists(conn, meeting_id)? {
                true => Some(chat::page(conn, meeting_id, None, limit)?),
                false => None,
            })
        });
        let history = match history.await {
            Ok(Some(history)) => history,
            Ok(None) => {
                return self.reply_error(
                    ErrorCode::NotFound,
                    format!("meeting {meeting_id} was deleted"),
                );
            }
            Err(err) => {
                tracing::error!("reading chat history of {meeting_id} failed: {err}");
                return self.reply_error(
                    ErrorCode::Internal,
                    "the server could not read the chat history; try again",
                );
            }
        };
        let participant = Participant {
            id: peer,
            user_id: user.id,
            name: user.name.clone(),
            audio: false,
            video: false,
            screen: false,
            role: Role::Participant,
            hand: None,
        };
        if let Err(err) = self.app.hub.join(peer, room, participant, history) {
            self.reply_room_error(err);
        }
    }

    /// The meeting's room as `user` may join it, or why not (already said).
    async fn room_to_join(&self, user: &User, meeting_id: MeetingId) -> Option<MeetingRoom> {
        let who = user.clone();
        let found = self.app.db.call(move |conn| {
            let removed = removals::is_removed(conn, meeting_id, who.id)?;
            let invited = meetings::is_invited(conn, meeting_id, &who)?;
            Ok((meetings::lookup(conn, meeting_id, &who)?, removed, invited))
        });
        match found.await {
            Ok((meetings::Lookup::Visible(_), true, _)) => {
                self.reply_room_error(RoomError::Removed);
                None
            }
            Ok((meetings::Lookup::Visible(meeting), false, invited)) => Some(MeetingRoom {
                id: meeting_id,
                topology: meeting.topology,
                host: meeting.host.id,
                knock: match meeting.waiting_room {
                    WaitingRoom::Off => false,
                    WaitingRoom::Uninvited => !invited,
                    WaitingRoom::Everyone => true,
                },
            }),
            Ok((meetings::Lookup::Missing, ..)) => {
                let why = format!("there is no meeting {meeting_id}");
                self.reply_error(ErrorCode::NotFound, why);
                None
            }
            Ok((meetings::Lookup::Hidden, ..)) => {
                let why = format!("you are not invited to meeting {meeting_id}");
                self.reply_error(ErrorCode::Forbidden, why);
                None
            }
            Err(err) => {
                tracing::error!("looking up meeting {meeting_id} failed: {err}");
                let why = "the server could not look up the meeting; try again";
                self.reply_error(ErrorCode::Internal, why);
                None
            }
        }
    }
}
