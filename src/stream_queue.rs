//! The chunks of one streamed body on their way from the engine thread to
//! the thread that runs dispatch: bounded, so that a slow consumer pauses
//! the transfer instead of growing the queue.
//!
//! The engine side `push`es chunks; past `HIGH_WATER` queued bytes (or once
//! the program paused the stream) it tells the transfer to pause. The
//! dispatch side takes chunks with `next`; when the queue has drained to
//! `LOW_WATER` it says the transfer may go on. The final response waits
//! here behind the chunks (`finish`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::response::Response;
use crate::stream::ChunkVerdict;
use crate::sync::lock;

/// Queued bytes at which the transfer pauses.
pub(crate) const HIGH_WATER: usize = 1 << 20;
/// Queued bytes at which a transfer paused for room goes on.
pub(crate) const LOW_WATER: usize = 256 << 10;

#[derive(Default)]
struct State {
    chunks: VecDeque<(Vec<u8>, Arc<Response>)>,
    bytes: usize,
    /// The program's data callback asked for a pause.
    paused_by_program: bool,
    /// The transfer is paused (its write callback said so).
    transfer_paused: bool,
    /// A notice to run `next` is in the dispatch queue (or being handled).
    scheduled: bool,
    /// The program's data callback asked to abort.
    aborted: bool,
    /// The final response, waiting for the chunks before it.
    last: Option<Box<Response>>,
}

/// What the dispatch side does next.
pub(crate) enum Next {
    /// Deliver this chunk; `resume_transfer`: the transfer may go on.
    Chunk {
        data: Vec<u8>,
        head: Arc<Response>,
        resume_transfer: bool,
    },
    /// Every chunk is delivered: run the final callback.
    Last(Box<Response>),
    /// Nothing to do now (drained, or paused by the program).
    Idle,
}

#[derive(Default)]
pub(crate) struct StreamQueue {
    state: Mutex<State>,
}

impl StreamQueue {
    /// Engine thread: a chunk arrived. Returns what the write callback
    /// answers, and whether a notice must be put in the dispatch queue.
    pub(crate) fn push(&self, data: &[u8], head: &Arc<Response>) -> (ChunkVerdict, bool) {
        let mut state = lock(&self.state);
        if state.aborted {
            return (ChunkVerdict::Abort, false);
        }
        state.chunks.push_back((data.to_vec(), Arc::clone(head)));
        state.bytes += data.len();
        let notify = !state.scheduled && !state.paused_by_program;
        state.scheduled |= notify;
        if state.bytes >= HIGH_WATER || state.paused_by_program {
            state.transfer_paused = true;
            (ChunkVerdict::Pause, notify)
        } else {
            (ChunkVerdict::Continue, notify)
        }
    }

    /// Dispatch side: the next thing to deliver. After `Idle` a new notice
    /// is needed to come back.
    pub(crate) fn next(&self) -> Next {
        let mut state = lock(&self.state);
        if state.paused_by_program {
            state.scheduled = false;
            return Next::Idle;
        }
        if let Some((data, head)) = state.chunks.pop_front() {
            state.bytes -= data.len();
            let resume_transfer = state.transfer_paused && state.bytes <= LOW_WATER;
            if resume_transfer {
                state.transfer_paused = false;
            }
            return Next::Chunk {
                data,
                head,
                resume_transfer,
            };
        }
        state.scheduled = false;
        match state.last.take() {
            Some(last) => Next::Last(last),
            None => Next::Idle,
        }
    }

    /// The program paused the stream from its data callback.
    pub(crate) fn pause(&self) {
        lock(&self.state).paused_by_program = true;
    }

    /// The program resumed the stream. Returns whether a notice must be put
    /// in the dispatch queue, and whether the transfer may go on.
    pub(crate) fn resume(&self) -> (bool, bool) {
        let mut state = lock(&self.state);
        if !state.paused_by_program {
            return (false, false);
        }
        state.paused_by_program = false;
        let pending = !state.chunks.is_empty() || state.last.is_some();
        let notify = pending && !state.scheduled;
        state.scheduled |= notify;
        let resume_transfer = state.transfer_paused && state.bytes <= LOW_WATER;
        if resume_transfer {
            state.transfer_paused = false;
        }
        (notify, resume_transfer)
    }

