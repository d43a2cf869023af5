//! The screen-share picker: the whole screen and each window, with titles and
//! thumbnails, plus the test pattern (shareable anywhere), and whether the
//! computer's sound goes with it; or, where capture cannot work, the reason
//! in words.

use super::Intent;
use huddle_devices::screen::ScreenSourceInfo;

/// What the picker offers, once the sources are listed.
pub struct SharePicker {
    /// The shareable sources, or why there are none.
    pub sources: Result<Vec<ScreenSourceInfo>, String>,
    thumbnails: Vec<Option<egui::TextureHandle>>,
    /// Why the chosen source could not be opened, if it could not.
    pub problem: Option<String>,
    /// "Share computer sound" is ticked.
    pub with_sound: bool,
}

impl SharePicker {
    pub fn new(sources: Result<Vec<ScreenSourceInfo>, String>) -> SharePicker {
        SharePicker {
            sources,
            thumbnails: Vec::new(),
            problem: None,
            with_sound: false,
        }
    }

    /// Uploads the thumbnails once.
    fn thumbnails(&mut self, ctx: &egui::Context) {
        let Ok(sources) = &self.sources else { return };
        if self.thumbnails.len() == sources.len() {
            return;
        }
        self.thumbnails = sources
            .iter()
            .enumerate()
            .map(|(i, source)| {
                let frame = source.thumbnail.as_ref()?;
                let image = egui::ColorImage::from_rgba_premultiplied(
                    [frame.width, frame.height],
                    &frame.to_rgba(),
                );
                Some(ctx.load_texture(
                    format!("share-thumbnail-{i}"),
                    image,
                    egui::TextureOptions::LINEAR,
                ))
            })
            .collect();
    }
}

/// Draws the picker as a window; returns what was chosen.
pub fn show(ctx: &egui::Context, picker: &mut SharePicker) -> Vec<Intent> {
    let mut intents = Vec::new();
    picker.thumbnails(ctx);
    egui::Window::new("Share your screen")
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            if let Some(problem) = &picker.problem {
                ui.colored_label(ui.visuals().error_fg_color, problem);
            }
            match &picker.sources {
                Ok(sources) => {
                    egui::ScrollArea::vertical()
                        .max_height(420.0)
                        .show(ui, |ui| {
                            for (source, thumbnail) in sources.iter().zip(&picker.thumbnails) {
                                ui.horizontal(|ui| {
                                    match thumbnail {
                                        Some(texture) => {
                                            ui.add(
                                                egui::Image::new(texture)
                                                    .max_size(egui::vec2(160.0, 90.0)),
                                            );
                                        }
                                        None => {
                                            ui.allocate_exact_size(
                                                egui::vec2(160.0, 90.0),
                                                egui::Sense::hover(),
                                            );
                                        }
                                    }
                                    if ui.button(format!("Share {}", source.title)).clicked() {
                                        intents.push(Intent::ShareSource(Some(source.target)));
                                    }
                                });
                            }
                        });
                }
                Err(reason) => {
                    ui.label(format!("Your screen cannot be shared here: {reason}."));
                }
            }
            ui.separator();
            if ui.button("Share the test pattern").clicked() {
                intents.push(Intent::ShareSource(None));
            }
            ui.checkbox(&mut picker.with_sound, "Share computer sound")
                .on_hover_text("What your computer plays, without the call itself");
            if ui.button("Cancel").clicked() {
                intents.push(Intent::CloseSharePicker);
            }
        });
    intents
}
