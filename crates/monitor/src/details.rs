//! Details of Taskcluster records, fetched off the message path: a build's
//! URLs (installer, tests, test packages, symbols) from its artifact list,
//! a test's build from its definition, and a failed test's failure lines
//! from its errorsummary artifacts (pulse-taskcluster's `Queue`).
//!
//! [`DetailsSettings`] say how. The intake hands each record that wants
//! details to the `DetailsDesk` with what delivers it (its callback calls,
//! holding the message's acknowledgement back) and moves on: fetching runs
//! on the desk's own threads, a bounded queue in front of them. A record
//! goes on without its details, saying why, when its deadline passes first
//! (a hung or slow queue), or when too many records wait already; it never
//! waits longer than [`DetailsSettings::timeout`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use pulse_taskcluster::{build_urls, errorsummary, tested_build, Queue};
use pulse_translator::{FailureLine, JobInfo, JobResult, Record};

use crate::{Error, ErrorKind};

/// How long a record waits for its details by default.
pub const DEFAULT_DETAILS_TIMEOUT: Duration = Duration::from_secs(30);

/// How records get their details: from which Taskcluster deployment, how
/// long a record may wait, how many fetch at once.
/// [`DetailsSettings::firefox_ci`] or [`DetailsSettings::new`], changed with
/// the `with_` methods.
#[derive(Clone)]
#[non_exhaustive]
pub struct DetailsSettings {
    /// The queue client (root URL, request timeout, retries, caps, cache).
    pub queue: Arc<Queue>,
    /// How long a record waits for its details before it goes without
    /// them ([`DEFAULT_DETAILS_TIMEOUT`], 30 s).
    pub timeout: Duration,
    /// Threads fetching details (default 8).
    pub workers: usize,
    /// Records that may wait for a fetching thread; past that a record
    /// goes without its details at once (default 1,000). A monitor on a
    /// broker caps it at half its prefetch window: each waiting record
    /// holds its message's acknowledgement, and the rest of the window must
    /// keep flowing while the queue is slow.
    pub waiting: usize,
    /// Caps on each errorsummary read.
    pub limits: errorsummary::Limits,
}

impl DetailsSettings {
    /// Details from this queue.
    pub fn new(queue: Queue) -> DetailsSettings {
        DetailsSettings {
            queue: Arc::new(queue),
            timeout: DEFAULT_DETAILS_TIMEOUT,
            workers: 8,
            waiting: 1000,
            limits: errorsummary::Limits::default(),
        }
    }

    /// Details from Firefox CI's queue (`firefox-ci-tc.services.mozilla.com`).
    pub fn firefox_ci() -> Result<DetailsSettings, Error> {
        let queue = Queue::firefox_ci().map_err(|e| Error::new(ErrorKind::Details(e)))?;
        Ok(DetailsSettings::new(queue))
    }

    /// With records waiting at most `timeout` for their details.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> DetailsSettings {
        self.timeout = timeout;
        self
    }

    /// With `workers` fetching threads.
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> DetailsSettings {
        self.workers = workers.max(1);
        self
    }
}

impl std::fmt::Debug for DetailsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetailsSettings")
            .field("root_url", &self.queue.root_url())
            .field("timeout", &self.timeout)
            .field("workers", &self.workers)
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

/// What a record's details are about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wanted {
    /// A build's own URLs.
    BuildUrls,
    /// A test's build, and its failure lines when it failed.
    Test { failed: bool },
}

/// Which records want details: finished Taskcluster builds and tests.
fn wanted(record: &Record) -> Option<Wanted> {
    let job = record.job()?;
    job.task_id.as_ref()?;
    match record {
        Record::Build(_) => Some(Wanted::BuildUrls),
        Record::Test(_) => Some(Wanted::Test {
            failed: job.result == Some(JobResult::Testfailed),
        }),
        _ => None,
    }
}

/// What delivers a record once it has its details, or without them: its
/// callback calls (which hold the message's acknowledgement back), and
/// the push tracker's failure lines.
pub(crate) type Deliver = Box<dyn FnOnce(Record) + Send>;

/// A record on its way to its details, delivered once: by the fetching
/// thread when they came, or by the deadline when it passed first.
struct Pending {
    record: Mutex<Option<(Record, Deliver)>>,
    deadline: Instant,
}

