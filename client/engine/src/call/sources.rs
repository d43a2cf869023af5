//! What the senders read from and the speaker plays to: the source and sink
//! traits, and the ones the engine has (the test pattern, tone and files,
//! and "nothing"). Cameras, screens, microphones and speakers implement
//! them in `huddle-devices`.

use crate::media::files::{WavSource, Y4mSource};
use crate::media::frame::{AudioFrame, VideoFrame};
use crate::media::pattern::TestPattern;
use crate::media::tone::ToneSource;

/// Why a source stopped for good: a camera unplugged, a microphone gone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceLost(pub String);

/// Something that produces pictures when asked.
pub trait VideoSource: Send + 'static {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost>;
    fn fps(&self) -> f32;
}

/// Something that produces 48 kHz mono audio when asked.
pub trait AudioSource: Send + 'static {
    fn next_frame(&mut self, samples: usize) -> Result<AudioFrame, SourceLost>;
    /// A device with its own clock: `next_frame` waits for it, so the sender
    /// does not pace itself on top.
    fn paces_itself(&self) -> bool {
        false
    }
    /// A real microphone, whose sound goes through voice processing (echo
    /// cancellation would only damage a synthetic tone).
    fn is_microphone(&self) -> bool {
        false
    }
    /// What the user should know of a change ("the device was removed").
    fn take_notice(&mut self) -> Option<String> {
        None
    }
}

/// Something that plays the call's 48 kHz mono mix.
pub trait AudioSink: Send + 'static {
    /// 20 ms of audio, every 20 ms.
    fn play(&mut self, samples: &[f32]);
    /// The audio waiting to be played, if the sink knows: the playout
    /// follows it (see `playout.rs`).
    fn queued(&mut self) -> Option<std::time::Duration> {
        None
    }
    /// What the user should know of a change ("the device was removed").
    fn take_notice(&mut self) -> Option<String> {
        None
    }
}

/// The test pattern at a fixed rate.
pub struct PatternSource {
    pub pattern: TestPattern,
    pub fps: f32,
}

impl VideoSource for PatternSource {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        Ok(self.pattern.next_frame())
    }
    fn fps(&self) -> f32 {
        self.fps
    }
}

impl VideoSource for Y4mSource {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        Ok(Y4mSource::next_frame(self))
    }
    fn fps(&self) -> f32 {
        Y4mSource::fps(self)
    }
}

impl AudioSource for ToneSource {
    fn next_frame(&mut self, samples: usize) -> Result<AudioFrame, SourceLost> {
        Ok(ToneSource::next_frame(self, samples))
    }
}

impl AudioSource for WavSource {
    fn next_frame(&mut self, samples: usize) -> Result<AudioFrame, SourceLost> {
        Ok(WavSource::next_frame(self, samples))
    }
}

/// No camera: black frames, should video be switched on anyway.
pub struct NoVideo;

impl VideoSource for NoVideo {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        Ok(VideoFrame::filled(640, 360, (16, 128, 128)))
    }
    fn fps(&self) -> f32 {
        15.0
    }
}

/// No microphone: silence.
pub struct NoAudio;

impl AudioSource for NoAudio {
    fn next_frame(&mut self, samples: usize) -> Result<AudioFrame, SourceLost> {
        Ok(AudioFrame {
            samples: vec![0.0; samples],
            captured_at: std::time::SystemTime::now(),
        })
    }
}
