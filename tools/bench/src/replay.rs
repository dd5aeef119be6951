//! Replaying recordings, as `pulse-monitor replay` does: recorded
//! Taskcluster messages (JSON lines as `pulse-monitor synthetic-push`
//! writes them) through a monitor whose filter keeps nothing, against
//! reading the same lines into `IgnoredAny`; and the peak memory of a
//! replay in a child process, of a file and of one ten times larger.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{replay, Filter, Monitor, PushSettings};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::broker::BoxError;
use crate::processes::vm_hwm_kib;
use crate::report::{thousands, Row, Target};
use crate::taskcluster::SOURCE;

/// A filter no generated message passes (`--tree no-such-tree
/// --any-kind`): every line is read and translated, none reaches a
/// callback.
fn keep_nothing() -> Filter {
    Filter::builder()
        .trees(["no-such-tree"])
        .any_kind()
        .build()
        .expect("a one-tree filter is valid")
}

/// For push tracking: the pushes' tree is tracked (only the tree and
/// result rules apply to pushes), and no record passes the kind rule.
fn keep_no_record() -> Filter {
    Filter::builder()
        .trees(["autoland"])
        .kinds(["no-such-kind"])
        .build()
        .expect("a tree and a kind make a valid filter")
}

/// The quiet period of the day's replay: none. The replay runs a day of
/// pushes in seconds, so a push quiet for the live 60 s would finish only
/// at the end of the input, and every push would be in memory at once;
/// as `pulse-monitor replay --pushes --quiet-period 0`, each push finishes
/// (and leaves memory) once its tasks are final, as it would within a
/// minute on a live day.
const DAY_QUIET_PERIOD: Duration = Duration::ZERO;

/// The monitor's default quiet period (60 s).
fn live_quiet_period() -> Duration {
    PushSettings::default().tracker.quiet_period
}

/// A directory of recordings, deleted when dropped.
struct Recordings {
    dir: PathBuf,
}

