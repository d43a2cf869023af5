//! What can be shared as a screen, and capturing it: an X11 path of our own
//! (x11rb, with MIT-SHM) where the session is X11. On Wayland the desktop's ScreenCast
//! portal would be the way; it is not supported yet and says so.

#[cfg(all(unix, not(target_os = "macos")))]
mod x11;
#[cfg(all(unix, not(target_os = "macos")))]
mod x11_shm;

use super::frame::VideoFrame;
use super::scale::{FrameScaler, ScaleQuality};

/// The largest picture a share sends: sharper rather than bigger.
pub const MAX_SHARE: (usize, usize) = (1920, 1080);

/// Something that can be shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenTarget {
    /// An X11 window; the root window is the whole screen.
    X11Window(u32),
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

/// The screens and windows that can be shared, whole screen first.
pub fn list_sources() -> Result<Vec<ScreenSourceInfo>, ScreenError> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        unsupported_session()?;
        x11::X11Display::open()?.sources()
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    Err(ScreenError::Unavailable(
        "screen sharing on this system is not supported yet".into(),
    ))
}

/// Wayland sessions forbid X11 capture of native windows; say so instead of
/// sending black.
#[cfg(all(unix, not(target_os = "macos")))]
fn unsupported_session() -> Result<(), ScreenError> {
    let wayland = std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland")
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if wayland {
        return Err(ScreenError::Unavailable(
            "this is a Wayland session: sharing needs the desktop's ScreenCast portal, \
             which Huddle does not support yet"
                .into(),
        ));
    }
    if std::env::var_os("DISPLAY").is_none() {
        return Err(ScreenError::Unavailable(
            "there is no display to share (DISPLAY is not set)".into(),
        ));
    }
    Ok(())
}

/// A running capture of one screen or window.
pub struct ScreenCapture {
    #[cfg(all(unix, not(target_os = "macos")))]
    display: x11::X11Display,
    target: ScreenTarget,
    fps: f32,
    scaler: FrameScaler,
}

impl ScreenCapture {
    /// Opens a capture of `target` at `fps` (screens: 5–15 is plenty).
    pub fn open(target: ScreenTarget, fps: f32) -> Result<ScreenCapture, ScreenError> {
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            unsupported_session()?;
            let display = x11::X11Display::open()?;
            let capture = ScreenCapture {
                display,
                target,
                fps,
                scaler: FrameScaler::new(ScaleQuality::Smooth),
            };
            // Fail now, not at the first frame, if the target cannot be read.
            capture.grab_once()?;
            Ok(capture)
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = (target, fps, FrameScaler::new(ScaleQuality::Smooth));
            Err(ScreenError::Unavailable(
                "screen sharing on this system is not supported yet".into(),
            ))
        }
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
        #[cfg(all(unix, not(target_os = "macos")))]
        match self.target {
            ScreenTarget::X11Window(window) => self.display.grab(window),
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        Err(ScreenError::Unavailable("not supported".into()))
    }
}
