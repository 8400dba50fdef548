//! nethttp: asynchronous HTTP requests for C and C++ programs, in the manner
//! of Prosody's `net.http`, run by libcurl's multi interface on threads of
//! the library's own.
//!
//! The safe core lives in the modules below; `ffi` is the thin `extern "C"`
//! layer that C callers use through `include/nethttp.h`. Layers, each using
//! only those below it: `ffi` → `client` → `handles`, `dispatch`, `request`,
//! `engine`, `transfer`, `pool` → `response`, `options`, `headers`,
//! `encoding`, `form`, `transport`, `url`, `error` and other leaves.

mod body_cache;
pub mod client;
mod connection_cache;
mod cookie_jar;
mod dispatch;
pub mod encoding;
mod engine;
pub mod error;
mod failure;
pub mod ffi;
mod follow;
pub mod form;
mod handles;
pub mod headers;
mod id;
mod id_map;
mod libcurl_bugs;
mod limits;
pub mod options;
mod panic_quiet;
mod poller;
mod pool;
mod redact;
pub mod request;
pub mod response;
mod shared_headers;
pub mod stream;
mod stream_queue;
mod sync;
mod transfer;
pub mod transport;
pub mod url;
mod url_cache;

pub use client::{cancel, destroy, fetch, request, shutdown, Client, ClientConfig};
pub use error::{nethttp_result, Error};
pub use form::Form;
pub use options::Options;
pub use request::{Callback, RequestId};
pub use response::Response;
pub use transfer::USER_AGENT;
