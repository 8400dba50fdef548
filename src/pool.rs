//! A small pool of finished libcurl easy handles. Creating a handle
//! (`curl_easy_init`) and destroying it cost more than the rest of a small
//! request's setup together; a handle that finished is reset and used again.
//!
//! Handles are put back by the engine thread when a transfer ends and taken
//! by whichever thread makes the next request; `curl_easy_reset` runs on the
//! taking thread, so the engine does not pay for it.

use std::sync::Mutex;

use curl::easy::Easy2;

use crate::transfer::Collector;

/// Enough for the requests a busy program keeps in flight to recycle their
/// handles, small enough that an idle program holds little.
const MAX_POOLED: usize = 256;

static POOL: Mutex<Vec<Easy2<Collector>>> = Mutex::new(Vec::new());

fn pool() -> std::sync::MutexGuard<'static, Vec<Easy2<Collector>>> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A handle with every option at libcurl's defaults (and the curl crate's:
/// error buffer, no signals).
pub(crate) fn take() -> Easy2<Collector> {
    let pooled = pool().pop();
    match pooled {
        Some(mut easy) => {
            // Clears every option of the last request, NOBODY and CUSTOMREQUEST included.
            easy.reset();
            *easy.get_mut() = Collector::default();
            easy
        }
        None => Easy2::new(Collector::default()),
    }
}

/// Keeps a handle whose transfer is over (removed from the multi) for reuse.
pub(crate) fn give_back(easy: Easy2<Collector>) {
    let mut pool = pool();
    if pool.len() < MAX_POOLED {
        pool.push(easy);
    }
}

/// Frees every pooled handle (at shutdown).
pub(crate) fn clear() {
    let handles = std::mem::take(&mut *pool());
    drop(handles);
}
