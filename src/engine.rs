//! The engine: one thread that owns the libcurl multi handle and runs every
//! transfer and every callback.
//!
//! Callers never touch the multi handle. They send commands over a channel and
//! wake the thread with libcurl's waker; the thread drains the channel on
//! every pass, so a request made from inside a callback is simply picked up
//! on the next pass. The multi handle is created on the engine thread and
//! dropped there, after every easy handle.

use std::cell::RefCell;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use curl::easy::Easy2;
use curl::multi::{Easy2Handle, Multi, MultiWaker};

use crate::error::{nethttp_result, Error};
use crate::id_map::IdMap;
use crate::request::{self, Entry, RequestId};
use crate::response::{Failure, Response};
use crate::transfer::{self, Collector};

/// Upper bound of one wait in `Multi::poll`: some libcurl versions can lose a
/// wake-up that arrives during `perform`, and this bounds the delay it causes.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// Idle connections libcurl keeps open for reuse.
const MAX_IDLE_CONNECTIONS: usize = 1024;

enum Command {
    Start(Easy2<Collector>, Arc<Entry>),
    Cancel(RequestId),
    Shutdown,
}

/// How other threads reach one engine. Requests keep a link to the engine
/// that runs them, so a cancel always goes to the right one.
pub(crate) struct EngineLink {
    commands: Sender<Command>,
    waker: MultiWaker,
    /// True while the engine is (about to be) blocked in `Multi::poll`. A
    /// busy engine drains the channel anyway, so senders skip the wake-up
    /// system call then.
    waiting: AtomicBool,
}

impl EngineLink {
    fn send(&self, command: Command) -> Result<(), Command> {
        self.commands.send(command).map_err(|e| e.into_inner())?;
        // Pairs with the fence in `wait`: either the engine sees the command
        // before it blocks, or this sees `waiting` and wakes it.
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) {
            // A failed wake-up is covered by MAX_WAIT.
            let _ = self.waker.wakeup();
        }
        Ok(())
    }

    /// Blocks in `Multi::poll` unless a command is already queued.
    fn wait(&self, multi: &Multi, inbox: &Receiver<Command>) {
        self.waiting.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if inbox.is_empty() {
            let wait = match multi.get_timeout() {
                Ok(Some(timeout)) => timeout.min(MAX_WAIT),
                _ => MAX_WAIT,
            };
            let _ = multi.poll(&mut [], wait);
        }
        self.waiting.store(false, Ordering::Relaxed);
    }

    /// Hands a prepared transfer to the engine.
    pub(crate) fn start(&self, easy: Easy2<Collector>, entry: Arc<Entry>) -> Result<(), Error> {
        self.send(Command::Start(easy, entry)).map_err(|_| {
            Error::new(
                nethttp_result::EngineUnavailable,
                "the engine is shutting down",
            )
        })
    }

    /// Asks the engine to abort a transfer; harmless if it has finished.
    pub(crate) fn cancel(&self, id: RequestId) {
        let _ = self.send(Command::Cancel(id));
    }
}

struct Engine {
    link: Arc<EngineLink>,
    thread: JoinHandle<()>,
}

static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

thread_local! {
    /// Set on the engine thread only: its own link, so requests made from a
    /// callback reach the engine that runs it, even while it shuts down.
    static OWN_LINK: RefCell<Option<Arc<EngineLink>>> = const { RefCell::new(None) };
}

/// True on an engine thread, i.e. inside a nethttp callback.
pub(crate) fn on_engine_thread() -> bool {
    OWN_LINK.try_with(|l| l.borrow().is_some()).unwrap_or(false)
}

/// The running engine, started on first use.
pub(crate) fn link() -> Result<Arc<EngineLink>, Error> {
    if let Some(own) = OWN_LINK.try_with(|l| l.borrow().clone()).ok().flatten() {
        return Ok(own);
    }
    let mut engine = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(engine) = engine.as_ref() {
        return Ok(Arc::clone(&engine.link));
    }
    let started = start_engine()?;
    let link = Arc::clone(&started.link);
    *engine = Some(started);
    Ok(link)
}

fn start_engine() -> Result<Engine, Error> {
    let unavailable = |what: &str| Error::new(nethttp_result::EngineUnavailable, what.to_string());
    let (commands, inbox) = crossbeam_channel::unbounded();
    // The engine thread creates the multi handle and hands back its link. A
    // plain mutex and condvar: a blocking channel receive would leave a
    // per-thread context behind in the caller's thread.
    let handoff: Arc<(Mutex<Option<Arc<EngineLink>>>, Condvar)> = Arc::default();
    let engine_handoff = Arc::clone(&handoff);
    let thread = std::thread::Builder::new()
        .name("nethttp-engine".into())
        .spawn(move || {
            let mut multi = Multi::new();
            // libcurl's default keeps 4 idle connections per transfer added
            // right now; while requests ramp up that closes warm connections.
            let _ = multi.set_max_connects(MAX_IDLE_CONNECTIONS);
            let link = Arc::new(EngineLink {
                commands,
                waker: multi.waker(),
                waiting: AtomicBool::new(false),
            });
            OWN_LINK.with(|l| *l.borrow_mut() = Some(Arc::clone(&link)));
            *engine_handoff.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&link));
            engine_handoff.1.notify_all();
            drop(engine_handoff);
            run(&multi, &inbox, &link);
            OWN_LINK.with(|l| l.borrow_mut().take());
            drop(multi);
        })
        .map_err(|e| unavailable(&format!("could not start the engine thread: {e}")))?;
    let (slot, ready) = &*handoff;
    let mut link = slot.lock().unwrap_or_else(|p| p.into_inner());
    while link.is_none() && !thread.is_finished() {
        link = ready
            .wait_timeout(link, Duration::from_millis(50))
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    match link.take() {
        Some(link) => Ok(Engine { link, thread }),
        None => {
            drop(link);
            let _ = thread.join();
            Err(unavailable("the engine thread failed while starting"))
        }
    }
}

