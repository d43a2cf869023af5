//! What the senders read from: the source traits and the sources the engine
//! has (the test pattern, tone and files, real cameras, and "nothing").

use crate::media::camera::CameraSource;
use crate::media::files::{WavSource, Y4mSource};
use crate::media::frame::{AudioFrame, VideoFrame};
use crate::media::pattern::TestPattern;
use crate::media::screen::ScreenCapture;
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

/// A real camera. Before its first frame it sends black; once it is gone
/// (unplugged) the sender is told and stops it.
impl VideoSource for CameraSource {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        match self.latest() {
            Ok(Some(frame)) => Ok(frame),
            Ok(None) => Ok(VideoFrame::filled(640, 360, (16, 128, 128))),
            Err(err) => Err(SourceLost(err.to_string())),
        }
    }
    fn fps(&self) -> f32 {
        CameraSource::fps(self)
    }
}

/// A shared screen or window; a closed window ends the share.
impl VideoSource for ScreenCapture {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        ScreenCapture::next_frame(self).map_err(|e| SourceLost(e.to_string()))
    }
    fn fps(&self) -> f32 {
        ScreenCapture::fps(self)
    }
}
