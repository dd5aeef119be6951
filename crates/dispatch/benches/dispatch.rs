//! Dispatch overhead per job: no-op callbacks through the pool against
//! calling them directly. `cargo bench -p pulse-dispatch`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use pulse_dispatch::{Completion, Config, Job, Pool};

const JOBS: u64 = 300_000;

/// What the monitor's jobs look like: an Arc'd user callback and an owned value.
type Callback = Arc<dyn Fn(u64) + Send + Sync>;

fn callback(sum: &Arc<AtomicU64>) -> Callback {
    let sum = Arc::clone(sum);
    Arc::new(move |value| {
        sum.fetch_add(black_box(value), Ordering::Relaxed);
    })
}

fn direct(boxed: bool) -> f64 {
    let sum = Arc::new(AtomicU64::new(0));
    let user = callback(&sum);
    let start = Instant::now();
    for value in 0..JOBS {
        if boxed {
            let user = Arc::clone(&user);
            let job: Box<dyn FnOnce() + Send> = Box::new(move || user(value));
            black_box(job)();
        } else {
            black_box(&user)(value);
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(sum.load(Ordering::Relaxed), JOBS * (JOBS - 1) / 2);
    elapsed.as_secs_f64() * 1e9 / JOBS as f64
}

/// Submit every job, then shut down (which waits for the queue to drain).
fn pooled(workers: usize, queue_bound: usize, with_completion: bool) -> f64 {
    let sum = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let user = callback(&sum);
    let pool = Pool::new(
        Config::default()
            .with_workers(workers)
            .with_queue_bound(queue_bound),
    )
    .expect("workers start");
    let start = Instant::now();
    for value in 0..JOBS {
        let user = Arc::clone(&user);
        let job = Job::new("build.bench", move || user(value));
        let job = if with_completion {
            let acked = Arc::clone(&acked);
            job.with_completion(Completion::new(move |outcome| {
                acked.fetch_add(outcome.ran as u64, Ordering::Relaxed);
            }))
        } else {
            job
        };
        pool.submit(job);
    }
    let report = pool.shutdown();
    let elapsed = start.elapsed();
    assert!(report.is_complete());
    assert_eq!(sum.load(Ordering::Relaxed), JOBS * (JOBS - 1) / 2);
    if with_completion {
        assert_eq!(acked.load(Ordering::Relaxed), JOBS);
    }
    elapsed.as_secs_f64() * 1e9 / JOBS as f64
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("Dispatch overhead, {JOBS} no-op jobs each ({cores} cores; submit on one thread, time until shutdown returns)\n");
    println!("| how | workers | queue bound | ns/job | jobs/s |");
    println!("|---|---:|---:|---:|---:|");
    let row = |how: &str, workers: &str, bound: &str, ns: f64| {
        println!(
            "| {how} | {workers} | {bound} | {ns:.1} | {:.3e} |",
            1e9 / ns
        );
    };
    row("direct call of the Arc'd callback", "-", "-", direct(false));
    row("direct call of a boxed job closure", "-", "-", direct(true));
    for (workers, bound) in [(1, 1024), (2, 1024), (4, 1024), (2, 16)] {
        let ns = pooled(workers, bound, false);
        row("pool", &workers.to_string(), &bound.to_string(), ns);
    }
    row(
        "pool, one completion per job",
        "2",
        "1024",
        pooled(2, 1024, true),
    );
}
