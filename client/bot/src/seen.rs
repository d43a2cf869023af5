//! One remote participant as a bot saw it: the newest state the room
//! announced, every state seen along the way, and what arrived of its media.

use super::report::SeenReport;
use super::stats::{AudioStats, VideoStats};
use huddle_engine::call::{Call, CandidateKind};
use shared::Participant;

/// One remote participant as this bot saw it.
pub(super) struct Seen {
    pub(super) participant: Participant,
    pub(super) seen: SeenReport,
    pub(super) left: bool,
    pub(super) video: VideoStats,
    pub(super) screen: VideoStats,
    pub(super) audio: AudioStats,
    /// Frames saved so far (`--save-frames`).
    pub(super) saved: usize,
    /// How our link reaches this peer, once the call knows.
    pub(super) path: Option<CandidateKind>,
}

impl Seen {
    /// `settled`: the state is what the participant announced (it was in the
    /// room before us), not the all-off placeholder of a fresh arrival.
    pub(super) fn new(participant: Participant, settled: bool) -> Seen {
        let mut seen = Seen {
            participant,
            seen: SeenReport::default(),
            left: false,
            video: VideoStats::default(),
            screen: VideoStats::default(),
            audio: AudioStats::default(),
            saved: 0,
            path: None,
        };
        if settled {
            seen.note_state();
        }
        seen
    }

    /// Learns the link's path from the call until it is known (it is once
    /// the link has connected).
    pub(super) fn note_path(&mut self, call: &Call) {
        if self.path.is_none() {
            let peer = self.participant.id;
            self.path = call.stats(peer).and_then(|stats| stats.path);
        }
    }

    pub(super) fn note_state(&mut self) {
        let p = &self.participant;
        self.seen.muted |= !p.audio;
        self.seen.video_off |= !p.video;
        self.seen.screen_on |= p.screen;
    }
}
