//! Locking that survives a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex even if a panic poisoned it: every critical section in
/// nethttp leaves its data consistent before anything that could panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
