//! Translation rate against the rate of merely parsing the same bytes.
//!
//! `cargo bench -p pulse-translator --bench translate` prints a table; the
//! target is a translate rate of at least 0.8 of the IgnoredAny rate.

use std::path::Path;
use std::time::{Duration, Instant};

use pulse_translator::buildbot::translate;
use pulse_translator::Options;
use serde::de::IgnoredAny;

use pulse_test_corpus::{files_under, CORPUS};

/// Messages per second of `work` over all bodies, best of five runs.
fn rate(bodies: &[Vec<u8>], mut work: impl FnMut(&[u8])) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut rounds = 0;
        while start.elapsed() < Duration::from_millis(400) {
            for body in bodies {
                work(body);
            }
            rounds += 1;
        }
        best = best.min(start.elapsed() / rounds);
    }
    bodies.len() as f64 / best.as_secs_f64()
}

fn main() {
    let mut files = Vec::new();
    for set in ["buildbot-raw", "buildbot-unittest-2013"] {
        let dir = Path::new(CORPUS).join(set);
        if !dir.is_dir() {
            eprintln!(
                "!!! the shared corpus is missing at {}: nothing to measure !!!",
                dir.display()
            );
            return;
        }
        files.extend(files_under(&dir));
    }
    let bodies: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let options = Options::default();

    let parse = rate(&bodies, |body| {
        std::hint::black_box(serde_json::from_slice::<IgnoredAny>(body).unwrap());
    });
    let translated = rate(&bodies, |body| {
        let _ = std::hint::black_box(translate(body, &options));
    });
    let mb = |rate: f64| rate * bytes as f64 / bodies.len() as f64 / 1e6;
    println!(
        "{} messages, {} bytes on average",
        bodies.len(),
        bytes / bodies.len()
    );
    println!(
        "| {:<24} | {:>12} | {:>8} | {:>8} |",
        "work", "messages/s", "MB/s", "ratio"
    );
    println!("|{:-<26}|{:-<14}|{:-<10}|{:-<10}|", "", "", "", "");
    println!(
        "| {:<24} | {:>12.0} | {:>8.1} | {:>8.2} |",
        "parse into IgnoredAny",
        parse,
        mb(parse),
        1.0
    );
    println!(
        "| {:<24} | {:>12.0} | {:>8.1} | {:>8.2} |",
        "buildbot::translate",
        translated,
        mb(translated),
        translated / parse
    );
    println!("target ratio: 0.80");
}
