//! Opus at 48 kHz mono in 20 ms frames, with in-band FEC for lost packets.

use super::h264::CodecError;
use opus::{Application, Bitrate, Channels, Decoder, Encoder};

/// Samples in one 20 ms Opus frame at 48 kHz.
pub const OPUS_FRAME_SAMPLES: usize = 960;
const MAX_PACKET: usize = 1500;

pub struct OpusEncoder {
    encoder: Encoder,
}

impl OpusEncoder {
    pub fn new(bitrate_bps: i32) -> Result<OpusEncoder, CodecError> {
        let mut encoder = Encoder::new(48_000, Channels::Mono, Application::Voip)?;
        encoder.set_bitrate(Bitrate::Bits(bitrate_bps))?;
        // FEC carries a low-rate copy of the previous frame in each packet; it
        // only switches on when the encoder expects some loss.
        encoder.set_inband_fec(true)?;
        encoder.set_packet_loss_perc(10)?;
        Ok(OpusEncoder { encoder })
    }

    /// Changes the bitrate from the next frame on.
    pub fn set_bitrate(&mut self, bitrate_bps: i32) -> Result<(), CodecError> {
        Ok(self.encoder.set_bitrate(Bitrate::Bits(bitrate_bps))?)
    }

    /// Encodes exactly one 20 ms frame (960 samples).
    pub fn encode(&mut self, samples: &[f32]) -> Result<Vec<u8>, CodecError> {
        assert_eq!(samples.len(), OPUS_FRAME_SAMPLES, "Opus frames are 20 ms");
        Ok(self.encoder.encode_vec_float(samples, MAX_PACKET)?)
    }
}

pub struct OpusDecoder {
    decoder: Decoder,
}

impl OpusDecoder {
    pub fn new() -> Result<OpusDecoder, CodecError> {
        Ok(OpusDecoder {
            decoder: Decoder::new(48_000, Channels::Mono)?,
        })
    }

    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<f32>, CodecError> {
        self.run(packet, false)
    }

    /// Rebuilds a lost frame: from the next packet's FEC when there is one,
    /// otherwise by Opus packet-loss concealment.
    pub fn conceal(&mut self, next_packet: Option<&[u8]>) -> Result<Vec<f32>, CodecError> {
        match next_packet {
            Some(next) => self.run(next, true),
            None => self.run(&[], false),
        }
    }

    fn run(&mut self, packet: &[u8], fec: bool) -> Result<Vec<f32>, CodecError> {
        let mut out = vec![0f32; OPUS_FRAME_SAMPLES];
        let produced = self.decoder.decode_float(packet, &mut out, fec)?;
        out.truncate(produced);
        out.resize(OPUS_FRAME_SAMPLES, 0.0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::spectrum::dominant_frequency;
    use crate::media::tone::ToneSource;

    #[test]
    fn a_tone_keeps_its_frequency_through_opus() {
        let mut tone = ToneSource::new(523.0, -12.0);
        let mut encoder = OpusEncoder::new(32_000).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let mut heard = Vec::new();
        for _ in 0..50 {
            let packet = encoder
                .encode(&tone.next_frame(OPUS_FRAME_SAMPLES).samples)
                .unwrap();
            assert!(
                packet.len() < 200,
                "{} bytes for 20 ms at 32 kbit/s",
                packet.len()
            );
            heard.extend(decoder.decode(&packet).unwrap());
        }
        let found = dominant_frequency(&heard[9600..]).unwrap();
        assert!((found - 523.0).abs() < 2.0, "{found}");
    }

    #[test]
    fn lost_frames_are_concealed_not_silent() {
        let mut tone = ToneSource::new(440.0, -12.0);
        let mut encoder = OpusEncoder::new(32_000).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let packets: Vec<Vec<u8>> = (0..30)
            .map(|_| {
                encoder
                    .encode(&tone.next_frame(OPUS_FRAME_SAMPLES).samples)
                    .unwrap()
            })
            .collect();
        for packet in &packets[..20] {
            decoder.decode(packet).unwrap();
        }
        let from_fec = decoder.conceal(Some(&packets[21])).unwrap();
        let from_plc = decoder.conceal(None).unwrap();
        for rebuilt in [from_fec, from_plc] {
            assert!(
                crate::media::mixer::level_dbfs(&rebuilt) > -30.0,
                "concealment keeps the sound going"
            );
        }
    }

    #[test]
    fn with_five_percent_of_packets_lost_the_tone_stays_and_concealment_counts() {
        use crate::media::jitter::{JitterBuffer, Playout};
        use std::time::{Duration, Instant};
        let mut tone = ToneSource::new(440.0, -12.0);
        let mut encoder = OpusEncoder::new(32_000).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let mut jitter = JitterBuffer::new();
        let start = Instant::now();
        let mut heard = Vec::new();
        for n in 0..250u16 {
            let packet = encoder
                .encode(&tone.next_frame(OPUS_FRAME_SAMPLES).samples)
                .unwrap();
            // Every twentieth packet is lost on the way.
            if n % 20 != 7 {
                jitter.push(
                    n,
                    n as u32 * 960,
                    packet,
                    start + Duration::from_millis(n as u64 * 20),
                );
            }
            let frame = match jitter.pop() {
                Playout::Packet(packet) => decoder.decode(&packet).unwrap(),
                Playout::Conceal { fec } => decoder.conceal(fec.as_deref()).unwrap(),
                Playout::Silence => continue,
            };
            heard.extend(frame);
        }
        assert!(jitter.stats().concealed >= 12, "{:?}", jitter.stats());
        let found = dominant_frequency(&heard[heard.len() - 48_000..]).unwrap();
        assert!((found - 440.0).abs() < 3.0, "{found}");
        assert!(crate::media::mixer::level_dbfs(&heard[heard.len() - 48_000..]) > -20.0);
    }
}
