//! Real cameras through nokhwa: list them, open one on a capture thread of its
//! own, convert each frame to I420 by the format it actually has, and report
//! an unplugged camera as lost instead of failing the call.

use huddle_engine::media::convert::{self, PixelFormat};
use huddle_engine::media::frame::VideoFrame;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A camera the system knows about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraDevice {
    /// What the user sees in pickers.
    pub name: String,
    index: CameraIndex,
}

/// What the capture wants; the camera picks the closest it can do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptureWish {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("cannot open the camera {name:?}: {reason}")]
    Open { name: String, reason: String },
    #[error("the camera {name:?} stopped: {reason}")]
    Lost { name: String, reason: String },
}

/// How many failed reads in a row mean the camera is gone (a single bad
/// frame, e.g. a corrupt JPEG, is skipped).
const FAILURES_BEFORE_LOST: u32 = 10;

/// The cameras present now. None (or no camera support on this system) is an
/// empty list; the reason is logged.
pub fn list_cameras() -> Vec<CameraDevice> {
    match nokhwa::query(ApiBackend::Auto) {
        Ok(cameras) => cameras
            .into_iter()
            .map(|info| CameraDevice {
                name: info.human_name(),
                index: info.index().clone(),
            })
            .collect(),
        Err(err) => {
            tracing::info!("no cameras: {err}");
            Vec::new()
        }
    }
}

/// The newest picture of an open camera, or why it stopped.
#[derive(Default)]
struct Latest {
    frame: Option<VideoFrame>,
    lost: Option<String>,
    stop: bool,
}

/// An open camera. Its own thread reads frames as the camera delivers them;
/// [`CameraSource::latest`] hands out the newest.
pub struct CameraSource {
    name: String,
    fps: f32,
    latest: Arc<Mutex<Latest>>,
}

impl CameraSource {
    /// Opens the camera and starts streaming; waits for the camera to accept.
    pub fn open(device: &CameraDevice, wish: CaptureWish) -> Result<CameraSource, CameraError> {
        let latest = Arc::new(Mutex::new(Latest::default()));
        let (opened_tx, opened) = std::sync::mpsc::channel();
        let (device, shared) = (device.clone(), latest.clone());
        let name = device.name.clone();
        std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || capture(device, wish, shared, opened_tx))
            .map_err(|e| CameraError::Open {
                name: name.clone(),
                reason: e.to_string(),
            })?;
        let fps = opened
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| CameraError::Open {
                name: name.clone(),
                reason: "the camera did not answer".into(),
            })?
            .map_err(|reason| CameraError::Open {
                name: name.clone(),
                reason,
            })?;
        Ok(CameraSource { name, fps, latest })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The frame rate the camera agreed to.
    pub fn fps(&self) -> f32 {
        self.fps
    }

    /// The newest frame (`None` before the first), or the error once the camera is gone.
    pub fn latest(&self) -> Result<Option<VideoFrame>, CameraError> {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        match &latest.lost {
            Some(reason) => Err(CameraError::Lost {
                name: self.name.clone(),
                reason: reason.clone(),
            }),
            None => Ok(latest.frame.clone()),
        }
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
    }
}

/// The capture thread: nokhwa cameras stay on the thread that opened them.
fn capture(
    device: CameraDevice,
    wish: CaptureWish,
    latest: Arc<Mutex<Latest>>,
    opened: std::sync::mpsc::Sender<Result<f32, String>>,
) {
    let closest = CameraFormat::new_from(wish.width, wish.height, FrameFormat::MJPEG, wish.fps);
    let request = RequestedFormat::new::<nokhwa::pixel_format::RgbFormat>(
        RequestedFormatType::Closest(closest),
    );
    let mut camera = match nokhwa::Camera::new(device.index.clone(), request)
        .and_then(|mut camera| camera.open_stream().map(|_| camera))
    {
        Ok(camera) => camera,
        Err(err) => {
            let _ = opened.send(Err(err.to_string()));
            return;
        }
    };
    tracing::info!(camera = %device.name, format = %camera.camera_format(), "camera open");
    let _ = opened.send(Ok(camera.frame_rate().max(1) as f32));
    let mut failures = 0;
    loop {
        if latest.lock().unwrap_or_else(|p| p.into_inner()).stop {
            break;
        }
        let converted = camera
            .frame()
            .map_err(|e| e.to_string())
            .and_then(|buffer| {
                let resolution = buffer.resolution();
                convert::to_i420(
                    pixel_format(buffer.source_frame_format()),
                    resolution.width() as usize,
                    resolution.height() as usize,
                    buffer.buffer(),
                )
                .map_err(|e| e.to_string())
            });
        let mut latest = latest.lock().unwrap_or_else(|p| p.into_inner());
        match converted {
            Ok(frame) => {
                failures = 0;
                latest.frame = Some(frame);
            }
            Err(reason) => {
                failures += 1;
                tracing::debug!(camera = %device.name, "bad frame: {reason}");
                if failures >= FAILURES_BEFORE_LOST {
                    tracing::warn!(camera = %device.name, "camera lost: {reason}");
                    latest.lost = Some(reason);
                    break;
                }
            }
        }
    }
    let _ = camera.stop_stream();
}

fn pixel_format(format: FrameFormat) -> PixelFormat {
    match format {
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::GRAY => PixelFormat::Gray,
        FrameFormat::RAWRGB => PixelFormat::Rgb,
        FrameFormat::RAWBGR => PixelFormat::Bgr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine has no camera (no /dev/video*): listing says so without
    /// failing, and opening a camera that is not there is a clear error.
    #[test]
    fn a_missing_camera_is_an_error_in_words() {
        if !list_cameras().is_empty() {
            return; // a machine with a camera: nothing to check here
        }
        let ghost = CameraDevice {
            name: "Ghost cam".into(),
            index: CameraIndex::Index(7),
        };
        let wish = CaptureWish {
            width: 640,
            height: 480,
            fps: 30,
        };
        let err = CameraSource::open(&ghost, wish)
            .err()
            .expect("no such camera");
        let text = err.to_string();
        assert!(
            text.starts_with("cannot open the camera \"Ghost cam\""),
            "{text}"
        );
    }
}
