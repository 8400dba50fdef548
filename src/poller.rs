//! The engine's wait: an epoll set of the sockets libcurl asks to watch, and
//! an eventfd that other threads write to wake the engine.
//!
//! With `curl_multi_socket_action`, libcurl tells the engine which sockets
//! to watch (its socket callback) and when its next timeout is due; the
//! engine waits in `epoll_wait` and hands libcurl only the sockets that are
//! ready. A perform/poll loop instead makes libcurl look at every socket of
//! every transfer on each pass, which costs dearly with many idle transfers
//! (long polls, event streams).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// What a socket is watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interest {
    pub read: bool,
    pub write: bool,
}

/// A socket that is ready.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    pub fd: RawFd,
    pub read: bool,
    pub write: bool,
    pub error: bool,
}

pub(crate) struct Poller {
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

fn epoll_flags(interest: Interest) -> u32 {
    let mut flags = 0;
    if interest.read {
        flags |= libc::EPOLLIN as u32;
    }
    if interest.write {
        flags |= libc::EPOLLOUT as u32;
    }
    flags
}

/// The descriptors in an epoll set and what each is watched for (`None`:
/// in the set, but watched for nothing). A socket libcurl stops watching
/// between two transfers on a kept-alive connection stays in the set with no
/// interest, so that watching it again is one system call, not three.
#[derive(Default)]
pub(crate) struct Watched {
    sockets: std::collections::HashMap<RawFd, Option<Interest>>,
}

impl Watched {
    /// Watches `fd` in the epoll set `epoll` for `interest`, or for nothing.
    pub(crate) fn watch(&mut self, epoll: RawFd, fd: RawFd, interest: Option<Interest>) {
        let mut event = libc::epoll_event {
            events: interest.map_or(0, epoll_flags),
            u64: fd as u64,
        };
        // SAFETY: plain system calls with a live event. MOD fails with
        // ENOENT for a descriptor closed and reused since: ADD it then.
        unsafe {
            let known = self.sockets.contains_key(&fd);
            if !known || libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, fd, &mut event) != 0 {
                libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event);
            }
        }
        self.sockets.insert(fd, interest);
    }

    /// True when libcurl watches `fd`. An event on a socket it does not
    /// watch (an error or hang-up on an idle connection, which epoll reports
    /// whatever the interest) removes the socket from the set, so that it
    /// cannot wake the engine again and again.
    pub(crate) fn wanted(&mut self, epoll: RawFd, fd: RawFd) -> bool {
        if let Some(Some(_)) = self.sockets.get(&fd) {
            return true;
        }
        self.sockets.remove(&fd);
        // SAFETY: plain system call; a descriptor not in the set is ENOENT.
        unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
        false
    }
}

/// Watches `fd` in the epoll set `epoll` for `interest` (for the engine's own
/// descriptors, which stay for its life).
pub(crate) fn watch(epoll: RawFd, fd: RawFd, interest: Interest) {
    let mut event = libc::epoll_event {
        events: epoll_flags(interest),
        u64: fd as u64,
    };
    // SAFETY: plain system call with a live event.
    unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) };
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: plain system call; the result is checked.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        Ok(Poller {
            // SAFETY: a new descriptor nothing else owns.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            events: Vec::with_capacity(256),
        })
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Waits up to `timeout` (None: until something happens) and returns
    /// the ready descriptors.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> &[libc::epoll_event] {
        let ms = match timeout {
            None => -1,
            // Round up: waking a little early would only spin.
            Some(t) => t.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int,
        };
        self.events.clear();
        // SAFETY: the buffer has room for `capacity` events; the kernel
        // writes at most that many and returns how many.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.capacity() as libc::c_int,
                ms,
            )
        };
        if n > 0 {
            // SAFETY: the kernel initialized the first n events.
            unsafe { self.events.set_len(n as usize) };
        }
        &self.events
    }
}

/// What an epoll event says about its descriptor.
pub(crate) fn ready(event: &libc::epoll_event) -> Ready {
    let flags = event.events;
    let error = flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
    Ready {
        fd: event.u64 as RawFd,
        read: flags & libc::EPOLLIN as u32 != 0 || error,
        write: flags & libc::EPOLLOUT as u32 != 0,
        error,
    }
}

/// An eventfd that wakes a poller from other threads.
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: plain system call; the result is checked.
        let fd = check(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        Ok(Waker {
            // SAFETY: a new descriptor nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64; a full counter (EAGAIN)
        // means a wake-up is pending anyway.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the counter after a wake-up.
    pub(crate) fn clear(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from a non-blocking eventfd.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_and_a_ready_socket_are_seen() {
        let mut poller = Poller::new().unwrap();
        let waker = Waker::new().unwrap();
        let mut watched = Watched::default();
        watched.watch(
            poller.raw(),
            waker.raw(),
            Some(Interest {
                read: true,
                write: false,
            }),
        );
        assert!(poller.wait(Some(Duration::ZERO)).is_empty());
        waker.wake();
        let events: Vec<Ready> = poller
            .wait(Some(Duration::from_secs(5)))
            .iter()
            .map(ready)
            .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].fd, waker.raw());
        assert!(events[0].read);
        waker.clear();
        assert!(poller.wait(Some(Duration::ZERO)).is_empty());
        // Watching again changes the interest; None watches for nothing.
        watched.watch(
            poller.raw(),
            waker.raw(),
            Some(Interest {
                read: false,
                write: true,
            }),
        );
        assert!(poller
            .wait(Some(Duration::ZERO))
            .iter()
            .map(ready)
            .all(|r| r.write));
        assert!(watched.wanted(poller.raw(), waker.raw()));
        watched.watch(poller.raw(), waker.raw(), None);
        assert!(poller.wait(Some(Duration::ZERO)).is_empty());
        waker.wake();
        assert!(
            poller.wait(Some(Duration::ZERO)).is_empty(),
            "no interest, no event"
        );
        assert!(
            !watched.wanted(poller.raw(), waker.raw()),
            "unwatched: dropped"
        );
    }
}
