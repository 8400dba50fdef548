//! Where completions are delivered: inline on the engine thread, or queued
//! for the caller's own thread behind an eventfd (dispatch mode).
//!
//! The queue keeps one invariant that callers rely on in `poll()` and
//! level-triggered `epoll`: the eventfd is readable exactly while the queue
//! holds something. Both the queue and the eventfd's counter change under
//! the same mutex: a push onto an empty queue writes 1, a pop that empties
//! the queue reads the counter back to 0.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

use crate::sync::lock;

pub(crate) struct DispatchQueue<T> {
    fd: OwnedFd,
    items: Mutex<VecDeque<T>>,
}

impl<T> DispatchQueue<T> {
    pub(crate) fn new() -> std::io::Result<DispatchQueue<T>> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DispatchQueue {
            // SAFETY: `fd` is a new descriptor that nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            items: Mutex::new(VecDeque::new()),
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub(crate) fn push(&self, item: T) {
        let mut items = lock(&self.items);
        if items.is_empty() {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd. It
            // cannot fail: the counter is 0 here (reset when emptied).
            unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
        }
        items.push_back(item);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        let mut items = lock(&self.items);
        let item = items.pop_front()?;
        if items.is_empty() {
            let mut counter: u64 = 0;
            // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
            unsafe { libc::read(self.fd(), (&mut counter as *mut u64).cast(), 8) };
        }
        Some(item)
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.items).len()
    }

    /// Waits until something is queued or `timeout` passed.
    pub(crate) fn wait(&self, timeout: Duration) {
        let mut pollfd = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pollfd, 1, ms) };
    }

    /// Takes everything queued (to drop it).
    pub(crate) fn drain(&self) -> Vec<T> {
        let mut items = lock(&self.items);
        if !items.is_empty() {
            let mut counter: u64 = 0;
            // SAFETY: as in `pop`.
            unsafe { libc::read(self.fd(), (&mut counter as *mut u64).cast(), 8) };
        }
        items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: RawFd) -> bool {
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        unsafe { libc::poll(&mut pollfd, 1, 0) == 1 }
    }

    #[test]
    fn the_fd_is_readable_exactly_while_something_is_queued() {
        let queue = DispatchQueue::new().unwrap();
        assert!(!readable(queue.fd()));
        queue.push(1);
        queue.push(2);
        assert!(readable(queue.fd()));
        assert_eq!(queue.pop(), Some(1));
        assert!(readable(queue.fd()));
        assert_eq!(queue.pop(), Some(2));
        assert!(!readable(queue.fd()));
        assert_eq!(queue.pop(), None);
        queue.push(3);
        assert!(readable(queue.fd()));
        assert_eq!(queue.drain(), vec![3]);
        assert!(!readable(queue.fd()));
    }
}
