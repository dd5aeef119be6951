//! CPU time from /proc: of this process's threads by name (which of the
//! monitor's threads is the bottleneck), and of the whole process.

use std::collections::BTreeMap;
use std::time::Duration;

/// Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used so far by the live threads, summed by name (digits
/// dropped, so the pool's workers count together).
pub fn cpu_by_name() -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        // Fields after the `(comm)`, which may hold spaces: utime and stime
        // are the 12th and 13th.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11..13)
            .into_iter()
            .flatten()
            .filter_map(|f| f.parse::<f64>().ok())
            .sum();
        let name: String = comm
            .trim()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let name = name.trim_end_matches(['-', ' ']).to_string();
        *by_name.entry(name).or_insert(0.0) += ticks / TICKS_PER_SECOND;
    }
    by_name
}

/// The threads that used at least 5% of one core since `before` was taken,
/// `wall` ago, busiest first: `pulse-monitor 93%, amiquip-io 41%`.
pub fn busy_since(before: &BTreeMap<String, f64>, wall: Duration) -> String {
    let wall = wall.as_secs_f64().max(1e-3);
    let mut busy: Vec<(String, f64)> = cpu_by_name()
        .into_iter()
        .map(|(name, seconds)| {
            let used = seconds - before.get(&name).copied().unwrap_or(0.0);
            (name, used / wall)
        })
        .filter(|(_, share)| *share >= 0.05)
        .collect();
    busy.sort_by(|a, b| b.1.total_cmp(&a.1));
    busy.iter()
        .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU seconds (user and system) this process used so far, threads that
/// ended included, to the nanosecond (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_seconds() -> f64 {
    // To the nanosecond, ended threads included; /proc's ticks otherwise.
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID).map_or_else(
        |_| cpu_seconds_of("self"),
        |time| time.tv_sec() as f64 + time.tv_nsec() as f64 * 1e-9,
    )
}

/// CPU seconds (user and system) process `pid` (or `self`) used so far.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    stat.rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|f| f.parse::<f64>().ok())
                .sum::<f64>()
                / TICKS_PER_SECOND
        })
        .unwrap_or(f64::NAN)
}

/// The local RabbitMQ's Erlang VM (`beam.smp`), if it runs on this
/// machine: its CPU is part of what a message costs.
pub fn broker_pid() -> Option<String> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim() == "beam.smp").then_some(pid)
        })
}

/// CPU seconds used so far by this process and by the broker (when it
/// runs here).
pub fn process_and_broker_cpu(broker: Option<&str>) -> (f64, f64) {
    (process_cpu_seconds(), broker.map_or(0.0, cpu_seconds_of))
}
