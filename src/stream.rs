//! Streamed bodies: a response body handed over chunk by chunk as it
//! arrives, and a request body read as it is sent. The types here are what
//! options carry and what a transfer calls; who runs the data callback, and
//! on which thread, is the client's business (`ChunkTarget`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::response::Response;

/// What the data callback asks for after a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkVerdict {
    /// The chunk was taken; go on.
    Continue,
    /// The chunk was taken; send no more until the request is resumed.
    Pause,
    /// End the transfer; the request fails with `aborted`.
    Abort,
}

/// The program's data callback: a chunk of the body and the response's head
/// (status and headers, empty body).
#[derive(Clone)]
pub struct DataSink(pub Arc<dyn Fn(&[u8], &Response) -> ChunkVerdict + Send + Sync>);

impl fmt::Debug for DataSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataSink")
    }
}

/// The program's read callback: fills the buffer, returns how many bytes it
/// wrote (0 at the end), or `None` to abort the transfer.
pub type BodyReader = Arc<dyn Fn(&mut [u8]) -> Option<usize> + Send + Sync>;

/// A request body that is read as it is sent.
#[derive(Clone)]
pub enum BodyStream {
    /// From the program's read callback; `length` `None` = unknown (sent
    /// chunked on HTTP/1.1).
    Reader {
        read: BodyReader,
        length: Option<u64>,
    },
    /// From a file, opened when the request is made.
    File(PathBuf),
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyStream::Reader { length, .. } => {
                f.debug_struct("Reader").field("length", length).finish()
            }
            BodyStream::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// Where a transfer sends the chunks of a streamed body. Called on the
/// engine thread, inside libcurl's write callback: it must not block for
/// long, and must not unwind.
pub(crate) trait ChunkTarget: Send {
    /// One chunk of the body of the response whose head is `head`.
    fn chunk(&mut self, data: &[u8], head: &Arc<Response>) -> ChunkVerdict;
}
