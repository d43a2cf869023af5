//! Who is on the other end, for limits and logs: the TCP peer, or, only when
//! that peer is a reverse proxy the operator trusts, the client address the
//! proxy forwarded (`Forwarded`, else `X-Forwarded-For`). Anyone else's
//! headers are ignored, so a client cannot pick its own address.

use crate::app::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The client's address as limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key limits are counted under: an IPv6 address by its /64, the
    /// block one home or host is given, so rotating addresses within it does
    /// not multiply an allowance.
    pub fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(Ipv6Addr::from(bits))
                }
            },
            v4 => v4,
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(ClientAddr(client_ip(
            peer,
            &parts.headers,
            &app.config.trusted_proxies,
        )))
    }
}

/// The client's address: `peer` itself unless `peer` is trusted, then the
/// nearest forwarded address that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // Nearest hop last: walk back past our own proxies to the first address
    // a proxy of ours saw connect.
    chain
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// The addresses proxies recorded, farthest first. An entry that does not
/// parse (`unknown`, an obfuscated name) ends the usable chain there.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return usable_tail(
            forwarded
                .iter()
                .flat_map(|v| v.split(','))
                .map(|element| element.split(';').find_map(for_parameter)),
        );
    }
    let listed = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|entry| parse_node(entry.trim()));
    usable_tail(listed)
}

/// The entries after the last one that could not be read: anything before a
/// garbled hop cannot be attributed.
fn usable_tail(entries: impl Iterator<Item = Option<IpAddr>>) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    for entry in entries {
        match entry {
            Some(ip) => chain.push(ip),
            None => chain.clear(),
        }
    }
    chain
}

/// `for=…` in one `Forwarded` element (RFC 7239).
fn for_parameter(pair: &str) -> Option<IpAddr> {
    let (name, value) = pair.trim().split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("for") {
        return None;
    }
    parse_node(value.trim().trim_matches('"'))
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> Vec<IpNet> {
        vec![
            "127.0.0.0/8".parse().unwrap(),
            "198.18.0.0/24".parse().unwrap(),
        ]
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let forged = headers(&[
            ("x-forwarded-for", "198.19.9.9"),
            ("forwarded", "for=198.19.9.9"),
        ]);
        assert_eq!(
            client_ip(ip("198.19.0.5"), &forged, &proxies()),
            ip("198.19.0.5")
        );
        assert_eq!(client_ip(ip("127.0.0.1"), &forged, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let h = headers(&[("x-forwarded-for", "198.19.7.7")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("198.19.7.7"));
    }

    #[test]
    fn the_nearest_untrusted_hop_wins_over_what_the_client_claimed() {
        // The client claimed 198.19.200.1; our proxy saw it connect from 198.19.7.7.
        let h = headers(&[("x-forwarded-for", "198.19.200.1, 198.19.7.7, 198.18.0.9")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("198.19.7.7"));
    }

    #[test]
    fn forwarded_is_read_with_quotes_ports_and_brackets() {
        let h = headers(&[(
            "forwarded",
            r#"for="[2001:db8::1]:4711";proto=https, for=198.18.0.3"#,
        )]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &proxies()),
            ip("2001:db8::1")
        );
        let h = headers(&[("forwarded", "for=198.19.1.2:80;by=127.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("198.19.1.2"));
        // Forwarded wins over X-Forwarded-For when both are present.
        let h = headers(&[
            ("forwarded", "for=198.19.1.2"),
            ("x-forwarded-for", "198.19.3.3"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("198.19.1.2"));
    }

    #[test]
    fn a_garbled_or_missing_header_leaves_the_proxy_itself() {
        for value in ["", "unknown", "not an address"] {
            let h = headers(&[("x-forwarded-for", value)]);
            assert_eq!(
                client_ip(ip("127.0.0.1"), &h, &proxies()),
                ip("127.0.0.1"),
                "{value:?}"
            );
        }
        let h = headers(&[("x-forwarded-for", "198.19.5.5, unknown")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &proxies()), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1")).limit_key();
        let b = ClientAddr(ip("2001:db8:1:2:bbbb::9")).limit_key();
        let other = ClientAddr(ip("2001:db8:1:3::1")).limit_key();
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(
            ClientAddr(ip("::ffff:198.18.0.1")).limit_key(),
            ip("198.18.0.1")
        );
        assert_eq!(ClientAddr(ip("198.18.0.1")).limit_key(), ip("198.18.0.1"));
    }
}
