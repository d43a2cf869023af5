//! Sound devices through cpal: which microphones and speakers there are, and
//! streams to them that survive a device disappearing, resampled to and from
//! the engine's 48 kHz mono in 10 ms steps.

pub mod computer_sound;
pub mod devices;
mod keeper;
pub mod microphone;
pub mod resample;
pub mod speaker;
mod stream;

pub use devices::{AudioDeviceInfo, AudioError, DeviceChoice, Direction};
pub use microphone::Microphone;
pub use speaker::Speaker;
pub use stream::Gaps;
