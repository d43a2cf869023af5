//! The room's video: a grid that lays itself out for the tiles it has, or
//! the shared screen large with the cameras beside it; each tile outlined
//! while its peer speaks loudest, with the engine's numbers over it on demand.

use super::backend::SELF_VIEW;
use super::room_audio;
use super::room_state::RoomState;
use huddle_engine::call::{LinkQuality, PeerStats, TrackKind};
use shared::PeerId;

/// The grid, or the shared screen large with the cameras beside it.
pub(super) fn video_area(ui: &mut egui::Ui, room: &mut RoomState) {
    let ctx = ui.ctx().clone();
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
                    tile(ui, room, *peer, small, speaker);
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
                tile(ui, room, *peer, size, speaker);
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

/// One peer's camera (or a placeholder), outlined while they speak loudest.
fn tile(
    ui: &mut egui::Ui,
    room: &mut RoomState,
    peer: PeerId,
    size: egui::Vec2,
    speaker: Option<PeerId>,
) {
    let ctx = ui.ctx().clone();
    let texture = room.texture(&ctx, peer, TrackKind::Camera, size);
    let speaking = speaker == Some(peer);
    // On the SFU, the camera comes in the size this tile needs.
    let height = size.y * ctx.pixels_per_point();
    room.tile_layers
        .want(&room.commander, peer, height, speaking);
    let Some(participant) = room.participant(peer) else {
        return;
    };
    let (name, video, audio) = (
        participant.name.clone(),
        participant.video,
        participant.audio,
    );
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
            }
            None => {
                let text = if video { "connecting…" } else { "camera off" };
                let colours = (egui::Color32::from_gray(40), egui::Color32::GRAY);
                placeholder(ui, size, text, colours);
            }
        }
        ui.horizontal(|ui| {
            ui.label(name);
            if !audio {
                ui.weak("(muted)");
            } else if speaking {
                ui.weak("(speaking)");
            }
            if let Some(link) = room.view.stats(peer) {
                quality_label(ui, "network", &link);
            }
        });
    });
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
                ui.add(image);
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
                placeholder(ui, size, text, colours);
            }
        }
        ui.horizontal(|ui| {
            ui.label("You");
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

/// A tile without a picture: its background and a word on why.
fn placeholder(
    ui: &mut egui::Ui,
    size: egui::Vec2,
    text: &str,
    (fill, ink): (egui::Color32, egui::Color32),
) {
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 6.0, fill);
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(14.0),
        ink,
    );
}
