//! Completion tokens: learning when every job of one message has finished.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type OnDone = Box<dyn FnOnce(Outcome) + Send>;

/// A shared token that calls its `on_done` once, when its last clone is
/// dropped: the caller's own clone, and one clone inside each
/// [`Job`](crate::Job) it was attached to, which the pool drops when the job
/// has run (or when the job is dropped without running).
///
/// The caller attaches clones to its jobs, then drops its own; if it
/// attached none, `on_done` fires right then with an empty [`Outcome`].
/// `on_done` runs on whichever thread drops the last clone, usually a
/// worker, so it should be quick: send a message, don't do the work there.
/// A panic in `on_done` is caught and logged.
#[derive(Clone)]
pub struct Completion {
    inner: Arc<Inner>,
}

struct Inner {
    ran: AtomicUsize,
    panicked: AtomicUsize,
    abandoned: AtomicUsize,
    on_done: Mutex<Option<OnDone>>,
}

/// What became of the jobs sharing one [`Completion`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Jobs whose callback ran, including those that panicked.
    pub ran: usize,
    /// Jobs whose callback panicked.
    pub panicked: usize,
    /// Jobs dropped without running: left in the queue when a shutdown
    /// deadline passed, or handed back by a full queue and then dropped.
    pub abandoned: usize,
}

impl Outcome {
    /// Every job ran and none panicked.
    pub fn is_clean(&self) -> bool {
        self.panicked == 0 && self.abandoned == 0
    }
}

impl Completion {
    /// A token that calls `on_done` when its last clone is dropped.
    pub fn new(on_done: impl FnOnce(Outcome) + Send + 'static) -> Completion {
        Completion {
            inner: Arc::new(Inner {
                ran: AtomicUsize::new(0),
                panicked: AtomicUsize::new(0),
                abandoned: AtomicUsize::new(0),
                on_done: Mutex::new(Some(Box::new(on_done))),
            }),
        }
    }

    /// The outcome so far, before every clone is dropped.
    pub fn outcome(&self) -> Outcome {
        self.inner.outcome()
    }

    pub(crate) fn record_run(&self, panicked: bool) {
        // Relaxed is enough: the Arc's final drop orders these before on_done.
        self.inner.ran.fetch_add(1, Ordering::Relaxed);
        if panicked {
            self.inner.panicked.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_abandoned(&self) {
        self.inner.abandoned.fetch_add(1, Ordering::Relaxed);
    }
}

impl Inner {
    fn outcome(&self) -> Outcome {
        Outcome {
            ran: self.ran.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let on_done = self
            .on_done
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(on_done) = on_done {
            let outcome = self.outcome();
            if catch_unwind(AssertUnwindSafe(|| on_done(outcome))).is_err() {
                log::error!("completion callback panicked (outcome {outcome:?})");
            }
        }
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("outcome", &self.outcome())
            .field("clones", &Arc::strong_count(&self.inner))
            .finish()
    }
}
