//! An engine: one thread that owns a libcurl multi handle and runs jobs.
//!
//! The engine knows nothing of requests, callbacks, clients or C. It runs
//! `Job`s: a prepared easy handle plus a `done` closure, which it calls
//! exactly once with the handle and the job's `Outcome` when the job leaves
//! its active set (finished, cancelled, or stopped). Whoever removes a job
//! calls its `done`; a panic in `done` is caught and affects that job only.
//!
//! Other threads reach the engine through an `EngineHandle`: commands go over
//! a channel and an eventfd interrupts the wait. The loop drains the channel
//! on every pass, so a job started from inside a `done` is picked up on the
//! next pass. The multi handle is created on the engine thread and dropped
//! there, after every easy handle.
//!
//! The loop runs in one of two ways (`EngineConfig::epoll`):
//! - perform/poll (the default): `curl_multi_perform`, then
//!   `curl_multi_poll` on every socket plus the wake-up eventfd. Cheapest
//!   when the transfers are busy.
//! - epoll: `curl_multi_socket_action`. libcurl names the sockets to watch
//!   and its next timeout, the engine waits in epoll (`poller`) and passes
//!   libcurl only the sockets that are ready, so idle transfers (long polls,
//!   event streams) cost nothing per pass.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use curl::easy::{Easy2, Handler};
use curl::multi::{Easy2Handle, Events, Multi, WaitFd};

use crate::connection_cache::CacheLimit;
use crate::id_map::IdMap;
use crate::poller::{self, Interest, Poller, Waker, Watched};

/// Longest single wait when libcurl has no timeout pending: a safety net
/// only (wake-ups through the eventfd are not lost).
const MAX_WAIT: Duration = Duration::from_secs(1);
/// `Timer::due` when libcurl wants no timeout.
const NO_TIMEOUT: u64 = u64::MAX;

/// How a job left the engine.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// libcurl finished the transfer, successfully or not.
    Completed(Result<(), curl::Error>),
    /// `EngineHandle::cancel` or `cancel_all` removed it.
    Cancelled,
    /// The engine stopped while the job was queued or running.
    Stopped,
    /// libcurl refused to add the handle to the multi handle; its message.
    NotStarted(String),
}

/// What a job does when it leaves the engine: called once on the engine
/// thread with the job's handle (`None` only when libcurl refused to add it,
/// and dropped it) and outcome. A trait rather than a boxed closure: no
/// allocation per job.
///
/// It may hand back a job to run next (`Again`: a followed redirect, a
/// retry after a backoff). The engine takes that job in at once, under the
/// same id, so a `cancel` of that id never falls between the two.
pub(crate) trait Done<H: Handler>: Send + Sized + 'static {
    fn done(self, easy: Option<Easy2<H>>, outcome: Outcome) -> Option<Again<H, Self>>;
}

/// A job that follows the one that just left the engine.
pub(crate) struct Again<H: Handler, D: Done<H>> {
    pub job: Job<H, D>,
    /// How long to wait before starting it; the engine keeps serving other
    /// transfers meanwhile.
    pub after: Duration,
}

pub(crate) struct Job<H: Handler, D: Done<H>> {
    /// Unique among the engine's jobs; `cancel` names a job by it.
    pub id: u64,
    pub easy: Easy2<H>,
    pub done: D,
}

enum Command<H: Handler, D: Done<H>> {
    Start(Job<H, D>),
    Cancel(u64),
    /// Unpause the receiving side of a job's transfer.
    Resume(u64),
    CancelAll,
    Stop,
}

