//! The worker pool.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::{
    Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};

use crate::{Completion, Error, ErrorKind};

/// How many workers and how deep a queue: [`Config::default`], changed
/// with the `with_` methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Jobs that may wait in the queue before [`Pool::submit`] blocks.
    /// 0 makes every submit wait for an idle worker.
    pub queue_bound: usize,
}

impl Config {
    /// With `workers` threads (0: one per core).
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> Config {
        self.workers = workers;
        self
    }

    /// With at most `queue_bound` jobs waiting.
    #[must_use]
    pub fn with_queue_bound(mut self, queue_bound: usize) -> Config {
        self.queue_bound = queue_bound;
        self
    }
}

impl Default for Config {
    /// One worker per core, 256 queued jobs: what a monitor uses.
    fn default() -> Config {
        Config {
            workers: 0,
            queue_bound: 256,
        }
    }
}

/// A callback to run on a worker: a key for logs and reports, the closure
/// (owning whatever it needs), and optionally a [`Completion`] to tell.
pub struct Job {
    key: String,
    run: Option<Box<dyn FnOnce() + Send>>,
    completion: Option<Completion>,
}

impl Job {
    /// A job named `key` (e.g. the routing key and callback) running `run`.
    pub fn new(key: impl Into<String>, run: impl FnOnce() + Send + 'static) -> Job {
        Job {
            key: key.into(),
            run: Some(Box::new(run)),
            completion: None,
        }
    }

    /// Reports this job's end to `completion` (usually a clone shared with
    /// the other jobs of the same message).
    ///
    /// # Panics
    ///
    /// If the job already has a completion: a job reports to one token, and
    /// quietly replacing it would leave the first one miscounting.
    #[must_use]
    pub fn with_completion(mut self, completion: Completion) -> Job {
        assert!(
            self.completion.is_none(),
            "job {:?} already has a completion",
            self.key
        );
        self.completion = Some(completion);
        self
    }

    /// The job's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Drop for Job {
    /// A job dropped before running tells its completion it was abandoned.
    fn drop(&mut self) {
        if let Some(completion) = self.completion.take() {
            completion.record_abandoned();
        }
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("key", &self.key)
            .field("completion", &self.completion.is_some())
            .finish_non_exhaustive()
    }
}

/// The queue was full; the job is handed back untouched.
#[derive(Debug)]
pub struct QueueFull(Job);

impl QueueFull {
    /// The job that was not queued.
    pub fn into_job(self) -> Job {
        self.0
    }
}

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dispatch queue is full: job {:?} not queued", self.0.key)
    }
}

impl std::error::Error for QueueFull {}

/// The pool's counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs waiting in the queue.
    pub queued: usize,
    /// Jobs running now.
    pub running: usize,
    /// Jobs finished, including those that panicked.
    pub done: u64,
    /// Jobs whose callback panicked.
    pub panicked: u64,
}

/// What a shutdown left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// The counters once the pool stopped (or the deadline passed).
    pub stats: Stats,
    /// Keys of jobs dropped unrun from the queue because the deadline passed.
    pub abandoned: Vec<String>,
    /// Keys of jobs still running at the deadline; their workers were
    /// detached and exit after finishing them.
    pub still_running: Vec<String>,
}

impl ShutdownReport {
    /// Every queued job ran and every worker exited.
    pub fn is_complete(&self) -> bool {
        self.abandoned.is_empty() && self.still_running.is_empty()
    }
}

struct Shared {
    running: AtomicUsize,
    done: AtomicU64,
    panicked: AtomicU64,
    /// The key of the job each worker is running, for shutdown reports.
    /// Uncontended: only its worker and a timed-out shutdown lock a slot.
    current: Vec<Mutex<Option<String>>>,
    /// Where idle workers sleep. Crossbeam's `recv` spins and yields
    /// before it parks, so a worker woken for one job burned a core
    /// spinning after it (22% of a profile); an idle worker here parks
    /// at once and costs nothing until a submit wakes it.
    idle: Idle,
}

