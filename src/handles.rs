//! The process-wide table from request numbers to requests.
//!
//! It exists because a C handle (`struct nethttp_request *`) is a number that
//! must resolve without naming its client, like a file descriptor. Numbers
//! are never reused, so a stale handle finds nothing here and every function
//! taking one is a harmless no-op on it instead of a use-after-free. The table
//! owns no thread and knows nothing of engines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::id::RequestId;
use crate::id_map::IdMap;
use crate::request::Request;
use crate::sync::lock;

/// Next request number; process-wide so that numbers are unique across clients.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Live requests of every client. `None` when empty, so that a program that
/// shut everything down holds no memory of ours.
static TABLE: Mutex<Option<Table>> = Mutex::new(None);

#[derive(Default)]
struct Table {
    requests: IdMap<u64, Arc<Request>>,
}

pub(crate) fn next_id() -> RequestId {
    RequestId(NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn insert(request: Arc<Request>) {
    let mut table = lock(&TABLE);
    let table = table.get_or_insert_with(Table::default);
    request.note_registered();
    table.requests.insert(request.id.0, request);
}

fn remove_from(table: &mut Table, id: u64) -> Option<Arc<Request>> {
    let request = table.requests.remove(&id)?;
    request.note_unregistered();
    Some(request)
}

pub(crate) fn remove(id: RequestId) {
    let mut slot = lock(&TABLE);
    if let Some(table) = slot.as_mut() {
        let removed = remove_from(table, id.0);
        if table.requests.is_empty() {
            *slot = None;
        }
        drop(slot);
        drop(removed);
    }
}

pub(crate) fn get(id: RequestId) -> Option<Arc<Request>> {
    lock(&TABLE).as_ref()?.requests.get(&id.0).cloned()
}

/// Removes and returns every request of one client.
pub(crate) fn remove_group(group: u64) -> Vec<Arc<Request>> {
    let mut slot = lock(&TABLE);
    let Some(table) = slot.as_mut() else {
        return Vec::new();
    };
    let ids: Vec<u64> = table
        .requests
        .iter()
        .filter(|(_, r)| r.group == group)
        .map(|(&id, _)| id)
        .collect();
    let removed = ids
        .iter()
        .filter_map(|&id| remove_from(table, id))
        .collect();
    if table.requests.is_empty() {
        *slot = None;
    }
    removed
}
