//! The size of libcurl's connection cache. CURLMOPT_MAXCONNECTS counts
//! every connection in the cache, those in use included: with a fixed limit
//! below the number of transfers in flight, libcurl closes a connection each
//! time a transfer ends, and every new request connects anew (with 2,000
//! long polls in flight, 5,000 requests made 5,000 connections). So the
//! limit follows the transfers in flight: room for all of them plus a number
//! of idle connections kept for reuse.

/// The limit for one multi handle.
pub(crate) struct CacheLimit {
    /// Idle connections kept beside those in use.
    idle: usize,
    /// The limit libcurl has now.
    current: usize,
}

impl CacheLimit {
    /// Starts with nothing in flight: the limit is `idle` (at least 1: 0
    /// would mean libcurl's own default).
    pub(crate) fn new(idle: usize) -> CacheLimit {
        let idle = idle.max(1);
        CacheLimit {
            idle,
            current: idle,
        }
    }

    pub(crate) fn current(&self) -> usize {
        self.current
    }

    /// The limit to set now that `in_flight` transfers run, or None to keep
    /// the current one. It moves only when the room for idle connections
    /// falls below half of `idle` or grows beyond twice `idle`, so that the
    /// option is not set for every transfer.
    pub(crate) fn update(&mut self, in_flight: usize) -> Option<usize> {
        let room = self.current.saturating_sub(in_flight);
        if room >= self.idle / 2 && room <= self.idle.saturating_mul(2) {
            return None;
        }
        let next = in_flight.saturating_add(self.idle);
        (next != self.current).then(|| {
            self.current = next;
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CacheLimit;

    #[test]
    fn the_limit_stays_while_there_is_room_for_idle_connections() {
        let mut limit = CacheLimit::new(1024);
        for in_flight in [0, 1, 50, 200, 512] {
            assert_eq!(limit.update(in_flight), None, "{in_flight}");
        }
        assert_eq!(limit.current(), 1024);
    }

    #[test]
    fn the_limit_grows_with_the_transfers_in_flight_and_shrinks_back() {
        let mut limit = CacheLimit::new(1024);
        assert_eq!(limit.update(513), Some(1537));
        assert_eq!(limit.update(1000), None);
        assert_eq!(limit.update(5000), Some(6024));
        // Never below what is in flight plus some room.
        for in_flight in (0..=5000).rev() {
            limit.update(in_flight);
            assert!(
                limit.current() >= in_flight + 512,
                "{in_flight}: {}",
                limit.current()
            );
            assert!(
                limit.current() <= in_flight + 2048,
                "{in_flight}: {}",
                limit.current()
            );
        }
        // Back to room for about `idle` idle connections.
        assert!(limit.current() <= 2048, "{}", limit.current());
    }
}
