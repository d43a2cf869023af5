//! RTP sequence numbers are 16 bits and wrap every ~22 minutes of audio;
//! buffers that order packets need them extended to 64 bits, and loss is
//! counted from them.

/// Extends wrapping u16 sequence numbers into an ever-growing u64.
#[derive(Debug, Default, Clone)]
pub struct SequenceUnwrapper {
    highest: Option<u64>,
}

impl SequenceUnwrapper {
    /// The extended number: of the three candidates around the highest seen
    /// so far (one wrap back, this one, one wrap on), the nearest to it.
    pub fn unwrap(&mut self, sequence: u16) -> u64 {
        let seq = match self.highest {
            None => sequence as u64 + (1 << 16),
            Some(highest) => {
                let base = highest & !0xffff;
                [base.wrapping_sub(1 << 16), base, base + (1 << 16)]
                    .into_iter()
                    .map(|b| b + sequence as u64)
                    .min_by_key(|&c| c.abs_diff(highest))
                    .expect("three candidates")
            }
        };
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        seq
    }
}

/// Counts how many packets a stream should have delivered, from the first and
/// highest sequence numbers seen (RFC 3550's "expected"); expected minus
/// received is what was lost.
#[derive(Debug, Default, Clone)]
pub struct ExpectedPackets {
    unwrapper: SequenceUnwrapper,
    first: Option<u64>,
    highest: u64,
}

impl ExpectedPackets {
    /// Takes one packet's sequence number; returns the packets expected so far.
    pub fn on_packet(&mut self, sequence: u16) -> u64 {
        let seq = self.unwrapper.unwrap(sequence);
        let first = *self.first.get_or_insert(seq);
        self.highest = self.highest.max(seq);
        self.highest + 1 - first.min(self.highest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_packets_count_the_gaps_across_the_wrap() {
        let mut expected = ExpectedPackets::default();
        assert_eq!(expected.on_packet(65_530), 1);
        assert_eq!(expected.on_packet(65_531), 2);
        // 65 532 .. 65 535 and 0 lost: 5 packets.
        assert_eq!(expected.on_packet(1), 8);
        // A late packet changes nothing.
        assert_eq!(expected.on_packet(65_535), 8);
    }

    #[test]
    fn numbers_keep_growing_across_the_wrap_and_late_ones_stay_behind() {
        let mut unwrapper = SequenceUnwrapper::default();
        let first = unwrapper.unwrap(65_534);
        assert_eq!(unwrapper.unwrap(65_535), first + 1);
        assert_eq!(unwrapper.unwrap(0), first + 2);
        assert_eq!(unwrapper.unwrap(1), first + 3);
        // A late packet from before the wrap.
        assert_eq!(unwrapper.unwrap(65_533), first - 1);
        assert_eq!(unwrapper.unwrap(2), first + 4);
    }
}
