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

use std::sync::Mutex;

use curl::easy::{Easy2, Handler};

use crate::libcurl_bugs::handle_reuse_is_safe;
use crate::sync::lock;

/// Enough for the requests a busy program keeps in flight to recycle their
/// handles, small enough that an idle program holds little.
const MAX_POOLED: usize = 256;

struct Pooled<H: Handler> {
    easy: Easy2<H>,
    /// `Options::version` of the options `transfer::prepare` configured it for.
    options_version: u64,
}

/// The finished handles of one client (a client's defaults are fixed, so an
/// options version names the same merged options for all its requests).
pub(crate) struct HandlePool<H: Handler> {
    handles: Mutex<Vec<Pooled<H>>>,
}

impl<H: Handler> Default for HandlePool<H> {
    fn default() -> HandlePool<H> {
        HandlePool {
            handles: Mutex::new(Vec::new()),
        }
    }
}

impl<H: Handler + Default> HandlePool<H> {
    /// A handle for the next request, and whether it is already configured
    /// for options of `options_version`. When it is not, every option is at
    /// libcurl's defaults (and the curl crate's: error buffer, no signals).
    pub(crate) fn take(&self, options_version: u64) -> (Easy2<H>, bool) {
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
            return; // dropped: curl_easy_cleanup
        }
        let mut handles = lock(&self.handles);
        if handles.len() < MAX_POOLED {
            handles.push(Pooled {
                easy,
                options_version,
            });
        }
    }

    /// Frees every pooled handle.
    pub(crate) fn clear(&self) {
        let handles = std::mem::take(&mut *lock(&self.handles));
        drop(handles);
    }
}