impl Pending {
    fn take(&self) -> Option<(Record, Deliver)> {
        self.record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Delivers the record as it is, saying why it has no details; nothing
    /// when it was delivered already.
    fn deliver_without(&self, reason: &str) {
        if let Some((mut record, deliver)) = self.take() {
            if let Some(job) = record.job_mut() {
                job.details_unavailable = Some(reason.to_string());
            }
            deliver(record);
        }
    }
}

/// The fetching threads and the deadline watch.
pub(crate) struct DetailsDesk {
    settings: DetailsSettings,
    queue: Sender<Arc<Pending>>,
    deadlines: Arc<Deadlines>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Records waiting, in the order they came: with one timeout for all,
/// that is the order of their deadlines, so the watch sleeps until the
/// first and is never woken for a record (a channel message a record woke
/// a thread each time, a cost per record at 1,000 msg/s).
struct Deadlines {
    waiting: Mutex<VecDeque<(Instant, Weak<Pending>)>>,
    stopped: AtomicBool,
}

impl DetailsDesk {
    pub(crate) fn start(settings: DetailsSettings) -> Result<Arc<DetailsDesk>, Error> {
        let (queue, jobs) = crossbeam_channel::bounded::<Arc<Pending>>(settings.waiting);
        let deadlines = Arc::new(Deadlines {
            waiting: Mutex::new(VecDeque::new()),
            stopped: AtomicBool::new(false),
        });
        let desk = Arc::new(DetailsDesk {
            settings: settings.clone(),
            queue,
            deadlines: Arc::clone(&deadlines),
            threads: Mutex::new(Vec::new()),
        });
        let spawn = |name: String, body: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(body)
                .map_err(|e| Error::new(ErrorKind::Spawn(e)))
        };
        let mut threads = Vec::new();
        for index in 0..settings.workers {
            let (jobs, settings) = (jobs.clone(), settings.clone());
            threads.push(spawn(
                format!("pulse-monitor-details-{index}"),
                Box::new(move || fetch_loop(&jobs, &settings)),
            )?);
        }
        threads.push(spawn(
            "pulse-monitor-details-deadlines".into(),
            Box::new(move || watch_deadlines(&deadlines, settings.timeout)),
        )?);
        *desk.threads.lock().unwrap_or_else(PoisonError::into_inner) = threads;
        Ok(desk)
    }

    /// Whether `record` has details to fetch: a finished Taskcluster build
    /// or test.
    pub(crate) fn wants(&self, record: &Record) -> bool {
        wanted(record).is_some()
    }

    /// Takes a record that [`wants`](Self::wants) details; `deliver` is
    /// called once, on another thread, within the timeout.
    pub(crate) fn take(&self, record: Record, deliver: Deliver) {
        let pending = Arc::new(Pending {
            record: Mutex::new(Some((record, deliver))),
            deadline: Instant::now() + self.settings.timeout,
        });
        self.deadlines
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((pending.deadline, Arc::downgrade(&pending)));
        match self.queue.try_send(Arc::clone(&pending)) {
            Ok(()) => {}
            Err(TrySendError::Full(pending)) => {
                pending.deliver_without("too many records are waiting for their details")
            }
            Err(TrySendError::Disconnected(pending)) => {
                pending.deliver_without("the monitor is stopping")
            }
        }
    }
}

impl Drop for DetailsDesk {
    fn drop(&mut self) {
        // The fetching threads end when the queue closes (the desk owns
        // its sender), the watch when told; they are not joined: one may
        // be in a request.
        self.deadlines.stopped.store(true, Ordering::Release);
        for thread in
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner))
        {
            thread.thread().unpark();
        }
    }
}

fn fetch_loop(jobs: &Receiver<Arc<Pending>>, settings: &DetailsSettings) {
    for pending in jobs.iter() {
        if Instant::now() >= pending.deadline {
            pending.deliver_without(&timed_out(settings.timeout));
            continue;
        }
        // Read what to fetch without holding the record: the deadline may
        // deliver it meanwhile.
        let subject = {
            let slot = pending
                .record
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            slot.as_ref().and_then(|(record, _)| {
                let job = record.job()?;
                Some((wanted(record)?, job.task_id.clone()?, job.run_id?))
            })
        };
        let Some((wanted, task_id, run_id)) = subject else {
            continue;
        };
        let details = fetch(settings, wanted, &task_id, run_id);
        if let Some((mut record, deliver)) = pending.take() {
            if let Some(job) = record.job_mut() {
                details.apply(job);
            }
            deliver(record);
        }
    }
}

