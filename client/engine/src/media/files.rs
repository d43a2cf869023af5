//! File media: Y4M video and WAV audio as sources (looping, for QA runs), and
//! decoded frames saved as PNG so a person can look at what arrived.

use super::frame::{AudioFrame, SAMPLE_RATE, VideoFrame};
use super::stamp::{self, Stamp};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable Y4M file: {reason}")]
    Y4m { path: PathBuf, reason: String },
    #[error("{path} is not a usable WAV file: {reason}")]
    Wav { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// A Y4M (4:2:0, 8-bit) video file, read whole and played in a loop.
pub struct Y4mSource {
    frames: Vec<VideoFrame>,
    next: usize,
    /// Frames sent so far: the stamp's counter.
    sent: u32,
    fps: f32,
}

impl Y4mSource {
    pub fn open(path: &Path) -> Result<Y4mSource, FileError> {
        let bad = |reason: String| FileError::Y4m {
            path: path.to_owned(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|source| FileError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut decoder = y4m::decode(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
        let (width, height) = (decoder.get_width(), decoder.get_height());
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(bad(format!(
                "{width}x{height}: width and height must be even"
            )));
        }
        if !matches!(
            decoder.get_colorspace(),
            y4m::Colorspace::C420
                | y4m::Colorspace::C420jpeg
                | y4m::Colorspace::C420paldv
                | y4m::Colorspace::C420mpeg2
        ) {
            return Err(bad(
                "only 8-bit 4:2:0 is supported (ffmpeg -pix_fmt yuv420p)".into(),
            ));
        }
        let rate = decoder.get_framerate();
        let fps = if rate.den == 0 {
            30.0
        } else {
            rate.num as f32 / rate.den as f32
        };
        let mut frames = Vec::new();
        loop {
            match decoder.read_frame() {
                Ok(frame) => frames.push(VideoFrame {
                    width,
                    height,
                    y: frame.get_y_plane().to_vec(),
                    u: frame.get_u_plane().to_vec(),
                    v: frame.get_v_plane().to_vec(),
                    captured_at: SystemTime::now(),
                }),
                Err(y4m::Error::EOF) => break,
                Err(e) => return Err(bad(e.to_string())),
            }
        }
        if frames.is_empty() {
            return Err(bad("it has no frames".into()));
        }
        Ok(Y4mSource {
            frames,
            next: 0,
            sent: 0,
            fps,
        })
    }

    pub fn fps(&self) -> f32 {
        self.fps
    }

    /// The next frame, starting over at the end, stamped (as the test
    /// pattern is: a row of blocks at the top) with its number and the
    /// time it is sent, so that receivers can measure loss and latency.
    pub fn next_frame(&mut self) -> VideoFrame {
        let mut frame = self.frames[self.next].clone();
        self.next = (self.next + 1) % self.frames.len();
        let captured_at = SystemTime::now();
        frame.captured_at = captured_at;
        stamp::write(&mut frame, Stamp::new(self.sent, captured_at));
        self.sent = self.sent.wrapping_add(1);
        frame
    }
}

/// A 48 kHz WAV file (any channel count, mixed down to mono), played in a loop.
pub struct WavSource {
    samples: Vec<f32>,
    position: usize,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<WavSource, FileError> {
        let bad = |reason: String| FileError::Wav {
            path: path.to_owned(),
            reason,
        };
        let mut reader = hound::WavReader::open(path).map_err(|e| bad(e.to_string()))?;
        let spec = reader.spec();
        if spec.sample_rate != SAMPLE_RATE {
            return Err(bad(format!(
                "it is {} Hz; convert it to 48000 Hz first (ffmpeg -i in.wav -ar 48000 out.wav)",
                spec.sample_rate
            )));
        }
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .samples::<i32>()
                    .map(|s| s.map(|s| s as f32 * scale))
                    .collect::<Result<_, _>>()
            }
        }
        .map_err(|e| bad(e.to_string()))?;
        let channels = spec.channels.max(1) as usize;
        let samples: Vec<f32> = interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        if samples.is_empty() {
            return Err(bad("it has no samples".into()));
        }
        Ok(WavSource {
            samples,
            position: 0,
        })
    }

    pub fn next_frame(&mut self, count: usize) -> AudioFrame {
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let take = (count - out.len()).min(self.samples.len() - self.position);
            out.extend_from_slice(&self.samples[self.position..self.position + take]);
            self.position = (self.position + take) % self.samples.len();
        }
        AudioFrame {
            samples: out,
            captured_at: SystemTime::now(),
        }
    }
}

