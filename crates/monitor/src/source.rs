//! Which Pulse messages a monitor reads, and how each kind is translated.

use pulse_filter::Filter;
use pulse_translator::{exchanges, Family, JobResult, Message, Record};

/// Which exchanges a monitor reads on the broker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Raw buildbot messages on `exchange/build/`, translated in-process
    /// (what the reference translator did as a separate service).
    #[default]
    Buildbot,
    /// Messages on `exchange/build/normalized`, already translated.
    Normalized,
    /// Today's Taskcluster queue messages: the finished runs of
    /// `task-completed`, `task-failed` and `task-exception`
    /// ([`exchanges::TASK_FINISHED`]), and with `progress` also
    /// `task-pending` and `task-running`, whose records are
    /// [`TaskRecord`](pulse_translator::TaskRecord)s that say their task
    /// has not finished: never builds or tests.
    Taskcluster {
        /// Also read `task-pending` and `task-running`.
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
            Source::Buildbot => vec![(exchanges::BUILD, "#".to_string())],
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
                                exchanges::BUILD_NORMALIZED,
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
                let progress = if *progress {
                    &exchanges::TASK_PROGRESS[..]
                } else {
                    &[]
                };
                // A results rule leaves out the exchanges that cannot
                // announce any of its results.
                let results = spec.results.as_deref();
                progress
                    .iter()
                    .chain(&exchanges::TASK_FINISHED)
                    .filter(|exchange| {
                        results.is_none_or(|results| {
                            results_announced_on(exchange)
                                .iter()
                                .any(|r| results.iter().any(|wanted| wanted == r.as_str()))
                        })
                    })
                    .flat_map(|exchange| patterns.iter().map(move |p| (*exchange, p.clone())))
                    .collect()
            }
        }
    }
}

impl Source {
    /// The family of the messages this source reads.
    pub(crate) fn family(self) -> Family {
        match self {
            Source::Buildbot => Family::Buildbot,
            Source::Normalized => Family::Normalized,
            Source::Taskcluster { .. } => Family::Taskcluster,
        }
    }

    /// What push tracking needs bound besides [`bindings`](Self::bindings):
    /// every run of every task of the filter's trees whatever the results
    /// rule (a push is counted whole), `task-defined` (the expected set),
    /// and every `task-group-resolved` and hg push (neither routes by
    /// tree; the tracker keeps the trees it follows). Nothing for the
    /// buildbot sources, which have no pushes to track.
    pub fn push_bindings(&self, filter: &Filter) -> Vec<(&'static str, String)> {
        let Source::Taskcluster { .. } = self else {
            return Vec::new();
        };
        let spec = filter.to_spec();
        let patterns: Vec<String> = if spec.any_tree {
            vec!["route.tc-treeherder.#".to_string()]
        } else {
            spec.trees
                .unwrap_or_else(|| vec![pulse_filter::DEFAULT_TREE.to_string()])
                .iter()
                .map(|t| format!("route.tc-treeherder.v2.{t}.#"))
                .collect()
        };
        let mut bindings: Vec<(&'static str, String)> = std::iter::once(exchanges::TASK_DEFINED)
            .chain(exchanges::TASK_ALL)
            .flat_map(|exchange| patterns.iter().map(move |p| (exchange, p.clone())))
            .collect();
        bindings.push((exchanges::TASK_GROUP_RESOLVED, "#".to_string()));
        bindings.push((exchanges::HG_PUSHES, "#".to_string()));
        bindings
    }
}

/// The results a Taskcluster exchange can announce, in Treeherder's words.
fn results_announced_on(exchange: &str) -> &'static [JobResult] {
    match exchange {
        exchanges::TASK_COMPLETED => &[JobResult::Success],
        exchanges::TASK_FAILED => &[JobResult::Testfailed, JobResult::Busted],
        exchanges::TASK_EXCEPTION => &[
            JobResult::Exception,
            JobResult::Retry,
            JobResult::Usercancel,
            JobResult::Superseded,
        ],
        _ => &[JobResult::Unknown],
    }
}

/// Translation settings of the intake.
#[derive(Clone, Debug, Default)]
pub(crate) struct Translators {
    /// Whether unfinished Taskcluster tasks (defined, pending, running)
    /// are read: for progress, or for pushes. A replay reads what `watch`
    /// would have bound, no more.
    pub(crate) unfinished: bool,
    /// Whether what only push tracking reads (hg pushes, resolved groups)
    /// is translated.
    pub(crate) pushes: bool,
    /// How messages of exchanges no translator knows are read: as the
    /// source's (a mirror or private exchange carrying its messages).
    pub(crate) default_family: Option<Family>,
    pub(crate) options: pulse_translator::Options,
    /// Completes Taskcluster messages that do not say enough on their own.
    #[cfg(feature = "fetch")]
    pub(crate) task_definitions: Option<std::sync::Arc<crate::TaskDefinitionFetcher>>,
}

impl Translators {
    /// The records in `message`: none for messages the reference ignores,
    /// several for l10n repacks.
    pub(crate) fn translate(
        &self,
        message: &Message,
    ) -> Result<Vec<Record>, pulse_translator::Error> {
        let exchange = message.exchange.as_str();
        let unfinished =
            exchange == exchanges::TASK_DEFINED || exchanges::TASK_PROGRESS.contains(&exchange);
        let push_only =
            exchange == exchanges::TASK_GROUP_RESOLVED || exchange == exchanges::HG_PUSHES;
        if (unfinished && !self.unfinished) || (push_only && !self.pushes) {
            return Ok(Vec::new());
        }
        let translated = match (exchanges::family(exchange), self.default_family) {
            (None, Some(family)) => pulse_translator::translate_as(family, message, &self.options),
            _ => pulse_translator::translate(message, &self.options),
        };
        #[cfg(feature = "fetch")]
        let translated = match (translated, &self.task_definitions) {
            (Err(error), Some(fetcher)) if crate::fetch::needs_definition(&error) => {
                crate::fetch::translate_with_fetched(fetcher, message, error, &self.options)
                    .map(|record| vec![record])
            }
            (translated, _) => translated,
        };
        translated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private exchange (a mirror, a test's own) carrying the source's
    /// messages is read as the source's; without a source, it is an error.
    #[test]
    fn unknown_exchanges_are_read_as_the_sources() {
        let body = br#"{"buildername": "Linux x86-64 mozilla-central build", "tree": "mozilla-central",
          "platform": "linux64", "buildtype": "opt", "key": "k", "product": "firefox",
          "revision": null, "builddate": null, "buildid": null, "job_number": null, "build_number": null,
          "previous_buildid": null, "status": 0, "locale": "en-US", "buildurl": null, "testsurl": null,
          "test_packages_url": null, "symbols_url": null, "logurl": null, "release": null,
          "slave": null, "repack": null, "version": null, "tags": []}"#;
        let message = Message::new(
            "exchange/my-mirror",
            "build.mozilla-central.linux64.opt.firefox.k",
            body.to_vec(),
        );
        let as_normalized = Translators {
            default_family: Some(Source::Normalized.family()),
            ..Translators::default()
        };
        let records = as_normalized.translate(&message).unwrap();
        assert!(matches!(&records[..], [Record::Build(b)] if b.job.tree == "mozilla-central"));
        let unplaced = Translators::default().translate(&message).unwrap_err();
        assert!(
            unplaced.to_string().contains("exchange/my-mirror"),
            "{unplaced}"
        );
    }
}
