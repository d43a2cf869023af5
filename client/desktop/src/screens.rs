//! What the app can share: X11 screens and windows through
//! `huddle-devices`, or on Wayland whatever the user picks in the desktop's
//! ScreenCast portal (only the app links PipeWire and D-Bus for it).

use huddle_devices::screen::{self, ScreenCapture, ScreenError, ScreenSourceInfo, ScreenTarget};
use huddle_engine::call::VideoSource;

/// The screens and windows that can be shared, whole screen first; on
/// Wayland one entry, the portal, whose dialog picks.
pub fn list_sources() -> Result<Vec<ScreenSourceInfo>, ScreenError> {
    if screen::wayland_session() {
        return portal_sources();
    }
    screen::list_sources()
}

/// Opens a capture of `target` at `fps` (screens: 5–15 is plenty). The
/// portal asks the desktop, whose dialog may wait for the user.
pub fn open(target: ScreenTarget, fps: f32) -> Result<Box<dyn VideoSource>, ScreenError> {
    match target {
        #[cfg(target_os = "linux")]
        ScreenTarget::Portal => Ok(Box::new(super::portal::PortalSource::open(fps)?)),
        target => Ok(Box::new(ScreenCapture::open(target, fps)?)),
    }
}

fn portal_sources() -> Result<Vec<ScreenSourceInfo>, ScreenError> {
    #[cfg(target_os = "linux")]
    {
        super::portal::available()?;
        Ok(vec![ScreenSourceInfo {
            target: ScreenTarget::Portal,
            title: "a screen or window (your desktop asks which)".into(),
            thumbnail: None,
        }])
    }
    #[cfg(not(target_os = "linux"))]
    Err(ScreenError::Unavailable(
        "screen sharing on this Wayland system is not supported yet".into(),
    ))
}
