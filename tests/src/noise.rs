//! A video file of noise: 8×8 blocks of random grey, new every frame. It
//! takes every bit an encoder is given, as a busy real camera does (the
//! test pattern needs almost none).

/// Writes `frames` frames of `width`×`height` noise at 10 fps to `path` (y4m).
pub fn write_noise_y4m(path: &std::path::Path, width: usize, height: usize, frames: usize) {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg").unwrap();
    let mut seed = 0x2545_f491_u32;
    let mut random = move || {
        // xorshift: cheap, and the same noise every run.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    };
    for _ in 0..frames {
        file.write_all(b"FRAME\n").unwrap();
        // Blocks at the edges may be cut (180 is not a multiple of 8).
        let per_row = width.div_ceil(8);
        let blocks: Vec<u8> = (0..per_row * height.div_ceil(8))
            .map(|_| random())
            .collect();
        let luma: Vec<u8> = (0..width * height)
            .map(|i| blocks[(i / width / 8) * per_row + (i % width) / 8])
            .collect();
        file.write_all(&luma).unwrap();
        file.write_all(&vec![128; width * height / 2]).unwrap();
    }
}
