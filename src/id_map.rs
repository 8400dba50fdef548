//! A hash map keyed by request number. The numbers are small, unique and
//! chosen by us, not by a peer, so a multiplicative hash is enough; the
//! standard SipHash costs more than the rest of a lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing spreads sequential numbers over the high bits.
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, id: usize) {
        self.write_u64(id as u64);
    }
}

pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_round_trip() {
        let mut map: IdMap<u64, u64> = IdMap::default();
        for id in 1..10_000u64 {
            map.insert(id, id * 2);
        }
        for id in 1..10_000u64 {
            assert_eq!(map.remove(&id), Some(id * 2));
        }
        assert!(map.is_empty());
    }
}
