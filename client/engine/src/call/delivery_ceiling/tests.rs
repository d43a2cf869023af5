//! The ceiling and floor, fed feedback windows made up here.

use super::*;
use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;

/// 50 packets of 250 bytes sent `from_ms` after `epoch` over `ms`
/// (arriving as they were sent, on the receiver's clock, but for the
/// middle one, held 100 ms in a queue), every `lost_every`th lost.
pub(in crate::call) fn batch(
    epoch: Instant,
    from_ms: u64,
    ms: u64,
    lost_every: usize,
) -> Vec<PacketReport> {
    let mut packets = lossy_path_batch(epoch, from_ms, ms, lost_every);
    let queued = &mut packets[25];
    queued.arrival = queued.arrival.map(|at| at + Duration::from_millis(100));
    packets
}

/// [`batch`] with no queue: a path that loses at random (Wi-Fi).
fn lossy_path_batch(epoch: Instant, from_ms: u64, ms: u64, lost_every: usize) -> Vec<PacketReport> {
    (0..50)
        .map(|i| {
            let at = Duration::from_millis(from_ms + ms * i as u64 / 50);
            PacketReport {
                ssrc: 1,
                id: i as u64,
                rtp_sequence_number: i as u16,
                is_twcc: true,
                twcc_sequence_number: i as u16,
                size: 250,
                arrived: i % lost_every != 0,
                departure: epoch + at,
                arrival: Some(at),
                ecn: Ecn::default(),
            }
        })
        .collect()
}

/// A ceiling cut by half of 100 packets lost: 50 × 250 bytes
/// delivered, the first 5 ms and the last 495 ms in, 204 kbit/s.
/// Returns it, the start, and when the cut was.
fn cut() -> (DeliveryCeiling, Instant, Instant) {
    let mut ceiling = DeliveryCeiling::default();
    let start = Instant::now();
    ceiling.on_reports(start, &batch(start, 0, 250, 2));
    let cut = start + Duration::from_millis(500);
    ceiling.on_reports(cut, &batch(start, 250, 250, 2));
    (ceiling, start, cut)
}

#[test]
fn heavy_loss_caps_the_estimate_at_what_was_delivered_then_it_rises() {
    let (mut ceiling, start, later) = cut();
    let capped = ceiling.apply(1_000_000.0, later);
    assert!((capped - 204_082.0).abs() < 1.0, "{capped}");
    // It holds while the queue is there; then the loss and the queue
    // are gone (one in 50 lost, none held)...
    assert!((ceiling.apply(1_000_000.0, later + WINDOW) - capped).abs() < 1.0);
    let clean = lossy_path_batch(start, 500, 500, 1000);
    assert!(ceiling.on_reports(later + WINDOW, &clean));
    // ...and it grows 2 % a second near where the path lost (from when
    // it last held)...
    let a_second_on = later + Duration::from_secs(1);
    let grown = ceiling.apply(1_000_000.0, a_second_on);
    assert!((grown - capped * 1.02_f64.sqrt()).abs() < 1.0, "{grown}");
    // ...and 8 % once well past it (15 % above, 235) without loss.
    let past = later + Duration::from_secs(8);
    let at_past = ceiling.apply(1_000_000.0, past);
    assert!(
        (at_past - capped * 1.02_f64.powf(7.5)).abs() < 1.0,
        "{at_past}"
    );
    assert!(at_past > capped * NEAR);
    let a_second_on = past + Duration::from_secs(1);
    let grown = ceiling.apply(1_000_000.0, a_second_on);
    assert!((grown / at_past - 1.08).abs() < 0.001, "{grown}");
    // GCC below it wins, and it still holds GCC back when GCC climbs.
    assert_eq!(ceiling.apply(150_000.0, a_second_on), 150_000.0);
    assert!((ceiling.apply(1_000_000.0, a_second_on) - grown).abs() < 1.0);
}

#[test]
fn a_loss_that_goes_on_keeps_the_most_the_path_delivered_in_it() {
    let (mut ceiling, start, cut) = cut();
    let best = 204_082.0 * DRAIN;
    // Still losing half, but what is delivered reads as 51 kbit/s: the
    // feedback on the packets sent before the cut, some of it lost.
    let later = cut + WINDOW;
    assert!(!ceiling.on_reports(later, &batch(start, 500, 1000, 2)));
    assert!((ceiling.floor() - best).abs() < 1.0, "{}", ceiling.floor());
    // The loss ends, and says so once.
    let clean = |from_ms| lossy_path_batch(start, from_ms, 500, 1000);
    assert!(ceiling.on_reports(later + WINDOW, &clean(1500)));
    assert!(!ceiling.on_reports(later + WINDOW * 2, &clean(2000)));
    // A loss long after is measured afresh.
    let again = later + EPISODE_SPAN + WINDOW * 3;
    ceiling.on_reports(again, &batch(start, 2500, 1000, 2));
    assert_eq!(ceiling.floor(), MIN_BPS, "51 kbit/s, under the least");
}

