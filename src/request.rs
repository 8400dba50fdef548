//! Request handles and their life cycle, shared by the caller's threads and
//! the engine thread.
//!
//! A C handle is a number, never an address: numbers are never reused, so a
//! stale handle finds nothing in the registry and destroying it is a no-op
//! instead of a use-after-free.
//!
//! Shared state, and who touches it:
//! - `REGISTRY` maps live handle numbers to entries. Inserted by the thread
//!   that makes the request; removed by whoever finishes the entry.
//! - `Entry::state` is the one source of truth for an entry; every transition
//!   happens under its mutex, and `Entry::changed` wakes a destroyer waiting
//!   for a running callback to return.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::engine::{self, EngineLink};
use crate::error::Error;
use crate::id_map::IdMap;
use crate::options::Options;
use crate::response::Response;
use crate::{transfer, url};

/// The number behind a request handle. Starts at 1; never reused in a process.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub u64);

/// Called once on the engine thread with the response; returns true to keep
/// the request and its response until `destroy`.
pub type Callback = Box<dyn FnOnce(&Response) -> bool + Send>;

enum State {
    /// Transfer queued or running; the callback has not been called.
    Pending(Callback),
    /// The callback is running on the engine thread.
    InCallback {
        destroy_requested: bool,
        /// Another thread waits on `Entry::changed` for the callback to return.
        waited_for: bool,
    },
    /// The callback asked to keep the response.
    Kept(Box<Response>),
    /// Delivered, destroyed or dropped by shutdown: nothing left to do.
    Finished,
}

pub(crate) struct Entry {
    pub id: RequestId,
    engine: Arc<EngineLink>,
    state: Mutex<State>,
    changed: Condvar,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static REGISTRY: Mutex<Option<IdMap<u64, Arc<Entry>>>> = Mutex::new(None);

/// Locks a mutex even if a panic poisoned it: every critical section here
/// leaves the state consistent before anything that could panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn register(entry: Arc<Entry>) {
    lock(&REGISTRY)
        .get_or_insert_with(IdMap::default)
        .insert(entry.id.0, entry);
}

fn unregister(id: RequestId) {
    if let Some(map) = lock(&REGISTRY).as_mut() {
        map.remove(&id.0);
    }
}

fn lookup(id: RequestId) -> Option<Arc<Entry>> {
    lock(&REGISTRY).as_ref()?.get(&id.0).cloned()
}

/// Starts a request; `callback` runs on the engine thread when it completes.
/// Never blocks on the network. Options are copied.
pub fn request(
    url_text: &str,
    options: Option<&Options>,
    callback: Callback,
) -> Result<RequestId, Error> {
    url::check_url(url_text)?;
    let default_options;
    let options = match options {
        Some(options) => options,
        None => {
            default_options = Options::new();
            &default_options
        }
    };
    let id = RequestId(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let easy = transfer::prepare(url_text, options)?;
    let link = engine::link()?;
    let entry = Arc::new(Entry {
        id,
        engine: Arc::clone(&link),
        state: Mutex::new(State::Pending(callback)),
        changed: Condvar::new(),
    });
    register(Arc::clone(&entry));
    if let Err(error) = link.start(easy, entry) {
        unregister(id);
        return Err(error);
    }
    Ok(id)
}

/// Runs on the engine thread when a transfer completes: calls the callback
/// unless the request was destroyed, then frees or keeps the response.
pub(crate) fn deliver(entry: &Entry, response: Box<Response>) {
    let callback = {
        let mut state = lock(&entry.state);
        match std::mem::replace(
            &mut *state,
            State::InCallback {
                destroy_requested: false,
                waited_for: false,
            },
        ) {
            State::Pending(callback) => callback,
            other => {
                *state = other;
                return;
            }
        }
    };
    // A panic in a Rust callback must not kill the engine: it counts as "do not keep".
    let keep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&response)))
        .unwrap_or(false);
    let mut state = lock(&entry.state);
    let (destroy_requested, waited_for) = match *state {
        State::InCallback {
            destroy_requested,
            waited_for,
        } => (destroy_requested, waited_for),
        _ => (false, false),
    };
    let kept = keep && !destroy_requested;
    *state = if kept {
        State::Kept(response)
    } else {
        State::Finished
    };
    drop(state);
    // Waking costs a system call; only a destroyer on another thread waits.
    if waited_for {
        entry.changed.notify_all();
    }
    if !kept {
        unregister(entry.id);
    }
}

/// True when the entry was destroyed (or dropped) while its transfer ran.
pub(crate) fn is_finished(entry: &Entry) -> bool {
    matches!(*lock(&entry.state), State::Finished)
}

/// Drops a request: its callback will not be called after this returns, its
/// transfer is aborted and its response freed. A no-op on an unknown,
/// finished or already destroyed handle. Waits for the request's callback if
/// it is running on another thread.
pub fn destroy(id: RequestId) {
    let Some(entry) = lookup(id) else { return };
    let mut state = lock(&entry.state);
    loop {
        match &mut *state {
            State::InCallback {
                destroy_requested,
                waited_for,
            } => {
                if engine::on_engine_thread() {
                    // Called from inside its own callback: the engine frees it on return.
                    *destroy_requested = true;
                    return;
                }
                *waited_for = true;
                state = entry.changed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            State::Pending(_) => {
                let old = std::mem::replace(&mut *state, State::Finished);
                drop(state);
                entry.engine.cancel(id);
                drop(old);
                break;
            }
            State::Kept(_) => {
                let old = std::mem::replace(&mut *state, State::Finished);
                drop(state);
                drop(old);
                break;
            }
            State::Finished => return,
        }
    }
    unregister(id);
}

/// Forgets every request of a stopped engine: callbacks are dropped uncalled,
/// kept responses freed.
pub(crate) fn forget_engine(engine: &Arc<EngineLink>) {
    let entries: Vec<Arc<Entry>> = {
        let mut registry = lock(&REGISTRY);
        let Some(map) = registry.as_mut() else { return };
        let ids: Vec<u64> = map
            .iter()
            .filter(|(_, e)| Arc::ptr_eq(&e.engine, engine))
            .map(|(&id, _)| id)
            .collect();
        let forgotten = ids.iter().filter_map(|id| map.remove(id)).collect();
        if map.is_empty() {
            // Give the table's memory back, so a shut-down program holds none of ours.
            *registry = None;
        }
        forgotten
    };
    for entry in entries {
        let old = std::mem::replace(&mut *lock(&entry.state), State::Finished);
        drop(old);
        entry.changed.notify_all();
    }
}

/// The response a request keeps, if its callback asked to keep it.
pub fn with_kept_response<T>(id: RequestId, f: impl FnOnce(&Response) -> T) -> Option<T> {
    let entry = lookup(id)?;
    let state = lock(&entry.state);
    match &*state {
        State::Kept(response) => Some(f(response)),
        _ => None,
    }
}

/// How many requests are registered (pending, in a callback, or kept).
pub fn live_requests() -> usize {
    lock(&REGISTRY).as_ref().map_or(0, |map| map.len())
}
