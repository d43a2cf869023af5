//! Newtype ids, so a user id can never be passed where a meeting id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId(i64)
);
id_type!(
    /// An organisation (a company or team) that users belong to.
    OrganisationId(i64)
);
id_type!(
    /// A scheduled meeting; its live room has the same id.
    MeetingId(i64)
);
id_type!(
    /// A stored chat message.
    MessageId(i64)
);
id_type!(
    /// One live connection in a room. The same user on two devices is two peers.
    /// Peer ids also decide who is "polite" in WebRTC perfect negotiation.
    PeerId(u64)
);
