//! The pool's promises: nothing lost or run twice, panics contained and
//! counted, back-pressure instead of growth, draining and deadline shutdowns,
//! and completions that fire once, after every job of their group.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use pulse_dispatch::{Completion, Config, Job, Outcome, Pool};

/// Generous: only there so a broken pool fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

fn pool(workers: usize, queue_bound: usize) -> Pool {
    Pool::new(
        Config::default()
            .with_workers(workers)
            .with_queue_bound(queue_bound),
    )
    .expect("workers start")
}

/// A job that says it started, then waits until the gate opens (or closes).
fn gated_job(key: &str, started: &Sender<()>, gate: &Receiver<()>) -> Job {
    let (started, gate) = (started.clone(), gate.clone());
    Job::new(key, move || {
        started.send(()).unwrap();
        let _ = gate.recv_timeout(PATIENCE);
    })
}

fn wait_started(started: &Receiver<()>, count: usize) {
    for _ in 0..count {
        started.recv_timeout(PATIENCE).expect("a gated job starts");
    }
}

fn completion_channel() -> (Completion, Receiver<Outcome>) {
    let (sender, receiver) = crossbeam_channel::unbounded();
    (
        Completion::new(move |outcome| sender.send(outcome).unwrap()),
        receiver,
    )
}

#[test]
fn nothing_is_lost_or_run_twice_across_100_000_jobs_on_4_workers() {
    const JOBS: usize = 100_000;
    let counts: Arc<Vec<AtomicU32>> = Arc::new((0..JOBS).map(|_| AtomicU32::new(0)).collect());
    let pool = pool(4, 64);
    for id in 0..JOBS {
        let counts = Arc::clone(&counts);
        pool.submit(Job::new(format!("job-{id}"), move || {
            counts[id].fetch_add(1, Ordering::Relaxed);
        }));
    }
    let report = pool.shutdown();
    let wrong: Vec<(usize, u32)> = counts
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .enumerate()
        .filter(|&(_, count)| count != 1)
        .take(10)
        .collect();
    assert!(
        wrong.is_empty(),
        "jobs not run exactly once (id, runs): {wrong:?}"
    );
    assert!(report.is_complete());
    assert_eq!(report.stats.done, JOBS as u64);
    assert_eq!(report.stats.panicked, 0);
    assert_eq!((report.stats.queued, report.stats.running), (0, 0));
}

/// Runs `JOBS` jobs on 4 workers whose callback panics on every tenth id,
/// each job reporting to `token(id)`; checks deliveries and counters.
fn run_panicking_every_tenth(token: impl Fn(usize) -> Completion) {
    const JOBS: usize = 10_000;
    let delivered: Arc<Vec<AtomicU32>> = Arc::new((0..JOBS).map(|_| AtomicU32::new(0)).collect());
    let pool = pool(4, 32);
    for id in 0..JOBS {
        let delivered = Arc::clone(&delivered);
        pool.submit(
            Job::new(format!("job-{id}"), move || {
                if id % 10 == 0 {
                    panic!("callback fails on job {id}");
                }
                delivered[id].fetch_add(1, Ordering::Relaxed);
            })
            .with_completion(token(id)),
        );
    }
    let report = pool.shutdown();
    assert_eq!(report.stats.done, JOBS as u64);
    assert_eq!(report.stats.panicked, (JOBS / 10) as u64);
    for (id, count) in delivered.iter().enumerate() {
        let expected = u32::from(id % 10 != 0);
        assert_eq!(count.load(Ordering::Relaxed), expected, "job {id}");
    }
}

#[test]
fn a_callback_panicking_every_tenth_job_loses_only_those() {
    let (outcomes, reported) = crossbeam_channel::unbounded();
    run_panicking_every_tenth(|id| {
        let outcomes = outcomes.clone();
        Completion::new(move |outcome| outcomes.send((id, outcome)).unwrap())
    });
    drop(outcomes);
    // Each job's own token reports its own failure.
    let mut reports = 0;
    for (id, outcome) in reported.iter() {
        reports += 1;
        let panicked = usize::from(id % 10 == 0);
        assert_eq!(
            outcome,
            Outcome {
                ran: 1,
                panicked,
                abandoned: 0
            },
            "job {id}"
        );
    }
    assert_eq!(reports, 10_000);
}

