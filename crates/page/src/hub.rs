//! The open pages: one bounded queue each. Broadcasting never waits: a
//! page whose queue is full skips what it cannot take and gets a fresh
//! snapshot when it reads again; one that stays full for
//! [`PageOptions::stalled_after`](crate::PageOptions::stalled_after) is
//! dropped. So a page that stops reading blocks neither the other pages
//! nor the monitor's callbacks.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::board::Frame;

/// One open page, as the broadcaster sees it.
struct Client {
    id: u64,
    server: u64,
    queue: Sender<Frame>,
    /// Set when a frame was skipped: the page's stream sends a snapshot
    /// before anything else.
    resync: Arc<AtomicBool>,
    /// Since when its queue has been full.
    full_since: Option<Instant>,
}

/// What a page's stream reads from.
pub(crate) struct Subscription {
    pub(crate) id: u64,
    pub(crate) frames: Receiver<Frame>,
    pub(crate) resync: Arc<AtomicBool>,
}

/// Counters for `/api/status` and the tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Pages with an open event stream.
    pub open: usize,
    /// Times a page could not take a frame and skipped it (it catches up
    /// with a snapshot).
    pub skipped: u64,
    /// Pages dropped because they read nothing for
    /// [`PageOptions::stalled_after`](crate::PageOptions::stalled_after).
    pub dropped: u64,
}

pub(crate) struct Hub {
    clients: Mutex<Vec<Client>>,
    next_id: AtomicU64,
    skipped: AtomicU64,
    dropped: AtomicU64,
    capacity: usize,
    stalled_after: Duration,
}

impl Hub {
    pub(crate) fn new(capacity: usize, stalled_after: Duration) -> Hub {
        Hub {
            clients: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            skipped: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            capacity: capacity.max(1),
            stalled_after,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Client>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new page of `server`, with `first` already in its queue; `None`
    /// when `max` pages are open already.
    pub(crate) fn subscribe(&self, server: u64, first: Frame, max: usize) -> Option<Subscription> {
        let mut clients = self.lock();
        if clients.len() >= max {
            return None;
        }
        let (queue, frames) = crossbeam_channel::bounded(self.capacity);
        queue.try_send(first).expect("a new queue has room");
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let resync = Arc::new(AtomicBool::new(false));
        clients.push(Client {
            id,
            server,
            queue,
            resync: Arc::clone(&resync),
            full_since: None,
        });
        Some(Subscription { id, frames, resync })
    }

    /// Hands `frame` to every page that has room, without waiting.
    pub(crate) fn broadcast(&self, frame: &Frame) {
        let now = Instant::now();
        let mut clients = self.lock();
        clients.retain_mut(|client| match client.queue.try_send(Frame::clone(frame)) {
            Ok(()) => {
                client.full_since = None;
                true
            }
            Err(TrySendError::Full(_)) => {
                client.resync.store(true, Ordering::Release);
                self.skipped.fetch_add(1, Ordering::Relaxed);
                let since = *client.full_since.get_or_insert(now);
                if now.duration_since(since) < self.stalled_after {
                    return true;
                }
                log::info!(
                    "dropping page stream {}: it read nothing for {:?}",
                    client.id,
                    self.stalled_after
                );
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// Forgets a page whose stream ended.
    pub(crate) fn unsubscribe(&self, id: u64) {
        self.lock().retain(|client| client.id != id);
    }

    /// Forgets every page of `server`: their streams end when they next
    /// look at their queue.
    pub(crate) fn close_server(&self, server: u64) {
        self.lock().retain(|client| client.server != server);
    }

    pub(crate) fn stats(&self) -> HubStats {
        HubStats {
            open: self.lock().len(),
            skipped: self.skipped.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}
