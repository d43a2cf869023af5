//! What the rig's public namespace serves, and calls between its homes:
//! coturn (STUN for everyone, TURN with the server's REST credentials when
//! asked) and the signal server, with bots run inside the homes (also over
//! a narrow link, for the tests and the network bench).

use super::{Link, PUBLIC, Plan, Rig};
use crate::bots::bot;
use crate::turn::TurnServer;
use crate::{CORPORATE, STARTUP, TestServer};
use huddle_bot::{BotOptions, Report};
use shared::IceServer;
use signal_server::turn::TurnConfig;
use std::time::Duration;

/// The secret coturn and the signal server share in the rig.
pub const TURN_SECRET: &str = "harbour-lights";

/// coturn and the signal server in the public namespace. The server hands
/// out coturn's STUN address, and its TURN with credentials valid for
/// `relay_ttl_s` when given.
pub fn start_public(rig: &Rig, relay_ttl_s: Option<u64>) -> (TurnServer, TestServer) {
    let turn = TurnServer::start_in(&rig.public, PUBLIC, TURN_SECRET);
    let stun = IceServer {
        urls: vec![turn.stun_url()],
        username: None,
        credential: None,
    };
    let table = relay_ttl_s.map(|ttl_s| TurnConfig {
        urls: vec![turn.url()],
        secret: TURN_SECRET.into(),
        ttl_s,
    });
    let server = rig.public_runtime().run(TestServer::start_with(move |c| {
        // Heartbeats as deployed, not the tests' quick ones: a link full of
        // media delays the signalling connection by up to a queue's worth.
        let deployed = signal_server::Config::default();
        c.heartbeat_interval = deployed.heartbeat_interval;
        c.heartbeat_timeout = deployed.heartbeat_timeout;
        c.listen = (PUBLIC, 0).into();
        c.ice_servers = vec![stun];
        c.turn = table;
    }));
    (turn, server)
}

/// Runs `ann` on home 1's host and `bob` on home 2's, side by side.
pub fn call_between_homes(rig: &Rig, ann: BotOptions, bob: BotOptions) -> (Report, Report) {
    call_between_homes_after(rig, ann, bob, Duration::ZERO)
}

/// Runs `ann` on home 1's host and, `bob_after` later, `bob` on home 2's.
pub fn call_between_homes_after(
    rig: &Rig,
    ann: BotOptions,
    bob: BotOptions,
    bob_after: Duration,
) -> (Report, Report) {
    let ann = rig.home(1).runtime().spawn(huddle_bot::run(ann));
    let bob = rig.home(2).runtime().spawn(async move {
        tokio::time::sleep(bob_after).await;
        huddle_bot::run(bob).await
    });
    let (ann, bob) = rig
        .public_runtime()
        .run(async move { (ann.await, bob.await) });
    (
        ann.expect("ann's bot ran").expect("ann's call"),
        bob.expect("bob's bot ran").expect("bob's call"),
    )
}

/// A call of `seconds` between two homes, home 2's link capped at `kbit`
/// each way (a 200 ms queue): Test Startup (440 Hz, red, as `adjust` makes
/// her) in home 1, Test Corporate (660 Hz, blue) in home 2.
pub fn call_over_a_narrow_link(
    kbit: u32,
    seconds: f64,
    adjust: impl FnOnce(&mut BotOptions),
) -> (Report, Report) {
    let narrow = Link {
        rate_kbit: Some(kbit),
        queue: Duration::from_millis(200),
        ..Link::default()
    };
    let rig = Rig::build(&Plan {
        homes: vec![Link::default(), narrow],
        direct: true,
    });
    let (_turn, server) = start_public(&rig, None);
    let mut ann = bot(&server, STARTUP, 440.0, (200, 40, 40), seconds, "");
    let bob = bot(&server, CORPORATE, 660.0, (40, 40, 200), seconds, "");
    adjust(&mut ann);
    call_between_homes(&rig, ann, bob)
}