/// Workers asleep until a job or the shutdown arrives.
///
/// The queue stays crossbeam's bounded channel (back-pressure, timeouts,
/// counting and draining it at shutdown); only the worker's wait is this.
/// An idle worker puts itself on the `asleep` list before its last look at
/// the queue and parks; a submitter, after queuing, takes one worker off
/// the list and unparks it. `asleep_count` mirrors the list's length for
/// a lock-free look, with a `SeqCst` fence after the worker's push and
/// after the submitter's send, so at least one of them sees the other:
/// the worker finds the job or the submitter wakes it. The lock is taken
/// only to sleep and to wake, never on a busy pool's path.
///
/// Taking the worker off the list is what makes a wake exact: a burst of
/// submits wakes each sleeper once (a woken worker drains the queue
/// before it sleeps again), and a worker knows it was woken, rather than
/// unparked by accident, because it is no longer on the list. Thread
/// parking keeps an unpark that comes before the park, so none is lost.
struct Idle {
    /// A queue bound of 0: crossbeam's zero-capacity channel hands a job
    /// over only to a receiver blocked in its `recv`, which a submitter
    /// blocked in `send` cannot wake us to reach; such a pool's workers
    /// wait in that `recv`.
    rendezvous: bool,
    /// Parked workers (index, thread) no submitter has woken yet.
    asleep: Mutex<Vec<(usize, Thread)>>,
    /// `asleep`'s length, written under its lock.
    asleep_count: AtomicUsize,
}

impl Idle {
    /// After a job was queued: wakes one sleeping worker, if any.
    fn job_queued(&self) {
        fence(Ordering::SeqCst);
        if self.asleep_count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut asleep = lock(&self.asleep);
        // Another submitter may have woken the last sleeper meanwhile: that
        // worker drains this job too.
        if let Some((_, thread)) = asleep.pop() {
            self.asleep_count.store(asleep.len(), Ordering::SeqCst);
            drop(asleep);
            thread.unpark();
        }
    }

    /// After the sender was dropped: wakes every worker to see it.
    fn closed(&self) {
        let woken = {
            let mut asleep = lock(&self.asleep);
            self.asleep_count.store(0, Ordering::SeqCst);
            std::mem::take(&mut *asleep)
        };
        for (_, thread) in woken {
            thread.unpark();
        }
    }

    /// Takes worker `index` off the list; false if a submitter already had.
    fn leave(&self, index: usize) -> bool {
        let mut asleep = lock(&self.asleep);
        let Some(at) = asleep.iter().position(|(i, _)| *i == index) else {
            return false;
        };
        asleep.swap_remove(at);
        self.asleep_count.store(asleep.len(), Ordering::SeqCst);
        true
    }

