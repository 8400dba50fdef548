//! Clients: an engine thread with its connection pool, its handle pool, its
//! default options and its delivery mode. Builds the jobs the engine runs and
//! the `done` closures that turn a finished transfer into a callback.
//!
//! Process-wide state, each with its reason:
//! - `DEFAULT`: the client `nethttp_request()` and friends use, made at first
//!   use; `shutdown` drops it. Held across a whole shutdown, so a second
//!   shutdown, or a request from another thread, waits for the first to end
//!   instead of starting an engine beside a dying one.
//! - `NEXT_CLIENT`: client numbers (`Request::group`), unique in the process.
//! - `FORK_GENERATION`: counts `fork()`s, so a child never talks to an engine
//!   thread that exists only in its parent.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::dispatch::DispatchQueue;
use crate::engine::{Done, EngineConfig, EngineHandle, Job, Outcome};
use crate::error::{nethttp_result, Error};
use crate::handles;
use crate::id::RequestId;
use crate::limits;
use crate::options::Options;
use crate::pool::HandlePool;
use crate::request::{Callback, Canceller, Ended, InFlight, Request};
use crate::response::Response;
use crate::sync::lock;
use crate::transfer::{self, Collector};
use crate::url_cache::UrlCache;
use curl::easy::Easy2;

/// Called once per finished request just before its callback.
pub type Observer = Arc<dyn Fn(&Response) + Send + Sync>;

/// The usual stack of a process's main thread: callbacks run on engine
/// threads, and C code expects that much.
pub const DEFAULT_STACK_SIZE: usize = 8 << 20;
/// The smallest engine stack accepted (libcurl and nethttp need some room).
pub const MIN_STACK_SIZE: usize = 64 << 10;
/// Idle connections libcurl keeps open for reuse (its default, 4 per
/// transfer added, closes warm connections while requests ramp up).
const MAX_IDLE_CONNECTIONS: usize = 1024;
/// How often `close` looks again while it waits for requests to end.
const CLOSE_POLL: Duration = Duration::from_millis(10);

/// What a client is made with; `nethttp_client_new` copies it.
#[derive(Clone)]
pub struct ClientConfig {
    /// Options every request starts from.
    pub defaults: Options,
    /// Connections open at once, over all hosts; 0 = no limit.
    pub max_total_connections: usize,
    /// Connections open at once to one host; 0 = no limit.
    pub max_host_connections: usize,
    /// Callbacks run in `Client::dispatch` instead of on the engine thread.
    pub dispatch: bool,
    pub observer: Option<Observer>,
    /// Stack size of the engine thread.
    pub stack_size: usize,
    /// Drive transfers with epoll and libcurl's socket interface (for many
    /// idle transfers) instead of perform/poll.
    pub epoll: bool,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            defaults: Options::new(),
            max_total_connections: 0,
            max_host_connections: 0,
            dispatch: false,
            observer: None,
            stack_size: DEFAULT_STACK_SIZE,
            epoll: false,
        }
    }
}

/// A finished request waiting in a dispatch queue.
struct Completion {
    request: Arc<Request>,
    response: Box<Response>,
}

enum Delivery {
    /// Callbacks run on the engine thread as transfers finish.
    Inline,
    /// Callbacks run in `dispatch` on the caller's thread.
    Queued(DispatchQueue<Completion>),
}

/// Whether the client still takes requests; changed under its mutex, which
/// also covers handing a job to the engine, so that no job can slip in
/// behind the `cancel_all` of `close`.
struct Gate {
    closing: bool,
}

struct Shared {
    /// Unique in the process; requests carry it as their group.
    id: u64,
    is_default: bool,
    defaults: Options,
    engine: Arc<EngineHandle<Collector, RequestJob>>,
    pool: HandlePool<Collector>,
    urls: UrlCache,
    delivery: Delivery,
    observer: Option<Observer>,
    in_flight: Arc<InFlight>,
    gate: Mutex<Gate>,
    canceller: Canceller,
    /// `FORK_GENERATION` when the client was made.
    generation: u64,
}

