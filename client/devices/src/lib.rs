//! The devices behind the engine's source and sink traits: cameras
//! (nokhwa), microphones and speakers (cpal), and X11 screens and windows
//! (x11rb). The desktop app adds the Wayland portal; the bot uses these
//! with no window at all.

pub mod audio;
pub mod camera;
pub mod screen;
mod sources;
