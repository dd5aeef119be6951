//! Which Pulse messages a monitor reads, and how each kind is translated.

use pulse_filter::Filter;
use pulse_translator::{buildbot, normalized, taskcluster, Record};

use crate::message::RawMessage;

/// Which exchanges a monitor reads on the broker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Raw buildbot messages on `exchange/build/`, translated in-process
    /// (what pulsetranslator did as a separate service).
    #[default]
    Buildbot,
    /// Messages on `exchange/build/normalized`, already translated.
    Normalized,
    /// Today's Taskcluster queue messages: `task-completed`, `task-failed`
    /// and `task-exception` (and `task-running`, `task-pending` when
    /// progress is asked for).
    Taskcluster {
        /// Also read `task-running` and `task-pending`.
        progress: bool,
    },
}

impl Source {
    /// The exchange and topic pattern of each binding this source needs,
    /// narrowed by the filter's trees (and platforms, on the normalized
    /// exchange, whose routing keys carry them) so the broker drops what
    /// the filter would.
    ///
    /// ```
    /// use pulse_build_monitor::{Filter, Source};
    ///
    /// let filter = Filter::builder().trees(["try"]).platforms(["linux64"]).build()?;
    /// assert_eq!(
    ///     Source::Normalized.bindings(&filter),
    ///     [
    ///         ("exchange/build/normalized", "build.try.linux64.#".to_string()),
    ///         ("exchange/build/normalized", "unittest.try.linux64.#".to_string()),
    ///     ]
    /// );
    /// // Raw buildbot keys do not carry the tree where a pattern can see it.
    /// assert_eq!(Source::Buildbot.bindings(&filter), [("exchange/build/", "#".to_string())]);
    /// # Ok::<(), pulse_build_monitor::Error>(())
    /// ```
    pub fn bindings(&self, filter: &Filter) -> Vec<(&'static str, String)> {
        let spec = filter.to_spec();
        // `to_spec` leaves the default tree out: no trees and not any tree
        // means mozilla-central, which the bindings must name too.
        let trees = (!spec.any_tree).then(|| {
            spec.trees
                .unwrap_or_else(|| vec![pulse_filter::DEFAULT_TREE.to_string()])
        });
        match self {
            // Raw buildbot keys (`build.<builder>.<n>.<event>`) name the tree
            // only inside the builder, where topic patterns cannot reach.
            Source::Buildbot => vec![(pulse_wire::EXCHANGE_BUILD, "#".to_string())],
            Source::Normalized => {
                let mut kinds = vec!["build", "unittest"];
                if spec.talos {
                    kinds.push("talos");
                }
                let trees = trees.unwrap_or_else(|| vec!["*".to_string()]);
                let platforms = spec.platforms.unwrap_or_else(|| vec!["*".to_string()]);
                let mut bindings = Vec::new();
                for kind in kinds {
                    for tree in &trees {
                        for platform in &platforms {
                            bindings.push((
                                pulse_wire::EXCHANGE_BUILD_NORMALIZED,
                                format!("{kind}.{tree}.{platform}.#"),
                            ));
                        }
                    }
                }
                bindings
            }
            Source::Taskcluster { progress } => {
                let patterns: Vec<String> = match trees {
                    Some(trees) => trees
                        .iter()
                        .map(|t| format!("route.tc-treeherder.v2.{t}.#"))
                        .collect(),
                    None => vec!["route.tc-treeherder.#".to_string()],
                };
                // TASKCLUSTER_QUEUE_EXCHANGES lists pending and running
                // first: the resolutions are its last three.
                let exchanges = if *progress {
                    &pulse_wire::TASKCLUSTER_QUEUE_EXCHANGES[..]
                } else {
                    &pulse_wire::TASKCLUSTER_QUEUE_EXCHANGES[2..]
                };
                exchanges
                    .iter()
                    .flat_map(|exchange| patterns.iter().map(move |p| (*exchange, p.clone())))
                    .collect()
            }
        }
    }

    /// The kind of a message, from the exchange it came from; messages from
    /// exchanges we do not know are read as `self`.
    fn for_exchange(self, exchange: &str) -> Source {
        match exchange {
            "exchange/build/" | "org.mozilla.exchange.build" => Source::Buildbot,
            "exchange/build/normalized" | "org.mozilla.exchange.build.normalized" => {
                Source::Normalized
            }
            e if e.starts_with("exchange/taskcluster-queue/") => Source::Taskcluster {
                progress: matches!(self, Source::Taskcluster { progress: true }),
            },
            _ => self,
        }
    }
}

/// Translation settings shared by the monitor's pump thread.
#[derive(Clone, Debug, Default)]
pub(crate) struct Translators {
    pub(crate) default_source: Source,
    pub(crate) buildbot: buildbot::Options,
    pub(crate) taskcluster: taskcluster::TaskclusterOptions,
    /// Completes Taskcluster messages that do not say enough on their own.
    #[cfg(feature = "fetch")]
    pub(crate) task_definitions: Option<std::sync::Arc<crate::fetch::TaskDefinitionFetcher>>,
}

impl Translators {
    /// The records in `message`: none for messages the reference ignores,
    /// several for l10n repacks.
    pub(crate) fn translate(
        &self,
        message: &RawMessage,
    ) -> Result<Vec<Record>, pulse_translator::Error> {
        match self.default_source.for_exchange(&message.exchange) {
            Source::Buildbot => {
                let normalized = buildbot::translate_with_key(
                    &message.routing_key,
                    &message.body,
                    &self.buildbot,
                )?;
                Ok(normalized.into_iter().map(|m| m.payload).collect())
            }
            Source::Normalized => Ok(vec![normalized::parse(
                &message.routing_key,
                &message.body,
            )?]),
            Source::Taskcluster { .. } => {
                let task = taskcluster::TaskMessage {
                    exchange: &message.exchange,
                    routing_key: &message.routing_key,
                    cc: &message.cc,
                    body: &message.body,
                };
                let translated = taskcluster::translate(&task, &self.taskcluster);
                #[cfg(feature = "fetch")]
                let translated = match (translated, &self.task_definitions) {
                    (Err(error), Some(fetcher)) if crate::fetch::needs_definition(&error) => {
                        crate::fetch::translate_with_fetched(
                            fetcher,
                            &task,
                            error,
                            &self.taskcluster,
                        )
                    }
                    (translated, _) => translated,
                };
                Ok(vec![translated?])
            }
        }
    }
}