/// What an engine is made with.
pub(crate) struct EngineConfig {
    pub thread_name: String,
    /// Stack size of the engine thread, in bytes.
    pub stack_size: usize,
    /// CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = no limit.
    pub max_total_connections: usize,
    /// CURLMOPT_MAX_HOST_CONNECTIONS; 0 = no limit.
    pub max_host_connections: usize,
    /// Idle connections kept for reuse beside those in use
    /// (CURLMOPT_MAXCONNECTS follows: `connection_cache`).
    pub max_idle_connections: usize,
    /// Runs first on the engine thread (e.g. to mark the thread).
    pub on_thread_start: Option<Box<dyn FnOnce() + Send>>,
    /// Runs on the engine thread each time it is about to wait with nothing
    /// to do: work that can be done ahead of the next requests.
    pub on_idle: Option<Box<dyn FnMut() + Send>>,
    /// Drive libcurl with `curl_multi_socket_action` and epoll instead of
    /// perform/poll (see the module's documentation).
    pub epoll: bool,
}

/// How other threads reach one engine. Cheap to share in an `Arc`.
pub(crate) struct EngineHandle<H: Handler, D: Done<H>> {
    commands: Sender<Command<H, D>>,
    waker: Arc<Waker>,
    /// True while the engine is (about to be) blocked in `Multi::poll`. A
    /// busy engine drains the channel anyway, so senders skip the wake-up
    /// system call then. Shared with the engine thread.
    waiting: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<H: Handler + Send + 'static, D: Done<H>> EngineHandle<H, D> {
    /// Starts the engine thread and waits until its multi handle exists.
    pub(crate) fn spawn(config: EngineConfig) -> Result<Arc<EngineHandle<H, D>>, String> {
        let (commands, inbox) = crossbeam_channel::unbounded();
        let waker =
            Arc::new(Waker::new().map_err(|e| format!("could not create an eventfd: {e}"))?);
        // Only an epoll engine has an epoll set; perform/poll waits in
        // `curl_multi_poll`.
        let poller = if config.epoll {
            Some(Poller::new().map_err(|e| format!("could not create an epoll set: {e}"))?)
        } else {
            None
        };
        // The engine thread reports that its multi handle exists. A plain
        // mutex and condvar: a blocking channel receive would leave a
        // per-thread context behind in the caller's thread.
        let handoff: Arc<(Mutex<bool>, Condvar)> = Arc::default();
        let engine_handoff = Arc::clone(&handoff);
        let waiting = Arc::new(AtomicBool::new(false));
        let engine_waiting = Arc::clone(&waiting);
        let engine_waker = Arc::clone(&waker);
        let EngineConfig {
            thread_name,
            stack_size,
            max_total_connections,
            max_host_connections,
            max_idle_connections,
            on_thread_start,
            on_idle,
            epoll: use_epoll,
        } = config;
        let thread = std::thread::Builder::new()
            .name(thread_name)
            .stack_size(stack_size)
            .spawn(move || {
                // A panic caught on this thread is ours: it must not print.
                let _quiet = crate::panic_quiet::enter_nethttp_code();
                if let Some(start) = on_thread_start {
                    start();
                }
                // Dropped in reverse order: the multi (and its sockets)
                // before the epoll set its callback writes to.
                let mut poller = poller;
                let waker = engine_waker;
                if let Some(poller) = &poller {
                    poller::watch(
                        poller.raw(),
                        waker.raw(),
                        Interest {
                            read: true,
                            write: false,
                        },
                    );
                }
                let watched = Arc::new(Mutex::new(Watched::default()));
                let timer = Arc::new(AtomicU64::new(NO_TIMEOUT));
                let epoch = Instant::now();
                let mut multi = Multi::new();
                let cache_limit = CacheLimit::new(max_idle_connections);
                let _ = multi.set_max_connects(cache_limit.current());
                if max_total_connections > 0 {
                    let _ = multi.set_max_total_connections(max_total_connections);
                }
                if max_host_connections > 0 {
                    let _ = multi.set_max_host_connections(max_host_connections);
                }
                let engine_watched = Arc::clone(&watched);
                if let Some(epoll) = poller.as_ref().map(Poller::raw) {
                    let _ = multi.socket_function(move |socket, events, _| {
                        let interest = if events.remove() {
                            None
                        } else {
                            Some(Interest {
                                read: events.input() || events.input_and_output(),
                                write: events.output() || events.input_and_output(),
                            })
                        };
                        engine_watched
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .watch(epoll, socket, interest);
                    });
                    let engine_timer = Arc::clone(&timer);
                    let _ = multi.timer_function(move |timeout| {
                        let due = match timeout {
                            Some(after) => (epoch.elapsed() + after).as_micros() as u64,
                            None => NO_TIMEOUT,
                        };
                        engine_timer.store(due, Ordering::Relaxed);
                        true
                    });
                }
                *engine_handoff.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                engine_handoff.1.notify_all();
                drop(engine_handoff);
                Engine {
                    multi: &multi,
                    inbox: &inbox,
                    waiting: &engine_waiting,
                    poller: poller.as_mut(),
                    waker: &waker,
                    watched: &watched,
                    timer: &timer,
                    epoch,
                    active: IdMap::default(),
                    delayed: Vec::new(),
                    finished: Vec::new(),
                    ready: Vec::new(),
                    epoll: use_epoll,
                    cache_limit,
                    on_idle,
                }
                .run();
                drop(multi);
                drop(poller);
            })
            .map_err(|e| format!("could not start the engine thread: {e}"))?;
        let (slot, ready) = &*handoff;
        let mut started = slot.lock().unwrap_or_else(|p| p.into_inner());
        while !*started && !thread.is_finished() {
            started = ready
                .wait_timeout(started, Duration::from_millis(50))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if *started {
            drop(started);
            Ok(Arc::new(EngineHandle {
                commands,
                waker,
                waiting,
                thread: Mutex::new(Some(thread)),
            }))
        } else {
            drop(started);
            let _ = thread.join();
            Err("the engine thread failed while starting".to_string())
        }
    }

    fn send(&self, command: Command<H, D>) -> Result<(), Command<H, D>> {
        self.commands.send(command).map_err(|e| e.into_inner())?;
        // Pairs with the fence in `Engine::wait`: either the engine sees the
        // command before it blocks, or this sees `waiting` and wakes it.
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) {
            self.waker.wake();
        }
        Ok(())
    }

