//! Whether what a bot saw meets its script's expectations: for the report,
//! and for `--until-met`, which ends the bot as soon as all of them hold.

use super::hosting::Told;
use super::report::ChatLine;
use super::script::Expectation;
use super::seen::Seen;

/// What the bot heard besides the people: chat, hosts, the room's size.
pub(super) struct Heard<'a> {
    pub(super) chat: &'a [ChatLine],
    pub(super) told: &'a Told,
    /// As a host: who was seen waiting in the lobby.
    pub(super) knocked: &'a [String],
    pub(super) max_in_room: usize,
}

/// Whether every expectation holds; with none, the bot has nothing to wait for.
pub(super) fn all_hold<'a>(
    expectations: &[Expectation],
    peers: impl Iterator<Item = &'a Seen> + Clone,
    heard: &Heard<'_>,
) -> bool {
    expectations.iter().all(|e| holds(e, peers.clone(), heard))
}

/// Whether one expectation holds for `peers` (everyone the bot saw; an
/// iterator, so the check after every event and frame allocates nothing).
pub(super) fn holds<'a>(
    expectation: &Expectation,
    peers: impl Iterator<Item = &'a Seen> + Clone,
    heard: &Heard<'_>,
) -> bool {
    let any_named = |name: &str, test: &dyn Fn(&Seen) -> bool| {
        peers.clone().any(|p| p.participant.name == name && test(p))
    };
    match expectation {
        Expectation::ParticipantsAtLeast(n) => heard.max_in_room >= *n,
        Expectation::ChatSeen(text) => heard.chat.iter().any(|c| &c.text == text),
        Expectation::Removed(removed) => heard.told.removed == *removed,
        Expectation::HostNotice(text) => heard.told.notices.iter().any(|n| n.contains(text)),
        Expectation::Knocked(name) => heard.knocked.contains(name),
        Expectation::HandRaisedBy(name) => any_named(name, &|p| p.seen.hand_raised),
        Expectation::ReactionFrom(name) => any_named(name, &|p| !p.reactions.is_empty()),
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
