//! A SIMD JSON parser that keeps serde (sonic-rs) on the translator's
//! inputs, against serde_json: the raw buildbot corpus and the Taskcluster
//! messages of the translation rows, each read into `IgnoredAny`, and the
//! Taskcluster bodies into the fields the translator reads. The baseline
//! stays serde_json into `IgnoredAny`, as in the translation rows, so the
//! ratios compare with theirs.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hint::black_box;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::broker::BoxError;
use crate::corpus::Corpus;
use crate::report::{thousands, Row};
use crate::translation::{best_pair, Timing};

/// What `taskcluster::translate` reads of a queue message's body (its
/// private `Body`, with every tag kept instead of three): borrowed strings,
/// the rest skipped.
// Filled to measure what parsing them costs; nothing reads them after.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    status: Option<StatusSection<'a>>,
    run_id: Option<u32>,
    #[serde(borrow)]
    worker_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    task: TaskSection<'a>,
}

// Filled to measure what parsing them costs; nothing reads them after.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusSection<'a> {
    #[serde(borrow)]
    task_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    task_group_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    worker_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    runs: Vec<Run<'a>>,
}

// Filled to measure what parsing them costs; nothing reads them after.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    run_id: Option<u32>,
    #[serde(borrow)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason_created: Option<Cow<'a, str>>,
    #[serde(borrow)]
    reason_resolved: Option<Cow<'a, str>>,
    #[serde(borrow)]
    scheduled: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resolved: Option<Cow<'a, str>>,
    #[serde(borrow)]
    worker_id: Option<Cow<'a, str>>,
}

#[allow(dead_code)]
#[derive(Default, Deserialize)]
struct TaskSection<'a> {
    #[serde(default, borrow)]
    tags: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

/// The rows: sonic-rs against serde_json `IgnoredAny` on raw buildbot
/// bodies and on Taskcluster bodies, and both parsers reading the
/// translator's fields of the Taskcluster bodies.
pub fn run(corpus: &Corpus, quick: bool) -> Result<Vec<Row>, BoxError> {
    let timing = Timing::new(quick);
    let ignored_serde = |body: &Vec<u8>| {
        let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(body)));
    };
    let ignored_sonic = |body: &Vec<u8>| {
        let _ = black_box(sonic_rs::from_slice::<IgnoredAny>(black_box(body)));
    };
    let raw = &corpus.raw_bodies;
    let (sonic_raw, serde_raw) = best_pair(raw, &timing, ignored_sonic, ignored_serde);

    let taskcluster: Vec<Vec<u8>> = crate::taskcluster::translation_inputs()?
        .into_iter()
        .map(|message| message.body)
        .collect();
    // Both parsers must read every body the same way.
    for body in &taskcluster {
        let by_serde = serde_json::from_slice::<Body<'_>>(body).map(|b| b.run_id);
        let by_sonic = sonic_rs::from_slice::<Body<'_>>(body).map(|b| b.run_id);
        if by_serde.is_ok() != by_sonic.is_ok() || by_serde.ok() != by_sonic.ok() {
            return Err("sonic-rs and serde_json read a Taskcluster body differently".into());
        }
    }
    let (sonic_tc, serde_tc) = best_pair(&taskcluster, &timing, ignored_sonic, ignored_serde);
    let (sonic_fields, serde_fields) = best_pair(
        &taskcluster,
        &timing,
        |body| {
            let _ = black_box(sonic_rs::from_slice::<Body<'_>>(black_box(body)));
        },
        |body| {
            let _ = black_box(serde_json::from_slice::<Body<'_>>(black_box(body)));
        },
    );
    // The baseline of the fields row is serde_json into IgnoredAny, as
    // for translation; its own serde_json rate goes in the note.
    let (_, serde_tc_again) = best_pair(&taskcluster, &timing, |_| {}, ignored_serde);
    let baseline_tc = serde_tc.max(serde_tc_again);
    Ok(vec![
        Row::versus(
            "SIMD JSON: raw buildbot bodies into IgnoredAny with sonic-rs",
            sonic_raw,
            serde_raw,
            "msg/s",
        )
        .note(format!(
            "the {} raw corpus messages of the translation row; baseline: serde_json into IgnoredAny, same bytes",
            raw.len()
        )),
        Row::versus(
            "SIMD JSON: Taskcluster bodies into IgnoredAny with sonic-rs",
            sonic_tc,
            serde_tc,
            "msg/s",
        )
        .note(format!(
            "the {} bodies of the Taskcluster translation row; baseline: serde_json into IgnoredAny",
            taskcluster.len()
        )),
        Row::versus(
            "SIMD JSON: Taskcluster bodies into the translator's fields with sonic-rs",
            sonic_fields,
            baseline_tc,
            "msg/s",
        )
        .note(format!(
            "the fields `taskcluster::translate` reads (status, runs, workerId, every tag) as borrowed strings, the rest skipped: the parse step of translation alone; serde_json into the same struct: {} msg/s ({:.2} of IgnoredAny); baseline: serde_json into IgnoredAny",
            thousands(serde_fields),
            serde_fields / baseline_tc,
        )),
    ])
}
