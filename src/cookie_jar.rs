//! A client's cookie jar: libcurl's cookie engine in a share handle of the
//! client's own, so that every transfer of that client (and only of that
//! client) stores the cookies its responses set and sends those that match.
//! In memory only: nothing is read from or written to a file.
//!
//! Handles are set up on callers' threads while the engine thread runs
//! transfers that use the jar, so the share gets lock functions: one mutex
//! per kind of data libcurl asks to lock.

use std::ffi::c_void;

use crate::error::{nethttp_result, Error};

/// libcurl's lock data kinds run from 0 (NONE) to 7 (PSL) in libcurl 8;
/// room for more.
const LOCK_KINDS: usize = 10;

struct Locks {
    mutexes: [libc::pthread_mutex_t; LOCK_KINDS],
}

extern "C" fn lock(
    _handle: *mut curl_sys::CURL,
    data: curl_sys::curl_lock_data,
    _access: curl_sys::curl_lock_access,
    userptr: *mut c_void,
) {
    let locks = userptr.cast::<Locks>();
    let kind = (data as usize).min(LOCK_KINDS - 1);
    // SAFETY: `userptr` is the boxed `Locks` of a live jar; its mutexes were
    // initialised and never move (boxed).
    unsafe { libc::pthread_mutex_lock(std::ptr::addr_of_mut!((*locks).mutexes[kind])) };
}

extern "C" fn unlock(
    _handle: *mut curl_sys::CURL,
    data: curl_sys::curl_lock_data,
    userptr: *mut c_void,
) {
    let locks = userptr.cast::<Locks>();
    let kind = (data as usize).min(LOCK_KINDS - 1);
    // SAFETY: as in `lock`; libcurl unlocks only what it locked.
    unsafe { libc::pthread_mutex_unlock(std::ptr::addr_of_mut!((*locks).mutexes[kind])) };
}

/// One client's cookies.
pub(crate) struct CookieJar {
    share: *mut curl_sys::CURLSH,
    locks: Box<Locks>,
}

// SAFETY: every use of the share from any thread goes through libcurl, which
// takes the locks above; the pointer itself is only read.
unsafe impl Send for CookieJar {}
// SAFETY: as above.
unsafe impl Sync for CookieJar {}

impl CookieJar {
    pub(crate) fn new() -> Result<CookieJar, Error> {
        let mut locks = Box::new(Locks {
            mutexes: [libc::PTHREAD_MUTEX_INITIALIZER; LOCK_KINDS],
        });
        // SAFETY: plain constructor; NULL is checked.
        let share = unsafe { curl_sys::curl_share_init() };
        if share.is_null() {
            return Err(Error::new(
                nethttp_result::OutOfMemory,
                "libcurl could not make a share handle for the cookie jar",
            ));
        }
        let lock_fn: curl_sys::curl_lock_function = lock;
        let unlock_fn: curl_sys::curl_unlock_function = unlock;
        let userdata: *mut Locks = &mut *locks;
        // SAFETY: a live share; the functions and the boxed locks outlive it
        // (the share is cleaned up first, in Drop).
        let ok = unsafe {
            curl_sys::curl_share_setopt(share, curl_sys::CURLSHOPT_LOCKFUNC, lock_fn) == 0
                && curl_sys::curl_share_setopt(share, curl_sys::CURLSHOPT_UNLOCKFUNC, unlock_fn)
                    == 0
                && curl_sys::curl_share_setopt(
                    share,
                    curl_sys::CURLSHOPT_USERDATA,
                    userdata.cast::<c_void>(),
                ) == 0
                && curl_sys::curl_share_setopt(
                    share,
                    curl_sys::CURLSHOPT_SHARE,
                    curl_sys::CURL_LOCK_DATA_COOKIE,
                ) == 0
        };
        let jar = CookieJar { share, locks };
        if !ok {
            return Err(Error::new(
                nethttp_result::Internal,
                "libcurl refused to share cookies between transfers",
            ));
        }
        Ok(jar)
    }

    /// Makes a transfer use the jar: its cookie engine on (no file read),
    /// its cookies those of the jar.
    pub(crate) fn attach(&self, easy: *mut curl_sys::CURL) -> Result<(), curl_sys::CURLcode> {
        // SAFETY: a live easy handle; "" turns the cookie engine on without
        // reading a file (libcurl copies the string); the share outlives
        // every handle of the client (see `Drop`).
        let code =
            unsafe { curl_sys::curl_easy_setopt(easy, curl_sys::CURLOPT_COOKIEFILE, c"".as_ptr()) };
        if code != curl_sys::CURLE_OK {
            return Err(code);
        }
        // SAFETY: as above.
        let code = unsafe { curl_sys::curl_easy_setopt(easy, curl_sys::CURLOPT_SHARE, self.share) };
        if code != curl_sys::CURLE_OK {
            return Err(code);
        }
        Ok(())
    }
}

impl Drop for CookieJar {
    fn drop(&mut self) {
        // SAFETY: the client's handles are gone (they are dropped before
        // the jar: see `client::Shared`); a share still in use is refused by
        // libcurl, and leaked rather than freed under a handle.
        let code = unsafe { curl_sys::curl_share_cleanup(self.share) };
        if code != 0 {
            std::mem::forget(std::mem::replace(
                &mut self.locks,
                Box::new(Locks {
                    mutexes: [libc::PTHREAD_MUTEX_INITIALIZER; LOCK_KINDS],
                }),
            ));
        }
    }
}
