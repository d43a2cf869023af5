//! Every participant's seat on the SFU, by peer and meeting: the client's
//! `sfu_signal`s and `sfu_layer`s go to its seat's task, which the first
//! one starts.

use super::Roster;
use super::seat::{self, Occupant, SeatInput};
use shared::{MeetingId, PeerId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Signals one seat may have waiting (the connection's rate limit keeps
/// an honest client far below): past them, the client is told to slow down.
const SIGNALS_WAITING: usize = 64;

type Key = (PeerId, MeetingId);

/// Every participant's seat on the SFU, by peer and meeting.
#[derive(Default)]
pub struct Seats {
    /// Each seat's task: which one (a seat ending must not forget the one
    /// that replaced it), and where its signals go.
    seats: Mutex<HashMap<Key, (u64, mpsc::Sender<SeatInput>)>>,
    next: AtomicU64,
}

impl Seats {
    /// Hands what the client sent the SFU to its seat, taking the seat
    /// first if it has none; says why not when it cannot.
    pub fn send(
        &self,
        app: &Arc<dyn Roster>,
        occupant: Occupant,
        input: SeatInput,
    ) -> Result<(), String> {
        let mut seats = self.lock();
        let key = (occupant.peer, occupant.meeting);
        let (_, seat) = seats.entry(key).or_insert_with(|| {
            let (sender, inputs) = mpsc::channel(SIGNALS_WAITING);
            let number = self.next.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(seat::run(app.clone(), occupant, number, inputs));
            (number, sender)
        });
        seat.try_send(input)
            .map_err(|_| "too many SFU signals are waiting; slow down".to_string())
    }

    /// Seat `number` of `peer` in `meeting` has ended.
    pub fn forget(&self, peer: PeerId, meeting: MeetingId, number: u64) {
        let mut seats = self.lock();
        if seats
            .get(&(peer, meeting))
            .is_some_and(|(n, _)| *n == number)
        {
            seats.remove(&(peer, meeting));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (u64, mpsc::Sender<SeatInput>)>> {
        self.seats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