/// Delivers each record whose deadline passed before its details came,
/// sleeping until the first deadline. A record taken while it sleeps has
/// a later deadline than any it saw, so nothing needs to wake it; an
/// empty watch sleeps one timeout at a time.
fn watch_deadlines(deadlines: &Deadlines, timeout: Duration) {
    while !deadlines.stopped.load(Ordering::Acquire) {
        let now = Instant::now();
        let (due, next) = {
            let mut waiting = deadlines
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let passed = waiting.iter().take_while(|(at, _)| *at <= now).count();
            let due: Vec<Weak<Pending>> = waiting.drain(..passed).map(|(_, p)| p).collect();
            (due, waiting.front().map(|(at, _)| *at))
        };
        for pending in due {
            // Gone: delivered with its details and dropped already.
            if let Some(pending) = pending.upgrade() {
                pending.deliver_without(&timed_out(timeout));
            }
        }
        let sleep = next.map_or(timeout, |at| at.saturating_duration_since(Instant::now()));
        std::thread::park_timeout(sleep);
    }
}

fn timed_out(timeout: Duration) -> String {
    format!(
        "no answer from the Taskcluster queue within {} s",
        timeout.as_secs_f64()
    )
}

/// What was learnt about a record, or why nothing was.
#[derive(Debug, Default)]
struct Details {
    buildurl: Option<String>,
    testsurl: Option<String>,
    test_packages_url: Option<String>,
    symbols_url: Option<String>,
    failures: Vec<FailureLine>,
    failing_groups: Vec<String>,
    unavailable: Option<String>,
}

impl Details {
    fn apply(self, job: &mut JobInfo) {
        job.buildurl = job.buildurl.take().or(self.buildurl);
        job.testsurl = job.testsurl.take().or(self.testsurl);
        job.test_packages_url = job.test_packages_url.take().or(self.test_packages_url);
        job.symbols_url = job.symbols_url.take().or(self.symbols_url);
        job.failures = self.failures;
        job.failing_groups = self.failing_groups;
        job.details_unavailable = self.unavailable;
    }
}

/// Fetches a record's details; any failure is the reason they are
/// unavailable, never an error of the monitor.
fn fetch(settings: &DetailsSettings, wanted: Wanted, task_id: &str, run_id: u32) -> Details {
    let queue = &settings.queue;
    let mut details = Details::default();
    match wanted {
        Wanted::BuildUrls => match queue.resolved_run_artifacts(task_id, run_id) {
            Ok(artifacts) => {
                let urls = build_urls(queue.root_url(), task_id, run_id, &artifacts);
                details.buildurl = urls.installer;
                details.testsurl = urls.tests;
                details.test_packages_url = urls.test_packages;
                details.symbols_url = urls.symbols;
            }
            Err(e) => details.unavailable = Some(e.to_string()),
        },
        Wanted::Test { failed } => {
            match queue.task(task_id) {
                Ok(task) => details.buildurl = tested_build(queue.root_url(), &task).installer,
                Err(e) => details.unavailable = Some(e.to_string()),
            }
            if failed {
                if let Err(reason) = failure_lines(settings, task_id, run_id, &mut details) {
                    details.unavailable.get_or_insert(reason);
                }
            }
        }
    }
    details
}

/// The failure lines of a failed test run, from all its errorsummaries.
fn failure_lines(
    settings: &DetailsSettings,
    task_id: &str,
    run_id: u32,
    details: &mut Details,
) -> Result<(), String> {
    let queue = &settings.queue;
    let artifacts = queue
        .resolved_run_artifacts(task_id, run_id)
        .map_err(|e| e.to_string())?;
    let mut summaries = artifacts
        .iter()
        .filter(|a| errorsummary::is_errorsummary(&a.name))
        .peekable();
    if summaries.peek().is_none() {
        return Err("the run has no errorsummary artifact".to_string());
    }
    let mut merged: Option<errorsummary::Summary> = None;
    let mut problems = Vec::new();
    for artifact in summaries {
        match queue.artifact(task_id, run_id, &artifact.name) {
            Ok(bytes) => {
                let summary = errorsummary::read(&bytes, &settings.limits);
                match summary.unusable() {
                    Some(reason) => problems.push(format!("{}: {reason}", artifact.name)),
                    None => match &mut merged {
                        Some(all) => all.merge(summary, &settings.limits),
                        None => merged = Some(summary),
                    },
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let Some(summary) = merged else {
        return Err(problems.join("; "));
    };
    details.failures = summary
        .failures
        .iter()
        .map(|f| FailureLine {
            test: f.test.clone(),
            subtest: f.subtest.clone(),
            status: f.status.clone(),
            expected: f.expected.clone(),
            message: f.message.clone(),
            signature: f.signature.clone(),
            line: f.line(),
        })
        .collect();
    details.failing_groups = summary.failing_groups;
    Ok(())
}
