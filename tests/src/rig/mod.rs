//! A network rig for calls between real networks, in namespaces: homes, each
//! a host behind its own NAT router (nftables masquerade), joined to a
//! "public" namespace that holds the signal server and the relay. Each
//! home's access link is shaped: rate and queue with `tbf`, random loss with
//! nftables, delay and jitter with a userspace [`Cable`] (this kernel has no
//! netem). Addresses come from 198.18.0.0/15, the range kept for
//! benchmarking. Everything is removed on drop, panics included.
//!
//! ```text
//!  home 1 host ── router 1 ══cable══ public ══cable══ router 2 ── home 2 host
//!  198.19.1.2     198.19.1.1          198.18.0.1      198.18.2.2   198.19.2.2
//!                 198.18.1.2          (server,        198.19.2.1
//!                                      coturn)
//! ```

pub mod cable;
pub mod netns;
pub mod services;

pub use cable::{Cable, Delay};
pub use netns::{Netns, NsRuntime};
use std::net::Ipv4Addr;
use std::time::Duration;

/// The public address of the signal server and the relay.
pub const PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

/// A home's access link, as its router sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    /// The rate each way in kbit/s (`tbf`); None is as fast as the machine.
    pub rate_kbit: Option<u32>,
    /// How long a full queue takes to drain, past which `tbf` drops.
    pub queue: Duration,
    /// Packets dropped at random by the router, in each direction.
    pub loss_percent: f64,
    pub delay: Delay,
}

impl Default for Link {
    fn default() -> Link {
        Link {
            rate_kbit: None,
            queue: Duration::from_millis(200),
            loss_percent: 0.0,
            delay: Delay::default(),
        }
    }
}

/// What to build.
#[derive(Clone, Debug)]
pub struct Plan {
    pub homes: Vec<Link>,
    /// Whether the public namespace forwards between homes. When it does
    /// not, homes reach only the public addresses (server, relay), as two
    /// networks whose firewalls keep each other out.
    pub direct: bool,
}

impl Plan {
    /// Two homes with plain links that can reach each other through their NATs.
    pub fn two_homes() -> Plan {
        Plan {
            homes: vec![Link::default(); 2],
            direct: true,
        }
    }
}

/// One home: a host behind a router.
pub struct Home {
    runtime: NsRuntime,
    cable: Cable,
    /// The public side of this home's cable, in the public namespace.
    public_end: String,
    pub host: Netns,
    pub router: Netns,
}

impl Home {
    /// The runtime whose threads live on the home's host.
    pub fn runtime(&self) -> &NsRuntime {
        &self.runtime
    }
}

pub struct Rig {
    // Dropped in this order: the homes (their runtimes, cables and
    // namespaces), then the public runtime and namespace.
    homes: Vec<Home>,
    public_runtime: NsRuntime,
    pub public: Netns,
}

impl Rig {
    pub fn build(plan: &Plan) -> Rig {
        netns::remove_stale();
        let public = Netns::new("public");
        public.ip(&["addr", "add", &format!("{PUBLIC}/32"), "dev", "lo"]);
        // The rest of the internet, where packets for addresses no home
        // has (private ones, say) go and are lost: a TUN device nobody
        // reads. Without a route there, a send to one fails at once, which
        // coturn takes for a dead relay port.
        public.ip(&["tuntap", "add", "dev", "internet", "mode", "tun"]);
        public.ip(&["link", "set", "internet", "up"]);
        public.ip(&["route", "add", "default", "dev", "internet"]);
        public.sysctl("net.ipv4.ip_forward=1");
        if !plan.direct {
            public.nft(
                "table inet huddle_wall {\n\
                   chain forward { type filter hook forward priority 0; policy drop; }\n\
                 }\n",
            );
        }
        let homes = plan
            .homes
            .iter()
            .enumerate()
            .map(|(index, link)| build_home(&public, index as u8 + 1, link))
            .collect();
        let public_runtime = public.runtime();
        Rig {
            homes,
            public_runtime,
            public,
        }
    }

    /// The runtime whose threads live in the public namespace.
    pub fn public_runtime(&self) -> &NsRuntime {
        &self.public_runtime
    }

    /// Home `number`, counted from 1 as in its addresses.
    pub fn home(&self, number: usize) -> &Home {
        &self.homes[number - 1]
    }

    /// The names of every namespace of the rig.
    pub fn namespaces(&self) -> Vec<String> {
        let mut names = vec![self.public.name().to_string()];
        for home in &self.homes {
            names.push(home.host.name().to_string());
            names.push(home.router.name().to_string());
        }
        names
    }

    /// Bytes the link has carried into home `number` so far.
    pub fn bytes_to_home(&self, number: usize) -> u64 {
        self.public.tx_bytes(&self.home(number).public_end)
    }

    /// Home `number`'s provider gives its router another public address
    /// (198.18.n.3 for 198.18.n.2), as providers do now and then: the old
    /// one leads nowhere from then on, and the router's masquerade forgets
    /// every mapping it made (the kernel flushes them with the address),
    /// so every connection out of the home, TCP and UDP, is cut.
    pub fn renumber_home(&self, number: usize) {
        let home = self.home(number);
        let n = number;
        let (old, new, far) = (
            format!("198.18.{n}.2"),
            format!("198.18.{n}.3"),
            format!("198.18.{n}.1"),
        );
        // Down and up, as a router does when its provider's line comes
        // back: that is when the masquerade forgets its mappings (taking
        // the address alone away left them, sending from the old one).
        home.router.ip(&["link", "set", "wan", "down"]);
        home.router
            .ip(&["addr", "del", &old, "peer", &far, "dev", "wan"]);
        home.router
            .ip(&["addr", "add", &new, "peer", &far, "dev", "wan"]);
        home.router.ip(&["link", "set", "wan", "up"]);
        home.router
            .ip(&["route", "replace", "default", "dev", "wan"]);
        let end = &home.public_end;
        self.public
            .ip(&["addr", "del", &far, "peer", &old, "dev", end]);
        self.public
            .ip(&["addr", "add", &far, "peer", &new, "dev", end]);
    }

