//! Repaints for what the room shows that moves without a new video frame:
//! our microphone's meter, who speaks loudest (the outlined tile) and each
//! peer's meter in the participants panel. They are looked at ten times a
//! second off the UI thread, and the window is repainted only when what it
//! would draw changed: redrawing ten times a second to be sure cost a
//! quarter of a core in a quiet call.

use huddle_engine::call::CallView;
use huddle_engine::media::mixer::LevelMeter;
use shared::PeerId;
use std::time::Duration;

/// How often the levels are looked at.
pub const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Meters move in steps this large (a 70-point meter spans 60 dB: a step is
/// a few points, and the noise of a steady tone stays within one).
const STEP_DB: f32 = 3.0;

/// What the room draws from the levels, in the steps it can show.
#[derive(Debug, Clone, PartialEq)]
pub struct MovingParts {
    microphone: i32,
    speaker: Option<PeerId>,
    peers: Vec<(PeerId, i32)>,
}

impl MovingParts {
    pub fn read(view: &CallView, microphone: &LevelMeter) -> MovingParts {
        let peers = view
            .participants()
            .iter()
            .map(|p| {
                let level = view.stats(p.id).map(|s| s.level_dbfs());
                (p.id, level.map_or(i32::MIN, step))
            })
            .collect();
        MovingParts {
            microphone: step(microphone.dbfs()),
            speaker: view.active_speaker(),
            peers,
        }
    }
}

/// A level in the meter's steps (everything under −60 dBFS is one step).
fn step(dbfs: f32) -> i32 {
    (dbfs.max(-60.0) / STEP_DB).round() as i32
}

/// Until the task is dropped: a repaint whenever the moving parts change.
pub async fn repaint_when_they_move(
    view: CallView,
    microphone: LevelMeter,
    repaint: egui::Context,
) {
    let mut shown: Option<MovingParts> = None;
    let mut look = tokio::time::interval(LOOK_EVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        look.tick().await;
        let now = MovingParts::read(&view, &microphone);
        if shown.as_ref() != Some(&now) {
            repaint.request_repaint();
            shown = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::step;

    #[test]
    fn a_steady_level_stays_in_one_step_and_a_change_moves_it() {
        // A tone's level wobbles by a fraction of a dB from frame to frame.
        assert_eq!(step(-15.2), step(-14.9));
        assert_ne!(step(-15.0), step(-25.0));
        assert_eq!(step(-80.0), step(-100.0), "all silence is one step");
    }
}
