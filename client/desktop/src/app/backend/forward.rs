//! A joined call's life on the app's runtime: its events and frames
//! carried to the UI thread until it ends.

use super::{BackendEvent, FRAME_INTERVAL, LatestFrames, SELF_VIEW};
use huddle_engine::call::{Call, CallEvent, MediaEvent, TrackKind};
use std::sync::mpsc;

/// Until the call ends: its events to the UI, and its frames (and the self
/// view) into `frames`, each asking for a repaint.
pub(super) async fn forward(
    mut call: Call,
    frames: LatestFrames,
    events: mpsc::Sender<BackendEvent>,
    repaint: egui::Context,
) {
    let (mut media, mut self_view) = (call.media(), call.self_view());
    let moving = super::super::moving_parts::repaint_when_they_move(
        call.view(),
        call.microphone_level(),
        repaint.clone(),
    );
    let moving = tokio::spawn(moving);
    // Frames go to a converter thread of their own (the UI only uploads).
    let (to_convert, incoming) = std::sync::mpsc::sync_channel(super::super::live::WAITING_FRAMES);
    let converter_repaint = repaint.clone();
    let converter = std::thread::Builder::new()
        .name("frames".into())
        .spawn(move || {
            super::super::live::convert_frames(frames, incoming, converter_repaint, FRAME_INTERVAL)
        })
        .expect("spawning a thread");
    let media_task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                item = media.recv() => match item {
                    Ok(MediaEvent::Video { peer, kind, frame, .. }) => (peer, kind, frame),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                Ok(()) = self_view.changed() => {
                    let Some(frame) = self_view.borrow_and_update().clone() else { continue };
                    (SELF_VIEW, TrackKind::Camera, frame)
                }
            };
            // A converter behind drops frames: only the newest is drawn.
            let _ = to_convert.try_send(stream);
        }
    });
    while let Some(event) = call.next_event().await {
        let ended = event == CallEvent::Ended;
        let _ = events.send(BackendEvent::Call(event));
        repaint.request_repaint();
        if ended {
            break;
        }
    }
    media_task.abort();
    moving.abort();
    // The converter ends once the media task (its only sender) is gone.
    let _ = media_task.await;
    let _ = tokio::task::spawn_blocking(move || converter.join()).await;
}
