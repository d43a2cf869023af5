//! TURN credentials in coturn's REST scheme (`use-auth-secret`): the server
//! and coturn share a secret, and each connection is handed its own
//! username, `expiry:user_id`, with the password base64(HMAC-SHA1(secret,
//! username)). coturn checks the signature and the expiry itself, so a
//! leaked credential works for one user, until it expires.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use shared::{IceServer, UserId};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `[turn]` table of the config file.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    /// `turn:` and `turns:` URLs of the relay, e.g. `turn:turn.example.org:3478`.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// How long a credential lasts; the longest call it must carry.
    #[serde(default = "default_ttl_s")]
    pub ttl_s: u64,
}

/// A day: calls are shorter, and a client that reconnects gets a fresh one.
fn default_ttl_s() -> u64 {
    24 * 3600
}

/// The secret stays out of logs and debug output.
impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnConfig")
            .field("urls", &self.urls)
            .field("secret", &"…")
            .field("ttl_s", &self.ttl_s)
            .finish()
    }
}

impl TurnConfig {
    /// Why this table cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.urls.is_empty() {
            return Some("[turn] needs at least one url (turn:host:3478)".into());
        }
        if let Some(url) = self
            .urls
            .iter()
            .find(|url| !(url.starts_with("turn:") || url.starts_with("turns:")))
        {
            return Some(format!(
                "[turn] url {url:?} must start with turn: or turns:"
            ));
        }
        if self.secret.trim().is_empty() {
            return Some("[turn] secret is empty; set coturn's static-auth-secret".into());
        }
        if self.ttl_s == 0 {
            return Some("[turn] ttl_s must be at least 1".into());
        }
        None
    }

    /// The relay as `user` may use it from `now` for `ttl_s`.
    pub fn credentials_for(&self, user: UserId, now: SystemTime) -> IceServer {
        let now_s = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let expiry = now_s.as_secs() + self.ttl_s;
        let username = format!("{expiry}:{user}");
        IceServer {
            urls: self.urls.clone(),
            credential: Some(rest_password(&self.secret, &username)),
            username: Some(username),
        }
    }
}

/// base64(HMAC-SHA1(secret, username)): what coturn computes to check it.
fn rest_password(secret: &str, username: &str) -> String {
    use base64::Engine;
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TurnConfig {
        TurnConfig {
            urls: vec!["turn:198.18.0.1:3478".into()],
            secret: "north-wind".into(),
            ttl_s: 3600,
        }
    }

    #[test]
    fn the_password_is_what_openssl_computes() {
        // echo -n "1767225600:42" | openssl dgst -sha1 -hmac north-wind -binary | base64
        assert_eq!(
            rest_password("north-wind", "1767225600:42"),
            "aKF9OikiN/YtPW13vucDgd84KoI="
        );
    }

    #[test]
    fn each_user_gets_a_username_that_expires_after_the_ttl() {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_222_000);
        let server = config().credentials_for(UserId(42), now);
        assert_eq!(server.urls, ["turn:198.18.0.1:3478"]);
        assert_eq!(server.username.as_deref(), Some("1767225600:42"));
        assert_eq!(
            server.credential.as_deref(),
            Some("aKF9OikiN/YtPW13vucDgd84KoI=")
        );
        let other = config().credentials_for(UserId(43), now);
        assert_ne!(other.credential, server.credential);
    }

    #[test]
    fn a_table_that_cannot_work_says_why() {
        assert_eq!(config().problem(), None);
        let broken = [
            TurnConfig {
                urls: vec![],
                ..config()
            },
            TurnConfig {
                urls: vec!["stun:198.18.0.1".into()],
                ..config()
            },
            TurnConfig {
                secret: " ".into(),
                ..config()
            },
            TurnConfig {
                ttl_s: 0,
                ..config()
            },
        ];
        for table in broken {
            assert!(table.problem().is_some(), "{table:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert!(!format!("{:?}", config()).contains("north-wind"));
    }
}
