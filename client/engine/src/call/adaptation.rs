//! What the microphone and the camera send for the bandwidth they have.
//! Audio comes first: Opus steps down to a floor that still carries speech
//! well on the narrowest links ([`audio_bitrate`]). The link's estimate
//! (see `bandwidth.rs`), less what that audio costs on the wire and a
//! margin, is the video's budget. The encoder's bitrate follows it at once; the picture follows in
//! steps (720p30, 540p, 360p, 180p at 15 fps), down as soon as the budget
//! falls below a step, up only after it has held well above the next one
//! for a few seconds (each step up costs a keyframe, and an estimate that
//! probes upward must not make the picture flap).
//!
//! In a mesh one encoder feeds every peer, so it follows the lowest
//! estimate of them: a constrained peer lowers everyone's picture rather
//! than the encoder sending more than that peer's path carries (a second,
//! low encoding for the constrained peers would cost a second encode; that
//! is the SFU's simulcast, issue 16).

use super::track::TrackKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One step of the ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The tallest picture sent (a smaller source is sent as it is).
    pub max_height: usize,
    pub max_fps: f32,
    /// The least video bitrate this step is worth sending at.
    pub min_bps: u32,
}

/// From the best to the last resort.
pub const LADDER: [Step; 4] = [
    Step {
        max_height: 720,
        max_fps: 30.0,
        min_bps: 800_000,
    },
    Step {
        max_height: 540,
        max_fps: 30.0,
        min_bps: 450_000,
    },
    Step {
        max_height: 360,
        max_fps: 30.0,
        min_bps: 220_000,
    },
    Step {
        max_height: 180,
        max_fps: 15.0,
        min_bps: 0,
    },
];

/// Opus bitrates by the estimate they need: (least estimate, bitrate).
/// Chosen so audio is at most a third of a narrow link, and 16 kbit/s
/// (wideband speech, with room for in-band FEC) is the floor.
const AUDIO_TIERS: [(u32, u32); 3] = [(300_000, 32_000), (150_000, 24_000), (0, 16_000)];
/// What an Opus packet costs beyond its payload, in bits per second: 50
/// packets a second of IP, UDP, RTP with its extensions, and SRTP's tag.
const AUDIO_OVERHEAD_BPS: u32 = 50 * 8 * 56;
/// ...and the video gets this share of the rest: the estimate is a guess,
/// and keyframes overshoot.
const VIDEO_SHARE: f64 = 0.85;
/// Never asked of the encoder below this.
const MIN_VIDEO_BPS: u32 = 30_000;
/// A step up needs the budget this far above the step's minimum...
const UP_MARGIN: f64 = 1.2;
/// ...for this long.
const UP_HOLD: Duration = Duration::from_secs(3);

/// While a screen is shared beside the camera, the screen gets this share
/// of the video budget: text needs the bits, and the camera is a small tile
/// beside it then.
pub const SCREEN_SHARE: f64 = 0.7;

/// Which of our two video sources is sending now: each sender writes its
/// own and reads the other's, so the two split one budget.
#[derive(Clone, Debug, Default)]
pub struct VideoActivity {
    camera: Arc<AtomicBool>,
    screen: Arc<AtomicBool>,
}

impl VideoActivity {
    fn flag(&self, kind: TrackKind) -> &AtomicBool {
        match kind {
            TrackKind::Screen => &self.screen,
            _ => &self.camera,
        }
    }

    pub fn set(&self, kind: TrackKind, sending: bool) {
        self.flag(kind).store(sending, Ordering::Relaxed);
    }

    /// The share of the video budget `kind` has now.
    pub fn share(&self, kind: TrackKind) -> f64 {
        let other = match kind {
            TrackKind::Screen => TrackKind::Camera,
            _ => TrackKind::Screen,
        };
        match (kind, self.flag(other).load(Ordering::Relaxed)) {
            (_, false) => 1.0,
            (TrackKind::Screen, true) => SCREEN_SHARE,
            (_, true) => 1.0 - SCREEN_SHARE,
        }
    }
}

/// What the encoder should do now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoTarget {
    pub step: Step,
    pub bitrate_bps: u32,
}

#[derive(Debug)]
pub struct Adaptation {
    step: usize,
    /// Since when the budget has been enough for the step above.
    better_since: Option<Instant>,
}

impl Default for Adaptation {
    /// Starts at the step the starting estimate affords.
    fn default() -> Adaptation {
        let budget = video_budget(super::bandwidth::START_BPS as u32);
        Adaptation {
            step: step_for(budget),
            better_since: None,
        }
    }
}

impl Adaptation {
    /// The target for `estimate_bps` (the lowest link's), of which the
    /// camera has `share` (less while a screen is shared), with the encoder
    /// never asked for more than `cap_bps`.
    pub fn update(
        &mut self,
        estimate_bps: u32,
        share: f64,
        cap_bps: u32,
        now: Instant,
    ) -> VideoTarget {
        let budget = ((video_budget(estimate_bps) as f64 * share) as u32).max(MIN_VIDEO_BPS);
        let fits = step_for(budget);
        if fits > self.step {
            // Worse: down at once, to where the budget fits.
            self.step = fits;
            self.better_since = None;
        } else if self.step > 0 && budget as f64 >= LADDER[self.step - 1].min_bps as f64 * UP_MARGIN
        {
            let since = *self.better_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= UP_HOLD {
                // One step at a time, each held again before the next.
                self.step -= 1;
                self.better_since = Some(now);
            }
        } else {
            self.better_since = None;
        }
        VideoTarget {
            step: LADDER[self.step],
            bitrate_bps: budget.min(cap_bps),
        }
    }
}

