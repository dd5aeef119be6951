//! Pulse's exchange names: the one place they are written, each with the
//! [`Family`] of messages it carries.
//!
//! The translator reads a message by its exchange's family ([`family`]),
//! the monitor binds its queue to these names and the command line
//! publishes to them. Adding an exchange is one constant and one line of
//! [`EXCHANGES`]; a new family is a new [`Family`] and its translator.

/// Raw buildbot messages (the routing key names the build step).
pub const BUILD: &str = "exchange/build/";
/// Messages normalized by the reference translator (pulsetranslator).
pub const BUILD_NORMALIZED: &str = "exchange/build/normalized";
/// The name mozillapulse gave [`BUILD`] before Pulse's exchanges moved
/// under `exchange/`.
pub const BUILD_LEGACY: &str = "org.mozilla.exchange.build";
/// The name mozillapulse gave [`BUILD_NORMALIZED`] before the move.
pub const BUILD_NORMALIZED_LEGACY: &str = "org.mozilla.exchange.build.normalized";
/// Taskcluster: a task was created (every task of a graph, as the decision
/// task or an action defines it).
pub const TASK_DEFINED: &str = "exchange/taskcluster-queue/v1/task-defined";
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
/// Taskcluster: every task of a task group has resolved, for now (a group
/// may resolve again when tasks are added to it).
pub const TASK_GROUP_RESOLVED: &str = "exchange/taskcluster-queue/v1/task-group-resolved";
/// Every exchange of the Taskcluster queue starts with this; a queue
/// exchange without a constant here is still read as Taskcluster's.
pub const TASKCLUSTER_QUEUE_PREFIX: &str = "exchange/taskcluster-queue/";
/// hg.mozilla.org: a push to a repository (format `changegroup.1`,
/// `newrepo.1`, `obsolete.1`; version-control-tools'
/// `docs/hgmo/notifications.rst`).
pub const HG_PUSHES: &str = "exchange/hgpushes/v2";

/// The Taskcluster exchanges of finished runs: what a monitor reads by
/// default.
pub const TASK_FINISHED: [&str; 3] = [TASK_COMPLETED, TASK_FAILED, TASK_EXCEPTION];
/// The Taskcluster exchanges of runs not finished yet: read only when
/// progress is asked for.
pub const TASK_PROGRESS: [&str; 2] = [TASK_PENDING, TASK_RUNNING];
/// Every Taskcluster exchange of a task's runs, in lifecycle order.
pub const TASK_ALL: [&str; 5] = [
    TASK_PENDING,
    TASK_RUNNING,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_EXCEPTION,
];
/// What a push tracker reads besides [`TASK_ALL`]: the expected set of
/// tasks, the hint that a group is done, and the push itself.
pub const PUSH_LIFECYCLE: [&str; 3] = [TASK_DEFINED, TASK_GROUP_RESOLVED, HG_PUSHES];

/// Which translator reads an exchange's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Raw buildbot messages.
    Buildbot,
    /// Payloads the reference translator normalized.
    Normalized,
    /// Taskcluster queue messages.
    Taskcluster,
    /// hg.mozilla.org push notifications.
    HgPush,
}

/// How an entry of [`EXCHANGES`] names its exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    /// Exactly this name.
    Exact(&'static str),
    /// Every name starting with this.
    Prefix(&'static str),
}

/// Every exchange the workspace reads, with its family: exact names first,
/// so a prefix only catches what no exact line names.
pub const EXCHANGES: &[(Name, Family)] = &[
    (Name::Exact(BUILD), Family::Buildbot),
    (Name::Exact(BUILD_LEGACY), Family::Buildbot),
    (Name::Exact(BUILD_NORMALIZED), Family::Normalized),
    (Name::Exact(BUILD_NORMALIZED_LEGACY), Family::Normalized),
    (Name::Exact(HG_PUSHES), Family::HgPush),
    (Name::Prefix(TASKCLUSTER_QUEUE_PREFIX), Family::Taskcluster),
];

/// The family of the messages on `exchange`, or `None` for an exchange
/// nobody here reads.
pub fn family(exchange: &str) -> Option<Family> {
    EXCHANGES
        .iter()
        .find(|(name, _)| match name {
            Name::Exact(exact) => exchange == *exact,
            Name::Prefix(prefix) => exchange.starts_with(prefix),
        })
        .map(|(_, family)| *family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_exchange_has_a_family() {
        for exchange in TASK_ALL.iter().chain(&PUSH_LIFECYCLE) {
            assert!(family(exchange).is_some(), "{exchange}");
        }
        assert_eq!(family(TASK_GROUP_RESOLVED), Some(Family::Taskcluster));
        assert_eq!(family(HG_PUSHES), Some(Family::HgPush));
        assert_eq!(family(BUILD_NORMALIZED_LEGACY), Some(Family::Normalized));
        assert_eq!(
            family("exchange/build"),
            None,
            "no trailing slash: not ours"
        );
        assert_eq!(family(""), None);
    }
}