/// `packets`, those from `from` on held `queue_ms` longer in a queue.
fn held(mut packets: Vec<PacketReport>, from: usize, queue_ms: u64) -> Vec<PacketReport> {
    for packet in &mut packets[from..] {
        packet.arrival = packet
            .arrival
            .map(|at| at + Duration::from_millis(queue_ms));
    }
    packets
}

#[test]
fn a_queue_that_grows_caps_the_estimate_just_under_what_was_delivered() {
    let mut ceiling = DeliveryCeiling::default();
    let start = Instant::now();
    // 50 × 250 bytes over 500 ms, the last ten held `queue_ms` (so it
    // does not stand: the first ones wait for nothing).
    let window =
        |i: u64, queue_ms: u64| held(lossy_path_batch(start, 500 * i, 500, 1000), 40, queue_ms);
    let at = |i: u64| start + WINDOW * i as u32;
    ceiling.on_reports(at(0), &window(0, 0));
    for (i, queue_ms) in [(1, 0), (2, 70)] {
        ceiling.on_reports(at(i), &window(i, queue_ms));
        assert_eq!(ceiling.apply(1_000_000.0, at(i)), 1_000_000.0);
    }
    ceiling.on_reports(at(3), &window(3, 140));
    // 49 × 250 bytes (the first is lost) over the 620 ms from first
    // to last arrival, less 5 %.
    let capped = ceiling.apply(1_000_000.0, at(3));
    assert!(
        (capped - 98_000.0 / 0.62 * EARLY_DRAIN).abs() < 1.0,
        "{capped}"
    );
    // While the queue is there the ceiling holds; once gone, it grows.
    ceiling.on_reports(at(4), &window(4, 140));
    let a_second_on = at(4) + Duration::from_secs(1);
    assert!((ceiling.apply(1_000_000.0, a_second_on) - capped).abs() < 1.0);
    ceiling.on_reports(at(5), &window(5, 0));
    let grown = ceiling.apply(1_000_000.0, a_second_on + Duration::from_secs(1));
    assert!((grown / capped - NEAR_GROWTH).abs() < 0.001, "{grown}");
}

/// After [`cut`], three windows of `packets` (sent over `ms` from each
/// window's start, the first one skipped), those from `held_from` on held
/// 0, 70, then 140 ms: a queue that grows. Returns the ceiling, the floor
/// the cut left, and what the ceiling makes of GCC's 1 Mbit/s then.
fn a_queue_grows_after_the_cut(
    ms: u64,
    packets: usize,
    held_from: usize,
) -> (DeliveryCeiling, f64, f64) {
    let (mut ceiling, start, cut) = cut();
    let floor = ceiling.floor();
    for (i, queue_ms) in [(1, 0), (2, 70), (3, 140)] {
        let sent = lossy_path_batch(start, 500 * i, ms, 1000)[1..=packets].to_vec();
        ceiling.on_reports(cut + WINDOW * i as u32, &held(sent, held_from, queue_ms));
    }
    let capped = ceiling.apply(1_000_000.0, cut + WINDOW * 3);
    (ceiling, floor, capped)
}

#[test]
fn a_queue_that_grows_from_a_burst_does_not_cap_the_estimate_under_the_floor() {
    // A large frame: 10 packets in 500 ms (40 kbit/s), none lost, the last
    // five held.
    let (ceiling, floor, capped) = a_queue_grows_after_the_cut(500, 10, 5);
    assert!((capped - floor).abs() < 1.0, "{capped}");
    assert!((ceiling.floor() - floor).abs() < 1.0, "the floor stays");
}

#[test]
fn a_queue_caps_the_ceiling_and_never_raises_it() {
    // 49 × 250 bytes sent in 300 ms a window, the last ten held: some 230
    // kbit/s delivered, over the 204 the loss left.
    let (_, _, capped) = a_queue_grows_after_the_cut(300, 49, 39);
    assert!(capped <= 204_082.0 + 1.0, "{capped}");
}

