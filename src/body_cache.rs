//! One spare body buffer per client. A large body collected into fresh
//! memory costs a page fault per 4 KiB page (a 64 MiB download: 16,384 of
//! them, more time than copying the bytes); a buffer whose pages are
//! already mapped costs none. When a callback has returned and its response
//! is freed, a large body buffer is kept here for the next large body of
//! the client instead of going back to the system.
//!
//! At most one buffer, of `MIN_KEPT` to `MAX_KEPT` bytes, is kept: a client
//! holds at most `MAX_KEPT` more than it would otherwise, freed with the
//! client. Small bodies are not worth it (malloc reuses their memory).

use std::sync::Mutex;

use crate::sync::lock;

/// Smaller buffers are left to malloc.
pub(crate) const MIN_KEPT: usize = 1 << 20;
/// Larger buffers are freed: this is what a client may hold while idle.
pub(crate) const MAX_KEPT: usize = (64 << 20) + 4096;

#[derive(Default)]
pub(crate) struct BodyCache {
    spare: Mutex<Option<Vec<u8>>>,
}

impl BodyCache {
    /// The spare buffer, emptied, if it holds at least `capacity` bytes.
    pub(crate) fn take(&self, capacity: usize) -> Option<Vec<u8>> {
        if capacity < MIN_KEPT {
            return None;
        }
        let mut spare = lock(&self.spare);
        if spare.as_ref()?.capacity() < capacity {
            return None;
        }
        let mut buffer = spare.take()?;
        buffer.clear();
        Some(buffer)
    }

    /// Keeps `buffer` if its size is worth keeping and it is larger than
    /// the spare held now; frees it otherwise.
    pub(crate) fn give(&self, buffer: Vec<u8>) {
        let capacity = buffer.capacity();
        if !(MIN_KEPT..=MAX_KEPT).contains(&capacity) {
            return;
        }
        let mut spare = lock(&self.spare);
        if spare.as_ref().is_none_or(|s| s.capacity() < capacity) {
            let old = spare.replace(buffer);
            drop(spare);
            drop(old);
        }
    }

    /// Frees the spare buffer.
    pub(crate) fn clear(&self) {
        let old = lock(&self.spare).take();
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_large_buffer_and_hands_it_out_when_big_enough() {
        let cache = BodyCache::default();
        cache.give(Vec::with_capacity(1000)); // too small to keep
        assert!(cache.take(MIN_KEPT).is_none());
        cache.give(Vec::with_capacity(MAX_KEPT + 1)); // too large to keep
        assert!(cache.take(MIN_KEPT).is_none());
        cache.give(Vec::with_capacity(2 << 20));
        cache.give(Vec::with_capacity(MIN_KEPT)); // smaller than the spare: freed
        assert!(cache.take(4 << 20).is_none());
        let buffer = cache.take(2 << 20).expect("the 2 MiB spare");
        assert!(buffer.is_empty() && buffer.capacity() >= 2 << 20);
        assert!(cache.take(MIN_KEPT).is_none(), "handed out once");
    }
}