/// The Opus bitrate for a link estimated at `estimate_bps`.
pub fn audio_bitrate(estimate_bps: u32) -> u32 {
    AUDIO_TIERS
        .iter()
        .find(|(least, _)| estimate_bps >= *least)
        .map_or(AUDIO_TIERS[AUDIO_TIERS.len() - 1].1, |tier| tier.1)
}

/// What video may use of an estimate: what is left after the audio (as it
/// goes on the wire), less a margin.
pub fn video_budget(estimate_bps: u32) -> u32 {
    let audio = audio_bitrate(estimate_bps) + AUDIO_OVERHEAD_BPS;
    let rest = estimate_bps.saturating_sub(audio) as f64 * VIDEO_SHARE;
    (rest as u32).max(MIN_VIDEO_BPS)
}

/// The best step whose minimum `budget` meets.
fn step_for(budget: u32) -> usize {
    LADDER
        .iter()
        .position(|step| budget >= step.min_bps)
        .unwrap_or(LADDER.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: u32 = 1_500_000;

    fn heights(adaptation: &mut Adaptation, estimates: &[(u32, u64)]) -> Vec<usize> {
        let start = Instant::now();
        estimates
            .iter()
            .map(|&(bps, ms)| {
                let at = start + Duration::from_millis(ms);
                adaptation.update(bps, 1.0, CAP, at).step.max_height
            })
            .collect()
    }

    #[test]
    fn the_bitrate_follows_the_estimate_at_once_within_the_cap() {
        let mut adaptation = Adaptation::default();
        let now = Instant::now();
        // 32 kbit/s of Opus costs 54.4 on the wire; video gets 85 % of the rest.
        assert_eq!(
            adaptation.update(1_054_400, 1.0, CAP, now).bitrate_bps,
            850_000
        );
        assert_eq!(
            adaptation.update(300_000, 1.0, CAP, now).bitrate_bps,
            208_760
        );
        // Below 150 kbit/s audio is at its floor, 16 (38.4 on the wire).
        assert_eq!(
            adaptation.update(100_000, 1.0, CAP, now).bitrate_bps,
            52_360
        );
        assert_eq!(adaptation.update(9_000_000, 1.0, CAP, now).bitrate_bps, CAP);
        assert_eq!(
            adaptation.update(0, 1.0, CAP, now).bitrate_bps,
            MIN_VIDEO_BPS
        );
    }

    #[test]
    fn audio_steps_down_to_its_floor_on_narrow_links() {
        let tiers: Vec<u32> = [2_000_000, 300_000, 299_999, 150_000, 100_000, 0]
            .into_iter()
            .map(audio_bitrate)
            .collect();
        assert_eq!(tiers, [32_000, 32_000, 24_000, 24_000, 16_000, 16_000]);
    }

    #[test]
    fn a_shared_screen_takes_most_of_the_budget_and_all_of_it_alone() {
        let activity = VideoActivity::default();
        activity.set(TrackKind::Screen, true);
        assert_eq!(activity.share(TrackKind::Screen), 1.0, "the camera is off");
        assert!((activity.share(TrackKind::Camera) - 0.3).abs() < 1e-9);
        activity.set(TrackKind::Camera, true);
        assert_eq!(activity.share(TrackKind::Screen), SCREEN_SHARE);
        activity.set(TrackKind::Screen, false);
        assert_eq!(activity.share(TrackKind::Camera), 1.0);
        // A camera with 30 % of a 1 Mbit/s link's budget is at 360p.
        let mut adaptation = Adaptation::default();
        let target = adaptation.update(1_000_000, 0.3, CAP, Instant::now());
        assert_eq!(target.step.max_height, 360);
    }

    #[test]
    fn the_picture_steps_down_at_once_and_at_the_bottom_runs_at_15_fps() {
        let mut adaptation = Adaptation::default();
        let start = Instant::now();
        assert_eq!(
            adaptation
                .update(1_000_000, 1.0, CAP, start)
                .step
                .max_height,
            720
        );
        assert_eq!(
            adaptation.update(600_000, 1.0, CAP, start).step.max_height,
            540
        );
        let bottom = adaptation.update(100_000, 1.0, CAP, start).step;
        assert_eq!((bottom.max_height, bottom.max_fps), (180, 15.0));
    }

    #[test]
    fn the_picture_steps_up_one_step_at_a_time_after_holding() {
        let mut adaptation = Adaptation::default();
        // Down to 180p, then plenty of bandwidth for 3 s, 3 more, 3 more.
        let got = heights(
            &mut adaptation,
            &[
                (100_000, 0),
                (2_000_000, 100),
                (2_000_000, 3_000),
                (2_000_000, 3_100),
                (2_000_000, 6_100),
                (2_000_000, 9_100),
                (2_000_000, 12_100),
            ],
        );
        assert_eq!(got, [180, 180, 180, 360, 540, 720, 720]);
    }

    #[test]
    fn an_estimate_that_dips_before_the_hold_is_over_starts_the_hold_again() {
        let mut adaptation = Adaptation::default();
        let got = heights(
            &mut adaptation,
            &[
                (300_000, 0),
                (700_000, 100),
                (300_000, 2_000),
                (700_000, 2_100),
                (700_000, 4_000),
                (700_000, 5_100),
            ],
        );
        // 300 kbit/s: a budget of 209 kbit/s, 180p. 700: 549, enough for
        // 360p with the margin (264), held from 2.1 s to 5.1 s.
        assert_eq!(got, [180, 180, 180, 180, 180, 360]);
    }
}
