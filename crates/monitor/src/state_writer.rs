//! The push state's writer, for a broker monitor with a state file: a
//! message is acknowledged only once its effect on the push state is on
//! disk, and the `StateWriter` puts it there once per write window
//! ([`WRITE_WINDOW`], or sooner when a quarter of the prefetch window is
//! held), not once per delivery batch.
//!
//! Why a window: at 1,000 msg/s the wire hands the `intake` one or two
//! deliveries at a time, and one SQLite transaction each cost more CPU
//! than the rest of the monitor did (the bench's push tracking row). The
//! trade is at most [`WRITE_WINDOW`] more before an acknowledgement;
//! callbacks and push events are not held back.
//!
//! Neighbours: the `intake` hands each batch's messages to
//! [`StateWriter::hold`]; `run` stops the writer's thread and writes what
//! is still held before it closes the connection; `pushes` owns the
//! tracker whose state is written.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::completion::MessageRun;
use crate::pushes::PushDesk;
use crate::shared::Shared;
use crate::stats::Counters;
use crate::{Error, ErrorKind};

/// How long a message's acknowledgement may wait for the state write.
pub(crate) const WRITE_WINDOW: Duration = Duration::from_millis(50);

/// How long the writer pauses after the state could not be written, so a
/// full disk does not turn into a loop of redeliveries.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// How often an idle writer looks for a stop it was not woken for.
const STOP_CHECK: Duration = Duration::from_millis(200);

/// A message whose acknowledgement waits for the push state to be
/// written: its run (to let go of the acker if the write fails) and a
/// clone of its completion token (which holds the acknowledgement back).
pub(crate) type Unwritten = (Arc<MessageRun>, pulse_dispatch::Completion);

/// Holds acknowledgements until the push state is written.
pub(crate) struct StateWriter {
    desk: Arc<PushDesk>,
    shared: Arc<Shared>,
    held: Mutex<Held>,
    wake: Condvar,
    /// Held messages occupy the prefetch window: past this many, the
    /// window is written at once.
    most_held: usize,
}

#[derive(Default)]
struct Held {
    messages: Vec<Unwritten>,
    /// When the oldest held message arrived.
    since: Option<Instant>,
}

impl StateWriter {
    /// A writer for `desk`'s state, on a consumer with this prefetch.
    pub(crate) fn new(desk: Arc<PushDesk>, shared: Arc<Shared>, prefetch: u16) -> StateWriter {
        StateWriter {
            desk,
            shared,
            held: Mutex::new(Held::default()),
            wake: Condvar::new(),
            most_held: usize::from(prefetch).div_ceil(4).max(1),
        }
    }

    /// Holds these messages' acknowledgements until the state they were
    /// applied to is written.
    pub(crate) fn hold(&self, messages: Vec<Unwritten>) {
        if messages.is_empty() {
            return;
        }
        let mut held = self.lock();
        let first = held.since.is_none();
        held.since.get_or_insert_with(Instant::now);
        held.messages.extend(messages);
        if first || held.messages.len() >= self.most_held {
            self.wake.notify_one();
        }
    }

    /// Starts the thread that writes each window.
    pub(crate) fn start(self: &Arc<StateWriter>) -> Result<JoinHandle<()>, Error> {
        let writer = Arc::clone(self);
        std::thread::Builder::new()
            .name("pulse-monitor-state".into())
            .spawn(move || {
                while let Some(messages) = writer.next_window() {
                    if !writer.write(messages) {
                        std::thread::sleep(RETRY_PAUSE);
                    }
                }
            })
            .map_err(|e| Error::new(ErrorKind::Spawn(e)))
    }

    /// Wakes the writer's thread to see the monitor is stopping.
    pub(crate) fn wake(&self) {
        self.wake.notify_all();
    }

    /// Writes now whatever is held: for the stop, once nothing else will.
    pub(crate) fn write_held(&self) {
        let messages = std::mem::take(&mut *self.lock()).messages;
        self.write(messages);
    }

    /// Waits until the oldest held message's window closed (or enough are
    /// held) and takes them; `None` once the monitor is stopping.
    fn next_window(&self) -> Option<Vec<Unwritten>> {
        let mut held = self.lock();
        loop {
            if self.shared.is_stopping() {
                return None;
            }
            let wait = match held.since {
                None => STOP_CHECK,
                Some(since) => {
                    let due = since + WRITE_WINDOW;
                    let now = Instant::now();
                    if held.messages.len() >= self.most_held || now >= due {
                        return Some(std::mem::take(&mut *held).messages);
                    }
                    due - now
                }
            };
            held = self
                .wake
                .wait_timeout(held, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Writes the state; then dropping `messages` lets their
    /// acknowledgements go. If it cannot be written they are left to the
    /// broker to deliver again (applying them again changes nothing), and
    /// this returns false.
    fn write(&self, messages: Vec<Unwritten>) -> bool {
        match self.desk.flush() {
            Ok(()) => true,
            Err(error) => {
                log::error!(
                    "{error}; {} message(s) left unacknowledged for redelivery",
                    messages.len()
                );
                Counters::add(&self.shared.counters.state_write_errors, 1);
                for (run, _completion) in &messages {
                    run.forget_acker();
                }
                false
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
