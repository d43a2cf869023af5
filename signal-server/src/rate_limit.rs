//! Rate limits against password guessing, on `governor` (live messages
//! have theirs in `message_limits`).

use crate::config::Limits;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).expect("max(1) is non-zero")
}

/// Login (and registration) attempts, limited per client address and per account.
pub struct LoginLimits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimits {
    pub fn new(limits: &Limits) -> LoginLimits {
        LoginLimits {
            per_address: RateLimiter::keyed(Quota::per_minute(at_least_one(
                limits.logins_per_address_per_minute,
            ))),
            per_account: RateLimiter::keyed(Quota::per_minute(at_least_one(
                limits.logins_per_account_per_minute,
            ))),
        }
    }

    /// Counts one attempt; false when the address or the account is over its limit.
    pub fn allow(&self, address: IpAddr, email: &str) -> bool {
        let address_ok = self.per_address.check_key(&address).is_ok();
        address_ok
            && self
                .per_account
                .check_key(&email.trim().to_lowercase())
                .is_ok()
    }

    /// Counts one attempt against the address only (registration).
    pub fn allow_address(&self, address: IpAddr) -> bool {
        self.per_address.check_key(&address).is_ok()
    }

    /// Forgets keys whose limits have fully recovered, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_even_from_many_addresses() {
        let limits = LoginLimits::new(&Limits {
            logins_per_account_per_minute: 3,
            ..Limits::default()
        });
        for i in 0..3 {
            assert!(limits.allow(IpAddr::from([10, 0, 0, i]), "A@x.org"));
        }
        assert!(!limits.allow(IpAddr::from([10, 0, 0, 9]), "a@x.org"));
        assert!(limits.allow(IpAddr::from([10, 0, 0, 9]), "b@x.org"));
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limits = LoginLimits::new(&Limits {
            logins_per_address_per_minute: 2,
            ..Limits::default()
        });
        let addr = IpAddr::from([127, 0, 0, 1]);
        assert!(limits.allow(addr, "a@x.org"));
        assert!(limits.allow(addr, "b@x.org"));
        assert!(!limits.allow(addr, "c@x.org"));
    }
}
