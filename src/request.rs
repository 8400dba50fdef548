//! One request's life cycle, as a state machine shared by the caller's
//! threads and the thread that runs its callback.
//!
//! ```text
//!   Pending ──begin_callback──> InCallback ──end_callback──> Kept ──destroy──> Finished
//!      │                            │                  └──────────────────────> Finished
//!      └──destroy / forget──> Finished   (destroy from another thread waits here)
//! ```
//!
//! `state` is the one source of truth; every transition happens under its
//! mutex, and `changed` wakes a destroyer waiting for a running callback to
//! return. A request knows nothing of engines or clients: to cancel its
//! transfer it calls the `Canceller` it was made with, and it counts itself
//! in the `InFlight` group it was made with while it is pending.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::response::Response;

pub use crate::id::RequestId;

/// Called once with the response; returns true to keep the request and its
/// response until `destroy`.
pub type Callback = Box<dyn FnOnce(&Response) -> bool + Send>;

/// How a request asks for its transfer to be cancelled.
pub(crate) type Canceller = Arc<dyn Fn(RequestId) + Send + Sync>;

use crate::sync::lock;

/// Names the calling thread while it lives. Not `std::thread::current()`:
/// on a thread the host made, that allocates a handle that is never freed.
fn current_thread() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// Counts the requests of a group (a client): those pending, so that its
/// owner can wait until none is left, and those in the handle table.
/// Counting is a plain atomic; the mutex and condvar serve only a waiter.
#[derive(Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    registered: AtomicUsize,
    /// Threads in `wait_empty`: a wake-up costs a system call, so it is made
    /// only when someone waits.
    waiters: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

