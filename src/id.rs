//! The number behind a request handle.

/// Starts at 1; never reused in a process, so a stale C handle finds nothing.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RequestId(pub u64);
