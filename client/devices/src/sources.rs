//! The engine's source and sink traits for the real devices: a microphone
//! paces itself and goes through voice processing, a camera sends black
//! until its first frame, a closed window ends a screen share.

use crate::audio::{Microphone, Speaker};
use crate::camera::CameraSource;
use crate::screen::ScreenCapture;
use huddle_engine::call::{AudioSink, AudioSource, SourceLost, VideoSource};
use huddle_engine::media::frame::{AudioFrame, SAMPLE_RATE, VideoFrame};

impl AudioSource for Microphone {
    fn next_frame(&mut self, samples: usize) -> Result<AudioFrame, SourceLost> {
        let samples = self.read(samples);
        // The frame's first sample was taken this long ago, at least.
        let age = self.backlog()
            + std::time::Duration::from_secs_f64(samples.len() as f64 / SAMPLE_RATE as f64);
        Ok(AudioFrame {
            samples,
            captured_at: std::time::SystemTime::now() - age,
        })
    }
    fn paces_itself(&self) -> bool {
        true
    }
    fn is_microphone(&self) -> bool {
        true
    }
    fn take_notice(&mut self) -> Option<String> {
        Microphone::take_notice(self)
    }
}

impl AudioSink for Speaker {
    fn play(&mut self, samples: &[f32]) {
        Speaker::play(self, samples)
    }
    fn queued(&mut self) -> Option<std::time::Duration> {
        Speaker::queued(self)
    }
    fn take_notice(&mut self) -> Option<String> {
        Speaker::take_notice(self)
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
