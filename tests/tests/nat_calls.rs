//! Calls between two homes, each behind its own NAT, in the network rig: the
//! signal server and coturn (STUN and TURN, with the server's REST
//! credentials) sit on a public address. Bots in the homes find their
//! public addresses through coturn's STUN and meet directly; when the homes
//! cannot reach each other, they call through the relay.

use huddle_tests::bots::{assert_candidate, assert_sees, bot};
use huddle_tests::rig::services::{call_between_homes, call_between_homes_after, start_public};
use huddle_tests::rig::{Delay, Link, Plan, Rig};
use huddle_tests::*;
use std::time::Duration;

#[test]
fn two_homes_behind_nats_meet_at_the_addresses_stun_finds() {
    let rig = Rig::build(&Plan::two_homes());
    let (_turn, server) = start_public(&rig, None);
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 7.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 7.0, "");
    let (ann, bob) = call_between_homes(&rig, ann, bob);
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    assert_candidate(&ann, "Test Corporate", "srflx");
    assert_candidate(&bob, "Test Startup", "srflx");
}

#[test]
fn the_report_measures_the_round_trip_a_delayed_link_adds() {
    // 40 ms each way on home 2's link: an 80 ms round trip between the homes.
    let delayed = Link {
        delay: Delay {
            delay: Duration::from_millis(40),
            jitter: Duration::ZERO,
        },
        ..Link::default()
    };
    let rig = Rig::build(&Plan {
        homes: vec![Link::default(), delayed],
        direct: true,
    });
    let (_turn, server) = start_public(&rig, None);
    let ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 7.0, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 7.0, "");
    let (ann, bob) = call_between_homes(&rig, ann, bob);
    for (report, other) in [(&ann, "Test Corporate"), (&bob, "Test Startup")] {
        let network = &report.peer(other).expect("saw the other").network;
        let rtt = network.rtt_ms.expect("a round trip measured");
        assert!(
            (78.0..=200.0).contains(&rtt),
            "{}: {network:?}",
            report.name
        );
        assert_eq!(
            network.quality,
            Some("good"),
            "{}: {network:?}",
            report.name
        );
        assert!(
            network.loss_pct.is_some_and(|loss| loss < 2.0),
            "{network:?}"
        );
        let flowing = |kbit: Option<f64>| kbit.is_some_and(|kbit| kbit > 10.0);
        assert!(
            flowing(network.send_kbit_per_s) && flowing(network.recv_kbit_per_s),
            "{network:?}"
        );
        assert!(flowing(network.estimate_kbit_per_s), "{network:?}");
    }
}

/// What coturn logs for each relay address it gives.
const ALLOCATED: &str = "ALLOCATE processed, success";

/// The coturn users (`expiry:user_id`) named on the log's lines that
/// contain `marker`.
fn users_on_lines<'a>(log: &'a str, marker: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|line| line.contains(marker))
        .filter_map(|line| line.split("user <").nth(1)?.split('>').next())
        .collect()
}

/// A call between homes that cannot reach each other, each bot relay-only
/// or not; returns what coturn logged.
fn call_that_only_the_relay_can_carry(relay_only: bool) -> String {
    let rig = Rig::build(&Plan {
        direct: false,
        ..Plan::two_homes()
    });
    let (turn, server) = start_public(&rig, Some(600));
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 9.0, "");
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 9.0, "");
    ann.relay_only = relay_only;
    bob.relay_only = relay_only;
    let (ann, bob) = call_between_homes(&rig, ann, bob);
    assert_sees(&ann, "Test Corporate", 660.0);
    assert_sees(&bob, "Test Startup", 440.0);
    assert_candidate(&ann, "Test Corporate", "relay");
    assert_candidate(&bob, "Test Startup", "relay");
    turn.log()
}

#[test]
fn homes_that_cannot_reach_each_other_call_through_the_relay_when_told_to() {
    let log = call_that_only_the_relay_can_carry(true);
    // Each home's relay address came from coturn, under its own user.
    let users: std::collections::BTreeSet<&str> =
        users_on_lines(&log, ALLOCATED).into_iter().collect();
    assert_eq!(users.len(), 2, "allocations by {users:?}:\n{log}");
}

#[test]
fn homes_that_cannot_reach_each_other_fall_back_to_the_relay_by_themselves() {
    call_that_only_the_relay_can_carry(false);
}

#[test]
fn a_relay_credential_that_expired_is_refused_and_the_client_says_so() {
    let rig = Rig::build(&Plan {
        direct: false,
        ..Plan::two_homes()
    });
    // Credentials for a second: Ann's, from her welcome, have expired when
    // Bob arrives 3 s later and her link to him asks the relay for an address.
    let (turn, server) = start_public(&rig, Some(1));
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), 16.0, "");
    let mut bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), 12.0, "");
    ann.relay_only = true;
    bob.relay_only = true;
    let (ann, _bob) = call_between_homes_after(&rig, ann, bob, Duration::from_secs(3));
    // coturn refused a username whose expiry had passed, and never gave it
    // an address.
    let log = turn.log();
    let refused = users_on_lines(&log, "Cannot find credentials of user");
    assert!(!refused.is_empty(), "coturn refused no one:\n{log}");
    let allocated = users_on_lines(&log, ALLOCATED);
    assert!(
        !refused.iter().any(|user| allocated.contains(user)),
        "{log}"
    );
    // Ann says so, naming the time her credentials expired (UTC, of the
    // day; Bob's, also good for a second only, may have expired too).
    let times: Vec<String> = refused
        .iter()
        .filter_map(|user| user.split(':').next()?.parse::<u64>().ok())
        .map(|expiry| {
            let of_day = expiry % 86_400;
            format!(
                "{:02}:{:02}:{:02}",
                of_day / 3600,
                of_day / 60 % 60,
                of_day % 60
            )
        })
        .collect();
    let said: Vec<&str> = ann
        .events
        .iter()
        .map(|e| e.event.as_str())
        .filter(|event| event.starts_with("problem: cannot reach Test Corporate"))
        .collect();
    assert!(
        said.len() == 1
            && times.iter().any(|time| {
                said[0].contains(&format!(
                    "the relay credentials the server gave us expired at {time} UTC"
                ))
            }),
        "Ann said {said:?}; her events: {:?}",
        ann.events
    );
}
