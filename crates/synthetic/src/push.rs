//! Building a push: choosing its tasks, then running each of them through
//! the queue's states on a simulated clock.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Months, TimeZone, Utc};

use crate::catalog::{self, Family, Index, Pool, Spec, Tree, Worker};
use crate::rng::Rng;
use crate::{ExceptionReason, JobKind, Outcome, Push, SyntheticRun, SyntheticTask};

/// The default number of tasks: about a full push.
const DEFAULT_TASKS: usize = 3000;
/// The most tasks a push has, retriggers included.
const MAX_TASKS: usize = 100_000;
/// The queue's `claimTimeout`: a claim lasts 20 minutes unless reclaimed.
const CLAIM_TIMEOUT: i64 = 1200;
/// The queue's `deadlineDelay`: the deadline resolver runs a minute late.
const DEADLINE_DELAY: i64 = 60;
/// Runs per task at most: the first and two automatic reruns.
const MAX_RUNS: usize = 3;
/// Sheriffs retrigger this share of the test tasks that failed.
const RETRIGGER_SHARE: f64 = 0.3;

/// Builds a [`Push`]: the tree, about how many tasks, and the seed that
/// makes it; the same settings always make the same push.
///
/// ```
/// use pulse_synthetic::Push;
///
/// let push = Push::builder().tree("mozilla-central").tasks(500).seed(7).build();
/// assert_eq!(push.tree, "mozilla-central");
/// assert_eq!(push.tasks[0].label, "Gecko Decision Task");
/// assert_eq!(push.tasks[0].task_id, push.decision_task_id);
/// ```
#[derive(Clone, Debug)]
pub struct PushBuilder {
    tree: String,
    tasks: usize,
    seed: u64,
    revision: Option<String>,
    push_id: Option<u64>,
    pushed_at: Option<DateTime<Utc>>,
}

/// Settings a push cannot be made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidPush {
    reason: String,
}

impl fmt::Display for InvalidPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for InvalidPush {}

impl Default for PushBuilder {
    fn default() -> Self {
        PushBuilder::new()
    }
}

impl PushBuilder {
    /// autoland, about 3000 tasks, seed 1; revision, push id and push time
    /// from the seed.
    pub fn new() -> PushBuilder {
        PushBuilder {
            tree: "autoland".to_string(),
            tasks: DEFAULT_TASKS,
            seed: 1,
            revision: None,
            push_id: None,
            pushed_at: None,
        }
    }

    /// The tree (Treeherder project): letters, digits, `-` and `_`.
    /// `try` makes a level-1 push; mozilla-central and the release trees
    /// sign as production does.
    pub fn tree(mut self, tree: impl Into<String>) -> Self {
        self.tree = tree.into();
        self
    }

    /// About how many tasks the push has. Below the full graph (about 3050
    /// tasks), tests are what is left out, as the optimizer leaves them out
    /// of real pushes; above it, retriggers of tests make up the rest, up
    /// to 100 000 tasks.
    pub fn tasks(mut self, tasks: usize) -> Self {
        self.tasks = tasks;
        self
    }

    /// The seed every choice comes from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The revision: 40 lowercase hex digits (default: from the seed).
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    /// The pushlog id (default: from the seed).
    pub fn push_id(mut self, push_id: u64) -> Self {
        self.push_id = Some(push_id);
        self
    }

    /// When the push happened (default: a time in January 2026 from the
    /// seed). Every message's times follow from it.
    pub fn pushed_at(mut self, pushed_at: DateTime<Utc>) -> Self {
        self.pushed_at = Some(pushed_at);
        self
    }

