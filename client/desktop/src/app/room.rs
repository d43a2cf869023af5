//! The meeting room: a video grid that lays itself out for the tiles it has,
//! the shared screen large when someone shares, a control bar, and the chat
//! and participants panels.

use super::Intent;
use super::backend::{JoinedCall, LatestFrames, LiveStats, SELF_VIEW};
use super::room_audio::{self, RoomAudio};
use huddle_engine::call::{Commander, TrackKind};
use huddle_engine::media::scale::{FrameScaler, ScaleQuality};
use shared::{ChatMessage, MeetingId, Participant, PeerId};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

const TOAST_FOR: Duration = Duration::from_secs(4);

/// Everything the room shows, kept apart from how it is drawn.
pub struct RoomState {
    pub meeting: MeetingId,
    pub title: String,
    pub me: PeerId,
    pub participants: BTreeMap<PeerId, Participant>,
    pub chat: Vec<ChatMessage>,
    pub chat_input: String,
    pub mic_on: bool,
    pub camera_on: bool,
    pub sharing: bool,
    pub show_chat: bool,
    pub show_participants: bool,
    pub show_stats: bool,
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
    pub stats: LiveStats,
    textures: HashMap<(PeerId, TrackKind), (u64, egui::TextureHandle)>,
    scaler: FrameScaler,
    /// Open while choosing what to share.
    pub share_picker: Option<super::share_picker::SharePicker>,
    pub audio: RoomAudio,
}

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
            me: call.me,
            participants: call.participants.into_iter().map(|p| (p.id, p)).collect(),
            chat: call.chat_history,
            chat_input: String::new(),
            mic_on,
            camera_on,
            sharing: false,
            show_chat: false,
            show_participants: false,
            show_stats: false,
            unread: 0,
            toasts: Vec::new(),
            banner: None,
            reconnecting: false,
            commander: call.commander,
            join_started,
            first_frame_after: None,
            audio,
            frames: call.frames,
            stats: call.stats,
            textures: HashMap::new(),
            scaler: FrameScaler::new(ScaleQuality::Fast),
            share_picker: None,
        }
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

    /// Uploads the newest frame of a stream as a texture, if it changed,
    /// shrunk to the size it is shown at (`shown_at`, in points): converting
    /// and rendering pixels nobody sees was most of the app's memory and CPU.
    fn texture(
        &mut self,
        ctx: &egui::Context,
        peer: PeerId,
        kind: TrackKind,
        shown_at: egui::Vec2,
    ) -> Option<egui::TextureHandle> {
        let (count, frame) = self.frames.get(peer, kind)?;
        let entry = self.textures.get(&(peer, kind));
        if entry.is_some_and(|(shown, _)| *shown == count) {
            return entry.map(|(_, t)| t.clone());
        }
        let pixels = shown_at * ctx.pixels_per_point();
        let shrunk =
            self.scaler
                .shrink_to_fit(&frame, pixels.x.ceil() as usize, pixels.y.ceil() as usize);
        let frame = shrunk.as_ref().unwrap_or(&frame);
        let image = egui::ColorImage::from_rgba_premultiplied(
            [frame.width, frame.height],
            &frame.to_rgba(),
        );
        let texture = match self.textures.remove(&(peer, kind)) {
            Some((_, mut texture)) => {
                texture.set(image, egui::TextureOptions::LINEAR);
                texture
            }
            None => ctx.load_texture(
                format!("{peer}-{kind:?}"),
                image,
                egui::TextureOptions::LINEAR,
            ),
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

pub fn show(ui: &mut egui::Ui, room: &mut RoomState) -> Vec<Intent> {
    let mut intents = Vec::new();
    room.toasts.retain(|(_, at)| at.elapsed() < TOAST_FOR);
    if !room.toasts.is_empty() {
        // Toasts fade by themselves; ask for a frame when the oldest expires.
        ui.ctx().request_repaint_after(TOAST_FOR);
    }
    if room.audio.push_to_talk {
        room_audio::push_to_talk(ui, &mut room.audio, room.mic_on, &mut intents);
    }
    egui::Panel::bottom("controls").show(ui, |ui| {
        ui.horizontal(|ui| control_bar(ui, room, &mut intents));
    });
    if room.show_chat {
        egui::Panel::right("chat")
            .min_size(260.0)
            .show(ui, |ui| chat_panel(ui, room, &mut intents));
    }
    if room.audio.show_panel {
        egui::Panel::right("audio").min_size(240.0).show(ui, |ui| {
            intents.extend(room_audio::audio_panel(ui, &mut room.audio, room.mic_on))
        });
    }
    if room.show_participants {
        egui::Panel::right("participants")
            .min_size(220.0)
            .show(ui, |ui| participants_panel(ui, room));
    }
    if let Some(picker) = room.share_picker.as_mut() {
        intents.extend(super::share_picker::show(ui.ctx(), picker));
    }
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.heading(&room.title);
            ui.label(format!("{} in the call", room.participants.len() + 1));
        });
        let banner = if room.reconnecting {
            Some("Reconnecting to the server… (you can still see and hear the others)")
        } else {
            room.banner.as_deref()
        };
        if let Some(banner) = banner {
            ui.colored_label(ui.visuals().warn_fg_color, banner);
        }
        for (text, _) in &room.toasts {
            ui.weak(text);
        }
        room_audio::muted_hint(ui, &mut room.audio, room.mic_on);
        video_area(ui, room);
    });
    intents
}