impl InFlight {
    /// Requests of the group in the handle table.
    pub(crate) fn registered(&self) -> usize {
        self.registered.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn remove(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 && self.waiters.load(Ordering::SeqCst) > 0
        {
            // Taking the lock orders this after a waiter's check of `count`.
            drop(lock(&self.lock));
            self.changed.notify_all();
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until no request is pending or `timeout` passed; true when none is.
    pub(crate) fn wait_empty(&self, timeout: Duration) -> bool {
        // Registered before `count` is checked (both SeqCst): a `remove`
        // that empties the group after the check sees the waiter.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let guard = lock(&self.lock);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |_| self.count() > 0)
            .unwrap_or_else(|p| p.into_inner());
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        self.count() == 0
    }
}

enum State {
    /// Transfer queued or running, or its completion queued for dispatch;
    /// the callback has not been called.
    Pending(Callback),
    /// The data callback is running on `thread` with a chunk of a streamed
    /// body; the final callback is still to come.
    InChunk {
        callback: Callback,
        thread: libc::pthread_t,
        destroy_requested: bool,
        waited_for: bool,
    },
    /// The callback is running on `thread` (see `current_thread`).
    InCallback {
        thread: libc::pthread_t,
        destroy_requested: bool,
        /// Another thread waits on `Request::changed` for the callback to return.
        waited_for: bool,
    },
    /// The callback asked to keep the response.
    Kept(Box<Response>),
    /// Delivered, destroyed or dropped by shutdown: nothing left to do.
    Finished,
}

pub struct Request {
    pub id: RequestId,
    /// The client the request belongs to (`Client::id`), so a client can
    /// find its requests in the handle table.
    pub(crate) group: u64,
    state: Mutex<State>,
    changed: Condvar,
    cancel: Canceller,
    in_flight: Arc<InFlight>,
    /// Someone waits in `wait_ended` (a blocking fetch): always wake it.
    awaited: bool,
    /// Lets a paused streamed transfer go on (`resume`); set once, by the
    /// client, for requests with a data callback.
    resumer: std::sync::OnceLock<Resumer>,
}

/// How a request asks for its paused body stream to go on.
pub(crate) type Resumer = Box<dyn Fn() + Send + Sync>;

/// What `end_callback` and `destroy` leave behind.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The request lives on (kept, or its callback still runs).
    Alive,
    /// The request is over: remove it from the handle table.
    Over,
}

impl Request {
    pub(crate) fn new(
        id: RequestId,
        group: u64,
        callback: Callback,
        cancel: Canceller,
        in_flight: Arc<InFlight>,
        awaited: bool,
    ) -> Request {
        in_flight.add();
        Request {
            id,
            group,
            state: Mutex::new(State::Pending(callback)),
            changed: Condvar::new(),
            cancel,
            in_flight,
            awaited,
            resumer: std::sync::OnceLock::new(),
        }
    }

    /// Sets how `resume` reaches the transfer (once; later calls are ignored).
    pub(crate) fn set_resumer(&self, resumer: Resumer) {
        let _ = self.resumer.set(resumer);
    }

    /// Lets a paused body stream go on; nothing when there is none or the
    /// request has ended.
    pub(crate) fn resume(&self) {
        if !matches!(
            *lock(&self.state),
            State::Pending(_) | State::InChunk { .. }
        ) {
            return;
        }
        if let Some(resume) = self.resumer.get() {
            resume();
        }
    }

    /// Before the data callback runs on this thread: false when the request
    /// was destroyed or its callback ran (then the data callback must not run).
    pub(crate) fn begin_chunk(&self) -> bool {
        let mut state = lock(&self.state);
        if !matches!(*state, State::Pending(_)) {
            return false;
        }
        let State::Pending(callback) = std::mem::replace(&mut *state, State::Finished) else {
            unreachable!("checked above");
        };
        *state = State::InChunk {
            callback,
            thread: current_thread(),
            destroy_requested: false,
            waited_for: false,
        };
        true
    }

    /// After the data callback returned. `Ended::Over` when the request was
    /// destroyed meanwhile: its transfer must end, no callback comes.
    pub(crate) fn end_chunk(&self) -> Ended {
        let mut state = lock(&self.state);
        let State::InChunk {
            callback,
            destroy_requested,
            waited_for,
            ..
        } = std::mem::replace(&mut *state, State::Finished)
        else {
            // `forget` ran meanwhile (a shutdown): it is over.
            return Ended::Over;
        };
        if destroy_requested {
            drop(state);
            drop(callback);
            self.in_flight.remove();
            self.changed.notify_all();
            return Ended::Over;
        }
        *state = State::Pending(callback);
        drop(state);
        if waited_for {
            self.changed.notify_all();
        }
        Ended::Alive
    }

    /// Waits until the callback ran and returned, or the request ended
    /// without it. Only for a request made with `awaited`.
    pub(crate) fn wait_ended(&self) {
        let mut state = lock(&self.state);
        while matches!(
            *state,
            State::Pending(_) | State::InChunk { .. } | State::InCallback { .. }
        ) {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The handle table took the request in (`handles::insert`).
    pub(crate) fn note_registered(&self) {
        self.in_flight.registered.fetch_add(1, Ordering::Relaxed);
    }

    /// The handle table let the request go (`handles::remove`).
    pub(crate) fn note_unregistered(&self) {
        self.in_flight.registered.fetch_sub(1, Ordering::Relaxed);
    }

    /// Takes the callback to run it on this thread, or `None` when the
    /// request was destroyed (or its callback already ran).
    pub(crate) fn begin_callback(&self) -> Option<Callback> {
        let mut state = lock(&self.state);
        if !matches!(*state, State::Pending(_)) {
            return None;
        }
        let old = std::mem::replace(
            &mut *state,
            State::InCallback {
                thread: current_thread(),
                destroy_requested: false,
                waited_for: false,
            },
        );
        drop(state);
        self.in_flight.remove();
        match old {
            State::Pending(callback) => Some(callback),
            _ => None,
        }
    }

    /// Records the end of the callback: keeps the response if it asked to
    /// and was not destroyed meanwhile.
    #[cfg(test)]
    pub(crate) fn end_callback(&self, keep: bool, response: Box<Response>) -> Ended {
        self.end_callback_returning(keep, response).0
    }

    /// `end_callback`, handing back the response when it is not kept (its
    /// buffers may serve another response).
    pub(crate) fn end_callback_returning(
        &self,
        keep: bool,
        response: Box<Response>,
    ) -> (Ended, Option<Box<Response>>) {
        let mut state = lock(&self.state);
        let (destroy_requested, waited_for) = match *state {
            State::InCallback {
                destroy_requested,
                waited_for,
                ..
            } => (destroy_requested, waited_for),
            // `forget` ran meanwhile (a shutdown): nothing is kept.
            _ => (true, false),
        };
        let kept = keep && !destroy_requested;
        let dropped = if kept {
            *state = State::Kept(response);
            None
        } else {
            *state = State::Finished;
            Some(response)
        };
        drop(state);
        // Waking costs a system call; only a destroyer on another thread, or
        // a blocking fetch, waits.
        if waited_for || self.awaited {
            self.changed.notify_all();
        }
        if kept {
            (Ended::Alive, dropped)
        } else {
            (Ended::Over, dropped)
        }
    }

    /// Drops the request: its callback will not be called after this
    /// returns, its transfer is cancelled and its response freed. Waits for
    /// the callback if it runs on another thread; from inside its own
    /// callback the request ends when the callback returns.
    pub(crate) fn destroy(&self) -> Ended {
        let mut state = lock(&self.state);
        loop {
            match &mut *state {
                // A callback or data callback runs: from inside it, the
                // request ends when it returns (`end_callback`,
                // `end_chunk`); another thread waits for it.
                State::InCallback {
                    thread,
                    destroy_requested,
                    waited_for,
                }
                | State::InChunk {
                    thread,
                    destroy_requested,
                    waited_for,
                    ..
                } => {
                    if *thread == current_thread() {
                        *destroy_requested = true;
                        return Ended::Alive;
                    }
                    *waited_for = true;
                    state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
                }
                State::Pending(_) => {
                    let old = std::mem::replace(&mut *state, State::Finished);
                    drop(state);
                    self.in_flight.remove();
                    (self.cancel)(self.id);
                    drop(old);
                    return Ended::Over;
                }
                State::Kept(_) => {
                    let old = std::mem::replace(&mut *state, State::Finished);
                    drop(state);
                    drop(old);
                    return Ended::Over;
                }
                State::Finished => return Ended::Over,
            }
        }
    }

    /// Asks for the transfer to be cancelled if the callback has not run;
    /// the callback then comes with `cancelled` (unless the transfer
    /// finished first: then with its real response).
    pub(crate) fn cancel(&self) {
        if matches!(
            *lock(&self.state),
            State::Pending(_) | State::InChunk { .. }
        ) {
            (self.cancel)(self.id);
        }
    }

    /// Ends the request without calling its callback (shutdown): callback
    /// and kept response are dropped. A callback running now finishes.
    pub(crate) fn forget(&self) {
        let old = std::mem::replace(&mut *lock(&self.state), State::Finished);
        if matches!(old, State::Pending(_) | State::InChunk { .. }) {
            self.in_flight.remove();
        }
        drop(old);
        self.changed.notify_all();
    }

    /// True when the callback can no longer come (destroyed or forgotten
    /// before it ran, or it ran).
    pub(crate) fn is_settled(&self) -> bool {
        !matches!(
            *lock(&self.state),
            State::Pending(_) | State::InChunk { .. }
        )
    }

    /// Runs `f` on the kept response, if the callback kept one.
    pub(crate) fn with_kept<T>(&self, f: impl FnOnce(&Response) -> T) -> Option<T> {
        match &*lock(&self.state) {
            State::Kept(response) => Some(f(response)),
            _ => None,
        }
    }

    /// Takes the kept response out, ending the request.
    pub(crate) fn take_kept(&self) -> Option<Box<Response>> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut *state, State::Finished) {
            State::Kept(response) => Some(response),
            other => {
                *state = other;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Response;

    fn response(id: u64) -> Box<Response> {
        Box::new(Response::for_tests(RequestId(id), 200, b"ok"))
    }

    fn request(cancels: &Arc<AtomicUsize>, in_flight: &Arc<InFlight>) -> Request {
        let cancels = Arc::clone(cancels);
        Request::new(
            RequestId(1),
            7,
            Box::new(|r| r.status() == 200),
            Arc::new(move |_| {
                cancels.fetch_add(1, Ordering::SeqCst);
            }),
            Arc::clone(in_flight),
            false,
        )
    }

    #[test]
    fn a_callback_runs_once_and_can_keep_its_response() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        assert_eq!(in_flight.count(), 1);
        let callback = request.begin_callback().expect("pending");
        assert_eq!(in_flight.count(), 0);
        assert!(request.begin_callback().is_none(), "only once");
        let response = response(1);
        let keep = callback(&response);
        assert_eq!(request.end_callback(keep, response), Ended::Alive);
        assert_eq!(request.with_kept(|r| r.status()), Some(200));
        assert_eq!(request.destroy(), Ended::Over);
        assert_eq!(request.with_kept(|r| r.status()), None);
        assert_eq!(cancels.load(Ordering::SeqCst), 0, "nothing to cancel");
    }

    #[test]
    fn data_callbacks_keep_the_final_callback_pending() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        assert!(request.begin_chunk());
        assert!(!request.is_settled());
        assert_eq!(request.end_chunk(), Ended::Alive);
        assert_eq!(in_flight.count(), 1, "still pending");
        // Destroyed from inside a data callback: over when it returns, and
        // neither data callbacks nor the callback come after.
        assert!(request.begin_chunk());
        assert_eq!(request.destroy(), Ended::Alive);
        assert_eq!(request.end_chunk(), Ended::Over);
        assert_eq!(in_flight.count(), 0);
        assert!(!request.begin_chunk());
        assert!(request.begin_callback().is_none());
        assert_eq!(
            cancels.load(Ordering::SeqCst),
            0,
            "the transfer ends by itself"
        );
    }

    #[test]
    fn a_shutdown_during_a_data_callback_ends_the_request() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        assert!(request.begin_chunk());
        request.forget();
        assert_eq!(in_flight.count(), 0);
        assert_eq!(request.end_chunk(), Ended::Over);
        assert!(request.begin_callback().is_none());
    }

    #[test]
    fn destroy_before_the_callback_cancels_and_drops_it() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        assert_eq!(request.destroy(), Ended::Over);
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
        assert_eq!(in_flight.count(), 0);
        assert!(request.begin_callback().is_none());
        assert_eq!(request.destroy(), Ended::Over, "twice is harmless");
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn destroy_inside_the_own_callback_ends_it_on_return() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        let _callback = request.begin_callback().unwrap();
        assert_eq!(request.destroy(), Ended::Alive);
        assert_eq!(request.end_callback(true, response(1)), Ended::Over);
        assert!(
            request.with_kept(|_| ()).is_none(),
            "not kept once destroyed"
        );
    }

    #[test]
    fn destroy_from_another_thread_waits_for_the_callback() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = Arc::new(request(&cancels, &in_flight));
        let _callback = request.begin_callback().unwrap();
        let returned = Arc::new(AtomicUsize::new(0));
        let destroyer = {
            let request = Arc::clone(&request);
            let returned = Arc::clone(&returned);
            std::thread::spawn(move || {
                let ended = request.destroy();
                returned.store(1, Ordering::SeqCst);
                ended
            })
        };
        // The destroyer cannot return while the callback runs.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(returned.load(Ordering::SeqCst), 0);
        assert_eq!(request.end_callback(true, response(1)), Ended::Alive);
        assert_eq!(destroyer.join().unwrap(), Ended::Over);
        assert!(request.with_kept(|_| ()).is_none());
    }

    #[test]
    fn cancel_reaches_the_transfer_only_while_pending() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        request.cancel();
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
        let callback = request.begin_callback().unwrap();
        request.cancel();
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
        let response = response(1);
        let keep = callback(&response);
        request.end_callback(keep, response);
        request.cancel();
        assert_eq!(cancels.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn forget_drops_the_callback_and_empties_the_group() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        request.forget();
        assert!(in_flight.wait_empty(Duration::from_millis(1)));
        assert!(request.begin_callback().is_none());
        assert!(request.is_settled());
    }

    #[test]
    fn take_kept_hands_the_response_over_once() {
        let cancels = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(InFlight::default());
        let request = request(&cancels, &in_flight);
        let callback = request.begin_callback().unwrap();
        let response = response(1);
        let keep = callback(&response);
        request.end_callback(keep, response);
        assert_eq!(request.take_kept().map(|r| r.status()), Some(200));
        assert!(request.take_kept().is_none());
    }
}
