//! Wayland: the desktop's ScreenCast portal, through scap (over PipeWire).
//! The desktop shows its own picker (a screen or a window) and asks the
//! user; frames arrive on a thread of ours and the newest is kept.
//!
//! scap 0.0.8 panics where the portal is missing or the user says no, so
//! the portal is asked about over D-Bus first, and scap is built inside
//! `catch_unwind`.

use huddle_devices::screen::{MAX_SHARE, ScreenError};
use huddle_engine::call::{SourceLost, VideoSource};
use huddle_engine::media::convert::{PixelFormat, to_i420};
use huddle_engine::media::frame::VideoFrame;
use huddle_engine::media::scale::{FrameScaler, ScaleQuality};
use scap::frame::Frame;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const PORTAL: &str = "org.freedesktop.portal.Desktop";
const PORTAL_PATH: &str = "/org/freedesktop/portal/desktop";
const SCREEN_CAST: &str = "org.freedesktop.portal.ScreenCast";

/// Whether this desktop offers a ScreenCast portal; if not, why, in words.
pub fn available() -> Result<(), ScreenError> {
    use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
    let bus = dbus::blocking::Connection::new_session().map_err(|e| {
        ScreenError::Unavailable(format!(
            "this Wayland session has no D-Bus session bus, so the desktop cannot be asked to share the screen ({})",
            e.message().unwrap_or("no address")
        ))
    })?;
    let portal = bus.with_proxy(PORTAL, PORTAL_PATH, Duration::from_secs(3));
    let version: Result<u32, _> = portal.get(SCREEN_CAST, "version");
    version.map(drop).map_err(|e| {
        ScreenError::Unavailable(format!(
            "this desktop has no ScreenCast portal (install xdg-desktop-portal and the portal for your desktop) ({})",
            e.message().unwrap_or("no answer")
        ))
    })
}

/// A running portal capture. Dropping it stops the capture (at its next
/// frame: scap only looks up between frames).
pub struct PortalCapture {
    latest: Arc<Mutex<Option<VideoFrame>>>,
    stop: Arc<AtomicBool>,
}

impl PortalCapture {
    /// Asks the desktop to share (its dialog picks what), and waits for
    /// the first frame.
    pub fn open(fps: f32) -> Result<PortalCapture, ScreenError> {
        available()?;
        let latest = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (opened, result) = mpsc::channel();
        let (frames, stopping) = (latest.clone(), stop.clone());
        std::thread::Builder::new()
            .name("portal-capture".into())
            .spawn(move || capture(fps, opened, frames, stopping))
            .map_err(|e| ScreenError::Unavailable(e.to_string()))?;
        // The user may take a while in the desktop's dialog.
        match result.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(())) => Ok(PortalCapture { latest, stop }),
            Ok(Err(problem)) => Err(problem),
            Err(_) => Err(ScreenError::Unavailable(
                "the desktop did not start sharing".into(),
            )),
        }
    }

    /// The newest frame the desktop sent (the screen repeats when nothing changed).
    pub fn latest(&self) -> Result<VideoFrame, ScreenError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(ScreenError::Lost("the desktop stopped sharing".into()));
        }
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| ScreenError::Lost("no picture from the desktop".into()))
    }
}

impl Drop for PortalCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The capture thread: builds scap's capturer, reports how that went, then
/// keeps the newest frame until told to stop or the stream ends.
fn capture(
    fps: f32,
    opened: mpsc::Sender<Result<(), ScreenError>>,
    latest: Arc<Mutex<Option<VideoFrame>>>,
    stop: Arc<AtomicBool>,
) {
    let options = scap::capturer::Options {
        fps: fps.round().max(1.0) as u32,
        show_cursor: true,
        output_type: scap::frame::FrameType::BGR0,
        ..Default::default()
    };
    let built = std::panic::catch_unwind(|| scap::capturer::Capturer::build(options));
    let mut capturer = match built {
        Ok(Ok(capturer)) => capturer,
        Ok(Err(e)) => return drop(opened.send(Err(ScreenError::Unavailable(e.to_string())))),
        Err(_) => {
            let refused =
                "the desktop did not share the screen (the request was cancelled or refused)";
            return drop(opened.send(Err(ScreenError::Unavailable(refused.into()))));
        }
    };
    capturer.start_capture();
    let mut told = false;
    while !stop.load(Ordering::Relaxed) {
        let Ok(frame) = capturer.get_next_frame() else {
            break;
        };
        match to_video_frame(&frame) {
            Some(frame) => {
                *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(frame);
                if !told {
                    // Nobody waits any more (the dialog took too long): stop.
                    if opened.send(Ok(())).is_err() {
                        break;
                    }
                    told = true;
                }
            }
            None => tracing::debug!("portal frame in a format not handled; skipped"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    capturer.stop_capture();
}

/// A portal frame as I420, for the formats PipeWire hands out for screens.
fn to_video_frame(frame: &Frame) -> Option<VideoFrame> {
    let (format, width, height, data) = match frame {
        Frame::BGRx(f) => (PixelFormat::Bgrx, f.width, f.height, &f.data),
        Frame::BGR0(f) => (PixelFormat::Bgrx, f.width, f.height, &f.data),
        Frame::BGRA(f) => (PixelFormat::Bgrx, f.width, f.height, &f.data),
        Frame::RGBx(f) => (PixelFormat::Rgbx, f.width, f.height, &f.data),
        Frame::RGB(f) => (PixelFormat::Rgb, f.width, f.height, &f.data),
        Frame::XBGR(_) | Frame::YUVFrame(_) => return None,
    };
    to_i420(format, width as usize & !1, height as usize & !1, data).ok()
}

/// A portal capture as the engine reads it: the newest frame at most
/// [`MAX_SHARE`], at the rate asked for; a share the user stopped ends it.
pub struct PortalSource {
    capture: PortalCapture,
    fps: f32,
    scaler: FrameScaler,
}

impl PortalSource {
    pub fn open(fps: f32) -> Result<PortalSource, ScreenError> {
        Ok(PortalSource {
            capture: PortalCapture::open(fps)?,
            fps,
            scaler: FrameScaler::new(ScaleQuality::Smooth),
        })
    }
}

impl VideoSource for PortalSource {
    fn next_frame(&mut self) -> Result<VideoFrame, SourceLost> {
        let frame = self
            .capture
            .latest()
            .map_err(|e| SourceLost(e.to_string()))?;
        let (width, height) = MAX_SHARE;
        Ok(self
            .scaler
            .shrink_to_fit(&frame, width, height)
            .unwrap_or(frame))
    }
    fn fps(&self) -> f32 {
        self.fps
    }
}
