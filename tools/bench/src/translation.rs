//! In-process rates: translating raw messages against merely parsing the
//! same bytes, normalized payloads, buildernames.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pulse_translator::buildbot::translate;
use pulse_translator::Options;
use pulse_translator::{buildername, normalized};
use serde::de::IgnoredAny;

use crate::corpus::Corpus;
use crate::report::{Row, Target};
use crate::Settings;

/// The work `bench profile` repeats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Work {
    /// Raw buildbot messages through the translator.
    Translate,
    /// Normalized payloads parsed into records.
    Normalized,
    /// The raw messages parsed into `IgnoredAny` (the baseline).
    Ignored,
    /// Taskcluster messages (a generated push and the tagged-2020 corpus)
    /// through the translator.
    Taskcluster,
    /// The same Taskcluster bodies parsed into `IgnoredAny`.
    TaskclusterIgnored,
    /// The Taskcluster messages through an in-process monitor whose filter
    /// keeps every record and whose callbacks do nothing: the monitor's
    /// own cost per message, without the broker.
    TaskclusterMonitor,
}

/// How long one pass runs, and how many passes each side gets.
pub struct Timing {
    pass: Duration,
    passes: usize,
}

impl Timing {
    /// Best of 5 passes of 0.5 s, or 3 of 0.2 s in a quick run.
    pub fn new(quick: bool) -> Timing {
        if quick {
            Timing {
                pass: Duration::from_millis(200),
                passes: 3,
            }
        } else {
            Timing {
                pass: Duration::from_millis(500),
                passes: 5,
            }
        }
    }
}

/// Items per second of `work` over `items`, for one pass.
fn pass_rate<T>(items: &[T], pass: Duration, work: &mut impl FnMut(&T)) -> f64 {
    let start = Instant::now();
    let mut rounds = 0u32;
    while rounds == 0 || start.elapsed() < pass {
        for item in items {
            work(item);
        }
        rounds += 1;
    }
    items.len() as f64 * f64::from(rounds) / start.elapsed().as_secs_f64()
}

/// The best rate of each side, passes interleaved so both see the same
/// machine (other processes come and go).
pub fn best_pair<T>(
    items: &[T],
    timing: &Timing,
    mut measured: impl FnMut(&T),
    mut baseline: impl FnMut(&T),
) -> (f64, f64) {
    let (mut best_measured, mut best_baseline) = (0f64, 0f64);
    for _ in 0..timing.passes {
        best_baseline = best_baseline.max(pass_rate(items, timing.pass, &mut baseline));
        best_measured = best_measured.max(pass_rate(items, timing.pass, &mut measured));
    }
    (best_measured, best_baseline)
}

/// The translation rows.
pub fn run(corpus: &Corpus, settings: &Settings) -> Vec<Row> {
    let timing = Timing::new(settings.quick);
    let options = Options::default();
    let mut rows = Vec::new();

    let bodies = &corpus.raw_bodies;
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let average = bytes / bodies.len();
    let (translated, parsed) = best_pair(
        bodies,
        &timing,
        |body| {
            let _ = black_box(translate(black_box(body), &options));
        },
        |body| {
            let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(body)));
        },
    );
    let mb = translated * average as f64 / 1e6;
    rows.push(
        Row::versus(
            "raw buildbot → records (`buildbot::translate`)",
            translated,
            parsed,
            "msg/s",
        )
        .target(Target::RatioAtLeast(0.8))
        .note(format!(
            "{} corpus messages, {:.1} KB average ({mb:.0} MB/s); baseline: serde_json into IgnoredAny, same bytes",
            bodies.len(),
            average as f64 / 1e3
        )),
    );

    let messages = &corpus.normalized;
    let average = messages.iter().map(|(_, b)| b.len()).sum::<usize>() / messages.len();
    let (parsed_records, parsed) = best_pair(
        messages,
        &timing,
        |(key, body)| {
            let _ = black_box(normalized::parse(black_box(key), black_box(body)));
        },
        |(_, body)| {
            let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(body)));
        },
    );
    rows.push(
        Row::versus(
            "normalized payload → record (`normalized::parse`)",
            parsed_records,
            parsed,
            "msg/s",
        )
        .note(format!(
            "{} payloads, {average} B average; baseline: IgnoredAny, same bytes",
            messages.len()
        )),
    );

    let names = &corpus.buildernames;
    let rate = (0..timing.passes)
        .map(|_| {
            pass_rate(names, timing.pass, &mut |name: &String| {
                black_box(buildername::parse(black_box(name)));
            })
        })
        .fold(0f64, f64::max);
    rows.push(
        Row::info(
            "buildernames parsed (`buildername::parse`)",
            format!("{} names/s", crate::report::thousands(rate)),
        )
        .note(format!("{} names from the corpus payloads", names.len())),
    );
    rows
}

/// `bench profile translate|normalized|ignored|taskcluster|taskcluster-ignored|taskcluster-monitor
/// ROUNDS`: one kind of work in a loop and nothing else, for `perf record`
/// or callgrind.
pub fn profile(work: Work, rounds: usize) -> Result<(), crate::broker::BoxError> {
    let corpus = Corpus::load(&crate::endtoend::keep_everything())?;
    let taskcluster = match work {
        Work::Taskcluster | Work::TaskclusterIgnored | Work::TaskclusterMonitor => {
            crate::taskcluster::translation_inputs()?
        }
        _ => Vec::new(),
    };
    let options = Options::default();
    let tc_options = pulse_translator::Options::default();
    let started = Instant::now();
    for _ in 0..rounds {
        match work {
            Work::Translate => corpus.raw_bodies.iter().for_each(|body| {
                let _ = black_box(translate(black_box(body), &options));
            }),
            Work::Normalized => corpus.normalized.iter().for_each(|(key, body)| {
                let _ = black_box(normalized::parse(black_box(key), black_box(body)));
            }),
            Work::Ignored => corpus.raw_bodies.iter().for_each(|body| {
                let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(body)));
            }),
            Work::Taskcluster => taskcluster
                .iter()
                .for_each(|message| crate::taskcluster::translate_one(message, &tc_options)),
            Work::TaskclusterMonitor => {
                let monitor = pulse_build_monitor::Monitor::builder()
                    .source(crate::taskcluster::SOURCE)
                    .filter(crate::endtoend::keep_every_kind())
                    .on_build(|build| drop(black_box(build)))
                    .on_test(|test| drop(black_box(test)))
                    .on_task(|task| drop(black_box(task)))
                    .messages(taskcluster.clone())
                    .start()?;
                monitor.join();
            }
            Work::TaskclusterIgnored => taskcluster.iter().for_each(|message| {
                let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(
                    &message.body,
                )));
            }),
        }
    }
    let what = format!("{work:?}").to_lowercase();
    eprintln!("{rounds} rounds of {what} in {:?}", started.elapsed());
    Ok(())
}
