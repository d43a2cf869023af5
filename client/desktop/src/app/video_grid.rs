//! The room's video: a grid that lays itself out for the tiles it has, or
//! the shared screen large with the cameras beside it; each tile outlined
//! while its peer speaks loudest, with the engine's numbers over it on demand;
//! a camera that is off shows the person's initials, a reaction shows for a
//! moment, and those who run the meeting have a menu under each tile.

use super::Intent;
use super::backend::SELF_VIEW;
use super::room_audio;
use super::room_people::host_menu;
use super::room_state::{REACTION_SHOWN_FOR, RoomState};
use huddle_engine::call::{LinkQuality, PeerStats, TrackKind};
use shared::PeerId;

/// The grid, or the shared screen large with the cameras beside it.
pub(super) fn video_area(ui: &mut egui::Ui, room: &mut RoomState, intents: &mut Vec<Intent>) {
    let ctx = ui.ctx().clone();
    // A reaction goes by itself: a frame when it is due to, and none after.
    room.reactions
        .retain(|_, (_, at)| at.elapsed() < REACTION_SHOWN_FOR);
    if !room.reactions.is_empty() {
        ctx.request_repaint_after(REACTION_SHOWN_FOR);
    }
    let available = ui.available_size();
    let big = egui::vec2(available.x * 0.75, available.y - 30.0);
    let sharer = room.participants().find(|p| p.screen).map(|p| p.id);
    let screen = sharer.and_then(|peer| {
        room.texture(&ctx, peer, TrackKind::Screen, big)
            .map(|t| (peer, t))
    });
    let peers: Vec<PeerId> = room.participants().map(|p| p.id).collect();
    let tiles = peers.len() + 1;
    let speaker = room.view.active_speaker();
    let large = room
        .pinned
        .or(speaker.filter(|_| room.speaker_view))
        .or_else(|| peers.first().copied().filter(|_| room.speaker_view));
    if let Some((peer, texture)) = screen {
        let name = room
            .participant(peer)
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
                    tile(ui, room, *peer, (small, speaker), intents);
                }
            });
        });
        return;
    }
    if let Some(large) = large.filter(|_| screen.is_none()) {
        // Speaker view: one large, the others (and ourselves) beside.
        ui.horizontal(|ui| {
            tile(ui, room, large, (big, speaker), intents);
            ui.vertical(|ui| {
                let small = egui::vec2(available.x * 0.2, available.x * 0.2 * 9.0 / 16.0);
                for peer in peers.iter().filter(|p| **p != large) {
                    tile(ui, room, *peer, (small, speaker), intents);
                }
                self_tile(ui, room, small);
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
                tile(ui, room, *peer, (size, speaker), intents);
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

/// One peer's camera (or their initials), outlined while they speak loudest.
fn tile(
    ui: &mut egui::Ui,
    room: &mut RoomState,
    peer: PeerId,
    (size, speaker): (egui::Vec2, Option<PeerId>),
    intents: &mut Vec<Intent>,
) {
    let ctx = ui.ctx().clone();
    let texture = room.texture(&ctx, peer, TrackKind::Camera, size);
    let speaking = speaker == Some(peer);
    // On the SFU, the camera comes in the size this tile needs.
    let height = size.y * ctx.pixels_per_point();
    room.tile_layers
        .want(&room.commander, peer, height, speaking);
    let Some(participant) = room.participant(peer).cloned() else {
        return;
    };
    let (name, video, audio) = (
        participant.name.clone(),
        participant.video,
        participant.audio,
    );
    let reaction = room.reaction_of(peer);
    let stats = room.show_stats.then(|| room.view.stats(peer)).flatten();
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
                if let Some(stats) = &stats {
                    stats_overlay(ui, image.rect, stats);
                }
                show_reaction(ui, image.rect, reaction);
            }
            None => {
                let text = if video { "connecting…" } else { "camera off" };
                let colours = (egui::Color32::from_gray(40), egui::Color32::GRAY);
                let rect = placeholder(ui, size, (&name, text), colours);
                show_reaction(ui, rect, reaction);
            }
        }
        ui.horizontal(|ui| {
            ui.label(name);
            if participant.hand.is_some() {
                ui.label("✋").on_hover_text("Hand raised");
            }
            if !audio {
                ui.weak("(muted)");
            } else if speaking {
                ui.weak("(speaking)");
            }
            if let Some(link) = room.view.stats(peer) {
                quality_label(ui, "network", &link);
            }
            let pinned = room.pinned == Some(peer);
            let pin = ui
                .selectable_label(pinned, "📌")
                .on_hover_text(match pinned {
                    true => "Unpin",
                    false => "Pin: show them large",
                });
            if pin.clicked() {
                intents.push(Intent::Pin((!pinned).then_some(peer)));
            }
            host_menu(ui, room.people.role, &participant, intents);
        });
    });
}

/// A reaction, large in the tile's top right corner.
fn show_reaction(ui: &egui::Ui, tile: egui::Rect, reaction: Option<shared::Reaction>) {
    let Some(reaction) = reaction else {
        return;
    };
    ui.painter().text(
        tile.right_top() + egui::vec2(-10.0, 8.0),
        egui::Align2::RIGHT_TOP,
        reaction.emoji(),
        egui::FontId::proportional(36.0),
        egui::Color32::WHITE,
    );
}

/// The initials a camera-off tile shows: "Test Corporate" is "TC".
pub(super) fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// How well a link carries, in a word and a colour, with the numbers on hover.
fn quality_label(ui: &mut egui::Ui, whose: &str, link: &PeerStats) {
    let Some(quality) = link.quality() else {
        return;
    };
    let colour = match quality {
        LinkQuality::Good => egui::Color32::from_rgb(80, 200, 120),
        LinkQuality::Fair => egui::Color32::from_rgb(230, 180, 60),
        LinkQuality::Poor => egui::Color32::from_rgb(230, 80, 70),
    };
    let rtt = link.link.and_then(|l| l.rtt_ms).unwrap_or_default();
    let text = egui::RichText::new(format!("{whose}: {}", quality.as_str()))
        .small()
        .color(colour);
    ui.label(text).on_hover_text(format!(
        "{rtt:.0} ms round trip, {:.1} % of packets lost",
        link.loss_percent()
    ));
}

/// What the engine measures of a peer, over the top left of its tile.
fn stats_overlay(ui: &egui::Ui, tile: egui::Rect, stats: &PeerStats) {
    let camera = stats.camera.unwrap_or_default();
    let text = format!(
        "{}×{} · {:.0} fps · {:.0} kbit/s · loss {:.1}% · {} · PLI {}",
        camera.newest.width,
        camera.newest.height,
        camera.fps,
        stats.kbit_per_s(),
        stats.loss_percent(),
        camera
            .newest
            .latency_ms
            .map_or("latency –".into(), |l| format!("{l:.0} ms")),
        camera.keyframe_requests
    );
    let at = tile.left_top() + egui::vec2(6.0, 6.0);
    let galley =
        ui.painter()
            .layout_no_wrap(text, egui::FontId::monospace(12.0), egui::Color32::WHITE);
    let back = egui::Rect::from_min_size(at, galley.size()).expand(3.0);
    ui.painter()
        .rect_filled(back, 3.0, egui::Color32::from_black_alpha(170));
    ui.painter().galley(at, galley, egui::Color32::WHITE);
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
                let shown = ui.add(image);
                show_reaction(ui, shown.rect, room.reaction_of(room.people.me));
            }
            None => {
                let text = if room.camera_on {
                    "starting camera…"
                } else {
                    "camera off"
                };
                let colours = (
                    egui::Color32::from_rgb(30, 45, 70),
                    egui::Color32::LIGHT_GRAY,
                );
                let name = room.people.user.name.clone();
                let rect = placeholder(ui, size, (&name, text), colours);
                show_reaction(ui, rect, room.reaction_of(room.people.me));
            }
        }
        ui.horizontal(|ui| {
            ui.label("You");
            if room.people.hand.is_some() {
                ui.label("✋").on_hover_text("Your hand is raised");
            }
            if !room.mic_on {
                ui.weak("(muted)");
            } else if room.audio.level.dbfs() > room_audio::TALKING_DBFS {
                ui.weak("(speaking)");
            }
            // Your own: the worst of your links.
            let links = room.participants().filter_map(|p| room.view.stats(p.id));
            if let Some(worst) = links.max_by_key(|link| link.quality()) {
                quality_label(ui, "your network", &worst);
            }
        });
    });
}

/// A tile without a picture: its background, the person's initials and
/// name, and a word on why. Returns where it was drawn.
fn placeholder(
    ui: &mut egui::Ui,
    size: egui::Vec2,
    (name, why): (&str, &str),
    (fill, ink): (egui::Color32, egui::Color32),
) -> egui::Rect {
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    // Read by screen readers (and tests) as what the tile shows.
    let said = format!("{} ({name}, {why})", initials(name));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &said));
    let painter = ui.painter();
    painter.rect_filled(rect, 6.0, fill);
    let initials_size = (size.y * 0.3).clamp(14.0, 64.0);
    let centre = rect.center();
    painter.text(
        centre - egui::vec2(0.0, initials_size * 0.35),
        egui::Align2::CENTER_CENTER,
        initials(name),
        egui::FontId::proportional(initials_size),
        ink,
    );
    painter.text(
        centre + egui::vec2(0.0, initials_size * 0.55),
        egui::Align2::CENTER_CENTER,
        format!("{name} · {why}"),
        egui::FontId::proportional(13.0),
        ink,
    );
    rect
}
