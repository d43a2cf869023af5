//! How many live WebSocket connections each client address and each user
//! holds. A slot is taken before a connection is served and given back when
//! its guard drops, however the connection ends.

use shared::UserId;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts per key; a key leaves the map when its count reaches zero.
struct Counts<K> {
    by_key: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq + Clone> Counts<K> {
    fn new() -> Counts<K> {
        Counts {
            by_key: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, usize>> {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, key: &K, limit: usize) -> bool {
        let mut counts = self.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= limit {
            if *count == 0 {
                counts.remove(key);
            }
            return false;
        }
        *count += 1;
        true
    }

    fn give_back(&self, key: &K) {
        let mut counts = self.lock();
        if let Some(count) = counts.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(key);
            }
        }
    }

    fn keys(&self) -> usize {
        self.lock().len()
    }
}

/// Both tallies, shared by the whole server.
pub struct ConnectionCounts {
    by_address: Counts<IpAddr>,
    by_user: Counts<UserId>,
}

/// A connection's place in the tally of its address (or user); given back on drop.
pub struct Slot<K: Hash + Eq + Clone> {
    counts: Arc<ConnectionCounts>,
    key: K,
    pick: fn(&ConnectionCounts) -> &Counts<K>,
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        (self.pick)(&self.counts).give_back(&self.key);
    }
}

pub type AddressSlot = Slot<IpAddr>;
pub type UserSlot = Slot<UserId>;

impl ConnectionCounts {
    pub fn new() -> Arc<ConnectionCounts> {
        Arc::new(ConnectionCounts {
            by_address: Counts::new(),
            by_user: Counts::new(),
        })
    }

    /// A slot for one more connection from `address`, unless it holds `limit`.
    pub fn open_address(self: &Arc<Self>, address: IpAddr, limit: usize) -> Option<AddressSlot> {
        self.by_address.take(&address, limit).then(|| Slot {
            counts: self.clone(),
            key: address,
            pick: |c| &c.by_address,
        })
    }

    /// A slot for one more connection of `user`, unless they hold `limit`.
    pub fn open_user(self: &Arc<Self>, user: UserId, limit: usize) -> Option<UserSlot> {
        self.by_user.take(&user, limit).then(|| Slot {
            counts: self.clone(),
            key: user,
            pick: |c| &c.by_user,
        })
    }

    /// How many addresses hold a connection now (the map's size).
    pub fn addresses(&self) -> usize {
        self.by_address.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_limit_and_a_slot_back_when_one_closes() {
        let counts = ConnectionCounts::new();
        let home = IpAddr::from([198, 18, 0, 1]);
        let first = counts.open_address(home, 2).unwrap();
        let _second = counts.open_address(home, 2).unwrap();
        assert!(counts.open_address(home, 2).is_none());
        assert!(
            counts
                .open_address(IpAddr::from([198, 18, 0, 2]), 2)
                .is_some()
        );
        drop(first);
        assert!(counts.open_address(home, 2).is_some());
    }

    #[test]
    fn users_are_counted_apart_from_addresses_and_keys_are_forgotten() {
        let counts = ConnectionCounts::new();
        let slot = counts.open_user(UserId(1), 1).unwrap();
        assert!(counts.open_user(UserId(1), 1).is_none());
        drop(slot);
        assert!(counts.open_user(UserId(1), 1).is_some());
        let address = counts.open_address(IpAddr::from([198, 18, 0, 1]), 1);
        assert_eq!(counts.addresses(), 1);
        drop(address);
        assert_eq!(counts.addresses(), 0, "an idle address leaves the map");
        assert!(
            counts
                .open_address(IpAddr::from([198, 18, 0, 1]), 0)
                .is_none()
        );
        assert_eq!(counts.addresses(), 0, "a refused key is not kept");
    }
}
