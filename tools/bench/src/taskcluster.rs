//! Today's traffic: Taskcluster queue messages translated against merely
//! parsing the same bytes, and a generated push through the broker, the
//! monitor against a bare consumer.

use std::hint::black_box;
use std::time::Duration;

use pulse_build_monitor::Source;
use pulse_translator::taskcluster::translate;
use pulse_translator::Message;
use pulse_translator::Options;
use serde::de::IgnoredAny;

use crate::broker::BoxError;
use crate::endtoend::{self, Best, Round, Tracker};
use crate::report::{Row, Target};
use crate::tc_messages::{self, TcStream};
use crate::translation::{best_pair, Timing};
use crate::Context;

/// The generated push the translation row reads: a full autoland push.
const PUSH_TASKS: usize = 3000;

/// What the monitor reads: every queue exchange, pending and running too.
pub const SOURCE: Source = Source::Taskcluster { progress: true };

/// Every message of a generated push (all kinds, all five exchanges) and
/// the tagged-2020 corpus messages.
pub fn translation_inputs() -> Result<Vec<Message>, String> {
    // Seed 1 and its own revision: the same push in every run.
    let push = pulse_synthetic::Push::builder()
        .tree("autoland")
        .tasks(PUSH_TASKS)
        .seed(1)
        .build();
    let mut messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    messages.extend(tc_messages::tagged_corpus()?);
    Ok(messages)
}

/// Translates one message as the monitor does.
pub fn translate_one(message: &Message, options: &Options) {
    let _ = black_box(translate(black_box(message), options));
}

/// `taskcluster::translate` over every input against `IgnoredAny` over the
/// same bodies.
pub fn translation(quick: bool) -> Result<Vec<Row>, BoxError> {
    let messages = translation_inputs()?;
    let options = Options::default();
    let tagged = tc_messages::tagged_corpus()?.len();
    let errors = messages
        .iter()
        .filter(|m| translate(m, &options).is_err())
        .count();
    let average = messages.iter().map(|m| m.body.len()).sum::<usize>() / messages.len();
    let (translated, parsed) = best_pair(
        &messages,
        &Timing::new(quick),
        |message| translate_one(message, &options),
        |message| {
            let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(
                &message.body,
            )));
        },
    );
    Ok(vec![Row::versus(
        "Taskcluster msgs → records (`taskcluster::translate`)",
        translated,
        parsed,
        "msg/s",
    )
    .target(Target::RatioAtLeast(0.8))
    .note(format!(
        "{} msgs, {average} B average: a generated {PUSH_TASKS}-task autoland push (every kind, all five exchanges) and the {tagged} tagged-2020 corpus msgs ({errors} translate to errors); baseline: serde_json into IgnoredAny, same bodies",
        messages.len(),
    ))])
}

/// A generated push through the broker as the queue publishes it
/// (exchange, routing key, `CC`): the monitor (every tree and kind, with
/// progress) against bare consumers, each draining its own copy; the best
/// of `rounds`, which rotate who goes first.
pub fn throughput(ctx: &Context, count: u64, rounds: usize) -> Result<Vec<Row>, BoxError> {
    let stream = TcStream::unique(count as usize);
    let count = stream.messages.len() as u64;
    let what = "taskcluster";
    let mut best = Best::default();
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    for round in 0..rounds {
        let names = Round::new(ctx, what, round);
        let queues = names.queues(ctx);
        for queue in &queues {
            tc_messages::declare_queue(&ctx.ledger, &mut publisher, queue, &stream.pattern())?;
        }
        stream.publish(&mut publisher, 500)?;
        // The broker goes on writing the persistent backlog for a moment;
        // whoever drained first would pay for it.
        std::thread::sleep(Duration::from_secs(1));
        endtoend::race(ctx, (what, round), &names, count, &mut best, &|| {
            let (tracker, done) = Tracker::for_revision(&stream.revision, count);
            endtoend::monitor_drain(ctx, SOURCE, &names.label, &tracker, done)
        })?;
        for queue in &queues {
            ctx.ledger.delete_queue(queue);
        }
    }
    let _ = publisher.close();
    Ok(endtoend::throughput_rows(
        "Taskcluster msgs",
        format!(
            "{count} msgs of a generated push ({} B average; exchange, routing key and CC as the queue publishes them), monitor with progress, every tree and kind, best of {rounds}",
            stream.average_size()
        ),
        &best,
    ))
}
