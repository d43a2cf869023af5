//! How fast one connection, and one user across all their connections, may
//! send each kind of live message: token buckets (a sustained rate and a
//! burst) on `governor`. A user's buckets hold `user_allowance_factor` times
//! a connection's, so a laptop and a phone both work, but a hundred
//! connections do not multiply what one account may send.

use crate::config::Limits;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::{ClientMsg, UserId};
use std::num::NonZeroU32;

/// The kinds of live message that are limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Signal,
    MediaState,
    /// `join` and `leave`.
    Membership,
    Reaction,
}

const KINDS: [Kind; 5] = [
    Kind::Chat,
    Kind::Signal,
    Kind::MediaState,
    Kind::Membership,
    Kind::Reaction,
];

impl Kind {
    /// The kind a message counts against; `hello` counts against none.
    pub fn of(msg: &ClientMsg) -> Option<Kind> {
        match msg {
            ClientMsg::Hello { .. } => None,
            ClientMsg::Chat { .. } => Some(Kind::Chat),
            ClientMsg::Signal { .. } | ClientMsg::SfuSignal { .. } | ClientMsg::SfuLayer { .. } => {
                Some(Kind::Signal)
            }
            // A host action or a hand changes someone's state, as media does.
            ClientMsg::MediaState { .. } | ClientMsg::Host(_) | ClientMsg::Hand { .. } => {
                Some(Kind::MediaState)
            }
            ClientMsg::React { .. } => Some(Kind::Reaction),
            ClientMsg::Join { .. } | ClientMsg::Leave => Some(Kind::Membership),
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// What the person is told: "slow down: at most 5 chat messages per second".
    fn refusal(self, limits: &Limits) -> String {
        let (rate, what, per) = match self {
            Kind::Chat => (limits.chat_per_second, "chat messages", "second"),
            Kind::Signal => (limits.signal_per_second, "signals", "second"),
            Kind::MediaState => (
                limits.media_state_per_second,
                "media state changes",
                "second",
            ),
            Kind::Membership => (limits.membership_per_minute, "joins and leaves", "minute"),
            Kind::Reaction => (limits.reactions_per_second, "reactions", "second"),
        };
        format!("slow down: at most {rate} {what} per {per}")
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).expect("max(1) is non-zero")
}

/// One kind's rate and burst, `factor` times over.
fn quota(kind: Kind, limits: &Limits, factor: u32) -> Quota {
    let f = factor.max(1);
    let (rate, burst, per_minute) = match kind {
        Kind::Chat => (limits.chat_per_second, limits.chat_burst, false),
        Kind::Signal => (limits.signal_per_second, limits.signal_burst, false),
        Kind::MediaState => (
            limits.media_state_per_second,
            limits.media_state_burst,
            false,
        ),
        Kind::Membership => (limits.membership_per_minute, limits.membership_burst, true),
        Kind::Reaction => (limits.reactions_per_second, limits.reactions_burst, false),
    };
    let rate = at_least_one(rate.saturating_mul(f));
    let base = if per_minute {
        Quota::per_minute(rate)
    } else {
        Quota::per_second(rate)
    };
    base.allow_burst(at_least_one(burst.saturating_mul(f)))
}

/// One connection's buckets, made when its `hello` is accepted.
pub struct ConnectionAllowance {
    buckets: Vec<DefaultDirectRateLimiter>,
}

impl ConnectionAllowance {
    pub fn new(limits: &Limits) -> ConnectionAllowance {
        ConnectionAllowance {
            buckets: KINDS
                .iter()
                .map(|&kind| RateLimiter::direct(quota(kind, limits, 1)))
                .collect(),
        }
    }
}

/// Every user's buckets, shared by all connections.
pub struct UserAllowances {
    buckets: Vec<DefaultKeyedRateLimiter<UserId>>,
}

impl UserAllowances {
    pub fn new(limits: &Limits) -> UserAllowances {
        UserAllowances {
            buckets: KINDS
                .iter()
                .map(|&kind| RateLimiter::keyed(quota(kind, limits, limits.user_allowance_factor)))
                .collect(),
        }
    }

    /// Counts one message of `kind` from `user` on `connection`; the refusal
    /// in words when either bucket is empty.
    pub fn check(
        &self,
        connection: &ConnectionAllowance,
        user: UserId,
        kind: Kind,
        limits: &Limits,
    ) -> Result<(), String> {
        let i = kind.index();
        let allowed =
            connection.buckets[i].check().is_ok() && self.buckets[i].check_key(&user).is_ok();
        if allowed {
            Ok(())
        } else {
            Err(kind.refusal(limits))
        }
    }

    /// Forgets users whose buckets are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        for bucket in &self.buckets {
            bucket.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal() -> ClientMsg {
        ClientMsg::Signal {
            to: shared::PeerId(1),
            payload: serde_json::json!({}),
        }
    }

    fn limits() -> Limits {
        Limits {
            signal_per_second: 1,
            signal_burst: 3,
            user_allowance_factor: 2,
            ..Limits::default()
        }
    }

    #[test]
    fn a_connection_gets_its_burst_then_is_refused_in_words() {
        let limits = limits();
        let users = UserAllowances::new(&limits);
        let connection = ConnectionAllowance::new(&limits);
        let kind = Kind::of(&signal()).unwrap();
        let results: Vec<_> = (0..5)
            .map(|_| users.check(&connection, UserId(1), kind, &limits))
            .collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
        assert_eq!(
            results[4].as_ref().unwrap_err(),
            "slow down: at most 1 signals per second"
        );
    }

    #[test]
    fn many_connections_of_one_user_share_the_users_allowance() {
        let limits = limits();
        let users = UserAllowances::new(&limits);
        // Ten fresh connections, each with a full bucket of 3: the user's 6 bind.
        let accepted: usize = (0..10)
            .map(|_| ConnectionAllowance::new(&limits))
            .map(|c| {
                (0..3)
                    .filter(|_| users.check(&c, UserId(7), Kind::Signal, &limits).is_ok())
                    .count()
            })
            .sum();
        assert_eq!(accepted, 6);
        // Another user is not affected.
        let fresh = ConnectionAllowance::new(&limits);
        assert!(
            users
                .check(&fresh, UserId(8), Kind::Signal, &limits)
                .is_ok()
        );
    }

    #[test]
    fn kinds_have_buckets_of_their_own() {
        let limits = limits();
        let users = UserAllowances::new(&limits);
        let connection = ConnectionAllowance::new(&limits);
        for _ in 0..3 {
            users
                .check(&connection, UserId(1), Kind::Signal, &limits)
                .unwrap();
        }
        assert!(
            users
                .check(&connection, UserId(1), Kind::Signal, &limits)
                .is_err()
        );
        assert!(
            users
                .check(&connection, UserId(1), Kind::MediaState, &limits)
                .is_ok()
        );
        assert_eq!(Kind::of(&ClientMsg::Leave), Some(Kind::Membership));
    }
}
