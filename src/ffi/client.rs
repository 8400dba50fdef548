//! `struct nethttp_client` and `struct nethttp_client_config`: clients with
//! their own defaults, limits and delivery mode; `nethttp_fetch`.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::time::Duration;

use super::request::{start_from_c, url_arg};
use super::types::{
    client_from_c, client_into_c, client_ref, config_free, config_into_c, config_mut, config_ref,
    nethttp_callback, nethttp_client, nethttp_client_config, nethttp_observer, nethttp_options,
    nethttp_request, nethttp_response, observer_from_c, options_ref, response_into_c,
};
use super::{guard, guard_result};
use crate::client::{Client, ClientConfig, MIN_STACK_SIZE};
use crate::error::{nethttp_result, Error};

/// Creates a client configuration with the defaults: no default options, no
/// connection limits, callbacks on the engine thread, no observer, an 8 MiB
/// engine stack. The caller owns it and frees it with
/// `nethttp_client_config_free()`. Returns NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn nethttp_client_config_new() -> *mut nethttp_client_config {
    guard(ptr::null_mut(), || {
        Ok(config_into_c(ClientConfig::default()))
    })
}

/// Frees a client configuration. NULL is allowed and does nothing. Clients
/// made with it are not affected.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_free(config: *mut nethttp_client_config) {
    guard((), || {
        config_free(config);
        Ok(())
    })
}

/// Sets the options every request of the client starts from (copied now;
/// `defaults` may be freed right after). A request's own options win field by
/// field: a field the request sets (even to "none", such as a timeout of 0 or
/// a NULL method) replaces the default, the others come from `defaults`.
/// Headers merge by name, compared case-insensitively: a request's header
/// replaces the default of the same name (a NULL value removes it), other
/// default headers are sent too. NULL `defaults` clears them.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT` if
/// `config` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_defaults(
    config: *mut nethttp_client_config,
    defaults: *const nethttp_options,
) -> nethttp_result {
    guard_result(|| {
        let config = config_mut(config)?;
        config.defaults = options_ref(defaults).cloned().unwrap_or_default();
        Ok(())
    })
}

/// Limits the connections the client has open at once: `total` over all
/// hosts, `per_host` to one host (host and port); 0 means no limit (the
/// default for both). Requests over a limit wait in a queue until
/// a connection is free; they are not failed. Time spent waiting counts
/// towards a request's total timeout. Idle connections kept for reuse count
/// towards neither limit. Besides those in use, a client keeps up to 1,024
/// idle connections open for reuse, however many transfers are in flight
/// (libcurl closes one that was idle longer than 118 s).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_max_connections(
    config: *mut nethttp_client_config,
    total: usize,
    per_host: usize,
) -> nethttp_result {
    guard_result(|| {
        let config = config_mut(config)?;
        config.max_total_connections = total;
        config.max_host_connections = per_host;
        Ok(())
    })
}

/// With `on` non-zero, the client runs in dispatch mode: callbacks (and
/// observer calls) run only inside `nethttp_client_dispatch()`, on the
/// thread that calls it, never on the engine thread. `nethttp_client_fd()`
/// then gives a file descriptor that is readable exactly while callbacks are
/// queued, for the program's own `poll()`, `epoll` (level-triggered), libuv
/// or GLib loop. With `on` 0 (the default), callbacks run on the engine
/// thread as requests finish.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_dispatch(
    config: *mut nethttp_client_config,
    on: c_int,
) -> nethttp_result {
    guard_result(|| {
        config_mut(config)?.dispatch = on != 0;
        Ok(())
    })
}

/// Sets an observer: called once per finished request of the client
/// (success, failure or cancel), just before its callback, in the same
/// context (see `nethttp_observer`). For logging and metrics. `userdata` is
/// passed to it untouched and must stay valid until the client is freed.
/// NULL `observer` removes it.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT` if
/// `config` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_observer(
    config: *mut nethttp_client_config,
    observer: nethttp_observer,
    userdata: *mut c_void,
) -> nethttp_result {
    guard_result(|| {
        let config = config_mut(config)?;
        config.observer = observer.map(|observer| observer_from_c(observer, userdata));
        Ok(())
    })
}