impl Drop for Recordings {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes the pushes of `seeds` (`tasks` tasks each, autoland) to `path`,
/// one recorded message a line, as `pulse-monitor synthetic-push` does.
/// Returns the lines and bytes written.
fn write_recording(path: &Path, tasks: usize, seeds: &[u64]) -> Result<(u64, u64), BoxError> {
    let mut out = BufWriter::new(File::create(path)?);
    let mut lines = 0;
    for &seed in seeds {
        let push = pulse_synthetic::Push::builder()
            .tree("autoland")
            .tasks(tasks)
            .seed(seed)
            .build();
        for message in push.messages() {
            serde_json::to_writer(&mut out, &message.message)?;
            out.write_all(b"\n")?;
            lines += 1;
        }
    }
    out.flush()?;
    Ok((lines, std::fs::metadata(path)?.len()))
}

/// What one replay did.
#[derive(Debug, Serialize, Deserialize)]
struct Replayed {
    messages: u64,
    seconds: f64,
    vm_hwm_kib: u64,
}

/// Replays `file` through a monitor that keeps nothing, one callback
/// worker as `pulse-monitor replay` has, tracking pushes in memory with
/// the quiet period `pushes` when it is some; checks every line was read
/// and translated.
fn replay_file(file: &Path, pushes: Option<Duration>) -> Result<Replayed, BoxError> {
    let messages = replay::stream(&[file])?;
    let skipped = messages.skipped();
    let started = Instant::now();
    let mut builder = Monitor::builder();
    if let Some(quiet_period) = pushes {
        // Every tree's pushes, whatever the record filter keeps.
        builder = builder
            .push_tracking(PushSettings::default().with_quiet_period(quiet_period))
            .on_push(|event| {
                black_box(event);
            });
    }
    let monitor = builder
        .source(SOURCE)
        .filter(if pushes.is_some() {
            keep_no_record()
        } else {
            keep_nothing()
        })
        .callback_pool(PoolConfig::default().with_workers(1))
        .on_build(|build| {
            black_box(build);
        })
        .on_test(|test| {
            black_box(test);
        })
        .on_task(|task| {
            black_box(task);
        })
        .messages(messages)
        .start()?;
    let stats = monitor.join().stats;
    let seconds = started.elapsed().as_secs_f64();
    let skipped = skipped.take();
    if !skipped.is_empty() || stats.translation_errors > 0 || stats.matched > 0 {
        return Err(format!(
            "replay of {}: {} skipped ({:?}), {stats:?}",
            file.display(),
            skipped.len(),
            skipped.first().map(ToString::to_string)
        )
        .into());
    }
    Ok(Replayed {
        messages: stats.received,
        seconds,
        vm_hwm_kib: vm_hwm_kib(),
    })
}

/// The baseline: each line of `file` into `IgnoredAny`.
fn ignore_lines(file: &Path) -> Result<(u64, f64), BoxError> {
    let started = Instant::now();
    let mut reader = BufReader::new(File::open(file)?);
    let mut line = Vec::new();
    let mut lines = 0;
    while reader.read_until(b'\n', &mut line)? > 0 {
        black_box(serde_json::from_slice::<IgnoredAny>(black_box(&line))?);
        lines += 1;
        line.clear();
    }
    Ok((lines, started.elapsed().as_secs_f64()))
}

/// `bench replay-child FILE [--pushes [--quiet-period SECS]]`: one
/// replay, then `done <json>` on stdout.
pub fn child_main(file: PathBuf, pushes: Option<Duration>) -> Result<(), BoxError> {
    let replayed = replay_file(&file, pushes)?;
    println!("done {}", serde_json::to_string(&replayed)?);
    Ok(())
}

/// Replays `file` in a child process (`bench replay-child`).
fn replay_in_child(file: &Path, pushes: Option<Duration>) -> Result<Replayed, BoxError> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("replay-child").arg(file);
    if let Some(quiet_period) = pushes {
        command
            .arg("--pushes")
            .arg("--quiet-period")
            .arg(quiet_period.as_secs().to_string());
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let done = stdout
        .lines()
        .find_map(|line| line.strip_prefix("done "))
        .ok_or_else(|| {
            format!(
                "the replay child said nothing ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
    Ok(serde_json::from_str(done)?)
}

/// The replay rows: throughput against `IgnoredAny` on a recording of ten
/// pushes of `tasks` tasks (best of `passes`, interleaved), and peak RSS of
/// replays of a recording of one push and of the ten.
pub fn run(tasks: usize, passes: usize) -> Result<Vec<Row>, BoxError> {
    let recordings = Recordings {
        dir: std::env::temp_dir().join(format!(
            "pulse-bench-replay-{}",
            &pulse_wire::random_label()[..8]
        )),
    };
    std::fs::create_dir_all(&recordings.dir)?;
    let one = recordings.dir.join("push-1x.jsonl");
    let ten = recordings.dir.join("push-10x.jsonl");
    let started = Instant::now();
    let (lines, bytes) = write_recording(&one, tasks, &[1])?;
    let (lines_ten, bytes_ten) = write_recording(&ten, tasks, &(1..=10).collect::<Vec<_>>())?;
    eprintln!(
        "  replay: wrote {lines} and {lines_ten} lines in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The larger file, so a pass lasts long enough to time.
    let (mut replayed_best, mut ignored_best, mut tracked_best) = (0f64, 0f64, 0f64);
    for _ in 0..passes {
        let (ignored, seconds) = ignore_lines(&ten)?;
        ignored_best = ignored_best.max(ignored as f64 / seconds);
        let replayed = replay_file(&ten, None)?;
        let tracked = replay_file(&ten, Some(live_quiet_period()))?;
        if replayed.messages != lines_ten || ignored != lines_ten || tracked.messages != lines_ten {
            return Err(format!(
                "{lines_ten} lines written, {} replayed, {} with pushes, {ignored} parsed",
                replayed.messages, tracked.messages
            )
            .into());
        }
        replayed_best = replayed_best.max(replayed.messages as f64 / replayed.seconds);
        tracked_best = tracked_best.max(tracked.messages as f64 / tracked.seconds);
    }

    let mut tracked_peaks = Vec::new();
    for (file, lines) in [(&one, lines), (&ten, lines_ten)] {
        let replayed = replay_in_child(file, Some(live_quiet_period()))?;
        if replayed.messages != lines {
            return Err(format!("{lines} lines written, {} replayed", replayed.messages).into());
        }
        tracked_peaks.push((lines, replayed.vm_hwm_kib as f64 / 1024.0));
    }
    let mut peaks = Vec::new();
    for (file, lines, bytes) in [(&one, lines, bytes), (&ten, lines_ten, bytes_ten)] {
        let replayed = replay_in_child(file, None)?;
        if replayed.messages != lines {
            return Err(format!("{lines} lines written, {} replayed", replayed.messages).into());
        }
        let mib = replayed.vm_hwm_kib as f64 / 1024.0;
        eprintln!(
            "  replay of {lines} msgs in a child: VmHWM {mib:.1} MiB, {:.1} s",
            replayed.seconds
        );
        peaks.push((lines, bytes, mib));
    }

    let mut rows = vec![Row::versus(
        "replay of recorded Taskcluster msgs, filter keeping nothing",
        replayed_best,
        ignored_best,
        "msg/s",
    )
    .note(format!(
        "{lines_ten} JSON lines ({} B average) of ten generated {tasks}-task pushes, as `pulse-monitor synthetic-push` writes them; `replay::stream` into `Monitor::builder().messages(..)`, Taskcluster with progress (every line translated), filter `--tree no-such-tree --any-kind`, one callback worker; best of {passes}; baseline: the same file read line by line into IgnoredAny",
        bytes_ten / lines_ten.max(1),
    ))];
    let mib = |m: f64| format!("{m:.1} MiB");
    for &(lines, bytes, peak) in &peaks {
        rows.push(
            Row::value(
                format!("peak RSS replaying {} msgs", thousands(lines as f64)),
                peak,
                mib,
            )
            .target(Target::Below(64.0))
            .unit("MiB")
            .note(format!(
                "a replay in a child process (VmHWM); file {:.0} MB",
                bytes as f64 / 1e6
            )),
        );
    }
    let ((small_lines, _, small), (large_lines, _, large)) = (peaks[0], peaks[1]);
    rows.push(
        Row::compare(
            format!(
                "peak RSS growth, replay of {} vs {} msgs",
                thousands(large_lines as f64),
                thousands(small_lines as f64)
            ),
            large,
            small,
            mib,
        )
        .target(Target::RatioAtMost(1.25))
        .note("flat means the 10× larger file (ten pushes) costs at most 25% more"),
    );
    rows.push(
        Row::versus(
            "replay with push tracking (in memory)",
            tracked_best,
            replayed_best,
            "msg/s",
        )
        .note(format!(
            "the same ten pushes, every record going to the push tracker too (`--pushes`), no record callback; best of {passes}; baseline: the replay without push tracking above"
        )),
    );
    let ((one_lines, one_peak), (ten_lines, ten_peak)) = (tracked_peaks[0], tracked_peaks[1]);
    rows.push(
        Row::compare(
            format!(
                "peak RSS with push tracking, {} msgs (10 pushes) vs {} (1 push)",
                thousands(ten_lines as f64),
                thousands(one_lines as f64)
            ),
            ten_peak,
            one_peak,
            mib,
        )
        .note(format!(
            "a replay in a child process (VmHWM), in-memory push state, the live quiet period (60 s): the replay lasts under a second, so no push finishes (and leaves memory) before the end of the input, and this grows with the pushes; {one_peak:.1} and {ten_peak:.1} MiB"
        )),
    );
    Ok(rows)
}

/// Writes autoland pushes of `tasks` tasks (seeds 1, 2, …) to `large`
/// until it holds at least `large_lines` lines, the first pushes up to
/// `small_lines` also to `small`. Returns (lines, bytes, pushes) of each.
fn write_day(
    small: &Path,
    large: &Path,
    tasks: usize,
    (small_lines, large_lines): (u64, u64),
) -> Result<[(u64, u64, u64); 2], BoxError> {
    let mut out_small = BufWriter::new(File::create(small)?);
    let mut out_large = BufWriter::new(File::create(large)?);
    let (mut lines, mut pushes) = (0u64, 0u64);
    let mut small_done = None;
    let mut seed = 1;
    while lines < large_lines {
        let push = pulse_synthetic::Push::builder()
            .tree("autoland")
            .tasks(tasks)
            .seed(seed)
            .build();
        seed += 1;
        for message in push.messages() {
            let line = serde_json::to_vec(&message.message)?;
            out_large.write_all(&line)?;
            out_large.write_all(b"\n")?;
            if small_done.is_none() {
                out_small.write_all(&line)?;
                out_small.write_all(b"\n")?;
            }
            lines += 1;
        }
        pushes += 1;
        if small_done.is_none() && lines >= small_lines {
            small_done = Some((lines, pushes));
        }
    }
    out_small.flush()?;
    out_large.flush()?;
    let (small_lines, small_pushes) = small_done.unwrap_or((lines, pushes));
    Ok([
        (small_lines, std::fs::metadata(small)?.len(), small_pushes),
        (lines, std::fs::metadata(large)?.len(), pushes),
    ])
}

/// A day of traffic: a recording of about `large_lines` messages (pushes
/// of `tasks` tasks) replayed with push tracking against `IgnoredAny` over
/// the same lines, and the peak RSS of that replay in a child process for
/// the first `small_lines` and for all of them.
pub fn day(tasks: usize, small_lines: u64, large_lines: u64) -> Result<Vec<Row>, BoxError> {
    let recordings = Recordings {
        dir: std::env::temp_dir().join(format!(
            "pulse-bench-day-{}",
            &pulse_wire::random_label()[..8]
        )),
    };
    std::fs::create_dir_all(&recordings.dir)?;
    let small = recordings.dir.join("day-small.jsonl");
    let large = recordings.dir.join("day-large.jsonl");
    let started = Instant::now();
    let [(small_lines, _, small_pushes), (lines, bytes, pushes)] =
        write_day(&small, &large, tasks, (small_lines, large_lines))?;
    eprintln!(
        "  day: wrote {small_lines} and {lines} lines ({pushes} pushes, {:.0} MB) in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // One pass each: the file is large enough to time, and too large to
    // stay in the page cache beside everything else on a shared machine.
    let (ignored, ignored_seconds) = ignore_lines(&large)?;
    let replayed = replay_file(&large, Some(DAY_QUIET_PERIOD))?;
    if replayed.messages != lines || ignored != lines {
        return Err(format!(
            "{lines} lines written, {} replayed, {ignored} parsed",
            replayed.messages
        )
        .into());
    }
    let mut peaks = Vec::new();
    for (file, expected) in [(&small, small_lines), (&large, lines)] {
        let child = replay_in_child(file, Some(DAY_QUIET_PERIOD))?;
        if child.messages != expected {
            return Err(format!("{expected} lines written, {} replayed", child.messages).into());
        }
        let mib = child.vm_hwm_kib as f64 / 1024.0;
        eprintln!(
            "  day: replay of {expected} msgs with push tracking in a child: VmHWM {mib:.1} MiB, {:.1} s",
            child.seconds
        );
        peaks.push(mib);
    }
    let mib = |m: f64| format!("{m:.1} MiB");
    let quiet = DAY_QUIET_PERIOD.as_secs();
    Ok(vec![
        Row::versus(
            format!(
                "a day of traffic: replay of {} msgs with push tracking",
                thousands(lines as f64)
            ),
            replayed.messages as f64 / replayed.seconds,
            ignored as f64 / ignored_seconds,
            "msg/s",
        )
        .note(format!(
            "{pushes} generated {tasks}-task autoland pushes (seeds 1–{pushes}), {lines} JSON lines of {} B average as `pulse-monitor synthetic-push` writes them; `replay::stream` into a monitor with `push_tracking(PushSettings::default().with_quiet_period({quiet} s))` (in memory; a push finishes once its tasks are final, as within a minute on a live day) and `on_push`, Taskcluster with progress, no record reaching a callback, one callback worker; one pass; baseline: the same file read line by line into IgnoredAny",
            bytes / lines.max(1),
        )),
        Row::compare(
            format!(
                "peak RSS of that replay, {} vs {} msgs",
                thousands(lines as f64),
                thousands(small_lines as f64)
            ),
            peaks[1],
            peaks[0],
            mib,
        )
        .target(Target::RatioAtMost(1.25))
        .note(format!(
            "the replay in a child process (VmHWM) of the first {small_pushes} pushes and of all {pushes}: {:.1} and {:.1} MiB; quiet period {quiet} s; the in-memory push tracker keeps every push until its retention (7 days), which a day's recording never reaches, but a finished push only as its summary and failed tasks (the others paged out to a temporary SQLite file)",
            peaks[0], peaks[1]
        )),
    ])
}
