//! Video files for the network benchmarks. Noise: 8×8 blocks of random
//! grey, new every frame; it takes every bit an encoder is given, as a busy
//! real camera does (the test pattern needs almost none). A scene: a
//! smooth texture panning, with a little grain, more like a camera's
//! picture, whose keyframes are far smaller than noise's.

/// Writes `frames` frames of `width`×`height` noise at 10 fps to `path` (y4m).
pub fn write_noise_y4m(path: &std::path::Path, width: usize, height: usize, frames: usize) {
    let mut seed = SEED;
    write_grey_y4m(path, width, height, frames, |_| {
        // Blocks at the edges may be cut (180 is not a multiple of 8).
        let per_row = width.div_ceil(8);
        let blocks: Vec<u8> = (0..per_row * height.div_ceil(8))
            .map(|_| xorshift(&mut seed) as u8)
            .collect();
        (0..width * height)
            .map(|i| blocks[(i / width / 8) * per_row + (i % width) / 8])
            .collect()
    });
}

/// Writes `frames` frames of a `width`×`height` scene at 10 fps to `path`
/// (y4m): soft light and dark patches drifting 3 pixels right and one down
/// a frame, with grain of ±6 levels.
pub fn write_scene_y4m(path: &std::path::Path, width: usize, height: usize, frames: usize) {
    let mut seed = SEED;
    let wave = |i: usize, period: f32| (i as f32 / period).sin();
    write_grey_y4m(path, width, height, frames, |frame| {
        let across: Vec<f32> = (0..width).map(|x| wave(x + 3 * frame, 40.0)).collect();
        let down: Vec<f32> = (0..height).map(|y| wave(y + frame, 30.0)).collect();
        let mut luma = Vec::with_capacity(width * height);
        for row in &down {
            for column in &across {
                let grain = (xorshift(&mut seed) % 13) as f32 - 6.0;
                luma.push((128.0 + 80.0 * row * column + grain) as u8);
            }
        }
        luma
    });
}

const SEED: u32 = 0x2545_f491;

/// xorshift: cheap, and the same numbers every run.
fn xorshift(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}

/// Writes a grey (no colour) y4m video at 10 fps, each frame's picture
/// from `luma(frame)`.
fn write_grey_y4m(
    path: &std::path::Path,
    width: usize,
    height: usize,
    frames: usize,
    mut luma: impl FnMut(usize) -> Vec<u8>,
) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg").unwrap();
    for frame in 0..frames {
        file.write_all(b"FRAME\n").unwrap();
        file.write_all(&luma(frame)).unwrap();
        file.write_all(&vec![128; width * height / 2]).unwrap();
    }
}
