//! The desktop app `huddle` (egui/eframe) as a library, so its tests can
//! drive it: the app itself ([`app`]) and what it alone can share, the
//! desktop's Wayland portal beside `huddle-devices`' X11 screens
//! ([`screens`]).

pub mod app;
#[cfg(target_os = "linux")]
mod portal;
pub mod screens;