    /// The program aborted the stream: queued chunks are dropped. Returns
    /// whether the paused transfer must be let go on (so that it sees the
    /// abort), and the final response if it was already waiting.
    pub(crate) fn abort(&self) -> (bool, Option<Box<Response>>) {
        let mut state = lock(&self.state);
        state.aborted = true;
        state.chunks.clear();
        state.bytes = 0;
        // Called while handling this stream's notice: none is pending now,
        // so the final response must come through `finish`'s answer.
        state.scheduled = false;
        let resume_transfer = std::mem::take(&mut state.transfer_paused);
        (resume_transfer, state.last.take())
    }

    pub(crate) fn is_aborted(&self) -> bool {
        lock(&self.state).aborted
    }

    /// The transfer ended with `response`. It comes back to be delivered now
    /// when nothing is queued before it; otherwise it waits here (`Next::Last`)
    /// and the returned flag says whether a notice must be put in the
    /// dispatch queue.
    pub(crate) fn finish(&self, response: Box<Response>) -> Result<Box<Response>, bool> {
        let mut state = lock(&self.state);
        if state.chunks.is_empty() && !state.scheduled {
            return Ok(response);
        }
        state.last = Some(response);
        let notify = !state.scheduled && !state.paused_by_program;
        state.scheduled |= notify;
        Err(notify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::RequestId;

    fn head() -> Arc<Response> {
        Arc::new(Response::for_tests(RequestId(1), 200, b""))
    }

    #[test]
    fn a_full_queue_pauses_the_transfer_until_it_drains() {
        let queue = StreamQueue::default();
        let head = head();
        let chunk = vec![7u8; 64 << 10];
        let (verdict, notify) = queue.push(&chunk, &head);
        assert_eq!((verdict, notify), (ChunkVerdict::Continue, true));
        let mut pushed = 1;
        loop {
            let (verdict, notify) = queue.push(&chunk, &head);
            assert!(!notify, "one notice while scheduled");
            pushed += 1;
            if verdict == ChunkVerdict::Pause {
                break;
            }
        }
        assert_eq!(pushed * chunk.len(), HIGH_WATER);
        let mut resumed_at = None;
        for taken in 1..=pushed {
            match queue.next() {
                Next::Chunk {
                    resume_transfer, ..
                } => {
                    if resume_transfer {
                        assert!(resumed_at.is_none());
                        resumed_at = Some(taken);
                    }
                }
                _ => panic!("a chunk is queued"),
            }
        }
        assert_eq!((pushed - resumed_at.unwrap()) * chunk.len(), LOW_WATER);
        assert!(matches!(queue.next(), Next::Idle));
    }

    #[test]
    fn the_last_response_waits_behind_chunks_and_a_pause() {
        let queue = StreamQueue::default();
        let head = head();
        queue.push(b"abc", &head);
        queue.pause();
        let last = Box::new(Response::for_tests(RequestId(1), 200, b""));
        assert!(matches!(queue.finish(last), Err(false)));
        assert!(matches!(queue.next(), Next::Idle));
        assert_eq!(queue.resume(), (true, false));
        assert!(matches!(queue.next(), Next::Chunk { .. }));
        assert!(matches!(queue.next(), Next::Last(_)));
        assert!(matches!(queue.next(), Next::Idle));
        let direct = Box::new(Response::for_tests(RequestId(1), 200, b""));
        assert!(queue.finish(direct).is_ok());
    }

    #[test]
    fn abort_drops_chunks_and_refuses_more() {
        let queue = StreamQueue::default();
        let head = head();
        queue.push(b"abc", &head);
        let (resume, last) = queue.abort();
        assert!(!resume && last.is_none());
        // The final response is not held behind the dropped chunks.
        let response = Box::new(Response::for_tests(RequestId(1), 200, b""));
        assert!(queue.finish(response).is_ok());
        assert_eq!(queue.push(b"d", &head).0, ChunkVerdict::Abort);
        assert!(queue.is_aborted());
    }
}
