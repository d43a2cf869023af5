//! Resume tokens: a client whose connection dropped, or whose server
//! restarted, comes back as the same peer, so the links its peers hold to
//! it (keyed by its peer id) stay up and nobody sees it leave and join.
//!
//! A token is `peer.user.expiry.mac`: the peer id, the user it was given
//! to, when it stops working (the login's own expiry, in Unix ms) and an
//! HMAC-SHA256 of those under a key kept in the database, so a restarted
//! server still knows its own tokens. It only works with a login of the
//! same user: a leaked token alone gets nobody in.

use crate::store::{self, flag, set_flag};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::Connection;
use sha2::Sha256;
use shared::{PeerId, UserId};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the key is kept (`server_flags`, hex).
const KEY_FLAG: &str = "resume_key";

/// The server's key for resume tokens.
#[derive(Clone)]
pub struct ResumeKey([u8; 32]);

/// Why a token gives nothing back (the client then gets a new peer id).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    /// Not signed by this server's key (another server's, or forged).
    Forged,
    /// Given to another user.
    OtherUser,
    Expired,
}

impl ResumeKey {
    /// The stored key, or a new one stored now.
    pub fn load_or_create(conn: &Connection) -> store::Result<ResumeKey> {
        if let Some(key) = flag(conn, KEY_FLAG)?.as_deref().and_then(from_hex) {
            return Ok(ResumeKey(key));
        }
        let mut key = [0; 32];
        rand::rng().fill_bytes(&mut key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        set_flag(conn, KEY_FLAG, &hex)?;
        Ok(ResumeKey(key))
    }

    /// A token that gives `peer` back to `user` until `expires_at_ms`.
    pub fn issue(&self, peer: PeerId, user: UserId, expires_at_ms: i64) -> String {
        let claims = format!("{peer}.{user}.{expires_at_ms}");
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&claims).finalize().into_bytes());
        format!("{claims}.{mac}")
    }

    /// The peer id `token` gives back to `user` at `now_ms`.
    pub fn check(&self, token: &str, user: UserId, now_ms: i64) -> Result<PeerId, Refused> {
        let (claims, mac) = token.rsplit_once('.').ok_or(Refused::Malformed)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| Refused::Malformed)?;
        // Checked in constant time, before anything else is believed.
        self.mac(claims)
            .verify_slice(&mac)
            .map_err(|_| Refused::Forged)?;
        let mut parts = claims.split('.');
        let mut next = || parts.next().ok_or(Refused::Malformed);
        let peer = next()?.parse().map_err(|_| Refused::Malformed)?;
        let owner = next()?.parse().map_err(|_| Refused::Malformed)?;
        let expires_at_ms: i64 = next()?.parse().map_err(|_| Refused::Malformed)?;
        if UserId(owner) != user {
            return Err(Refused::OtherUser);
        }
        if expires_at_ms <= now_ms {
            return Err(Refused::Expired);
        }
        Ok(PeerId(peer))
    }

    fn mac(&self, claims: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(claims.as_bytes());
        mac
    }
}

fn from_hex(hex: &str) -> Option<[u8; 32]> {
    let mut key = [0; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

/// The first peer id a server started at `now` gives out. Each start
/// begins a block of ids above every earlier start's (the Unix second,
/// times 2^20), so a fresh peer never gets an id a client from before a
/// restart may still resume: that would take over a million connections a
/// second of the old server's life. The ids stay below 2^53, exact in
/// JavaScript's numbers.
pub fn first_peer_id(now: SystemTime) -> u64 {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    seconds << 20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ResumeKey {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE server_flags (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        )
        .unwrap();
        let key = ResumeKey::load_or_create(&conn).unwrap();
        let again = ResumeKey::load_or_create(&conn).unwrap();
        assert_eq!(key.0, again.0, "a restarted server knows its key");
        key
    }

    #[test]
    fn a_token_gives_its_peer_back_to_its_user_until_it_expires() {
        let key = key();
        let token = key.issue(PeerId(7 << 20), UserId(3), 5_000);
        assert_eq!(key.check(&token, UserId(3), 4_999), Ok(PeerId(7 << 20)));
        assert_eq!(key.check(&token, UserId(4), 4_999), Err(Refused::OtherUser));
        assert_eq!(key.check(&token, UserId(3), 5_000), Err(Refused::Expired));
    }

    #[test]
    fn a_token_changed_or_signed_elsewhere_is_refused() {
        let key = key();
        let token = key.issue(PeerId(9), UserId(3), 5_000);
        let other_peer = token.replacen('9', "8", 1);
        assert_eq!(key.check(&other_peer, UserId(3), 0), Err(Refused::Forged));
        let elsewhere = ResumeKey([1; 32]).issue(PeerId(9), UserId(3), 5_000);
        assert_eq!(key.check(&elsewhere, UserId(3), 0), Err(Refused::Forged));
        for garbage in ["", "9.3.5000.!!"] {
            assert_eq!(key.check(garbage, UserId(3), 0), Err(Refused::Malformed));
        }
        assert_eq!(key.check("...", UserId(3), 0), Err(Refused::Forged));
    }

    #[test]
    fn each_start_gives_ids_above_the_last_start_s() {
        let start = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let later = start + std::time::Duration::from_secs(1);
        assert!(first_peer_id(later) >= first_peer_id(start) + (1 << 20));
        assert!(first_peer_id(start) < 1 << 53);
    }
}
