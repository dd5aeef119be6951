//! Numbered test messages and the arithmetic of what arrived.

use std::collections::BTreeMap;

use pulse_build_monitor::BuildRecord;

const URL_PREFIX: &str = "https://example.org/faults/";

/// A raw buildbot "build finished" message for mozilla-central linux64
/// whose package URL carries `id`: the routing key and the JSON body. It
/// passes the monitor's default filter and reaches `on_build`, where
/// [`record_id`] reads the number back.
pub fn build_message(id: u64) -> (String, Vec<u8>) {
    let routing_key = format!("build.mozilla-central-linux64.{id}.log_uploaded");
    let body = serde_json::json!({
        "_meta": {"routing_key": routing_key},
        "payload": {"build": {"results": 0, "properties": [
            ["branch", "mozilla-central", "faults"],
            ["platform", "linux64", "faults"],
            ["buildid", "20150813030204", "faults"],
            ["product", "firefox", "faults"],
            ["packageUrl", format!("{URL_PREFIX}{id}.tar.bz2"), "faults"],
            ["log_url", format!("{URL_PREFIX}{id}.log.gz"), "faults"],
            ["buildername", "Linux x86-64 mozilla-central build", "faults"],
        ]}}
    });
    (routing_key, serde_json::to_vec(&body).expect("json"))
}

/// The number [`build_message`] put in a build's package URL.
pub fn record_id(build: &BuildRecord) -> Option<u64> {
    build
        .job
        .buildurl
        .as_deref()?
        .strip_prefix(URL_PREFIX)?
        .strip_suffix(".tar.bz2")?
        .parse()
        .ok()
}

/// Counts how often each of the ids `0..sent` arrived.
#[derive(Debug, Clone)]
pub struct Tally {
    sent: u64,
    seen: BTreeMap<u64, u32>,
    strangers: u64,
}

impl Tally {
    /// A tally for ids `0..sent`.
    pub fn new(sent: u64) -> Tally {
        Tally {
            sent,
            seen: BTreeMap::new(),
            strangers: 0,
        }
    }

    /// Records one arrival; ids outside `0..sent` are counted apart.
    pub fn record(&mut self, id: u64) {
        if id < self.sent {
            *self.seen.entry(id).or_default() += 1;
        } else {
            self.strangers += 1;
        }
    }

    /// Distinct ids that arrived.
    pub fn unique(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Arrivals beyond the first of each id.
    pub fn duplicates(&self) -> u64 {
        self.seen.values().map(|&n| u64::from(n) - 1).sum()
    }

    /// Ids that arrived more than once.
    pub fn duplicated_ids(&self) -> Vec<u64> {
        self.seen
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(&id, _)| id)
            .collect()
    }

    /// Ids that never arrived.
    pub fn lost(&self) -> Vec<u64> {
        (0..self.sent)
            .filter(|id| !self.seen.contains_key(id))
            .collect()
    }

    /// Arrivals whose id was never sent (must stay 0).
    pub fn strangers(&self) -> u64 {
        self.strangers
    }
}

/// Prints the line `RELIABILITY.md`'s table is filled from:
/// `FAULT-RESULT fault=<name> sent=<n> received=<unique> duplicates=<n> lost=<n> <extra>`.
pub fn print_result(fault: &str, tally: &Tally, extra: &str) {
    println!(
        "FAULT-RESULT fault={fault} sent={} received={} duplicates={} lost={} {extra}",
        tally.sent,
        tally.unique(),
        tally.duplicates(),
        tally.lost().len(),
    );
}

/// A tiny seeded pseudo-random generator (xorshift64*) for fault timing;
/// the seed is printed by the tests so a run can be repeated.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from the clock and the process id.
    pub fn from_time() -> XorShift {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        XorShift::new(nanos ^ u64::from(std::process::id()) << 32)
    }

    /// Seeded with `seed` (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The seed-derived state, to print.
    pub fn state(&self) -> u64 {
        self.0
    }

    /// A number in `low..high` (`low` if the range is empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if high <= low {
            low
        } else {
            low + n % (high - low)
        }
    }
}
