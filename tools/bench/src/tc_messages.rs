//! Taskcluster messages for the bench: generated pushes (`pulse-synthetic`)
//! with a revision of their own, the `tagged-2020` corpus messages, and
//! queues bound so that only one push's messages reach them.

use std::path::Path;

use pulse_build_monitor::exchanges;
use pulse_synthetic::Push;
use pulse_wire::{ExchangeDeclaration, Message, Publisher, QueueSpec, Topology};
use serde_json::Value;

use crate::broker::{BoxError, Ledger};
use crate::corpus::CORPUS;

/// The tree of every generated push.
const TREE: &str = "autoland";

/// The first messages of a generated push, in the order the queue
/// publishes them.
pub struct TcStream {
    /// Its revision: records of this stream carry it.
    pub revision: String,
    /// The messages.
    pub messages: Vec<Message>,
    /// The push they are the first messages of.
    pub push: Push,
}

impl TcStream {
    /// The first `count` messages of an autoland push with `seed` and
    /// `revision` (40 lowercase hex digits), large enough to have them.
    pub fn generate(count: usize, seed: u64, revision: &str) -> TcStream {
        // About three messages per run (pending, running, resolved).
        let mut tasks = (count / 3).max(100);
        loop {
            let push = Push::builder()
                .tree(TREE)
                .tasks(tasks)
                .seed(seed)
                .revision(revision)
                .build();
            // The messages routed by the push's `CC` routes: every task's
            // definition and runs. The push's hg message and its group's
            // resolution (a few per push) route by other keys.
            let messages: Vec<_> = push
                .messages()
                .into_iter()
                .filter(|m| m.routing_key.starts_with("primary.") && !m.cc.is_empty())
                .collect();
            if messages.len() >= count || tasks >= 100_000 {
                return TcStream {
                    revision: push.revision.clone(),
                    messages: messages
                        .into_iter()
                        .take(count)
                        .map(|m| m.message)
                        .collect(),
                    push,
                };
            }
            tasks = tasks * 3 / 2;
        }
    }

    /// A stream no other run publishes: a random revision and seed.
    pub fn unique(count: usize) -> TcStream {
        let revision = unique_revision();
        let seed = u64::from_str_radix(&pulse_wire::random_label(), 16).unwrap_or(1);
        TcStream::generate(count, seed, &revision)
    }

    /// The topic pattern that matches this stream's `CC` routes only.
    pub fn pattern(&self) -> String {
        format!("route.tc-treeherder.v2.{TREE}.{}.#", self.revision)
    }

    /// Publishes the stream at `rate` messages a second; how long it took
    /// and how far the publisher fell behind its schedule at worst.
    pub fn publish_paced(
        &self,
        settings: &pulse_wire::ConnectionSettings,
        rate: u64,
    ) -> Result<(std::time::Duration, std::time::Duration), BoxError> {
        crate::broker::publish_paced(
            settings,
            self.messages.len() as u64,
            rate,
            &|i| self.messages[i as usize].clone(),
            &|_| {},
        )
    }

    /// Body bytes in all.
    pub fn bytes(&self) -> u64 {
        self.messages.iter().map(|m| m.body.len() as u64).sum()
    }

    /// Average body size in bytes.
    pub fn average_size(&self) -> u64 {
        self.bytes() / (self.messages.len() as u64).max(1)
    }

    /// Publishes every message in confirmed batches of `batch`: the
    /// publisher waits for the broker's confirms after each. Returns the
    /// body bytes published.
    pub fn publish(&self, publisher: &mut Publisher, batch: usize) -> Result<u64, BoxError> {
        for batch in self.messages.chunks(batch) {
            publisher.publish_batch(batch)?;
        }
        Ok(self.bytes())
    }
}

/// 40 random lowercase hex digits.
pub fn unique_revision() -> String {
    let mut revision = String::new();
    while revision.len() < 40 {
        revision.push_str(&pulse_wire::random_label());
    }
    revision.truncate(40);
    revision
}

/// Declares a durable queue bound to the Taskcluster queue exchanges of
/// tasks (task-defined and the five of runs)
/// with `pattern` (declaring them if missing, as the monitor does on a
/// local broker), recording the queue. The exchanges are shared: the run
/// records them once, to be deleted only if they were new and are unused.
pub fn declare_queue(
    ledger: &Ledger,
    publisher: &mut Publisher,
    queue: &str,
    pattern: &str,
) -> Result<(), BoxError> {
    ledger.queue(queue);
    let mut topology =
        Topology::new(QueueSpec::durable(queue)).exchange_declaration(ExchangeDeclaration::Declare);
    for exchange in std::iter::once(exchanges::TASK_DEFINED).chain(exchanges::TASK_ALL) {
        topology = topology.bind(exchange, pattern);
    }
    publisher.declare(&topology)?;
    Ok(())
}

/// The `tagged-2020` corpus messages as the queue published them on
/// `task-completed`: the primary routing key rebuilt from the body, the
/// `CC` routes from the task definition beside it.
pub fn tagged_corpus() -> Result<Vec<Message>, String> {
    let dir = Path::new(CORPUS).join("taskcluster/tagged-2020");
    let read = |path: &Path| -> Result<Value, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading the corpus at {}: {e}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with("_pulse.json"))
        .collect();
    names.sort();
    let mut messages = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_slice(&body).map_err(|e| format!("{name}: {e}"))?;
        let task_id = json["status"]["taskId"].as_str().unwrap_or_default();
        let definition = read(&dir.join(format!("task_{task_id}.json")))?;
        let cc = definition["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|route| format!("route.{route}"))
            .collect();
        messages.push(
            Message::new(
                exchanges::TASK_COMPLETED,
                pulse_build_monitor::primary_routing_key(&json),
                body,
            )
            .with_cc(cc),
        );
    }
    if messages.is_empty() {
        return Err(format!("no Taskcluster messages in {}", dir.display()));
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_has_the_count_asked_and_its_own_revision() {
        let stream = TcStream::generate(500, 3, &"ab".repeat(20));
        assert_eq!(stream.messages.len(), 500);
        let route = format!("route.tc-treeherder.v2.{TREE}.{}", "ab".repeat(20));
        assert!(stream
            .messages
            .iter()
            .all(|m| m.cc.iter().any(|cc| cc.starts_with(&route))));
        let revision = unique_revision();
        assert_eq!(revision.len(), 40);
        assert!(revision.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