#[test]
fn a_shared_token_counts_every_panic_of_its_group() {
    let (group, outcome) = completion_channel();
    run_panicking_every_tenth(|_| group.clone());
    assert_eq!(
        outcome.try_recv(),
        Err(TryRecvError::Empty),
        "the caller still holds a clone"
    );
    drop(group);
    let outcome = outcome.try_recv().unwrap();
    assert_eq!(
        outcome,
        Outcome {
            ran: 10_000,
            panicked: 1_000,
            abandoned: 0
        }
    );
    assert!(!outcome.is_clean());
}

#[test]
#[should_panic(expected = "job \"twice\" already has a completion")]
fn a_job_reports_to_one_completion_only() {
    let (first, _) = completion_channel();
    let (second, _) = completion_channel();
    let _ = Job::new("twice", || {})
        .with_completion(first)
        .with_completion(second);
}

#[test]
fn a_full_queue_blocks_submitters_instead_of_growing() {
    const WORKERS: usize = 2;
    const BOUND: usize = 4;
    let pool = pool(WORKERS, BOUND);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (open_gate, gate) = crossbeam_channel::unbounded::<()>();
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = |key: String| {
        let ran = Arc::clone(&ran);
        Job::new(key, move || {
            ran.fetch_add(1, Ordering::Relaxed);
        })
    };

    for worker in 0..WORKERS {
        pool.submit(gated_job(&format!("gate-{worker}"), &started, &gate));
    }
    wait_started(&started_rx, WORKERS);
    for n in 0..BOUND {
        pool.try_submit(counted(format!("fill-{n}")))
            .expect("room in the queue");
    }
    let refused = pool.try_submit(counted("one too many".into())).unwrap_err();
    assert_eq!(refused.into_job().key(), "one too many");
    let timed_out = pool
        .submit_timeout(counted("waited".into()), Duration::from_millis(20))
        .unwrap_err();
    assert_eq!(timed_out.into_job().key(), "waited");

    let about_to_submit = AtomicBool::new(false);
    let submitted = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let submitter = scope.spawn(|| {
            about_to_submit.store(true, Ordering::SeqCst);
            pool.submit(counted("blocked".into()));
            submitted.store(true, Ordering::SeqCst);
        });
        while !about_to_submit.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        for _ in 0..100 {
            std::thread::yield_now();
            let stats = pool.stats();
            assert_eq!(stats.queued, BOUND, "the queue never grows past its bound");
            assert_eq!(stats.running, WORKERS);
            assert!(
                !submitted.load(Ordering::SeqCst),
                "submit returned with the queue full"
            );
            let refused = pool.try_submit(counted("probe".into())).unwrap_err();
            drop(refused.into_job());
        }
        for _ in 0..WORKERS {
            open_gate.send(()).unwrap();
        }
        submitter.join().unwrap();
    });
    assert!(submitted.load(Ordering::SeqCst));
    let report = pool.shutdown();
    assert_eq!(
        ran.load(Ordering::Relaxed),
        BOUND + 1,
        "fillers and the blocked job ran"
    );
    assert_eq!(report.stats.done, (WORKERS + BOUND + 1) as u64);
}

#[test]
fn shutdown_drains_the_queue() {
    let pool = pool(1, 100);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (open_gate, gate) = crossbeam_channel::unbounded::<()>();
    let ran = Arc::new(AtomicUsize::new(0));
    pool.submit(gated_job("gate", &started, &gate));
    wait_started(&started_rx, 1);
    for n in 0..50 {
        let ran = Arc::clone(&ran);
        pool.submit(Job::new(format!("queued-{n}"), move || {
            ran.fetch_add(1, Ordering::Relaxed);
        }));
    }
    assert_eq!(pool.stats().queued, 50);
    open_gate.send(()).unwrap();
    let report = pool.shutdown();
    assert!(report.is_complete());
    assert_eq!(ran.load(Ordering::Relaxed), 50);
    assert_eq!(report.stats.done, 51);
    assert_eq!(report.stats.queued, 0);
}