/// A client. Dropping it closes it without a grace period (see `close`).
pub struct Client {
    shared: Arc<Shared>,
    closed: AtomicBool,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close(Duration::ZERO);
    }
}

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static DEFAULT: Mutex<Option<Client>> = Mutex::new(None);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn watch_forks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
}

thread_local! {
    /// The clients whose callbacks (or observer) run on this thread right
    /// now, innermost last. Lets a callback's `nethttp_request()` reach the
    /// default client it runs in without its lock, and refuses calls that
    /// would wait for the callback itself (`close`, `fetch`, `dispatch`).
    static RUNNING: RefCell<Vec<Arc<Shared>>> = const { RefCell::new(Vec::new()) };
}

/// Marks this thread as running callbacks of `shared` until dropped.
struct Running;

impl Running {
    fn enter(shared: &Arc<Shared>) -> Running {
        let _ = RUNNING.try_with(|r| r.borrow_mut().push(Arc::clone(shared)));
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.borrow_mut().pop());
    }
}

fn running(shared: &Shared) -> bool {
    RUNNING
        .try_with(|r| r.borrow().iter().any(|s| s.id == shared.id))
        .unwrap_or(false)
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::new(nethttp_result::EngineUnavailable, message)
}

impl Client {
    pub fn new(config: &ClientConfig) -> Result<Client, Error> {
        Client::build(config, false)
    }

    fn build(config: &ClientConfig, is_default: bool) -> Result<Client, Error> {
        watch_forks();
        let delivery =
            if config.dispatch {
                Delivery::Queued(DispatchQueue::new().map_err(|e| {
                    unavailable(format!("could not create the dispatch eventfd: {e}"))
                })?)
            } else {
                Delivery::Inline
            };
        let engine = EngineHandle::spawn(EngineConfig {
            thread_name: "nethttp-engine".into(),
            stack_size: config.stack_size.max(MIN_STACK_SIZE),
            max_total_connections: config.max_total_connections,
            max_host_connections: config.max_host_connections,
            max_idle_connections: MAX_IDLE_CONNECTIONS,
            on_thread_start: None,
            epoll: config.epoll,
        })
        .map_err(unavailable)?;
        let canceller: Canceller = {
            let engine = Arc::clone(&engine);
            Arc::new(move |id: RequestId| engine.cancel(id.0))
        };
        Ok(Client {
            shared: Arc::new(Shared {
                id: NEXT_CLIENT.fetch_add(1, Ordering::Relaxed),
                is_default,
                defaults: config.defaults.clone(),
                engine,
                pool: HandlePool::default(),
                urls: UrlCache::default(),
                delivery,
                observer: config.observer.clone(),
                in_flight: Arc::default(),
                gate: Mutex::new(Gate { closing: false }),
                canceller,
                generation: FORK_GENERATION.load(Ordering::Relaxed),
            }),
            closed: AtomicBool::new(false),
        })
    }

    /// Starts a request; `callback` runs once when it completes (on the
    /// engine thread, or in `dispatch`). Never blocks on the network.
    pub fn request(
        &self,
        url: &str,
        options: Option<&Options>,
        callback: Callback,
    ) -> Result<RequestId, Error> {
        Ok(self.shared.start(url, options, callback, false)?.id)
    }

    /// Requests of this client in the handle table (pending, in a callback,
    /// or kept).
    pub fn live_requests(&self) -> usize {
        self.shared.in_flight.registered()
    }

    /// The dispatch eventfd, or `None` unless in dispatch mode.
    pub fn dispatch_fd(&self) -> Option<i32> {
        match &self.shared.delivery {
            Delivery::Queued(queue) => Some(queue.fd()),
            Delivery::Inline => None,
        }
    }

