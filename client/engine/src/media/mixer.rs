//! The mixer: sums the decoded audio of every peer into one playout stream,
//! and measures each peer's level (for the active-speaker highlight).

/// Sums equal-length frames; samples past full scale are clipped.
pub fn mix(frames: &[&[f32]], len: usize) -> Vec<f32> {
    let mut out = vec![0f32; len];
    for frame in frames {
        for (sum, sample) in out.iter_mut().zip(frame.iter()) {
            *sum += sample;
        }
    }
    for sample in &mut out {
        *sample = sample.clamp(-1.0, 1.0);
    }
    out
}

/// The level of silence (and of no samples at all).
pub const SILENCE_DBFS: f32 = -100.0;

/// RMS level in dBFS (a full-scale sine is −3 dBFS); −100 for silence.
pub fn level_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let mean_square = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
    if mean_square <= 1e-10 {
        SILENCE_DBFS
    } else {
        10.0 * mean_square.log10()
    }
}

/// A level shared between the thread that measures it and those that show
/// it (the microphone meter): the newest frame's dBFS, lock-free.
#[derive(Clone)]
pub struct LevelMeter(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl Default for LevelMeter {
    fn default() -> Self {
        LevelMeter(std::sync::Arc::new((-100f32).to_bits().into()))
    }
}

impl LevelMeter {
    pub fn measure(&self, samples: &[f32]) {
        self.0.store(
            level_dbfs(samples).to_bits(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The newest level in dBFS (−100 before anything was measured).
    pub fn dbfs(&self) -> f32 {
        f32::from_bits(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_adds_the_peers() {
        let a = [0.1f32, 0.2, -0.3];
        let b = [0.3f32, -0.2, -0.1];
        let out = mix(&[&a, &b], 3);
        for (got, want) in out.iter().zip([0.4f32, 0.0, -0.4]) {
            assert!((got - want).abs() < 1e-6, "{out:?}");
        }
    }

    #[test]
    fn mixing_clips_instead_of_wrapping() {
        let loud = [0.9f32; 4];
        assert_eq!(mix(&[&loud, &loud], 4), vec![1.0; 4]);
    }

    #[test]
    fn a_missing_or_short_peer_counts_as_silence() {
        assert_eq!(mix(&[], 2), vec![0.0, 0.0]);
        let short = [0.5f32];
        assert_eq!(mix(&[&short], 2), vec![0.5, 0.0]);
    }

    #[test]
    fn levels_are_in_dbfs() {
        let sine: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.1).sin()).collect();
        assert!(
            (level_dbfs(&sine) + 3.01).abs() < 0.1,
            "{}",
            level_dbfs(&sine)
        );
        assert_eq!(level_dbfs(&[0.0; 10]), -100.0);
    }
}
