//! What running 24/7 costs: CPU time per 100,000 messages at a steady
//! rate, the monitor against a bare consumer, and the monitor tracking
//! pushes (state in SQLite) against the monitor without, each in a child
//! process reading its own copy of the same stream at the same time.

use std::time::Duration;

use crate::broker::BoxError;
use crate::processes::{args, Children};
use crate::report::{thousands, Row, Target};
use crate::tc_messages::{self, TcStream};
use crate::Context;

/// Publishes a generated push's messages at `rate` per second for
/// `seconds` to two queues, one read by a monitor process (every tree and
/// kind, with progress), one by a bare consumer process, and compares the
/// CPU time each process used from the moment it consumed to its last
/// message, per 100,000 messages.
///
/// With `pushes`, a third process tracks pushes with an SQLite state, and
/// a row compares it with the monitor without. The row against the bare
/// consumer carries the 1.5× target at 1,000 msg/s and above; at the low
/// rates, where what the processes do between messages weighs most, it is
/// reported only.
pub fn cpu(ctx: &Context, seconds: u64, rate: u64, pushes: bool) -> Result<Vec<Row>, BoxError> {
    let stream = TcStream::unique((seconds * rate) as usize);
    let count = stream.messages.len() as u64;
    let user = &ctx.broker.user;
    let label = format!("{}-cost", ctx.run);
    let pushes_label = format!("{}-cost-pushes", ctx.run);
    let monitor_queue = pulse_wire::queue_name(user, Some(&label));
    let pushes_queue = pulse_wire::queue_name(user, Some(&pushes_label));
    let bare_queue = format!("queue/{user}/{}-cost-bare", ctx.run);
    let state_dir = std::env::temp_dir().join(format!("pulse-bench-{}-state", ctx.run));
    std::fs::create_dir_all(&state_dir)?;
    let state_file = state_dir.join("pushes.sqlite");
    let state_arg = state_file.to_string_lossy().into_owned();
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    for queue in [&monitor_queue, &pushes_queue, &bare_queue] {
        tc_messages::declare_queue(&ctx.ledger, &mut publisher, queue, &stream.pattern())?;
    }
    let _ = publisher.close();

    let count_arg = count.to_string();
    let mut child_args = vec![
        args(&[
            "--label",
            &label,
            "--revision",
            &stream.revision,
            "--count",
            &count_arg,
            "--stop-at-count",
        ]),
        args(&["--bare-queue", &bare_queue, "--count", &count_arg]),
    ];
    if pushes {
        child_args.push(args(&[
            "--label",
            &pushes_label,
            "--revision",
            &stream.revision,
            "--count",
            &count_arg,
            "--stop-at-count",
            "--push-state",
            &state_arg,
        ]));
    }
    let mut children = Children::spawn(ctx, &child_args)?;
    children.wait_ready(Duration::from_secs(60))?;
    let (took, worst_lag) = stream.publish_paced(&ctx.broker, rate)?;
    let reports = children.finish(None, Duration::from_secs(60))?;
    ctx.ledger.delete_queue(&monitor_queue);
    ctx.ledger.delete_queue(&pushes_queue);
    ctx.ledger.delete_queue(&bare_queue);
    let state_bytes = std::fs::metadata(&state_file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&state_dir);
    let (monitor, bare) = (&reports[0], &reports[1]);
    monitor.check("the monitor process", count)?;
    bare.check("the bare consumer process", count)?;

    let per_100k = |cpu: f64| cpu / count as f64 * 100_000.0;
    let (monitor_cpu, bare_cpu) = (per_100k(monitor.cpu_seconds), per_100k(bare.cpu_seconds));
    eprintln!(
        "  cost: monitor {:.2} s CPU in {:.1} s, bare {:.2} s CPU in {:.1} s, for {count} msgs",
        monitor.cpu_seconds, monitor.wall_seconds, bare.cpu_seconds, bare.wall_seconds
    );
    let share = |r: &crate::processes::ChildReport| r.cpu_seconds / r.wall_seconds * 100.0;
    let mut rows = vec![Row::compare(
        format!(
            "CPU per 100,000 Taskcluster msgs at {} msg/s",
            thousands(rate as f64)
        ),
        monitor_cpu,
        bare_cpu,
        |s| format!("{s:.2} s"),
    )
    .target(if rate >= 1_000 {
        Target::RatioAtMost(1.5)
    } else {
        Target::None
    })
    .note(format!(
        "{count} msgs of a generated push ({} B average) for {seconds} s ({:.1} s actual, publisher at most {:.1} ms behind schedule); CPU time of each child process (`CLOCK_PROCESS_CPUTIME_ID`) from consuming to its last message: monitor {:.2} s ({:.1}% of a core), bare consumer {:.2} s ({:.1}%); both read copies of the same stream at the same time; monitor with progress, every tree and kind",
        stream.average_size(),
        took.as_secs_f64(),
        worst_lag.as_secs_f64() * 1e3,
        monitor.cpu_seconds,
        share(monitor),
        bare.cpu_seconds,
        share(bare),
    ))];
    let Some(tracking) = reports.get(2) else {
        return Ok(rows);
    };
    tracking.check("the push-tracking monitor process", count)?;
    let tracking_cpu = per_100k(tracking.cpu_seconds);
    rows.push(Row::compare(
        format!(
            "CPU per 100,000 Taskcluster msgs at {} msg/s, push tracking (SQLite state)",
            thousands(rate as f64)
        ),
        tracking_cpu,
        monitor_cpu,
        |s| format!("{s:.2} s"),
    )
    .target(Target::RatioAtMost(1.2))
    .note(format!(
        "the same stream read at the same time by a third child: the monitor with push tracking and its state in an SQLite file ({:.1} MB at the end), {:.2} s CPU ({:.1}% of a core) and {:.2}× the bare consumer's; baseline: the monitor without it",
        state_bytes as f64 / 1e6,
        tracking.cpu_seconds,
        share(tracking),
        tracking_cpu / bare_cpu,
    )));
    Ok(rows)
}

