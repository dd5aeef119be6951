//! The monitor's own thread: it feeds the in-process source to the intake
//! (a broker's deliveries reach the intake on the wire crate's connection
//! thread instead), waits for a stop or for the input to run out, and then
//! shuts down in the order that loses nothing: the pool first (its jobs
//! acknowledge their messages), then the consumer, then a non-durable
//! queue.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, RecvTimeoutError};
use pulse_wire::ConnectionSettings;

use crate::intake::Intake;
use crate::message::RawMessage;
use crate::pool::PoolSlot;
use crate::pushes::PushDesk;
use crate::shared::{Shared, StopReport, DEFAULT_STOP_DEADLINE};
use crate::state_writer::StateWriter;
use crate::stats::Stats;

/// How often the monitor's thread, waiting for the last callbacks of an
/// in-process source, looks for a stop.
const IDLE_CHECK: Duration = Duration::from_millis(2);

/// Where messages come from.
pub(crate) enum Input {
    Broker(Box<ConnectionSettings>),
    Messages(Box<dyn Iterator<Item = RawMessage> + Send>),
}

/// What the monitor's thread runs.
pub(crate) struct Run {
    shared: Arc<Shared>,
    pool: Arc<PoolSlot>,
    work: Work,
    /// Push tracking: the tracker and the thread that finishes quiet pushes.
    pushes: Option<(Arc<PushDesk>, JoinHandle<()>)>,
    /// A broker's push state file: the writer holding acknowledgements
    /// and its thread.
    state_writer: Option<(Arc<StateWriter>, JoinHandle<()>)>,
}

enum Work {
    Broker {
        /// A non-durable monitor's queue, deleted when it stops.
        queue_to_delete: Option<(ConnectionSettings, String)>,
    },
    Messages {
        intake: Box<Intake>,
        messages: Box<dyn Iterator<Item = RawMessage> + Send>,
    },
}

impl Run {
    /// A broker monitor: the consumer in `shared` feeds the intake.
    pub(crate) fn broker(
        shared: Arc<Shared>,
        pool: Arc<PoolSlot>,
        queue_to_delete: Option<(ConnectionSettings, String)>,
    ) -> Run {
        Run {
            shared,
            pool,
            work: Work::Broker { queue_to_delete },
            pushes: None,
            state_writer: None,
        }
    }

    /// With push tracking: the ticker is stopped, and the state written,
    /// in the shutdown's order.
    pub(crate) fn with_pushes(mut self, desk: Arc<PushDesk>, ticker: JoinHandle<()>) -> Run {
        self.pushes = Some((desk, ticker));
        self
    }

    /// With a state writer: its thread is stopped, and what it holds
    /// written, before the connection closes.
    pub(crate) fn with_state_writer(
        mut self,
        writer: Arc<StateWriter>,
        thread: JoinHandle<()>,
    ) -> Run {
        self.state_writer = Some((writer, thread));
        self
    }

    /// An in-process monitor, ending when `messages` run out.
    pub(crate) fn messages(
        shared: Arc<Shared>,
        pool: Arc<PoolSlot>,
        intake: Intake,
        messages: Box<dyn Iterator<Item = RawMessage> + Send>,
    ) -> Run {
        Run {
            shared,
            pool,
            work: Work::Messages {
                intake: Box::new(intake),
                messages,
            },
            pushes: None,
            state_writer: None,
        }
    }