#[test]
fn after_heavy_loss_the_estimate_stays_a_little_under_what_was_delivered() {
    assert_eq!(
        DeliveryCeiling::default().floor(),
        MIN_BPS,
        "nothing known yet"
    );
    let (ceiling, _, _) = cut();
    let floor = ceiling.floor();
    assert!((floor - 204_082.0 * DRAIN).abs() < 1.0, "{floor}");
}

#[test]
fn a_sender_that_cannot_use_the_ceiling_does_not_raise_it_fast() {
    let (mut ceiling, start, cut) = cut();
    // Then a small picture: 5 packets of 250 bytes in half a second,
    // 20 kbit/s, all delivered.
    let window = cut + Duration::from_millis(500);
    ceiling.on_reports(window, &batch(start, 500, 500, 1000)[1..6]);
    // 8 s on it is 15 % past the cut; from there, unused, it still
    // grows only 2 % a second (used, 8 %).
    let past = window + Duration::from_secs(8);
    let at = ceiling.apply(1_000_000.0, past);
    assert!(at > 204_082.0 * NEAR, "{at}");
    let grown = ceiling.apply(1_000_000.0, past + Duration::from_secs(10));
    assert!(
        (grown / at - 1.02_f64.powi(10)).abs() < 0.001,
        "{at} → {grown}"
    );
}

#[test]
fn feedback_that_comes_in_a_burst_is_not_taken_for_a_wide_path() {
    let mut ceiling = DeliveryCeiling::default();
    let start = Instant::now();
    // A second's packets (half lost), whose feedback all comes within
    // 500 ms: 12.5 kB delivered in a second is 100 kbit/s, not 200.
    ceiling.on_reports(start, &batch(start, 0, 500, 2));
    let later = start + Duration::from_millis(500);
    ceiling.on_reports(later, &batch(start, 500, 500, 2));
    let capped = ceiling.apply(1_000_000.0, later);
    assert!((100_000.0..=103_000.0).contains(&capped), "{capped}");
}

#[test]
fn a_queue_that_stands_caps_the_estimate_below_what_the_path_delivered() {
    let mut ceiling = DeliveryCeiling::default();
    let start = Instant::now();
    let delayed = |from_ms: u64, queue_ms: u64| {
        let mut packets = lossy_path_batch(start, from_ms, 500, 1000);
        for packet in &mut packets {
            packet.arrival = packet
                .arrival
                .map(|at| at + Duration::from_millis(queue_ms));
        }
        packets
    };
    // 50 × 250 bytes over 500 ms each window, 200 kbit/s, none lost.
    ceiling.on_reports(start, &delayed(0, 0));
    for (i, queue_ms) in [(1, 0), (2, 150)] {
        let at = start + Duration::from_millis(500 * i);
        ceiling.on_reports(at, &delayed(500 * i, queue_ms));
        assert_eq!(ceiling.apply(1_000_000.0, at), 1_000_000.0);
    }
    let at = start + Duration::from_millis(1_500);
    ceiling.on_reports(at, &delayed(1_500, 170));
    let capped = ceiling.apply(1_000_000.0, at);
    // 85 % of 12.25 kB over the 480 ms from first to last arrival.
    assert!((173_000.0..=174_000.0).contains(&capped), "{capped}");
}

/// What a ceiling makes of GCC's 1 Mbit/s after a second of windows of
/// 250 ms, each made by `window` from the start and its own start (ms).
fn after_a_second_of(window: impl Fn(Instant, u64) -> Vec<PacketReport>) -> f64 {
    let mut ceiling = DeliveryCeiling::default();
    let start = Instant::now();
    for i in 0..4 {
        let at = start + Duration::from_millis(250 * i);
        ceiling.on_reports(at, &window(start, 250 * i));
    }
    ceiling.apply(1_000_000.0, start + Duration::from_secs(1))
}

#[test]
fn heavy_loss_with_no_queue_is_a_lossy_path_and_leaves_the_estimate_to_gcc() {
    // 20 % lost.
    let lossy = after_a_second_of(|start, from_ms| lossy_path_batch(start, from_ms, 250, 5));
    assert_eq!(lossy, 1_000_000.0);
}

#[test]
fn light_loss_leaves_the_estimate_to_gcc() {
    // 6 % lost.
    let light = after_a_second_of(|start, from_ms| batch(start, from_ms, 250, 17));
    assert_eq!(light, 1_000_000.0);
}
