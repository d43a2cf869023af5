//! Huddle's wire protocol: ids, the live room messages and the REST bodies,
//! shared by the signal server, the call engine and third-party clients.

pub mod api;
pub mod host;
pub mod ids;
pub mod limits;
pub mod protocol;

pub use host::{HostAction, Role};
pub use ids::{MeetingId, MessageId, OrganisationId, PeerId, UserId};
pub use protocol::{
    ChatMessage, ClientMsg, ErrorCode, IceCandidate, IceServer, MediaState, Organisation,
    PROTOCOL_VERSION, Participant, PeerSignal, Reaction, ServerMsg, SessionDescription, SfuLink,
    SfuSource, SfuStream, Topology, User, VideoLayer,
};

#[cfg(test)]
mod tests;
