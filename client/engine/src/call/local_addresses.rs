//! Watching this machine's own addresses: when one goes away (Wi-Fi off,
//! a cable pulled, a VPN down), the links that used it are dead although
//! nothing says so for seconds; the call restarts ICE on every link at once
//! (see `core/restarts.rs`) instead of waiting for each to time out.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// The addresses a peer could reach us at, of this machine's interfaces.
pub fn usable() -> BTreeSet<IpAddr> {
    let Ok(interfaces) = rtc::shared::ifaces::ifaces() else {
        return BTreeSet::new();
    };
    reachable(
        interfaces
            .into_iter()
            .filter_map(|i| i.addr.map(|addr| addr.ip())),
    )
}

/// Of `addresses`, those a peer could reach: not loopback, not
/// unspecified, not link-local.
fn reachable(addresses: impl Iterator<Item = IpAddr>) -> BTreeSet<IpAddr> {
    addresses
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && !is_link_local(ip))
        .collect()
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// The addresses seen last, to compare with the next look.
#[derive(Debug)]
pub struct AddressWatch {
    known: BTreeSet<IpAddr>,
}

impl AddressWatch {
    pub fn new(now: BTreeSet<IpAddr>) -> AddressWatch {
        AddressWatch { known: now }
    }

    /// Takes in what the machine has now; true when an address we had is
    /// gone. One that only came (a second network joined) breaks nothing.
    pub fn lost_one(&mut self, now: BTreeSet<IpAddr>) -> bool {
        let lost = self.known.difference(&now).next().is_some();
        self.known = now;
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(addresses: &[&str]) -> BTreeSet<IpAddr> {
        addresses.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn an_address_that_goes_is_news_and_one_that_comes_is_not() {
        let mut watch = AddressWatch::new(set(&["198.19.1.2"]));
        assert!(
            !watch.lost_one(set(&["198.19.1.2", "198.18.5.5"])),
            "one came"
        );
        assert!(watch.lost_one(set(&["198.18.5.5"])), "one went");
        assert!(!watch.lost_one(set(&["198.18.5.5"])), "said once");
    }

    #[test]
    fn only_addresses_a_peer_could_reach_are_watched() {
        let all = [
            "127.0.0.1",
            "0.0.0.0",
            "169.254.3.4",
            "fe80::1",
            "::1",
            "198.19.1.2",
            "2001:db8::7",
        ];
        let kept = reachable(all.iter().map(|a| a.parse().unwrap()));
        assert_eq!(kept, set(&["198.19.1.2", "2001:db8::7"]));
    }
}