#[test]
fn dropping_the_pool_drains_the_queue_too() {
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let pool = pool(2, 10);
        for n in 0..200 {
            let ran = Arc::clone(&ran);
            pool.submit(Job::new(format!("job-{n}"), move || {
                ran.fetch_add(1, Ordering::Relaxed);
            }));
        }
    }
    assert_eq!(ran.load(Ordering::Relaxed), 200);
}

#[test]
fn shutdown_with_a_deadline_reports_the_stuck_job_and_the_queue() {
    let pool = pool(1, 10);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (release, stuck_gate) = crossbeam_channel::unbounded::<()>();
    let (stuck_completion, stuck_outcome) = completion_channel();
    pool.submit(gated_job("stuck", &started, &stuck_gate).with_completion(stuck_completion));
    wait_started(&started_rx, 1);

    let (queued_completion, queued_outcome) = completion_channel();
    let ran = Arc::new(AtomicUsize::new(0));
    for n in 1..=3 {
        let ran = Arc::clone(&ran);
        pool.submit(
            Job::new(format!("queued-{n}"), move || {
                ran.fetch_add(1, Ordering::Relaxed);
            })
            .with_completion(queued_completion.clone()),
        );
    }
    drop(queued_completion);

    let report = pool.shutdown_timeout(Duration::from_millis(50));
    assert_eq!(report.still_running, ["stuck"]);
    assert_eq!(report.abandoned, ["queued-1", "queued-2", "queued-3"]);
    assert!(!report.is_complete());
    assert_eq!(report.stats.running, 1);
    assert_eq!(report.stats.done, 0);
    assert_eq!(
        queued_outcome.recv_timeout(PATIENCE).unwrap(),
        Outcome {
            ran: 0,
            panicked: 0,
            abandoned: 3
        }
    );
    assert_eq!(
        stuck_outcome.try_recv(),
        Err(TryRecvError::Empty),
        "the stuck job has not finished"
    );

    // The detached worker finishes its job, reports it, and runs nothing more.
    release.send(()).unwrap();
    assert_eq!(
        stuck_outcome.recv_timeout(PATIENCE).unwrap(),
        Outcome {
            ran: 1,
            panicked: 0,
            abandoned: 0
        }
    );
    assert_eq!(ran.load(Ordering::Relaxed), 0);
}