    /// Home `number`'s host leaves its address for another on the same
    /// network (198.19.n.3 for 198.19.n.2), as a laptop does that moves
    /// from one network to the next: what it had open on the old one
    /// leads nowhere (answers to it find no one), and nothing says so.
    pub fn move_host(&self, number: usize) {
        let host = &self.home(number).host;
        let n = number;
        host.ip(&["addr", "del", &format!("198.19.{n}.2/24"), "dev", "eth0"]);
        host.ip(&["addr", "add", &format!("198.19.{n}.3/24"), "dev", "eth0"]);
        host.ip(&[
            "route",
            "replace",
            "default",
            "via",
            &format!("198.19.{n}.1"),
        ]);
    }

    /// Changes home `number`'s link while calls go on.
    pub fn set_link(&self, number: usize, link: &Link) {
        let home = self.home(number);
        shape(&home.router, "wan", link);
        shape(&self.public, &home.public_end, link);
        set_loss(&home.router, link.loss_percent);
        home.cable.set_delay(link.delay);
    }
}

/// Home `n`: host 198.19.n.2 on a LAN behind router 198.19.n.1, whose
/// WAN 198.18.n.2 is cabled to the public namespace's 198.18.n.1.
fn build_home(public: &Netns, n: u8, link: &Link) -> Home {
    let host = Netns::new(&format!("home{n}"));
    let router = Netns::new(&format!("router{n}"));
    let public_end = format!("home{n}");
    let cable = Cable::lay(&router, "wan", public, &public_end, link.delay);
    let (wan, far) = (format!("198.18.{n}.2"), format!("198.18.{n}.1"));
    router.ip(&["addr", "add", &wan, "peer", &far, "dev", "wan"]);
    router.ip(&["link", "set", "wan", "up"]);
    router.ip(&["route", "add", "default", "dev", "wan"]);
    public.ip(&["addr", "add", &far, "peer", &wan, "dev", &public_end]);
    public.ip(&["link", "set", &public_end, "up"]);

    router.ip(&[
        "link",
        "add",
        "lan",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        host.name(),
    ]);
    router.ip(&["addr", "add", &format!("198.19.{n}.1/24"), "dev", "lan"]);
    router.ip(&["link", "set", "lan", "up"]);
    host.ip(&["addr", "add", &format!("198.19.{n}.2/24"), "dev", "eth0"]);
    host.ip(&["link", "set", "eth0", "up"]);
    host.ip(&["route", "add", "default", "via", &format!("198.19.{n}.1")]);

    router.sysctl("net.ipv4.ip_forward=1");
    // A home router: masquerade on the way out, and nothing new in from
    // outside. Dropping those before their connection-tracking entry is
    // confirmed matters: an entry for a peer's early probe would hold the
    // port, and the router would map our own packets to that peer from
    // another port (as a symmetric NAT does), breaking hole punching.
    router.nft(
        "table ip huddle_nat {\n\
           chain postrouting { type nat hook postrouting priority 100; oifname \"wan\" masquerade; }\n\
           chain input { type filter hook input priority 0; iifname \"wan\" ct state new drop; }\n\
           chain forward { type filter hook forward priority 0; iifname \"wan\" ct state new drop; }\n\
         }\n",
    );
    shape(&router, "wan", link);
    shape(public, &public_end, link);
    set_loss(&router, link.loss_percent);
    let runtime = host.runtime();
    Home {
        runtime,
        cable,
        public_end,
        host,
        router,
    }
}

/// Puts `tbf` on `device`'s way out at the link's rate, or takes it off.
fn shape(ns: &Netns, device: &str, link: &Link) {
    let Some(kbit) = link.rate_kbit else {
        ns.tc(&["qdisc", "replace", "dev", device, "root", "pfifo_fast"]);
        return;
    };
    // A burst of 20 ms at the rate, and never less than two full packets.
    let burst_bytes = (kbit as u64 * 1000 / 8 / 50).max(3200);
    let latency_ms = link.queue.as_millis().max(1);
    ns.tc(&[
        "qdisc",
        "replace",
        "dev",
        device,
        "root",
        "tbf",
        "rate",
        &format!("{kbit}kbit"),
        "burst",
        &burst_bytes.to_string(),
        "latency",
        &format!("{latency_ms}ms"),
    ]);
}

/// Drops `percent` of the packets the router forwards, each way.
fn set_loss(router: &Netns, percent: f64) {
    let per_10k = (percent * 100.0).round() as u32;
    let rule = if per_10k == 0 {
        String::new()
    } else {
        format!("numgen random mod 10000 < {per_10k} drop;")
    };
    router.nft(&format!(
        "table inet huddle_loss\n\
         delete table inet huddle_loss\n\
         table inet huddle_loss {{\n\
           chain forward {{ type filter hook forward priority 0; {rule} }}\n\
         }}\n"
    ));
}