/// Sets the stack size of the client's engine thread, where callbacks run in
/// the default delivery mode: `bytes`, rounded up by the system to whole
/// pages; 0 restores the default of 8 MiB (the usual main-thread stack).
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT`, or
/// `NETHTTP_RESULT_INVALID_ARGUMENT` for a size below 64 KiB (config
/// unchanged).
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_stack_size(
    config: *mut nethttp_client_config,
    bytes: usize,
) -> nethttp_result {
    guard_result(|| {
        let config = config_mut(config)?;
        if bytes == 0 {
            config.stack_size = crate::client::DEFAULT_STACK_SIZE;
        } else if bytes < MIN_STACK_SIZE {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                format!("engine stack size {bytes} is below the minimum of {MIN_STACK_SIZE} bytes"),
            ));
        } else {
            config.stack_size = bytes;
        }
        Ok(())
    })
}

/// With `on` non-zero, the client's engine waits with epoll and drives
/// libcurl through its socket interface (`curl_multi_socket_action`): each
/// pass touches only the sockets that are ready, so thousands of idle
/// transfers in flight (long polls, server-sent event streams) cost nothing
/// while they wait. With `on` 0 (the default) the engine uses
/// `curl_multi_perform` and `curl_multi_poll`, which look at every
/// transfer on each pass but cost a little less per request when all
/// transfers are busy. Behaviour is the same either way; only speed
/// differs (scripts/bench.sh measures both).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_epoll(
    config: *mut nethttp_client_config,
    on: c_int,
) -> nethttp_result {
    guard_result(|| {
        config_mut(config)?.epoll = on != 0;
        Ok(())
    })
}

/// With `on` non-zero the client keeps an in-memory cookie jar (RFC 6265):
/// cookies set by its responses (`Set-Cookie`, redirect hops included) are
/// stored and sent back (`Cookie`) on its later requests to the same host
/// (or, with a `Domain` attribute, its subdomains) and path, until they
/// expire (`Expires`, `Max-Age`; `Max-Age=0` deletes). A `Secure` cookie is
/// sent over https only, to loopback addresses too. A `Cookie` header the
/// request sets itself is sent with the jar's cookies after its own. Each
/// client has its own jar of at most 3,000 cookies (50 per domain, the
/// oldest go first); nothing is read from or written to a file, and the jar
/// goes with the client. No public suffix list: a `Domain` must contain a
/// dot. Off by default (the default client has none).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_config_set_cookies(
    config: *mut nethttp_client_config,
    on: c_int,
) -> nethttp_result {
    guard_result(|| {
        config_mut(config)?.cookies = on != 0;
        Ok(())
    })
}

/// Creates a client with its own engine thread, connection pool, default
/// options, limits and delivery mode, as `config` says (copied; NULL for the
/// defaults). The caller owns it and frees it once with
/// `nethttp_client_free()`.
///
/// Returns NULL on failure, with `NETHTTP_RESULT_ENGINE_UNAVAILABLE` (the
/// engine thread, or the dispatch file descriptor, could not be made) or
/// `NETHTTP_RESULT_OUT_OF_MEMORY`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_new(
    config: *const nethttp_client_config,
) -> *mut nethttp_client {
    guard(ptr::null_mut(), || {
        let default_config;
        let config = match config_ref(config) {
            Some(config) => config,
            None => {
                default_config = ClientConfig::default();
                &default_config
            }
        };
        Ok(client_into_c(Client::new(config)?))
    })
}

/// Starts an HTTP request on `client`, exactly as `nethttp_request()` does on
/// the default client: `options` are merged over the client's defaults (see
/// `nethttp_client_config_set_defaults()`), and `callback` runs once, on the
/// client's engine thread or, in dispatch mode, inside
/// `nethttp_client_dispatch()`.
///
/// Returns the request's handle, or NULL (no callback will come) with
/// `NETHTTP_RESULT_NULL_ARGUMENT` (client, url or callback NULL),
/// `NETHTTP_RESULT_INVALID_URL`, `NETHTTP_RESULT_UNSUPPORTED_SCHEME`,
/// `NETHTTP_RESULT_INVALID_ARGUMENT` (the request line and headers, the
/// client's default headers included, over 1,000,000 bytes),
/// `NETHTTP_RESULT_ENGINE_UNAVAILABLE` (the client is being freed, e.g. a
/// request made inside a callback run by `nethttp_client_free()`, or the
/// client was made before a `fork()` in the parent process) or
/// `NETHTTP_RESULT_OUT_OF_MEMORY`.
///
/// Thread-safe: any thread, also inside callbacks of any client.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_request(
    client: *mut nethttp_client,
    url: *const c_char,
    options: *const nethttp_options,
    callback: nethttp_callback,
    userdata: *mut c_void,
) -> *mut nethttp_request {
    guard(ptr::null_mut(), || {
        let client = client_ref(client)?;
        start_from_c(
            url,
            options,
            callback,
            userdata,
            |url, options, callback| client.request(url, options, callback),
        )
    })
}

/// The number of requests of `client` that are in flight, queued for
/// dispatch, running their callback, or kept open by a callback that
/// returned non-zero. 0 for NULL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_live_requests(client: *const nethttp_client) -> usize {
    guard(0, || Ok(client_ref(client)?.live_requests()))
}

/// Frees a client. Waits up to `grace_ms` milliseconds for its requests in
/// flight to finish, then cancels the rest; every request still gets its one
/// callback before this returns (real responses for those that finished,
/// `"cancelled"` for those cut short), and none comes after. In dispatch mode
/// those callbacks run on the calling thread, inside this call. Then the
/// engine thread is joined and kept responses are freed (their handles
/// become stale). Requests made while this runs (from callbacks, or other
/// threads) are refused with `NETHTTP_RESULT_ENGINE_UNAVAILABLE`. Other
/// clients are not disturbed.
///
/// Returns `NETHTTP_RESULT_OK` (also for NULL, which does nothing), or
/// `NETHTTP_RESULT_CALLED_FROM_CALLBACK` inside one of the client's own
/// callbacks or observer calls; then nothing happens and the client stays
/// valid. In a child process after `fork()`, a client made in the parent is
/// forgotten without waiting (its thread does not exist in the child).
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_free(
    client: *mut nethttp_client,
    grace_ms: u32,
) -> nethttp_result {
    guard_result(|| {
        if client.is_null() {
            return Ok(());
        }
        let open = client_ref(client)?;
        open.check_close()?;
        // Closed in place: callbacks that run meanwhile may still name it.
        open.close(Duration::from_millis(grace_ms.into()));
        drop(client_from_c(client));
        Ok(())
    })
}

/// The client's dispatch file descriptor: readable exactly while callbacks
/// are queued for `nethttp_client_dispatch()`. Poll it for reading
/// (`POLLIN`, or `EPOLLIN` level-triggered) in the program's event loop; do
/// not read, write or close it. Valid until `nethttp_client_free()`.
///
/// Returns -1 unless the client is in dispatch mode, or for NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_fd(client: *const nethttp_client) -> c_int {
    guard(-1, || Ok(client_ref(client)?.dispatch_fd().unwrap_or(-1)))
}

/// Runs up to `max` queued callbacks (with their observer calls) on the
/// calling thread, in the order the requests finished; `max` 0 runs all
/// those queued when the call starts (callbacks queued meanwhile wait for
/// the next call). Never waits for the network: with nothing queued it
/// returns 0 at once.
///
/// Returns how many callbacks ran (requests destroyed while queued are
/// skipped, uncounted), or -1: `NETHTTP_RESULT_NULL_ARGUMENT`,
/// `NETHTTP_RESULT_INVALID_ARGUMENT` (the client is not in dispatch mode) or
/// `NETHTTP_RESULT_CALLED_FROM_CALLBACK` (called from one of the client's own
/// callbacks). Call it from one thread at a time.
#[no_mangle]
pub unsafe extern "C" fn nethttp_client_dispatch(client: *mut nethttp_client, max: usize) -> c_int {
    guard(-1, || {
        let ran = client_ref(client)?.dispatch(max)?;
        Ok(ran.min(c_int::MAX as usize) as c_int)
    })
}

/// Makes a request and waits for it on the calling thread: a blocking
/// convenience for simple programs and tests. `client` NULL uses the default
/// client. Works in both delivery modes (in dispatch mode the request's
/// completion does not go through the dispatch queue, and the observer runs
/// on this thread before this returns). There is no callback: the response
/// is returned.
///
/// Returns a response the caller owns and frees with
/// `nethttp_response_free()`. A failed transfer is still a response: status
/// 0, its error code and reason (e.g. `"connection-refused"`). Without a
/// timeout in `options` (or the client's defaults) this waits as long as the
/// server takes. Returns NULL only when the request could not start, with
/// the codes of `nethttp_client_request()`, or
/// `NETHTTP_RESULT_CALLED_FROM_CALLBACK` inside one of the same client's
/// callbacks (it would wait for itself), or
/// `NETHTTP_RESULT_ENGINE_UNAVAILABLE` when the client was shut down before
/// the request completed.
#[no_mangle]
pub unsafe extern "C" fn nethttp_fetch(
    client: *mut nethttp_client,
    url: *const c_char,
    options: *const nethttp_options,
) -> *mut nethttp_response {
    guard(ptr::null_mut(), || {
        let url = url_arg(url)?;
        let response = if client.is_null() {
            crate::client::fetch(url, options_ref(options))?
        } else {
            client_ref(client)?.fetch(url, options_ref(options))?
        };
        Ok(response_into_c(response))
    })
}
