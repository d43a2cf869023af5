//! Simulated packet loss, for QA: drops a share of received packets at random
//! (a fixed seed, so a run can be repeated), as a lossy network would.

pub struct SimulatedLoss {
    /// Drop probability scaled to u32.
    threshold: u32,
    state: u32,
}

impl SimulatedLoss {
    /// Drops `share` (0.0–1.0) of packets.
    pub fn new(share: f32) -> SimulatedLoss {
        SimulatedLoss {
            threshold: (share.clamp(0.0, 1.0) as f64 * u32::MAX as f64) as u32,
            state: 0x9e37_79b9,
        }
    }

    /// Whether to drop the next packet.
    pub fn drop_next(&mut self) -> bool {
        if self.threshold == 0 {
            return false;
        }
        // xorshift32: cheap and good enough to spread drops.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        self.state < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::SimulatedLoss;

    #[test]
    fn about_the_asked_share_is_dropped() {
        let mut loss = SimulatedLoss::new(0.05);
        let dropped = (0..100_000).filter(|_| loss.drop_next()).count();
        assert!((4_500..5_500).contains(&dropped), "{dropped}");
        let mut none = SimulatedLoss::new(0.0);
        assert!((0..1000).all(|_| !none.drop_next()));
    }
}