    /// Runs up to `max` queued callbacks (0 = all queued now) on this thread.
    pub fn dispatch(&self, max: usize) -> Result<usize, Error> {
        let Delivery::Queued(queue) = &self.shared.delivery else {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                "the client is not in dispatch mode (see nethttp_client_config_set_dispatch())",
            ));
        };
        if running(&self.shared) {
            return Err(Error::new(
                nethttp_result::CalledFromCallback,
                "nethttp_client_dispatch() cannot be called from a callback of the same client",
            ));
        }
        Ok(self.shared.dispatch_from(queue, max))
    }

    /// Makes a request and waits for its response on this thread.
    pub fn fetch(&self, url: &str, options: Option<&Options>) -> Result<Box<Response>, Error> {
        self.shared.fetch(url, options)
    }

    /// Whether `close` may run on this thread: not inside the client's own
    /// callbacks, which it would wait for.
    pub fn check_close(&self) -> Result<(), Error> {
        if running(&self.shared) {
            return Err(Error::new(
                nethttp_result::CalledFromCallback,
                "nethttp_client_free() cannot be called from a callback of the same client",
            ));
        }
        Ok(())
    }

    /// Stops the client: waits up to `grace` for requests in flight, then
    /// cancels the rest; every request gets its one callback (in dispatch
    /// mode on this thread) before the engine stops. Kept responses are
    /// freed. The client stays a valid object meanwhile (callbacks may still
    /// name it; their requests are refused) and afterwards. Call
    /// `check_close` first; a second call does nothing.
    pub fn close(&self, grace: Duration) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.shared.close(grace);
        }
    }
}

impl Shared {
    fn check_process(&self) -> Result<(), Error> {
        if self.generation != FORK_GENERATION.load(Ordering::Relaxed) {
            return Err(unavailable(
                "the client was made before fork(); a child process must make its own",
            ));
        }
        Ok(())
    }

    fn start(
        self: &Arc<Self>,
        url_text: &str,
        options: Option<&Options>,
        callback: Callback,
        direct: bool,
    ) -> Result<Arc<Request>, Error> {
        self.check_process()?;
        // The URL's own length first: a URL too long on its own is an
        // invalid URL, not a request head too long as a whole.
        limits::check_field("the URL", url_text.len(), nethttp_result::InvalidUrl)?;
        let merged;
        let options = match options {
            Some(options) if options.is_untouched() => &self.defaults,
            Some(options) if self.defaults.is_untouched() => options,
            Some(options) => {
                merged = options.merged_over(&self.defaults);
                &merged
            }
            None => &self.defaults,
        };
        limits::check_request_head(
            options.method().map_or(4, str::len),
            url_text.len(),
            options.header_lines_len(),
        )?;
        let easy = transfer::prepare(url_text, options, &self.pool, &self.urls)?;
        let id = handles::next_id();
        let request = Arc::new(Request::new(
            id,
            self.id,
            callback,
            Arc::clone(&self.canceller),
            Arc::clone(&self.in_flight),
            direct,
        ));
        let job = Job {
            id: id.0,
            easy,
            done: RequestJob {
                shared: Arc::clone(self),
                request: Arc::clone(&request),
                direct,
            },
        };
        let gate = lock(&self.gate);
        if gate.closing {
            drop(gate);
            request.forget();
            return Err(unavailable("the client is shutting down"));
        }
        handles::insert(Arc::clone(&request));
        if let Err(job) = self.engine.start(job) {
            drop(gate);
            handles::remove(id);
            request.forget();
            drop(job);
            return Err(unavailable("the engine has stopped"));
        }
        drop(gate);
        Ok(request)
    }

    /// A job's `done`, on the engine thread.
    fn complete(
        self: &Arc<Self>,
        request: Arc<Request>,
        easy: Option<Easy2<Collector>>,
        outcome: Outcome,
        direct: bool,
    ) {
        if let Outcome::Stopped = outcome {
            // Only a shutdown stops an engine with jobs in it, and it has
            // forgotten their requests: no callback comes.
            request.forget();
            handles::remove(request.id);
            return;
        }
        let response = transfer::finish(easy, outcome, request.id, &self.pool);
        match &self.delivery {
            Delivery::Queued(queue) if !direct => queue.push(Completion { request, response }),
            Delivery::Queued(_) => self.run_callback(&request, response, false),
            Delivery::Inline => self.run_callback(&request, response, true),
        }
    }

