//! A burst: a generated push's messages published as fast as the broker
//! takes them to a queue whose consumer (the monitor, or a bare consumer)
//! is already running in a child process; how deep the queue gets and how
//! long it takes to drain. Deep queues are what PulseGuardian deletes.

use std::time::{Duration, Instant};

use crate::broker::{BoxError, DepthWatch};
use crate::processes::{args, unix_ns, Children};
use crate::report::{thousands, Row};
use crate::tc_messages::{self, TcStream};
use crate::Context;

/// How often the queue's depth is read.
const DEPTH_EVERY: Duration = Duration::from_millis(10);

/// Who drains a burst.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drainer {
    Bare,
    Monitor,
}

/// What one burst measured.
#[derive(Clone, Copy)]
struct Burst {
    /// The most messages waiting in the queue at once.
    peak: u32,
    /// Depth reads.
    samples: usize,
    /// From the first publish to the last confirm.
    publishing: Duration,
    /// From the first publish to the last message handled.
    drained: Duration,
}

/// `count` messages in a burst, drained by the monitor and, as the
/// baseline, by a bare consumer, one after the other (who goes first
/// rotating with the round); the round with the shortest drain of each.
pub fn burst(ctx: &Context, count: u64, rounds: usize) -> Result<Vec<Row>, BoxError> {
    let stream = TcStream::unique(count as usize);
    let count = stream.messages.len() as u64;
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    let (mut bare_best, mut monitor_best): (Option<Burst>, Option<Burst>) = (None, None);
    for round in 0..rounds {
        for turn in 0..2 {
            let drainer = if (turn + round) % 2 == 0 {
                Drainer::Bare
            } else {
                Drainer::Monitor
            };
            let burst = one_burst(ctx, &mut publisher, &stream, drainer, round)?;
            let name = match drainer {
                Drainer::Bare => "bare",
                Drainer::Monitor => "monitor",
            };
            eprintln!(
                "  burst round {round}, {name}: peak depth {}, published in {:.2} s, drained in {:.2} s",
                burst.peak,
                burst.publishing.as_secs_f64(),
                burst.drained.as_secs_f64()
            );
            let best = match drainer {
                Drainer::Bare => &mut bare_best,
                Drainer::Monitor => &mut monitor_best,
            };
            if best.is_none_or(|b| burst.drained < b.drained) {
                *best = Some(burst);
            }
        }
    }
    let _ = publisher.close();
    let (bare, monitor) = (
        bare_best.ok_or("no burst ran")?,
        monitor_best.ok_or("no burst ran")?,
    );
    let title = format!("burst of {} Taskcluster msgs", thousands(count as f64));
    Ok(vec![
        Row::compare(
            format!("{title}: peak queue depth"),
            f64::from(monitor.peak),
            f64::from(bare.peak),
            |depth| format!("{} msgs", thousands(depth)),
        )
        .note(format!(
            "a generated push ({} B average) published as fast as the broker takes it (persistent, one batch, confirms awaited at the end): {:.2} s, {} msg/s (monitor's round); the consumer already running in a child process; messages ready in the queue read with a passive queue.declare every {} ms ({} reads); baseline: a bare consumer, same burst; best of {rounds} (the round with the shortest drain)",
            stream.average_size(),
            monitor.publishing.as_secs_f64(),
            thousands(count as f64 / monitor.publishing.as_secs_f64()),
            DEPTH_EVERY.as_millis(),
            monitor.samples,
        )),
        Row::compare(
            format!("{title}: time to drain"),
            monitor.drained.as_secs_f64(),
            bare.drained.as_secs_f64(),
            |s| format!("{s:.2} s"),
        )
        .note(format!(
            "from the first publish to the last message handled; the bare consumer's burst took {:.2} s to publish",
            bare.publishing.as_secs_f64()
        )),
    ])
}

/// One burst into a fresh queue drained by `drainer`.
fn one_burst(
    ctx: &Context,
    publisher: &mut pulse_wire::Publisher,
    stream: &TcStream,
    drainer: Drainer,
    round: usize,
) -> Result<Burst, BoxError> {
    let user = &ctx.broker.user;
    let count = (stream.messages.len() as u64).to_string();
    let (queue, child_args) = match drainer {
        Drainer::Bare => {
            let queue = format!("queue/{user}/{}-burst-bare-{round}", ctx.run);
            let child_args = args(&["--bare-queue", &queue, "--count", &count]);
            (queue, child_args)
        }
        Drainer::Monitor => {
            let label = format!("{}-burst-monitor-{round}", ctx.run);
            let child_args = args(&[
                "--label",
                &label,
                "--revision",
                &stream.revision,
                "--count",
                &count,
                "--stop-at-count",
            ]);
            (pulse_wire::queue_name(user, Some(&label)), child_args)
        }
    };
    tc_messages::declare_queue(&ctx.ledger, publisher, &queue, &stream.pattern())?;
    let mut children = Children::spawn(ctx, &[child_args])?;
    children.wait_ready(Duration::from_secs(60))?;
    let watch = DepthWatch::start(&ctx.broker, &queue, DEPTH_EVERY)?;
    let started_ns = unix_ns();
    let started = Instant::now();
    // All at once, then one wait for every confirm: only the broker's
    // flow control holds the publisher back.
    let published = stream.publish(publisher, stream.messages.len());
    let publishing = started.elapsed();
    let reports = published.and_then(|_| children.finish(None, Duration::from_secs(300)));
    let depth = watch.stop();
    ctx.ledger.delete_queue(&queue);
    let reports = reports?;
    let (peak, samples) = depth?;
    let report = &reports[0];
    report.check("the burst's consumer", stream.messages.len() as u64)?;
    Ok(Burst {
        peak,
        samples,
        publishing,
        drained: Duration::from_nanos(report.last_unix_ns.saturating_sub(started_ns)),
    })
}