    /// Hands a job to the engine. On failure (the engine has stopped) the
    /// job comes back, its `done` not called.
    pub(crate) fn start(&self, job: Job<H, D>) -> Result<(), Job<H, D>> {
        self.send(Command::Start(job))
            .map_err(|command| match command {
                Command::Start(job) => job,
                _ => unreachable!("send returns the command it was given"),
            })
    }

    /// Asks the engine to cancel a job; harmless if it has finished.
    pub(crate) fn cancel(&self, id: u64) {
        let _ = self.send(Command::Cancel(id));
    }

    /// Lets a transfer paused by its write callback receive again; harmless
    /// if it is not paused or has finished.
    pub(crate) fn resume(&self, id: u64) {
        let _ = self.send(Command::Resume(id));
    }

    /// Cancels every job that reached the engine before this call.
    pub(crate) fn cancel_all(&self) {
        let _ = self.send(Command::CancelAll);
    }

    /// Stops the engine (jobs still there end with `Outcome::Stopped`) and
    /// joins its thread. Must not be called on the engine thread itself.
    pub(crate) fn stop(&self) {
        let _ = self.send(Command::Stop);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Forgets the engine thread without joining it: after `fork()` the child
    /// has no such thread.
    pub(crate) fn abandon(&self) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        std::mem::forget(thread);
    }
}

/// Calls a job's `done`, containing a panic to this job; the job to run
/// next, if `done` asks for one.
fn complete<H: Handler, D: Done<H>>(
    done: D,
    easy: Option<Easy2<H>>,
    outcome: Outcome,
) -> Option<Again<H, D>> {
    catch_unwind(AssertUnwindSafe(move || done.done(easy, outcome)))
        .ok()
        .flatten()
}