fn control_bar(ui: &mut egui::Ui, room: &RoomState, intents: &mut Vec<Intent>) {
    room_audio::microphone_controls(ui, &room.audio, room.mic_on, intents);
    if ui
        .button(if room.camera_on {
            "Stop video"
        } else {
            "Start video"
        })
        .clicked()
    {
        intents.push(Intent::SetCamera(!room.camera_on));
    }
    if ui
        .button(if room.sharing {
            "Stop sharing"
        } else {
            "Share screen"
        })
        .clicked()
    {
        intents.push(if room.sharing {
            Intent::SetShare(false)
        } else {
            Intent::OpenSharePicker
        });
    }
    let chat_label = if room.unread > 0 {
        format!("Chat ({})", room.unread)
    } else {
        "Chat".to_string()
    };
    if ui.selectable_label(room.show_chat, chat_label).clicked() {
        intents.push(Intent::ToggleChat);
    }
    let people = format!("Participants ({})", room.participants.len() + 1);
    if ui
        .selectable_label(room.show_participants, people)
        .clicked()
    {
        intents.push(Intent::ToggleParticipants);
    }
    if ui.selectable_label(room.show_stats, "Stats").clicked() {
        intents.push(Intent::ToggleStats);
    }
    if ui.button("Leave").clicked() {
        intents.push(Intent::Leave);
    }
}

fn chat_panel(ui: &mut egui::Ui, room: &mut RoomState, intents: &mut Vec<Intent>) {
    ui.heading("Chat");
    egui::Panel::bottom("chat-input").show(ui, |ui| {
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut room.chat_input)
                    .hint_text("Message")
                    .desired_width(180.0),
            );
            let sent_by_enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Send").clicked() || sent_by_enter) && !room.chat_input.trim().is_empty()
            {
                intents.push(Intent::SendChat(std::mem::take(&mut room.chat_input)));
            }
        });
    });
    egui::ScrollArea::vertical()
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for message in &room.chat {
                let at = message.sent_at;
                ui.horizontal_wrapped(|ui| {
                    ui.strong(&message.name);
                    ui.weak(format!("{:02}:{:02}", at.hour(), at.minute()));
                });
                ui.label(&message.text);
                ui.add_space(4.0);
            }
        });
}

fn participants_panel(ui: &mut egui::Ui, room: &RoomState) {
    ui.heading(format!("Participants ({})", room.participants.len() + 1));
    ui.label(format!(
        "You: {}, {}",
        if room.mic_on { "mic on" } else { "muted" },
        if room.camera_on {
            "camera on"
        } else {
            "camera off"
        }
    ));
    // Each voice's level as it arrives (the meter beside a name moves while
    // they talk).
    for participant in room.participants.values() {
        ui.horizontal(|ui| {
            ui.label(format!(
                "{}: {}",
                participant.name,
                describe_state(participant)
            ));
            if participant.audio {
                let level = room
                    .stats
                    .get(participant.id)
                    .map_or(-100.0, |s| s.level_dbfs);
                room_audio::level_meter(ui, level, true, 50.0);
            }
        });
    }
}

fn describe_state(p: &Participant) -> String {
    let mut parts = vec![
        if p.audio { "mic on" } else { "muted" },
        if p.video { "camera on" } else { "camera off" },
    ];
    if p.screen {
        parts.push("sharing");
    }
    parts.join(", ")
}

/// The grid, or the shared screen large with the cameras beside it.
fn video_area(ui: &mut egui::Ui, room: &mut RoomState) {
    let ctx = ui.ctx().clone();
    let available = ui.available_size();
    let big = egui::vec2(available.x * 0.75, available.y - 30.0);
    let sharer = room.participants.values().find(|p| p.screen).map(|p| p.id);
    let screen = sharer.and_then(|peer| {
        room.texture(&ctx, peer, TrackKind::Screen, big)
            .map(|t| (peer, t))
    });
    let peers: Vec<PeerId> = room.participants.keys().copied().collect();
    let tiles = peers.len() + 1;
    if let Some((peer, texture)) = screen {
        let name = room
            .participants
            .get(&peer)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.add(egui::Image::new(&texture).fit_to_exact_size(fit(big, &texture)));
                ui.label(format!("{name} is sharing"));
            });
            ui.vertical(|ui| {
                let small = egui::vec2(available.x * 0.22, available.x * 0.22 * 9.0 / 16.0);
                for peer in &peers {
                    tile(ui, room, *peer, small);
                }
            });
        });
        return;
    }
    let columns = (tiles as f32).sqrt().ceil() as usize;
    let rows = tiles.div_ceil(columns);
    let width = (available.x / columns as f32 - 8.0).max(80.0);
    let height = ((available.y - 10.0) / rows as f32 - 28.0)
        .max(45.0)
        .min(width * 9.0 / 16.0);
    let size = egui::vec2(height * 16.0 / 9.0, height);
    egui::Grid::new("video-grid")
        .num_columns(columns)
        .spacing([8.0, 8.0])
        .show(ui, |ui| {
            for (i, peer) in peers.iter().enumerate() {
                tile(ui, room, *peer, size);
                if (i + 1) % columns == 0 {
                    ui.end_row();
                }
            }
            self_tile(ui, room, size);
        });
}

