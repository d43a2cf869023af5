//! One remote participant as a bot saw it: the newest state the room
//! announced, every state seen along the way, and what arrived of its media.

use super::report::SeenReport;
use super::stats::{AudioStats, VideoStats};
use huddle_engine::call::stats::{LinkStats, RATE_INTERVAL};
use huddle_engine::call::{Call, CandidateKind, LinkQuality};
use shared::Participant;
use std::time::{Instant, SystemTime};

/// One remote participant as this bot saw it.
pub(super) struct Seen {
    pub(super) participant: Participant,
    pub(super) seen: SeenReport,
    pub(super) left: bool,
    /// When our link to it first connected, and when it left: the span its
    /// media is judged over.
    pub(super) connected_at: Option<SystemTime>,
    pub(super) left_at: Option<SystemTime>,
    pub(super) video: VideoStats,
    pub(super) screen: VideoStats,
    pub(super) audio: AudioStats,
    /// The reactions it sent, in order.
    pub(super) reactions: Vec<shared::Reaction>,
    /// Frames saved so far (`--save-frames`).
    pub(super) saved: usize,
    /// How our link reaches this peer, once the call knows.
    pub(super) path: Option<CandidateKind>,
    /// How the link carried in the newest second measured, and when that
    /// was read.
    pub(super) network: Option<Measured>,
    network_read_at: Option<Instant>,
}

/// One second of the link to a peer, as the call measured it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Measured {
    pub(super) link: LinkStats,
    pub(super) loss_pct: f64,
    pub(super) recv_kbit_per_s: f64,
    pub(super) quality: Option<LinkQuality>,
}

impl Seen {
    /// `settled`: the state is what the participant announced (it was in the
    /// room before us), not the all-off placeholder of a fresh arrival.
    pub(super) fn new(participant: Participant, settled: bool) -> Seen {
        let mut seen = Seen {
            participant,
            seen: SeenReport::default(),
            left: false,
            connected_at: None,
            left_at: None,
            video: VideoStats::default(),
            screen: VideoStats::default(),
            audio: AudioStats::default(),
            reactions: Vec::new(),
            saved: 0,
            path: None,
            network: None,
            network_read_at: None,
        };
        if settled {
            seen.note_state();
        }
        seen
    }

    /// Learns the link's path from the call until it is known (it is once
    /// the link has connected), and, once a second, how it carries.
    pub(super) fn note_link(&mut self, call: &Call) {
        let now = Instant::now();
        let due = self
            .network_read_at
            .is_none_or(|at| now.duration_since(at) >= RATE_INTERVAL);
        if self.path.is_some() && !due {
            return;
        }
        self.network_read_at = Some(now);
        let Some(stats) = call.stats(self.participant.id) else {
            return;
        };
        self.path = self.path.or(stats.path);
        // Read here too, not only with a decoded frame: the requests a
        // frozen picture makes are the ones that matter.
        if let Some(camera) = &stats.camera {
            self.video.keyframes_requested = camera.keyframe_requests;
        }
        if let Some(link) = stats.link {
            self.network = Some(Measured {
                link,
                loss_pct: stats.loss_percent(),
                recv_kbit_per_s: stats.kbit_per_s(),
                quality: stats.quality(),
            });
        }
    }

    /// It left (or we lost it in a reconnect) now.
    pub(super) fn note_left(&mut self) {
        self.left = true;
        self.left_at.get_or_insert_with(SystemTime::now);
    }

    pub(super) fn note_state(&mut self) {
        let p = &self.participant;
        self.seen.muted |= !p.audio;
        self.seen.video_off |= !p.video;
        self.seen.screen_on |= p.screen;
        self.seen.hand_raised |= p.hand.is_some();
    }
}