/// Stops the engine: transfers are aborted, pending callbacks dropped uncalled,
/// kept responses freed, the thread joined. The next request starts a new engine.
pub fn shutdown() -> Result<(), Error> {
    if on_engine_thread() {
        return Err(Error::new(
            nethttp_result::CalledFromCallback,
            "nethttp_shutdown() cannot be called from inside a callback",
        ));
    }
    let engine = ENGINE.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(engine) = engine else { return Ok(()) };
    let _ = engine.link.send(Command::Shutdown);
    let joined = engine.thread.join();
    request::forget_engine(&engine.link);
    crate::pool::clear();
    joined.map_err(|_| Error::new(nethttp_result::Internal, "the engine thread panicked"))
}

struct Active {
    handle: Easy2Handle<Collector>,
    entry: Arc<Entry>,
}

/// The engine loop: drain commands, let libcurl work, deliver what finished, wait.
fn run(multi: &Multi, inbox: &Receiver<Command>, link: &EngineLink) {
    let mut active: IdMap<usize, Active> = IdMap::default();
    let mut finished: Vec<(usize, Result<(), curl::Error>)> = Vec::new();
    loop {
        let pass = catch_unwind(AssertUnwindSafe(|| {
            one_pass(multi, inbox, link, &mut active, &mut finished)
        }));
        match pass {
            Ok(true) => {}
            Ok(false) => break,
            // A bug in one pass must not stop every other transfer, nor
            // turn the loop into a busy one if it repeats.
            Err(_) => {
                finished.clear();
                link.wait(multi, inbox);
            }
        }
    }
    for (_, transfer) in active.drain() {
        let _ = multi.remove2(transfer.handle);
    }
    while inbox.try_recv().is_ok() {}
}

/// One pass of the loop; false when the engine must stop.
fn one_pass(
    multi: &Multi,
    inbox: &Receiver<Command>,
    link: &EngineLink,
    active: &mut IdMap<usize, Active>,
    finished: &mut Vec<(usize, Result<(), curl::Error>)>,
) -> bool {
    loop {
        match inbox.try_recv() {
            Ok(Command::Start(easy, entry)) => start(multi, active, easy, entry),
            Ok(Command::Cancel(id)) => {
                if let Some(transfer) = active.remove(&(id.0 as usize)) {
                    let _ = multi.remove2(transfer.handle);
                }
            }
            Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => return false,
            Err(TryRecvError::Empty) => break,
        }
    }
    let _ = multi.perform();
    multi.messages(|message| {
        let Ok(token) = message.token() else { return };
        if let Some(transfer) = active.get(&token) {
            if let Some(result) = message.result_for2(&transfer.handle) {
                finished.push((token, result));
            }
        }
    });
    for (token, result) in finished.drain(..) {
        let Some(transfer) = active.remove(&token) else {
            continue;
        };
        let Ok(easy) = multi.remove2(transfer.handle) else {
            continue;
        };
        let response = transfer::finish(easy, result, transfer.entry.id);
        request::deliver(&transfer.entry, response);
    }
    link.wait(multi, inbox);
    true
}

fn start(
    multi: &Multi,
    active: &mut IdMap<usize, Active>,
    easy: Easy2<Collector>,
    entry: Arc<Entry>,
) {
    if request::is_finished(&entry) {
        return; // destroyed before it reached the engine
    }
    let token = entry.id.0 as usize;
    let added = match multi.add2(easy) {
        Ok(mut handle) => match handle.set_token(token) {
            Ok(()) => Ok(handle),
            Err(error) => {
                let _ = multi.remove2(handle);
                Err(error.to_string())
            }
        },
        Err(error) => Err(error.to_string()),
    };
    match added {
        Ok(handle) => {
            active.insert(token, Active { handle, entry });
        }
        Err(detail) => {
            let failure = Failure {
                code: nethttp_result::Internal,
                detail: CString::new(format!("libcurl could not start the transfer: {detail}"))
                    .unwrap_or_default(),
            };
            request::deliver(
                &entry,
                Box::new(Response::failed(
                    entry.id,
                    failure,
                    Default::default(),
                    CString::default(),
                )),
            );
        }
    }
}