/// Writes a frame as an RGBA PNG.
pub fn save_png(frame: &VideoFrame, path: &Path) -> Result<(), FileError> {
    let failed = |reason: String| FileError::Write {
        path: path.to_owned(),
        reason,
    };
    let file = std::fs::File::create(path).map_err(|e| failed(e.to_string()))?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        frame.width as u32,
        frame.height as u32,
    );
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| failed(e.to_string()))?;
    writer
        .write_image_data(&frame.to_rgba())
        .map_err(|e| failed(e.to_string()))?;
    writer.finish().map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pattern::TestPattern;
    use crate::media::spectrum::dominant_frequency;

    #[test]
    fn a_y4m_file_plays_its_frames_in_a_loop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.y4m");
        let mut pattern = TestPattern::new(64, 48, (10, 200, 10));
        let frames: Vec<VideoFrame> = (0..3).map(|_| pattern.next_frame()).collect();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = y4m::encode(64, 48, y4m::Ratio::new(25, 1))
            .with_colorspace(y4m::Colorspace::C420)
            .write_header(file)
            .unwrap();
        for f in &frames {
            writer
                .write_frame(&y4m::Frame::new([&f.y, &f.u, &f.v], None))
                .unwrap();
        }
        drop(writer);
        let mut source = Y4mSource::open(&path).unwrap();
        assert_eq!(source.fps(), 25.0);
        let played: Vec<Vec<u8>> = (0..4).map(|_| source.next_frame().y).collect();
        assert_eq!(played[0], frames[0].y);
        assert_eq!(played[2], frames[2].y);
        assert_eq!(played[3], frames[0].y, "loops");
    }

    #[test]
    fn a_y4m_file_is_stamped_with_the_number_of_each_frame_sent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grey.y4m");
        let grey = VideoFrame::filled(320, 240, (128, 128, 128));
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = y4m::encode(320, 240, y4m::Ratio::new(10, 1))
            .with_colorspace(y4m::Colorspace::C420)
            .write_header(file)
            .unwrap();
        for _ in 0..2 {
            writer
                .write_frame(&y4m::Frame::new([&grey.y, &grey.u, &grey.v], None))
                .unwrap();
        }
        drop(writer);
        let mut source = Y4mSource::open(&path).unwrap();
        // Counted as sent, through the loop: receivers measure loss by it.
        let numbers: Vec<u32> = (0..5)
            .map(|_| stamp::read(&source.next_frame()).expect("stamped").frame)
            .collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_wav_file_is_read_as_mono_48k() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        let mut tone = crate::media::tone::ToneSource::new(700.0, -6.0);
        for s in tone.next_frame(24_000).samples {
            let v = (s * 32767.0) as i16;
            writer.write_sample(v).unwrap();
            writer.write_sample(v).unwrap();
        }
        writer.finalize().unwrap();
        let mut source = WavSource::open(&path).unwrap();
        let got = source.next_frame(48_000);
        assert!((dominant_frequency(&got.samples).unwrap() - 700.0).abs() < 2.0);
    }

    #[test]
    fn unusable_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Y4mSource::open(&dir.path().join("nope.y4m")).err().unwrap();
        assert!(missing.to_string().contains("cannot open"), "{missing}");
        let path = dir.path().join("44k.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        writer.write_sample(0i16).unwrap();
        writer.finalize().unwrap();
        let err = WavSource::open(&path).err().unwrap();
        assert!(err.to_string().contains("48000"), "{err}");
    }

    #[test]
    fn a_frame_saves_as_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.png");
        save_png(&TestPattern::new(64, 48, (1, 2, 3)).next_frame(), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