/// Ends a job with `Outcome::Stopped`, and any job its `done` asks for.
fn stop<H: Handler, D: Done<H>>(done: D, easy: Easy2<H>) {
    let mut next = complete(done, Some(easy), Outcome::Stopped);
    while let Some(Again { job, .. }) = next {
        next = complete(job.done, Some(job.easy), Outcome::Stopped);
    }
}

/// A job waiting for its start time.
struct Delayed<H: Handler, D: Done<H>> {
    due: Instant,
    job: Job<H, D>,
}

struct Active<H: Handler, D: Done<H>> {
    handle: Easy2Handle<H>,
    done: D,
}

/// The loop state of one engine thread.
struct Engine<'a, H: Handler, D: Done<H>> {
    multi: &'a Multi,
    inbox: &'a Receiver<Command<H, D>>,
    waiting: &'a AtomicBool,
    /// The epoll set of an epoll engine (None in perform/poll mode).
    poller: Option<&'a mut Poller>,
    waker: &'a Waker,
    /// The sockets libcurl watches; shared with its socket callback.
    watched: &'a Mutex<Watched>,
    /// When libcurl's next timeout is due: microseconds since `epoch`, or
    /// `NO_TIMEOUT`. Written by libcurl's timer callback.
    timer: &'a AtomicU64,
    epoch: Instant,
    active: IdMap<u64, Active<H, D>>,
    /// Jobs to start later (retries waiting out a backoff); few, so a list.
    delayed: Vec<Delayed<H, D>>,
    finished: Vec<(u64, Result<(), curl::Error>)>,
    /// The sockets of the last wait (kept to reuse its memory).
    ready: Vec<poller::Ready>,
    /// Socket-action mode; perform/poll otherwise.
    epoll: bool,
    /// CURLMOPT_MAXCONNECTS, following the transfers in flight.
    cache_limit: CacheLimit,
    /// `EngineConfig::on_idle`; dropped if it ever panics.
    on_idle: Option<Box<dyn FnMut() + Send>>,
}

