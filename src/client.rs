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

use crate::body_cache::BodyCache;
use crate::cookie_jar::CookieJar;
use crate::dispatch::DispatchQueue;
use crate::engine::{Again, Done, EngineConfig, EngineHandle, Job, Outcome};
use crate::error::{nethttp_result, Error};
use crate::handles;
use crate::id::RequestId;
use crate::limits;
use crate::options::Options;
use crate::pool::HandlePool;
use crate::request::{Callback, Canceller, Ended, InFlight, Request};
use crate::response::{Failure, Response};
use crate::stream::{ChunkTarget, ChunkVerdict, DataSink};
use crate::stream_queue::{Next, StreamQueue};
use crate::sync::lock;
use crate::transfer::{self, Collector, Plan, Resources};
use crate::url_cache::{Origin, UrlCache};
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
    /// An in-memory cookie jar shared by the client's requests.
    pub cookies: bool,
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
            cookies: false,
        }
    }
}

/// What waits in a dispatch queue.
enum Completion {
    /// A finished request.
    Done {
        request: Arc<Request>,
        response: Box<Response>,
    },
    /// A streamed body has chunks (or its final response) to deliver.
    Chunks {
        request: Arc<Request>,
        stream: Arc<Stream>,
    },
}

/// The body of a request streamed in dispatch mode: its queue, and the
/// data callback `dispatch` hands the chunks to.
struct Stream {
    queue: StreamQueue,
    sink: DataSink,
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
    pool: Arc<HandlePool<Collector>>,
    urls: UrlCache,
    cookies: Option<CookieJar>,
    /// A large body buffer kept for the next large body.
    bodies: Arc<BodyCache>,
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
        let cookies = config.cookies.then(CookieJar::default);
        let pool: Arc<HandlePool<Collector>> = Arc::default();
        let idle_pool = Arc::clone(&pool);
        let engine = EngineHandle::spawn(EngineConfig {
            thread_name: "nethttp-engine".into(),
            stack_size: config.stack_size.max(MIN_STACK_SIZE),
            max_total_connections: config.max_total_connections,
            max_host_connections: config.max_host_connections,
            max_idle_connections: MAX_IDLE_CONNECTIONS,
            on_thread_start: None,
            // Handles are freed and made while the engine has nothing to do.
            on_idle: Some(Box::new(move || idle_pool.tidy())),
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
                pool,
                urls: UrlCache::default(),
                cookies,
                bodies: Arc::default(),
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
        let mut easy = transfer::prepare(url_text, options, &self.resources())?;
        let id = handles::next_id();
        transfer::set_request(&mut easy, id);
        let request = Arc::new(Request::new(
            id,
            self.id,
            callback,
            Arc::clone(&self.canceller),
            Arc::clone(&self.in_flight),
            direct,
        ));
        let stream = options
            .data_sink()
            .map(|sink| self.stream_target(&request, sink.clone(), direct));
        let stream = match stream {
            Some((target, stream)) => {
                transfer::stream_to(&mut easy, target);
                self.set_resumer(&request, stream.clone());
                stream
            }
            None => None,
        };
        // Redirects and retries need the options again, hop by hop.
        let follow = (options.max_redirects() > 0 || options.retry().is_some()).then(|| {
            Box::new(Follow {
                options: options.clone(),
                origin: Origin::of(url_text),
                started: Instant::now(),
            })
        });
        let job = Job {
            id: id.0,
            easy,
            done: RequestJob {
                shared: Arc::clone(self),
                request: Arc::clone(&request),
                direct,
                follow,
                stream,
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

    fn resources(&self) -> Resources<'_> {
        Resources {
            pool: &self.pool,
            urls: &self.urls,
            cookies: self.cookies.as_ref(),
            bodies: &self.bodies,
        }
    }

    /// Where a request's streamed body goes: straight to the data callback
    /// on the engine thread, or through a bounded queue to `dispatch`.
    fn stream_target(
        self: &Arc<Self>,
        request: &Arc<Request>,
        sink: DataSink,
        direct: bool,
    ) -> (Box<dyn ChunkTarget>, Option<Arc<Stream>>) {
        match &self.delivery {
            Delivery::Queued(_) if !direct => {
                let stream = Arc::new(Stream {
                    queue: StreamQueue::default(),
                    sink,
                });
                let target = QueuedChunks {
                    shared: Arc::clone(self),
                    request: Arc::clone(request),
                    stream: Arc::clone(&stream),
                };
                (Box::new(target), Some(stream))
            }
            _ => {
                let target = InlineChunks {
                    shared: Arc::clone(self),
                    request: Arc::clone(request),
                    sink,
                };
                (Box::new(target), None)
            }
        }
    }

    /// How `nethttp_request_resume` reaches a streamed request.
    fn set_resumer(self: &Arc<Self>, request: &Arc<Request>, stream: Option<Arc<Stream>>) {
        let id = request.id;
        // Weak: a request must not keep its client alive.
        let shared = Arc::downgrade(self);
        let Some(stream) = stream else {
            request.set_resumer(Box::new(move || {
                if let Some(shared) = shared.upgrade() {
                    shared.engine.resume(id.0);
                }
            }));
            return;
        };
        request.set_resumer(Box::new(move || {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let (notify, resume_transfer) = stream.queue.resume();
            if resume_transfer {
                shared.engine.resume(id.0);
            }
            if let (true, Delivery::Queued(queue), Some(request)) =
                (notify, &shared.delivery, handles::get(id))
            {
                queue.push(Completion::Chunks {
                    request,
                    stream: Arc::clone(&stream),
                });
            }
        }));
    }

    /// A job's `done`, on the engine thread: the next hop of a redirect or
    /// a retry, or the response delivered.
    fn complete(
        self: &Arc<Self>,
        request: Arc<Request>,
        easy: Option<Easy2<Collector>>,
        outcome: Outcome,
        direct: bool,
        follow: Option<Box<Follow>>,
        stream: Option<Arc<Stream>>,
    ) -> Option<Again<Collector, RequestJob>> {
        if let Outcome::Stopped = outcome {
            // Only a shutdown stops an engine with jobs in it, and it has
            // forgotten their requests: no callback comes.
            request.forget();
            handles::remove(request.id);
            return None;
        }
        if let (Some(jar), Some(easy), Outcome::Completed(_)) = (&self.cookies, &easy, &outcome) {
            transfer::store_cookies(easy, jar);
        }
        let plan = match (&follow, request.is_settled()) {
            (Some(_), false) => transfer::follow_up(easy.as_ref(), &outcome),
            _ => None,
        };
        let mut failure = None;
        let mut easy = easy;
        let next = match (plan, follow) {
            (Some(plan), Some(follow)) => easy.take().map(|finished| (plan, follow, finished)),
            _ => None,
        };
        if let Some((plan, follow, finished)) = next {
            match self.next_hop(&request, &finished, plan, &follow) {
                Ok((mut next, after, hops)) => {
                    transfer::hand_over(finished, &mut next, hops, &self.pool);
                    return Some(Again {
                        job: Job {
                            id: request.id.0,
                            easy: next,
                            done: RequestJob {
                                shared: Arc::clone(self),
                                request,
                                direct,
                                follow: Some(follow),
                                stream,
                            },
                        },
                        after,
                    });
                }
                Err(error) => {
                    failure = Some(error);
                    easy = Some(finished);
                }
            }
        }
        let response = transfer::finish(easy, outcome, request.id, &self.pool, failure);
        self.deliver(request, response, direct, stream);
        None
    }

    /// The transfer of the next hop: where a redirect leads, or the same
    /// request again for a retry; how long to wait first; the hops so far.
    fn next_hop(
        &self,
        request: &Request,
        easy: &Easy2<Collector>,
        plan: Plan,
        follow: &Follow,
    ) -> Result<(Easy2<Collector>, Duration, crate::response::Hops), Error> {
        let (url, method) = transfer::hop_of(easy);
        let mut hops = transfer::hops_of(easy);
        let (target, mut options, after) = match plan {
            Plan::Redirect { location, status } => {
                let target = crate::url_cache::resolve_location(url, &location)?;
                let origin = Origin::of(&target);
                let scheme = origin.as_ref().map_or("", |o| o.scheme());
                if scheme != "http" && scheme != "https" {
                    return Err(Error::new(
                        nethttp_result::UnsupportedScheme,
                        format!(
                            "a redirect to {:?} was not followed: only http and https are",
                            crate::redact::redact_url_str(&target)
                        ),
                    ));
                }
                let same_origin = origin.is_some() && origin == follow.origin;
                let options =
                    crate::follow::next_hop_options(&follow.options, method, status, same_origin);
                if matches!(
                    options.body_stream(),
                    Some(crate::stream::BodyStream::Reader { .. })
                ) {
                    return Err(Error::new(
                        nethttp_result::RequestFailed,
                        format!(
                            "a {status} redirect asks for the body again, and a body from a read callback cannot be sent twice"
                        ),
                    ));
                }
                hops.redirects += 1;
                (target, options, Duration::ZERO)
            }
            Plan::Retry(after) => {
                hops.retries += 1;
                (url.to_string(), follow.options.clone(), after)
            }
            Plan::TooManyRedirects => unreachable!("delivered, never followed"),
        };
        if let Some(timeout) = options.timeout() {
            // The request's timeout covers all its hops.
            let left = timeout
                .checked_sub(follow.started.elapsed() + after)
                .filter(|left| !left.is_zero())
                .ok_or_else(|| {
                    Error::new(
                        nethttp_result::Timeout,
                        "the request's timeout ran out before its next redirect or retry",
                    )
                })?;
            options.set_timeout(Some(left));
        }
        let mut next = transfer::prepare(&target, &options, &self.resources())?;
        transfer::set_request(&mut next, request.id);
        Ok((next, after, hops))
    }

    /// Hands a response to its callback: now on this (engine) thread, or
    /// through the dispatch queue, behind the chunks of a streamed body.
    fn deliver(
        self: &Arc<Self>,
        request: Arc<Request>,
        response: Box<Response>,
        direct: bool,
        stream: Option<Arc<Stream>>,
    ) {
        match (&self.delivery, stream) {
            (Delivery::Queued(queue), Some(stream)) if !direct => {
                let response = if stream.queue.is_aborted() {
                    aborted(&response)
                } else {
                    response
                };
                match stream.queue.finish(response) {
                    Ok(response) => queue.push(Completion::Done { request, response }),
                    Err(true) => queue.push(Completion::Chunks { request, stream }),
                    Err(false) => {}
                }
            }
            (Delivery::Queued(queue), None) if !direct => {
                queue.push(Completion::Done { request, response })
            }
            (Delivery::Queued(_), _) => self.run_callback(&request, response, false),
            (Delivery::Inline, _) => self.run_callback(&request, response, true),
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
        let (ended, unkept) = request.end_callback_returning(keep, response);
        if let Some(response) = unkept {
            self.bodies.give(response.into_body());
        }
        if ended == Ended::Over {
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
        while ran < limit {
            match queue.pop() {
                None => break,
                Some(Completion::Done { request, response }) => {
                    if !request.is_settled() {
                        ran += 1;
                    }
                    self.run_callback(&request, response, true);
                }
                Some(Completion::Chunks { request, stream }) => {
                    ran += self.deliver_chunks(queue, request, stream, limit - ran);
                }
            }
        }
        ran
    }

    /// Runs the data callback on up to `budget` queued chunks of a streamed
    /// body, then its final callback once every chunk is delivered. Returns
    /// the callbacks run; when the budget runs out, the stream goes back in
    /// the queue.
    fn deliver_chunks(
        self: &Arc<Self>,
        queue: &DispatchQueue<Completion>,
        request: Arc<Request>,
        stream: Arc<Stream>,
        budget: usize,
    ) -> usize {
        let mut ran = 0;
        loop {
            if ran == budget {
                queue.push(Completion::Chunks { request, stream });
                return ran;
            }
            match stream.queue.next() {
                Next::Idle => return ran,
                Next::Last(response) => {
                    if !request.is_settled() {
                        ran += 1;
                    }
                    self.run_callback(&request, response, true);
                    return ran;
                }
                Next::Chunk {
                    data,
                    head,
                    resume_transfer,
                } => {
                    if resume_transfer {
                        self.engine.resume(request.id.0);
                    }
                    ran += 1;
                    let verdict = self.run_data_callback(&request, &stream.sink, &data, &head);
                    match verdict {
                        ChunkVerdict::Continue => {}
                        ChunkVerdict::Pause => stream.queue.pause(),
                        ChunkVerdict::Abort => {
                            let (resume_transfer, last) = stream.queue.abort();
                            if resume_transfer {
                                // The paused transfer must run to see the abort.
                                self.engine.resume(request.id.0);
                            }
                            if let Some(last) = last {
                                self.run_callback(&request, aborted(&last), true);
                            }
                            return ran;
                        }
                    }
                }
            }
        }
    }

    /// Runs the data callback of a request on this thread, unless the
    /// request was destroyed; `Abort` then, or when the request was
    /// destroyed from inside the callback.
    fn run_data_callback(
        self: &Arc<Self>,
        request: &Request,
        sink: &DataSink,
        data: &[u8],
        head: &Response,
    ) -> ChunkVerdict {
        if !request.begin_chunk() {
            return ChunkVerdict::Abort;
        }
        let running = Running::enter(self);
        // A panic in a Rust data callback aborts this transfer only.
        let verdict = catch_unwind(AssertUnwindSafe(|| {
            let _host = crate::panic_quiet::leave_nethttp_code();
            (sink.0)(data, head)
        }))
        .unwrap_or(ChunkVerdict::Abort);
        drop(running);
        if request.end_chunk() == Ended::Over {
            handles::remove(request.id);
            return ChunkVerdict::Abort;
        }
        verdict
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
        self.bodies.clear();
    }
}

/// What the engine runs for a request: when the transfer leaves the engine,
/// the response is built and delivered.
struct RequestJob {
    shared: Arc<Shared>,
    request: Arc<Request>,
    /// A `fetch`: completes on the engine thread, never through a dispatch queue.
    direct: bool,
    /// For requests that may follow redirects or retry.
    follow: Option<Box<Follow>>,
    /// The body queue of a request streamed in dispatch mode.
    stream: Option<Arc<Stream>>,
}

/// What the next hop of a request is made from.
struct Follow {
    /// The request's options (merged over the client's defaults).
    options: Options,
    /// The first URL's origin: credentials are not sent to another.
    origin: Option<Origin>,
    /// When the request was made: its timeout covers every hop.
    started: Instant,
}

impl Done<Collector> for RequestJob {
    fn done(
        self,
        easy: Option<Easy2<Collector>>,
        outcome: Outcome,
    ) -> Option<Again<Collector, RequestJob>> {
        let RequestJob {
            shared,
            request,
            direct,
            follow,
            stream,
        } = self;
        shared.complete(request, easy, outcome, direct, follow, stream)
    }
}

/// The final response of a request whose data callback aborted it.
fn aborted(response: &Response) -> Box<Response> {
    let failure = Failure {
        code: nethttp_result::Aborted,
        detail: c"the data callback aborted the transfer".to_owned(),
    };
    Box::new(
        Response::failed(response.request(), failure, response.url().to_owned())
            .with_method(response.method().to_owned().into())
            .with_timings(response.timings())
            .with_hops(response.hops()),
    )
}

/// Chunks of a streamed body, to the data callback on the engine thread.
struct InlineChunks {
    shared: Arc<Shared>,
    request: Arc<Request>,
    sink: DataSink,
}

impl ChunkTarget for InlineChunks {
    fn chunk(&mut self, data: &[u8], head: &Arc<Response>) -> ChunkVerdict {
        self.shared
            .run_data_callback(&self.request, &self.sink, data, head)
    }
}

/// Chunks of a streamed body, to the dispatch queue (bounded: see
/// `stream_queue`).
struct QueuedChunks {
    shared: Arc<Shared>,
    request: Arc<Request>,
    stream: Arc<Stream>,
}

impl ChunkTarget for QueuedChunks {
    fn chunk(&mut self, data: &[u8], head: &Arc<Response>) -> ChunkVerdict {
        if self.request.is_settled() {
            return ChunkVerdict::Abort; // destroyed: nobody takes the chunks
        }
        let (verdict, notify) = self.stream.queue.push(data, head);
        if let (true, Delivery::Queued(queue)) = (notify, &self.shared.delivery) {
            queue.push(Completion::Chunks {
                request: Arc::clone(&self.request),
                stream: Arc::clone(&self.stream),
            });
        }
        verdict
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

/// Lets a paused streamed request go on. No-op on a stale handle.
pub fn resume(id: RequestId) {
    if let Some(request) = handles::get(id) {
        request.resume();
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
