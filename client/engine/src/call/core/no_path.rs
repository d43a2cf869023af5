//! Why a link that never connected failed, in one line a person can act
//! on: no path worked, and what the relay the server offered could do.
//! The relay's REST credentials (coturn's `use-auth-secret`) carry their
//! expiry in the username (`expiry:user`); a relay refuses them after it.

use shared::IceServer;
use std::time::{SystemTime, UNIX_EPOCH};

/// The line for a link to `name` that never connected, with the wall
/// clock at `now` (for the credentials' expiry).
pub fn explain(name: &str, ice_servers: &[IceServer], now: SystemTime) -> String {
    let relays: Vec<(&IceServer, &String)> = ice_servers
        .iter()
        .flat_map(|server| server.urls.iter().map(move |url| (server, url)))
        .filter(|(_, url)| url.starts_with("turn:") || url.starts_with("turns:"))
        .collect();
    let failed = format!("cannot reach {name}: every network path failed");
    if relays.is_empty() {
        return format!("{failed} and the server offers no relay");
    }
    let usable: Vec<&IceServer> = relays
        .iter()
        .filter(|(_, url)| usable_here(url))
        .map(|(server, _)| *server)
        .collect();
    if usable.is_empty() {
        return format!(
            "{failed}; the server's relay is offered only over TCP or TLS, which this app cannot use yet"
        );
    }
    let now_s = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expired = usable
        .iter()
        .filter_map(|server| rest_expiry(server))
        .filter(|&expiry| expiry <= now_s)
        .max();
    match expired {
        Some(expiry) => format!(
            "{failed}; the relay credentials the server gave us expired at {} UTC, and the relay refuses them since",
            clock_time(expiry)
        ),
        None => format!("{failed}, the server's relay included"),
    }
}

/// webrtc-rs relays over UDP only: it skips `turns:` and `?transport=tcp`.
fn usable_here(url: &str) -> bool {
    url.starts_with("turn:") && !url.contains("transport=tcp")
}

/// The expiry (Unix seconds) a REST username carries, if it is one.
fn rest_expiry(server: &IceServer) -> Option<u64> {
    let username = server.username.as_deref()?;
    username.split_once(':')?.0.parse().ok()
}

/// Unix seconds as HH:MM:SS of their day.
fn clock_time(unix_s: u64) -> String {
    let of_day = unix_s % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn relay(url: &str, username: Option<&str>) -> IceServer {
        IceServer {
            urls: vec![url.into()],
            username: username.map(Into::into),
            credential: Some("secret".into()),
        }
    }

    fn at(unix_s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_s)
    }

    #[test]
    fn expired_rest_credentials_are_named_with_their_time() {
        // 1 800 000 000 is 08:00:00 UTC of its day (2027-01-15).
        let servers = [relay("turn:198.18.0.1:3478", Some("1800000000:7"))];
        let line = explain("Ann", &servers, at(1_800_000_005));
        assert_eq!(
            line,
            "cannot reach Ann: every network path failed; the relay credentials the server \
             gave us expired at 08:00:00 UTC, and the relay refuses them since"
        );
        // Still valid: the relay was tried and failed for another reason.
        let line = explain("Ann", &servers, at(1_799_999_000));
        assert_eq!(
            line,
            "cannot reach Ann: every network path failed, the server's relay included"
        );
    }

    #[test]
    fn static_credentials_carry_no_expiry() {
        let servers = [relay("turn:198.18.0.1:3478", Some("huddle"))];
        let line = explain("Ann", &servers, at(1_800_000_000));
        assert!(line.ends_with("the server's relay included"), "{line}");
    }

    #[test]
    fn a_relay_only_over_tcp_or_tls_is_said_to_be_unusable() {
        let servers = [
            relay("turns:relay.example:5349", Some("1800000000:7")),
            relay("turn:relay.example:3478?transport=tcp", None),
        ];
        let line = explain("Ann", &servers, at(1_000));
        assert!(
            line.ends_with("only over TCP or TLS, which this app cannot use yet"),
            "{line}"
        );
    }
}
