//! Monitor Mozilla CI builds and tests on Pulse: one call starts it.
//!
//! This is the Python `pulsebuildmonitor`'s `start_pulse_monitor` in Rust.
//! [`Monitor::builder`] takes the callbacks, the filter rules, the label
//! and where messages come from; [`MonitorBuilder::start`] returns a
//! [`Monitor`] handle at once while the work runs on the monitor's threads.
//!
//! Each message flows one way through the workspace's crates:
//! `pulse-wire` takes it off the broker (or [`replay`] reads it from a
//! file), `pulse-translator` turns it into [`BuildRecord`]s and
//! [`TestRecord`]s, `pulse-filter` keeps the ones the rules ask for, and
//! `pulse-dispatch` runs the callbacks on a thread pool. The message is
//! acknowledged only after all its callbacks have returned (or panicked),
//! so a crash loses nothing; a panicking or slow callback never stops the
//! monitor.
//!
//! The main types: [`MonitorBuilder`], [`Monitor`], [`Source`] (raw
//! buildbot, normalized or Taskcluster), [`Message`] and [`RawMessage`]
//! (a message as the raw callback sees it), [`Stats`] and [`Error`]. The
//! records, filter and connection settings are re-exported, with what
//! they need ([`Backoff`] for [`ConsumeOptions`], [`Password`] for
//! [`ConnectionSettings`]).
//!
//! The path of a message, one concern a module: on a broker, `pulse-wire`'s
//! connection thread hands each batch of deliveries to the `intake`
//! (dedupe window, translation by `source`, filter, metrics), which gives
//! the pool (`pool`) only the callback calls (`callbacks`); `completion`
//! acknowledges each message once its calls ended. `builder` wires it
//! all, `handle` is the [`Monitor`] a user holds, `shared` what the
//! monitor's threads and the handle share, and `run` is the
//! monitor's own thread: it feeds the in-process source ([`replay`]) and
//! shuts everything down in order. Dependencies run one way: `builder`
//! uses every other module, `handle` and `run` use `shared`, nothing uses
//! `builder`. `pushes` tracks pushes (pulse-push)
//! for `on_push`; with a state file on a broker, `state_writer` holds
//! messages' acknowledgements until their effect on the state is written,
//! one transaction per 50 ms window. `eventlog` writes the log and
//! dead-letter files, `metrics` serves Prometheus text, `stats` counts.
//!
//! With the cargo feature `fetch` (off by default, so the default build
//! never goes online), `TaskDefinitionFetcher` (the `pulse-taskcluster`
//! crate's `Queue`) and `MonitorBuilder::task_definitions` complete
//! Taskcluster messages that do not say enough on their own with their task
//! definitions from the queue.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use pulse_build_monitor::{Filter, Monitor, Message};
//!
//! // A raw buildbot message, as Pulse carried them on `exchange/build/`.
//! let body = br#"{"_meta": {"routing_key": "build.mozilla-central-linux64.7.log_uploaded"},
//!   "payload": {"build": {"results": 0, "properties": [
//!     ["branch", "mozilla-central", "x"], ["platform", "linux64", "x"],
//!     ["buildid", "20150813030204", "x"], ["product", "firefox", "x"],
//!     ["packageUrl", "https://example.org/firefox.tar.bz2", "x"],
//!     ["log_url", "https://example.org/log.txt.gz", "x"],
//!     ["buildername", "Linux x86-64 mozilla-central build", "x"]]}}}"#;
//! let message = Message::new(
//!     "exchange/build/",
//!     "build.mozilla-central-linux64.7.log_uploaded",
//!     body.to_vec(),
//! );
//!
//! let builds = Arc::new(Mutex::new(Vec::new()));
//! let seen = Arc::clone(&builds);
//! let monitor = Monitor::builder()
//!     .filter(Filter::builder().platforms(["linux64"]).build()?)
//!     .on_build(move |build| seen.lock().unwrap().push(build.job.buildurl.clone()))
//!     .messages(vec![message])
//!     .start()?;
//! let report = monitor.join();
//!
//! assert_eq!(report.stats.matched, 1);
//! assert_eq!(
//!     *builds.lock().unwrap(),
//!     vec![Some("https://example.org/firefox.tar.bz2".to_string())]
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod builder;
mod callbacks;
mod completion;
mod dedupe;
mod details;
mod error;
mod eventlog;
#[cfg(feature = "fetch")]
mod fetch;
mod handle;
mod intake;
mod message;
mod metrics;
mod pool;
mod pushes;
mod reconcile;
pub mod replay;
mod run;
mod shared;
mod source;
mod state_writer;
mod stats;

pub use builder::MonitorBuilder;
pub use details::{DetailsSettings, DEFAULT_DETAILS_TIMEOUT};
pub use error::{Error, ErrorKind};
#[cfg(feature = "fetch")]
pub use fetch::TaskDefinitionFetcher;
pub use handle::Monitor;
pub use message::RawMessage;
pub use pulse_push::{
    Counts, FailedTask, PushEvent, PushEventKind, PushState, PushSummary, TrackerConfig,
};
#[cfg(feature = "fetch")]
pub use pulse_taskcluster::{DEFAULT_CACHE_CAPACITY, DEFAULT_TIMEOUT};
pub use pushes::PushSettings;
pub use shared::StopReport;
pub use source::Source;
pub use stats::Stats;

pub use pulse_dispatch::Config as PoolConfig;
pub use pulse_filter::{Filter, FilterSpec, Rejection};
pub use pulse_translator::{
    exchanges, primary_routing_key, BuildRecord, BuildType, JobInfo, JobKind, JobResult, Locales,
    Message, PushRecord, Record, Status, TaskGroupRecord, TaskRecord, TaskState, TestRecord,
};
pub use pulse_wire::{Backoff, ConnectionSettings, ConsumeOptions, Password, QueueType};