#[test]
fn shutdown_with_a_deadline_that_is_met_is_complete() {
    let pool = pool(2, 10);
    let ran = Arc::new(AtomicUsize::new(0));
    for n in 0..20 {
        let ran = Arc::clone(&ran);
        pool.submit(Job::new(format!("job-{n}"), move || {
            ran.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let report = pool.shutdown_timeout(PATIENCE);
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.stats.done, 20);
    assert_eq!(ran.load(Ordering::Relaxed), 20);
}

#[test]
fn a_completion_fires_once_after_its_last_job() {
    let pool = pool(3, 10);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (open_gate, gate) = crossbeam_channel::unbounded::<()>();
    let (completion, outcome) = completion_channel();
    pool.submit(gated_job("slow", &started, &gate).with_completion(completion.clone()));
    for n in 0..2 {
        pool.submit(Job::new(format!("quick-{n}"), || {}).with_completion(completion.clone()));
    }
    drop(completion);
    wait_started(&started_rx, 1);
    // The slow job holds a clone, so nothing can have fired yet.
    assert_eq!(outcome.try_recv(), Err(TryRecvError::Empty));
    open_gate.send(()).unwrap();
    assert_eq!(
        outcome.recv_timeout(PATIENCE).unwrap(),
        Outcome {
            ran: 3,
            panicked: 0,
            abandoned: 0
        }
    );
    pool.shutdown();
    assert_eq!(
        outcome.try_recv(),
        Err(TryRecvError::Disconnected),
        "fired exactly once"
    );
}

#[test]
fn a_completion_with_no_jobs_fires_when_dropped() {
    let (completion, outcome) = completion_channel();
    assert_eq!(outcome.try_recv(), Err(TryRecvError::Empty));
    drop(completion);
    let outcome = outcome.try_recv().unwrap();
    assert_eq!(outcome, Outcome::default());
    assert!(outcome.is_clean());
}

#[test]
fn a_job_handed_back_and_dropped_counts_as_abandoned() {
    let pool = pool(1, 0);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (open_gate, gate) = crossbeam_channel::unbounded::<()>();
    pool.submit(gated_job("busy", &started, &gate));
    wait_started(&started_rx, 1);
    let (completion, outcome) = completion_channel();
    let refused = pool
        .try_submit(Job::new("refused", || {}).with_completion(completion))
        .unwrap_err();
    assert_eq!(
        outcome.try_recv(),
        Err(TryRecvError::Empty),
        "the job is still alive"
    );
    drop(refused);
    assert_eq!(
        outcome.try_recv().unwrap(),
        Outcome {
            ran: 0,
            panicked: 0,
            abandoned: 1
        }
    );
    open_gate.send(()).unwrap();
    pool.shutdown();
}

#[test]
fn a_panicking_completion_callback_does_not_stop_the_worker() {
    let pool = pool(1, 10);
    let completion = Completion::new(|_| panic!("on_done fails"));
    pool.submit(Job::new("first", || {}).with_completion(completion));
    let (completion, outcome) = completion_channel();
    pool.submit(Job::new("second", || {}).with_completion(completion));
    assert_eq!(outcome.recv_timeout(PATIENCE).unwrap().ran, 1);
    assert_eq!(pool.shutdown().stats.done, 2);
}

#[test]
fn stats_count_running_jobs_while_they_run() {
    let pool = pool(3, 10);
    let (started, started_rx) = crossbeam_channel::unbounded();
    let (open_gate, gate) = crossbeam_channel::unbounded::<()>();
    for n in 0..3 {
        pool.submit(gated_job(&format!("gate-{n}"), &started, &gate));
    }
    pool.submit(Job::new("waiting", || panic!("counted as panicked")));
    wait_started(&started_rx, 3);
    let stats = pool.stats();
    assert_eq!((stats.queued, stats.running, stats.done), (1, 3, 0));
    drop(open_gate);
    let stats = pool.shutdown().stats;
    assert_eq!(
        (stats.queued, stats.running, stats.done, stats.panicked),
        (0, 0, 4, 1)
    );
}

#[test]
fn zero_workers_means_one_per_core() {
    let cores = std::thread::available_parallelism().unwrap().get();
    let pool = pool(0, 1);
    assert_eq!(pool.workers(), cores);
    assert_eq!(self::pool(3, 1).workers(), 3);
}

#[test]
fn jobs_submitted_one_at_a_time_to_idle_workers_all_run() {
    // Each job finds every worker asleep (the previous one has ended), so
    // a wake-up lost between a worker's last look at the queue and its
    // sleep would leave a job unrun and this test waiting.
    let pool = pool(4, 8);
    for n in 0..5_000 {
        let (completion, outcome) = completion_channel();
        pool.submit(Job::new(format!("single-{n}"), || {}).with_completion(completion));
        assert_eq!(
            outcome.recv_timeout(PATIENCE).expect("the job ran").ran,
            1,
            "job {n}"
        );
    }
    assert_eq!(pool.shutdown().stats.done, 5_000);
}

#[test]
fn a_zero_bound_hands_each_job_to_an_idle_worker() {
    let pool = pool(2, 0);
    let ran = Arc::new(AtomicUsize::new(0));
    for n in 0..1_000 {
        let ran = Arc::clone(&ran);
        pool.submit(Job::new(format!("handed-{n}"), move || {
            ran.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let report = pool.shutdown();
    assert_eq!(ran.load(Ordering::Relaxed), 1_000);
    assert!(report.is_complete());
}