impl<H: Handler, D: Done<H>> Engine<'_, H, D> {
    /// Drain commands, let libcurl work, complete what finished, wait.
    fn run(&mut self) {
        loop {
            match catch_unwind(AssertUnwindSafe(|| self.pass())) {
                Ok(true) => {}
                Ok(false) => break,
                // A bug in one pass must not stop the other transfers, nor
                // turn the loop into a busy one if it repeats.
                Err(_) if self.epoll => self.wait(),
                Err(_) => self.wait_polling(),
            }
        }
        self.stop_all();
    }

    /// One pass; false when the engine must stop.
    fn pass(&mut self) -> bool {
        loop {
            match self.inbox.try_recv() {
                Ok(Command::Start(job)) => self.start(job),
                Ok(Command::Cancel(id)) => self.cancel(id),
                Ok(Command::Resume(id)) => {
                    if let Some(job) = self.active.get(&id) {
                        let _ = job.handle.unpause_write();
                    }
                }
                Ok(Command::CancelAll) => {
                    let mut ids: Vec<u64> = self.active.keys().copied().collect();
                    ids.extend(self.delayed.iter().map(|d| d.job.id));
                    for id in ids {
                        self.cancel(id);
                    }
                }
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return false,
                Err(TryRecvError::Empty) => break,
            }
        }
        self.start_due();
        if !self.epoll {
            let _ = self.multi.perform();
        } else if self.timeout_due() {
            let _ = self.multi.timeout();
        }
        self.complete_finished();
        if self.epoll {
            self.wait();
        } else {
            self.wait_polling();
        }
        true
    }

    /// Runs `on_idle` when no command is queued (before `waiting` is set:
    /// a command sent meanwhile is seen right after).
    fn idle(&mut self) {
        if !self.inbox.is_empty() {
            return;
        }
        if let Some(on_idle) = self.on_idle.as_mut() {
            if catch_unwind(AssertUnwindSafe(on_idle)).is_err() {
                // A hook that panicked once is not run again: the loop's own
                // recovery waits, which would run it again and again.
                self.on_idle = None;
            }
        }
    }

    /// Perform/poll mode: waits in `curl_multi_poll` on libcurl's sockets
    /// and the wake-up eventfd, unless a command is already queued.
    fn wait_polling(&mut self) {
        self.idle();
        self.waiting.store(true, Ordering::Relaxed);
        // Pairs with the fence in `EngineHandle::send`.
        fence(Ordering::SeqCst);
        if self.inbox.is_empty() {
            let wait = match self.multi.get_timeout() {
                Ok(Some(timeout)) => timeout.min(MAX_WAIT),
                _ => MAX_WAIT,
            }
            .min(self.until_next_delayed());
            let mut wake = WaitFd::new();
            wake.set_fd(self.waker.raw());
            wake.poll_on_read(true);
            let mut fds = [wake];
            if self.multi.poll(&mut fds, wait).is_ok() && fds[0].received_read() {
                self.waker.clear();
            }
        }
        self.waiting.store(false, Ordering::Relaxed);
    }

    fn now_micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn timeout_due(&self) -> bool {
        let due = self.timer.load(Ordering::Relaxed);
        due != NO_TIMEOUT && due <= self.now_micros()
    }

    /// Calls `done` for every transfer libcurl reports finished.
    fn complete_finished(&mut self) {
        let active = &self.active;
        let finished = &mut self.finished;
        self.multi.messages(|message| {
            let Ok(token) = message.token() else { return };
            if let Some(job) = active.get(&(token as u64)) {
                if let Some(result) = message.result_for2(&job.handle) {
                    finished.push((token as u64, result));
                }
            }
        });
        let mut finished = std::mem::take(&mut self.finished);
        for (id, result) in finished.drain(..) {
            if let Some(job) = self.active.remove(&id) {
                self.finish(job, Outcome::Completed(result));
            }
        }
        self.finished = finished;
    }

    fn start(&mut self, job: Job<H, D>) {
        let Job { id, easy, done } = job;
        match self.multi.add2(easy) {
            Ok(mut handle) => {
                if let Err(error) = handle.set_token(id as usize) {
                    let easy = self.multi.remove2(handle).ok();
                    let again = complete(done, easy, Outcome::NotStarted(error.to_string()));
                    self.take_again(again);
                    return;
                }
                self.active.insert(id, Active { handle, done });
                self.fit_connection_cache();
            }
            // The curl crate drops the handle when adding fails; `done` must
            // still run: it owns what the job is for.
            Err(error) => {
                let again = complete(done, None, Outcome::NotStarted(error.to_string()));
                self.take_again(again);
            }
        }
    }

    /// Takes in the job a `done` asked to run next: now, or when its wait
    /// is over.
    fn take_again(&mut self, again: Option<Again<H, D>>) {
        let Some(Again { job, after }) = again else {
            return;
        };
        if after.is_zero() {
            self.start(job);
        } else {
            self.delayed.push(Delayed {
                due: Instant::now() + after,
                job,
            });
        }
    }

    /// Starts the delayed jobs whose time has come.
    fn start_due(&mut self) {
        if self.delayed.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut i = 0;
        while i < self.delayed.len() {
            if self.delayed[i].due <= now {
                let delayed = self.delayed.swap_remove(i);
                self.start(delayed.job);
            } else {
                i += 1;
            }
        }
    }

    /// How long until the next delayed job is due (`MAX_WAIT` if none).
    fn until_next_delayed(&self) -> Duration {
        let now = Instant::now();
        self.delayed
            .iter()
            .map(|d| d.due.saturating_duration_since(now))
            .min()
            .unwrap_or(MAX_WAIT)
    }

    fn cancel(&mut self, id: u64) {
        if let Some(job) = self.active.remove(&id) {
            self.finish(job, Outcome::Cancelled);
        } else if let Some(at) = self.delayed.iter().position(|d| d.job.id == id) {
            let Job { easy, done, .. } = self.delayed.swap_remove(at).job;
            let again = complete(done, Some(easy), Outcome::Cancelled);
            self.take_again(again);
        }
    }

    /// Removes a job's handle from the multi handle and calls its `done`.
    /// Keeps room in libcurl's connection cache for every transfer in
    /// flight plus the idle ones (`connection_cache`).
    fn fit_connection_cache(&mut self) {
        if let Some(limit) = self.cache_limit.update(self.active.len()) {
            // SAFETY: the engine's live multi handle; a long option. (The
            // curl crate's setter wants the multi mutably, which the
            // engine only borrows.)
            unsafe {
                curl_sys::curl_multi_setopt(
                    self.multi.raw(),
                    curl_sys::CURLMOPT_MAXCONNECTS,
                    limit.min(libc::c_long::MAX as usize) as libc::c_long,
                );
            }
        }
    }

    fn finish(&mut self, job: Active<H, D>, outcome: Outcome) {
        self.fit_connection_cache();
        let Active { handle, done } = job;
        // remove2 fails only for a handle the multi does not hold, which
        // cannot happen here; `done` is dropped uncalled then.
        if let Ok(easy) = self.multi.remove2(handle) {
            let again = complete(done, Some(easy), outcome);
            self.take_again(again);
        }
    }

    /// Ends every job with `Outcome::Stopped`; a job asked for by a `done`
    /// now is ended the same way.
    fn stop_all(&mut self) {
        let ids: Vec<u64> = self.active.keys().copied().collect();
        for id in ids {
            if let Some(job) = self.active.remove(&id) {
                let Active { handle, done } = job;
                if let Ok(easy) = self.multi.remove2(handle) {
                    stop(done, easy);
                }
            }
        }
        for delayed in std::mem::take(&mut self.delayed) {
            stop(delayed.job.done, delayed.job.easy);
        }
        while let Ok(command) = self.inbox.try_recv() {
            if let Command::Start(job) = command {
                stop(job.done, job.easy);
            }
        }
    }

    /// Waits in epoll for a ready socket, a wake-up or libcurl's next
    /// timeout (not at all when a command is already queued), then hands
    /// libcurl the sockets that are ready.
    fn wait(&mut self) {
        self.idle();
        self.waiting.store(true, Ordering::Relaxed);
        // Pairs with the fence in `EngineHandle::send`: either a sender sees
        // `waiting` and wakes us, or we see its command here.
        fence(Ordering::SeqCst);
        let timeout = if self.inbox.is_empty() {
            match self.timer.load(Ordering::Relaxed) {
                NO_TIMEOUT => MAX_WAIT,
                due => Duration::from_micros(due.saturating_sub(self.now_micros())).min(MAX_WAIT),
            }
            .min(self.until_next_delayed())
        } else {
            Duration::ZERO
        };
        let waker = self.waker.raw();
        let Some(poller) = self.poller.as_deref_mut() else {
            // Not an epoll engine (cannot happen: only those call `wait`).
            self.waiting.store(false, Ordering::Relaxed);
            return;
        };
        let epoll = poller.raw();
        let mut ready = std::mem::take(&mut self.ready);
        ready.extend(poller.wait(Some(timeout)).iter().map(poller::ready));
        self.waiting.store(false, Ordering::Relaxed);
        for socket in ready.drain(..) {
            if socket.fd == waker {
                self.waker.clear();
                continue;
            }
            if !crate::sync::lock(self.watched).wanted(epoll, socket.fd) {
                continue;
            }
            let mut events = Events::new();
            events
                .input(socket.read)
                .output(socket.write)
                .error(socket.error);
            let _ = self.multi.action(socket.fd, &events);
        }
        self.ready = ready;
        if self.timeout_due() {
            let _ = self.multi.timeout();
        }
    }
}
