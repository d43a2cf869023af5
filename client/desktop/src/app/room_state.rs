//! Everything the room screen shows, kept apart from how it is drawn: the
//! room read from the engine, the chat, our own controls, the panels open,
//! and the textures of the newest frames.

use super::backend::{JoinedCall, LatestFrames, SELF_VIEW};
use super::room_audio::RoomAudio;
use super::tile_layers::TileLayers;
use huddle_engine::call::{CallView, Commander, Room, TrackKind};
use shared::{ChatMessage, MeetingId, Participant, PeerId, Reaction};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Everything the room shows, kept apart from how it is drawn.
pub struct RoomState {
    pub meeting: MeetingId,
    pub title: String,
    /// The room as the engine sees it, and what it measures of each peer.
    pub view: CallView,
    /// The room as of the newest call event (read from `view` then, so
    /// drawing takes no lock).
    pub people: Room,
    pub chat: Vec<ChatMessage>,
    pub chat_input: String,
    pub mic_on: bool,
    pub camera_on: bool,
    pub sharing: bool,
    pub show_chat: bool,
    pub show_participants: bool,
    pub show_stats: bool,
    /// The keyboard shortcuts' overlay (F1).
    pub show_shortcuts: bool,
    /// One person large (the one pinned, else whoever speaks), the others
    /// small beside them; otherwise a grid of equals.
    pub speaker_view: bool,
    /// Shown large whoever speaks (for this user only).
    pub pinned: Option<PeerId>,
    pub unread: usize,
    pub toasts: Vec<(String, Instant)>,
    /// Shown while a peer connection is lost.
    pub banner: Option<String>,
    /// True while the engine is getting back into the meeting after the server dropped.
    pub reconnecting: bool,
    pub commander: Commander,
    /// When the user asked to join, and how long until the first remote frame was on screen.
    join_started: Instant,
    pub first_frame_after: Option<Duration>,
    frames: LatestFrames,
    textures: HashMap<(PeerId, TrackKind), (u64, egui::TextureHandle)>,
    /// Open while choosing what to share.
    pub share_picker: Option<super::share_picker::SharePicker>,
    pub audio: RoomAudio,
    /// The camera size each tile asked for (in a large meeting).
    pub tile_layers: TileLayers,
    /// Each person's newest reaction (ourselves under our own peer id),
    /// shown on their tile for [`REACTION_SHOWN_FOR`].
    pub reactions: HashMap<PeerId, (Reaction, Instant)>,
}

/// How long a reaction stays on a tile.
pub const REACTION_SHOWN_FOR: Duration = Duration::from_secs(4);

impl RoomState {
    pub fn new(
        call: JoinedCall,
        title: String,
        mic_on: bool,
        camera_on: bool,
        join_started: Instant,
        audio: RoomAudio,
    ) -> RoomState {
        RoomState {
            meeting: call.meeting,
            title,
            people: call.view.room(),
            view: call.view,
            chat: call.chat_history,
            chat_input: String::new(),
            mic_on,
            camera_on,
            sharing: false,
            show_chat: false,
            show_participants: false,
            show_stats: false,
            show_shortcuts: false,
            speaker_view: false,
            pinned: None,
            unread: 0,
            toasts: Vec::new(),
            banner: None,
            reconnecting: false,
            commander: call.commander,
            join_started,
            first_frame_after: None,
            audio,
            frames: call.frames,
            textures: HashMap::new(),
            share_picker: None,
            tile_layers: TileLayers::default(),
            reactions: HashMap::new(),
        }
    }

    /// Everyone else in the room, in the order they came.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.people.members.iter().map(|m| &m.participant)
    }

    pub fn participant(&self, id: PeerId) -> Option<&Participant> {
        self.people.member(id).map(|m| &m.participant)
    }

    /// Reads the room again from the engine (after a call event).
    pub fn refresh(&mut self) {
        self.people = self.view.room();
        let people = &self.people;
        // One who left is no longer pinned.
        self.pinned = self.pinned.filter(|peer| people.member(*peer).is_some());
        self.tile_layers
            .keep_only(|peer| people.member(peer).is_some());
    }

    /// The reaction to show on `peer`'s tile now, if any.
    pub fn reaction_of(&self, peer: PeerId) -> Option<Reaction> {
        let (reaction, at) = self.reactions.get(&peer)?;
        (at.elapsed() < REACTION_SHOWN_FOR).then_some(*reaction)
    }

    pub fn toast(&mut self, text: String) {
        self.toasts.push((text, Instant::now()));
    }

    /// How many frames of a peer's stream have reached the screen (for tests and stats).
    pub fn frames_shown(&self, peer: PeerId, kind: TrackKind) -> u64 {
        self.textures
            .get(&(peer, kind))
            .map_or(0, |(count, _)| *count)
    }

    /// The newest frame of a stream as a texture, uploaded if it changed.
    /// The converter (`live.rs`) is told the size it is shown at
    /// (`shown_at`, in points): converting and rendering pixels nobody sees
    /// was most of the app's memory and CPU.
    pub(super) fn texture(
        &mut self,
        ctx: &egui::Context,
        peer: PeerId,
        kind: TrackKind,
        shown_at: egui::Vec2,
    ) -> Option<egui::TextureHandle> {
        let pixels = shown_at * ctx.pixels_per_point();
        let wanted = [pixels.x.ceil() as usize, pixels.y.ceil() as usize];
        self.frames.want(peer, kind, wanted);
        let (count, image) = self.frames.get(peer, kind)?;
        let entry = self.textures.get(&(peer, kind));
        if entry.is_some_and(|(shown, _)| *shown == count) {
            return entry.map(|(_, t)| t.clone());
        }
        let filter = filter_for(image.size, wanted);
        let texture = match self.textures.remove(&(peer, kind)) {
            Some((_, mut texture)) => {
                texture.set(image, filter);
                texture
            }
            None => ctx.load_texture(format!("{peer}-{kind:?}"), image, filter),
        };
        if self.first_frame_after.is_none() && peer != SELF_VIEW {
            let after = self.join_started.elapsed();
            self.first_frame_after = Some(after);
            tracing::info!(target: "huddle::timing", "first remote frame on screen {} ms after join", after.as_millis());
        }
        self.textures.insert((peer, kind), (count, texture.clone()));
        Some(texture)
    }
}

/// Nearest-pixel sampling for an image drawn at its own size (the usual
/// case: frames are shrunk to the tile), which is the same picture for less
/// work where there is no GPU; bilinear for one stretched or shrunk.
fn filter_for(image: [usize; 2], shown: [usize; 2]) -> egui::TextureOptions {
    let scale =
        (shown[0] as f32 / image[0].max(1) as f32).min(shown[1] as f32 / image[1].max(1) as f32);
    if (scale - 1.0).abs() < 0.02 {
        egui::TextureOptions::NEAREST
    } else {
        egui::TextureOptions::LINEAR
    }
}
