//! A small pool of finished libcurl easy handles. Creating a handle
//! (`curl_easy_init`) and destroying it cost more than the rest of a small
//! request's setup together; a handle that finished is reset and used again.
//!
//! Handles are put back by the engine thread when a transfer ends and taken
//! by whichever thread makes the next request; `curl_easy_reset` runs on the
//! taking thread, so the engine does not pay for it. A handle that ran a
//! request with the same options (the same `Options::version`) is handed to
//! the next request as it is, the way a libcurl program reuses its handles:
//! libcurl resets each transfer's state itself, and the options are the same.
//!
//! Where handles cannot be reused (libcurl < 8.1, `libcurl_bugs`), the pool
//! still keeps making and freeing them off a request's path: the engine,
//! when it is about to wait with nothing to do (`tidy`), frees the handles
//! of finished transfers and makes a few new ones, never used, for the next
//! requests to take. A busy engine never waits; then handles are freed and
//! made as requests come, as before.

use std::sync::Mutex;

use curl::easy::{Easy2, Handler};

use crate::libcurl_bugs::{handle_reuse_is_safe, or_out_of_memory};
use crate::sync::lock;

/// Enough for the requests a busy program keeps in flight to recycle their
/// handles, small enough that an idle program holds little.
const MAX_POOLED: usize = 256;
/// Never-used handles kept ready where handles are not reused: the next
/// requests of a program that makes one at a time, or a few.
const SPARE_FRESH: usize = 2;
/// Finished handles waiting for the engine to be idle before they are freed;
/// beyond this many (a busy engine) they are freed at once.
const MAX_RETIRED: usize = 64;

struct Pooled<H: Handler> {
    easy: Easy2<H>,
    /// `Options::version` of the options `transfer::prepare` configured it for.
    options_version: u64,
}

/// The finished handles of one client (a client's defaults are fixed, so an
/// options version names the same merged options for all its requests).
pub(crate) struct HandlePool<H: Handler> {
    handles: Mutex<Vec<Pooled<H>>>,
    /// Where handles are not reused: new handles that never ran a transfer.
    fresh: Mutex<Vec<Easy2<H>>>,
    /// Where handles are not reused: finished handles to free in `tidy`.
    retired: Mutex<Vec<Easy2<H>>>,
}

impl<H: Handler> Default for HandlePool<H> {
    fn default() -> HandlePool<H> {
        HandlePool {
            handles: Mutex::new(Vec::new()),
            fresh: Mutex::new(Vec::new()),
            retired: Mutex::new(Vec::new()),
        }
    }
}

impl<H: Handler + Default> HandlePool<H> {
    /// A handle for the next request, and whether it is already configured
    /// for options of `options_version`. When it is not, every option is at
    /// libcurl's defaults (and the curl crate's: error buffer, no signals).
    pub(crate) fn take(&self, options_version: u64) -> (Easy2<H>, bool) {
        if !handle_reuse_is_safe() {
            let fresh = lock(&self.fresh).pop();
            return (fresh.unwrap_or_else(|| Easy2::new(H::default())), false);
        }
        let pooled = lock(&self.handles).pop();
        match pooled {
            Some(pooled) if pooled.options_version == options_version => (pooled.easy, true),
            Some(Pooled { mut easy, .. }) => {
                // Clears every option of the last request, NOBODY and CUSTOMREQUEST included.
                easy.reset();
                *easy.get_mut() = H::default();
                (easy, false)
            }
            None => (Easy2::new(H::default()), false),
        }
    }

    /// Keeps a handle whose transfer is over (removed from the multi) for
    /// reuse, unless the libcurl in use cannot reuse handles safely.
    pub(crate) fn give_back(&self, easy: Easy2<H>, options_version: u64) {
        if !handle_reuse_is_safe() {
            let mut retired = lock(&self.retired);
            if retired.len() < MAX_RETIRED {
                retired.push(easy);
            } else {
                drop(retired);
                drop(easy); // curl_easy_cleanup
            }
            return;
        }
        let mut handles = lock(&self.handles);
        if handles.len() < MAX_POOLED {
            handles.push(Pooled {
                easy,
                options_version,
            });
        }
    }

    /// Run by the engine when it is about to wait with nothing to do, where
    /// handles are not reused: frees the finished handles and makes new ones
    /// for the next requests, so that neither costs a request's time.
    pub(crate) fn tidy(&self) {
        if handle_reuse_is_safe() {
            return;
        }
        // One at a time, so that the list keeps its allocation.
        loop {
            let easy = lock(&self.retired).pop();
            let Some(easy) = easy else { break };
            drop(easy); // curl_easy_cleanup
        }
        while lock(&self.fresh).len() < SPARE_FRESH {
            // Out of memory: try again at the next idle moment.
            let Ok(easy) = or_out_of_memory("an easy handle", || Easy2::new(H::default())) else {
                return;
            };
            lock(&self.fresh).push(easy);
        }
    }

    /// Frees every pooled handle.
    pub(crate) fn clear(&self) {
        let handles = std::mem::take(&mut *lock(&self.handles));
        drop(handles);
        let fresh = std::mem::take(&mut *lock(&self.fresh));
        drop(fresh);
        let retired = std::mem::take(&mut *lock(&self.retired));
        drop(retired);
    }
}
