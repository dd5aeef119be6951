//! A fixed thread pool that runs callbacks fed by one bounded channel.
//!
//! The monitor (`pulse-build-monitor`) hands each user callback to a
//! [`Pool`] as a [`Job`], so a slow or panicking callback never stops the
//! thread that reads from the broker (`pulse-wire`). Records come from the
//! translator (`pulse-translator`) and pass the filter (`pulse-filter`)
//! before they get here; this crate knows nothing about them.
//!
//! - [`Pool::new`] starts [`Config::workers`] threads reading one bounded
//!   crossbeam channel; no work stealing, no per-worker queues. An idle
//!   worker sleeps on a condition variable until a submit wakes it, so an
//!   idle pool uses no CPU and a worker does not spin after each job.
//! - [`Pool::submit`] blocks while the queue is full, so a flood of
//!   messages slows the consumer instead of growing memory;
//!   [`Pool::try_submit`] hands the job back instead.
//! - A panicking callback is caught, logged at error level with its job's
//!   key and counted in [`Stats::panicked`]; the worker goes on.
//! - [`Pool::shutdown`] drains the queue and joins the workers;
//!   [`Pool::shutdown_timeout`] gives up at a deadline and says which jobs
//!   were left in a [`ShutdownReport`]. Dropping the pool is `shutdown`.
//!
//! # Completions: acknowledging a message after all its callbacks
//!
//! One Pulse message may start several jobs: the raw-message callback and
//! one build or test callback per translated record. The broker must be
//! told (acked) only after all of them finished, and only by the thread
//! that owns the AMQP channel. A [`Completion`] ties those jobs together:
//! create one per message with an `on_done` that sends the delivery tag
//! back to the consumer thread, attach a clone to each job with
//! [`Job::with_completion`], and drop the original. When the last job has
//! run, `on_done` receives an [`Outcome`]: how many ran, panicked, or were
//! abandoned unrun at a shutdown deadline (leave those unacked so the
//! broker redelivers them). A message whose records all failed the filter
//! attaches no job, so its completion fires as soon as it is dropped.
//!
//! ```
//! use std::sync::Arc;
//! use pulse_dispatch::{Completion, Config, Job, Pool};
//!
//! let pool = Pool::new(Config::default().with_workers(2).with_queue_bound(16))?;
//! let (acks, acked) = crossbeam_channel::unbounded();
//! let build_callback = Arc::new(|record: String| assert!(record.starts_with("build")));
//!
//! // One message, delivery tag 7, two records.
//! let completion = Completion::new(move |outcome| acks.send((7, outcome)).unwrap());
//! for record in ["build one", "build two"] {
//!     let callback = Arc::clone(&build_callback);
//!     let record = record.to_owned();
//!     pool.submit(
//!         Job::new("build.mozilla-central.linux", move || callback(record))
//!             .with_completion(completion.clone()),
//!     );
//! }
//! drop(completion);
//!
//! let (tag, outcome) = acked.recv()?;
//! assert_eq!(tag, 7);
//! assert_eq!(outcome.ran, 2);
//! assert!(outcome.is_clean());
//! assert!(pool.shutdown().is_complete());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: `pool` (the [`Pool`], its [`Job`]s and their counters),
//! `completion` (the [`Completion`] token that learns when every job of one
//! message has ended) and `error`.
#![deny(missing_docs)]

mod completion;
mod error;
mod pool;

pub use completion::{Completion, Outcome};
pub use error::{Error, ErrorKind};
pub use pool::{Config, Job, Pool, QueueFull, ShutdownReport, Stats};
