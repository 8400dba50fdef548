//! Keeps panics inside nethttp off the host program's stderr.
//!
//! nethttp catches its panics (`ffi::guard`, the engine loop, the libcurl
//! callbacks) and reports them as `NETHTTP_RESULT_INTERNAL`, but Rust's panic
//! hook prints a message (and, with `RUST_BACKTRACE=1`, a backtrace) before
//! unwinding starts: a C program would see Rust's text on its stderr. So,
//! once, at the first entry into nethttp code, a hook is installed that is
//! silent for panics on a thread that is running nethttp code (a per-thread
//! depth, raised by `enter_nethttp_code()`) and hands every other panic to
//! the hook that was installed before it. A host written in Rust that
//! installs its own hook later replaces this one; nethttp's panics then
//! reach that hook.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Once;

thread_local! {
    /// How many `enter_nethttp_code()` guards are alive on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

static INSTALL: Once = Once::new();

/// Whether the current thread is running nethttp code.
fn in_nethttp_code() -> bool {
    // During thread-local destruction: not ours to silence.
    DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
}

/// Installs the quiet hook, once per process.
fn install() {
    // `set_hook` panics when called on a panicking thread; the next entry
    // installs it instead.
    if std::thread::panicking() {
        return;
    }
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !in_nethttp_code() {
                previous(info);
            }
        }));
    });
}

/// While alive, panics on this thread print nothing. Not `Send`: it belongs
/// to the thread that made it.
#[must_use = "panics are quiet only while the guard lives"]
pub(crate) struct InNethttpCode {
    _not_send: PhantomData<*const ()>,
}

/// Marks the current thread as running nethttp code until the returned guard
/// is dropped (guards nest). Installs the quiet hook on first use. Called by
/// `ffi::guard` for every exported function; the engine thread holds one
/// while it runs.
pub(crate) fn enter_nethttp_code() -> InNethttpCode {
    install();
    let _ = DEPTH.try_with(|depth| depth.set(depth.get() + 1));
    InNethttpCode {
        _not_send: PhantomData,
    }
}

impl Drop for InNethttpCode {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// While alive, the current thread counts as running the host's code again
/// (its panics reach the host's hook), e.g. around a call of the user's
/// callback from the engine thread. Restores the depth when dropped.
#[must_use = "the host's hook is used only while the guard lives"]
#[allow(dead_code)] // for the engine's callback invocation
pub(crate) struct InHostCode {
    saved: usize,
    _not_send: PhantomData<*const ()>,
}

#[allow(dead_code)] // for the engine's callback invocation
pub(crate) fn leave_nethttp_code() -> InHostCode {
    let saved = DEPTH.try_with(|depth| depth.replace(0)).unwrap_or(0);
    InHostCode {
        saved,
        _not_send: PhantomData,
    }
}

impl Drop for InHostCode {
    fn drop(&mut self) {
        let saved = self.saved;
        let _ = DEPTH.try_with(|depth| depth.set(saved));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_nests_and_host_code_resets_it() {
        assert!(!in_nethttp_code());
        {
            let _outer = enter_nethttp_code();
            {
                let _inner = enter_nethttp_code();
                assert!(in_nethttp_code());
                {
                    let _host = leave_nethttp_code();
                    assert!(!in_nethttp_code());
                }
                assert!(in_nethttp_code());
            }
            assert!(in_nethttp_code());
        }
        assert!(!in_nethttp_code());
    }
}
