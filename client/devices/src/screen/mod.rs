//! What can be shared as a screen, and capturing it on X11 with a path of
//! our own (x11rb, with MIT-SHM). On Wayland the desktop's ScreenCast portal
//! picks and captures the screen: the desktop app does that (it alone links
//! PipeWire and D-Bus).

#[cfg(all(unix, not(target_os = "macos")))]
mod x11;
#[cfg(all(unix, not(target_os = "macos")))]
mod x11_shm;

use huddle_engine::media::frame::VideoFrame;
use huddle_engine::media::scale::{FrameScaler, ScaleQuality};

/// The largest picture a share sends: sharper rather than bigger.
pub const MAX_SHARE: (usize, usize) = (1920, 1080);

/// Something that can be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenTarget {
    /// An X11 window; the root window is the whole screen.
    X11Window(u32),
    /// Whatever the user picks in the desktop's own dialog (Wayland).
    Portal,
}

/// A shareable screen or window as the picker shows it.
#[derive(Debug, Clone)]
pub struct ScreenSourceInfo {
    pub target: ScreenTarget,
    pub title: String,
    pub thumbnail: Option<VideoFrame>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreenError {
    /// Capture cannot work here (no display, Wayland without portal support, an odd X server).
    #[error("{0}")]
    Unavailable(String),
    /// It worked, and stopped (the window closed).
    #[error("{0}")]
    Lost(String),
}

/// The X11 screens and windows that can be shared, whole screen first.
pub fn list_sources() -> Result<Vec<ScreenSourceInfo>, ScreenError> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        if wayland_session() {
            return Err(ScreenError::Unavailable(
                "this is a Wayland session, where only the desktop's portal can share a screen"
                    .into(),
            ));
        }
        no_display()?;
        x11::X11Display::open()?.sources()
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    Err(ScreenError::Unavailable(
        "screen sharing on this system is not supported yet".into(),
    ))
}

/// Wayland sessions forbid X11 capture of native windows (XWayland shows
/// only X11 ones): there, the portal.
pub fn wayland_session() -> bool {
    std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland")
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn no_display() -> Result<(), ScreenError> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err(ScreenError::Unavailable(
            "there is no display to share (DISPLAY is not set)".into(),
        ));
    }
    Ok(())
}

/// A running capture of one screen or window.
pub struct ScreenCapture {
    grabber: Grabber,
    fps: f32,
    scaler: FrameScaler,
}

/// Where the pictures come from.
enum Grabber {
    #[cfg(all(unix, not(target_os = "macos")))]
    X11 {
        display: Box<x11::X11Display>,
        window: u32,
    },
}

impl ScreenCapture {
    /// Opens a capture of `target` at `fps` (screens: 5–15 is plenty).
    pub fn open(target: ScreenTarget, fps: f32) -> Result<ScreenCapture, ScreenError> {
        let grabber = match target {
            #[cfg(all(unix, not(target_os = "macos")))]
            ScreenTarget::X11Window(window) => {
                no_display()?;
                Grabber::X11 {
                    display: Box::new(x11::X11Display::open()?),
                    window,
                }
            }
            ScreenTarget::Portal => {
                return Err(ScreenError::Unavailable(
                    "the desktop's portal is opened by the desktop app".into(),
                ));
            }
            #[allow(unreachable_patterns)]
            _ => {
                return Err(ScreenError::Unavailable(
                    "screen sharing on this system is not supported yet".into(),
                ));
            }
        };
        let capture = ScreenCapture {
            grabber,
            fps,
            scaler: FrameScaler::new(ScaleQuality::Smooth),
        };
        // Fail now, not at the first frame, if the target cannot be read.
        capture.grab_once()?;
        Ok(capture)
    }

    pub fn fps(&self) -> f32 {
        self.fps
    }

    /// The screen now, at most [`MAX_SHARE`].
    pub fn next_frame(&mut self) -> Result<VideoFrame, ScreenError> {
        let frame = self.grab_once()?;
        let (width, height) = MAX_SHARE;
        Ok(self
            .scaler
            .shrink_to_fit(&frame, width, height)
            .unwrap_or(frame))
    }

    fn grab_once(&self) -> Result<VideoFrame, ScreenError> {
        match &self.grabber {
            #[cfg(all(unix, not(target_os = "macos")))]
            Grabber::X11 { display, window } => display.grab(*window),
        }
    }
}
