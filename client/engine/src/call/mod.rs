//! The call engine: a WebRTC mesh (one peer connection per remote
//! participant) driven by commands, reporting events, with one encoder per
//! local source fanned out to every peer. The call's logic is a sans-IO
//! core (`core/`); the driver (`driver.rs`) carries out what it says.

mod adaptation;
mod audio_sender;
mod bandwidth;
mod control;
pub mod core;
mod delivery_ceiling;
mod driver;
mod engine;
mod events;
mod frame_assembler;
pub mod impairment;
mod keyframe_requests;
mod keyframe_throttle;
mod link_watch;
mod local_addresses;
mod outlets;
pub mod path;
mod peer;
mod playout;
mod read_filter;
pub mod receivers;
mod reconnect;
mod retransmission;
pub mod senders;
mod setup;
pub mod signal_payload;
mod simulcast;
mod sources;
mod standing_queue;
pub mod stats;
mod tasks;
mod track;
mod video_layers;
mod video_pacer;
mod video_sender;
mod view;
mod voice;

pub use control::{
    CallEvent, CallOptions, Command, Commander, IcePolicy, PeerLinkState, ReceiveLoss,
};
pub use core::room::{Member, Room};
pub use engine::Call;
pub use path::CandidateKind;
use playout::SpeakerSlot;
pub use reconnect::GIVE_UP_AFTER as RECONNECT_FOR;
pub use sources::{AudioSink, AudioSource, PatternSource, SourceLost, VideoSource};
pub use stats::{LinkQuality, PeerStats, TrackStats};
pub use track::{MediaEvent, Newest, TrackKind};
pub use view::CallView;
pub use voice::VoicePath;