    /// Runs the observer (when `observe`) and the callback of a finished
    /// request, unless it was destroyed; ends or keeps the request.
    fn run_callback(self: &Arc<Self>, request: &Request, response: Box<Response>, observe: bool) {
        let Some(callback) = request.begin_callback() else {
            return; // destroyed: the response is dropped here
        };
        let running = Running::enter(self);
        if observe {
            self.observe(&response);
        }
        // A panic in a Rust callback must not stop the engine: it counts as
        // "do not keep". It is the host's code: the host's panic hook sees it.
        let keep = catch_unwind(AssertUnwindSafe(|| {
            let _host = crate::panic_quiet::leave_nethttp_code();
            callback(&response)
        }))
        .unwrap_or(false);
        drop(running);
        if request.end_callback(keep, response) == Ended::Over {
            handles::remove(request.id);
        }
    }

    fn observe(&self, response: &Response) {
        if let Some(observer) = &self.observer {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let _host = crate::panic_quiet::leave_nethttp_code();
                observer(response)
            }));
        }
    }

    fn dispatch_from(self: &Arc<Self>, queue: &DispatchQueue<Completion>, max: usize) -> usize {
        let limit = if max == 0 { queue.len() } else { max };
        let mut ran = 0;
        for _ in 0..limit {
            let Some(Completion { request, response }) = queue.pop() else {
                break;
            };
            if !request.is_settled() {
                ran += 1;
            }
            self.run_callback(&request, response, true);
        }
        ran
    }

    fn fetch(
        self: &Arc<Self>,
        url: &str,
        options: Option<&Options>,
    ) -> Result<Box<Response>, Error> {
        if running(self) {
            return Err(Error::new(
                nethttp_result::CalledFromCallback,
                "nethttp_fetch() cannot be called from a callback of the same client: it would wait for itself",
            ));
        }
        // Keep: this thread takes the response once the callback returned.
        let callback: Callback = Box::new(|_| true);
        let request = self.start(url, options, callback, true)?;
        request.wait_ended();
        let response = request.take_kept();
        handles::remove(request.id);
        let response = response
            .ok_or_else(|| unavailable("the client shut down before the request completed"))?;
        if let Delivery::Queued(_) = self.delivery {
            // In dispatch mode the observer runs on the caller's thread.
            let running = Running::enter(self);
            self.observe(&response);
            drop(running);
        }
        Ok(response)
    }

    fn close(self: &Arc<Self>, grace: Duration) {
        if self.check_process().is_err() {
            // After fork() the engine thread exists only in the parent.
            self.engine.abandon();
            std::mem::forget(Arc::clone(self));
            return;
        }
        lock(&self.gate).closing = true;
        let deadline = Instant::now() + grace;
        let mut cancelled = false;
        loop {
            if let Delivery::Queued(queue) = &self.delivery {
                self.dispatch_from(queue, 0);
            }
            if self.in_flight.count() == 0 {
                break;
            }
            let now = Instant::now();
            if !cancelled && now >= deadline {
                self.engine.cancel_all();
                cancelled = true;
            }
            let wait = if cancelled {
                CLOSE_POLL
            } else {
                (deadline - now).min(CLOSE_POLL)
            };
            match &self.delivery {
                Delivery::Queued(queue) => queue.wait(wait),
                Delivery::Inline => {
                    self.in_flight.wait_empty(wait);
                }
            }
        }
        self.engine.stop();
        self.forget_all();
    }

    /// Ends every request of the client without callbacks and frees what
    /// it holds (after the engine stopped, or to stop it).
    fn forget_all(&self) {
        for request in handles::remove_group(self.id) {
            request.forget();
        }
        if let Delivery::Queued(queue) = &self.delivery {
            drop(queue.drain());
        }
        self.pool.clear();
        self.urls.clear();
    }
}

/// What the engine runs for a request: when the transfer leaves the engine,
/// the response is built and delivered.
struct RequestJob {
    shared: Arc<Shared>,
    request: Arc<Request>,
    /// A `fetch`: completes on the engine thread, never through a dispatch queue.
    direct: bool,
}

