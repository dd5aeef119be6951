//! Pulse's exchange names: the one place they are written.
//!
//! The translator reads a message by the exchange it came from, the
//! monitor binds its queue to them and the command line publishes to them.

/// Raw buildbot messages (the routing key names the build step).
pub const BUILD: &str = "exchange/build/";
/// Messages normalized by the reference translator (pulsetranslator).
pub const BUILD_NORMALIZED: &str = "exchange/build/normalized";
/// Taskcluster: a task's run became ready to run.
pub const TASK_PENDING: &str = "exchange/taskcluster-queue/v1/task-pending";
/// Taskcluster: a worker started a run.
pub const TASK_RUNNING: &str = "exchange/taskcluster-queue/v1/task-running";
/// Taskcluster: a run finished successfully.
pub const TASK_COMPLETED: &str = "exchange/taskcluster-queue/v1/task-completed";
/// Taskcluster: a run finished unsuccessfully.
pub const TASK_FAILED: &str = "exchange/taskcluster-queue/v1/task-failed";
/// Taskcluster: a run ended by an exception (cancelled, superseded, lost
/// worker…).
pub const TASK_EXCEPTION: &str = "exchange/taskcluster-queue/v1/task-exception";

/// The Taskcluster exchanges of finished runs: what a monitor reads by
/// default.
pub const TASK_FINISHED: [&str; 3] = [TASK_COMPLETED, TASK_FAILED, TASK_EXCEPTION];
/// The Taskcluster exchanges of runs not finished yet: read only when
/// progress is asked for.
pub const TASK_PROGRESS: [&str; 2] = [TASK_PENDING, TASK_RUNNING];
/// Every Taskcluster queue exchange the translator reads, in lifecycle order.
pub const TASK_ALL: [&str; 5] = [
    TASK_PENDING,
    TASK_RUNNING,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_EXCEPTION,
];