    /// The push, or why these settings cannot make one.
    pub fn try_build(self) -> Result<Push, InvalidPush> {
        if self.tree.is_empty()
            || !self
                .tree
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidPush {
                reason: format!(
                    "tree {:?}: a Treeherder project is letters, digits, '-' and '_'",
                    self.tree
                ),
            });
        }
        if let Some(revision) = &self.revision {
            if revision.len() != 40
                || !revision
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                return Err(InvalidPush {
                    reason: format!("revision {revision:?}: 40 lowercase hex digits"),
                });
            }
        }
        Ok(Simulation::new(&self).run())
    }

    /// The push.
    ///
    /// # Panics
    ///
    /// If the tree or revision is malformed; see [`PushBuilder::try_build`].
    pub fn build(self) -> Push {
        match self.try_build() {
            Ok(push) => push,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Per-run chances, by the task's family and pool. Approximations: see the
/// crate documentation.
struct Rates {
    failed: f64,
    exceptions: &'static [(ExceptionReason, f64)],
}

fn rates(family: Family, pool: Pool) -> Rates {
    use ExceptionReason::*;
    let cloud = matches!(pool, Pool::Gcp | Pool::Azure);
    match family {
        Family::Decision | Family::Action => Rates {
            failed: 0.002,
            exceptions: &[],
        },
        Family::Build => Rates {
            failed: 0.01,
            exceptions: &[
                (WorkerShutdown, 0.01),
                (ClaimExpired, 0.002),
                (Canceled, 0.001),
                (InternalError, 0.0005),
            ],
        },
        Family::Test if cloud => Rates {
            failed: 0.025,
            exceptions: &[
                (WorkerShutdown, 0.015),
                (IntermittentTask, 0.006),
                (ClaimExpired, 0.004),
                (Canceled, 0.002),
                (ResourceUnavailable, 0.0005),
                (InternalError, 0.0003),
                (MalformedPayload, 0.0002),
            ],
        },
        Family::Test => Rates {
            failed: 0.025,
            exceptions: &[
                (IntermittentTask, 0.006),
                (ClaimExpired, 0.006),
                (WorkerShutdown, 0.003),
                (Canceled, 0.002),
                (ResourceUnavailable, 0.001),
                (InternalError, 0.0005),
            ],
        },
        Family::Lint => Rates {
            failed: 0.02,
            exceptions: &[(WorkerShutdown, 0.005), (ClaimExpired, 0.001)],
        },
        Family::Signing => Rates {
            failed: 0.002,
            exceptions: &[(IntermittentTask, 0.004), (InternalError, 0.001)],
        },
        Family::Support => Rates {
            failed: 0.005,
            exceptions: &[(WorkerShutdown, 0.005), (ClaimExpired, 0.001)],
        },
    }
}

/// The chance a run waits on its pool until the task's deadline: the
/// hardware pools that queue for hours.
fn starved(pool: Pool) -> f64 {
    match pool {
        Pool::Bitbar => 0.01,
        Pool::Hardware => 0.003,
        _ => 0.0,
    }
}

/// Seconds a pending run waits for a worker of its pool.
fn wait(pool: Pool, rng: &mut Rng) -> i64 {
    match pool {
        Pool::Gcp => rng.between(15, 300),
        Pool::Azure => rng.between(60, 600),
        Pool::Hardware => rng.between(60, 1800),
        Pool::Bitbar => rng.between(300, 3600),
        Pool::Scriptworker => rng.between(2, 60),
        Pool::MacScriptworker => rng.between(10, 300),
    }
}

/// A worker of the pool: its group and id, as the pool's provider names them.
fn worker(w: &Worker, rng: &mut Rng) -> (String, String) {
    match w.pool {
        Pool::Gcp => {
            let zone = *rng.pick(&[
                "us-central1-a",
                "us-central1-b",
                "us-central1-f",
                "us-west1-a",
                "us-west1-b",
                "us-east1-c",
            ]);
            let id = format!(
                "{}{:018}",
                rng.between(1, 9),
                rng.below(1_000_000_000_000_000_000)
            );
            (zone.to_string(), id)
        }
        Pool::Azure => {
            let region = *rng.pick(&[
                "eastus",
                "eastus2",
                "westus2",
                "westus3",
                "centralus",
                "northcentralus",
            ]);
            (region.to_string(), format!("vm-{}", rng.alnum(32)))
        }
        Pool::Hardware if w.worker_type.contains("osx") => {
            let model = if w.worker_type.contains("-r8") {
                "r8"
            } else {
                "m4"
            };
            (
                "mdc1".to_string(),
                format!("macmini-{model}-{}", rng.between(1, 160)),
            )
        }
        Pool::Hardware if w.worker_type.contains("win") => (
            "mdc1".to_string(),
            format!("nuc-win11-{:03}", rng.between(1, 120)),
        ),
        Pool::Hardware => (
            "mdc1".to_string(),
            format!("t-linux-talos-{:03}", rng.between(1, 120)),
        ),
        Pool::Bitbar => (
            "bitbar".to_string(),
            format!("a55-{:02}", rng.between(1, 60)),
        ),
        Pool::Scriptworker => (
            w.worker_type.to_string(),
            format!("{}-{}-{}", w.worker_type, rng.hex(10), rng.alnum(5)),
        ),
        Pool::MacScriptworker => (
            "mac-signing".to_string(),
            format!("mac-m2-signing-{}", rng.between(1, 20)),
        ),
    }
}

/// Who pushes: made-up addresses in the shape of Lando's push users.
const OWNERS: [&str; 6] = [
    "ada@example.com",
    "brendan@example.com",
    "grace@example.com",
    "linus@example.com",
    "margaret@example.com",
    "tim@example.com",
];
/// Who retriggers failures: the sheriffs.
const SHERIFF: &str = "sheriff@example.com";

struct Simulation {
    tree: Tree,
    full: Vec<Spec>,
    picked: Vec<usize>,
    seed_rng: Rng,
    /// The number of tasks asked for.
    wanted: usize,
    revision: String,
    push_id: u64,
    owner: String,
    pushed_at: DateTime<Utc>,
}

/// A task being run: its spec, ids and clock.
struct Running<'a> {
    spec: &'a Spec,
    task_id: String,
    created: DateTime<Utc>,
    dependencies: Vec<String>,
    owner: String,
    /// When it may become pending; `None`: never (a dependency failed).
    ready: Option<DateTime<Utc>>,
    retries: u32,
    priority: &'static str,
}

/// The random streams a run draws from, one per concern: adding a draw
/// to one leaves the others' pushes as they were.
struct Streams {
    /// Task ids.
    ids: Rng,
    /// Each task's runs on the simulated clock.
    runs: Rng,
    /// Which tasks sheriffs retrigger, and when.
    retriggers: Rng,
}

/// The action task a sheriff's retrigger runs.
fn retrigger_action() -> Spec {
    Spec {
        kind: "action-callback",
        label: "Action: Retrigger".to_string(),
        job_kind: JobKind::Other,
        platform: None,
        build_type: None,
        worker: catalog::ACTION,
        family: Family::Action,
        minutes: (1, 3),
        depends_on: None,
        extra_tags: Vec::new(),
        index: Index::None,
        retrigger: false,
    }
}

impl Simulation {
    fn new(builder: &PushBuilder) -> Simulation {
        let tree = Tree::new(&builder.tree);
        let full = catalog::full_graph(&tree);
        let seed_rng = Rng::new(builder.seed);
        let picked = catalog::select(&full, builder.tasks.min(MAX_TASKS), &mut seed_rng.fork(1));
        let mut push_rng = seed_rng.fork(2);
        let revision = builder.revision.clone().unwrap_or_else(|| push_rng.hex(40));
        let push_id = builder
            .push_id
            .unwrap_or_else(|| 250_000 + push_rng.below(50_000));
        let owner = push_rng.pick(&OWNERS).to_string();
        let pushed_at = builder.pushed_at.unwrap_or_else(|| {
            let base = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
            base + Duration::seconds(push_rng.between(0, 14 * 24 * 3600))
        });
        Simulation {
            tree,
            full,
            picked,
            seed_rng,
            wanted: builder.tasks.min(MAX_TASKS),
            revision,
            push_id,
            owner,
            pushed_at,
        }
    }

    /// Runs the push: the decision task, then the graph it creates, then
    /// the retriggers sheriffs ask for. Each concern draws from a stream of
    /// its own, so the order of the steps fixes every draw.
    fn run(self) -> Push {
        let mut streams = Streams {
            ids: self.seed_rng.fork(3),
            runs: self.seed_rng.fork(4),
            retriggers: self.seed_rng.fork(5),
        };
        let decision_id = streams.ids.slugid();
        let decision = self.run_decision(&decision_id, &mut streams.runs);
        let mut tasks = vec![decision];
        if tasks[0].outcome() != Outcome::Completed {
            // No graph: nothing else is created.
            return self.push(decision_id, tasks);
        }
        let by_catalog = self.run_graph(&decision_id, &mut tasks, &mut streams);
        let retriggers = self.run_retriggers(&decision_id, &tasks, &by_catalog, &mut streams);
        tasks.extend(retriggers);
        self.push(decision_id, tasks)
    }

    /// The decision task: the hook creates it a little after the push,
    /// with no dependencies, so it is pending at once.
    fn run_decision(&self, decision_id: &str, rng: &mut Rng) -> SyntheticTask {
        let created = self.pushed_at + Duration::seconds(rng.between(10, 40)) + millis(rng);
        self.run_task(
            Running {
                spec: &self.full[0],
                task_id: decision_id.to_string(),
                created,
                dependencies: Vec::new(),
                owner: self.owner.clone(),
                ready: Some(created),
                retries: if self.tree.level == 1 { 5 } else { 0 },
                priority: "very-low",
            },
            decision_id,
            rng,
        )
    }

    /// The graph the decision task (`tasks[0]`) created, run and added to
    /// `tasks`; returns where each catalog entry run landed in `tasks`.
    fn run_graph(
        &self,
        decision_id: &str,
        tasks: &mut Vec<SyntheticTask>,
        streams: &mut Streams,
    ) -> BTreeMap<usize, usize> {
        // The decision task creates the graph near its end; tasks waiting
        // for nothing else wait for it.
        let decision_end = tasks[0].runs.last().expect("one run").resolved;
        let created = decision_end - Duration::seconds(streams.runs.between(30, 120));
        let mut by_catalog: BTreeMap<usize, usize> = BTreeMap::new();
        for &i in &self.picked[1..] {
            let spec = &self.full[i];
            let (dependencies, ready) = match spec.depends_on {
                None => (vec![decision_id.to_string()], Some(decision_end)),
                Some(dep) => {
                    let dep_task = &tasks[by_catalog[&dep]];
                    let ready = (dep_task.outcome() == Outcome::Completed)
                        .then(|| dep_task.runs.last().expect("one run").resolved);
                    (vec![dep_task.task_id.clone()], ready)
                }
            };
            let ready = ready.map(|t| t + Duration::seconds(streams.runs.between(1, 8)));
            let task = self.run_task(
                Running {
                    spec,
                    task_id: streams.ids.slugid(),
                    created,
                    dependencies,
                    owner: self.owner.clone(),
                    ready,
                    retries: 5,
                    priority: self.tree.priority,
                },
                decision_id,
                &mut streams.runs,
            );
            by_catalog.insert(i, tasks.len());
            tasks.push(task);
        }
        by_catalog
    }

    /// Sheriffs retrigger some failed tests: an action task, then a copy
    /// of the test in the same group, under the same label. Returns the
    /// actions, each followed by its copies.
    fn run_retriggers(
        &self,
        decision_id: &str,
        tasks: &[SyntheticTask],
        by_catalog: &BTreeMap<usize, usize>,
        streams: &mut Streams,
    ) -> Vec<SyntheticTask> {
        let catalog_of: BTreeMap<usize, usize> = by_catalog.iter().map(|(&c, &t)| (t, c)).collect();
        let wanted = self.choose_retriggers(tasks, &mut streams.retriggers);
        let action_spec = retrigger_action();
        let mut retriggers = Vec::new();
        for (t, times) in wanted {
            let spec = &self.full[catalog_of[&t]];
            retriggers.extend(self.retrigger(
                &tasks[t],
                spec,
                times,
                &action_spec,
                decision_id,
                streams,
            ));
        }
        retriggers
    }

    /// Which tasks are retriggered, and how many times: some failed tests
    /// once each. A push asked to be bigger than the whole graph gets more
    /// retriggers, of any test, several copies at a time.
    fn choose_retriggers(&self, tasks: &[SyntheticTask], rng: &mut Rng) -> Vec<(usize, usize)> {
        let tests: Vec<usize> = (0..tasks.len())
            .filter(|&t| tasks[t].job_kind == JobKind::Test && tasks[t].kind != "source-test")
            .collect();
        let mut wanted: Vec<(usize, usize)> = tests
            .iter()
            .filter(|&&t| tasks[t].outcome() == Outcome::Failed)
            .filter(|_| rng.chance(RETRIGGER_SHARE))
            .map(|&t| (t, 1))
            .collect();
        let mut missing = self.wanted.saturating_sub(tasks.len() + 2 * wanted.len());
        while missing > 1 && !tests.is_empty() {
            let t = *rng.pick(&tests);
            let times = (rng.between(5, 20) as usize).min(missing - 1);
            wanted.push((t, times));
            missing -= times + 1;
        }
        wanted
    }

    /// One retrigger of `original` (made from `spec`): the sheriff's action
    /// task, then `times` copies, which run only if the action completed.
    fn retrigger(
        &self,
        original: &SyntheticTask,
        spec: &Spec,
        times: usize,
        action_spec: &Spec,
        decision_id: &str,
        streams: &mut Streams,
    ) -> Vec<SyntheticTask> {
        let failed_at = original.runs.last().expect("one run").resolved;
        let asked = failed_at + Duration::seconds(streams.retriggers.between(300, 2400));
        let action = self.run_task(
            Running {
                spec: action_spec,
                task_id: streams.ids.slugid(),
                created: asked,
                dependencies: Vec::new(),
                owner: SHERIFF.to_string(),
                ready: Some(asked),
                retries: 5,
                priority: "lowest",
            },
            decision_id,
            &mut streams.runs,
        );
        let action_end = action.runs.last().expect("one run").resolved;
        let action_completed = action.outcome() == Outcome::Completed;
        let mut retrigger = vec![action];
        for _ in 0..times {
            let ready = action_completed
                .then(|| action_end + Duration::seconds(streams.retriggers.between(1, 8)));
            retrigger.push(self.run_task(
                Running {
                    spec,
                    task_id: streams.ids.slugid(),
                    created: action_end,
                    dependencies: original.dependencies.clone(),
                    owner: self.owner.clone(),
                    ready,
                    retries: 5,
                    priority: self.tree.priority,
                },
                decision_id,
                &mut streams.runs,
            ));
        }
        retrigger
    }

    fn push(self, decision_task_id: String, tasks: Vec<SyntheticTask>) -> Push {
        let group_resolved_at = self.group_resolutions(&tasks);
        Push {
            group_resolved_at,
            tree: self.tree.project,
            revision: self.revision,
            push_id: self.push_id,
            owner: self.owner,
            pushed_at: self.pushed_at,
            decision_task_id,
            tasks,
        }
    }

    /// When the queue announces `task-group-resolved`: a few seconds after
    /// the last task of the graph resolved, again after the retriggers for
    /// some pushes, and for some never (consumers report it missing,
    /// taskcluster/taskcluster#3926).
    fn group_resolutions(&self, tasks: &[SyntheticTask]) -> Vec<DateTime<Utc>> {
        let mut rng = self.seed_rng.fork(6);
        let resolved = |task: &SyntheticTask| task.runs.last().expect("one run").resolved;
        let graph_end = tasks
            .iter()
            .filter(|task| {
                task.kind != "action-callback" && task.created <= tasks[0].runs[0].resolved
            })
            .map(resolved)
            .max()
            .expect("the decision task");
        let all_end = tasks.iter().map(resolved).max().expect("the decision task");
        let after = |end: DateTime<Utc>, rng: &mut Rng| end + Duration::seconds(rng.between(1, 5));
        match rng.between(0, 9) {
            0 => Vec::new(),
            1 | 2 => vec![
                after(graph_end, &mut rng),
                after(all_end.max(graph_end), &mut rng) + Duration::seconds(6),
            ],
            _ => vec![after(all_end, &mut rng)],
        }
    }

    /// Runs one task to its end on the simulated clock.
    fn run_task(&self, task: Running<'_>, group: &str, rng: &mut Rng) -> SyntheticTask {
        let spec = task.spec;
        let deadline = task.created + Duration::days(1);
        let expires = task
            .created
            .checked_add_months(Months::new(12))
            .expect("a year later is a date");
        let runs = match task.ready {
            Some(ready) => self.runs(spec, ready, deadline, task.retries, rng),
            // Never pending: at its deadline the deadline resolver makes a
            // run only to resolve it.
            None => {
                let at =
                    deadline + Duration::seconds(DEADLINE_DELAY + rng.between(0, 30)) + millis(rng);
                vec![SyntheticRun {
                    run_id: 0,
                    reason_created: "exception",
                    outcome: Outcome::Exception {
                        reason: ExceptionReason::DeadlineExceeded,
                    },
                    scheduled: at,
                    started: None,
                    resolved: at,
                    worker_group: None,
                    worker_id: None,
                    taken_until: None,
                }]
            }
        };
        SyntheticTask {
            task_id: task.task_id.clone(),
            label: spec.label.clone(),
            kind: spec.kind.to_string(),
            job_kind: spec.job_kind,
            platform: spec.platform.clone(),
            build_type: spec.build_type.clone(),
            provisioner_id: spec.worker.provisioner(self.tree.level),
            worker_type: spec.worker.worker_type.to_string(),
            scheduler_id: format!("gecko-level-{}", self.tree.level),
            priority: task.priority.to_string(),
            tags: self.tags(spec, &task.owner),
            routes: self.routes(spec, &task.task_id, &task.owner, group),
            dependencies: task.dependencies,
            created: task.created,
            deadline,
            expires,
            retries: task.retries,
            runs,
        }
    }

    fn runs(
        &self,
        spec: &Spec,
        ready: DateTime<Utc>,
        deadline: DateTime<Utc>,
        retries: u32,
        rng: &mut Rng,
    ) -> Vec<SyntheticRun> {
        let rates = rates(spec.family, spec.worker.pool);
        let mut runs: Vec<SyntheticRun> = Vec::new();
        let mut scheduled = ready + millis(rng);
        let mut reason_created = "scheduled";
        let mut retries_left = retries;
        loop {
            let run_id = runs.len() as u32;
            let pending_only = |outcome: ExceptionReason, resolved: DateTime<Utc>| SyntheticRun {
                run_id,
                reason_created,
                outcome: Outcome::Exception { reason: outcome },
                scheduled,
                started: None,
                resolved,
                worker_group: None,
                worker_id: None,
                taken_until: None,
            };
            if rng.chance(starved(spec.worker.pool)) {
                let at =
                    deadline + Duration::seconds(DEADLINE_DELAY + rng.between(0, 30)) + millis(rng);
                runs.push(pending_only(ExceptionReason::DeadlineExceeded, at));
                break;
            }
            if spec.family == Family::Test && rng.chance(0.0005) {
                let at = scheduled + Duration::seconds(rng.between(60, 1800)) + millis(rng);
                runs.push(pending_only(ExceptionReason::Canceled, at));
                break;
            }
            let started = scheduled + Duration::seconds(wait(spec.worker.pool, rng)) + millis(rng);
            let length = rng.between(spec.minutes.0 * 60, spec.minutes.1 * 60 + 59);
            let (group, id) = worker(&spec.worker, rng);
            let mut u = rng.unit();
            let mut outcome = Outcome::Completed;
            if u < rates.failed {
                outcome = Outcome::Failed;
            } else {
                u -= rates.failed;
                for &(reason, p) in rates.exceptions {
                    if u < p {
                        outcome = Outcome::Exception { reason };
                        break;
                    }
                    u -= p;
                }
            }
            let part = |rng: &mut Rng| Duration::seconds(rng.between(30, length.max(31)));
            let (resolved, taken_until) = match outcome {
                Outcome::Exception {
                    reason: ExceptionReason::ClaimExpired,
                } => {
                    // The worker vanished after its k-th reclaim; the claim
                    // resolver resolves the run once the claim runs out.
                    let reclaims = rng.between(0, length / CLAIM_TIMEOUT);
                    let taken = started + Duration::seconds(CLAIM_TIMEOUT * (reclaims + 1));
                    (taken + Duration::seconds(rng.between(5, 120)), taken)
                }
                Outcome::Exception {
                    reason:
                        ExceptionReason::MalformedPayload
                        | ExceptionReason::ResourceUnavailable
                        | ExceptionReason::InternalError,
                } => {
                    let at = started + Duration::seconds(rng.between(5, 300));
                    (at, claimed_until(started, at))
                }
                Outcome::Exception { .. } => {
                    let at = started + part(rng);
                    (at, claimed_until(started, at))
                }
                _ => {
                    let at = started + Duration::seconds(length);
                    (at, claimed_until(started, at))
                }
            };
            let resolved = resolved + millis(rng);
            runs.push(SyntheticRun {
                run_id,
                reason_created,
                outcome,
                scheduled,
                started: Some(started),
                resolved,
                worker_group: Some(group),
                worker_id: Some(id),
                taken_until: Some(taken_until),
            });
            let retried = matches!(outcome, Outcome::Exception { reason } if reason.is_retried());
            if !retried || retries_left == 0 || runs.len() >= MAX_RUNS {
                break;
            }
            // The queue adds the new run as it resolves this one.
            retries_left -= 1;
            reason_created = match outcome {
                Outcome::Exception {
                    reason: ExceptionReason::IntermittentTask,
                } => "task-retry",
                _ => "retry",
            };
            scheduled = resolved;
        }
        runs
    }

    /// The tags `gecko_taskgraph/transforms/task.py` puts on every task,
    /// the decision task's from `.taskcluster.yml`, and the kind's own.
    fn tags(&self, spec: &Spec, owner: &str) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            tags.insert(k.to_string(), v.to_string());
        };
        put("createdForUser", owner);
        put("kind", spec.kind);
        put("project", &self.tree.project);
        put("trust-domain", "gecko");
        match spec.family {
            Family::Decision | Family::Action => put("worker-implementation", "docker-worker"),
            _ => {
                put("label", &spec.label);
                put("retrigger", if spec.retrigger { "true" } else { "false" });
                if spec.worker.tagged {
                    put("worker-implementation", spec.worker.implementation);
                    put("os", spec.worker.os);
                }
            }
        }
        for (k, v) in &spec.extra_tags {
            put(k, v);
        }
        tags
    }

    /// `task.routes`: the Treeherder route for every task Treeherder shows,
    /// and the index routes of the kind.
    fn routes(&self, spec: &Spec, task_id: &str, owner: &str, group: &str) -> Vec<String> {
        let project = &self.tree.project;
        let rev = &self.revision;
        let th = format!("tc-treeherder.v2.{project}.{rev}");
        let pushdate = self.pushed_at.format("%Y.%m.%d.%Y%m%d%H%M%S");
        let day = self.pushed_at.format("%Y.%m.%d");
        let id = self.push_id;
        match (&spec.family, &spec.index) {
            (Family::Decision, _) => {
                let mut routes = vec![
                    th,
                    format!("index.gecko.v2.{project}.latest.taskgraph.decision"),
                    format!("index.gecko.v2.{project}.revision.{rev}.taskgraph.decision"),
                    format!("index.gecko.v2.{project}.pushlog-id.{id}.decision"),
                    format!("notify.email.{owner}.on-failed"),
                    format!("notify.email.{owner}.on-exception"),
                ];
                if project == "try" {
                    routes.push(format!("notify.email.{owner}.on-completed"));
                }
                routes
            }
            (Family::Action, _) => vec![
                th,
                format!("index.gecko.v2.{project}.revision.{rev}.taskgraph.actions.{task_id}"),
                format!("index.gecko.v2.{project}.pushlog-id.{id}.actions.{task_id}"),
            ],
            (
                _,
                Index::Build {
                    job_name,
                    shippable,
                },
            ) => {
                let mut routes = vec![th];
                let v2 = format!("index.gecko.v2.{project}");
                if *shippable {
                    routes.extend([
                        format!("{v2}.shippable.latest.firefox.{job_name}"),
                        format!("{v2}.shippable.{day}.revision.{rev}.firefox.{job_name}"),
                        format!("{v2}.shippable.{day}.latest.firefox.{job_name}"),
                        format!("{v2}.shippable.revision.{rev}.firefox.{job_name}"),
                    ]);
                } else {
                    routes.extend([
                        format!("{v2}.latest.firefox.{job_name}"),
                        format!("{v2}.pushdate.{pushdate}.firefox.{job_name}"),
                        format!("{v2}.pushdate.{day}.latest.firefox.{job_name}"),
                        format!("{v2}.pushlog-id.{id}.firefox.{job_name}"),
                        format!("{v2}.revision.{rev}.firefox.{job_name}"),
                    ]);
                }
                if self.tree.trunk {
                    routes.push(format!(
                        "index.gecko.v2.trunk.revision.{rev}.firefox.{job_name}"
                    ));
                }
                routes
            }
            (_, Index::Cached { cache_type, name }) => {
                let level = self.tree.level;
                let cache = format!("index.gecko.cache.level-{level}.{cache_type}.{name}");
                let digest = digest(group, name);
                vec![
                    th,
                    format!("{cache}.hash.{digest}"),
                    format!("{cache}.latest"),
                    format!("{cache}.pushdate.{pushdate}"),
                ]
            }
            _ => vec![th],
        }
    }
}

/// Milliseconds, so that times look like the queue's.
fn millis(rng: &mut Rng) -> Duration {
    Duration::milliseconds(rng.between(0, 999))
}

/// The `takenUntil` of a run resolved at `resolved`: the worker reclaimed
/// it every 20 minutes, so its last claim ran past the end.
fn claimed_until(started: DateTime<Utc>, resolved: DateTime<Utc>) -> DateTime<Utc> {
    let elapsed = (resolved - started).num_seconds().max(0);
    started + Duration::seconds(CLAIM_TIMEOUT * (elapsed / CLAIM_TIMEOUT + 1))
}

/// A stand-in for the sha256 of a cached task's inputs: 64 hex digits,
/// the same for the same push and name.
fn digest(group: &str, name: &str) -> String {
    let mut seed = 0xcbf2_9ce4_8422_2325u64;
    for b in group.bytes().chain(name.bytes()) {
        seed = (seed ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Rng::new(seed).hex(64)
}