/// An idle monitor: a monitor process (as in [`cpu`]) and a bare consumer
/// process consume from queues nobody publishes to for `seconds`; the
/// CPU each used meanwhile, as a share of one core.
pub fn idle(ctx: &Context, seconds: u64) -> Result<Vec<Row>, BoxError> {
    let user = &ctx.broker.user;
    let label = format!("{}-idle", ctx.run);
    let monitor_queue = pulse_wire::queue_name(user, Some(&label));
    let bare_queue = format!("queue/{user}/{}-idle-bare", ctx.run);
    // A revision of its own: the queues are bound to a push nobody makes.
    let revision = tc_messages::unique_revision();
    let pattern = TcStream::generate(0, 1, &revision).pattern();
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    for queue in [&monitor_queue, &bare_queue] {
        tc_messages::declare_queue(&ctx.ledger, &mut publisher, queue, &pattern)?;
    }
    let _ = publisher.close();
    let mut children = Children::spawn(
        ctx,
        &[
            args(&["--label", &label, "--revision", &revision, "--count", "1"]),
            args(&["--bare-queue", &bare_queue, "--count", "1"]),
        ],
    )?;
    children.wait_ready(Duration::from_secs(60))?;
    // Nothing to wait for but time: the processes are idle meanwhile.
    std::thread::sleep(Duration::from_secs(seconds));
    children.stop();
    let reports = children.finish(None, Duration::from_secs(60))?;
    ctx.ledger.delete_queue(&monitor_queue);
    ctx.ledger.delete_queue(&bare_queue);
    let (monitor, bare) = (&reports[0], &reports[1]);
    let share = |r: &crate::processes::ChildReport| r.cpu_seconds / r.wall_seconds * 100.0;
    Ok(vec![Row::compare(
        format!("idle monitor for {seconds} s: CPU"),
        share(monitor),
        share(bare),
        |p| format!("{p:.2}% of a core"),
    )
    .target(Target::Below(1.0))
    .unit("% of a core")
    .note(format!(
        "a monitor process (Taskcluster with progress, every tree and kind, default pool: one worker per core) consuming from a queue nobody publishes to; CPU time from consuming until told to stop: {:.2} s in {:.1} s; baseline: a bare consumer process idle beside it ({:.2} s); both with the broker's heartbeats",
        monitor.cpu_seconds, monitor.wall_seconds, bare.cpu_seconds,
    ))])
}