fn fit(bounds: egui::Vec2, texture: &egui::TextureHandle) -> egui::Vec2 {
    let [w, h] = texture.size();
    let scale = (bounds.x / w as f32).min(bounds.y / h as f32);
    egui::vec2(w as f32 * scale, h as f32 * scale)
}

fn tile(ui: &mut egui::Ui, room: &mut RoomState, peer: PeerId, size: egui::Vec2) {
    let ctx = ui.ctx().clone();
    let texture = room.texture(&ctx, peer, TrackKind::Camera, size);
    let Some(participant) = room.participants.get(&peer) else {
        return;
    };
    let (name, video, audio) = (
        participant.name.clone(),
        participant.video,
        participant.audio,
    );
    let speaking = room.stats.active_speaker() == Some(peer);
    let stats = room.show_stats.then(|| room.stats.get(peer)).flatten();
    ui.vertical(|ui| {
        match texture.filter(|_| video) {
            Some(texture) => {
                let image =
                    ui.add(egui::Image::new(&texture).fit_to_exact_size(fit(size, &texture)));
                if speaking {
                    // The active speaker's tile is outlined.
                    let stroke = egui::Stroke::new(3.0, egui::Color32::from_rgb(80, 200, 120));
                    ui.painter()
                        .rect_stroke(image.rect, 4.0, stroke, egui::StrokeKind::Inside);
                }
                if let Some(s) = &stats {
                    let text = format!(
                        "{}×{} · {:.0} fps · {:.0} kbit/s · loss {:.1}% · {} · PLI {}",
                        s.width,
                        s.height,
                        s.fps,
                        s.kbit_per_s,
                        s.loss_percent,
                        s.latency_ms
                            .map_or("latency –".into(), |l| format!("{l:.0} ms")),
                        s.keyframe_requests
                    );
                    let at = image.rect.left_top() + egui::vec2(6.0, 6.0);
                    let galley = ui.painter().layout_no_wrap(
                        text,
                        egui::FontId::monospace(12.0),
                        egui::Color32::WHITE,
                    );
                    let back = egui::Rect::from_min_size(at, galley.size()).expand(3.0);
                    ui.painter()
                        .rect_filled(back, 3.0, egui::Color32::from_black_alpha(170));
                    ui.painter().galley(at, galley, egui::Color32::WHITE);
                }
            }
            None => {
                let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                ui.painter()
                    .rect_filled(rect, 6.0, egui::Color32::from_gray(40));
                let text = if video { "connecting…" } else { "camera off" };
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    text,
                    egui::FontId::proportional(14.0),
                    egui::Color32::GRAY,
                );
            }
        }
        ui.horizontal(|ui| {
            ui.label(name);
            if !audio {
                ui.weak("(muted)");
            } else if speaking {
                ui.weak("(speaking)");
            }
        });
    });
}

fn self_tile(ui: &mut egui::Ui, room: &mut RoomState, size: egui::Vec2) {
    let ctx = ui.ctx().clone();
    let texture = room
        .texture(&ctx, SELF_VIEW, TrackKind::Camera, size)
        .filter(|_| room.camera_on);
    ui.vertical(|ui| {
        match texture {
            // The self view, mirrored as people expect to see themselves.
            Some(texture) => {
                let image = egui::Image::new(&texture)
                    .fit_to_exact_size(fit(size, &texture))
                    .uv(egui::Rect::from_min_max(
                        egui::pos2(1.0, 0.0),
                        egui::pos2(0.0, 1.0),
                    ));
                ui.add(image);
            }
            None => {
                let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                ui.painter()
                    .rect_filled(rect, 6.0, egui::Color32::from_rgb(30, 45, 70));
                let text = if room.camera_on {
                    "starting camera…"
                } else {
                    "camera off"
                };
                ui.painter().text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    text,
                    egui::FontId::proportional(14.0),
                    egui::Color32::LIGHT_GRAY,
                );
            }
        }
        ui.horizontal(|ui| {
            ui.label("You");
            if !room.mic_on {
                ui.weak("(muted)");
            } else if room.audio.level.dbfs() > room_audio::TALKING_DBFS {
                ui.weak("(speaking)");
            }
        });
    });
}