    pub(crate) fn run(self, stop: &Receiver<Duration>) {
        let (stopped, queue_to_delete) = match self.work {
            Work::Broker { queue_to_delete } => {
                let consumer = self.shared.consumer.get();
                let ended = consumer.map(|c| c.deliveries().clone());
                (wait_for_stop(stop, ended.as_ref()), queue_to_delete)
            }
            Work::Messages {
                mut intake,
                messages,
            } => {
                for message in messages {
                    if self.shared.is_stopping() {
                        break;
                    }
                    intake.take_message(message);
                }
                // Records still waiting for their details come before the
                // pushes' last word.
                while self.shared.details_in_flight.load(Ordering::Acquire) > 0
                    && !self.shared.is_stopping()
                {
                    std::thread::sleep(IDLE_CHECK);
                }
                if let (Some((desk, _)), false) = (&self.pushes, self.shared.is_stopping()) {
                    // Nothing more will come: complete pushes finish now.
                    desk.end_of_input(&self.pool, &self.shared);
                }
                let stopped = if self.shared.is_stopping() {
                    Some(stop_deadline(stop.recv().ok()))
                } else {
                    wait_until_idle(&self.pool, &self.shared, stop)
                };
                (stopped, None)
            }
        };
        // From here on the intake takes nothing more.
        self.shared.stopping.store(true, Ordering::Release);
        let desk = self.pushes.map(|(desk, ticker)| {
            ticker.thread().unpark();
            let _ = ticker.join();
            desk
        });
        // One writer at a time: the last window is written below, after
        // the callbacks, by this thread.
        let writer = self.state_writer.map(|(writer, thread)| {
            writer.wake();
            let _ = thread.join();
            writer
        });
        let pool = self.pool.take().expect("only this thread takes the pool");
        let mut pool_report = match stopped {
            Some(deadline) => {
                pool.shutdown_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            None => pool.shutdown(),
        };
        pool_report.abandoned.extend(self.shared.take_abandoned());
        if let Some(writer) = writer {
            writer.write_held();
        }
        if let Some(desk) = desk {
            desk.close();
        }
        // Every decision is in (or abandoned): closing now returns only
        // what no callback finished with to the queue.
        if let Some(consumer) = self.shared.consumer.get() {
            consumer.stop();
        }
        if let Some((settings, queue)) = &queue_to_delete {
            delete_queue(settings, queue);
        }
        *self
            .shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(StopReport {
            stats: Stats::default(),
            still_running: pool_report.still_running,
            abandoned: pool_report.abandoned,
        });
    }
}

/// Waits until a stop is asked for (its deadline), or until the consumer's
/// thread ended on its own (`None`: its callbacks may all finish).
fn wait_for_stop(
    stop: &Receiver<Duration>,
    consumer_ended: Option<&Receiver<pulse_wire::Delivery>>,
) -> Option<Instant> {
    let never = crossbeam_channel::never();
    let ended = consumer_ended.unwrap_or(&never);
    select! {
        recv(stop) -> deadline => Some(stop_deadline(deadline.ok())),
        recv(ended) -> _ => None,
    }
}

/// When the callbacks must be done: `deadline` from now, or
/// [`DEFAULT_STOP_DEADLINE`] when the handle was dropped without one.
fn stop_deadline(deadline: Option<Duration>) -> Instant {
    Instant::now() + deadline.unwrap_or(DEFAULT_STOP_DEADLINE)
}

/// Once the input has run out, waits for the callbacks still queued or
/// running, still heeding a stop: a replay interrupted after its last
/// message was handed out must not wait for every callback.
fn wait_until_idle(pool: &PoolSlot, shared: &Shared, stop: &Receiver<Duration>) -> Option<Instant> {
    loop {
        if pool.is_idle() && shared.details_in_flight.load(Ordering::Acquire) == 0 {
            return None;
        }
        match stop.recv_timeout(IDLE_CHECK) {
            Ok(deadline) => return Some(stop_deadline(Some(deadline))),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Some(stop_deadline(None)),
        }
    }
}

/// Best effort: the broker deletes an unused non-durable queue after a
/// grace period anyway.
fn delete_queue(settings: &ConnectionSettings, queue: &str) {
    let deleted = pulse_wire::Publisher::connect(settings)
        .and_then(|mut publisher| publisher.delete_queue(queue));
    match deleted {
        Ok(left) => log::debug!("deleted queue {queue} ({left} messages left in it)"),
        Err(e) => log::warn!("cannot delete queue {queue}, the broker will expire it: {e}"),
    }
}
