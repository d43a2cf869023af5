//! Whether what a bot saw meets its script's expectations: for the report,
//! and for `--until-met`, which ends the bot as soon as all of them hold.

use super::report::ChatLine;
use super::script::Expectation;
use super::seen::Seen;

/// Whether every expectation holds; with none, the bot has nothing to wait for.
pub(super) fn all_hold<'a>(
    expectations: &[Expectation],
    peers: impl Iterator<Item = &'a Seen> + Clone,
    chat: &[ChatLine],
    max_in_room: usize,
) -> bool {
    expectations
        .iter()
        .all(|e| holds(e, peers.clone(), chat, max_in_room))
}

/// Whether one expectation holds for `peers` (everyone the bot saw; an
/// iterator, so the check after every event and frame allocates nothing).
pub(super) fn holds<'a>(
    expectation: &Expectation,
    peers: impl Iterator<Item = &'a Seen> + Clone,
    chat: &[ChatLine],
    max_in_room: usize,
) -> bool {
    let any_named = |name: &str, test: &dyn Fn(&Seen) -> bool| {
        peers.clone().any(|p| p.participant.name == name && test(p))
    };
    match expectation {
        Expectation::ParticipantsAtLeast(n) => max_in_room >= *n,
        Expectation::ChatSeen(text) => chat.iter().any(|c| &c.text == text),
        Expectation::VideoFrom(name) => any_named(name, &|p| p.video.frames_decoded > 0),
        Expectation::ScreenFrom(name) => any_named(name, &|p| p.screen.frames_decoded > 0),
        Expectation::SeenMuted(name) => any_named(name, &|p| p.seen.muted),
        Expectation::SeenVideoOff(name) => any_named(name, &|p| p.seen.video_off),
        Expectation::SeenLeave(name) => any_named(name, &|p| p.seen.left),
        Expectation::AudioFrom { name, hz } => any_named(name, &|p| {
            p.audio
                .dominant_hz()
                .is_some_and(|found| (found - hz).abs() <= 10.0)
        }),
    }
}
