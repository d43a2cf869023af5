//! What the rig's public namespace serves, and calls between its homes:
//! coturn (STUN for everyone, TURN with the server's REST credentials when
//! asked) and the signal server, with bots run inside the homes.

use super::{PUBLIC, Rig};
use crate::TestServer;
use crate::turn::TurnServer;
use huddle_bot::{BotOptions, Report};
use shared::IceServer;
use signal_server::turn::TurnConfig;

/// The secret coturn and the signal server share in the rig.
pub const TURN_SECRET: &str = "harbour-lights";

/// coturn and the signal server in the public namespace. The server hands
/// out coturn's STUN address, and its TURN with credentials when `relay`.
pub fn start_public(rig: &Rig, relay: bool) -> (TurnServer, TestServer) {
    let turn = TurnServer::start_in(&rig.public, PUBLIC, TURN_SECRET);
    let stun = IceServer {
        urls: vec![turn.stun_url()],
        username: None,
        credential: None,
    };
    let table = relay.then(|| TurnConfig {
        urls: vec![turn.url()],
        secret: TURN_SECRET.into(),
        ttl_s: 600,
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
    let ann = rig.home(1).runtime().spawn(huddle_bot::run(ann));
    let bob = rig.home(2).runtime().spawn(huddle_bot::run(bob));
    let (ann, bob) = rig
        .public_runtime()
        .run(async move { (ann.await, bob.await) });
    (
        ann.expect("ann's bot ran").expect("ann's call"),
        bob.expect("bob's bot ran").expect("bob's call"),
    )
}