impl Done<Collector> for RequestJob {
    fn done(self, easy: Option<Easy2<Collector>>, outcome: Outcome) {
        let RequestJob {
            shared,
            request,
            direct,
        } = self;
        shared.complete(request, easy, outcome, direct);
    }
}

/// The default client, made at first use. Inside one of its callbacks it is
/// found without taking `DEFAULT` (a shutdown may hold it, joining us).
fn default_shared() -> Result<Arc<Shared>, Error> {
    let own = RUNNING
        .try_with(|r| r.borrow().iter().rev().find(|s| s.is_default).cloned())
        .ok()
        .flatten();
    if let Some(own) = own {
        return Ok(own);
    }
    let mut slot = lock(&DEFAULT);
    if let Some(client) = slot.as_ref() {
        if client.shared.check_process().is_ok() {
            return Ok(Arc::clone(&client.shared));
        }
        if let Some(stale) = slot.take() {
            drop(stale); // closing abandons a parent's engine: see `Shared::close`
        }
    }
    let client = Client::build(&ClientConfig::default(), true)?;
    let shared = Arc::clone(&client.shared);
    *slot = Some(client);
    Ok(shared)
}

/// `nethttp_request()`: a request on the default client.
pub fn request(
    url: &str,
    options: Option<&Options>,
    callback: Callback,
) -> Result<RequestId, Error> {
    Ok(default_shared()?.start(url, options, callback, false)?.id)
}

/// `nethttp_fetch()` with no client: on the default client.
pub fn fetch(url: &str, options: Option<&Options>) -> Result<Box<Response>, Error> {
    default_shared()?.fetch(url, options)
}

/// Live requests of the default client (0 when there is none).
pub fn live_requests() -> usize {
    let own = RUNNING
        .try_with(|r| r.borrow().iter().rev().find(|s| s.is_default).cloned())
        .ok()
        .flatten();
    let shared = own.or_else(|| lock(&DEFAULT).as_ref().map(|c| Arc::clone(&c.shared)));
    shared.map_or(0, |s| s.in_flight.registered())
}

/// Drops the default client: transfers are aborted, callbacks not yet
/// called never come, kept responses are freed, the engine thread is
/// joined. Returns when no callback of it can run any more; a second call
/// meanwhile waits for the first. Other clients carry on.
pub fn shutdown() -> Result<(), Error> {
    let inside = RUNNING
        .try_with(|r| r.borrow().iter().any(|s| s.is_default))
        .unwrap_or(false);
    if inside {
        return Err(Error::new(
            nethttp_result::CalledFromCallback,
            "nethttp_shutdown() cannot be called from inside a callback of the default client",
        ));
    }
    let mut slot = lock(&DEFAULT);
    let Some(client) = slot.take() else {
        return Ok(());
    };
    // This shutdown drops callbacks instead of delivering them: not `close`.
    client.closed.store(true, Ordering::SeqCst);
    let shared = Arc::clone(&client.shared);
    drop(client);
    if shared.check_process().is_err() {
        shared.close(Duration::ZERO); // abandons the parent's engine
        return Ok(());
    }
    lock(&shared.gate).closing = true;
    for request in handles::remove_group(shared.id) {
        request.forget();
    }
    shared.engine.stop();
    shared.forget_all();
    drop(slot);
    Ok(())
}

/// Cancels a request by handle: its callback comes with `cancelled` unless
/// it already ran, runs, or the request was destroyed. No-op on a stale one.
pub fn cancel(id: RequestId) {
    if let Some(request) = handles::get(id) {
        request.cancel();
    }
}

/// Destroys a request by handle: no callback after this returns. No-op on a
/// stale handle.
pub fn destroy(id: RequestId) {
    if let Some(request) = handles::get(id) {
        if request.destroy() == Ended::Over {
            handles::remove(id);
        }
    }
}

/// Runs `f` on the response a request keeps, if its callback kept one.
pub fn with_kept_response<T>(id: RequestId, f: impl FnOnce(&Response) -> T) -> Option<T> {
    handles::get(id)?.with_kept(f)
}
