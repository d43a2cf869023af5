//! The media pipeline's parts that need no network and no device: frames,
//! the stamp codec, synthetic and file sources, pixel formats, the jitter
//! buffer and the mixer.

pub mod convert;
pub mod files;
pub mod frame;
pub mod jitter;
pub mod loss;
pub mod mixer;
pub mod pattern;
pub mod processing;
pub mod scale;
pub mod sequence;
pub mod spectrum;
pub mod speech;
pub mod stamp;
pub mod tone;