    /// Worker `index`'s next job, parked while the queue is empty; `None`
    /// once the queue is empty and closed.
    fn next(&self, index: usize, jobs: &Receiver<Job>) -> Option<Job> {
        if self.rendezvous {
            return jobs.recv().ok();
        }
        loop {
            match jobs.try_recv() {
                Ok(job) => return Some(job),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            {
                let mut asleep = lock(&self.asleep);
                asleep.push((index, std::thread::current()));
                self.asleep_count.store(asleep.len(), Ordering::SeqCst);
            }
            fence(Ordering::SeqCst);
            match jobs.try_recv() {
                Ok(job) => {
                    self.leave(index);
                    return Some(job);
                }
                Err(TryRecvError::Disconnected) => {
                    self.leave(index);
                    return None;
                }
                Err(TryRecvError::Empty) => {}
            }
            // Parks until a submitter or the shutdown takes this worker off
            // the list; an unpark left over from an earlier round only
            // costs one more look.
            loop {
                std::thread::park();
                if !lock(&self.asleep).iter().any(|(i, _)| *i == index) {
                    break;
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while a slot is held, but a poisoned slot is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fixed set of worker threads fed by one bounded queue.
///
/// Jobs run in no promised order, each exactly once. Dropping the pool is
/// [`Pool::shutdown`]: the queue is drained and the workers joined.
pub struct Pool {
    sender: Option<Sender<Job>>,
    /// Kept to count queued jobs and to empty the queue at a deadline.
    receiver: Receiver<Job>,
    /// Disconnects when every worker has exited.
    exited: Receiver<()>,
    workers: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Pool {
    /// Starts the workers.
    pub fn new(config: Config) -> Result<Pool, Error> {
        let workers = match config.workers {
            0 => std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            n => n,
        };
        let (sender, receiver) = crossbeam_channel::bounded(config.queue_bound);
        let (exit_signal, exited) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::new(Shared {
            running: AtomicUsize::new(0),
            done: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
            current: (0..workers).map(|_| Mutex::new(None)).collect(),
            idle: Idle {
                rendezvous: config.queue_bound == 0,
                asleep: Mutex::new(Vec::with_capacity(workers)),
                asleep_count: AtomicUsize::new(0),
            },
        });
        let mut pool = Pool {
            sender: Some(sender),
            receiver,
            exited,
            workers: Vec::with_capacity(workers),
            shared,
        };
        for index in 0..workers {
            let thread = format!("pulse-dispatch-{index}");
            let jobs = pool.receiver.clone();
            let shared = Arc::clone(&pool.shared);
            let exit_signal = exit_signal.clone();
            let spawned = std::thread::Builder::new()
                .name(thread.clone())
                .spawn(move || {
                    work(index, &jobs, &shared);
                    drop(exit_signal);
                });
            match spawned {
                Ok(handle) => pool.workers.push(handle),
                // Dropping `pool` shuts down the workers already started.
                Err(source) => return Err(Error::new(ErrorKind::Spawn { thread, source })),
            }
        }
        Ok(pool)
    }

    /// Queues a job, blocking while the queue is full: back-pressure
    /// instead of unbounded memory. Never drops the job.
    pub fn submit(&self, job: Job) {
        self.sender()
            .send(job)
            .unwrap_or_else(|_| unreachable!("the pool holds a receiver"));
        self.shared.idle.job_queued();
    }

    /// Queues a job if there is room now, else hands it back.
    pub fn try_submit(&self, job: Job) -> Result<(), QueueFull> {
        match self.sender().try_send(job) {
            Ok(()) => {
                self.shared.idle.job_queued();
                Ok(())
            }
            Err(TrySendError::Full(job)) => Err(QueueFull(job)),
            Err(TrySendError::Disconnected(_)) => unreachable!("the pool holds a receiver"),
        }
    }

    /// Queues a job, waiting up to `timeout` for room, else hands it back:
    /// back-pressure for a producer that must also watch for something
    /// else, such as a request to stop.
    pub fn submit_timeout(&self, job: Job, timeout: Duration) -> Result<(), QueueFull> {
        match self.sender().send_timeout(job, timeout) {
            Ok(()) => {
                self.shared.idle.job_queued();
                Ok(())
            }
            Err(SendTimeoutError::Timeout(job)) => Err(QueueFull(job)),
            Err(SendTimeoutError::Disconnected(_)) => unreachable!("the pool holds a receiver"),
        }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.shared.stats(self.receiver.len())
    }

    /// How many worker threads the pool started.
    pub fn workers(&self) -> usize {
        self.shared.current.len()
    }

    /// Stops taking jobs, runs every queued job, then joins the workers.
    /// Waits as long as the slowest callback takes.
    pub fn shutdown(mut self) -> ShutdownReport {
        self.stop_and_join();
        ShutdownReport {
            stats: self.stats(),
            abandoned: Vec::new(),
            still_running: Vec::new(),
        }
    }

    /// Like [`Pool::shutdown`], but gives up at `timeout`: jobs still queued
    /// are dropped unrun (their completions count them as abandoned) and
    /// workers still running a job are detached.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ShutdownReport {
        let deadline = Instant::now() + timeout;
        self.close();
        loop {
            match self.exited.recv_deadline(deadline) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Disconnected) => {
                    self.join_workers();
                    return ShutdownReport {
                        stats: self.stats(),
                        abandoned: Vec::new(),
                        still_running: Vec::new(),
                    };
                }
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        let abandoned: Vec<String> = self
            .receiver
            .try_iter()
            .map(|job| job.key.clone())
            .collect();
        let still_running: Vec<String> = self
            .shared
            .current
            .iter()
            .filter_map(|slot| lock(slot).clone())
            .collect();
        let stats = self.stats();
        log::warn!(
            "dispatch shutdown deadline passed: {} queued jobs dropped, {} still running: {:?}",
            abandoned.len(),
            still_running.len(),
            still_running
        );
        // Detached: each exits once its current job returns.
        self.workers.clear();
        ShutdownReport {
            stats,
            abandoned,
            still_running,
        }
    }

    fn sender(&self) -> &Sender<Job> {
        self.sender
            .as_ref()
            .expect("the sender lives until shutdown consumes the pool")
    }

    /// Drops the sender, so workers end once the queue is empty, and wakes
    /// the sleeping ones to see it.
    fn close(&mut self) {
        if self.sender.take().is_some() {
            self.shared.idle.closed();
        }
    }

    fn stop_and_join(&mut self) {
        self.close();
        self.join_workers();
    }

    fn join_workers(&mut self) {
        for worker in self.workers.drain(..) {
            // Callbacks' panics are caught, so a worker only fails on a bug here.
            if worker.join().is_err() {
                log::error!("a dispatch worker thread panicked outside a job");
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Shared {
    fn stats(&self, queued: usize) -> Stats {
        Stats {
            queued,
            running: self.running.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            panicked: self.panicked.load(Ordering::Relaxed),
        }
    }
}

fn work(index: usize, jobs: &Receiver<Job>, shared: &Shared) {
    let slot = &shared.current[index];
    // Ends when the sender is dropped and the queue is empty.
    while let Some(mut job) = shared.idle.next(index, jobs) {
        let run = job.run.take().expect("a queued job has not run");
        let completion = job.completion.take();
        *lock(slot) = Some(std::mem::take(&mut job.key));
        shared.running.fetch_add(1, Ordering::Relaxed);

        let result = catch_unwind(AssertUnwindSafe(run));

        let key = lock(slot).take().unwrap_or_default();
        let panicked = result.is_err();
        if let Err(payload) = result {
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("non-string panic payload");
            log::error!("callback job {key:?} panicked: {message}");
            shared.panicked.fetch_add(1, Ordering::Relaxed);
        }
        shared.running.fetch_sub(1, Ordering::Relaxed);
        shared.done.fetch_add(1, Ordering::Relaxed);
        if let Some(completion) = completion {
            completion.record_run(panicked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits until `condition` holds, failing after a generous deadline.
    fn wait_until(what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::yield_now();
        }
    }

    #[test]
    fn idle_workers_sleep_on_the_condvar_and_wake_for_work() {
        let pool = Pool::new(Config::default().with_workers(3).with_queue_bound(4)).unwrap();
        let sleepers = || pool.shared.idle.asleep_count.load(Ordering::SeqCst);
        wait_until("every worker sleeps", || sleepers() == 3);
        let (done, finished) = crossbeam_channel::unbounded();
        for _ in 0..10 {
            let done = done.clone();
            pool.submit(Job::new("wake", move || done.send(()).unwrap()));
        }
        for _ in 0..10 {
            finished
                .recv_timeout(Duration::from_secs(30))
                .expect("a woken worker runs the job");
        }
        wait_until("every worker sleeps again", || sleepers() == 3);
        assert!(pool.shutdown().is_complete());
    }
}
