//! A Taskcluster queue's API served on this machine, so that record
//! details (build URLs, failure lines) can be tried with no network.
//!
//! [`LocalQueue::serve_push`] answers what the real queue would answer about
//! a generated push (`pulse-synthetic`'s [`Push::queue_api`]: each run's
//! artifact list, each test's definition, each failed test's errorsummary,
//! the task group's listing); [`LocalQueue::serve`] answers any paths with
//! any [`Reply`], faults included (a status, failures then success, a
//! request never answered), which is how the workspace's tests stand up a
//! misbehaving queue. Paths not given are 404, as the queue answers an
//! unknown task. It serves on its own thread until dropped (its port
//! closes just after).
//!
//! Its neighbours: `pulse-taskcluster`'s `Queue` is the client to point at
//! [`LocalQueue::root_url`]; `pulse-monitor serve --synthetic-push` shows a
//! generated push's details from one; `pulse-test-support` wraps it for
//! tests.
//!
//! ```
//! use pulse_local_queue::LocalQueue;
//! use pulse_synthetic::Push;
//! use pulse_taskcluster::Queue;
//!
//! let push = Push::builder().tree("autoland").tasks(300).seed(7).build();
//! let local = LocalQueue::serve_push(&push, "127.0.0.1:0".parse()?)?;
//! let queue = Queue::new(local.root_url())?;
//! // Every build's artifact list names its installer.
//! let build = push.tasks.iter().find(|t| t.label.starts_with("build-linux64/")).unwrap();
//! let artifacts = queue.artifacts(&build.task_id, 0)?;
//! assert!(artifacts.iter().any(|a| a.name == "public/build/target.tar.xz"));
//! // A task the push does not have is unknown, as on the real queue.
//! assert!(queue.task("AAAAAAAAAAAAAAAAAAAAAA").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod error;
mod reply;
mod server;

pub use error::{Error, ErrorKind};
pub use reply::Reply;
pub use server::LocalQueue;

#[cfg(doc)]
use pulse_synthetic::Push;
